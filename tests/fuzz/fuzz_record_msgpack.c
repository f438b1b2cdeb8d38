/* Fuzz target: a msgpack message from another process -> record. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *mp, *js;
	size_t len, jlen;
	record_t r;

	if (record_from_msgpack(data, size, &r, err, sizeof(err)) != 0)
		return 0;
	/* What decodes must encode again, and print as JSON. */
	if (record_to_msgpack(&r, &mp, &len, err, sizeof(err)) != 0)
		abort();
	if (record_msgpack_to_json(mp, len, &js, &jlen, err, sizeof(err)) != 0)
		abort();
	free(js);
	free(mp);
	record_free(&r);
	return 0;
}
