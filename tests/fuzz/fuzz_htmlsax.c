/*
 * Fuzz target: the SAX page reader (scraper/htmlsax.c) against the tree
 * (htmlsax_ref.h) under both parsers' rules; a page on which they disagree
 * aborts with the first difference.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "htmlsax_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[600];

	for (int fv = 0; fv < 2; fv++) {
		if (ref_compare((const char *)data, size, fv, why, sizeof(why)) != NULL) {
			fprintf(stderr, "htmlsax: %s rules: %s\n", fv ? "finviz" : "openinsider",
			        why);
			abort();
		}
	}
	return 0;
}
