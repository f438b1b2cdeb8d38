/*
 * rules.h - the decider's engine: trades in, intents and drop reasons out.
 *
 * The stage's loop owns the sockets; it feeds every trade to
 * decider_handle_trade() and calls decider_flush() whenever its input is
 * idle (and at EOF, and before exit).  Per-trade filters (code, recency,
 * 10b5-1 plan, market cap, executive title) answer at once, and so does a
 * repeat of a trade already judged (one indexed read of the window, no
 * write).  The trades that pass wait in the window (window.h:
 * state_dir/decider.sqlite, memory holding one batch of it) and are
 * judged together at the next flush,
 * because the rows of one filing arrive together and make one signal; the
 * flush writes everything in one SQLite transaction.  A batch that reaches
 * batch_max flushes by itself.
 *
 * Rules (issue 5; each switchable, defaults in brackets):
 *
 *   executive_trade [on]  An open-market purchase (P) -> buy, sale (S) ->
 *     sell, by an executive (title.h), when the signal is more than
 *     min_fraction [0.01] of the holdings before it.  The signal is a group:
 *     the transactions of one filing (accession) by one owner on one side,
 *     from one source.  Its fraction is total shares over holdings before
 *     the group; holdings after the group are the largest shares_after of a
 *     purchase group (the smallest of a sale group), summed over direct,
 *     indirect and unknown holdings, so before = after - total for P and
 *     after + total for S.  A sale of the whole stake is 100%; a purchase
 *     with nothing held before is a new position and passes.
 *     fraction_of = after reproduces the original (total / shares_after); a
 *     sale that leaves nothing, where the original divided by zero, counts
 *     as the whole holding and passes.  Unknown shares_after: the group
 *     passes only when min_fraction is 0.
 *   cluster_buy [on]  At least min_executives [3] distinct executives (by
 *     owner key, title.h) buy the same ticker on trade dates at most
 *     window_days [7] apart: one buy intent when the cluster forms, with its
 *     trades as evidence.  Purchases that fall within window_days of a
 *     signalled cluster's span join it (and stretch it) and add nothing.
 *   recency [3 days]  A trade filed (or, without filed_at, traded) more
 *     than days before now is ignored: filed_at older than now - days*86400,
 *     or a trade date more than `days` calendar days (UTC) before now's.
 *   market_cap [max 10e9 USD when known; unknown allowed]
 *   planned [excluded]  10b5-1 trades carry no news.
 *   min_value [0 USD]  the value of the signal group (the sum of its rows'
 *     value, else shares x price; unknown when one is unknown), so split
 *     fills count together; for cluster_buy, each member's group.
 *
 * Titles decide who is an executive, not roles: the Form 4 officer box
 * covers every Section 16 officer (vice presidents, controllers), wider
 * than the rule, and a title like "See Remarks" says nothing; an EDGAR
 * trade with the officer box and a title is matched by its title.  The
 * executive words are configurable (executive_trade.titles) and also say
 * who counts for cluster_buy.
 *
 * Never twice.  The window remembers every group and the intent it made:
 * a later row of a group that already made an intent adds nothing; the same
 * filing seen through another source (same accession, side, and owner_cik
 * when both sides have one, else the same owner key) is a copy and adds
 * nothing; a 4/A row repeating a seen transaction (ticker, owner key, trade
 * date, code, shares, price) of another filing is not new; a repeated trade
 * key answers from memory.  Within one flush groups are judged in a fixed
 * order (originals before amendments, edgar before openinsider before
 * finviz, then by group), so the same set of trades gives the same intents
 * and ids whatever order they arrived in.
 *
 * A stream, not a day.  Rows of one group that arrive in one batch are
 * judged together.  A group is judged again, as it then stands, whenever a
 * new row of it arrives: one below the threshold may pass later, with all
 * its rows as evidence; once a group made an intent, its later rows (and
 * copies of it) add nothing.  A 4/A about a trade older than the retention
 * (the memory cannot tell whether it is new) is dropped.
 *
 * Each intent: qty or notional (sizing.h); ref_price = the group's
 * volume-weighted price (executive_trade) or the newest member's price
 * (cluster_buy); created_at = now; expires_at = now + validity_hours [48];
 * reason = one sentence ("CFO Doe John bought 12,000 shares (2.4% of
 * holdings) of ACME on 2026-04-22").  Every trade that makes no intent gets
 * one drop reason naming what stopped it ("not an executive: Director",
 * "0.4% of holdings (more than 1% needed)", "filed 5 days ago (more than
 * 3)", "10b5-1 plan", "already used: same transaction seen via edgar"; for
 * purchases also what cluster_buy made of it: "; cluster_buy: 2 of 3
 * executives within 7 days").
 *
 * Intent ids: the first 32 hex digits of SHA-256 over "rule\nside\n" and
 * the sorted evidence keys joined by "\n": the same evidence, the same id.
 * The same information reaching the decider as other keys (another source)
 * would hash differently, which is why the window's memory, not the id,
 * stops it.  Evidence lists at most RECORD_MAX_EVIDENCE keys (the first in
 * key order); the id covers them all.
 */
#ifndef COATTAIL_RULES_H
#define COATTAIL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "sizing.h"

enum fraction_of {
	FRACTION_OF_BEFORE, /* holdings before the trade (coattail) */
	FRACTION_OF_AFTER,  /* shares_after, as the original did */
};

/* Every switch and parameter; decider_opts_defaults() gives the issue's
 * defaults.  Strings are copied by decider_new. */
struct decider_opts {
	const char *state_dir; /* decider.sqlite lives here */

	bool exec_enabled;            /* decider.executive_trade.enabled */
	double exec_min_fraction;     /* decider.executive_trade.min_fraction */
	enum fraction_of fraction_of; /* decider.executive_trade.fraction_of */
	const char *exec_titles;      /* decider.executive_trade.titles: also cluster_buy's */

	bool cluster_enabled;       /* decider.cluster_buy.enabled */
	int cluster_min_executives; /* decider.cluster_buy.min_executives */
	int cluster_window_days;    /* decider.cluster_buy.window_days */

	bool recency_enabled; /* decider.recency.enabled */
	int recency_days;     /* decider.recency.days */

	bool mcap_enabled;       /* decider.market_cap.enabled */
	double mcap_max;         /* decider.market_cap.max */
	bool mcap_allow_unknown; /* decider.market_cap.allow_unknown */

	bool planned_exclude; /* decider.planned.exclude */

	double min_value; /* decider.min_value.usd */

	struct sizing_opts sizing; /* decider.sizing.{mode,shares,notional,fraction,equity} */

	int validity_hours; /* decider.intent.validity_hours: expires_at = now + this */
	int retention_days; /* decider.window.retention_days (raised to recency + cluster + 1) */
	int batch_max;      /* decider.window.batch_max: flush after this many pending trades */
	long max_trades;    /* decider.window.max_trades: rows kept in decider.sqlite (window.h) */
};

/* Where decisions go.  Both callbacks return 0, or -1 to abandon the batch
 * (decider_flush then rolls back and returns -1).  The records are the
 * engine's: copy what you keep. */
struct decision_sink {
	void *ctx;
	/* The intent with its msgpack encoding (mp, len bytes: record_to_msgpack's
	 * for it), which the engine makes anyway for its outbox: a stage sends
	 * those bytes as they are. */
	int (*intent)(void *ctx, const intent_t *in, const void *mp, size_t len);
	/* key: the trade's key (NULL for a trade without one); reason: one line */
	int (*drop)(void *ctx, const char *key, const char *reason);
	/* Optional: an intent emitted before (same id, same content), sent
	 * again because a repeat of its evidence arrived; a kill may have lost
	 * the first copy in a ZeroMQ queue.  NULL: never sent again. */
	int (*resend)(void *ctx, const intent_t *in);
};

typedef struct decider decider_t;

void decider_opts_defaults(struct decider_opts *o);
/* Check ranges and combinations; 0, or -1 with err filled. */
int decider_opts_check(const struct decider_opts *o, char *err, size_t errlen);

/* Open state_dir/decider.sqlite and build the engine; NULL with err filled. */
decider_t *decider_new(const struct decider_opts *o, char *err, size_t errlen);

/*
 * Take one trade at time `now`.  A trade the per-trade filters refuse, or a
 * repeat the window already judged, is answered at once through sink->drop;
 * the others wait for the next flush (which this call runs itself when
 * batch_max trades are waiting).  Returns 0, or -1 on a storage failure or a
 * sink's refusal (logged).
 */
int decider_handle_trade(decider_t *d, const trade_t *t, int64_t now,
                         const struct decision_sink *sink);
/*
 * decider_handle_trade for a trade that already passed record_validate, as
 * every record the wire delivers has (its decoders validate): the same
 * answers without checking it a second time.  A trade that would not pass
 * must not be given here.
 */
int decider_handle_valid_trade(decider_t *d, const trade_t *t, int64_t now,
                               const struct decision_sink *sink);

/*
 * Judge the waiting trades, emit intents then drop reasons, prune the
 * window (at most hourly of `now`), and commit; with nothing waiting and no
 * prune due it does nothing, so an idle loop may call it freely.  Intents go out before the commit:
 * after a crash the same trades, sent again, give the same ids, which the
 * executor already journalled.  On failure the batch is rolled back (its
 * trades will come again with the scraper's next cycle) and -1 returned.
 */
int decider_flush(decider_t *d, int64_t now, const struct decision_sink *sink);

/* Trades waiting for the next flush. */
size_t decider_pending(const decider_t *d);
/* Intents the window remembers, or -1. */
long decider_intent_count(decider_t *d);

/* Roll back what was not flushed, close the file, free, *d = NULL. */
void decider_free(decider_t **d);

#endif
