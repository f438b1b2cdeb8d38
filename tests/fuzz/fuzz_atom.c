/* Fuzz target: an EDGAR getcurrent page -> atom_parse(). */
#include <stddef.h>
#include <stdint.h>

#include "../../scraper/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_result res;
	struct filing_list out;
	char err[512];

	filing_list_init(&out);
	parse_result_init(&res);
	(void)atom_parse((const char *)data, size, &out, &res, err, sizeof(err));
	filing_list_free(&out);
	return 0;
}
