/*
 * Fuzz target: what the mapper reads from the network.  The same bytes go
 * to the OpenFIGI answer parser (for as many jobs as the array holds, and
 * for one job more, which must be refused) and the choice rule, and to the
 * two SEC parsers (company_tickers.json, a company concept).
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../mapper/marketcap.h"
#include "../../mapper/openfigi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	const struct figi_job job = { "TICKER", "IBM", "US", NULL };
	struct marketcap_ticker *items = NULL;
	struct figi_result *res;
	char err[256], as_of[11];
	json_t *root = json_loadb(body, size, 0, NULL);
	size_t n = json_is_array(root) ? json_array_size(root) : 1, count;
	double shares;

	json_decref(root);
	if (n > 1000)
		n = 1000;
	res = calloc(n + 1, sizeof(*res));
	if (res == NULL)
		return 0;
	if (openfigi_parse(body, size, n, res, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (res[i].kind == FIGI_FOUND) {
				long k = openfigi_choose(res[i].rows, res[i].n_rows, &job);

				if (k < 0 || (size_t)k >= res[i].n_rows ||
				    !openfigi_figi_valid(res[i].rows[k].figi))
					abort();
			} else if (res[i].n_rows != 0 || res[i].message == NULL) {
				abort();
			}
		}
		openfigi_results_free(res, n);
		/* The same answer for one job more is misaligned. */
		if (openfigi_parse(body, size, n + 1, res, err, sizeof(err)) == 0)
			abort();
	}
	free(res);

	if (marketcap_parse_tickers(body, size, &items, &count, err, sizeof(err)) == 0)
		free(items);
	if (marketcap_parse_concept(body, size, &shares, as_of, err, sizeof(err)) == 1 &&
	    !(shares > 0 && shares < 1e13))
		abort();
	return 0;
}
