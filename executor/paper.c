/*
 * paper.c - the built-in paper broker: a SQLite ledger of cash, positions
 * and orders (see paper.h).
 *
 * A market order fills at once, at the intent's ref_price, while the NYSE
 * regular session is open (common calendar, time_now()).  The ledger is
 * the broker: its orders table holds each client id at most once (UNIQUE),
 * and one transaction inserts the order and moves cash and position, so a
 * kill at any point leaves either the whole fill or nothing, and a second
 * submit of the same client id answers BROKER_EXISTS.
 */
#include "paper.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "timeutil.h"

/* Largest quantity (shares) and price (USD) the ledger takes: their product
 * in micro-units stays far inside int64. */
#define PAPER_MAX_QTY   1e9
#define PAPER_MAX_PRICE 1e7

/* Statements kept prepared, keyed by their SQL text (the ledger has 12). */
#define PAPER_STMTS 24

struct paper {
	sqlite3 *db;
	bool allow_short;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[PAPER_STMTS];
};

static const char *const s_migrations[] = {
	"CREATE TABLE account ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" cash_u INTEGER NOT NULL,"
	" starting_u INTEGER NOT NULL,"
	" realized_u INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE positions ("
	" ticker TEXT PRIMARY KEY,"
	" qty_u INTEGER NOT NULL,"
	" cost_u INTEGER NOT NULL);"
	"CREATE TABLE orders ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE,"
	" client_id TEXT NOT NULL UNIQUE,"
	" ticker TEXT NOT NULL,"
	" side TEXT NOT NULL,"
	" qty_u INTEGER NOT NULL,"
	" price_u INTEGER NOT NULL,"
	" status TEXT NOT NULL,"
	" created_at INTEGER NOT NULL);",
	NULL,
};

int64_t paper_micros(double x)
{
	return (int64_t)llround(x * 1e6);
}

/* a * b / d rounded half away from zero, in 128 bits. */
static int64_t s_muldiv(int64_t a, int64_t b, int64_t d)
{
	__int128 p = (__int128)a * b;
	__int128 q = p / d, r = p % d;

	if (r != 0 && 2 * (r < 0 ? -r : r) >= (d < 0 ? -d : d))
		q += ((p < 0) != (d < 0)) ? -1 : 1;
	return (int64_t)q;
}

int64_t paper_value(int64_t qty_u, int64_t price_u)
{
	return s_muldiv(qty_u, price_u, 1000000);
}

static double s_units(int64_t u)
{
	return (double)u / 1e6;
}

/*
 * The prepared statement for sql (a string that outlives the ledger: a
 * literal), prepared on first use and kept, since parsing was most of the
 * ledger's CPU per order.  It comes reset with no bindings; give it back
 * with s_put.  NULL when it does not prepare, or when the cache is full
 * (more distinct statements than PAPER_STMTS: every test would show it).
 */
static sqlite3_stmt *s_stmt(struct paper *p, const char *sql)
{
	int i;

	for (i = 0; i < PAPER_STMTS && p->stmts[i].sql != NULL; i++)
		if (p->stmts[i].sql == sql || strcmp(p->stmts[i].sql, sql) == 0)
			return p->stmts[i].st;
	if (i == PAPER_STMTS) {
		log_warnx("paper: statement cache full");
		return NULL;
	}
	if (sqlite3_prepare_v3(p->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &p->stmts[i].st, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(p->stmts[i].st);
		p->stmts[i].st = NULL;
		return NULL;
	}
	p->stmts[i].sql = sql;
	return p->stmts[i].st;
}

static void s_put(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

static int s_exec(struct paper *p, const char *sql)
{
	sqlite3_stmt *st = s_stmt(p, sql);
	int rc = st != NULL ? sqlite3_step(st) : SQLITE_ERROR;

	s_put(st);
	if (rc != SQLITE_DONE) {
		log_warnx("paper: %s: %s", sql, sqlite3_errmsg(p->db));
		return -1;
	}
	return 0;
}

/* Fill an order: the order row, cash and position, inside the caller's
 * transaction.  d_u is signed (sells negative).  Returns 0 or -1. */
static int s_apply_fill(struct paper *p, const char *ticker, int64_t d_u, int64_t price_u)
{
	sqlite3_stmt *st = NULL;
	int64_t q = 0, c = 0, realized = 0, value, close_u, removed, rest;

	if ((st = s_stmt(p, "SELECT qty_u, cost_u FROM positions WHERE ticker = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, ticker, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		q = sqlite3_column_int64(st, 0);
		c = sqlite3_column_int64(st, 1);
	}
	s_put(st);

	value = paper_value(d_u, price_u); /* signed: what the trade moves */
	if (q == 0 || (q > 0) == (d_u > 0)) {
		q += d_u;
		c += value;
	} else {
		/* Reduce (or close, or cross) the position: the part closed
		 * takes its share of the basis with it and realizes the rest. */
		int64_t aq = q < 0 ? -q : q, ad = d_u < 0 ? -d_u : d_u;

		close_u = ad < aq ? d_u : (d_u < 0 ? -aq : aq);
		removed = s_muldiv(c, close_u < 0 ? -close_u : close_u, aq);
		realized = -paper_value(close_u, price_u) - removed;
		q += close_u;
		c -= removed;
		rest = d_u - close_u;
		if (rest != 0) {
			q += rest;
			c += paper_value(rest, price_u);
		}
	}
	if ((st = s_stmt(
	         p, "UPDATE account SET cash_u = cash_u - ?1, realized_u = realized_u + ?2")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(st, 1, value);
	sqlite3_bind_int64(st, 2, realized);
	if (sqlite3_step(st) != SQLITE_DONE) {
		s_put(st);
		return -1;
	}
	s_put(st);
	if (q == 0)
		c = 0;
	if ((st = s_stmt(p, "INSERT INTO positions (ticker, qty_u, cost_u) VALUES (?1, ?2, ?3) "
	                    "ON CONFLICT (ticker) DO UPDATE SET qty_u = ?2, cost_u = ?3")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, ticker, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, q);
	sqlite3_bind_int64(st, 3, c);
	if (sqlite3_step(st) != SQLITE_DONE) {
		s_put(st);
		return -1;
	}
	s_put(st);
	return 0;
}

/* Read one order by client id into o; BROKER_OK, BROKER_NOT_FOUND or
 * BROKER_AMBIGUOUS (a database error). */
static enum broker_outcome s_find(struct paper *p, const char *client_id, struct broker_order *o)
{
	sqlite3_stmt *st = NULL;
	enum broker_outcome rc;
	int step;

	if ((st = s_stmt(p, "SELECT id, client_id, qty_u, price_u, status FROM orders "
	                    "WHERE client_id = ?1")) == NULL) {
		snprintf(o->reason, sizeof(o->reason), "paper: %s", sqlite3_errmsg(p->db));
		return BROKER_AMBIGUOUS;
	}
	sqlite3_bind_text(st, 1, client_id, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		snprintf(o->id, sizeof(o->id), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(o->client_id, sizeof(o->client_id), "%s",
		         (const char *)sqlite3_column_text(st, 1));
		o->qty = s_units(sqlite3_column_int64(st, 2));
		o->price = s_units(sqlite3_column_int64(st, 3));
		snprintf(o->status, sizeof(o->status), "%s",
		         (const char *)sqlite3_column_text(st, 4));
		o->st = ORDER_FILLED;
		rc = BROKER_OK;
	} else if (step == SQLITE_DONE) {
		rc = BROKER_NOT_FOUND;
	} else {
		snprintf(o->reason, sizeof(o->reason), "paper: %s", sqlite3_errmsg(p->db));
		rc = BROKER_AMBIGUOUS;
	}
	s_put(st);
	return rc;
}

static enum broker_outcome s_reject(struct broker_order *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static enum broker_outcome s_reject(struct broker_order *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->reason, sizeof(o->reason), fmt, ap);
	va_end(ap);
	o->st = ORDER_REJECTED;
	return BROKER_REJECTED;
}

static enum broker_outcome s_submit(void *self, const struct broker_req *rq, struct broker_order *o)
{
	struct paper *p = self;
	const char *ticker = rq->intent->ticker;
	double price = rq->ref_price, shares;
	int64_t qty_u, price_u, q = 0, cash_u = 0, value;
	sqlite3_stmt *st = NULL;
	enum broker_outcome rc;

	memset(o, 0, sizeof(*o));
	o->qty = o->price = NAN;
	if (isnan(price) || price <= 0 || price > PAPER_MAX_PRICE)
		return s_reject(o, "paper: no reference price to fill at");
	if (!nyse_is_open(time_now()))
		return s_reject(o, "paper: market closed (NYSE regular session)");
	if (!isnan(rq->qty))
		shares = rq->qty;
	else
		shares = floor(rq->notional / price); /* whole shares for a notional */
	if (!(shares > 0) || shares > PAPER_MAX_QTY) {
		if (!isnan(rq->qty))
			return s_reject(o, "paper: quantity %g out of range", shares);
		return s_reject(o, "paper: %.2f USD buys less than one share at %.2f", rq->notional,
		                price);
	}
	qty_u = paper_micros(shares);
	price_u = paper_micros(price);
	if (qty_u <= 0)
		return s_reject(o, "paper: quantity below one millionth of a share");

	if (s_exec(p, "BEGIN IMMEDIATE") != 0) {
		snprintf(o->reason, sizeof(o->reason), "paper: cannot lock the ledger");
		return BROKER_AMBIGUOUS;
	}
	rc = s_find(p, rq->client_id, o);
	if (rc == BROKER_OK) {
		s_exec(p, "ROLLBACK");
		snprintf(o->reason, sizeof(o->reason), "paper: client id %s already used",
		         rq->client_id);
		return BROKER_EXISTS;
	}
	if (rc != BROKER_NOT_FOUND)
		goto fail;
	memset(o, 0, sizeof(*o));
	o->qty = o->price = NAN;
	if ((st = s_stmt(p, "SELECT (SELECT cash_u FROM account), "
	                    "COALESCE((SELECT qty_u FROM positions WHERE ticker = ?1), 0)")) ==
	    NULL)
		goto fail;
	sqlite3_bind_text(st, 1, ticker, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		cash_u = sqlite3_column_int64(st, 0);
		q = sqlite3_column_int64(st, 1);
	}
	s_put(st);
	st = NULL;
	value = paper_value(qty_u, price_u);
	if (rq->side == SIDE_BUY && value > cash_u) {
		s_exec(p, "ROLLBACK");
		return s_reject(o, "paper: insufficient cash: %.2f needed, %.2f available",
		                s_units(value), s_units(cash_u));
	}
	if (rq->side == SIDE_SELL && !p->allow_short && qty_u > q) {
		s_exec(p, "ROLLBACK");
		return s_reject(o, "paper: selling %g shares of %s but %g held", s_units(qty_u),
		                ticker, s_units(q > 0 ? q : 0));
	}
	if (s_apply_fill(p, ticker, rq->side == SIDE_BUY ? qty_u : -qty_u, price_u) != 0)
		goto fail;
	if ((st = s_stmt(p, "INSERT INTO orders (id, client_id, ticker, side, qty_u, price_u, "
	                    "status, created_at) VALUES ('paper-' || (SELECT COALESCE(MAX(seq), "
	                    "0) + 1 FROM orders), ?1, ?2, ?3, ?4, ?5, 'filled', ?6)")) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, rq->client_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ticker, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, side_name(rq->side), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, qty_u);
	sqlite3_bind_int64(st, 5, price_u);
	sqlite3_bind_int64(st, 6, time_now());
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	s_put(st);
	st = NULL;
	if (s_exec(p, "COMMIT") != 0)
		goto fail;
	return s_find(p, rq->client_id, o);
fail:
	snprintf(o->reason, sizeof(o->reason), "paper: ledger error: %s", sqlite3_errmsg(p->db));
	s_put(st);
	s_exec(p, "ROLLBACK");
	/* Nothing was committed: the order does not exist. */
	o->st = ORDER_REJECTED;
	return BROKER_REJECTED;
}

static enum broker_outcome s_lookup(void *self, const struct broker_req *rq, struct broker_order *o)
{
	memset(o, 0, sizeof(*o));
	o->qty = o->price = NAN;
	return s_find(self, rq->client_id, o);
}

static int s_account(void *self, struct broker_account *a, char *err, size_t errlen)
{
	struct paper *p = self;
	sqlite3_stmt *st = s_stmt(p, "SELECT cash_u FROM account WHERE id = 1");
	int step = st != NULL ? sqlite3_step(st) : SQLITE_ERROR;

	/* Cash alone: paper_get_account also counts every order ever made. */
	memset(a, 0, sizeof(*a));
	if (step == SQLITE_ROW)
		a->buying_power = s_units(sqlite3_column_int64(st, 0));
	s_put(st);
	if (step != SQLITE_ROW) {
		snprintf(err, errlen, "paper: cannot read the account");
		return -1;
	}
	snprintf(a->currency, sizeof(a->currency), "USD");
	return 0;
}

static int s_position(void *self, const intent_t *in, double *qty, char *err, size_t errlen)
{
	struct paper_position pp;
	broker_t b = { .self = self };

	if (paper_get_position(&b, in->ticker, &pp) != 0) {
		snprintf(err, errlen, "paper: cannot read the position");
		return -1;
	}
	*qty = pp.qty;
	return 0;
}

static int s_clock(void *self, struct broker_clock *c, char *err, size_t errlen)
{
	int64_t now = time_now();

	(void)self;
	(void)err;
	(void)errlen;
	c->is_open = nyse_is_open(now);
	c->next_open = nyse_next_open(now);
	return 0;
}

static int s_tradable(void *self, const intent_t *in, bool *ok, char *why, size_t whylen, char *err,
                      size_t errlen)
{
	(void)self;
	(void)err;
	(void)errlen;
	/* The paper broker trades any ticker it has a price for. */
	*ok = !isnan(in->ref_price) && in->ref_price > 0;
	if (!*ok)
		snprintf(why, whylen, "paper: no reference price for %s", in->ticker);
	return 0;
}

static void s_destroy(void *self)
{
	struct paper *p = self;

	for (int i = 0; i < PAPER_STMTS; i++)
		sqlite3_finalize(p->stmts[i].st);
	store_close(&p->db);
	free(p);
}

static const struct broker_ops s_ops = {
	.name = "paper",
	/* One process, one SQLite file: a submit has committed or rolled
	 * back before it returns, and nothing lands later. */
	.lookup_exact = true,
	.submit = s_submit,
	.lookup = s_lookup,
	.account = s_account,
	.position = s_position,
	.clock = s_clock,
	.tradable = s_tradable,
	.destroy = s_destroy,
};

broker_t *paper_broker_new(const struct paper_opts *o, char *err, size_t errlen)
{
	struct paper *p = calloc(1, sizeof(*p));
	broker_t *b = calloc(1, sizeof(*b));
	sqlite3_stmt *st = NULL;

	if (p == NULL || b == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!(o->starting_cash >= 0) || o->starting_cash > 1e12) {
		snprintf(err, errlen, "paper: starting cash out of range");
		goto fail;
	}
	p->allow_short = o->allow_short;
	/* FULL like the journal: the ledger is the broker of record. */
	p->db = store_open(o->state_dir, "paper.sqlite", s_migrations, true, err, errlen);
	if (p->db == NULL)
		goto fail;
	/* A new ledger starts with the configured cash; an existing one keeps
	 * its own (changing the setting later does not rewrite history). */
	if (sqlite3_prepare_v2(p->db,
	                       "INSERT INTO account (id, cash_u, starting_u) VALUES (1, ?1, ?1) "
	                       "ON CONFLICT (id) DO NOTHING",
	                       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "paper: %s", sqlite3_errmsg(p->db));
		goto fail;
	}
	sqlite3_bind_int64(st, 1, paper_micros(o->starting_cash));
	if (sqlite3_step(st) != SQLITE_DONE) {
		snprintf(err, errlen, "paper: %s", sqlite3_errmsg(p->db));
		goto fail;
	}
	sqlite3_finalize(st);
	b->ops = &s_ops;
	b->self = p;
	return b;
fail:
	sqlite3_finalize(st);
	if (p != NULL)
		s_destroy(p); /* frees p */
	free(b);
	return NULL;
}

int paper_get_account(broker_t *b, struct paper_account *a)
{
	struct paper *p = b->self;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	if ((st = s_stmt(p, "SELECT cash_u, starting_u, realized_u, (SELECT COUNT(*) FROM orders) "
	                    "FROM account WHERE id = 1")) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		a->cash = s_units(sqlite3_column_int64(st, 0));
		a->starting_cash = s_units(sqlite3_column_int64(st, 1));
		a->realized = s_units(sqlite3_column_int64(st, 2));
		a->orders = sqlite3_column_int64(st, 3);
		rc = 0;
	}
	s_put(st);
	return rc;
}

int paper_get_position(broker_t *b, const char *ticker, struct paper_position *pp)
{
	struct paper *p = b->self;
	sqlite3_stmt *st = NULL;
	int step;

	memset(pp, 0, sizeof(*pp));
	if ((st = s_stmt(p, "SELECT qty_u, cost_u FROM positions WHERE ticker = ?1")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, ticker, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		pp->qty = s_units(sqlite3_column_int64(st, 0));
		pp->cost = s_units(sqlite3_column_int64(st, 1));
	}
	s_put(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
}
