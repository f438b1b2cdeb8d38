/*
 * Fuzz target: a filing folder's index.json from SEC -> edgar_index_json_xml().
 * A name it gives is appended to the folder's URL, so it must be a plain
 * file name ending in .xml that fits the buffer: never a path, never empty.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../scraper/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_check(const char *name, size_t cap)
{
	const char *end = memchr(name, '\0', cap);
	size_t n;

	if (end == NULL)
		abort();
	n = (size_t)(end - name);
	if (n < 5 || name[0] == '.' || strcasecmp(name + n - 4, ".xml") != 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '_' &&
		    name[i] != '-')
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[256], small[12], err[256];

	if (edgar_index_json_xml((const char *)data, size, name, sizeof(name), err, sizeof(err)) ==
	    0)
		s_check(name, sizeof(name));
	else if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
		abort();
	/* a buffer too small for most names: those are passed over */
	if (edgar_index_json_xml((const char *)data, size, small, sizeof(small), err,
	                         sizeof(err)) == 0)
		s_check(small, sizeof(small));
	return 0;
}
