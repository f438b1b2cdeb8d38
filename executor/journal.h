/*
 * journal.h - the executor's memory: one row per intent it ever received,
 * in state_dir/executor.sqlite (WAL, synchronous FULL: a commit is on disk
 * before the function returns, so what the journal says survives kill -9
 * and power loss).
 *
 * States of an entry, and who moves it:
 *
 *   pending   received and not finished.  attempts counts the submissions
 *             begun; sent_at_ms is when the last one began (wall clock).
 *             in_doubt says what is known of the order at the broker:
 *               0  nothing was ever sent (or the entry is finished);
 *               1  a submission is about to be sent or got no usable
 *                  answer, and no lookup has answered since: new input
 *                  waits (journal_in_doubt counts these);
 *               2  a lookup by client id found no order.  Not proof: a
 *                  request the client gave up on may still land at the
 *                  broker.  The entry is looked up again before anything
 *                  is sent for it, and that "not found" is believed only
 *                  from a lookup begun at least the settle time
 *                  (executor.doubt_settle_ms) after sent_at_ms; input
 *                  does not wait for it.
 *             An entry in doubt (1 or 2) is never sent again without a
 *             lookup first.
 *   held      the market is closed: nothing is sent; wake_at says when to
 *             look again (the next open, or the intent's expiry).  An
 *             entry sent before keeps in_doubt 2 (looked up on waking).
 *   submitted, filled, rejected   the broker's final answer (filled and
 *             submitted hold broker_order_id).
 *   blocked, dry_run, error       finished without an order at the broker.
 *
 *     (new) --add--> pending --begin_send--> pending, in_doubt 1
 *     pending, in_doubt 1 or 2 --not_found (lookup: none)--> in_doubt 2
 *     pending, in_doubt 2 --begin_send (after a believed lookup)--> 1
 *     pending (in_doubt 0 or 2) --hold--> held --wake--> pending
 *     pending, held --finish--> submitted | filled | rejected | blocked |
 *                               dry_run | error
 *
 * Every broker answer to a submission or a lookup is appended to the
 * answers table in the same transaction as the state change it causes.
 */
#ifndef COATTAIL_JOURNAL_H
#define COATTAIL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* Longest intent id the executor accepts. */
#define JOURNAL_ID_MAX 128

enum journal_state {
	JS_PENDING = 0,
	JS_HELD,
	JS_SUBMITTED,
	JS_FILLED,
	JS_REJECTED,
	JS_BLOCKED,
	JS_DRY_RUN,
	JS_ERROR,
};

typedef struct journal journal_t;

struct journal_entry {
	char id[JOURNAL_ID_MAX + 1];
	char client_id[64];
	record_t intent; /* the intent as received (REC_INTENT) */
	enum journal_state state;
	int attempts;   /* submissions begun */
	int failures;   /* tries in a row that got no usable answer */
	bool in_doubt;  /* a submission's outcome is unknown (in_doubt 1 or 2) */
	bool looked_up; /* in_doubt 2: a lookup since found no order */
	char broker[16];
	char broker_order_id[128];
	char broker_status[32];
	double qty, price, notional; /* what was sent or filled; NAN unknown */
	char day[11];                /* trading day the order counts against, "" */
	char reason[512];
	int64_t wake_at;     /* held: UTC seconds to look again */
	int64_t received_at; /* UTC seconds */
	int64_t sent_at_ms;  /* wall-clock ms the last submission began; 0: none */
};

/* One broker answer, for the answers table. */
struct journal_answer {
	const char *op;      /* "submit", "lookup" */
	const char *outcome; /* "ok", "exists", "not_found", "rejected", "ambiguous" */
	long http_status;    /* 0 when none */
	const char *detail;  /* broker order id, status or error text */
};

const char *journal_state_name(enum journal_state s);
/* -1 for an unknown name. */
int journal_state_from_name(const char *s);
/* The order status an entry in a final state reports. */
enum order_status journal_state_order_status(enum journal_state s);

/* Open or create state_dir/executor.sqlite; NULL with err filled. */
journal_t *journal_open(const char *state_dir, char *err, size_t errlen);
/* Closes; an open batch is rolled back. */
void journal_close(journal_t **j);

/*
 * A batch: one transaction (one fsync at its commit) around any number of
 * the calls below.  Inside it each call is a savepoint: a call that fails
 * leaves nothing behind and the batch goes on; nothing is durable, or
 * visible to another connection, until journal_batch_commit returns 0.
 * A failed commit rolls the whole batch back.  The caller must not talk to
 * a broker about anything first journalled in an open batch: the
 * write-ahead rule needs the entry on disk first.
 *
 * durable false: the commit is not fsynced (synchronous = NORMAL, left
 * so for the next lazy batch; the first write outside a lazy batch sets
 * FULL again before it runs).  It survives a kill of the process, not a crash of the
 * machine, which may undo the batch (and only it and later ones: what was
 * committed durably before stays).  Only for what no broker ever hears
 * of: a dry run's decisions.
 */
int journal_batch_begin(journal_t *j, bool durable, char *err, size_t errlen);
int journal_batch_commit(journal_t *j, char *err, size_t errlen);
void journal_batch_abort(journal_t *j);
bool journal_in_batch(const journal_t *j);

/* A number that changes whenever the journal may have been written, so a
 * caller can keep answers (what is due, what is in doubt) until it moves. */
uint64_t journal_generation(const journal_t *j);

/* The connection's PRAGMA synchronous (1 NORMAL, 2 FULL), or -1: a lazy
 * batch leaves NORMAL behind until the next durable write (tests). */
int journal_synchronous(journal_t *j);

/*
 * Journal a new intent as pending (committed with fsync before returning).
 * Returns 0 when added, 1 when an entry with that id already exists (the
 * journal is unchanged), -1 on an error (err filled).
 */
int journal_add(journal_t *j, const intent_t *in, const char *client_id, const char *broker,
                int64_t now, char *err, size_t errlen);

/* Load an entry; 0, 1 when absent, -1 on an error.  Release with
 * journal_entry_free(). */
int journal_get(journal_t *j, const char *id, struct journal_entry *e, char *err, size_t errlen);

/* Fill e as journal_get would read the entry journal_add(in, client_id,
 * broker, now) has just created, without reading it back (the intent is
 * copied, not decoded from its JSON payload).  0, or -1 out of memory.
 * Release with journal_entry_free(). */
int journal_entry_fresh(struct journal_entry *e, const intent_t *in, const char *client_id,
                        const char *broker, int64_t now);
void journal_entry_free(struct journal_entry *e);

/*
 * About to submit: attempts + 1, in_doubt = 1, sent_at_ms recorded (wall
 * clock, ms: it must mean the same after a restart, so not the monotonic
 * clock), and the order's day and size recorded (they count against the
 * daily limits from now on).  The caller sends only after this returned 0.
 */
int journal_begin_send(journal_t *j, const char *id, const char *day, double qty, double notional,
                       int64_t now, int64_t sent_at_ms, char *err, size_t errlen);

/* Record the day and size an order counts with, without sending (a dry
 * run counts against the limits like a real order). */
int journal_set_usage(journal_t *j, const char *id, const char *day, double qty, double notional,
                      int64_t now, char *err, size_t errlen);

/*
 * A lookup found no order (answer a): in_doubt = 2 (see the top), so the
 * entry no longer holds input back but is still looked up before anything
 * is sent; failures + add_failures; due again at retry_at_ms
 * (time_mono_ms() clock; 0: now); reason, when not NULL, replaces the
 * entry's.  Only for an entry in doubt (1 or 2).
 */
int journal_not_found(journal_t *j, const char *id, const struct journal_answer *a,
                      int add_failures, int64_t retry_at_ms, const char *reason, int64_t now,
                      char *err, size_t errlen);

/* No usable answer, or a check failed: try again at retry_at_ms
 * (time_mono_ms() clock); failures + 1; in_doubt unchanged. */
int journal_retry_later(journal_t *j, const char *id, const struct journal_answer *a,
                        int64_t retry_at_ms, const char *reason, int64_t now, char *err,
                        size_t errlen);

/* Market closed: held until wake_at (UTC seconds).  Refused for an entry
 * in doubt 1 (its outcome is unknown); in_doubt 2 stays, so the entry is
 * looked up again when it wakes. */
int journal_hold(journal_t *j, const char *id, int64_t wake_at, const char *reason, int64_t now,
                 char *err, size_t errlen);
/* A held entry is due: back to pending (nothing was sent while held). */
int journal_wake(journal_t *j, const char *id, int64_t now, char *err, size_t errlen);

/* Final state.  broker_order_id and broker_status may be NULL; qty and
 * price NAN when unknown.  in_doubt = 0. */
int journal_finish(journal_t *j, const char *id, enum journal_state st,
                   const struct journal_answer *a, const char *broker_order_id,
                   const char *broker_status, double qty, double price, const char *reason,
                   int64_t now, char *err, size_t errlen);

/* Orders counted against `day`: entries submitted, filled, dry_run, or sent
 * and pending; and the sum of their notional (USD), added up in the order
 * the entries were journalled.  The entry `except` (may be NULL) is left
 * out: an intent sent again is not its own usage.  The last day asked for
 * is kept in memory and moved by the writes, so asking again costs no scan
 * of the day (one look at `except`). */
int journal_usage(journal_t *j, const char *day, const char *except, int64_t *orders,
                  double *notional, char *err, size_t errlen);

/* Entries pending or held, of any broker (kept in memory; the file is
 * counted once, and again after a rolled-back batch); -1 on an error.
 * While it is 0 nothing is due and nothing is in doubt. */
int64_t journal_open_entries(journal_t *j);

/* Forget what is kept in memory (the open count, the day's usage): the
 * next call reads the file (tests compare the two). */
void journal_forget(journal_t *j);

/* Record an answer that changes no state (a submit answered ambiguously,
 * before the lookup that decides). */
int journal_note(journal_t *j, const char *id, const struct journal_answer *a, int64_t now,
                 char *err, size_t errlen);

/* Entries of broker that are pending (not held, not finished). */
int64_t journal_pending(journal_t *j, const char *broker);

/* Entries of broker in doubt and not looked up since (in_doubt 1: input
 * waits while there are any). */
int64_t journal_in_doubt(journal_t *j, const char *broker);

/* Make every pending entry due now (after a restart the old timers mean
 * nothing). */
int journal_reset_timers(journal_t *j, char *err, size_t errlen);

/*
 * Up to max ids of broker's entries due for work: pending entries whose
 * retry time is <= now_ms (those in doubt 1 first), then held entries whose
 * wake_at <= now_s.  ids[i] must hold JOURNAL_ID_MAX + 1 bytes.  Returns the
 * count, or -1.
 */
int journal_due(journal_t *j, const char *broker, int64_t now_ms, int64_t now_s,
                char (*ids)[JOURNAL_ID_MAX + 1], int max);

/* When work is next due: the earliest pending retry (mono ms, INT64_MAX
 * when none) and the earliest held wake_at (UTC s, INT64_MAX when none). */
void journal_next_due(journal_t *j, const char *broker, int64_t *retry_ms, int64_t *wake_s);

/* Entries journalled for other brokers that are not finished (a config
 * change between runs); they are left alone and reported at start. */
int64_t journal_foreign_unfinished(journal_t *j, const char *broker);

/* Number of entries in a state (any broker). */
int64_t journal_count(journal_t *j, enum journal_state s);
/* Number of answers recorded for an intent. */
int64_t journal_answer_count(journal_t *j, const char *id);

#endif
