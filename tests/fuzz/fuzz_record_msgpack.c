/* Fuzz target: a msgpack message from another process -> record. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "record_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], err2[256], *mp, *js, *sp;
	size_t len, jlen, splen;
	struct record_mp_info info;
	record_t r, tree;
	int rc = record_from_msgpack_info(data, size, &r, &info, err, sizeof(err));

	/* The one-pass reader and the tree decoder agree: the same verdict
	 * and, on a refusal, the same reason. */
	if (record_mp_decode_tree(data, size, &tree, err2, sizeof(err2)) != rc)
		abort();
	if (rc != 0) {
		if (strcmp(err, err2) != 0 || info.canonical)
			abort();
		return 0;
	}
	/* What decodes must encode again, and print as JSON. */
	if (record_to_msgpack(&r, &mp, &len, err, sizeof(err)) != 0)
		abort();
	if (record_msgpack_to_json(mp, len, &js, &jlen, err, sizeof(err)) != 0)
		abort();
	free(js);
	/* "canonical" exactly when the input is that encoding */
	if (info.canonical != (len == size && memcmp(mp, data, size) == 0))
		abort();
	free(mp);
	/* both decoders built the same record */
	if (record_to_msgpack(&tree, &mp, &len, err, sizeof(err)) != 0)
		abort();
	if (info.canonical && (len != size || memcmp(mp, data, size) != 0))
		abort();
	free(mp);
	/* the mapper's splice gives what encoding the whole trade gives */
	if (info.canonical && r.type == REC_TRADE) {
		instrument_t ins;

		instrument_init(&ins);
		ins.figi = "BBG000BLNNH6";
		ins.name = "A NAME";
		ins.shares_outstanding = 1000;
		size_t spcap = 0;

		sp = NULL;
		if (record_trade_msgpack_with_instrument(data, size, &info, &ins, &sp, &spcap,
		                                         &splen, err, sizeof(err)) == 0) {
			record_clear_instrument(&r);
			r.u.trade.instrument = &ins;
			if (record_to_msgpack(&r, &mp, &len, err, sizeof(err)) != 0 ||
			    len != splen || memcmp(mp, sp, len) != 0)
				abort();
			r.u.trade.instrument = NULL;
			free(mp);
		}
		free(sp);
	}
	record_free(&tree);
	record_free(&r);
	return 0;
}
