/*
 * lemon.c - the lemon.markets Trading API v1 broker (as the original
 * system used it).
 *
 *   submit    POST /v1/orders {isin, side, quantity, venue, idempotency,
 *             notes}, sent once, then POST /v1/orders/{id}/activate
 *             {pin?}.  An order does nothing until it is activated.
 *   lookup    GET /v1/orders?isin=&side=&limit=100&page=N, every page (up
 *             to LEMON_MAX_PAGES), for the order whose "idempotency"
 *             equals our key or whose "notes" hold it; an order found
 *             still "inactive" is activated here, so a crash between the
 *             two steps is finished by the reconciliation.
 *   account   GET /v1/account (cash_to_invest, in 1/10,000 EUR)
 *   position  GET /v1/positions?isin=
 *   clock     GET {data}/v1/venues?mic=VENUE (is_open; no next open)
 *   tradable  GET {data}/v1/instruments?isin= (or ?search=TICKER&type=stock
 *             when the intent has no ISIN: only an exact symbol match is
 *             taken), cached per ticker.
 *
 * What exactly-once relies on here.  APIS.md marks the server's handling
 * of a reused `idempotency` value as unverified [U], so nothing depends on
 * the server refusing or replaying a second create.  The executor never
 * sends a second create for an intent without first listing the orders of
 * that ISIN and side and finding none that carries the key, and the key is
 * sent twice, in "idempotency" (echoed by the v1 API in the SDK's recorded
 * answers) and as the whole of "notes" ("coattail <key>"), so either field
 * identifies the order.  An error answer that names idempotency is taken as
 * "exists" and looked up.  A lookup that finds nothing is believed only
 * executor.doubt_settle_ms after the create began (executor.c, the settle
 * rule), since a create the client gave up on may still be committed later.
 * What remains assumed: that GET /orders lists an order once its create
 * has been committed, and that no create is committed later than the
 * settle time after it was sent.
 *
 * Quantities are whole shares: a notional intent buys
 * floor(notional / ref_price) shares (both USD, so the count does not
 * depend on the venue's EUR prices); prices reported back are EUR.
 */
#include "lemon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "log.h"
#include "timeutil.h"

#define LEMON_MAX_BYTES    (4 * 1024 * 1024)
#define LEMON_MAX_PAGES    50
#define LEMON_PAGE_LIMIT   100
#define LEMON_ISIN_TTL_MS  (60 * 60 * 1000)
#define LEMON_ISIN_CACHE   64
#define LEMON_NOTES_PREFIX "coattail "

struct isin_cache {
	char ticker[32];
	char isin[16];
	bool tradable;
	int64_t until_ms; /* 0: empty */
};

struct lemon {
	http_client_t *http;    /* GETs: keep-alive */
	struct http_opts hopts; /* for the one-shot client of each POST */
	char *url, *data_url;   /* ending in /v1 */
	char *hdr_auth, *hdr_data_auth;
	const char *headers[4], *data_headers[3];
	const char *secrets[4];
	char *key, *data_key, *pin;
	char *ua; /* hopts.user_agent */
	char venue[16];
	struct isin_cache isins[LEMON_ISIN_CACHE];
	unsigned next_slot;
};

/* ---- parsers ---- */

enum order_status lemon_order_status(const char *s)
{
	if (s == NULL)
		return ORDER_SUBMITTED;
	if (strcmp(s, "executed") == 0)
		return ORDER_FILLED;
	if (strcmp(s, "rejected") == 0 || strcmp(s, "canceled") == 0 ||
	    strcmp(s, "cancelled") == 0 || strcmp(s, "expired") == 0)
		return ORDER_REJECTED;
	return ORDER_SUBMITTED;
}

double lemon_money(const json_t *v)
{
	double x = broker_json_num(v);

	return isnan(x) ? NAN : x / LEMON_MONEY_SCALE;
}

int lemon_open_envelope(const char *body, size_t len, json_t **root, json_t **results, char *err,
                        size_t errlen)
{
	json_t *j = broker_parse_json(body, len, err, errlen);
	const char *status, *code, *msg;
	char c[64], m[160];

	*root = NULL;
	*results = NULL;
	if (j == NULL)
		return -1;
	if (!json_is_object(j)) {
		snprintf(err, errlen, "lemon: answer is not a JSON object");
		json_decref(j);
		return -1;
	}
	status = broker_json_str(j, "status");
	if (status != NULL && strcmp(status, "ok") == 0) {
		*root = j;
		*results = json_object_get(j, "results");
		return 0;
	}
	code = broker_json_str(j, "error_code");
	if (code == NULL)
		code = broker_json_str(j, "error_type"); /* the 2021 API */
	msg = broker_json_str(j, "error_message");
	broker_clean_text(c, sizeof(c), code != NULL ? code : "error", NULL);
	broker_clean_text(m, sizeof(m), msg != NULL ? msg : "", NULL);
	if (status == NULL)
		snprintf(err, errlen, "lemon: answer without a status");
	else
		snprintf(err, errlen, "lemon: %s%s%s", c, m[0] ? ": " : "", m);
	json_decref(j);
	return -1;
}

int lemon_parse_order(const json_t *order, struct broker_order *o, char *err, size_t errlen)
{
	const char *id = broker_json_str(order, "id"), *status = broker_json_str(order, "status");
	const char *idem = broker_json_str(order, "idempotency");
	double q, eq;

	memset(o, 0, sizeof(*o));
	o->qty = o->price = NAN;
	if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof(o->id) || status == NULL) {
		snprintf(err, errlen, "lemon: order without id or status");
		return -1;
	}
	broker_clean_text(o->id, sizeof(o->id), id, NULL);
	broker_clean_text(o->status, sizeof(o->status), status, NULL);
	broker_clean_text(o->client_id, sizeof(o->client_id), idem, NULL);
	o->st = lemon_order_status(status);
	q = broker_json_num(json_object_get(order, "quantity"));
	eq = broker_json_num(json_object_get(order, "executed_quantity"));
	o->qty = (!isnan(eq) && eq > 0) ? eq : q;
	if (!isnan(o->qty) && (o->qty < 0 || o->qty > 1e15))
		o->qty = NAN;
	o->price = lemon_money(json_object_get(order, "executed_price"));
	if (!isnan(o->price) && (o->price <= 0 || o->price > 1e15))
		o->price = NAN;
	return 0;
}

bool lemon_order_matches(const json_t *order, const char *key)
{
	const char *idem = broker_json_str(order, "idempotency");
	const char *notes = broker_json_str(order, "notes");
	char want[128];

	if (idem != NULL && strcmp(idem, key) == 0)
		return true;
	/* The whole note, not a part of it: key "short-7" must not claim the
	 * order of "short-70". */
	snprintf(want, sizeof(want), "%s%s", LEMON_NOTES_PREFIX, key);
	return notes != NULL && strcmp(notes, want) == 0;
}

int lemon_find_in_page(const char *body, size_t len, const char *key, struct broker_order *o,
                       bool *found, bool *more, char *err, size_t errlen)
{
	json_t *root, *res, *ord;
	size_t i;
	int rc = 0;

	*found = false;
	*more = false;
	if (lemon_open_envelope(body, len, &root, &res, err, errlen) != 0)
		return -1;
	if (!json_is_array(res)) {
		snprintf(err, errlen, "lemon: orders: results is not an array");
		json_decref(root);
		return -1;
	}
	json_array_foreach(res, i, ord)
	{
		if (!json_is_object(ord) || !lemon_order_matches(ord, key))
			continue;
		rc = lemon_parse_order(ord, o, err, errlen);
		*found = rc == 0;
		break;
	}
	{
		const json_t *next = json_object_get(root, "next");
		double page = broker_json_num(json_object_get(root, "page"));
		double pages = broker_json_num(json_object_get(root, "pages"));

		if (!isnan(page) && !isnan(pages))
			*more = page < pages && json_array_size(res) > 0;
		else
			*more = json_is_string(next) && json_array_size(res) > 0;
	}
	json_decref(root);
	return rc;
}

int lemon_parse_account(const char *body, size_t len, struct broker_account *a, char *err,
                        size_t errlen)
{
	json_t *root, *res;

	memset(a, 0, sizeof(*a));
	a->buying_power = NAN;
	if (lemon_open_envelope(body, len, &root, &res, err, errlen) != 0)
		return -1;
	if (!json_is_object(res)) {
		snprintf(err, errlen, "lemon: account: no results");
		json_decref(root);
		return -1;
	}
	a->buying_power = lemon_money(json_object_get(res, "cash_to_invest"));
	if (isnan(a->buying_power))
		a->buying_power = lemon_money(json_object_get(res, "balance"));
	snprintf(a->currency, sizeof(a->currency), "EUR");
	json_decref(root);
	return 0;
}

int lemon_parse_positions(const char *body, size_t len, const char *isin, double *qty, char *err,
                          size_t errlen)
{
	json_t *root, *res, *p;
	size_t i;

	*qty = 0;
	if (lemon_open_envelope(body, len, &root, &res, err, errlen) != 0)
		return -1;
	if (!json_is_array(res)) {
		snprintf(err, errlen, "lemon: positions: results is not an array");
		json_decref(root);
		return -1;
	}
	json_array_foreach(res, i, p)
	{
		const char *pi = broker_json_str(p, "isin");
		double q = broker_json_num(json_object_get(p, "quantity"));

		if (pi != NULL && strcmp(pi, isin) == 0 && !isnan(q))
			*qty += q;
	}
	json_decref(root);
	return 0;
}

int lemon_parse_venue(const char *body, size_t len, const char *mic, bool *is_open, char *err,
                      size_t errlen)
{
	json_t *root, *res, *v;
	size_t i;

	*is_open = false;
	if (lemon_open_envelope(body, len, &root, &res, err, errlen) != 0) {
		/* The market data API's answers carry no status in the
		 * recorded samples: accept a bare {results: [...]} too. */
		json_t *j = broker_parse_json(body, len, err, errlen);
		if (j == NULL || !json_is_array(json_object_get(j, "results"))) {
			json_decref(j);
			return -1;
		}
		root = j;
		res = json_object_get(j, "results");
	}
	if (!json_is_array(res)) {
		snprintf(err, errlen, "lemon: venues: results is not an array");
		json_decref(root);
		return -1;
	}
	json_array_foreach(res, i, v)
	{
		const char *m = broker_json_str(v, "mic");

		if (m != NULL && strcasecmp(m, mic) == 0) {
			*is_open = json_is_true(json_object_get(v, "is_open"));
			json_decref(root);
			return 0;
		}
	}
	snprintf(err, errlen, "lemon: venue %s not listed", mic);
	json_decref(root);
	return -1;
}

int lemon_parse_instrument(const char *body, size_t len, const char *want, const char *mic,
                           char *isin, size_t isinlen, bool *tradable, char *err, size_t errlen)
{
	json_t *j = broker_parse_json(body, len, err, errlen), *res, *ins;
	size_t i;

	isin[0] = '\0';
	*tradable = false;
	if (j == NULL)
		return -1;
	res = json_object_get(j, "results");
	if (!json_is_array(res)) {
		const char *status = broker_json_str(j, "status");
		snprintf(err, errlen, "lemon: instruments: %s",
		         status != NULL && strcmp(status, "error") == 0 ? "error answer"
		                                                        : "no results");
		json_decref(j);
		return -1;
	}
	json_array_foreach(res, i, ins)
	{
		const char *sym = broker_json_str(ins, "symbol"),
		           *is = broker_json_str(ins, "isin");
		const json_t *venues = json_object_get(ins, "venues"), *v;
		size_t k;

		if (is == NULL || strlen(is) != 12)
			continue;
		if (!(sym != NULL && strcasecmp(sym, want) == 0) && strcasecmp(is, want) != 0)
			continue;
		broker_clean_text(isin, isinlen, is, NULL);
		json_array_foreach(venues, k, v)
		{
			const char *m = broker_json_str(v, "mic");
			if (m != NULL && strcasecmp(m, mic) == 0 &&
			    json_is_true(json_object_get(v, "tradable")))
				*tradable = true;
		}
		break;
	}
	json_decref(j);
	return 0;
}

/* ---- requests ---- */

static int s_do(struct lemon *l, bool data, const char *method, const char *path, const char *body,
                struct http_response *resp)
{
	char url[2048];
	struct http_request rq = {
		.method = method,
		.url = url,
		.headers = data ? l->data_headers : l->headers,
		.body = body,
		.body_len = body != NULL ? strlen(body) : 0,
		/* POSTs once: the executor looks up before sending again. */
		.max_retries = strcmp(method, "GET") == 0 ? -1 : 0,
	};

	snprintf(url, sizeof(url), "%s%s", data ? l->data_url : l->url, path);
	if (strcmp(method, "GET") != 0) {
		/* A POST goes out on a connection of its own: libcurl silently
		 * re-sends a request when a reused keep-alive connection turns
		 * out dead, and a second create would be a second order. */
		http_client_t *once = http_new(&l->hopts);
		int rc;

		if (once == NULL) {
			memset(resp, 0, sizeof(*resp));
			snprintf(resp->error, sizeof(resp->error), "lemon: no HTTP client");
			return -1;
		}
		rc = http_do(once, &rq, resp);
		http_free(&once);
		return rc;
	}
	return http_do(l->http, &rq, resp);
}

static void s_describe(struct lemon *l, int rc, const struct http_response *r, const char *what,
                       char *err, size_t errlen)
{
	char raw[400], why[256];
	json_t *root, *res;

	if (rc != 0) {
		broker_clean_text(err, errlen, r->error, l->secrets);
		return;
	}
	if (lemon_open_envelope(r->body, r->len, &root, &res, why, sizeof(why)) == 0) {
		json_decref(root);
		snprintf(why, sizeof(why), "unexpected answer");
	}
	snprintf(raw, sizeof(raw), "%s: HTTP %ld: %s", what, r->status, why);
	broker_clean_text(err, errlen, raw, l->secrets);
}

/* The ISIN of an intent: its own, else the cache, else the instruments
 * search.  0 with isin filled (and *tradable), 1 when lemon lists no exact
 * match, -1 on a failed request (err). */
static int s_resolve(struct lemon *l, const intent_t *in, char *isin, size_t len, bool *tradable,
                     char *err, size_t errlen)
{
	struct http_response r;
	struct isin_cache *slot;
	char path[256], enc[128];
	const char *want = in->isin != NULL ? in->isin : in->ticker;
	int64_t now = time_mono_ms();
	int rc;

	for (size_t i = 0; i < LEMON_ISIN_CACHE; i++) {
		slot = &l->isins[i];
		if (slot->until_ms > now && strcmp(slot->ticker, want) == 0) {
			snprintf(isin, len, "%s", slot->isin);
			*tradable = slot->tradable;
			return 0;
		}
	}
	if (strlen(want) >= sizeof(slot->ticker) || broker_urlenc(want, enc, sizeof(enc)) != 0) {
		snprintf(err, errlen, "lemon: ticker too long");
		return 1;
	}
	if (in->isin != NULL)
		snprintf(path, sizeof(path), "/instruments?isin=%s", enc);
	else
		snprintf(path, sizeof(path), "/instruments?search=%s&type=stock", enc);
	rc = s_do(l, true, "GET", path, NULL, &r);
	if (rc != 0 || r.status != 200) {
		s_describe(l, rc, &r, "lemon: instruments", err, errlen);
		http_response_free(&r);
		return -1;
	}
	rc =
	    lemon_parse_instrument(r.body, r.len, want, l->venue, isin, len, tradable, err, errlen);
	http_response_free(&r);
	if (rc != 0)
		return -1;
	if (isin[0] == '\0')
		return 1;
	slot = &l->isins[l->next_slot++ % LEMON_ISIN_CACHE];
	snprintf(slot->ticker, sizeof(slot->ticker), "%s", want);
	snprintf(slot->isin, sizeof(slot->isin), "%s", isin);
	slot->tradable = *tradable;
	slot->until_ms = now + LEMON_ISIN_TTL_MS;
	return 0;
}

/* Activate a created order (o->id).  Fills o's status; BROKER_OK (placed:
 * activated, or an activation refused for good with o->st REJECTED) or
 * BROKER_AMBIGUOUS (no usable answer: the lookup will activate it). */
static enum broker_outcome s_activate(struct lemon *l, struct broker_order *o)
{
	struct http_response r;
	char path[256], enc[160], *body;
	json_t *root, *res, *j;
	int rc;

	if (broker_urlenc(o->id, enc, sizeof(enc)) != 0) {
		snprintf(o->reason, sizeof(o->reason), "lemon: order id too long");
		return BROKER_AMBIGUOUS;
	}
	j = json_object();
	if (l->pin != NULL)
		json_object_set_new(j, "pin", json_string(l->pin));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (body == NULL) {
		snprintf(o->reason, sizeof(o->reason), "lemon: out of memory");
		return BROKER_AMBIGUOUS;
	}
	snprintf(path, sizeof(path), "/orders/%s/activate", enc);
	rc = s_do(l, false, "POST", path, body, &r);
	explicit_bzero(body, strlen(body));
	free(body);
	o->http_status = r.status;
	if (rc == 0 && r.status >= 200 && r.status < 300 &&
	    lemon_open_envelope(r.body, r.len, &root, &res, o->reason, sizeof(o->reason)) == 0) {
		json_decref(root);
		snprintf(o->status, sizeof(o->status), "activated");
		o->st = ORDER_SUBMITTED;
		o->reason[0] = '\0';
		http_response_free(&r);
		return BROKER_OK;
	}
	s_describe(l, rc, &r, "lemon: activate", o->reason, sizeof(o->reason));
	if (rc == 0 && r.status >= 400 && r.status < 500 && r.status != 429 && r.status != 408) {
		/* Refused for good (a wrong pin, say): the order exists but
		 * will never trade.  Report it as rejected, with its id. */
		char why[256];
		snprintf(why, sizeof(why), "activation refused: %.200s", o->reason);
		snprintf(o->reason, sizeof(o->reason), "%s", why);
		o->st = ORDER_REJECTED;
		http_response_free(&r);
		return BROKER_OK;
	}
	http_response_free(&r);
	return BROKER_AMBIGUOUS;
}

/* Whole shares to order, or 0 (reason filled). */
static double s_whole_shares(const struct broker_req *rq, struct broker_order *o)
{
	double q;

	if (!isnan(rq->qty)) {
		q = floor(rq->qty);
		if (q < 1)
			snprintf(o->reason, sizeof(o->reason),
			         "lemon: trades whole shares; %g is less than one", rq->qty);
	} else {
		if (isnan(rq->ref_price) || rq->ref_price <= 0) {
			snprintf(o->reason, sizeof(o->reason),
			         "lemon: a notional order needs a ref_price to count shares");
			return 0;
		}
		q = floor(rq->notional / rq->ref_price);
		if (q < 1)
			snprintf(o->reason, sizeof(o->reason),
			         "lemon: %.2f USD buys less than one share at %.2f", rq->notional,
			         rq->ref_price);
	}
	return q >= 1 && q <= 1e9 ? q : 0;
}

static enum broker_outcome s_submit(void *self, const struct broker_req *rq, struct broker_order *o)
{
	struct lemon *l = self;
	struct http_response r;
	char isin[16], notes[128], why[256];
	json_t *j, *root, *res;
	bool tradable;
	double shares;
	char *body;
	int rc;

	memset(o, 0, sizeof(*o));
	o->qty = o->price = NAN;
	rc = s_resolve(l, rq->intent, isin, sizeof(isin), &tradable, why, sizeof(why));
	if (rc != 0) {
		snprintf(o->reason, sizeof(o->reason), "%s",
		         rc > 0 ? "lemon: no ISIN for the ticker" : why);
		/* Nothing was sent. */
		o->st = ORDER_REJECTED;
		return rc > 0 ? BROKER_REJECTED : BROKER_AMBIGUOUS;
	}
	shares = s_whole_shares(rq, o);
	if (shares < 1) {
		o->st = ORDER_REJECTED;
		return BROKER_REJECTED;
	}
	snprintf(notes, sizeof(notes), "%s%s", LEMON_NOTES_PREFIX, rq->client_id);
	j = json_object();
	json_object_set_new(j, "isin", json_string(isin));
	json_object_set_new(j, "side", json_string(side_name(rq->side)));
	json_object_set_new(j, "quantity", json_integer((json_int_t)shares));
	json_object_set_new(j, "venue", json_string(l->venue));
	json_object_set_new(j, "idempotency", json_string(rq->client_id));
	json_object_set_new(j, "notes", json_string(notes));
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (body == NULL) {
		snprintf(o->reason, sizeof(o->reason), "lemon: out of memory");
		return BROKER_REJECTED;
	}
	rc = s_do(l, false, "POST", "/orders", body, &r);
	free(body);
	o->http_status = r.status;
	if (rc != 0) {
		s_describe(l, rc, &r, "lemon: create", o->reason, sizeof(o->reason));
		http_response_free(&r);
		return BROKER_AMBIGUOUS;
	}
	if (r.status >= 200 && r.status < 300) {
		if (lemon_open_envelope(r.body, r.len, &root, &res, why, sizeof(why)) != 0 ||
		    lemon_parse_order(res, o, why, sizeof(why)) != 0) {
			if (root != NULL)
				json_decref(root);
			snprintf(o->reason, sizeof(o->reason),
			         "lemon: create: unreadable answer: %.180s", why);
			o->http_status = r.status;
			http_response_free(&r);
			return BROKER_AMBIGUOUS;
		}
		json_decref(root);
		http_response_free(&r);
		snprintf(o->client_id, sizeof(o->client_id), "%s", rq->client_id);
		if (!isnan(shares) && isnan(o->qty))
			o->qty = shares;
		if (strcmp(o->status, "inactive") != 0)
			return BROKER_OK;
		return s_activate(l, o);
	}
	s_describe(l, rc, &r, "lemon: create", o->reason, sizeof(o->reason));
	http_response_free(&r);
	if (strstr(o->reason, "idempotency") != NULL)
		return BROKER_EXISTS;
	if (r.status == 400 || r.status == 403 || r.status == 404 || r.status == 409 ||
	    r.status == 422) {
		o->st = ORDER_REJECTED;
		return BROKER_REJECTED;
	}
	return BROKER_AMBIGUOUS;
}

static enum broker_outcome s_lookup(void *self, const struct broker_req *rq, struct broker_order *o)
{
	struct lemon *l = self;
	char isin[16], why[256], path[256];
	bool tradable, found = false, more = true;
	int rc;

	memset(o, 0, sizeof(*o));
	o->qty = o->price = NAN;
	rc = s_resolve(l, rq->intent, isin, sizeof(isin), &tradable, why, sizeof(why));
	if (rc > 0)
		return BROKER_NOT_FOUND; /* no ISIN: no order can have been made */
	if (rc < 0) {
		snprintf(o->reason, sizeof(o->reason), "%s", why);
		return BROKER_AMBIGUOUS;
	}
	for (int page = 1; more && !found; page++) {
		struct http_response r;

		if (page > LEMON_MAX_PAGES) {
			snprintf(o->reason, sizeof(o->reason),
			         "lemon: more than %d pages of orders for %s", LEMON_MAX_PAGES,
			         isin);
			return BROKER_AMBIGUOUS;
		}
		snprintf(path, sizeof(path), "/orders?isin=%s&side=%s&limit=%d&page=%d", isin,
		         side_name(rq->side), LEMON_PAGE_LIMIT, page);
		rc = s_do(l, false, "GET", path, NULL, &r);
		if (rc != 0 || r.status != 200) {
			s_describe(l, rc, &r, "lemon: orders", o->reason, sizeof(o->reason));
			http_response_free(&r);
			return BROKER_AMBIGUOUS;
		}
		rc = lemon_find_in_page(r.body, r.len, rq->client_id, o, &found, &more, why,
		                        sizeof(why));
		http_response_free(&r);
		if (rc != 0) {
			snprintf(o->reason, sizeof(o->reason), "%s", why);
			return BROKER_AMBIGUOUS;
		}
	}
	if (!found)
		return BROKER_NOT_FOUND;
	snprintf(o->client_id, sizeof(o->client_id), "%s", rq->client_id);
	if (strcmp(o->status, "inactive") == 0)
		return s_activate(l, o);
	return BROKER_OK;
}

static int s_account(void *self, struct broker_account *a, char *err, size_t errlen)
{
	struct lemon *l = self;
	struct http_response r;
	int rc = s_do(l, false, "GET", "/account", NULL, &r);

	if (rc != 0 || r.status != 200) {
		s_describe(l, rc, &r, "lemon: account", err, errlen);
		http_response_free(&r);
		return -1;
	}
	rc = lemon_parse_account(r.body, r.len, a, err, errlen);
	http_response_free(&r);
	return rc;
}

static int s_position(void *self, const intent_t *in, double *qty, char *err, size_t errlen)
{
	struct lemon *l = self;
	struct http_response r;
	char isin[16], path[128];
	bool tradable;
	int rc = s_resolve(l, in, isin, sizeof(isin), &tradable, err, errlen);

	*qty = 0;
	if (rc > 0)
		return 0; /* not listed: nothing held */
	if (rc < 0)
		return -1;
	snprintf(path, sizeof(path), "/positions?isin=%s", isin);
	rc = s_do(l, false, "GET", path, NULL, &r);
	if (rc != 0 || r.status != 200) {
		s_describe(l, rc, &r, "lemon: positions", err, errlen);
		http_response_free(&r);
		return -1;
	}
	rc = lemon_parse_positions(r.body, r.len, isin, qty, err, errlen);
	http_response_free(&r);
	return rc;
}

static int s_clock(void *self, struct broker_clock *c, char *err, size_t errlen)
{
	struct lemon *l = self;
	struct http_response r;
	char path[128];
	int rc;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "/venues?mic=%s", l->venue);
	rc = s_do(l, true, "GET", path, NULL, &r);
	if (rc != 0 || r.status != 200) {
		s_describe(l, rc, &r, "lemon: venues", err, errlen);
		http_response_free(&r);
		return -1;
	}
	rc = lemon_parse_venue(r.body, r.len, l->venue, &c->is_open, err, errlen);
	http_response_free(&r);
	return rc;
}

static int s_tradable(void *self, const intent_t *in, bool *ok, char *why, size_t whylen, char *err,
                      size_t errlen)
{
	struct lemon *l = self;
	char isin[16];
	int rc = s_resolve(l, in, isin, sizeof(isin), ok, err, errlen);

	if (rc < 0)
		return -1;
	if (rc > 0) {
		*ok = false;
		snprintf(why, whylen, "lemon: no instrument found for %s",
		         in->isin != NULL ? in->isin : in->ticker);
	} else if (!*ok) {
		snprintf(why, whylen, "lemon: %s is not tradable on %s", isin, l->venue);
	}
	return 0;
}

static void s_wipe_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

static void s_destroy(void *self)
{
	struct lemon *l = self;

	if (l == NULL)
		return;
	http_free(&l->http);
	free(l->url);
	free(l->data_url);
	free(l->ua);
	s_wipe_free(l->hdr_auth);
	s_wipe_free(l->hdr_data_auth);
	s_wipe_free(l->key);
	s_wipe_free(l->data_key);
	s_wipe_free(l->pin);
	free(l);
}

static const struct broker_ops s_ops = {
	.name = "lemon",
	.submit = s_submit,
	.lookup = s_lookup,
	.account = s_account,
	.position = s_position,
	.clock = s_clock,
	.tradable = s_tradable,
	.destroy = s_destroy,
};

/* base + "/v1", unless base already ends in /v1; NULL when out of memory. */
static char *s_v1(const char *base)
{
	size_t n = strlen(base);
	char *s;

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n >= 3 && strncmp(base + n - 3, "/v1", 3) == 0)
		n -= 3;
	if (asprintf(&s, "%.*s/v1", (int)n, base) < 0)
		return NULL;
	return s;
}

broker_t *lemon_broker_new(const struct lemon_opts *o, char *err, size_t errlen)
{
	struct lemon *l = calloc(1, sizeof(*l));
	broker_t *b = calloc(1, sizeof(*b));
	struct http_opts ho = {
		.user_agent = o->http.user_agent,
		.timeout_ms = o->http.timeout_ms,
		.connect_timeout_ms = o->http.connect_timeout_ms,
		.max_bytes = LEMON_MAX_BYTES,
		.max_retries = o->http.get_retries > 0 ? o->http.get_retries : -1,
		.backoff_base_ms = 200,
		.backoff_max_ms = 5000,
		.stop = o->http.stop,
	};
	const char *dk = o->data_key != NULL && o->data_key[0] ? o->data_key : o->key;

	if (l == NULL || b == NULL)
		goto nomem;
	if (o->url == NULL || o->data_url == NULL || o->key == NULL || o->key[0] == '\0') {
		snprintf(err, errlen, "lemon: needs executor.lemon_url and executor.lemon_key");
		goto fail;
	}
	if (o->venue == NULL || o->venue[0] == '\0' || strlen(o->venue) >= sizeof(l->venue) ||
	    strspn(o->venue, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") !=
	        strlen(o->venue)) {
		snprintf(err, errlen, "lemon: executor.lemon_venue must be a MIC such as XMUN");
		goto fail;
	}
	if (strpbrk(o->key, "\r\n") != NULL || strpbrk(dk, "\r\n") != NULL) {
		snprintf(err, errlen, "lemon: a key holds a line break");
		goto fail;
	}
	snprintf(l->venue, sizeof(l->venue), "%s", o->venue);
	l->url = s_v1(o->url);
	l->data_url = s_v1(o->data_url);
	l->key = strdup(o->key);
	l->data_key = strdup(dk);
	if (o->pin != NULL && o->pin[0] != '\0')
		l->pin = strdup(o->pin);
	if (l->url == NULL || l->data_url == NULL || l->key == NULL || l->data_key == NULL ||
	    (o->pin != NULL && o->pin[0] != '\0' && l->pin == NULL))
		goto nomem;
	if (asprintf(&l->hdr_auth, "Authorization: Bearer %s", l->key) < 0) {
		l->hdr_auth = NULL;
		goto nomem;
	}
	if (asprintf(&l->hdr_data_auth, "Authorization: Bearer %s", l->data_key) < 0) {
		l->hdr_data_auth = NULL;
		goto nomem;
	}
	l->headers[0] = l->hdr_auth;
	l->headers[1] = "Content-Type: application/json";
	l->headers[2] = "Accept: application/json";
	l->headers[3] = NULL;
	l->data_headers[0] = l->hdr_data_auth;
	l->data_headers[1] = "Accept: application/json";
	l->data_headers[2] = NULL;
	l->secrets[0] = l->key;
	l->secrets[1] = l->data_key;
	l->secrets[2] = l->pin;
	l->secrets[3] = NULL;
	l->ua = strdup(o->http.user_agent != NULL ? o->http.user_agent : "coattail");
	if (l->ua == NULL)
		goto nomem;
	ho.user_agent = l->ua;
	l->hopts = ho;
	l->http = http_new(&ho);
	if (l->http == NULL) {
		snprintf(err, errlen, "lemon: cannot create the HTTP client");
		goto fail;
	}
	b->ops = &s_ops;
	b->self = l;
	return b;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	s_destroy(l);
	free(b);
	return NULL;
}
