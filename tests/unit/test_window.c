/*
 * test_window.c - the decider's memory: upserts, groups, copies, repeats,
 * signals, clusters, pruning, eviction, and that the file holds exactly what
 * was committed (reopen, rollback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "../../decider/window.h"
#include "log.h"
#include "support/testutil.h"
#include "timeutil.h"

static char err[512];

/* Shares standing for a fingerprint name: rows given the same name have
 * the same fingerprint (window_fp), other names other ones. */
static double s_shares_of(const char *fp)
{
	uint32_t h = 5381;

	for (; *fp != '\0'; fp++)
		h = h * 33 + (unsigned char)*fp;
	return 100 + h % 1000003;
}

static const struct win_detail s_det = { .owner = "Doe John", .title = "CEO", .issuer = "Acme" };

/* A row template with borrowed strings. */
static struct win_put s_row(char *key, char *acc, char *grp, char *fp, bool amendment, int64_t day)
{
	struct win_put t;

	memset(&t, 0, sizeof(t));
	t.key = key;
	t.chash = 42;
	t.source = "edgar";
	t.accession = acc;
	t.grp = grp;
	t.side = SIDE_BUY;
	t.owner_key = "doe john";
	t.ticker = "ACME";
	t.det = s_det;
	t.trade_day = day;
	t.shares = 100;
	t.price = 10;
	t.value = 1000;
	t.shares_after = NAN;
	t.direct = 1;
	t.amendment = amendment;
	t.shares = s_shares_of(fp);
	t.ref_time = day * 86400;
	return t;
}

static window_t *s_open(const char *dir, size_t max)
{
	window_t *w = window_open(dir, max, err, sizeof(err));

	if (w == NULL)
		fail_msg("window_open: %s", err);
	return w;
}

static struct win_trade *s_put(window_t *w, struct win_put t)
{
	struct win_trade *r = window_put(w, &t);

	assert_non_null(r);
	return r;
}

/* Put and judge (pending = 0), as a flush would. */
static struct win_trade *s_put_judged(window_t *w, struct win_put t)
{
	struct win_trade *r = s_put(w, t);

	assert_int_equal(window_mark(w, r, NAN, NULL, NULL, NULL), 0);
	return r;
}

static void s_commit(window_t *w)
{
	if (window_commit(w, err, sizeof(err)) != 0)
		fail_msg("window_commit: %s", err);
}

static void test_open_creates_schema_and_refuses_a_newer_one(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	char path[1024];

	(void)state;
	window_close(&w);
	assert_null(w);
	snprintf(path, sizeof(path), "%s/decider.sqlite", dir);
	assert_int_equal(test_sql_int(path, "PRAGMA user_version"), 3);
	assert_int_equal(test_sql_exec(path, "PRAGMA user_version = 9"), SQLITE_OK);
	assert_null(window_open(dir, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	window_close(&w); /* safe on NULL */
	free(dir);
}

static void test_upsert_keeps_use_and_first_batch_and_survives_reopen(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	struct win_trade *r;
	struct win_put t = s_row("k1", "A-1", "g1", "fp1", false, 20000);
	int64_t batch = window_batch(w);

	(void)state;
	assert_null(window_lookup(w, "k1"));
	r = s_put(w, t);
	assert_true(r->pending);
	assert_int_equal(r->first_batch, batch);
	assert_int_equal(window_mark(w, r, 1000, NULL, "0.4% of holdings", "intent-a"), 0);
	assert_int_equal(window_use(w, r, "intent-b"), 0); /* the first is kept */
	s_commit(w);
	window_close(&w);

	w = s_open(dir, 0);
	r = window_lookup(w, "k1");
	assert_non_null(r);
	assert_false(r->pending);
	assert_string_equal(r->used_by, "intent-a");
	assert_string_equal(r->outcome, "0.4% of holdings");
	assert_true(r->gvalue == 1000);
	assert_true(isnan(r->shares_after));
	assert_true(window_batch(w) > batch);

	/* the same key with new content, in a later batch */
	t.chash = 43;
	t.shares = 200;
	r = s_put(w, t);
	assert_true(r->pending);
	assert_true(r->chash == 43 && r->shares == 200);
	assert_string_equal(r->used_by, "intent-a");
	assert_null(r->outcome);
	assert_int_equal(r->first_batch, batch); /* the first batch, not this one */
	window_close(&w);
	free(dir);
}

static void test_rollback_and_close_forget_the_uncommitted(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);

	(void)state;
	s_put_judged(w, s_row("kept", "A-1", "g1", "fp1", false, 20000));
	s_commit(w);
	s_put_judged(w, s_row("k1", "A-1", "g1", "fp2", false, 20000));
	assert_int_equal(window_use(w, window_lookup(w, "kept"), "x"), 0);
	assert_int_equal(window_rollback(w, err, sizeof(err)), 0);
	assert_null(window_lookup(w, "k1"));
	assert_non_null(window_lookup(w, "kept"));
	assert_null(window_lookup(w, "kept")->used_by);
	s_put_judged(w, s_row("k2", "A-1", "g1", "fp3", false, 20000));
	window_close(&w);
	w = s_open(dir, 0);
	assert_null(window_lookup(w, "k2"));
	assert_int_equal(window_size(w), 1);
	window_close(&w);
	free(dir);
}

static void test_group_rows_are_in_key_order(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	struct win_trade **rows;
	size_t n;

	(void)state;
	s_put(w, s_row("b", "A-1", "g1", "fp1", false, 20000));
	s_put(w, s_row("c", "A-1", "g1", "fp2", false, 20000));
	s_put(w, s_row("a", "A-1", "g1", "fp3", false, 20000));
	s_put(w, s_row("z", "A-2", "g2", "fp4", false, 20000));
	assert_int_equal(window_group_rows(w, "g1", &rows, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0]->key, "a");
	assert_string_equal(rows[2]->key, "c");
	free(rows);
	/* a row whose group changes moves */
	s_put(w, s_row("a", "A-2", "g2", "fp3", false, 20000));
	assert_int_equal(window_group_rows(w, "g1", &rows, &n), 0);
	assert_int_equal(n, 2);
	free(rows);
	assert_int_equal(window_group_rows(w, "none", &rows, &n), 0);
	assert_int_equal(n, 0);
	window_close(&w);
	free(dir);
}

/* Which earlier row a 4/A (or an accession-less row) repeats. */
static void test_find_repeat_rules(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	struct win_trade *orig, *other4, *amend, *late, *noacc;

	(void)state;
	orig = s_put(w, s_row("orig", "A-1", "g-orig", "same", false, 20000));
	other4 = s_put(w, s_row("other4", "A-2", "g-other", "same", false, 20000));
	amend = s_put(w, s_row("amend", "A-0", "g-amend", "same", true, 20000));
	/* two plain Form 4s with equal content are two transactions */
	assert_null(window_find_repeat(w, other4));
	assert_null(window_find_repeat(w, orig));
	/* the 4/A repeats the first original in judging order */
	assert_ptr_equal(window_find_repeat(w, amend), orig);
	assert_int_equal(window_mark(w, orig, NAN, NULL, NULL, NULL), 0);
	assert_int_equal(window_mark(w, other4, NAN, NULL, NULL, NULL), 0);
	assert_int_equal(window_mark(w, amend, NAN, NULL, NULL, NULL), 0);
	s_commit(w);
	/* an original first seen in a later batch repeats the earlier 4/A,
	 * which this batch reads from the file */
	late = s_put(w, s_row("late", "A-5", "g-late", "same", false, 20000));
	assert_string_equal(window_find_repeat(w, late)->key, "amend");
	noacc = s_put(w, s_row("noacc", NULL, "g-noacc", "same", false, 20000));
	assert_non_null(window_find_repeat(w, noacc));
	assert_null(window_find_repeat(w, s_put(w, s_row("x", "A-1", "g-x", "other", true, 1))));
	window_close(&w);
	free(dir);
}

/* The fingerprint is built from the row's own fields, as the file's fp
 * column always held it, and finds repeats after a reopen too. */
static void test_fingerprint_is_built_from_the_row(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	const int64_t day = 20566; /* 2026-04-23 */
	struct win_put t = s_row("sold", "A-9", "g-sold", "x", false, day);
	struct win_trade *amend, *r;
	char buf[1024];
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	t.shares = 1234.5;
	t.price = NAN;
	t.side = SIDE_SELL;
	r = s_put_judged(w, t);
	window_trade_date(r, buf);
	assert_string_equal(buf, "2026-04-23");
	window_fp(r, buf, sizeof(buf));
	assert_string_equal(buf, "ACME|doe john|2026-04-23|S|1234.5000|-");
	/* cut at len, the length it needs returned */
	assert_int_equal(window_fp(r, buf, 5), 38);
	assert_string_equal(buf, "ACME");
	t = s_row("orig", "A-1", "g-orig", "x", false, day);
	t.shares = 1234.5;
	t.price = 10.25;
	r = s_put_judged(w, t);
	assert_int_equal(window_fp(r, buf, sizeof(buf)), 44);
	assert_string_equal(buf, "ACME|doe john|2026-04-23|P|1234.5000|10.2500");
	s_commit(w);
	window_close(&w);
	snprintf(buf, sizeof(buf), "%s/decider.sqlite", dir);
	assert_int_equal(sqlite3_open(buf, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT fp FROM trade WHERE key = 'orig'", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
	                    "ACME|doe john|2026-04-23|P|1234.5000|10.2500");
	sqlite3_finalize(st);
	sqlite3_close(db);
	w = s_open(dir, 0);
	t = s_row("amend", "A-0", "g-amend", "x", true, day);
	t.shares = 1234.5;
	t.price = 10.25;
	amend = s_put(w, t);
	assert_ptr_equal(window_find_repeat(w, amend), window_lookup(w, "orig"));
	/* a different price is a different transaction */
	t = s_row("amend2", "A-0", "g-amend", "x", true, day);
	t.shares = 1234.5;
	t.price = 10.26;
	assert_null(window_find_repeat(w, s_put(w, t)));
	window_close(&w);
	free(dir);
}

/* Two trades whose group names collide only through a '|' inside their
 * source and accession share the group, yet each keeps its own source and
 * accession, in memory and in the file. */
static void test_rows_keep_their_own_identity_in_a_shared_group(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	struct win_put t = s_row("k1", "a|b", "edgar|a|b|P|name:doe john", "fp1", false, 20000);
	struct win_trade *a, *b;

	(void)state;
	a = s_put_judged(w, t);
	t = s_row("k2", "b", "edgar|a|b|P|name:doe john", "fp2", true, 20000);
	t.source = "edgar|a";
	t.owner_cik = "0000000009";
	b = s_put_judged(w, t);
	assert_ptr_equal(a->group, b->group);
	assert_string_equal(win_source(a), "edgar");
	assert_string_equal(win_accession(a), "a|b");
	assert_null(win_owner_cik(a));
	assert_string_equal(win_source(b), "edgar|a");
	assert_string_equal(win_accession(b), "b");
	assert_string_equal(win_owner_cik(b), "0000000009");
	s_commit(w);
	window_close(&w);
	w = s_open(dir, 0);
	a = window_lookup(w, "k1");
	b = window_lookup(w, "k2");
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(a->group, b->group);
	assert_string_equal(win_accession(a), "a|b");
	assert_string_equal(win_source(b), "edgar|a");
	assert_string_equal(win_accession(b), "b");
	assert_string_equal(win_owner_cik(b), "0000000009");
	/* re-put with its group's identity: its own copy goes */
	t = s_row("k2", "a|b", "edgar|a|b|P|name:doe john", "fp2", true, 20000);
	b = s_put(w, t);
	assert_null(b->ident);
	assert_string_equal(win_accession(b), "a|b");
	window_close(&w);
	free(dir);
}

/* A row's trade date is its day number's, as date_format writes it. */
static void test_trade_date_is_the_days_date(void **state)
{
	struct win_trade *r = calloc(1, sizeof(*r));
	char got[11], want[16];

	(void)state;
	assert_non_null(r);
	for (int64_t day = -719162; day <= 2932896; day += 37) { /* 0001-01-01 .. 9999-12-31 */
		r->trade_day = (int32_t)day;
		window_trade_date(r, got);
		date_format(date_from_days(day), want, sizeof(want));
		assert_string_equal(got, want);
	}
	r->trade_day = 20566;
	assert_string_equal(window_trade_date(r, got), "2026-04-23");
	free(r);
}

static void test_group_copy_matches_cik_else_name(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	struct win_group *g;

	(void)state;
	assert_int_equal(window_group_put(w, "edgar|A-1|P|cik:0000000001", "edgar", "A-1", SIDE_BUY,
	                                  "0000000001", "doe john", NULL, 100),
	                 0);
	/* no CIK on this side: the name decides */
	g = window_group_copy(w, "oi|A-1|P|name:doe john", "A-1", SIDE_BUY, NULL, "doe john");
	assert_non_null(g);
	assert_string_equal(g->source, "edgar");
	assert_null(g->intent);
	assert_null(
	    window_group_copy(w, "oi|A-1|P|name:roe jane", "A-1", SIDE_BUY, NULL, "roe jane"));
	/* CIKs on both sides: the CIK decides, the name does not matter */
	assert_non_null(window_group_copy(w, "oi|A-1|P|cik:0000000001", "A-1", SIDE_BUY,
	                                  "0000000001", "doe family trust"));
	assert_null(window_group_copy(w, "oi|A-1|P|cik:0000000002", "A-1", SIDE_BUY, "0000000002",
	                              "doe john"));
	/* another side or filing is another signal; a group is not its own copy */
	assert_null(
	    window_group_copy(w, "oi|A-1|S|name:doe john", "A-1", SIDE_SELL, NULL, "doe john"));
	assert_null(
	    window_group_copy(w, "oi|A-2|P|name:doe john", "A-2", SIDE_BUY, NULL, "doe john"));
	assert_null(window_group_copy(w, "edgar|A-1|P|cik:0000000001", "A-1", SIDE_BUY,
	                              "0000000001", "doe john"));
	/* an intent once recorded stays, and is on disk after the commit */
	assert_int_equal(window_group_put(w, "edgar|A-1|P|cik:0000000001", "edgar", "A-1", SIDE_BUY,
	                                  "0000000001", "doe john", "id-1", 100),
	                 0);
	assert_int_equal(window_group_put(w, "edgar|A-1|P|cik:0000000001", "edgar", "A-1", SIDE_BUY,
	                                  "0000000001", "doe john", NULL, 200),
	                 0);
	s_commit(w);
	window_close(&w);
	w = s_open(dir, 0);
	g = window_group_get(w, "edgar|A-1|P|cik:0000000001");
	assert_non_null(g);
	assert_string_equal(g->intent, "id-1");
	assert_true(g->ref_time == 200);
	assert_null(window_group_get(w, "oi|A-1|P|name:doe john")); /* never registered */
	window_close(&w);
	free(dir);
}

/* The file's signal row id, as "id|rule|side|ticker|reason|evidence|created|expires". */
static void s_expect_signal_row(const char *dir, const char *want)
{
	char path[1024], got[1024];
	sqlite3 *db;
	sqlite3_stmt *st;

	snprintf(path, sizeof(path), "%s/decider.sqlite", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT id, rule, side, ticker, reason, evidence,"
	                                    " created_at, expires_at FROM signal",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(got, sizeof(got), "%s|%s|%d|%s|%s|%s|%lld|%lld", sqlite3_column_text(st, 0),
	         sqlite3_column_text(st, 1), sqlite3_column_int(st, 2), sqlite3_column_text(st, 3),
	         sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
	         (long long)sqlite3_column_int64(st, 6), (long long)sqlite3_column_int64(st, 7));
	assert_string_equal(got, want);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_signals_clusters_and_pruning_persist(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	char *ev[] = { "k1", "k2" };
	intent_t in = { .id = "id-1",
		        .rule = "cluster_buy",
		        .side = SIDE_BUY,
		        .ticker = "ACME",
		        .evidence = ev,
		        .n_evidence = 2,
		        .reason = "3 executives bought ACME",
		        .created_at = 100 * 86400,
		        .expires_at = 102 * 86400 };
	struct win_cluster c = { .id = "id-1", .ticker = "ACME", .first_day = 95, .last_day = 99 },
	                   *cl = NULL;
	struct win_trade **rows = NULL;
	size_t n = 0;

	(void)state;
	s_put_judged(w, s_row("old", "A-1", "g1", "fp1", false, 80));
	s_put_judged(w, s_row("new", "A-2", "g2", "fp2", false, 99));
	s_put(w, s_row("waiting", "A-3", "g3", "fp3", false, 50));
	assert_int_equal(window_signal_exists(w, "id-1"), 0);
	assert_int_equal(window_signal_put(w, &in), 0);
	assert_int_equal(window_signal_put(w, &in), 0); /* idempotent */
	assert_int_equal(window_signal_exists(w, "id-1"), 1);
	assert_int_equal(window_signal_count(w), 1);
	assert_int_equal(window_cluster_put(w, &c), 0);
	c.last_day = 101;
	assert_int_equal(window_cluster_put(w, &c), 0);
	assert_int_equal(window_clusters(w, "ACME", &cl, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cl[0].last_day, 101);
	free(cl);
	/* candidates: judged buys of the ticker in the day range ("waiting" is
	 * pending, "old" before the range) */
	assert_int_equal(window_cluster_candidates(w, "ACME", 40, 100, &rows, &n), 0);
	assert_int_equal(n, 2);
	free(rows);
	assert_int_equal(window_cluster_candidates(w, "ACME", 90, 100, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0]->key, "new");
	free(rows);
	assert_int_equal(window_mark(w, window_lookup(w, "waiting"), NAN, NULL, NULL, NULL), 0);
	s_commit(w);
	s_expect_signal_row(
	    dir, "id-1|cluster_buy|1|ACME|3 executives bought ACME|k1\nk2|8640000|8812800");

	/* prune what is older than day 90; a row waiting in the batch (put
	 * again, pending) is never pruned */
	assert_non_null(s_put(w, s_row("waiting", "A-3", "g3", "fp3", false, 50)));
	assert_int_equal(window_prune(w, 90 * 86400, 90, err, sizeof(err)), 0);
	assert_null(window_lookup(w, "old"));
	assert_non_null(window_lookup(w, "new"));
	assert_non_null(window_lookup(w, "waiting"));
	assert_int_equal(window_signal_count(w), 1);
	assert_int_equal(window_mark(w, window_lookup(w, "waiting"), NAN, NULL, NULL, NULL), 0);
	s_commit(w);
	window_close(&w);
	w = s_open(dir, 0);
	assert_null(window_lookup(w, "old"));
	assert_non_null(window_lookup(w, "new"));
	assert_non_null(window_lookup(w, "waiting"));
	assert_int_equal(window_signal_exists(w, "id-1"), 1);
	assert_int_equal(window_clusters(w, "ACME", &cl, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cl[0].last_day, 101);
	free(cl);
	assert_int_equal(window_prune(w, 101 * 86400, 102, err, sizeof(err)), 0);
	s_commit(w);
	window_close(&w);
	w = s_open(dir, 0);
	assert_int_equal(window_signal_count(w), 0);
	assert_int_equal(window_size(w), 0);
	assert_int_equal(window_clusters(w, "ACME", &cl, &n), 0);
	assert_int_equal(n, 0);
	free(cl);
	window_close(&w);
	free(dir);
}

/* Two day ranges of one ticker are two reads, however long the ticker
 * (the record format sets no bound on it). */
static void test_cluster_candidates_of_a_long_ticker(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	char ticker[200];
	struct win_put t;
	struct win_trade **rows = NULL;
	size_t n = 0;

	(void)state;
	memset(ticker, 'X', sizeof(ticker) - 1);
	ticker[sizeof(ticker) - 1] = '\0';
	t = s_row("early", "A-1", "g1", "fp1", false, 10);
	t.ticker = ticker;
	s_put_judged(w, t);
	t = s_row("late", "A-2", "g2", "fp2", false, 30);
	t.ticker = ticker;
	s_put_judged(w, t);
	s_commit(w);
	assert_int_equal(window_cluster_candidates(w, ticker, 0, 20, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0]->key, "early");
	free(rows);
	assert_int_equal(window_cluster_candidates(w, ticker, 25, 35, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0]->key, "late");
	free(rows);
	window_close(&w);
	free(dir);
}

/* Reads made after window_prune in the same batch, of every kind, do not
 * see what the prune deletes at the commit; a rollback ends the batch's
 * read transaction, and the next batch reads and writes as before. */
static void test_reads_after_a_prune_and_a_rollback(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	char *ev[] = { "old" };
	intent_t in = { .id = "id-old",
		        .rule = "executive_trade",
		        .side = SIDE_BUY,
		        .ticker = "ACME",
		        .evidence = ev,
		        .n_evidence = 1,
		        .reason = "r",
		        .created_at = 80 * 86400,
		        .expires_at = 82 * 86400 };
	struct win_cluster c = { .id = "cl-old",
		                 .ticker = "ACME",
		                 .first_day = 78,
		                 .last_day = 80 },
	                   *cl = NULL;
	struct win_trade **rows = NULL, *late;
	size_t n = 0;

	(void)state;
	s_put_judged(w, s_row("old", "A-1", "g-old", "same", false, 80));
	s_put_judged(w, s_row("new", "A-2", "g-new", "other", false, 99));
	assert_int_equal(window_group_put(w, "g-old", "edgar", "A-1", SIDE_BUY, NULL, "doe john",
	                                  "id-old", 80 * 86400),
	                 0);
	assert_int_equal(window_signal_put(w, &in), 0);
	assert_int_equal(window_cluster_put(w, &c), 0);
	s_commit(w);

	/* a batch that reads the old rows before the prune, and after it */
	late = s_put(w, s_row("late", "A-5", "g-late", "same", true, 80));
	late->ref_time = 99 * 86400;
	assert_non_null(window_find_repeat(w, late));
	assert_int_equal(window_prune(w, 90 * 86400, 90, err, sizeof(err)), 0);
	assert_null(window_find_repeat(w, late));
	assert_null(window_lookup(w, "old"));
	assert_int_equal(window_group_rows(w, "g-old", &rows, &n), 0);
	assert_int_equal(n, 0);
	free(rows);
	assert_null(window_group_get(w, "g-old"));
	assert_null(window_group_copy(w, "oi|A-1", "A-1", SIDE_BUY, NULL, "doe john"));
	assert_int_equal(window_cluster_candidates(w, "ACME", 0, 100, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0]->key, "new");
	free(rows);
	assert_int_equal(window_signal_exists(w, "id-old"), 0);
	assert_int_equal(window_clusters(w, "ACME", &cl, &n), 0);
	assert_int_equal(n, 0);
	free(cl);

	/* rolled back: the file still holds them all */
	assert_int_equal(window_rollback(w, err, sizeof(err)), 0);
	assert_non_null(window_lookup(w, "old"));
	assert_non_null(window_group_get(w, "g-old"));
	assert_int_equal(window_signal_exists(w, "id-old"), 1);
	late = s_put_judged(w, s_row("late", "A-5", "g-late", "same", true, 80));
	assert_string_equal(window_find_repeat(w, late)->key, "old");
	s_commit(w);
	assert_int_equal(window_size(w), 3);

	/* pruned and committed: gone from the file */
	assert_int_equal(window_prune(w, 90 * 86400, 90, err, sizeof(err)), 0);
	s_commit(w);
	assert_null(window_lookup(w, "old"));
	assert_null(window_group_get(w, "g-old"));
	assert_int_equal(window_signal_exists(w, "id-old"), 0);
	assert_int_equal(window_size(w), 1);
	window_close(&w);
	free(dir);
}

/* A batch whose only change is a cluster still writes it, and a batch
 * that changed one is not taken for one that only read. */
static void test_a_cluster_alone_is_a_change(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	struct win_cluster c = { .id = "id-1", .ticker = "ACME", .first_day = 95, .last_day = 99 },
	                   *cl = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(window_cluster_put(w, &c), 0);
	window_drop_reads(w);
	assert_int_equal(window_clusters(w, "ACME", &cl, &n), 0);
	assert_int_equal(n, 1);
	free(cl);
	s_commit(w);
	window_close(&w);
	w = s_open(dir, 0);
	assert_int_equal(window_clusters(w, "ACME", &cl, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cl[0].last_day, 99);
	free(cl);
	window_close(&w);
	free(dir);
}

/* Beyond max_trades the oldest judged rows go from the file (a tenth more
 * than the excess, so the file is counted once per tenth). */
static void test_eviction_keeps_the_file_bounded(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 1000);
	char key[32], grp[32], fp[32];

	(void)state;
	for (int i = 0; i < 1500; i++) {
		snprintf(key, sizeof(key), "k%04d", i);
		snprintf(grp, sizeof(grp), "g%04d", i);
		snprintf(fp, sizeof(fp), "fp%04d", i);
		s_put_judged(w, s_row(key, "A-1", grp, fp, false, 20000));
		if (i % 100 == 99)
			s_commit(w);
	}
	assert_true(window_size(w) <= 1000);
	assert_null(window_lookup(w, "k0000"));
	assert_non_null(window_lookup(w, "k1499"));
	s_commit(w);
	window_close(&w);
	w = s_open(dir, 1000);
	assert_true(window_size(w) <= 1000);
	assert_null(window_lookup(w, "k0000"));
	assert_non_null(window_lookup(w, "k1499"));
	window_close(&w);
	free(dir);
}

/* A commit that fails while the file cannot be read (its count neither)
 * leaves the file's row count an upper bound: once the file reads again,
 * the next commit past max_trades evicts. */
static void test_eviction_after_a_failed_commit(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 10);
	char key[32], fp[32], path[1024];

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		snprintf(fp, sizeof(fp), "fp%02d", i);
		s_put_judged(w, s_row(key, "A-1", key, fp, false, 20000));
	}
	s_commit(w);
	assert_int_equal(window_size(w), 10);
	snprintf(path, sizeof(path), "%s/decider.sqlite", dir);
	assert_int_equal(test_sql_exec(path, "ALTER TABLE trade RENAME TO trade_gone"), 0);
	s_put_judged(w, s_row("x", "A-1", "x", "fp-x", false, 20000));
	assert_int_equal(window_commit(w, err, sizeof(err)), -1);
	assert_int_equal(test_sql_exec(path, "ALTER TABLE trade_gone RENAME TO trade"), 0);
	for (int i = 10; i < 15; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		snprintf(fp, sizeof(fp), "fp%02d", i);
		s_put_judged(w, s_row(key, "A-1", key, fp, false, 20000));
	}
	s_commit(w);
	assert_true(window_size(w) <= 10);
	window_close(&w);
	free(dir);
}

/* Memory holds one batch: a commit forgets every row, and a later batch
 * reads back only the rows it asks for, whatever the file holds. */
static void test_memory_holds_one_batch(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	char key[32], grp[32], fp[32];
	struct win_trade *r, **rows;
	size_t n;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "k%05d", i);
		snprintf(grp, sizeof(grp), "g%05d", i / 3);
		snprintf(fp, sizeof(fp), "fp%05d", i);
		s_put_judged(w, s_row(key, "A-1", grp, fp, false, 20000));
		if (i % 500 == 499) {
			s_commit(w);
			assert_int_equal(window_held(w), 0);
		}
	}
	assert_int_equal(window_size(w), 3000);
	r = window_lookup(w, "k01234");
	assert_non_null(r);
	assert_false(r->pending);
	assert_int_equal(window_held(w), 1);
	/* a group's rows: the other two of its filing come from the file */
	assert_int_equal(window_group_rows(w, "g00411", &rows, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0]->key, "k01233");
	assert_ptr_equal(rows[1], r); /* the row read before, not a second copy */
	free(rows);
	assert_int_equal(window_held(w), 3);
	/* a batch that only read lets go of what it read */
	window_drop_reads(w);
	assert_int_equal(window_held(w), 0);
	/* ... but not a batch with a row waiting */
	s_put(w, s_row("new", "A-2", "g-new", "fp-new", false, 20000));
	window_drop_reads(w);
	assert_int_equal(window_held(w), 1);
	assert_int_equal(window_mark(w, window_lookup(w, "new"), NAN, NULL, NULL, NULL), 0);
	s_commit(w);
	assert_int_equal(window_held(w), 0);
	assert_int_equal(window_size(w), 3001);
	window_close(&w);
	free(dir);
}

/* A schema-2 file (no read indexes) is brought up to date and read. */
static void test_schema_2_file_gets_its_indexes(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	char path[1024];

	(void)state;
	s_put_judged(w, s_row("k1", "A-1", "g1", "fp1", false, 20000));
	s_commit(w);
	window_close(&w);
	snprintf(path, sizeof(path), "%s/decider.sqlite", dir);
	assert_int_equal(test_sql_exec(path,
	                               "DROP INDEX trade_by_fp; DROP INDEX trade_by_grp;"
	                               " DROP INDEX trade_by_ticker; DROP INDEX trade_by_age;"
	                               " DROP INDEX filing_owner_by_accession;"
	                               " DROP INDEX cluster_by_ticker; PRAGMA user_version = 2;"),
	                 0);
	w = s_open(dir, 0);
	assert_non_null(window_lookup(w, "k1"));
	window_close(&w);
	assert_int_equal(test_sql_int(path,
	                              "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	                              " AND name LIKE '%\\_by\\_%' ESCAPE '\\'"),
	                 6);
	free(dir);
}

/* A read of the file that fails is not taken for "absent": the batch's
 * commit fails, and says why. */
static void test_a_failed_read_fails_the_commit(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	char path[1024];

	(void)state;
	s_put_judged(w, s_row("k1", "A-1", "g1", "fp1", false, 20000));
	s_commit(w);
	snprintf(path, sizeof(path), "%s/decider.sqlite", dir);
	assert_int_equal(test_sql_exec(path, "ALTER TABLE trade RENAME TO trade_gone"), 0);
	assert_null(window_lookup(w, "k1"));
	s_put_judged(w, s_row("k2", "A-1", "g1", "fp2", false, 20000));
	assert_int_equal(window_commit(w, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "decider.sqlite"));
	assert_non_null(strstr(err, "trade"));
	assert_int_equal(window_held(w), 0);
	window_close(&w);
	free(dir);
}

/* Rows of one filing share one copy of each string (the window is meant
 * to hold 10^4 rows in a few MB), and a shared string outlives the rows
 * that go before the others. */
static void test_rows_of_a_filing_share_their_strings(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	char owner[16], acc[16];
	struct win_trade *a, *b, *c;

	(void)state;
	/* the caller's strings are copies in distinct buffers */
	snprintf(owner, sizeof(owner), "Doe John");
	snprintf(acc, sizeof(acc), "A-1");
	a = s_put_judged(w, s_row("k1", acc, "g1", "fp1", false, 20000));
	b = s_put_judged(w, s_row("k2", "A-1", "g1", "fp2", false, 20000));
	assert_ptr_not_equal(win_accession(a), acc);
	assert_ptr_equal(win_accession(a), win_accession(b));
	assert_ptr_equal(win_grp(a), win_grp(b));
	assert_ptr_equal(a->ticker, b->ticker);
	assert_ptr_equal(a->group, b->group);
	assert_int_equal(window_use(w, a, "intent-1"), 0);
	assert_int_equal(window_use(w, b, "intent-1"), 0);
	assert_ptr_equal(a->used_by, b->used_by);
	s_commit(w);
	/* a later row with other content in its own buffer */
	c = s_put_judged(w, s_row("k3", "A-2", "g2", "fp3", false, 20010));
	c->ref_time = 20010 * 86400;
	s_commit(w);
	/* the first two go: what the third shares with them stays */
	assert_int_equal(window_prune(w, 20005 * 86400, 0, err, sizeof(err)), 0);
	s_commit(w);
	assert_null(window_lookup(w, "k1"));
	assert_null(window_lookup(w, "k2"));
	c = window_lookup(w, "k3");
	assert_non_null(c);
	assert_string_equal(window_detail(w, c, err, sizeof(err))->owner, owner);
	assert_string_equal(c->ticker, "ACME");
	assert_string_equal(win_accession(c), "A-2");
	window_close(&w);
	w = s_open(dir, 0);
	c = window_lookup(w, "k3");
	assert_non_null(c);
	assert_string_equal(window_detail(w, c, err, sizeof(err))->owner, "Doe John");
	window_close(&w);
	free(dir);
}

/* The indexes survive many deletions: after pruning every other day,
 * every kept key, group and fingerprint is still found, and no pruned one. */
static void test_indexes_survive_heavy_pruning(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	char key[32], grp[32], fp[32], acc[32];

	(void)state;
	for (int i = 0; i < 3000; i++) {
		struct win_trade *r;

		/* groups of three rows of one filing: even rows with even, odd
		 * rows (amendments) with odd, as a group is one filing */
		snprintf(key, sizeof(key), "k%05d", i);
		snprintf(grp, sizeof(grp), "g%05d", (i % 2) * 10000 + i / 6);
		snprintf(fp, sizeof(fp), "fp%05d", i / 2);
		snprintf(acc, sizeof(acc), "A-%d", (i % 2) * 10000 + i / 6);
		r = s_put_judged(w, s_row(key, acc, grp, fp, i % 2 == 1, 20000));
		/* odd rows are newer (and amendments repeating even rows: the
		 * same trade day, so the same fingerprint) */
		r->ref_time = (int64_t)(20000 + i % 2) * 86400;
		if (i % 500 == 499)
			s_commit(w);
	}
	s_commit(w);
	/* each amendment repeats the row before it */
	for (int i = 1; i < 3000; i += 2) {
		struct win_trade *q;

		snprintf(key, sizeof(key), "k%05d", i);
		q = window_find_repeat(w, window_lookup(w, key));
		assert_non_null(q);
		snprintf(key, sizeof(key), "k%05d", i - 1);
		assert_string_equal(q->key, key);
	}
	assert_int_equal(window_prune(w, 20001 * 86400, 0, err, sizeof(err)), 0);
	s_commit(w);
	assert_int_equal(window_size(w), 1500);
	for (int i = 0; i < 3000; i++) {
		struct win_trade *r;

		snprintf(key, sizeof(key), "k%05d", i);
		r = window_lookup(w, key);
		if (i % 2 == 0) {
			assert_null(r);
			continue;
		}
		assert_non_null(r);
		assert_string_equal(r->key, key);
		snprintf(grp, sizeof(grp), "g%05d", (i % 2) * 10000 + i / 6);
		assert_string_equal(r->group->grp, grp);
		/* the even row it repeated is gone: nothing earlier */
		assert_null(window_find_repeat(w, r));
	}
	window_close(&w);
	free(dir);
}

/* The outbox row waits in memory for the batch's commit: found at once,
 * forgotten by a rollback, on disk after a commit. */
static void test_outbox_is_written_with_the_batch(void **state)
{
	char *dir = test_tmpdir();
	window_t *w = s_open(dir, 0);
	void *rec = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(window_outbox_put(w, "id-1", "abc", 3, 100, err, sizeof(err)), 0);
	assert_int_equal(window_outbox_get(w, "id-1", &rec, &len, err, sizeof(err)), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(rec, "abc", 3);
	free(rec);
	assert_int_equal(window_rollback(w, err, sizeof(err)), 0);
	assert_int_equal(window_outbox_get(w, "id-1", &rec, &len, err, sizeof(err)), 0);

	assert_int_equal(window_outbox_put(w, "id-2", "xy", 2, 100, err, sizeof(err)), 0);
	s_commit(w);
	window_close(&w);
	w = s_open(dir, 0);
	assert_int_equal(window_outbox_get(w, "id-2", &rec, &len, err, sizeof(err)), 1);
	assert_int_equal(len, 2);
	assert_memory_equal(rec, "xy", 2);
	free(rec);
	assert_int_equal(window_outbox_get(w, "id-1", &rec, &len, err, sizeof(err)), 0);
	window_close(&w);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_after_a_prune_and_a_rollback),
		cmocka_unit_test(test_a_cluster_alone_is_a_change),
		cmocka_unit_test(test_cluster_candidates_of_a_long_ticker),
		cmocka_unit_test(test_eviction_after_a_failed_commit),
		cmocka_unit_test(test_open_creates_schema_and_refuses_a_newer_one),
		cmocka_unit_test(test_upsert_keeps_use_and_first_batch_and_survives_reopen),
		cmocka_unit_test(test_rollback_and_close_forget_the_uncommitted),
		cmocka_unit_test(test_group_rows_are_in_key_order),
		cmocka_unit_test(test_find_repeat_rules),
		cmocka_unit_test(test_fingerprint_is_built_from_the_row),
		cmocka_unit_test(test_rows_keep_their_own_identity_in_a_shared_group),
		cmocka_unit_test(test_trade_date_is_the_days_date),
		cmocka_unit_test(test_group_copy_matches_cik_else_name),
		cmocka_unit_test(test_signals_clusters_and_pruning_persist),
		cmocka_unit_test(test_eviction_keeps_the_file_bounded),
		cmocka_unit_test(test_rows_of_a_filing_share_their_strings),
		cmocka_unit_test(test_indexes_survive_heavy_pruning),
		cmocka_unit_test(test_outbox_is_written_with_the_batch),
		cmocka_unit_test(test_memory_holds_one_batch),
		cmocka_unit_test(test_schema_2_file_gets_its_indexes),
		cmocka_unit_test(test_a_failed_read_fails_the_commit),
	};

	log_init("test", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
