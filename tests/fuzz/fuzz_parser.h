/*
 * fuzz_parser.h - the body of every scraper-parser fuzz target: one
 * downloaded document, a fixed capture time, everything freed.
 */
#ifndef COATTAIL_FUZZ_PARSER_H
#define COATTAIL_FUZZ_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "../../scraper/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TRADE_PARSER(fn)                                                                      \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                               \
	{                                                                                          \
		struct parse_result res;                                                           \
		struct trade_list out;                                                             \
		struct parse_ctx ctx;                                                              \
		char err[512];                                                                     \
                                                                                                   \
		parse_ctx_init(&ctx);                                                              \
		ctx.now = 1782864000; /* 2026-07-01: resolves year-less dates */                   \
		trade_list_init(&out);                                                             \
		parse_result_init(&res);                                                           \
		(void)fn((const char *)data, size, &ctx, &out, &res, err, sizeof(err));            \
		trade_list_free(&out);                                                             \
		return 0;                                                                          \
	}

#endif
