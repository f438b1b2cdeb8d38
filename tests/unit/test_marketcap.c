/*
 * test_marketcap.c - shares outstanding from SEC data: the ticker map and
 * the XBRL company concept, parsed from the project's fixtures and fetched
 * from the scripted test server; unknown figures are NAN, never errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../mapper/marketcap.h"
#include "support/httpd.h"
#include "support/testutil.h"

#define T0 1777000000LL
#define UA "coattail-test test@example.com"

struct fx {
	char *dir;
	struct httpd *h;
	figi_cache_t *cache;
	marketcap_t *mc;
};

static char *s_fixture(const char *name, size_t *len)
{
	char path[1024];
	char *body;

	snprintf(path, sizeof(path), "%s/sec/%s", test_fixtures(), name);
	body = test_read_file(path, len);
	if (body == NULL)
		fail_msg("cannot read %s", path);
	return body;
}

static int s_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	struct marketcap_opts o = {
		.user_agent = UA,
		.timeout_ms = 3000,
		.rate_per_s = 1000,
		.shares_ttl_s = 7 * 86400,
		.none_ttl_s = 86400,
		.tickers_ttl_s = 86400,
		.retry_ms = 60000,
	};

	f->dir = test_tmpdir();
	f->h = httpd_start();
	if (f->dir == NULL || f->h == NULL)
		return -1;
	f->cache = figi_cache_open(f->dir, T0, err, sizeof(err));
	if (f->cache == NULL)
		return -1;
	o.www_url = httpd_url(f->h, "/www/");
	o.data_url = httpd_url(f->h, "/data");
	f->mc = marketcap_new(&o, f->cache);
	if (f->mc == NULL)
		return -1;
	*state = f;
	return 0;
}

static int s_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[4200];

	marketcap_free(&f->mc);
	figi_cache_close(&f->cache);
	httpd_stop(&f->h);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	(void)!system(cmd);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- parsers ---- */

static void test_sec_writes_class_shares_with_a_dash(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(marketcap_sec_ticker("BRK.B", out, sizeof(out)), 0);
	assert_string_equal(out, "BRK-B");
	assert_int_equal(marketcap_sec_ticker("brk/b", out, sizeof(out)), 0);
	assert_string_equal(out, "BRK-B");
	assert_int_equal(marketcap_sec_ticker("AAPL", out, sizeof(out)), 0);
	assert_string_equal(out, "AAPL");
	assert_int_equal(marketcap_sec_ticker("", out, sizeof(out)), -1);
	assert_int_equal(marketcap_sec_ticker("HAS SPACE", out, sizeof(out)), -1);
	assert_int_equal(marketcap_sec_ticker("ABCDEFGHIJKLMNOPQRSTUVWXYZ", out, sizeof(out)), -1);
}

static void test_the_ticker_map_skips_bad_entries(void **state)
{
	struct marketcap_ticker *items;
	size_t len, n;
	char err[256];
	char *body = s_fixture("company_tickers.json", &len);
	int found = 0;

	(void)state;
	assert_int_equal(marketcap_parse_tickers(body, len, &items, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4); /* of 7 */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(items[i].ticker, "AAPL") == 0) {
			assert_string_equal(items[i].cik, "0000320193");
			found++;
		}
		if (strcmp(items[i].ticker, "BRK-B") == 0) {
			assert_string_equal(items[i].cik, "0001067983");
			found++;
		}
	}
	assert_int_equal(found, 2);
	free(items);
	free(body);
	assert_int_equal(marketcap_parse_tickers("[1,2]", 5, &items, &n, err, sizeof(err)), -1);
	assert_int_equal(marketcap_parse_tickers("{\"0\":1}", 7, &items, &n, err, sizeof(err)), -1);
	assert_int_equal(marketcap_parse_tickers("<html>", 6, &items, &n, err, sizeof(err)), -1);
}

static void test_the_latest_figure_wins_then_the_latest_filing(void **state)
{
	size_t len;
	char err[256], as_of[11];
	double v;
	char *body = s_fixture("companyconcept_CIK0000320193_shares.json", &len);

	(void)state;
	/* Newer entries with a string value or an impossible date are
	 * skipped; of two figures for 2024-10-18, the later filing. */
	assert_int_equal(marketcap_parse_concept(body, len, &v, as_of, err, sizeof(err)), 1);
	assert_true(v == 15115823000.0);
	assert_string_equal(as_of, "2024-10-18");
	free(body);
}

static void test_a_concept_without_share_figures_has_none(void **state)
{
	size_t len;
	char err[256], as_of[11];
	double v;
	char *fx = s_fixture("companyconcept_no_shares_unit.json", &len);
	const char *body;

	(void)state;
	assert_int_equal(marketcap_parse_concept(fx, len, &v, as_of, err, sizeof(err)), 0);
	assert_true(isnan(v));
	free(fx);
	body = "{\"units\":{\"shares\":[{\"end\":\"2024-01-01\",\"val\":0}]}}";
	assert_int_equal(marketcap_parse_concept(body, strlen(body), &v, as_of, err, sizeof(err)),
	                 0);
	assert_int_equal(marketcap_parse_concept("nope", 4, &v, as_of, err, sizeof(err)), -1);
	assert_int_equal(marketcap_parse_concept("{\"cik\":1}", 9, &v, as_of, err, sizeof(err)),
	                 -1);
}

/* ---- fetching ---- */

#define CONCEPT_PATH                                                                               \
	"/data/api/xbrl/companyconcept/CIK0000320193/dei/EntityCommonStockSharesOutstanding.json"

static void test_a_figure_is_fetched_once_then_cached(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *body = s_fixture("companyconcept_CIK0000320193_shares.json", &len);
	double v;

	httpd_push(f->h, &(struct httpd_response){ .body = body, .body_len = len });
	free(body);
	/* Not allowed to fetch: "ask again later". */
	assert_int_equal(marketcap_shares(f->mc, "AAPL", "0000320193", false, T0, 0, &v), 0);
	assert_int_equal(httpd_request_count(f->h), 0);
	assert_int_equal(marketcap_shares(f->mc, "AAPL", "0000320193", true, T0, 0, &v), 1);
	assert_true(v == 15115823000.0);
	assert_int_equal(httpd_request_count(f->h), 1);
	assert_string_equal(httpd_request(f->h, 0)->path, CONCEPT_PATH);
	assert_string_equal(httpd_req_header(httpd_request(f->h, 0), "User-Agent"), UA);
	/* Cached: no request, even when fetching is not allowed. */
	assert_int_equal(marketcap_shares(f->mc, "AAPL", "0000320193", false, T0 + 60, 1, &v), 1);
	assert_true(v == 15115823000.0);
	assert_int_equal(httpd_request_count(f->h), 1);
	assert_int_equal(marketcap_requests(f->mc), 1);
}

static void test_no_concept_at_sec_is_remembered_as_no_figure(void **state)
{
	struct fx *f = *state;
	double v = 0;

	httpd_push(f->h, &(struct httpd_response){ .status = 404, .body = "NoSuchKey" });
	assert_int_equal(marketcap_shares(f->mc, "FUND", "0000000007", true, T0, 0, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(marketcap_shares(f->mc, "FUND", "0000000007", false, T0 + 10, 10, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(httpd_request_count(f->h), 1);
}

static void test_sec_failing_pauses_requests_and_caches_nothing(void **state)
{
	struct fx *f = *state;
	size_t len;
	char *body = s_fixture("companyconcept_CIK0000320193_shares.json", &len);
	double v = 0;

	httpd_push(f->h, &(struct httpd_response){ .status = 503, .body = "busy" });
	assert_int_equal(marketcap_shares(f->mc, "AAPL", "0000320193", true, T0, 1000, &v), 1);
	assert_true(isnan(v));
	/* Paused for retry_ms: an answer at once, without a request. */
	assert_int_equal(marketcap_shares(f->mc, "AAPL", "0000320193", false, T0, 2000, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(httpd_request_count(f->h), 1);
	/* After the pause it asks again. */
	httpd_push(f->h, &(struct httpd_response){ .body = body, .body_len = len });
	free(body);
	assert_int_equal(marketcap_shares(f->mc, "AAPL", "0000320193", false, T0, 61000, &v), 0);
	assert_int_equal(marketcap_shares(f->mc, "AAPL", "0000320193", true, T0, 61000, &v), 1);
	assert_true(v == 15115823000.0);
	assert_int_equal(httpd_request_count(f->h), 2);
}

static void test_without_a_cik_the_ticker_map_is_fetched_once(void **state)
{
	struct fx *f = *state;
	size_t len, clen;
	char *map = s_fixture("company_tickers.json", &len);
	char *concept = s_fixture("companyconcept_CIK0000320193_shares.json", &clen);
	double v;

	httpd_push(f->h, &(struct httpd_response){ .body = map, .body_len = len });
	httpd_push(f->h, &(struct httpd_response){ .body = concept, .body_len = clen });
	httpd_push(f->h, &(struct httpd_response){ .status = 404 });
	free(map);
	free(concept);
	assert_int_equal(marketcap_shares(f->mc, "AAPL", NULL, false, T0, 0, &v), 0);
	assert_int_equal(marketcap_shares(f->mc, "AAPL", NULL, true, T0, 0, &v), 1);
	assert_true(v == 15115823000.0);
	assert_string_equal(httpd_request(f->h, 0)->path, "/www/files/company_tickers.json");
	/* BRK.B is BRK-B in SEC's map: its CIK is known without a request. */
	assert_int_equal(marketcap_shares(f->mc, "BRK.B", NULL, true, T0 + 1, 0, &v), 1);
	assert_true(isnan(v)); /* the 404 */
	assert_string_equal(httpd_request(f->h, 2)->path,
	                    "/data/api/xbrl/companyconcept/CIK0001067983/dei/"
	                    "EntityCommonStockSharesOutstanding.json");
	/* A ticker SEC does not list: unknown, no request. */
	assert_int_equal(marketcap_shares(f->mc, "ZZZZ", NULL, true, T0 + 2, 0, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(httpd_request_count(f->h), 3);
}

/* Repeated trades of tickers the caches answer (a figure, "SEC has none",
 * a ticker SEC does not list, with or without the trade's CIK) cost no
 * SQLite read and no request until their rows expire.  Before, each of
 * them read SQLite every time: the share count when SEC had none, and the
 * map's fetch time and the ticker's CIK for every trade without a CIK. */
static void test_repeated_lookups_cost_no_sqlite_read_or_request(void **state)
{
	struct fx *f = *state;
	size_t len, clen;
	char *map = s_fixture("company_tickers.json", &len);
	char *concept = s_fixture("companyconcept_CIK0000320193_shares.json", &clen);
	long reads;
	int requests;
	double v;

	httpd_push(f->h, &(struct httpd_response){ .body = map, .body_len = len });
	httpd_push(f->h, &(struct httpd_response){ .body = concept, .body_len = clen });
	httpd_push(f->h, &(struct httpd_response){ .status = 404 });
	httpd_push(f->h, &(struct httpd_response){ .status = 404 });
	free(map);
	free(concept);
	assert_int_equal(marketcap_shares(f->mc, "AAPL", NULL, true, T0, 0, &v), 1);
	assert_int_equal(marketcap_shares(f->mc, "BRK.B", NULL, true, T0, 0, &v), 1);
	assert_int_equal(marketcap_shares(f->mc, "FUND", "0000000007", true, T0, 0, &v), 1);
	assert_int_equal(marketcap_shares(f->mc, "ZZZZ", NULL, true, T0, 0, &v), 1);
	assert_int_equal(httpd_request_count(f->h), 4);
	reads = figi_cache_reads(f->cache);
	requests = httpd_request_count(f->h);
	for (int i = 0; i < 100; i++) {
		int64_t now = T0 + 60 + i;

		/* The first round reads each share-count row once (a write
		 * does not fill the memo); the map's answers are in memory. */
		if (i == 1) {
			assert_int_equal(figi_cache_reads(f->cache), reads + 3);
			reads += 3;
		}

		assert_int_equal(marketcap_shares(f->mc, "AAPL", NULL, false, now, 1, &v), 1);
		assert_true(v == 15115823000.0);
		assert_int_equal(marketcap_shares(f->mc, "AAPL", "0000320193", false, now, 1, &v),
		                 1);
		assert_true(v == 15115823000.0);
		assert_int_equal(marketcap_shares(f->mc, "BRK.B", NULL, false, now, 1, &v), 1);
		assert_true(isnan(v));
		assert_int_equal(marketcap_shares(f->mc, "FUND", "0000000007", false, now, 1, &v),
		                 1);
		assert_true(isnan(v));
		assert_int_equal(marketcap_shares(f->mc, "ZZZZ", NULL, false, now, 1, &v), 1);
		assert_true(isnan(v));
	}
	assert_int_equal(figi_cache_reads(f->cache), reads);
	assert_int_equal(httpd_request_count(f->h), requests);
	/* The map lives a day: then a trade without a CIK needs it again. */
	assert_int_equal(marketcap_shares(f->mc, "ZZZZ", NULL, false, T0 + 86400, 1, &v), 0);
	/* "SEC has none" lives none_ttl_s (a day): then it is asked again. */
	assert_int_equal(marketcap_shares(f->mc, "FUND", "0000000007", false, T0 + 86400, 1, &v),
	                 0);
	assert_int_equal(marketcap_shares(f->mc, "AAPL", "0000320193", false, T0 + 86400, 1, &v),
	                 1);
	assert_true(v == 15115823000.0);
	assert_int_equal(httpd_request_count(f->h), requests);
}

/* A company concept whose figures are all negative, zero or absurd has no
 * figure: "SEC has none" is cached, never the value. */
static void test_negative_or_absurd_figures_are_not_stored(void **state)
{
	struct fx *f = *state;
	const char *body = "{\"cik\":1,\"units\":{\"shares\":["
	                   "{\"end\":\"2024-06-30\",\"val\":-5000000,\"filed\":\"2024-07-01\"},"
	                   "{\"end\":\"2024-03-31\",\"val\":0,\"filed\":\"2024-04-01\"},"
	                   "{\"end\":\"2024-01-31\",\"val\":1e15,\"filed\":\"2024-02-01\"}]}}";
	double v = 0;

	httpd_push(f->h, &(struct httpd_response){ .body = body });
	assert_int_equal(marketcap_shares(f->mc, "NEG", "0000000042", true, T0, 0, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(figi_cache_shares_get(f->cache, "0000000042", T0 + 1, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(marketcap_shares(f->mc, "NEG", "0000000042", false, T0 + 2, 0, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(httpd_request_count(f->h), 1);
}

static void test_an_unreachable_sec_is_not_an_error(void **state)
{
	struct fx *f = *state;
	figi_cache_t *cache = f->cache;
	marketcap_t *mc;
	char url[64];
	double v = 0;
	struct marketcap_opts o = {
		.user_agent = UA,
		.timeout_ms = 2000,
		.shares_ttl_s = 100,
		.none_ttl_s = 100,
		.tickers_ttl_s = 100,
		.retry_ms = 1000,
	};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", httpd_unused_port());
	o.www_url = url;
	o.data_url = url;
	mc = marketcap_new(&o, cache);
	assert_non_null(mc);
	assert_int_equal(marketcap_shares(mc, "AAPL", NULL, true, T0, 0, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(marketcap_shares(mc, "AAPL", "0000320193", true, T0, 10, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(marketcap_requests(mc), 1); /* paused after the first failure */
	marketcap_free(&mc);
	/* No user agent: no client at all. */
	o.user_agent = NULL;
	assert_null(marketcap_new(&o, cache));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sec_writes_class_shares_with_a_dash),
		cmocka_unit_test(test_the_ticker_map_skips_bad_entries),
		cmocka_unit_test(test_the_latest_figure_wins_then_the_latest_filing),
		cmocka_unit_test(test_a_concept_without_share_figures_has_none),
		cmocka_unit_test_setup_teardown(test_a_figure_is_fetched_once_then_cached, s_setup,
		                                s_teardown),
		cmocka_unit_test_setup_teardown(test_no_concept_at_sec_is_remembered_as_no_figure,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_sec_failing_pauses_requests_and_caches_nothing,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_without_a_cik_the_ticker_map_is_fetched_once,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(
		    test_repeated_lookups_cost_no_sqlite_read_or_request, s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_negative_or_absurd_figures_are_not_stored,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_an_unreachable_sec_is_not_an_error, s_setup,
		                                s_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
