/*
 * window.h - the decider's memory: the trades of the lookback window and
 * what was already used.
 *
 * state_dir/decider.sqlite holds the window and is its truth; memory holds
 * one batch: the rows, groups, signals and clusters the batch read from the
 * file (each lookup reads what it needs once a batch, through an index) or
 * changed.  window_commit() writes the changes in one transaction and
 * forgets the batch; window_rollback() forgets it unwritten.  So memory
 * does not grow with the window: a batch of a few candidate trades costs a
 * few KB whatever the file holds (it was ~600 bytes a row for every row of
 * the window, 6 MB at 10,000 rows, and the window had to forget rows early
 * to stay small).  A read that fails makes the batch's commit fail.
 *
 * Tables (schema version 3; 3 adds the indexes the reads use):
 *   trade         every candidate trade (an executive's P or S that passed
 *                 the per-trade filters), by key, with the outcome it got,
 *                 the intent it is evidence of, or why it is a copy;
 *   filing_owner  one row per original signal group (source, accession,
 *                 owner, side) and the intent it produced, so a later row
 *                 of the same filing, or the same filing seen through
 *                 another source, adds nothing;
 *   signal        every intent emitted (id, rule, side, ticker, reason,
 *                 evidence);
 *   cluster       every cluster_buy signalled, with the span of trade days
 *                 its members cover;
 *   outbox        (schema 2) every intent emitted, as sent, to send again.
 *
 * Rows older than the retention are pruned by window_prune().  Beyond
 * max_trades rows in the file the oldest judged rows are deleted at a
 * commit (with a warning): the file stays bounded, at the price of
 * forgetting (a forgotten row's group and intent are still remembered, so
 * nothing is decided twice; cluster_buy sees fewer purchases).  A row's
 * words (owner, title, issuer, instrument) are read back only when a
 * reason or an intent needs them (window_detail); its fingerprint is
 * rebuilt from its fields (window_fp).  SQLite's page cache is capped at
 * WINDOW_CACHE_KIB.
 */
#ifndef COATTAIL_WINDOW_H
#define COATTAIL_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

typedef struct window window_t;
struct win_group;

/*
 * What a trade says that no rule reads while judging it: who and what,
 * in words, for an intent's reason and instrument.  A row holds it only
 * until the commit that writes it; afterwards window_detail() reads it
 * back from the file on the rare occasion a reason or an intent needs an
 * older row's.  Any field may be NULL (owner and issuer never are for a
 * stored row).
 */
struct win_detail {
	const char *owner, *title, *issuer;
	const char *vticker, *figi, *isin; /* from the instrument, or NULL */
};

/* A trade as window_put takes it: the caller's strings, copied. */
struct win_put {
	const char *key;
	uint64_t chash; /* hash of the transaction's content: a changed row is re-judged */
	const char *source;
	const char *accession; /* NULL when the source did not show it */
	const char *grp;       /* the signal group (see rules.c) */
	const char *owner_cik, *owner_key;
	const char *ticker;
	struct win_detail det;
	double shares, price, value, shares_after; /* NAN = unknown */
	int64_t trade_day;                         /* days since 1970-01-01 */
	int64_t ref_time; /* filed_at, else the trade date's midnight UTC: ages the row */
	int8_t srank;     /* source preference, lower first: edgar 0, openinsider 1, ... */
	int8_t side;      /* SIDE_BUY or SIDE_SELL */
	int8_t direct;    /* -1 unknown, 0 indirect, 1 direct */
	bool amendment;
};

/*
 * One stored trade, as memory holds it for a batch: what the rules read
 * while judging.  What all
 * rows of a group share (source, accession, group name, owner CIK) is its
 * group's (win_source() and the like); the trade date is its day number's
 * (window_trade_date()); the words (struct win_detail) stay in the file;
 * the other strings are interned (one reference-counted copy per distinct
 * value: the rows of one owner or ticker share theirs, an intent id is
 * shared by its signal, group and evidence), the key lives in the row's
 * own allocation.  Everything here belongs to the window: never freed or
 * changed by a caller, and valid until the next commit or rollback (the
 * next batch reads the row again).
 */
struct win_trade {
	uint64_t chash; /* hash of the transaction's content: a changed row is re-judged */
	const char *owner_key;
	const char *ticker;
	const struct win_detail *det; /* the words until written, or read back; else NULL */
	const char *dup_of;           /* why this row is a copy of another, or NULL */
	const char *used_by;          /* id of an intent this row is evidence of, or NULL */
	const char *outcome;          /* the drop reason it got, or NULL */
	double shares, price, value, shares_after; /* NAN = unknown */
	double gvalue;       /* value of the row's whole group, NAN = unknown */
	int64_t ref_time;    /* filed_at, else the trade date's midnight UTC: ages the row */
	int64_t first_batch; /* the batch it was first stored in (kept by upserts) */
	int32_t trade_day;   /* days since 1970-01-01 */
	int8_t srank;        /* source preference, lower first: edgar 0, openinsider 1, ... */
	int8_t side;         /* SIDE_BUY or SIDE_SELL */
	int8_t direct;       /* -1 unknown, 0 indirect, 1 direct */
	bool amendment;
	bool pending;  /* received since the last flush, not judged yet */
	bool has_figi; /* its instrument has a FIGI */

	/* the window's; not for callers */
	bool in_fp, in_ticker; /* on those lists */
	bool dirty;            /* to be written at the commit */
	bool fresh;            /* its content is not in the file yet */
	bool dead;             /* pruned, freed after the commit */

	void *tag; /* the caller's, never stored; NULL when a row is loaded or created */

	/* the window's links; not for callers */
	struct win_group *group;         /* never NULL for a row the window holds */
	const struct win_ident *ident;   /* its own, when not its group's (see below) */
	struct win_trade *gprev, *gnext; /* rows of the group */
	struct win_trade *fprev, *fnext; /* rows whose fingerprints share fph */
	struct win_trade *tprev, *tnext; /* purchases of the same ticker */
	struct win_trade *aprev, *anext; /* every row, oldest first */
	uint64_t fph;                    /* hash of window_fp(): the fps index */
	char key[];                      /* the trade's key, in the row's allocation */
};

/*
 * A signal group: the rows sharing a grp, and, once judged as an original,
 * its memory (registered) and the intent it made.  grp, source, accession
 * and owner_cik live in the group's own allocation (its rows read them
 * through it); owner_key and intent are interned.
 */
struct win_group {
	const char *grp;
	const char *source;
	const char *accession; /* NULL for an accession-less single-row group */
	const char *owner_cik, *owner_key;
	const char *intent; /* NULL when it made none */
	int64_t ref_time;
	struct win_trade *rows;
	struct win_group *acc_prev, *acc_next; /* registered groups of one accession */
	uint32_t nrows;
	int8_t side;
	bool registered; /* remembered in filing_owner */
	bool dirty;
};

/*
 * What the rows of a group share, read through it.  A group's name is
 * made of its source, accession and owner (rules.c), so its rows agree on
 * them; only names built from strings that themselves hold the separator
 * '|' could be equal for two different trades, and such a row keeps its
 * own (ident), so each row reads back exactly what it was given.
 */
struct win_ident {
	const char *source, *accession, *owner_cik;
};

static inline const char *win_grp(const struct win_trade *r)
{
	return r->group->grp;
}

static inline const char *win_source(const struct win_trade *r)
{
	return r->ident != NULL ? r->ident->source : r->group->source;
}

static inline const char *win_accession(const struct win_trade *r)
{
	return r->ident != NULL ? r->ident->accession : r->group->accession;
}

static inline const char *win_owner_cik(const struct win_trade *r)
{
	return r->ident != NULL ? r->ident->owner_cik : r->group->owner_cik;
}

/* r's trade date, "YYYY-MM-DD", into buf; returns buf. */
char *window_trade_date(const struct win_trade *r, char buf[11]);

struct win_cluster {
	char id[40];
	char ticker[64];
	int64_t first_day, last_day;
};

/* Open (creating, or bringing its schema up to date) state_dir/decider.sqlite,
 * whose rows beyond max_trades (0: no bound) are forgotten at commits;
 * NULL with err. */
window_t *window_open(const char *state_dir, size_t max_trades, char *err, size_t errlen);
/* Forget an uncommitted batch and close.  Safe on NULL / *w == NULL. */
void window_close(window_t **w);

/* Write every change since the last commit in one transaction, then forget
 * the batch (every row, group and cluster pointer the window gave out); a
 * failure, or a read of the batch that failed, leaves the window as the
 * file has it (the batch is forgotten unwritten).  Every row put must have
 * been judged (window_mark): the file holds no pending rows. */
int window_commit(window_t *w, char *err, size_t errlen);
/* Forget every change since the last commit. */
int window_rollback(window_t *w, char *err, size_t errlen);
/* Forget what the batch only read, when it changed nothing (an idle
 * decider's repeats read rows without a commit to follow); otherwise
 * nothing happens. */
void window_drop_reads(window_t *w);

/*
 * r's words: the ones it came with until they are written, then read back
 * from the file (and kept until the next commit or rollback).  The
 * window's: valid until then, never changed by a caller.  NULL with err
 * when out of memory or the file cannot be read.
 */
const struct win_detail *window_detail(window_t *w, struct win_trade *r, char *err, size_t errlen);

/* The stored row with this key, or NULL. */
struct win_trade *window_lookup(window_t *w, const char *key);
/*
 * Upsert t (its strings are copied) by key and mark it pending; used_by and
 * first_batch of an existing row survive, outcome and dup_of are cleared
 * (it is judged again).  Returns the stored row, or NULL when out of memory.
 */
struct win_trade *window_put(window_t *w, const struct win_put *t);
/* The rows of a group, ordered by key, into *rows (malloc'd array of
 * pointers, *n of them); 0, or -1 when out of memory. */
int window_group_rows(window_t *w, const char *grp, struct win_trade ***rows, size_t *n);
/* Record a judged row: pending = 0, with its group's value, copy note and
 * outcome (each may be NULL / NAN); and, when id is not NULL, the intent it
 * is evidence of (an earlier one is kept).  0, or -1 out of memory. */
int window_mark(window_t *w, struct win_trade *r, double gvalue, const char *dup_of,
                const char *outcome, const char *id);
/* Record that a row is evidence of intent id (kept when already set). */
int window_use(window_t *w, struct win_trade *r, const char *id);

/*
 * The row's fingerprint, the transaction as every source and a 4/A would
 * state it: "ticker|owner key|trade date|code|shares|price", shares and
 * price with 4 decimals, "-" for an unknown price, the code P for a
 * purchase and S for a sale.  Written into buf (len bytes, cut there;
 * 1024 hold any valid trade's); returns the length it needs.  Not kept in
 * memory: the index holds its hash, and equal hashes are told apart by
 * building both.
 */
size_t window_fp(const struct win_trade *r, char *buf, size_t len);

/*
 * An earlier row in another filing with r's fingerprint, where one of the
 * two is an amendment or lacks an accession: the same transaction again.
 * "Earlier" is a fixed order that re-sending a row does not change: the
 * batch a row was first stored in, then within one batch the order the
 * flush judges groups in (originals before amendments, source rank, group,
 * key).  The first such row, or NULL.
 */
struct win_trade *window_find_repeat(window_t *w, const struct win_trade *r);

/* The registered group grp, or NULL. */
struct win_group *window_group_get(window_t *w, const char *grp);
/*
 * Another registered group for the same accession, side and owner: the
 * same owner_cik when both have one, else the same owner key.  Groups that
 * made an intent are preferred, then the first by grp.  NULL when none.
 */
struct win_group *window_group_copy(window_t *w, const char *grp, const char *accession, int side,
                                    const char *owner_cik, const char *owner_key);
/* Register a group (accession not NULL); an intent once set is kept.
 * 0, or -1 when out of memory. */
int window_group_put(window_t *w, const char *grp, const char *source, const char *accession,
                     int side, const char *owner_cik, const char *owner_key, const char *intent,
                     int64_t ref_time);

/* 1 when an intent with this id was emitted, 0 when not, -1 when the file
 * cannot be read (then the batch's commit fails). */
int window_signal_exists(window_t *w, const char *id);
/*
 * Why a read of the file this batch made failed ("decider.sqlite: ...",
 * the first one), or NULL when none did.  A lookup that could not read
 * answers from memory alone, so what it did not find (a repeat, a copy, a
 * signalled group) may still be in the file: nothing may be decided on
 * it that leaves the process before the commit, which fails.
 */
const char *window_read_error(const window_t *w);
/* true (and noted) when intent id, remembered, was not sent again within
 * the last every_s seconds of `now`; memory only. */
bool window_resend_due(window_t *w, const char *id, int64_t now, int every_s);
/* Remember an intent; 0, or -1 when out of memory. */
int window_signal_put(window_t *w, const intent_t *in);
/* Number of intents remembered (-1 when the file cannot be read). */
long window_signal_count(window_t *w);

/* The outbox: each intent as it was sent (record bytes, msgpack), so a
 * repeat of its evidence can send it again (a kill may have lost it in a
 * ZeroMQ queue; the executor journals by id, so a copy is harmless).
 * put keeps the row for the next window_commit, which writes it in the
 * batch's transaction (a rollback forgets it); get also finds rows not
 * committed yet.  Pruned with the signals.  put: 0 or -1; get: 1 found
 * (*rec malloc'd), 0 none, -1 error. */
int window_outbox_put(window_t *w, const char *id, const void *rec, size_t len, int64_t created_at,
                      char *err, size_t errlen);
int window_outbox_get(window_t *w, const char *id, void **rec, size_t *len, char *err,
                      size_t errlen);

/* Judged, non-copy purchases of ticker with trade_day in [from, to],
 * ordered by trade_day then key, into *rows (malloc'd); 0 or -1. */
int window_cluster_candidates(window_t *w, const char *ticker, int64_t from_day, int64_t to_day,
                              struct win_trade ***rows, size_t *n);
/* Copies of the clusters signalled for ticker, by first_day; 0 or -1. */
int window_clusters(window_t *w, const char *ticker, struct win_cluster **out, size_t *n);
/* Upsert a cluster by id; 0 or -1. */
int window_cluster_put(window_t *w, const struct win_cluster *c);

/* Forget trades and groups whose ref_time is before cutoff_time, signals
 * created before it, and clusters whose last day is before cutoff_day; the
 * file follows at the commit.  Pending rows are kept.  0 or -1. */
int window_prune(window_t *w, int64_t cutoff_time, int64_t cutoff_day, char *err, size_t errlen);

/* The number of the batch being gathered (rows record the first). */
int64_t window_batch(const window_t *w);
/* Rows in the file as of the last commit (a count: for tests). */
size_t window_size(window_t *w);
/* Rows memory holds now: the batch's (for tests). */
size_t window_held(const window_t *w);

#endif
