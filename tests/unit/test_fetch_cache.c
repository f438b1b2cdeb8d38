/*
 * test_fetch_cache.c - the scraper's state: each EDGAR filing fetched once,
 * validators for conditional requests, the lookback window of trades that
 * every cycle emits again, last runs, pruning, and surviving a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../scraper/fetch_cache.h"
#include "../../scraper/parse.h"
#include "record.h"
#include "support/testutil.h"

#define DAY   86400
#define NOW   ((int64_t)1777000000) /* 2026-04-24 */
#define SINCE (NOW - 3 * DAY)

static char *s_dir;
static fetch_cache_t *s_fc;

static int s_setup(void **state)
{
	char err[256];

	(void)state;
	s_dir = test_tmpdir();
	if (s_dir == NULL)
		return -1;
	s_fc = fetch_cache_open(s_dir, err, sizeof(err));
	if (s_fc == NULL) {
		fprintf(stderr, "fetch_cache_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int s_teardown(void **state)
{
	(void)state;
	fetch_cache_close(&s_fc);
	free(s_dir);
	s_dir = NULL;
	return 0;
}

static void s_reopen(void)
{
	char err[256];

	fetch_cache_close(&s_fc);
	assert_null(s_fc);
	s_fc = fetch_cache_open(s_dir, err, sizeof(err));
	if (s_fc == NULL)
		fail_msg("reopen: %s", err);
}

static struct edgar_filing s_filing(const char *acc, const char *form, int64_t accepted_at)
{
	struct edgar_filing f;

	memset(&f, 0, sizeof(f));
	snprintf(f.accession, sizeof(f.accession), "%s", acc);
	snprintf(f.form, sizeof(f.form), "%s", form);
	snprintf(f.cik, sizeof(f.cik), "0001234567");
	f.index_url = (char *)"https://www.sec.gov/Archives/edgar/data/1234567/x-index.htm";
	f.accepted_at = accepted_at;
	return f;
}

/* A valid trade record. */
static void s_trade(record_t *r, const char *key, int64_t filed_at, double price)
{
	record_init(r, REC_TRADE);
	r->u.trade.key = strdup(key);
	r->u.trade.source = strdup("edgar");
	r->u.trade.accession = strdup("0001234567-26-000001");
	r->u.trade.filed_at = filed_at;
	strcpy(r->u.trade.trade_date, "2026-04-22");
	r->u.trade.ticker = strdup("ABC");
	r->u.trade.issuer = strdup("ABC Corp");
	r->u.trade.owner = strdup("Roe Jane");
	r->u.trade.roles = ROLE_OFFICER;
	strcpy(r->u.trade.code, "P");
	r->u.trade.shares = 100;
	r->u.trade.price = price;
	r->u.trade.value = 100 * price;
}

/* A list of n trades; keys "edgar:k<i>". */
static void s_list(struct trade_list *l, size_t n, const int64_t *filed, const double *price)
{
	trade_list_init(l);
	l->items = calloc(n, sizeof(record_t));
	assert_non_null(l->items);
	l->cap = n;
	for (size_t i = 0; i < n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "edgar:k%zu", i);
		s_trade(&l->items[i], key, filed[i], price != NULL ? price[i] : 10.0);
		l->n++;
	}
}

/* Collects what each_trade passes. */
struct s_seen {
	size_t n;
	char keys[16][32];
	double price[16];
};

static int s_collect(void *arg, record_t *r)
{
	struct s_seen *s = arg;

	if (s->n < 16) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", r->u.trade.key);
		s->price[s->n] = r->u.trade.price;
	}
	s->n++;
	return 0;
}

/* ---- validators ---- */

static void test_validators_round_trip_and_can_be_forgotten(void **state)
{
	struct fc_validators v;
	const char *url = "http://openinsider.test/latest-insider-trading";

	(void)state;
	assert_int_equal(fetch_cache_validators(s_fc, url, &v), 0);
	assert_string_equal(v.etag, "");
	assert_int_equal(
	    fetch_cache_set_validators(s_fc, url, "\"abc\"", "Fri, 24 Apr 2026 21:00:00 GMT", NOW),
	    0);
	assert_int_equal(fetch_cache_validators(s_fc, url, &v), 1);
	assert_string_equal(v.etag, "\"abc\"");
	assert_string_equal(v.last_modified, "Fri, 24 Apr 2026 21:00:00 GMT");
	/* Only an ETag: the date is gone. */
	assert_int_equal(fetch_cache_set_validators(s_fc, url, "W/\"x\"", NULL, NOW), 0);
	assert_int_equal(fetch_cache_validators(s_fc, url, &v), 1);
	assert_string_equal(v.etag, "W/\"x\"");
	assert_string_equal(v.last_modified, "");
	/* A 200 without validators forgets them. */
	assert_int_equal(fetch_cache_set_validators(s_fc, url, NULL, "", NOW), 0);
	assert_int_equal(fetch_cache_validators(s_fc, url, &v), 0);
}

static void test_an_oversized_validator_is_not_kept(void **state)
{
	char big[FC_VALIDATOR_LEN + 10];
	struct fc_validators v;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(fetch_cache_set_validators(s_fc, "http://x/", big, NULL, NOW), 0);
	assert_int_equal(fetch_cache_validators(s_fc, "http://x/", &v), 0);
}

/* ---- filings ---- */

static void test_a_filing_is_new_once(void **state)
{
	struct edgar_filing f = s_filing("0001234567-26-000001", "4", NOW - 60);

	(void)state;
	assert_int_equal(fetch_cache_filing_state(s_fc, f.accession), -1);
	assert_int_equal(fetch_cache_add_filing(s_fc, &f, NOW), 1);
	assert_int_equal(fetch_cache_add_filing(s_fc, &f, NOW), 0);
	assert_int_equal(fetch_cache_filing_state(s_fc, f.accession), FC_PENDING);
	/* Known across a restart. */
	s_reopen();
	assert_int_equal(fetch_cache_add_filing(s_fc, &f, NOW + 60), 0);
}

static void test_pending_filings_come_newest_first_within_the_window(void **state)
{
	struct edgar_filing a = s_filing("0001234567-26-000001", "4", NOW - 3600);
	struct edgar_filing b = s_filing("0001234567-26-000002", "4/A", NOW - 60);
	struct edgar_filing c = s_filing("0001234567-26-000003", "4", NOW - 4 * DAY);
	struct edgar_filing d = s_filing("0001234567-26-000004", "4", NOW - 7200);
	struct fc_filing *fs;
	size_t n;

	(void)state;
	assert_int_equal(fetch_cache_add_filing(s_fc, &a, NOW), 1);
	assert_int_equal(fetch_cache_add_filing(s_fc, &b, NOW), 1);
	assert_int_equal(fetch_cache_add_filing(s_fc, &c, NOW), 1);
	assert_int_equal(fetch_cache_add_filing(s_fc, &d, NOW), 1);
	assert_int_equal(fetch_cache_pending_filings(s_fc, SINCE, 10, &fs, &n), 0);
	assert_int_equal(n, 3); /* c is older than the window */
	assert_string_equal(fs[0].accession, b.accession);
	assert_string_equal(fs[0].form, "4/A");
	assert_string_equal(fs[0].cik, "0001234567");
	assert_string_equal(fs[0].index_url, b.index_url);
	assert_true(fs[0].accepted_at == NOW - 60);
	assert_int_equal(fs[0].attempts, 0);
	assert_string_equal(fs[1].accession, a.accession);
	assert_string_equal(fs[2].accession, d.accession);
	free(fs);
	/* At most max. */
	assert_int_equal(fetch_cache_pending_filings(s_fc, SINCE, 2, &fs, &n), 0);
	assert_int_equal(n, 2);
	free(fs);
}

static void test_a_fetched_filing_is_never_pending_again(void **state)
{
	struct edgar_filing a = s_filing("0001234567-26-000001", "4", NOW - 60);
	struct edgar_filing b = s_filing("0001234567-26-000002", "4", NOW - 60);
	struct fc_filing *fs;
	size_t n;

	(void)state;
	fetch_cache_add_filing(s_fc, &a, NOW);
	fetch_cache_add_filing(s_fc, &b, NOW);
	assert_int_equal(fetch_cache_filing_result(s_fc, a.accession, FC_DONE, NULL, NOW), FC_DONE);
	assert_int_equal(fetch_cache_filing_result(s_fc, b.accession, FC_BAD, "not XML", NOW),
	                 FC_BAD);
	assert_int_equal(fetch_cache_pending_filings(s_fc, SINCE, 10, &fs, &n), 0);
	assert_int_equal(n, 0);
	free(fs);
	/* Seeing it in the feed again does not make it pending. */
	assert_int_equal(fetch_cache_add_filing(s_fc, &a, NOW + 60), 0);
	assert_int_equal(fetch_cache_filing_state(s_fc, a.accession), FC_DONE);
}

static void test_a_failing_filing_is_retried_then_given_up(void **state)
{
	struct edgar_filing a = s_filing("0001234567-26-000001", "4", NOW - 60);
	struct fc_filing *fs;
	size_t n;

	(void)state;
	fetch_cache_add_filing(s_fc, &a, NOW);
	for (int i = 1; i < FC_MAX_ATTEMPTS; i++) {
		assert_int_equal(
		    fetch_cache_filing_result(s_fc, a.accession, FC_PENDING, "HTTP 503", NOW),
		    FC_PENDING);
		assert_int_equal(fetch_cache_pending_filings(s_fc, SINCE, 10, &fs, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(fs[0].attempts, i);
		free(fs);
	}
	assert_int_equal(fetch_cache_filing_result(s_fc, a.accession, FC_PENDING, "HTTP 503", NOW),
	                 FC_GAVE_UP);
	assert_int_equal(fetch_cache_pending_filings(s_fc, SINCE, 10, &fs, &n), 0);
	assert_int_equal(n, 0);
	free(fs);
}

/* ---- trades ---- */

static void test_trades_of_the_window_are_stored_and_read_back(void **state)
{
	int64_t filed[] = { NOW - 60, NOW - 4 * DAY, NOW - DAY, REC_NULL_TIME };
	struct trade_list l;
	struct s_seen seen;
	size_t stored;

	(void)state;
	s_list(&l, 4, filed, NULL);
	assert_int_equal(fetch_cache_put_trades(s_fc, "edgar", &l, SINCE, NOW, &stored), 0);
	assert_int_equal(stored, 3); /* k1 was filed before the window */
	trade_list_free(&l);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(fetch_cache_each_trade(s_fc, "edgar", SINCE, s_collect, &seen), 3);
	assert_int_equal(seen.n, 3);
	/* Oldest first; the trade without a filing time counts from now. */
	assert_string_equal(seen.keys[0], "edgar:k2");
	assert_string_equal(seen.keys[1], "edgar:k0");
	assert_string_equal(seen.keys[2], "edgar:k3");
	/* Other sources' trades are theirs. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(fetch_cache_each_trade(s_fc, "finviz", SINCE, s_collect, &seen), 0);
}

static void test_a_trade_read_again_replaces_the_stored_one(void **state)
{
	int64_t filed[] = { NOW - 60 };
	double p1[] = { 10.0 }, p2[] = { 12.5 };
	struct trade_list l;
	struct s_seen seen;

	(void)state;
	s_list(&l, 1, filed, p1);
	assert_int_equal(fetch_cache_put_trades(s_fc, "edgar", &l, SINCE, NOW, NULL), 0);
	trade_list_free(&l);
	s_list(&l, 1, filed, p2);
	assert_int_equal(fetch_cache_put_trades(s_fc, "edgar", &l, SINCE, NOW + 60, NULL), 0);
	trade_list_free(&l);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(fetch_cache_each_trade(s_fc, "edgar", SINCE, s_collect, &seen), 1);
	assert_true(seen.price[0] == 12.5);
}

static void test_a_trade_without_filing_time_ages_from_when_first_seen(void **state)
{
	int64_t filed[] = { REC_NULL_TIME };
	struct trade_list l;
	struct s_seen seen;

	(void)state;
	s_list(&l, 1, filed, NULL);
	assert_int_equal(fetch_cache_put_trades(s_fc, "edgar", &l, SINCE, NOW, NULL), 0);
	/* Seen again 4 days later: still 4 days old, out of a 3-day window. */
	assert_int_equal(
	    fetch_cache_put_trades(s_fc, "edgar", &l, SINCE + 4 * DAY, NOW + 4 * DAY, NULL), 0);
	trade_list_free(&l);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(fetch_cache_each_trade(s_fc, "edgar", SINCE + 4 * DAY, s_collect, &seen),
	                 0);
	assert_int_equal(fetch_cache_each_trade(s_fc, "edgar", SINCE, s_collect, &seen), 1);
}

static void test_a_stored_trade_that_no_longer_decodes_is_dropped(void **state)
{
	int64_t filed[] = { NOW - 60, NOW - 30 };
	struct trade_list l;
	struct s_seen seen;
	char path[600];

	(void)state;
	s_list(&l, 2, filed, NULL);
	assert_int_equal(fetch_cache_put_trades(s_fc, "edgar", &l, SINCE, NOW, NULL), 0);
	trade_list_free(&l);
	snprintf(path, sizeof(path), "%s/%s", s_dir, FETCH_CACHE_FILE);
	assert_int_equal(
	    test_sql_exec(path, "UPDATE trade SET rec = x'c1ff' WHERE key = 'edgar:k0'"),
	    SQLITE_OK);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(fetch_cache_each_trade(s_fc, "edgar", SINCE, s_collect, &seen), 1);
	assert_string_equal(seen.keys[0], "edgar:k1");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(fetch_cache_each_trade(s_fc, "edgar", SINCE, s_collect, &seen), 1);
}

static int s_stop_after_one(void *arg, record_t *r)
{
	(void)r;
	(*(int *)arg)++;
	return 1;
}

static void test_reading_trades_stops_when_asked(void **state)
{
	int64_t filed[] = { NOW - 60, NOW - 30, NOW - 10 };
	struct trade_list l;
	int calls = 0;

	(void)state;
	s_list(&l, 3, filed, NULL);
	assert_int_equal(fetch_cache_put_trades(s_fc, "edgar", &l, SINCE, NOW, NULL), 0);
	trade_list_free(&l);
	assert_int_equal(fetch_cache_each_trade(s_fc, "edgar", SINCE, s_stop_after_one, &calls), 1);
	assert_int_equal(calls, 1);
}

/* ---- runs and pruning ---- */

static void test_the_last_run_survives_a_restart(void **state)
{
	(void)state;
	assert_true(fetch_cache_last_run(s_fc, "finviz") == FC_NEVER);
	assert_int_equal(fetch_cache_set_last_run(s_fc, "finviz", NOW), 0);
	s_reopen();
	assert_true(fetch_cache_last_run(s_fc, "finviz") == NOW);
	assert_true(fetch_cache_last_run(s_fc, "edgar") == FC_NEVER);
}

static void test_pruning_bounds_every_table(void **state)
{
	int64_t filed[] = { NOW - 4 * DAY, NOW - 60 };
	struct edgar_filing old = s_filing("0001234567-26-000001", "4", NOW - 5 * DAY);
	struct edgar_filing fresh = s_filing("0001234567-26-000002", "4", NOW - 60);
	struct fc_validators v;
	struct trade_list l;
	struct s_seen seen;

	(void)state;
	/* Stored while they were inside an older window. */
	s_list(&l, 2, filed, NULL);
	assert_int_equal(fetch_cache_put_trades(s_fc, "edgar", &l, NOW - 10 * DAY, NOW, NULL), 0);
	trade_list_free(&l);
	fetch_cache_add_filing(s_fc, &old, NOW - 5 * DAY);
	fetch_cache_add_filing(s_fc, &fresh, NOW);
	fetch_cache_set_validators(s_fc, "http://old/", "\"1\"", NULL, NOW - 40 * DAY);
	fetch_cache_set_validators(s_fc, "http://new/", "\"2\"", NULL, NOW);

	assert_int_equal(fetch_cache_prune(s_fc, SINCE, SINCE, NOW - 30 * DAY), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(fetch_cache_each_trade(s_fc, "edgar", 0, s_collect, &seen), 1);
	assert_string_equal(seen.keys[0], "edgar:k1");
	assert_int_equal(fetch_cache_filing_state(s_fc, old.accession), -1);
	assert_int_equal(fetch_cache_filing_state(s_fc, fresh.accession), FC_PENDING);
	assert_int_equal(fetch_cache_validators(s_fc, "http://old/", &v), 0);
	assert_int_equal(fetch_cache_validators(s_fc, "http://new/", &v), 1);
}

static void test_open_fails_clearly_on_an_unusable_directory(void **state)
{
	char err[256] = "";

	(void)state;
	assert_null(fetch_cache_open("/proc/coattail-no-such-dir", err, sizeof(err)));
	assert_true(err[0] != '\0');
}

#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_validators_round_trip_and_can_be_forgotten),
		T(test_an_oversized_validator_is_not_kept),
		T(test_a_filing_is_new_once),
		T(test_pending_filings_come_newest_first_within_the_window),
		T(test_a_fetched_filing_is_never_pending_again),
		T(test_a_failing_filing_is_retried_then_given_up),
		T(test_trades_of_the_window_are_stored_and_read_back),
		T(test_a_trade_read_again_replaces_the_stored_one),
		T(test_a_trade_without_filing_time_ages_from_when_first_seen),
		T(test_a_stored_trade_that_no_longer_decodes_is_dropped),
		T(test_reading_trades_stops_when_asked),
		T(test_the_last_run_survives_a_restart),
		T(test_pruning_bounds_every_table),
		T(test_open_fails_clearly_on_an_unusable_directory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
