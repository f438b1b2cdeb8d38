/*
 * journal.c - the executor's SQLite journal (see journal.h).
 *
 * Each function is one transaction, so an entry's state and the answer
 * that moved it are on disk together or not at all.  The file is opened
 * with synchronous = FULL: a COMMIT returns only after the WAL is fsynced.
 * Inside a batch (journal_batch_begin) each function is a savepoint of the
 * batch's one transaction instead: all or nothing still holds per function,
 * and the batch's COMMIT makes them durable together.
 *
 * Every statement is prepared once, on first use, and kept (SQL parsing
 * was ~40% of the executor's instructions per intent when each call
 * prepared and finalized its own).
 *
 * The connection runs with PRAGMA ignore_check_constraints: the table's
 * CHECK (state IN (...)) made SQLite build and fill an 8-row temporary
 * B-tree on every INSERT and every UPDATE of the row (~20% of a dry-run
 * intent's instructions).  Every state this file writes is a literal or
 * journal_state_name() of a state journal_finish has checked, so the
 * CHECK never had anything to refuse; the schema keeps it for other
 * writers.
 *
 * Two answers are kept in memory instead of being queried per intent
 * (only this connection writes the journal, as journal_generation
 * already assumes):
 *   - the number of open (pending or held) entries, so that a caller can
 *     skip its queries for due and doubtful entries while there are none;
 *   - the usage of one day (journal_usage), summed in the order a scan of
 *     the day would sum it, so the answer is the scan's to the bit; a write
 *     that cannot be applied that way (an order leaving the day, one
 *     joining it out of order) drops it, and the next call scans again.
 * Both are updated only once the write that changes them succeeded, and
 * dropped when a batch is rolled back; dropped, they are recounted from
 * the file on the next use.
 */
#include "journal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"

/* The statements, by index into s_sql[] and journal.st[]. */
enum {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SAVEPOINT,
	Q_RELEASE,
	Q_ROLLBACK_TO,
	Q_SYNC_NORMAL,
	Q_SYNC_FULL,
	Q_ANSWER,
	Q_ADD,
	Q_GET,
	Q_BEGIN_SEND,
	Q_SET_USAGE,
	Q_NOT_FOUND,
	Q_RETRY,
	Q_HOLD,
	Q_WAKE,
	Q_FINISH,
	Q_PENDING,
	Q_IN_DOUBT,
	Q_FOREIGN,
	Q_COUNT,
	Q_ANSWER_COUNT,
	Q_DUE,
	Q_NEXT_RETRY,
	Q_NEXT_WAKE,
	Q_MEMBER,
	Q_USAGE_ROWS,
	Q_OPEN,
	Q_N,
};

/* Written with OR, not IN: SQLite builds a temporary table for every run
 * of a statement with a constant IN list of more than two items. */
static const char *const s_sql[Q_N] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT journal_step",
	[Q_RELEASE] = "RELEASE journal_step",
	[Q_ROLLBACK_TO] = "ROLLBACK TO journal_step",
	[Q_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[Q_SYNC_FULL] = "PRAGMA synchronous = FULL",
	[Q_ANSWER] = "INSERT INTO answers (intent_id, at, op, outcome, http_status, detail) "
	             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_ADD] = "INSERT INTO intents (id, client_id, payload, state, broker, received_at, "
	          "updated_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?5) "
	          "ON CONFLICT (id) DO NOTHING",
	[Q_GET] = "SELECT id, client_id, payload, state, attempts, failures, in_doubt, broker, "
	          "broker_order_id, broker_status, qty, price, notional, day, reason, wake_at, "
	          "received_at, sent_at_ms FROM intents WHERE id = ?1",
	[Q_BEGIN_SEND] = "UPDATE intents SET attempts = attempts + 1, in_doubt = 1, "
	                 "state = 'pending', day = ?2, qty = ?3, notional = ?4, "
	                 "updated_at = ?5, sent_at_ms = ?6 WHERE id = ?1 AND state = 'pending'",
	[Q_SET_USAGE] = "UPDATE intents SET day = ?2, qty = ?3, notional = ?4, "
	                "updated_at = ?5 WHERE id = ?1 AND state = 'pending'",
	[Q_NOT_FOUND] = "UPDATE intents SET in_doubt = 2, failures = failures + ?2, "
	                "retry_at_ms = ?3, reason = COALESCE(?4, reason), updated_at = ?5 "
	                "WHERE id = ?1 AND state = 'pending' AND in_doubt <> 0",
	[Q_RETRY] = "UPDATE intents SET failures = failures + 1, retry_at_ms = ?2, "
	            "reason = ?3, updated_at = ?4 WHERE id = ?1 AND state = 'pending'",
	[Q_HOLD] = "UPDATE intents SET state = 'held', wake_at = ?2, reason = ?3, "
	           "failures = 0, updated_at = ?4 "
	           "WHERE id = ?1 AND (state = 'pending' OR state = 'held') AND in_doubt <> 1",
	[Q_WAKE] = "UPDATE intents SET state = 'pending', retry_at_ms = 0, "
	           "updated_at = ?2 WHERE id = ?1 AND state = 'held'",
	[Q_FINISH] = "UPDATE intents SET state = ?2, in_doubt = 0, broker_order_id = ?3, "
	             "broker_status = ?4, qty = COALESCE(?5, qty), price = ?6, reason = ?7, "
	             "updated_at = ?8 WHERE id = ?1 AND (state = 'pending' OR state = 'held')",
	[Q_MEMBER] = "SELECT rowid, state, attempts, day, notional FROM intents WHERE id = ?1",
	/* The day's orders in the order TOTAL() would add them up (the index
	 * on day keeps a day's rows by rowid: no sort). */
	[Q_USAGE_ROWS] = "SELECT rowid, id = ?2, notional FROM intents WHERE day = ?1 AND "
	                 "(state = 'submitted' OR state = 'filled' OR state = 'dry_run' OR "
	                 "(state = 'pending' AND attempts > 0)) ORDER BY rowid",
	[Q_OPEN] = "SELECT (SELECT COUNT(*) FROM intents WHERE state = 'pending') + "
	           "(SELECT COUNT(*) FROM intents WHERE state = 'held')",
	[Q_PENDING] = "SELECT COUNT(*) FROM intents WHERE state = 'pending' AND broker = ?1",
	[Q_IN_DOUBT] = "SELECT COUNT(*) FROM intents WHERE state = 'pending' AND in_doubt = 1 "
	               "AND broker = ?1",
	[Q_FOREIGN] = "SELECT COUNT(*) FROM intents WHERE state IN ('pending', 'held') "
	              "AND broker <> ?1",
	[Q_COUNT] = "SELECT COUNT(*) FROM intents WHERE state = ?1",
	[Q_ANSWER_COUNT] = "SELECT COUNT(*) FROM answers WHERE intent_id = ?1",
	[Q_DUE] = "SELECT id FROM ("
	          " SELECT id, 0 AS k, in_doubt, retry_at_ms AS t FROM intents"
	          "  WHERE state = 'pending' AND broker = ?1 AND retry_at_ms <= ?2"
	          " UNION ALL"
	          " SELECT id, 1 AS k, 0, wake_at AS t FROM intents"
	          "  WHERE state = 'held' AND broker = ?1 AND wake_at <= ?3)"
	          " ORDER BY k, in_doubt = 1 DESC, t LIMIT ?4",
	[Q_NEXT_RETRY] = "SELECT COALESCE(MIN(retry_at_ms), -1) FROM intents "
	                 "WHERE state = 'pending' AND broker = ?1",
	[Q_NEXT_WAKE] = "SELECT COALESCE(MIN(wake_at), -1) FROM intents "
	                "WHERE state = 'held' AND broker = ?1",
};

/* One day's usage as journal_usage reports it (see the top of the file). */
struct journal_day_usage {
	bool valid;
	char day[11];
	int64_t orders;
	double notional;   /* added up in rowid order, as the scan does */
	int64_t max_rowid; /* of the orders counted; 0 when none */
};

/* An entry as far as usage goes. */
struct journal_member {
	bool found; /* false: unknown */
	int64_t rowid;
	int state; /* enum journal_state; -1 unknown */
	int attempts;
	char day[11];    /* "" when NULL */
	double notional; /* NAN when NULL */
};

struct journal {
	sqlite3 *db;
	sqlite3_stmt *st[Q_N]; /* prepared on first use, finalized at close */
	bool batch;            /* inside journal_batch_begin ... commit/abort */
	bool lazy;             /* the connection is at synchronous = NORMAL (s_durable) */
	uint64_t gen;          /* bumped by every call that may write */
	int64_t open;          /* pending + held entries, when open_valid */
	bool open_valid;
	struct journal_day_usage use;
	struct journal_member last; /* the entry last written, when found */
	char last_id[JOURNAL_ID_MAX + 1];
};

static const char *const s_migrations[] = {
	"CREATE TABLE intents ("
	" id TEXT PRIMARY KEY,"
	" client_id TEXT NOT NULL,"
	" payload TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('pending','held','submitted','filled',"
	"  'rejected','blocked','dry_run','error')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" in_doubt INTEGER NOT NULL DEFAULT 0,"
	" broker TEXT NOT NULL,"
	" broker_order_id TEXT,"
	" broker_status TEXT,"
	" qty REAL, price REAL, notional REAL,"
	" day TEXT,"
	" reason TEXT,"
	" retry_at_ms INTEGER NOT NULL DEFAULT 0,"
	" wake_at INTEGER,"
	" received_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX intents_state ON intents(state, broker);"
	"CREATE INDEX intents_day ON intents(day);"
	"CREATE INDEX intents_client ON intents(client_id);"
	"CREATE TABLE answers ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" intent_id TEXT NOT NULL REFERENCES intents(id),"
	" at INTEGER NOT NULL,"
	" op TEXT NOT NULL,"
	" outcome TEXT NOT NULL,"
	" http_status INTEGER,"
	" detail TEXT);"
	"CREATE INDEX answers_intent ON answers(intent_id);",
	/* 1 -> 2: nothing looks entries up by client id (the broker does, by
	 * the id we send), and the index cost a B-tree insert per intent. */
	"DROP INDEX IF EXISTS intents_client;",
	/* 2 -> 3: only entries with a day are ever looked up by day (the
	 * usage scan, `day = ?`); blocked, held and fresh entries have none,
	 * and indexing their NULLs cost a page written per intent. */
	"DROP INDEX IF EXISTS intents_day;"
	"CREATE INDEX intents_day ON intents(day) WHERE day IS NOT NULL;",
	/* 3 -> 4: when the last submission began (wall-clock ms), so that a
	 * lookup's "no such order" is believed only once the settle time has
	 * passed since then (journal.h); and in_doubt 2, "looked up, none
	 * found, look again before sending".  A version-3 journal does not
	 * know the time: for an entry left in doubt, or cleared by a lookup
	 * that version believed at once (pending or held with an attempt
	 * made), it is taken as one second after the entry's last write
	 * (updated_at, whole seconds, written at or after the send began), no
	 * earlier than the truth; and such a cleared entry is put back in
	 * doubt (2), so that it is looked up again, after the settle time,
	 * before it is ever sent again. */
	"ALTER TABLE intents ADD COLUMN sent_at_ms INTEGER NOT NULL DEFAULT 0;"
	"UPDATE intents SET sent_at_ms = (updated_at + 1) * 1000,"
	" in_doubt = CASE WHEN in_doubt <> 0 THEN 1 ELSE 2 END"
	" WHERE (state = 'pending' OR state = 'held') AND attempts > 0;",
	NULL,
};

static const char *const s_state_names[] = {
	[JS_PENDING] = "pending", [JS_HELD] = "held",         [JS_SUBMITTED] = "submitted",
	[JS_FILLED] = "filled",   [JS_REJECTED] = "rejected", [JS_BLOCKED] = "blocked",
	[JS_DRY_RUN] = "dry_run", [JS_ERROR] = "error",
};

const char *journal_state_name(enum journal_state s)
{
	if ((unsigned)s < sizeof(s_state_names) / sizeof(s_state_names[0]))
		return s_state_names[s];
	return "?";
}

int journal_state_from_name(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof(s_state_names) / sizeof(s_state_names[0]); i++)
		if (strcmp(s, s_state_names[i]) == 0)
			return (int)i;
	return -1;
}

enum order_status journal_state_order_status(enum journal_state s)
{
	switch (s) {
	case JS_SUBMITTED:
		return ORDER_SUBMITTED;
	case JS_FILLED:
		return ORDER_FILLED;
	case JS_REJECTED:
		return ORDER_REJECTED;
	case JS_BLOCKED:
		return ORDER_BLOCKED;
	case JS_DRY_RUN:
		return ORDER_DRY_RUN;
	case JS_ERROR:
		return ORDER_ERROR;
	case JS_PENDING:
	case JS_HELD:
		break;
	}
	return ORDER_NONE;
}

journal_t *journal_open(const char *state_dir, char *err, size_t errlen)
{
	journal_t *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	j->db = store_open(state_dir, "executor.sqlite", s_migrations, true, err, errlen);
	if (j->db == NULL) {
		free(j);
		return NULL;
	}
	/* The journal only grows, and the executor's work is at its end (new
	 * rows, pending entries): 1 MB of page cache holds that working set;
	 * SQLite's default 2 MB filled with old rows is RSS for nothing. */
	if (store_exec(j->db, "PRAGMA cache_size = -1024; PRAGMA ignore_check_constraints = ON",
	               err, errlen) != 0) {
		journal_close(&j);
		return NULL;
	}
	return j;
}

void journal_close(journal_t **j)
{
	if (j == NULL || *j == NULL)
		return;
	if ((*j)->batch)
		journal_batch_abort(*j);
	for (int i = 0; i < Q_N; i++)
		sqlite3_finalize((*j)->st[i]);
	store_close(&(*j)->db);
	free(*j);
	*j = NULL;
}

/*
 * The statement q, prepared on first use and kept; it comes reset with no
 * bindings.  Callers give it back with s_put (or s_done), never finalize.
 */
static sqlite3_stmt *s_prep(journal_t *j, int q, char *err, size_t errlen)
{
	if (j->st[q] == NULL && sqlite3_prepare_v3(j->db, s_sql[q], -1, SQLITE_PREPARE_PERSISTENT,
	                                           &j->st[q], NULL) != SQLITE_OK) {
		snprintf(err, errlen, "journal: %s", sqlite3_errmsg(j->db));
		sqlite3_finalize(j->st[q]);
		j->st[q] = NULL;
		return NULL;
	}
	return j->st[q];
}

/* Done with a statement from s_prep: reset it (which also ends the read
 * it may hold) and drop its bindings (a bound TRANSIENT copy). */
static void s_put(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

static void s_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static void s_bind_num(sqlite3_stmt *st, int i, double x)
{
	if (isnan(x))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, x);
}

/* Step a statement expected to finish without rows; gives it back. */
static int s_done(journal_t *j, sqlite3_stmt *st, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		snprintf(err, errlen, "journal: %s", sqlite3_errmsg(j->db));
	s_put(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Run one of the transaction statements; 0 or -1 (err may be NULL). */
static int s_ctl(journal_t *j, int q, char *err, size_t errlen)
{
	char buf[256];
	sqlite3_stmt *st =
	    s_prep(j, q, err != NULL ? err : buf, err != NULL ? errlen : sizeof(buf));

	if (st == NULL)
		return -1;
	return s_done(j, st, err != NULL ? err : buf, err != NULL ? errlen : sizeof(buf));
}

/* Drop what is kept in memory about the file's contents (a rollback may
 * have undone what it counted); the next use reads the file again. */
static void s_forget(journal_t *j)
{
	j->open_valid = false;
	j->use.valid = false;
	j->last.found = false;
}

/* Orders counted against a day (journal_usage): sent or dry-run orders of
 * that day, and pending entries with a submission begun. */
static bool s_counts(const struct journal_member *m, const char *day)
{
	if (!m->found || m->day[0] == '\0' || strcmp(m->day, day) != 0)
		return false;
	return m->state == JS_SUBMITTED || m->state == JS_FILLED || m->state == JS_DRY_RUN ||
	       (m->state == JS_PENDING && m->attempts > 0);
}

/*
 * What entry id is now, as far as usage goes, before a write to it:
 * j->last when it is about id (the entry written last, so the usual
 * add-decide-finish of one intent reads nothing), else read from the file
 * when a day is kept; m->found false when neither (nothing to keep up to
 * date) or when it cannot be read (the day is dropped then).
 */
static void s_member(journal_t *j, const char *id, struct journal_member *m)
{
	char err[256];
	sqlite3_stmt *st;
	const unsigned char *t;
	int rc;

	if (j->last.found && strcmp(j->last_id, id) == 0) {
		*m = j->last;
		return;
	}
	memset(m, 0, sizeof(*m));
	if (!j->use.valid)
		return;
	st = s_prep(j, Q_MEMBER, err, sizeof(err));
	if (st == NULL) {
		j->use.valid = false;
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		m->found = true;
		m->rowid = sqlite3_column_int64(st, 0);
		m->state = journal_state_from_name((const char *)sqlite3_column_text(st, 1));
		m->attempts = sqlite3_column_int(st, 2);
		t = sqlite3_column_text(st, 3);
		snprintf(m->day, sizeof(m->day), "%s", t != NULL ? (const char *)t : "");
		m->notional =
		    sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 4);
	} else if (rc != SQLITE_DONE) {
		j->use.valid = false;
	}
	s_put(st);
}

/*
 * A write to entry id succeeded: it was b (s_member), it is a now (the
 * caller's copy of b with what the write changed).  The kept day follows:
 * an entry that joins it after every order already counted is added (the
 * scan's order, so the sum is the scan's to the bit); one that neither
 * joins nor leaves changes nothing; anything else drops the day, to be
 * scanned again.  a becomes j->last.
 */
static void s_member_moved(journal_t *j, const char *id, const struct journal_member *b,
                           const struct journal_member *a)
{
	if (!b->found) {
		if (j->last.found && strcmp(j->last_id, id) == 0)
			j->last.found = false;
		j->use.valid = false; /* unknown before: cannot follow */
		return;
	}
	j->last = *a;
	snprintf(j->last_id, sizeof(j->last_id), "%s", id);
	if (j->use.valid) {
		bool in_b = s_counts(b, j->use.day), in_a = s_counts(a, j->use.day);

		if (!in_b && !in_a)
			return;
		if (in_b && in_a &&
		    (isnan(b->notional) ? isnan(a->notional) : b->notional == a->notional))
			return;
		if (!in_b && in_a && a->rowid > j->use.max_rowid) {
			j->use.orders++;
			if (!isnan(a->notional))
				j->use.notional += a->notional;
			j->use.max_rowid = a->rowid;
			return;
		}
		j->use.valid = false;
	}
}

/*
 * Before any write that is not part of a lazy batch: back to synchronous =
 * FULL if a lazy batch left the connection at NORMAL.  A dry run's
 * batches follow each other with only reads in between, so the level is
 * switched when a durable write comes, not after every lazy batch: each
 * PRAGMA synchronous is compiled anew on every run (SQLite applies it at
 * prepare time), two per one-intent batch were ~5% of the executor's CPU.
 * Every write outside a batch (s_begin, journal_add, journal_note,
 * journal_reset_timers) and every durable batch comes through here, so no
 * commit that the write-ahead rule needs ever runs at NORMAL.  0, or -1
 * (err filled) when the level cannot be restored: the write is refused.
 */
static int s_durable(journal_t *j, char *err, size_t errlen)
{
	if (!j->lazy || j->batch)
		return 0;
	if (s_ctl(j, Q_SYNC_FULL, err, errlen) != 0) {
		log_warnx("journal: cannot set synchronous = FULL again");
		return -1;
	}
	j->lazy = false;
	return 0;
}

static int s_begin(journal_t *j, char *err, size_t errlen)
{
	j->gen++;
	if (s_durable(j, err, errlen) != 0)
		return -1;
	return s_ctl(j, j->batch ? Q_SAVEPOINT : Q_BEGIN, err, errlen);
}

static int s_commit(journal_t *j, char *err, size_t errlen)
{
	if (j->batch) {
		if (s_ctl(j, Q_RELEASE, err, errlen) == 0)
			return 0;
		s_ctl(j, Q_ROLLBACK_TO, NULL, 0);
		s_ctl(j, Q_RELEASE, NULL, 0);
		return -1;
	}
	if (s_ctl(j, Q_COMMIT, err, errlen) == 0)
		return 0;
	s_ctl(j, Q_ROLLBACK, NULL, 0);
	return -1;
}

static int s_rollback(journal_t *j)
{
	if (j->batch) {
		/* Undo this step only; the batch goes on. */
		s_ctl(j, Q_ROLLBACK_TO, NULL, 0);
		s_ctl(j, Q_RELEASE, NULL, 0);
	} else {
		s_ctl(j, Q_ROLLBACK, NULL, 0);
	}
	return -1;
}

int journal_batch_begin(journal_t *j, bool durable, char *err, size_t errlen)
{
	if (j->batch) {
		snprintf(err, errlen, "journal: a batch is already open");
		return -1;
	}
	j->gen++;
	/* SQLite refuses to change the level inside a transaction, so it is
	 * set before BEGIN; a lazy batch leaves it at NORMAL (s_durable). */
	if (durable ? s_durable(j, err, errlen) != 0
	            : !j->lazy && s_ctl(j, Q_SYNC_NORMAL, err, errlen) != 0)
		return -1;
	if (!durable)
		j->lazy = true;
	if (s_ctl(j, Q_BEGIN, err, errlen) != 0)
		return -1;
	j->batch = true;
	return 0;
}

int journal_batch_commit(journal_t *j, char *err, size_t errlen)
{
	int rc = 0;

	if (!j->batch) {
		snprintf(err, errlen, "journal: no batch is open");
		return -1;
	}
	j->batch = false;
	j->gen++;
	if (s_ctl(j, Q_COMMIT, err, errlen) != 0) {
		s_ctl(j, Q_ROLLBACK, NULL, 0);
		s_forget(j);
		rc = -1;
	}
	return rc;
}

void journal_batch_abort(journal_t *j)
{
	if (!j->batch)
		return;
	j->batch = false;
	j->gen++;
	s_ctl(j, Q_ROLLBACK, NULL, 0);
	s_forget(j);
}

bool journal_in_batch(const journal_t *j)
{
	return j->batch;
}

int journal_synchronous(journal_t *j)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(j->db, "PRAGMA synchronous", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

uint64_t journal_generation(const journal_t *j)
{
	return j->gen;
}

static int s_insert_answer(journal_t *j, const char *id, const struct journal_answer *a,
                           int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if (a == NULL)
		return 0;
	st = s_prep(j, Q_ANSWER, err, errlen);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	s_bind_text(st, 3, a->op);
	s_bind_text(st, 4, a->outcome);
	if (a->http_status > 0)
		sqlite3_bind_int64(st, 5, a->http_status);
	else
		sqlite3_bind_null(st, 5);
	s_bind_text(st, 6, a->detail);
	return s_done(j, st, err, errlen);
}

/* Run one UPDATE of the entry `id` (bound as ?1) with an answer, in one
 * transaction; the statement must change exactly one row. */
static int s_update(journal_t *j, const char *id, const struct journal_answer *a, int64_t now,
                    sqlite3_stmt *st, char *err, size_t errlen)
{
	if (s_begin(j, err, errlen) != 0) {
		s_put(st);
		return -1;
	}
	if (s_insert_answer(j, id, a, now, err, errlen) != 0) {
		s_put(st);
		return s_rollback(j);
	}
	if (s_done(j, st, err, errlen) != 0)
		return s_rollback(j);
	if (sqlite3_changes(j->db) != 1) {
		snprintf(err, errlen, "journal: no entry %.64s", id);
		return s_rollback(j);
	}
	return s_commit(j, err, errlen);
}

int journal_add(journal_t *j, const intent_t *in, const char *client_id, const char *broker,
                int64_t now, char *err, size_t errlen)
{
	record_t r = { .type = REC_INTENT };
	sqlite3_stmt *st;
	char *js = NULL;
	size_t jlen;
	int rc;

	r.u.intent = *in;
	if (s_durable(j, err, errlen) != 0)
		return -1;
	if (record_to_json(&r, &js, &jlen, err, errlen) != 0)
		return -1;
	j->gen++;
	st = s_prep(j, Q_ADD, err, errlen);
	if (st == NULL) {
		free(js);
		return -1;
	}
	sqlite3_bind_text(st, 1, in->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, client_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, js, (int)jlen, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, broker, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now);
	free(js);
	rc = s_done(j, st, err, errlen);
	if (rc != 0)
		return -1;
	if (sqlite3_changes(j->db) != 1)
		return 1;
	/* A new pending entry, with no day yet: no usage. */
	j->open++;
	memset(&j->last, 0, sizeof(j->last));
	j->last.found = true;
	j->last.rowid = sqlite3_last_insert_rowid(j->db);
	j->last.state = JS_PENDING;
	j->last.notional = NAN;
	snprintf(j->last_id, sizeof(j->last_id), "%s", in->id);
	return 0;
}

static void s_col_text(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
}

static double s_col_num(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int journal_get(journal_t *j, const char *id, struct journal_entry *e, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const char *payload;
	int rc, state;

	memset(e, 0, sizeof(*e));
	st = s_prep(j, Q_GET, err, errlen);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		s_put(st);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "journal: %s", sqlite3_errmsg(j->db));
		s_put(st);
		return -1;
	}
	s_col_text(st, 0, e->id, sizeof(e->id));
	s_col_text(st, 1, e->client_id, sizeof(e->client_id));
	payload = (const char *)sqlite3_column_text(st, 2);
	state = journal_state_from_name((const char *)sqlite3_column_text(st, 3));
	e->attempts = sqlite3_column_int(st, 4);
	e->failures = sqlite3_column_int(st, 5);
	e->in_doubt = sqlite3_column_int(st, 6) != 0;
	e->looked_up = sqlite3_column_int(st, 6) == 2;
	s_col_text(st, 7, e->broker, sizeof(e->broker));
	s_col_text(st, 8, e->broker_order_id, sizeof(e->broker_order_id));
	s_col_text(st, 9, e->broker_status, sizeof(e->broker_status));
	e->qty = s_col_num(st, 10);
	e->price = s_col_num(st, 11);
	e->notional = s_col_num(st, 12);
	s_col_text(st, 13, e->day, sizeof(e->day));
	s_col_text(st, 14, e->reason, sizeof(e->reason));
	e->wake_at = sqlite3_column_type(st, 15) == SQLITE_NULL ? REC_NULL_TIME
	                                                        : sqlite3_column_int64(st, 15);
	e->received_at = sqlite3_column_int64(st, 16);
	e->sent_at_ms = sqlite3_column_int64(st, 17);
	/* The payload was written by record_to_json; it decodes unless the
	 * file was edited by hand. */
	if (state < 0 || payload == NULL ||
	    record_from_json(payload, strlen(payload), &e->intent, err, errlen) != 0 ||
	    e->intent.type != REC_INTENT) {
		if (state < 0)
			snprintf(err, errlen, "journal: entry %.64s has an unknown state", id);
		s_put(st);
		journal_entry_free(e);
		return -1;
	}
	e->state = (enum journal_state)state;
	s_put(st);
	return 0;
}

int journal_entry_fresh(struct journal_entry *e, const intent_t *in, const char *client_id,
                        const char *broker, int64_t now)
{
	record_t r = { .type = REC_INTENT };

	memset(e, 0, sizeof(*e));
	r.u.intent = *in;
	if (record_copy(&e->intent, &r) != 0)
		return -1;
	snprintf(e->id, sizeof(e->id), "%s", in->id);
	snprintf(e->client_id, sizeof(e->client_id), "%s", client_id);
	snprintf(e->broker, sizeof(e->broker), "%s", broker);
	e->state = JS_PENDING;
	e->qty = e->price = e->notional = NAN;
	e->wake_at = REC_NULL_TIME;
	e->received_at = now;
	return 0;
}

void journal_entry_free(struct journal_entry *e)
{
	if (e != NULL)
		record_free(&e->intent);
}

/* Run statement q, which takes (id, day, qty, notional, now), and
 * Q_BEGIN_SEND also sent_at_ms: the two writes that record an order's
 * share of the day's usage. */
static int s_usage_update(journal_t *j, int q, const char *id, const char *day, double qty,
                          double notional, int64_t now, int64_t sent_at_ms, char *err,
                          size_t errlen)
{
	sqlite3_stmt *st = s_prep(j, q, err, errlen);
	struct journal_member b, a;

	if (st == NULL)
		return -1;
	s_member(j, id, &b);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	s_bind_text(st, 2, day);
	s_bind_num(st, 3, qty);
	s_bind_num(st, 4, notional);
	sqlite3_bind_int64(st, 5, now);
	if (q == Q_BEGIN_SEND)
		sqlite3_bind_int64(st, 6, sent_at_ms);
	if (s_update(j, id, NULL, now, st, err, errlen) != 0)
		return -1;
	/* Pending, with this day and size (and one more attempt when
	 * begun). */
	a = b;
	a.state = JS_PENDING;
	a.attempts += q == Q_BEGIN_SEND;
	a.notional = notional;
	if (day != NULL && strlen(day) >= sizeof(a.day))
		b.found = false; /* not kept: followed no further */
	else
		snprintf(a.day, sizeof(a.day), "%s", day != NULL ? day : "");
	s_member_moved(j, id, &b, &a);
	return 0;
}

int journal_begin_send(journal_t *j, const char *id, const char *day, double qty, double notional,
                       int64_t now, int64_t sent_at_ms, char *err, size_t errlen)
{
	return s_usage_update(j, Q_BEGIN_SEND, id, day, qty, notional, now, sent_at_ms, err,
	                      errlen);
}

int journal_set_usage(journal_t *j, const char *id, const char *day, double qty, double notional,
                      int64_t now, char *err, size_t errlen)
{
	return s_usage_update(j, Q_SET_USAGE, id, day, qty, notional, now, 0, err, errlen);
}

int journal_not_found(journal_t *j, const char *id, const struct journal_answer *a,
                      int add_failures, int64_t retry_at_ms, const char *reason, int64_t now,
                      char *err, size_t errlen)
{
	sqlite3_stmt *st = s_prep(j, Q_NOT_FOUND, err, errlen);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, add_failures);
	sqlite3_bind_int64(st, 3, retry_at_ms);
	s_bind_text(st, 4, reason);
	sqlite3_bind_int64(st, 5, now);
	return s_update(j, id, a, now, st, err, errlen);
}

int journal_retry_later(journal_t *j, const char *id, const struct journal_answer *a,
                        int64_t retry_at_ms, const char *reason, int64_t now, char *err,
                        size_t errlen)
{
	sqlite3_stmt *st = s_prep(j, Q_RETRY, err, errlen);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, retry_at_ms);
	s_bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, now);
	return s_update(j, id, a, now, st, err, errlen);
}

int journal_hold(journal_t *j, const char *id, int64_t wake_at, const char *reason, int64_t now,
                 char *err, size_t errlen)
{
	sqlite3_stmt *st = s_prep(j, Q_HOLD, err, errlen);
	struct journal_member b, a;

	if (st == NULL)
		return -1;
	s_member(j, id, &b);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, wake_at);
	s_bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, now);
	if (s_update(j, id, NULL, now, st, err, errlen) != 0)
		return -1;
	a = b;
	a.state = JS_HELD; /* held entries count against no day */
	s_member_moved(j, id, &b, &a);
	return 0;
}

int journal_wake(journal_t *j, const char *id, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = s_prep(j, Q_WAKE, err, errlen);
	struct journal_member b, a;

	if (st == NULL)
		return -1;
	s_member(j, id, &b);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	if (s_update(j, id, NULL, now, st, err, errlen) != 0)
		return -1;
	a = b;
	a.state = JS_PENDING; /* counts again if a send was begun before */
	s_member_moved(j, id, &b, &a);
	return 0;
}

int journal_finish(journal_t *j, const char *id, enum journal_state s,
                   const struct journal_answer *a, const char *broker_order_id,
                   const char *broker_status, double qty, double price, const char *reason,
                   int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct journal_member b, after;

	/* The CHECK on the state is not run (see the top of the file): only
	 * a final state's own name is ever written. */
	if ((int)s < JS_SUBMITTED || (int)s > JS_ERROR) {
		snprintf(err, errlen, "journal: %s is not a final state", journal_state_name(s));
		return -1;
	}
	st = s_prep(j, Q_FINISH, err, errlen);
	if (st == NULL)
		return -1;
	s_member(j, id, &b);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, journal_state_name(s), -1, SQLITE_STATIC);
	s_bind_text(st, 3, broker_order_id != NULL && broker_order_id[0] ? broker_order_id : NULL);
	s_bind_text(st, 4, broker_status != NULL && broker_status[0] ? broker_status : NULL);
	s_bind_num(st, 5, qty);
	s_bind_num(st, 6, price);
	s_bind_text(st, 7, reason);
	sqlite3_bind_int64(st, 8, now);
	if (s_update(j, id, a, now, st, err, errlen) != 0)
		return -1;
	j->open--; /* it was pending or held (the UPDATE's condition) */
	/* Day and notional stay: whether it counts is up to its state. */
	after = b;
	after.state = (int)s;
	s_member_moved(j, id, &b, &after);
	return 0;
}

/*
 * Scan the orders counted against day, adding them up in rowid order;
 * the entry `except` (NULL: none) is left out, and *except_seen says
 * whether it was among them.  max_rowid: the last one counted.
 */
static int s_usage_scan(journal_t *j, const char *day, const char *except, int64_t *orders,
                        double *notional, int64_t *max_rowid, bool *except_seen, char *err,
                        size_t errlen)
{
	sqlite3_stmt *st = s_prep(j, Q_USAGE_ROWS, err, errlen);
	int rc;

	*orders = 0;
	*notional = 0;
	*max_rowid = 0;
	*except_seen = false;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_TRANSIENT);
	s_bind_text(st, 2, except);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int(st, 1) != 0) {
			*except_seen = true;
			continue;
		}
		(*orders)++;
		if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			*notional += sqlite3_column_double(st, 2);
		*max_rowid = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE)
		snprintf(err, errlen, "journal: %s", sqlite3_errmsg(j->db));
	s_put(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int journal_usage(journal_t *j, const char *day, const char *except, int64_t *orders,
                  double *notional, char *err, size_t errlen)
{
	struct journal_day_usage *u = &j->use;
	int64_t n, max_rowid;
	double sum;
	bool seen;

	*orders = 0;
	*notional = 0;
	if (except != NULL && u->valid && strcmp(u->day, day) == 0) {
		struct journal_member m;

		/* Kept: right unless `except` is one of the day's orders (an
		 * intent sent again), which the sum cannot leave out exactly. */
		s_member(j, except, &m);
		if (u->valid && !s_counts(&m, day)) {
			*orders = u->orders;
			*notional = u->notional;
			return 0;
		}
	} else if (except == NULL && u->valid && strcmp(u->day, day) == 0) {
		*orders = u->orders;
		*notional = u->notional;
		return 0;
	}
	if (s_usage_scan(j, day, except, &n, &sum, &max_rowid, &seen, err, errlen) != 0)
		return -1;
	if (!seen && strlen(day) < sizeof(u->day)) {
		/* The whole day: kept for the next calls. */
		u->valid = true;
		snprintf(u->day, sizeof(u->day), "%s", day);
		u->orders = n;
		u->notional = sum;
		u->max_rowid = max_rowid;
	}
	*orders = n;
	*notional = sum;
	return 0;
}

void journal_forget(journal_t *j)
{
	s_forget(j);
}

int64_t journal_open_entries(journal_t *j)
{
	if (!j->open_valid) {
		char err[256];
		sqlite3_stmt *st = s_prep(j, Q_OPEN, err, sizeof(err));

		if (st == NULL) {
			log_warnx("%s", err);
			return -1;
		}
		if (sqlite3_step(st) == SQLITE_ROW) {
			j->open = sqlite3_column_int64(st, 0);
			j->open_valid = true;
		} else {
			log_warnx("journal: %s", sqlite3_errmsg(j->db));
		}
		s_put(st);
		if (!j->open_valid)
			return -1;
	}
	return j->open;
}

/* One integer from a query with up to one text parameter; -1 on error. */
static int64_t s_scalar(journal_t *j, int q, const char *param)
{
	char err[256];
	sqlite3_stmt *st = s_prep(j, q, err, sizeof(err));
	int64_t v = -1;

	if (st == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	if (param != NULL)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		log_warnx("journal: %s", sqlite3_errmsg(j->db));
	s_put(st);
	return v;
}

int journal_note(journal_t *j, const char *id, const struct journal_answer *a, int64_t now,
                 char *err, size_t errlen)
{
	j->gen++;
	if (s_durable(j, err, errlen) != 0)
		return -1;
	return s_insert_answer(j, id, a, now, err, errlen);
}

int64_t journal_pending(journal_t *j, const char *broker)
{
	return s_scalar(j, Q_PENDING, broker);
}

int64_t journal_in_doubt(journal_t *j, const char *broker)
{
	return s_scalar(j, Q_IN_DOUBT, broker);
}

int64_t journal_foreign_unfinished(journal_t *j, const char *broker)
{
	return s_scalar(j, Q_FOREIGN, broker);
}

int64_t journal_count(journal_t *j, enum journal_state s)
{
	return s_scalar(j, Q_COUNT, journal_state_name(s));
}

int64_t journal_answer_count(journal_t *j, const char *id)
{
	return s_scalar(j, Q_ANSWER_COUNT, id);
}

int journal_reset_timers(journal_t *j, char *err, size_t errlen)
{
	j->gen++;
	if (s_durable(j, err, errlen) != 0)
		return -1;
	return store_exec(j->db, "UPDATE intents SET retry_at_ms = 0 WHERE state = 'pending'", err,
	                  errlen);
}

int journal_due(journal_t *j, const char *broker, int64_t now_ms, int64_t now_s,
                char (*ids)[JOURNAL_ID_MAX + 1], int max)
{
	char err[256];
	sqlite3_stmt *st;
	int n = 0;

	st = s_prep(j, Q_DUE, err, sizeof(err));
	if (st == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	sqlite3_bind_text(st, 1, broker, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_int64(st, 3, now_s);
	sqlite3_bind_int(st, 4, max);
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		s_col_text(st, 0, ids[n++], JOURNAL_ID_MAX + 1);
	s_put(st);
	return n;
}

void journal_next_due(journal_t *j, const char *broker, int64_t *retry_ms, int64_t *wake_s)
{
	int64_t r = s_scalar(j, Q_NEXT_RETRY, broker);
	int64_t w = s_scalar(j, Q_NEXT_WAKE, broker);

	*retry_ms = r < 0 ? INT64_MAX : r;
	*wake_s = w < 0 ? INT64_MAX : w;
}
