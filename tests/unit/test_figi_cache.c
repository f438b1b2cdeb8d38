/*
 * test_figi_cache.c - the mapper's SQLite cache: answers live exactly as
 * long as their TTL, survive a restart, and are shared between handles (two
 * mappers on one file); SEC's ticker map and share counts likewise.
 * Answers, found or negative, are served from memory until their row's
 * expiry, never longer (SQLite's own count of reads shows none is made);
 * misses always come from the file.
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

#include "../../mapper/figi_cache.h"
#include "log.h"
#include "support/testutil.h"

#define T0   1777000000LL /* an arbitrary "now" */
#define WEEK (7 * 86400)
#define DAY  86400
#define JOB  "TICKER|IBM|exch=US"

static struct figi_row s_ibm(void)
{
	struct figi_row r = { 0 };

	r.figi = "BBG000BLNNH6";
	r.name = "INTL BUSINESS MACHINES CORP";
	r.ticker = "IBM";
	r.exch_code = "US";
	r.composite_figi = "BBG000BLNNH6";
	r.security_type = "Common Stock";
	r.market_sector = "Equity";
	r.share_class_figi = "BBG001S5S399";
	r.security_type2 = "Common Stock";
	r.security_description = "IBM";
	return r;
}

static int s_setup(void **state)
{
	*state = test_tmpdir();
	return *state == NULL ? -1 : 0;
}

static int s_teardown(void **state)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
	(void)!system(cmd);
	free(*state);
	return 0;
}

static figi_cache_t *s_open(void **state, int64_t now)
{
	char err[512];
	figi_cache_t *c = figi_cache_open(*state, now, err, sizeof(err));

	if (c == NULL)
		fail_msg("open: %s", err);
	return c;
}

static void test_a_found_answer_lives_exactly_its_ttl(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	struct figi_row ibm = s_ibm(), got;
	char msg[64];

	assert_int_equal(figi_cache_get(c, JOB, T0, &got, msg, sizeof(msg)), 0);
	assert_int_equal(figi_cache_put(c, JOB, FIGI_FOUND, &ibm, NULL, T0, WEEK), 0);
	assert_int_equal(figi_cache_get(c, JOB, T0, &got, msg, sizeof(msg)), FIGI_FOUND);
	assert_string_equal(got.figi, "BBG000BLNNH6");
	assert_string_equal(got.share_class_figi, "BBG001S5S399");
	assert_string_equal(got.name, "INTL BUSINESS MACHINES CORP");
	assert_string_equal(got.security_description, "IBM");
	figi_row_free(&got);
	assert_int_equal(figi_cache_get(c, JOB, T0 + WEEK - 1, &got, msg, sizeof(msg)), FIGI_FOUND);
	figi_row_free(&got);
	assert_int_equal(figi_cache_get(c, JOB, T0 + WEEK, &got, msg, sizeof(msg)), 0);
	assert_null(got.figi);
	figi_cache_close(&c);
	assert_null(c);
}

static void test_not_found_and_error_answers_keep_their_text_for_a_day(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	struct figi_row got;
	char msg[64];

	assert_int_equal(figi_cache_put(c, "TICKER|NXYZ|exch=US", FIGI_NOT_FOUND, NULL,
	                                "No identifier found.", T0, DAY),
	                 0);
	assert_int_equal(figi_cache_put(c, "TICKER|ERR|exch=US", FIGI_ERROR, NULL,
	                                "Invalid idValue format.", T0, DAY),
	                 0);
	assert_int_equal(
	    figi_cache_get(c, "TICKER|NXYZ|exch=US", T0 + DAY - 1, &got, msg, sizeof(msg)),
	    FIGI_NOT_FOUND);
	assert_string_equal(msg, "No identifier found.");
	assert_null(got.figi);
	assert_int_equal(figi_cache_get(c, "TICKER|ERR|exch=US", T0 + 10, &got, msg, sizeof(msg)),
	                 FIGI_ERROR);
	assert_string_equal(msg, "Invalid idValue format.");
	assert_int_equal(figi_cache_get(c, "TICKER|NXYZ|exch=US", T0 + DAY, &got, msg, sizeof(msg)),
	                 0);
	figi_cache_close(&c);
}

static void test_answers_survive_a_restart_and_expired_ones_are_purged(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	struct figi_row ibm = s_ibm(), got;
	char msg[64];

	assert_int_equal(figi_cache_begin(c), 0);
	assert_int_equal(figi_cache_put(c, JOB, FIGI_FOUND, &ibm, NULL, T0, WEEK), 0);
	assert_int_equal(figi_cache_put(c, "TICKER|NXYZ|exch=US", FIGI_NOT_FOUND, NULL,
	                                "No identifier found.", T0, DAY),
	                 0);
	assert_int_equal(figi_cache_commit(c), 0);
	assert_int_equal(figi_cache_count(c), 2);
	figi_cache_close(&c);

	/* Two days later: the negative answer expired and is gone. */
	c = s_open(state, T0 + 2 * DAY);
	assert_int_equal(figi_cache_count(c), 1);
	assert_int_equal(figi_cache_get(c, JOB, T0 + 2 * DAY, &got, msg, sizeof(msg)), FIGI_FOUND);
	assert_string_equal(got.ticker, "IBM");
	figi_row_free(&got);
	figi_cache_close(&c);
}

static void test_a_new_answer_replaces_the_old(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	struct figi_row ibm = s_ibm(), got;
	char msg[64];

	assert_int_equal(
	    figi_cache_put(c, JOB, FIGI_NOT_FOUND, NULL, "No identifier found.", T0, DAY), 0);
	assert_int_equal(figi_cache_put(c, JOB, FIGI_FOUND, &ibm, NULL, T0 + 5, WEEK), 0);
	assert_int_equal(figi_cache_get(c, JOB, T0 + 6, &got, msg, sizeof(msg)), FIGI_FOUND);
	assert_string_equal(msg, "");
	figi_row_free(&got);
	assert_int_equal(figi_cache_count(c), 1);
	/* A found answer needs its row. */
	assert_int_equal(figi_cache_put(c, JOB, FIGI_FOUND, NULL, NULL, T0, WEEK), -1);
	figi_cache_close(&c);
}

static void test_two_mappers_share_one_file(void **state)
{
	figi_cache_t *a = s_open(state, T0), *b = s_open(state, T0);
	struct figi_row ibm = s_ibm(), got;
	char msg[64];

	assert_int_equal(figi_cache_get(b, JOB, T0, &got, msg, sizeof(msg)), 0);
	assert_int_equal(figi_cache_begin(a), 0);
	assert_int_equal(figi_cache_put(a, JOB, FIGI_FOUND, &ibm, NULL, T0, WEEK), 0);
	assert_int_equal(figi_cache_commit(a), 0);
	assert_int_equal(figi_cache_get(b, JOB, T0 + 1, &got, msg, sizeof(msg)), FIGI_FOUND);
	figi_row_free(&got);
	figi_cache_close(&a);
	figi_cache_close(&b);
}

static void test_the_ticker_map_is_replaced_whole(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	const struct sec_ticker first[] = { { "AAPL", "0000320193" }, { "OLD", "0000000001" } };
	const struct sec_ticker second[] = { { "AAPL", "0000320193" }, { "BRK-B", "0001067983" } };
	char cik[11];
	int64_t at;

	assert_int_equal(figi_cache_tickers_fetched_at(c, &at), 0);
	assert_int_equal(figi_cache_tickers_replace(c, first, 2, T0), 0);
	assert_int_equal(figi_cache_tickers_fetched_at(c, &at), 1);
	assert_int_equal(at, T0);
	assert_int_equal(figi_cache_cik_of(c, "OLD", T0, T0 + DAY, cik), 1);
	assert_string_equal(cik, "0000000001");
	assert_int_equal(figi_cache_tickers_replace(c, second, 2, T0 + DAY), 0);
	assert_int_equal(figi_cache_cik_of(c, "OLD", T0 + DAY, T0 + 2 * DAY, cik), 0);
	assert_int_equal(figi_cache_cik_of(c, "BRK-B", T0 + DAY, T0 + 2 * DAY, cik), 1);
	assert_string_equal(cik, "0001067983");
	assert_int_equal(figi_cache_tickers_fetched_at(c, &at), 1);
	assert_int_equal(at, T0 + DAY);
	figi_cache_close(&c);
}

static void test_share_counts_and_no_figure_live_their_ttl(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	double v = 0;

	assert_int_equal(figi_cache_shares_get(c, "0000320193", T0, &v), 0);
	assert_int_equal(
	    figi_cache_shares_put(c, "0000320193", 15115823000.0, "2024-10-18", T0, WEEK), 0);
	assert_int_equal(figi_cache_shares_put(c, "0000000007", NAN, NULL, T0, DAY), 0);
	assert_int_equal(figi_cache_shares_get(c, "0000320193", T0 + WEEK - 1, &v), 1);
	assert_true(v == 15115823000.0);
	assert_int_equal(figi_cache_shares_get(c, "0000000007", T0 + 1, &v), 1);
	assert_true(isnan(v));
	assert_int_equal(figi_cache_shares_get(c, "0000000007", T0 + DAY, &v), 0);
	assert_int_equal(figi_cache_shares_get(c, "0000320193", T0 + WEEK, &v), 0);
	figi_cache_close(&c);
}

/* Run sql on the cache file behind the handles' backs (another process). */
static void s_behind(void **state, const char *sql)
{
	char path[4200];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/%s", (char *)*state, FIGI_CACHE_FILE);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_a_found_answer_is_served_from_memory_until_its_row_expires(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	struct figi_row ibm = s_ibm(), got;
	char msg[64];

	assert_int_equal(figi_cache_put(c, JOB, FIGI_FOUND, &ibm, NULL, T0, WEEK), 0);
	assert_int_equal(figi_cache_get(c, JOB, T0, &got, msg, sizeof(msg)), FIGI_FOUND);
	figi_row_free(&got);
	assert_int_equal(figi_cache_memo_count(c), 1);
	/* The row is gone from the file: the memo still answers, whole... */
	s_behind(state, "DELETE FROM figi");
	assert_int_equal(figi_cache_get(c, JOB, T0 + WEEK - 1, &got, msg, sizeof(msg)), FIGI_FOUND);
	assert_string_equal(got.figi, "BBG000BLNNH6");
	assert_string_equal(got.name, "INTL BUSINESS MACHINES CORP");
	assert_string_equal(got.share_class_figi, "BBG001S5S399");
	assert_string_equal(got.security_description, "IBM");
	figi_row_free(&got);
	/* ...but never past the row's own expiry. */
	assert_int_equal(figi_cache_get(c, JOB, T0 + WEEK, &got, msg, sizeof(msg)), 0);
	assert_null(got.figi);
	/* With the memo off, every answer comes from the file. */
	assert_int_equal(figi_cache_put(c, JOB, FIGI_FOUND, &ibm, NULL, T0, WEEK), 0);
	assert_int_equal(figi_cache_set_memo(c, 0), 0);
	assert_int_equal(figi_cache_get(c, JOB, T0, &got, msg, sizeof(msg)), FIGI_FOUND);
	figi_row_free(&got);
	assert_int_equal(figi_cache_memo_count(c), 0);
	s_behind(state, "DELETE FROM figi");
	assert_int_equal(figi_cache_get(c, JOB, T0, &got, msg, sizeof(msg)), 0);
	figi_cache_close(&c);
}

static void test_a_null_field_stays_null_through_the_memo(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	struct figi_row ibm = s_ibm(), got;
	char msg[64];

	ibm.share_class_figi = NULL;
	ibm.security_description = NULL;
	assert_int_equal(figi_cache_put(c, JOB, FIGI_FOUND, &ibm, NULL, T0, WEEK), 0);
	assert_int_equal(figi_cache_get(c, JOB, T0, &got, msg, sizeof(msg)), FIGI_FOUND);
	figi_row_free(&got);
	assert_int_equal(figi_cache_get(c, JOB, T0 + 1, &got, msg, sizeof(msg)), FIGI_FOUND);
	assert_int_equal(figi_cache_memo_count(c), 1);
	assert_null(got.share_class_figi);
	assert_null(got.security_description);
	assert_string_equal(got.security_type2, "Common Stock");
	figi_row_free(&got);
	figi_cache_close(&c);
}

/* "Negative SEC share counts in the mapper's memo": a negative answer was
 * a SQLite read on every trade of its ticker, for as long as it lived (a
 * day by default).  Now it is memoised like a found one, until its row's
 * expiry. */
static void test_negative_answers_are_memoised_until_their_row_expires(void **state)
{
	figi_cache_t *a = s_open(state, T0), *b = s_open(state, T0);
	struct figi_row ibm = s_ibm(), got;
	char msg[64];
	long reads;

	assert_int_equal(
	    figi_cache_put(a, JOB, FIGI_NOT_FOUND, NULL, "No identifier found.", T0, DAY), 0);
	assert_int_equal(figi_cache_put(a, "TICKER|ERR|exch=US", FIGI_ERROR, NULL,
	                                "Invalid idValue format.", T0, DAY),
	                 0);
	reads = figi_cache_reads(b);
	assert_int_equal(figi_cache_get(b, JOB, T0, &got, msg, sizeof(msg)), FIGI_NOT_FOUND);
	assert_int_equal(figi_cache_get(b, "TICKER|ERR|exch=US", T0, &got, msg, sizeof(msg)),
	                 FIGI_ERROR);
	assert_int_equal(figi_cache_reads(b), reads + 2);
	assert_int_equal(figi_cache_memo_count(b), 2);
	/* Repeats: the same answers and texts, no read, even with the rows
	 * gone from the file, until the rows' own expiry. */
	s_behind(state, "DELETE FROM figi");
	for (int i = 0; i < 100; i++) {
		assert_int_equal(figi_cache_get(b, JOB, T0 + DAY - 1, &got, msg, sizeof(msg)),
		                 FIGI_NOT_FOUND);
		assert_string_equal(msg, "No identifier found.");
		assert_null(got.figi);
		assert_int_equal(
		    figi_cache_get(b, "TICKER|ERR|exch=US", T0 + 1, &got, msg, sizeof(msg)),
		    FIGI_ERROR);
		assert_string_equal(msg, "Invalid idValue format.");
	}
	assert_int_equal(figi_cache_reads(b), reads + 2);
	/* A text longer than the caller's buffer is cut, as from the file. */
	assert_int_equal(figi_cache_get(b, JOB, T0 + 2, &got, msg, 3), FIGI_NOT_FOUND);
	assert_string_equal(msg, "No");
	/* Expired: a miss, read from the file, where another mapper's newer
	 * answer is seen at once. */
	assert_int_equal(figi_cache_put(a, JOB, FIGI_FOUND, &ibm, NULL, T0 + DAY, WEEK), 0);
	assert_int_equal(figi_cache_get(b, JOB, T0 + DAY, &got, msg, sizeof(msg)), FIGI_FOUND);
	assert_string_equal(got.figi, "BBG000BLNNH6");
	figi_row_free(&got);
	assert_int_equal(figi_cache_reads(b), reads + 3);
	figi_cache_close(&a);
	figi_cache_close(&b);
}

/* A job OpenFIGI refused alone: kept with its reason as its own status
 * (FIGI_BAD), apart from "not found" and errors, in the file (a restart, a
 * second mapper) and in the memo, for exactly its TTL.  No schema change:
 * the status column takes it. */
static void test_a_refusal_keeps_its_reason_for_its_ttl_across_a_restart(void **state)
{
	static const char reason[] =
	    "HTTP 400 (\"Request body is invalid: idValue not accepted.\")";
	figi_cache_t *a = s_open(state, T0), *b = s_open(state, T0);
	struct figi_row got;
	char msg[128];
	long reads;

	assert_int_equal(
	    figi_cache_put(a, "TICKER|BADREQ|exch=US", FIGI_BAD, NULL, reason, T0, 3600), 0);
	assert_int_equal(figi_cache_get(a, "TICKER|BADREQ|exch=US", T0, &got, msg, sizeof(msg)),
	                 FIGI_BAD);
	assert_string_equal(msg, reason);
	assert_null(got.figi);
	/* Another mapper on the file, from it and then from its memo. */
	reads = figi_cache_reads(b);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    figi_cache_get(b, "TICKER|BADREQ|exch=US", T0 + 3599, &got, msg, sizeof(msg)),
		    FIGI_BAD);
		assert_string_equal(msg, reason);
	}
	assert_int_equal(figi_cache_reads(b), reads + 1);
	assert_int_equal(
	    figi_cache_get(b, "TICKER|BADREQ|exch=US", T0 + 3600, &got, msg, sizeof(msg)), 0);
	figi_cache_close(&a);
	figi_cache_close(&b);
	/* Restarted within the TTL: still refused; after it: purged. */
	a = s_open(state, T0 + 10);
	assert_int_equal(
	    figi_cache_get(a, "TICKER|BADREQ|exch=US", T0 + 10, &got, msg, sizeof(msg)), FIGI_BAD);
	assert_string_equal(msg, reason);
	figi_cache_close(&a);
	a = s_open(state, T0 + 3600);
	assert_int_equal(figi_cache_count(a), 0);
	figi_cache_close(&a);
}

/* A row whose status this build does not know (a newer mapper's, or
 * nobody's) is a miss: the job is asked for again, nothing of the row is
 * handed back, and nothing of it is remembered. */
static void test_an_unknown_status_is_a_miss(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	struct figi_row got;
	char msg[64];

	s_behind(state, "INSERT INTO figi (job, status, message, figi, fetched_at, expires_at)"
	                " VALUES ('TICKER|NEW|exch=US', 9, 'from the future', 'BBG000BLNNH6',"
	                " 1777000000, 1777086400),"
	                " ('TICKER|ZERO|exch=US', 0, 'zero', NULL, 1777000000, 1777086400)");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(
		    figi_cache_get(c, "TICKER|NEW|exch=US", T0 + 1, &got, msg, sizeof(msg)), 0);
		assert_string_equal(msg, "");
		assert_null(got.figi);
		assert_int_equal(
		    figi_cache_get(c, "TICKER|ZERO|exch=US", T0 + 1, &got, msg, sizeof(msg)), 0);
		assert_string_equal(msg, "");
	}
	assert_int_equal(figi_cache_memo_count(c), 0);
	figi_cache_close(&c);
}

/* A miss is not remembered: another mapper's answer is seen at once. */
static void test_a_miss_is_read_from_the_file_every_time(void **state)
{
	figi_cache_t *a = s_open(state, T0), *b = s_open(state, T0);
	struct figi_row got;
	char msg[64];
	long reads = figi_cache_reads(b);

	assert_int_equal(figi_cache_get(b, JOB, T0, &got, msg, sizeof(msg)), 0);
	assert_int_equal(figi_cache_get(b, JOB, T0, &got, msg, sizeof(msg)), 0);
	assert_int_equal(figi_cache_reads(b), reads + 2);
	assert_int_equal(figi_cache_memo_count(b), 0);
	assert_int_equal(
	    figi_cache_put(a, JOB, FIGI_NOT_FOUND, NULL, "No identifier found.", T0, DAY), 0);
	assert_int_equal(figi_cache_get(b, JOB, T0 + 1, &got, msg, sizeof(msg)), FIGI_NOT_FOUND);
	figi_cache_close(&a);
	figi_cache_close(&b);
}

static void test_our_own_new_answer_replaces_the_memoised_one(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	struct figi_row ibm = s_ibm(), got;
	char msg[64];

	assert_int_equal(figi_cache_put(c, JOB, FIGI_FOUND, &ibm, NULL, T0, WEEK), 0);
	assert_int_equal(figi_cache_get(c, JOB, T0, &got, msg, sizeof(msg)), FIGI_FOUND);
	figi_row_free(&got);
	ibm.name = "IBM RENAMED";
	assert_int_equal(figi_cache_put(c, JOB, FIGI_FOUND, &ibm, NULL, T0 + 5, WEEK), 0);
	assert_int_equal(figi_cache_get(c, JOB, T0 + 6, &got, msg, sizeof(msg)), FIGI_FOUND);
	assert_string_equal(got.name, "IBM RENAMED");
	figi_row_free(&got);
	/* The new row's expiry, not the old one's, bounds it now. */
	assert_int_equal(figi_cache_get(c, JOB, T0 + WEEK + 1, &got, msg, sizeof(msg)), FIGI_FOUND);
	figi_row_free(&got);
	assert_int_equal(
	    figi_cache_put(c, JOB, FIGI_NOT_FOUND, NULL, "No identifier found.", T0 + 7, DAY), 0);
	assert_int_equal(figi_cache_get(c, JOB, T0 + 8, &got, msg, sizeof(msg)), FIGI_NOT_FOUND);
	figi_cache_close(&c);
}

static void test_share_counts_and_no_figure_are_memoised(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	double v = 0;
	long reads;

	assert_int_equal(figi_cache_shares_put(c, "0000320193", 15e9, "2024-10-18", T0, WEEK), 0);
	assert_int_equal(figi_cache_shares_put(c, "0000000007", NAN, NULL, T0, DAY), 0);
	reads = figi_cache_reads(c);
	assert_int_equal(figi_cache_shares_get(c, "0000320193", T0, &v), 1);
	assert_int_equal(figi_cache_shares_get(c, "0000000007", T0, &v), 1);
	assert_int_equal(figi_cache_memo_count(c), 2);
	assert_int_equal(figi_cache_reads(c), reads + 2);
	s_behind(state, "DELETE FROM sec_shares");
	for (int i = 0; i < 100; i++) {
		assert_int_equal(figi_cache_shares_get(c, "0000320193", T0 + WEEK - 1, &v), 1);
		assert_true(v == 15e9);
		assert_int_equal(figi_cache_shares_get(c, "0000000007", T0 + DAY - 1, &v), 1);
		assert_true(isnan(v));
	}
	assert_int_equal(figi_cache_reads(c), reads + 2);
	/* Never past the row's expiry. */
	assert_int_equal(figi_cache_shares_get(c, "0000000007", T0 + DAY, &v), 0);
	assert_int_equal(figi_cache_shares_get(c, "0000320193", T0 + WEEK, &v), 0);
	assert_int_equal(figi_cache_reads(c), reads + 4);
	/* Our own write replaces what the memo holds, a figure or none. */
	assert_int_equal(figi_cache_shares_put(c, "0000320193", 16e9, NULL, T0, WEEK), 0);
	assert_int_equal(figi_cache_shares_get(c, "0000320193", T0 + 1, &v), 1);
	assert_true(v == 16e9);
	assert_int_equal(figi_cache_shares_put(c, "0000320193", NAN, NULL, T0 + 2, DAY), 0);
	assert_int_equal(figi_cache_shares_get(c, "0000320193", T0 + 3, &v), 1);
	assert_true(isnan(v));
	figi_cache_close(&c);
}

/* A share count <= 0, infinite or past the limit is not stored, and a row
 * holding one (not written by us) is a miss, not a figure. */
static void test_a_value_that_is_no_share_count_is_refused(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	double v = 0;

	log_init("test_figi_cache", LOG_LVL_ERROR); /* the refusals warn */
	assert_int_equal(figi_cache_shares_put(c, "0000000001", -5e6, NULL, T0, WEEK), -1);
	assert_int_equal(figi_cache_shares_put(c, "0000000001", 0, NULL, T0, WEEK), -1);
	assert_int_equal(figi_cache_shares_put(c, "0000000001", -INFINITY, NULL, T0, WEEK), -1);
	assert_int_equal(figi_cache_shares_put(c, "0000000001", INFINITY, NULL, T0, WEEK), -1);
	assert_int_equal(
	    figi_cache_shares_put(c, "0000000001", FIGI_CACHE_SHARES_MAX, NULL, T0, WEEK), -1);
	assert_int_equal(figi_cache_shares_get(c, "0000000001", T0, &v), 0);
	s_behind(state, "INSERT INTO sec_shares (cik, shares, fetched_at, expires_at) VALUES"
	                " ('0000000002', -100, 0, 9999999999),"
	                " ('0000000003', 0, 0, 9999999999),"
	                " ('0000000004', 'many', 0, 9999999999),"
	                " ('0000000005', 2e13, 0, 9999999999),"
	                " ('0000000006', 1000, 0, 9999999999)");
	assert_int_equal(figi_cache_shares_get(c, "0000000002", T0, &v), 0);
	assert_int_equal(figi_cache_shares_get(c, "0000000003", T0, &v), 0);
	assert_int_equal(figi_cache_shares_get(c, "0000000004", T0, &v), 0);
	assert_int_equal(figi_cache_shares_get(c, "0000000005", T0, &v), 0);
	assert_int_equal(figi_cache_memo_count(c), 0);
	assert_int_equal(figi_cache_shares_get(c, "0000000006", T0, &v), 1); /* an integer */
	assert_true(v == 1000);
	figi_cache_close(&c);
}

/* A ticker's CIK, known or not, is a SQLite read once per map. */
static void test_cik_lookups_are_memoised_until_the_map_expires(void **state)
{
	figi_cache_t *c = s_open(state, T0);
	const struct sec_ticker map[] = { { "AAPL", "0000320193" } };
	const struct sec_ticker next[] = { { "ZZZZ", "0000000009" } };
	char cik[11];
	long reads;

	assert_int_equal(figi_cache_tickers_replace(c, map, 1, T0), 0);
	reads = figi_cache_reads(c);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(figi_cache_cik_of(c, "AAPL", T0 + i, T0 + DAY, cik), 1);
		assert_string_equal(cik, "0000320193");
		assert_int_equal(figi_cache_cik_of(c, "ZZZZ", T0 + i, T0 + DAY, cik), 0);
	}
	assert_int_equal(figi_cache_reads(c), reads + 2);
	/* Until the map's expiry as the caller gave it... */
	assert_int_equal(figi_cache_cik_of(c, "ZZZZ", T0 + DAY, T0 + DAY, cik), 0);
	assert_int_equal(figi_cache_reads(c), reads + 3);
	/* ...or a new map through this handle. */
	assert_int_equal(figi_cache_cik_of(c, "ZZZZ", T0, T0 + DAY, cik), 0);
	assert_int_equal(figi_cache_tickers_replace(c, next, 1, T0 + 5), 0);
	assert_int_equal(figi_cache_cik_of(c, "ZZZZ", T0 + 5, T0 + 5 + DAY, cik), 1);
	assert_string_equal(cik, "0000000009");
	assert_int_equal(figi_cache_cik_of(c, "AAPL", T0 + 5, T0 + 5 + DAY, cik), 0);
	/* No expiry given (a stale map): nothing kept. */
	reads = figi_cache_reads(c);
	assert_int_equal(figi_cache_cik_of(c, "QQQ", T0 + 5, 0, cik), 0);
	assert_int_equal(figi_cache_cik_of(c, "QQQ", T0 + 5, 0, cik), 0);
	assert_int_equal(figi_cache_reads(c), reads + 2);
	figi_cache_close(&c);
}

static void test_an_unwritable_state_dir_is_an_error_not_a_crash(void **state)
{
	char err[512] = "";
	figi_cache_t *c;

	(void)state;
	c = figi_cache_open("/proc/coattail-no-such-dir", T0, err, sizeof(err));
	assert_null(c);
	assert_true(err[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_found_answer_lives_exactly_its_ttl, s_setup,
		                                s_teardown),
		cmocka_unit_test_setup_teardown(
		    test_not_found_and_error_answers_keep_their_text_for_a_day, s_setup,
		    s_teardown),
		cmocka_unit_test_setup_teardown(
		    test_answers_survive_a_restart_and_expired_ones_are_purged, s_setup,
		    s_teardown),
		cmocka_unit_test_setup_teardown(test_a_new_answer_replaces_the_old, s_setup,
		                                s_teardown),
		cmocka_unit_test_setup_teardown(test_two_mappers_share_one_file, s_setup,
		                                s_teardown),
		cmocka_unit_test_setup_teardown(test_the_ticker_map_is_replaced_whole, s_setup,
		                                s_teardown),
		cmocka_unit_test_setup_teardown(test_share_counts_and_no_figure_live_their_ttl,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_found_answer_is_served_from_memory_until_its_row_expires, s_setup,
		    s_teardown),
		cmocka_unit_test_setup_teardown(test_a_null_field_stays_null_through_the_memo,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(
		    test_negative_answers_are_memoised_until_their_row_expires, s_setup,
		    s_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_refusal_keeps_its_reason_for_its_ttl_across_a_restart, s_setup,
		    s_teardown),
		cmocka_unit_test_setup_teardown(test_an_unknown_status_is_a_miss, s_setup,
		                                s_teardown),
		cmocka_unit_test_setup_teardown(test_a_miss_is_read_from_the_file_every_time,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_our_own_new_answer_replaces_the_memoised_one,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_share_counts_and_no_figure_are_memoised,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_a_value_that_is_no_share_count_is_refused,
		                                s_setup, s_teardown),
		cmocka_unit_test_setup_teardown(test_cik_lookups_are_memoised_until_the_map_expires,
		                                s_setup, s_teardown),
		cmocka_unit_test(test_an_unwritable_state_dir_is_an_error_not_a_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
