/*
 * alpaca.c - the Alpaca Trading API v2 broker.
 *
 *   submit    POST /v2/orders {symbol, qty|notional, side, type: market,
 *             time_in_force: day, client_order_id}; sent once (no retries).
 *             200 -> OK; 422 "client_order_id must be unique" -> EXISTS;
 *             400/403/404/422 -> REJECTED; anything else (timeout, dropped
 *             connection, 401, 429, 5xx, a body we cannot read) -> AMBIGUOUS.
 *   lookup    GET /v2/orders:by_client_order_id?client_order_id=ID:
 *             200 -> OK, 404 -> NOT_FOUND, else AMBIGUOUS.
 *   account   GET /v2/account (trading_blocked, account_blocked, buying_power)
 *   position  GET /v2/positions (the symbol's qty; 0 when absent)
 *   clock     GET /v2/clock
 *   tradable  GET /v2/assets/{symbol} (tradable and active; 404: not tradable),
 *             cached per symbol for ALPACA_ASSET_TTL_MS.
 *
 * The two keys travel in the APCA-API-KEY-ID / APCA-API-SECRET-KEY headers
 * only; every text taken from an answer is cleaned of them before it can
 * reach a log line or an order event.
 */
#include "alpaca.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "timeutil.h"

#define ALPACA_ASSET_TTL_MS (10 * 60 * 1000)
#define ALPACA_ASSET_CACHE  64
#define ALPACA_MAX_BYTES    (4 * 1024 * 1024)

struct asset_cache {
	char symbol[32];
	bool tradable;
	char why[160];
	int64_t until_ms; /* 0: empty slot */
};

struct alpaca {
	http_client_t *http;    /* GETs: keep-alive */
	struct http_opts hopts; /* for the one-shot client of each POST */
	char *url;              /* base, without a trailing '/' */
	char *hdr_key, *hdr_secret;
	const char *headers[5];
	const char *secrets[3]; /* for broker_clean_text */
	char *key_id, *secret;
	char *ua; /* hopts.user_agent */
	struct asset_cache assets[ALPACA_ASSET_CACHE];
	unsigned next_slot;
};

/* ---- parsers ---- */

enum order_status alpaca_order_status(const char *s)
{
	static const char *const dead[] = { "rejected", "canceled", "expired", "suspended", NULL };

	if (s == NULL)
		return ORDER_SUBMITTED;
	if (strcmp(s, "filled") == 0)
		return ORDER_FILLED;
	for (size_t i = 0; dead[i] != NULL; i++)
		if (strcmp(s, dead[i]) == 0)
			return ORDER_REJECTED;
	return ORDER_SUBMITTED;
}

static json_t *s_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_t *j = broker_parse_json(body, len, err, errlen);

	if (j != NULL && !json_is_object(j)) {
		snprintf(err, errlen, "expected a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

int alpaca_parse_order(const char *body, size_t len, struct broker_order *o, char *err,
                       size_t errlen)
{
	json_t *j = s_object(body, len, err, errlen);
	const char *id, *cid, *status;
	double filled, fprice;

	memset(o, 0, sizeof(*o));
	o->qty = o->price = NAN;
	if (j == NULL)
		return -1;
	id = broker_json_str(j, "id");
	cid = broker_json_str(j, "client_order_id");
	status = broker_json_str(j, "status");
	if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof(o->id) || status == NULL) {
		snprintf(err, errlen, "order without id or status");
		json_decref(j);
		return -1;
	}
	broker_clean_text(o->id, sizeof(o->id), id, NULL);
	broker_clean_text(o->client_id, sizeof(o->client_id), cid, NULL);
	broker_clean_text(o->status, sizeof(o->status), status, NULL);
	o->st = alpaca_order_status(status);
	filled = broker_json_num(json_object_get(j, "filled_qty"));
	fprice = broker_json_num(json_object_get(j, "filled_avg_price"));
	o->qty = broker_json_num(json_object_get(j, "qty"));
	if (!isnan(filled) && filled > 0)
		o->qty = filled;
	if (!isnan(fprice) && fprice > 0)
		o->price = fprice;
	if (!isnan(o->qty) && (o->qty < 0 || o->qty > 1e15))
		o->qty = NAN;
	if (!isnan(o->price) && o->price > 1e15)
		o->price = NAN;
	json_decref(j);
	return 0;
}

void alpaca_error_message(const char *body, size_t len, char *msg, size_t msglen)
{
	char err[128];
	json_t *j = s_object(body, len, err, sizeof(err));
	const char *m = j != NULL ? broker_json_str(j, "message") : NULL;

	if (m != NULL) {
		broker_clean_text(msg, msglen, m, NULL);
	} else {
		char raw[120];
		size_t n = len < sizeof(raw) - 1 ? len : sizeof(raw) - 1;

		memcpy(raw, body != NULL ? body : "", body != NULL ? n : 0);
		raw[body != NULL ? n : 0] = '\0';
		broker_clean_text(msg, msglen, raw, NULL);
	}
	json_decref(j);
}

bool alpaca_is_duplicate_error(const char *body, size_t len)
{
	char msg[256];

	alpaca_error_message(body, len, msg, sizeof(msg));
	return strstr(msg, "client_order_id") != NULL && strstr(msg, "unique") != NULL;
}

static bool s_true(const json_t *j, const char *key)
{
	return json_is_true(json_object_get(j, key));
}

int alpaca_parse_account(const char *body, size_t len, struct broker_account *a, char *err,
                         size_t errlen)
{
	json_t *j = s_object(body, len, err, errlen);
	const char *status, *cur;

	memset(a, 0, sizeof(*a));
	a->buying_power = NAN;
	if (j == NULL)
		return -1;
	status = broker_json_str(j, "status");
	cur = broker_json_str(j, "currency");
	a->blocked = s_true(j, "trading_blocked") || s_true(j, "account_blocked") ||
	             s_true(j, "trade_suspended_by_user") ||
	             (status != NULL && strcmp(status, "ACTIVE") != 0);
	a->buying_power = broker_json_num(json_object_get(j, "buying_power"));
	broker_clean_text(a->currency, sizeof(a->currency), cur, NULL);
	json_decref(j);
	return 0;
}

int alpaca_parse_clock(const char *body, size_t len, struct broker_clock *c, char *err,
                       size_t errlen)
{
	json_t *j = s_object(body, len, err, errlen);
	const json_t *open;
	const char *next;

	memset(c, 0, sizeof(*c));
	if (j == NULL)
		return -1;
	open = json_object_get(j, "is_open");
	if (!json_is_boolean(open)) {
		snprintf(err, errlen, "clock without is_open");
		json_decref(j);
		return -1;
	}
	c->is_open = json_is_true(open);
	next = broker_json_str(j, "next_open");
	if (next == NULL || time_parse_rfc3339(next, &c->next_open) != 0)
		c->next_open = 0;
	json_decref(j);
	return 0;
}

int alpaca_parse_asset(const char *body, size_t len, bool *tradable, char *why, size_t whylen,
                       char *err, size_t errlen)
{
	json_t *j = s_object(body, len, err, errlen);
	const char *status, *sym;
	char s[32], st[32];

	*tradable = false;
	if (j == NULL)
		return -1;
	status = broker_json_str(j, "status");
	sym = broker_json_str(j, "symbol");
	broker_clean_text(s, sizeof(s), sym != NULL ? sym : "?", NULL);
	broker_clean_text(st, sizeof(st), status != NULL ? status : "unknown", NULL);
	if (!s_true(j, "tradable"))
		snprintf(why, whylen, "alpaca: %s is not tradable", s);
	else if (status == NULL || strcmp(status, "active") != 0)
		snprintf(why, whylen, "alpaca: %s is %s", s, st);
	else
		*tradable = true;
	json_decref(j);
	return 0;
}

int alpaca_parse_positions(const char *body, size_t len, const char *symbol, double *qty, char *err,
                           size_t errlen)
{
	json_t *j = broker_parse_json(body, len, err, errlen);
	size_t i;
	json_t *p;

	*qty = 0;
	if (j == NULL)
		return -1;
	if (!json_is_array(j)) {
		snprintf(err, errlen, "positions: expected an array");
		json_decref(j);
		return -1;
	}
	json_array_foreach(j, i, p)
	{
		const char *sym = broker_json_str(p, "symbol"), *side = broker_json_str(p, "side");
		double q;

		if (sym == NULL || strcmp(sym, symbol) != 0)
			continue;
		q = broker_json_num(json_object_get(p, "qty"));
		if (isnan(q)) {
			snprintf(err, errlen, "positions: %s without a quantity", symbol);
			json_decref(j);
			return -1;
		}
		if (side != NULL && strcmp(side, "short") == 0 && q > 0)
			q = -q;
		*qty = q;
		break;
	}
	json_decref(j);
	return 0;
}

/* ---- requests ---- */

static int s_do(struct alpaca *a, const char *method, const char *path, const char *body,
                struct http_response *resp)
{
	char url[2048];
	struct http_request rq = {
		.method = method,
		.url = url,
		.headers = a->headers,
		.body = body,
		.body_len = body != NULL ? strlen(body) : 0,
		/* A POST is sent once: after no answer, the executor looks the
		 * order up before it sends anything again. */
		.max_retries = strcmp(method, "GET") == 0 ? -1 : 0,
	};

	snprintf(url, sizeof(url), "%s%s", a->url, path);
	if (strcmp(method, "GET") != 0) {
		/* An order goes out on a connection of its own.  libcurl
		 * silently re-sends a request when a reused keep-alive
		 * connection turns out dead, which for a POST could place a
		 * second order; a new handle has no connection to reuse. */
		http_client_t *once = http_new(&a->hopts);
		int rc;

		if (once == NULL) {
			memset(resp, 0, sizeof(*resp));
			snprintf(resp->error, sizeof(resp->error), "alpaca: no HTTP client");
			return -1;
		}
		rc = http_do(once, &rq, resp);
		http_free(&once);
		return rc;
	}
	return http_do(a->http, &rq, resp);
}

/* Describe a failed request or an unexpected status in err, without
 * secrets. */
static void s_describe(struct alpaca *a, int rc, const struct http_response *r, char *err,
                       size_t errlen)
{
	char msg[200];

	if (rc != 0) {
		broker_clean_text(err, errlen, r->error, a->secrets);
		return;
	}
	alpaca_error_message(r->body, r->len, msg, sizeof(msg));
	{
		char raw[300];
		snprintf(raw, sizeof(raw), "alpaca: HTTP %ld: %s", r->status, msg);
		broker_clean_text(err, errlen, raw, a->secrets);
	}
}

static char *s_order_body(const struct broker_req *rq)
{
	json_t *j = json_object();
	char num[64];
	char *s;

	if (j == NULL)
		return NULL;
	json_object_set_new(j, "symbol", json_string(rq->intent->ticker));
	if (!isnan(rq->qty))
		json_object_set_new(j, "qty",
		                    json_string(broker_fmt_decimal(rq->qty, num, sizeof(num))));
	else
		json_object_set_new(j, "notional",
		                    json_string(broker_fmt_decimal(round(rq->notional * 100) / 100,
		                                                   num, sizeof(num))));
	json_object_set_new(j, "side", json_string(side_name(rq->side)));
	json_object_set_new(j, "type", json_string("market"));
	json_object_set_new(j, "time_in_force", json_string("day"));
	json_object_set_new(j, "client_order_id", json_string(rq->client_id));
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* Fill o from a 200 answer that should be our order; BROKER_OK, or
 * BROKER_AMBIGUOUS when the body cannot be read or names another order. */
static enum broker_outcome s_take_order(struct alpaca *a, const struct http_response *r,
                                        const struct broker_req *rq, struct broker_order *o)
{
	char err[200];

	if (alpaca_parse_order(r->body, r->len, o, err, sizeof(err)) != 0) {
		char raw[260];
		snprintf(raw, sizeof(raw), "alpaca: unreadable order: %s", err);
		broker_clean_text(o->reason, sizeof(o->reason), raw, a->secrets);
		o->http_status = r->status;
		return BROKER_AMBIGUOUS;
	}
	o->http_status = r->status;
	if (strcmp(o->client_id, rq->client_id) != 0) {
		snprintf(o->reason, sizeof(o->reason),
		         "alpaca: answer names client_order_id '%.60s', not '%s'", o->client_id,
		         rq->client_id);
		return BROKER_AMBIGUOUS;
	}
	return BROKER_OK;
}

static enum broker_outcome s_submit(void *self, const struct broker_req *rq, struct broker_order *o)
{
	struct alpaca *a = self;
	struct http_response r;
	enum broker_outcome out;
	char *body = s_order_body(rq);
	int rc;

	memset(o, 0, sizeof(*o));
	o->qty = o->price = NAN;
	if (body == NULL) {
		snprintf(o->reason, sizeof(o->reason), "alpaca: out of memory");
		return BROKER_REJECTED; /* nothing was sent */
	}
	rc = s_do(a, "POST", "/v2/orders", body, &r);
	free(body);
	o->http_status = r.status;
	if (rc != 0) {
		s_describe(a, rc, &r, o->reason, sizeof(o->reason));
		out = BROKER_AMBIGUOUS;
	} else if (r.status == 200 || r.status == 201) {
		out = s_take_order(a, &r, rq, o);
	} else if (r.status == 422 && alpaca_is_duplicate_error(r.body, r.len)) {
		s_describe(a, rc, &r, o->reason, sizeof(o->reason));
		out = BROKER_EXISTS;
	} else if (r.status == 400 || r.status == 403 || r.status == 404 || r.status == 422) {
		s_describe(a, rc, &r, o->reason, sizeof(o->reason));
		o->st = ORDER_REJECTED;
		out = BROKER_REJECTED;
	} else {
		s_describe(a, rc, &r, o->reason, sizeof(o->reason));
		out = BROKER_AMBIGUOUS;
	}
	http_response_free(&r);
	return out;
}

static enum broker_outcome s_lookup(void *self, const struct broker_req *rq, struct broker_order *o)
{
	struct alpaca *a = self;
	struct http_response r;
	enum broker_outcome out;
	char path[256], enc[200];
	int rc;

	memset(o, 0, sizeof(*o));
	o->qty = o->price = NAN;
	if (broker_urlenc(rq->client_id, enc, sizeof(enc)) != 0) {
		snprintf(o->reason, sizeof(o->reason), "alpaca: client id too long");
		return BROKER_AMBIGUOUS;
	}
	snprintf(path, sizeof(path), "/v2/orders:by_client_order_id?client_order_id=%s", enc);
	rc = s_do(a, "GET", path, NULL, &r);
	o->http_status = r.status;
	if (rc == 0 && r.status == 200) {
		out = s_take_order(a, &r, rq, o);
	} else if (rc == 0 && r.status == 404) {
		out = BROKER_NOT_FOUND;
	} else {
		s_describe(a, rc, &r, o->reason, sizeof(o->reason));
		out = BROKER_AMBIGUOUS;
	}
	http_response_free(&r);
	return out;
}

/* GET a path and hand a 200 body to the caller; -1 with err otherwise. */
static int s_get(struct alpaca *a, const char *path, struct http_response *r, char *err,
                 size_t errlen)
{
	int rc = s_do(a, "GET", path, NULL, r);

	if (rc == 0 && r->status == 200)
		return 0;
	s_describe(a, rc, r, err, errlen);
	http_response_free(r);
	return -1;
}

static int s_account(void *self, struct broker_account *acc, char *err, size_t errlen)
{
	struct alpaca *a = self;
	struct http_response r;
	int rc;

	if (s_get(a, "/v2/account", &r, err, errlen) != 0)
		return -1;
	rc = alpaca_parse_account(r.body, r.len, acc, err, errlen);
	http_response_free(&r);
	return rc;
}

static int s_position(void *self, const intent_t *in, double *qty, char *err, size_t errlen)
{
	struct alpaca *a = self;
	struct http_response r;
	int rc;

	if (s_get(a, "/v2/positions", &r, err, errlen) != 0)
		return -1;
	rc = alpaca_parse_positions(r.body, r.len, in->ticker, qty, err, errlen);
	http_response_free(&r);
	return rc;
}

static int s_clock(void *self, struct broker_clock *c, char *err, size_t errlen)
{
	struct alpaca *a = self;
	struct http_response r;
	int rc;

	if (s_get(a, "/v2/clock", &r, err, errlen) != 0)
		return -1;
	rc = alpaca_parse_clock(r.body, r.len, c, err, errlen);
	http_response_free(&r);
	return rc;
}

static int s_tradable(void *self, const intent_t *in, bool *ok, char *why, size_t whylen, char *err,
                      size_t errlen)
{
	struct alpaca *a = self;
	struct http_response r;
	struct asset_cache *slot;
	char path[128], enc[96];
	int64_t now = time_mono_ms();
	int rc;

	for (size_t i = 0; i < ALPACA_ASSET_CACHE; i++) {
		slot = &a->assets[i];
		if (slot->until_ms > now && strcmp(slot->symbol, in->ticker) == 0) {
			*ok = slot->tradable;
			snprintf(why, whylen, "%s", slot->why);
			return 0;
		}
	}
	if (strlen(in->ticker) >= sizeof(slot->symbol) ||
	    broker_urlenc(in->ticker, enc, sizeof(enc)) != 0) {
		*ok = false;
		snprintf(why, whylen, "alpaca: ticker too long");
		return 0;
	}
	snprintf(path, sizeof(path), "/v2/assets/%s", enc);
	rc = s_do(a, "GET", path, NULL, &r);
	if (rc == 0 && r.status == 404) {
		*ok = false;
		snprintf(why, whylen, "alpaca: asset %s not found", in->ticker);
	} else if (rc == 0 && r.status == 200) {
		if (alpaca_parse_asset(r.body, r.len, ok, why, whylen, err, errlen) != 0) {
			http_response_free(&r);
			return -1;
		}
	} else {
		s_describe(a, rc, &r, err, errlen);
		http_response_free(&r);
		return -1;
	}
	http_response_free(&r);
	slot = &a->assets[a->next_slot++ % ALPACA_ASSET_CACHE];
	snprintf(slot->symbol, sizeof(slot->symbol), "%s", in->ticker);
	slot->tradable = *ok;
	snprintf(slot->why, sizeof(slot->why), "%s", *ok ? "" : why);
	slot->until_ms = now + ALPACA_ASSET_TTL_MS;
	return 0;
}

static void s_destroy(void *self)
{
	struct alpaca *a = self;

	if (a == NULL)
		return;
	http_free(&a->http);
	free(a->url);
	free(a->ua);
	/* Wipe the keys before their memory is reused. */
	if (a->hdr_key != NULL)
		explicit_bzero(a->hdr_key, strlen(a->hdr_key));
	if (a->hdr_secret != NULL)
		explicit_bzero(a->hdr_secret, strlen(a->hdr_secret));
	if (a->key_id != NULL)
		explicit_bzero(a->key_id, strlen(a->key_id));
	if (a->secret != NULL)
		explicit_bzero(a->secret, strlen(a->secret));
	free(a->hdr_key);
	free(a->hdr_secret);
	free(a->key_id);
	free(a->secret);
	free(a);
}

static const struct broker_ops s_ops = {
	.name = "alpaca",
	.submit = s_submit,
	.lookup = s_lookup,
	.account = s_account,
	.position = s_position,
	.clock = s_clock,
	.tradable = s_tradable,
	.destroy = s_destroy,
};

broker_t *alpaca_broker_new(const struct alpaca_opts *o, char *err, size_t errlen)
{
	struct alpaca *a = calloc(1, sizeof(*a));
	broker_t *b = calloc(1, sizeof(*b));
	struct http_opts ho = {
		.user_agent = o->http.user_agent,
		.timeout_ms = o->http.timeout_ms,
		.connect_timeout_ms = o->http.connect_timeout_ms,
		.max_bytes = ALPACA_MAX_BYTES,
		/* http_opts: 0 means the default; -1 means none. */
		.max_retries = o->http.get_retries > 0 ? o->http.get_retries : -1,
		.backoff_base_ms = 200,
		.backoff_max_ms = 5000,
		.stop = o->http.stop,
	};
	size_t n;

	if (a == NULL || b == NULL)
		goto nomem;
	if (o->url == NULL || o->key_id == NULL || o->key_id[0] == '\0' || o->secret == NULL ||
	    o->secret[0] == '\0') {
		snprintf(err, errlen,
		         "alpaca: needs executor.alpaca_url, executor.alpaca_key_id and "
		         "executor.alpaca_secret");
		goto fail;
	}
	if (strpbrk(o->key_id, "\r\n") != NULL || strpbrk(o->secret, "\r\n") != NULL) {
		snprintf(err, errlen, "alpaca: a key holds a line break");
		goto fail;
	}
	a->url = strdup(o->url);
	a->key_id = strdup(o->key_id);
	a->secret = strdup(o->secret);
	if (a->url == NULL || a->key_id == NULL || a->secret == NULL)
		goto nomem;
	n = strlen(a->url);
	while (n > 0 && a->url[n - 1] == '/')
		a->url[--n] = '\0';
	if (asprintf(&a->hdr_key, "APCA-API-KEY-ID: %s", o->key_id) < 0) {
		a->hdr_key = NULL;
		goto nomem;
	}
	if (asprintf(&a->hdr_secret, "APCA-API-SECRET-KEY: %s", o->secret) < 0) {
		a->hdr_secret = NULL;
		goto nomem;
	}
	a->headers[0] = a->hdr_key;
	a->headers[1] = a->hdr_secret;
	a->headers[2] = "Content-Type: application/json";
	a->headers[3] = "Accept: application/json";
	a->headers[4] = NULL;
	a->secrets[0] = a->key_id;
	a->secrets[1] = a->secret;
	a->secrets[2] = NULL;
	a->ua = strdup(o->http.user_agent != NULL ? o->http.user_agent : "coattail");
	if (a->ua == NULL)
		goto nomem;
	ho.user_agent = a->ua;
	a->hopts = ho;
	a->http = http_new(&ho);
	if (a->http == NULL) {
		snprintf(err, errlen, "alpaca: cannot create the HTTP client");
		goto fail;
	}
	b->ops = &s_ops;
	b->self = a;
	return b;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	s_destroy(a);
	free(b);
	return NULL;
}
