/*
 * broker.h - what every broker (paper, Alpaca, lemon.markets) offers the
 * executor: a small vtable, and the helpers the three share.
 *
 * The executor never talks HTTP or SQL to a broker itself.  It builds a
 * broker_req from a journalled intent and asks the broker to submit it, to
 * look it up by its client id, or to answer the questions risk control
 * needs (account, position, clock, asset).  Every answer is classified into
 * one of the broker_outcome values below, and that classification is the
 * whole of the exactly-once protocol's view of a broker:
 *
 *   BROKER_OK          the broker answered and holds the order (o filled in)
 *   BROKER_EXISTS      submit: the client id is taken, so the order exists
 *                      (Alpaca 422 "client_order_id must be unique"): look it up
 *   BROKER_NOT_FOUND   lookup: the broker holds no order with this client id
 *   BROKER_REJECTED    submit: a definite refusal; no order was created
 *   BROKER_AMBIGUOUS   no usable answer (timeout, dropped connection, 5xx, 429,
 *                      an unparsable body): the order may or may not exist
 *
 * A broker never retries a submit on its own: POSTs go out with
 * max_retries 0 and the executor decides, after a lookup, whether to send
 * again.
 */
#ifndef COATTAIL_BROKER_H
#define COATTAIL_BROKER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "record.h"

/* Longest client order id sent to a broker (Alpaca's documented 48). */
#define BROKER_CLIENT_ID_MAX 48
/* Prefix of client ids derived by hashing an intent id. */
#define BROKER_CLIENT_ID_HASHED "ct:"

enum broker_outcome {
	BROKER_OK = 0,
	BROKER_EXISTS,
	BROKER_NOT_FOUND,
	BROKER_REJECTED,
	BROKER_AMBIGUOUS,
};

/* One order to place or find. */
struct broker_req {
	const char *client_id;  /* the idempotency key: executor_client_id() */
	const intent_t *intent; /* the journalled intent (ticker, isin, figi, ...) */
	enum side side;
	double qty;         /* shares, or NAN when sized by notional */
	double notional;    /* USD, or NAN when sized by qty */
	double ref_price;   /* USD per share, or NAN */
	int64_t expires_at; /* REC_NULL_TIME when none */
};

/* What a broker says about one order. */
struct broker_order {
	char id[128];         /* the broker's order id ("" when unknown) */
	char client_id[130];  /* the client id it carries, as the broker says */
	char status[32];      /* the broker's own word: "accepted", "executed" */
	enum order_status st; /* ORDER_SUBMITTED, ORDER_FILLED or ORDER_REJECTED */
	double qty;           /* shares ordered (or filled), NAN when unknown */
	double price;         /* average fill price, NAN when none */
	long http_status;     /* of the answer classified, 0 when none */
	char reason[256];     /* why, for REJECTED / AMBIGUOUS; printable ASCII */
};

struct broker_account {
	bool blocked;        /* trading is blocked on the account */
	double buying_power; /* in the account's currency, NAN when unknown */
	char currency[8];    /* "USD", "EUR", "" when unknown */
};

struct broker_clock {
	bool is_open;
	int64_t next_open; /* UTC seconds; 0 when the broker does not say */
};

struct broker_ops {
	const char *name; /* "paper", "alpaca", "lemon": the order records' broker */
	/* true when a lookup sees everything every earlier submit did, at
	 * once (a local, synchronous ledger: paper): its "not found" is
	 * believed without waiting executor.doubt_settle_ms.  A network
	 * broker leaves it false: a create the client gave up on may still
	 * land at the server after the lookup. */
	bool lookup_exact;
	/* Place rq.  Never retried inside. */
	enum broker_outcome (*submit)(void *self, const struct broker_req *rq,
	                              struct broker_order *o);
	/* Find the order carrying rq->client_id.  A broker whose orders take
	 * two steps (lemon: create, then activate) finishes a half-done
	 * submission here, so that OK always means "placed". */
	enum broker_outcome (*lookup)(void *self, const struct broker_req *rq,
	                              struct broker_order *o);
	/* The answers risk control needs; 0, or -1 with err filled (the
	 * executor then retries later: none of these changes anything). */
	int (*account)(void *self, struct broker_account *a, char *err, size_t errlen);
	int (*position)(void *self, const intent_t *in, double *qty, char *err, size_t errlen);
	int (*clock)(void *self, struct broker_clock *c, char *err, size_t errlen);
	/* *ok false with why filled when the broker will not trade it. */
	int (*tradable)(void *self, const intent_t *in, bool *ok, char *why, size_t whylen,
	                char *err, size_t errlen);
	void (*destroy)(void *self);
};

typedef struct broker {
	const struct broker_ops *ops;
	void *self;
} broker_t;

void broker_free(broker_t **b);

/* ---- the brokers ---- */

struct paper_opts {
	const char *state_dir; /* paper.sqlite lives here */
	double starting_cash;  /* USD of a new ledger */
	bool allow_short;      /* sells beyond the position open a short */
};
broker_t *paper_broker_new(const struct paper_opts *o, char *err, size_t errlen);

struct broker_http_opts {
	const char *user_agent;
	long timeout_ms; /* whole request */
	long connect_timeout_ms;
	int get_retries; /* retries of idempotent GETs (POSTs: never) */
	volatile sig_atomic_t *stop;
};

struct alpaca_opts {
	const char *url;    /* "https://paper-api.alpaca.markets" */
	const char *key_id; /* copied; never logged */
	const char *secret; /* copied; never logged */
	struct broker_http_opts http;
};
broker_t *alpaca_broker_new(const struct alpaca_opts *o, char *err, size_t errlen);

struct lemon_opts {
	const char *url;      /* trading: "https://paper-trading.lemon.markets" */
	const char *data_url; /* market data: "https://data.lemon.markets" */
	const char *key;      /* trading key; copied, never logged */
	const char *data_key; /* market data key, NULL: the trading key */
	const char *pin;      /* activation pin (live accounts), or NULL */
	const char *venue;    /* MIC, "XMUN" */
	struct broker_http_opts http;
};
broker_t *lemon_broker_new(const struct lemon_opts *o, char *err, size_t errlen);

/* ---- helpers shared by the brokers (broker.c) ---- */

/*
 * The client order id of an intent: the intent id itself when it has at most
 * BROKER_CLIENT_ID_MAX bytes of [A-Za-z0-9._:-] and does not start with
 * BROKER_CLIENT_ID_HASHED; otherwise "ct:" followed by the first 45 hex
 * digits of SHA-256(id) (48 bytes in all, 180 bits: no two intents share
 * one).  Deterministic, so a restarted executor finds its orders again.
 * buf must hold BROKER_CLIENT_ID_MAX + 1 bytes.
 */
char *broker_client_id(const char *intent_id, char *buf, size_t len);

/* Copy text from outside into dst as printable ASCII (others become '?'),
 * truncated to fit, with every occurrence of the given secrets replaced by
 * "[redacted]".  secrets is NULL-terminated or NULL. */
void broker_clean_text(char *dst, size_t len, const char *src, const char *const *secrets);

/* A number a broker sent as a JSON number or a decimal string ("12.5");
 * NAN when absent, null, or not a finite number. */
double broker_json_num(const json_t *v);
/* A string member, or NULL when absent or not a string. */
const char *broker_json_str(const json_t *obj, const char *key);

/* Percent-encode s for a URL query or path segment into buf; 0, or -1 when
 * it does not fit. */
int broker_urlenc(const char *s, char *buf, size_t len);

/* Format a quantity or price for a broker: up to 9 decimals, no trailing
 * zeros ("10", "0.5", "123.456"). */
char *broker_fmt_decimal(double x, char *buf, size_t len);

/* Parse a JSON body from outside (no duplicate keys); NULL with err filled. */
json_t *broker_parse_json(const char *body, size_t len, char *err, size_t errlen);

#endif
