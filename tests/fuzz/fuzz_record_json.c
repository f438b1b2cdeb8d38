/* Fuzz target: a JSON line (--in -, coattail-inject) -> record. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *js, *js2, *mp2;
	size_t len, len2, mplen, mplen2;
	struct record_mp_info info;
	const void *mp;
	record_t r, back;

	if (record_from_json_info((const char *)data, size, &r, &info, &mp, &mplen, err,
	                          sizeof(err)) != 0)
		return 0;
	/* The line's msgpack is called canonical exactly when it is the
	 * record's encoding. */
	if (record_to_msgpack(&r, &mp2, &mplen2, err, sizeof(err)) != 0)
		abort();
	if (mp != NULL && info.canonical != (mplen == mplen2 && memcmp(mp, mp2, mplen) == 0))
		abort();
	free(mp2);
	/* Round trip: decode(encode(r)) must succeed and encode identically. */
	if (record_to_json(&r, &js, &len, err, sizeof(err)) != 0)
		abort();
	if (record_from_json(js, len, &back, err, sizeof(err)) != 0)
		abort();
	if (record_to_json(&back, &js2, &len2, err, sizeof(err)) != 0)
		abort();
	if (len != len2 || memcmp(js, js2, len) != 0)
		abort();
	free(js);
	free(js2);
	record_free(&back);
	record_free(&r);
	return 0;
}
