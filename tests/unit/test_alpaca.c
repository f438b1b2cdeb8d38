/*
 * test_alpaca.c - the Alpaca broker: client ids, the parsers against the
 * shared recorded/SDK fixtures and the project's own, and the broker
 * against a scripted HTTP server (what it sends, and how every answer is
 * classified: the exactly-once protocol depends on it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"
#include "../../executor/alpaca.h"
#include "support/httpd.h"
#include "support/testutil.h"

#define KEY_ID "PKTESTKEYID42"
#define SECRET "sekret-abcdef-0123456789"

/* ---- fixtures ---- */

static char *s_shared(const char *name, size_t *len)
{
	const char *dir = test_shared_fixtures();
	char path[1024];
	char *s;

	if (dir == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/apis/alpaca/%s", dir, name);
	s = test_read_file(path, len);
	if (s == NULL)
		fail_msg("cannot read %s", path);
	return s;
}

static char *s_own(const char *name, size_t *len)
{
	char path[1024];
	char *s;

	snprintf(path, sizeof(path), "%s/executor/%s", test_fixtures(), name);
	s = test_read_file(path, len);
	if (s == NULL)
		fail_msg("cannot read %s", path);
	return s;
}

static void test_client_id_is_the_intent_id_when_short_and_plain(void **state)
{
	char buf[BROKER_CLIENT_ID_MAX + 1];

	(void)state;
	assert_string_equal(broker_client_id("short-10", buf, sizeof(buf)), "short-10");
	assert_string_equal(broker_client_id("a.b_c:d-E9", buf, sizeof(buf)), "a.b_c:d-E9");
	/* exactly 48 */
	assert_string_equal(
	    broker_client_id("0123456789abcdef0123456789abcdef0123456789abcdef", buf, sizeof(buf)),
	    "0123456789abcdef0123456789abcdef0123456789abcdef");
}

static void test_long_or_odd_ids_become_a_48_character_hash(void **state)
{
	char a[BROKER_CLIENT_ID_MAX + 1], b[BROKER_CLIENT_ID_MAX + 1];

	(void)state;
	assert_string_equal(broker_client_id("abc def", a, sizeof(a)),
	                    broker_client_id("abc def", b, sizeof(b)));
	broker_client_id("0123456789abcdef0123456789abcdef0123456789abcdef0", a, sizeof(a));
	assert_int_equal(strlen(a), 48);
	assert_memory_equal(a, "ct:", 3);
	/* an id that looks hashed is hashed again, so no two intents collide */
	broker_client_id("ct:abc", b, sizeof(b));
	assert_int_equal(strlen(b), 48);
	assert_string_not_equal(b, "ct:abc");
	/* "abc" itself is plain: the hash form is only for the others */
	broker_client_id("abc", a, sizeof(a));
	assert_string_equal(a, "abc");
}

static void test_hash_is_the_first_45_hex_digits_of_sha256(void **state)
{
	char c[BROKER_CLIENT_ID_MAX + 1];

	(void)state;
	/* python3: hashlib.sha256(b"a b").hexdigest()[:45] */
	broker_client_id("a b", c, sizeof(c));
	assert_string_equal(c, "ct:c8687a08aa5d6ed2044328fa6a697ab8e96dc34291e8c");
}

static void test_shared_order_fixtures_parse(void **state)
{
	struct broker_order o;
	char err[256];
	size_t len;
	char *s;

	(void)state;
	if ((s = s_shared("docs_order_v2_example.json", &len)) == NULL)
		skip();
	assert_int_equal(alpaca_parse_order(s, len, &o, err, sizeof(err)), 0);
	assert_string_equal(o.id, "61e69015-8549-4bfd-b9c3-01e75843f47d");
	assert_string_equal(o.client_id, "eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4");
	assert_string_equal(o.status, "accepted");
	assert_int_equal(o.st, ORDER_SUBMITTED);
	assert_true(isnan(o.qty)); /* a notional order: qty null, filled 0 */
	assert_true(isnan(o.price));
	free(s);
	/* the SDK's sample sends qty as a number */
	s = s_shared("alpacapy_test_POST_v2_orders_market.json", &len);
	assert_int_equal(alpaca_parse_order(s, len, &o, err, sizeof(err)), 0);
	assert_true(o.qty == 1);
	free(s);
	s = s_shared("alpacapy_test_GET_v2_orders_by_client_order_id.json", &len);
	assert_int_equal(alpaca_parse_order(s, len, &o, err, sizeof(err)), 0);
	assert_string_equal(o.client_id, "eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4");
	free(s);
}

static void test_shared_account_clock_asset_and_position_fixtures_parse(void **state)
{
	struct broker_account a;
	struct broker_clock c;
	char err[256], why[128];
	bool ok;
	double q;
	size_t len;
	char *s;

	(void)state;
	if ((s = s_shared("docs_account_v2_example.json", &len)) == NULL)
		skip();
	assert_int_equal(alpaca_parse_account(s, len, &a, err, sizeof(err)), 0);
	assert_false(a.blocked);
	assert_true(fabs(a.buying_power - 262113.632) < 1e-9);
	assert_string_equal(a.currency, "USD");
	free(s);
	s = s_shared("alpacapy_test_GET_v2_account.json", &len);
	assert_int_equal(alpaca_parse_account(s, len, &a, err, sizeof(err)), 0);
	assert_false(a.blocked);
	free(s);
	s = s_shared("docs_clock_example.json", &len);
	assert_int_equal(alpaca_parse_clock(s, len, &c, err, sizeof(err)), 0);
	assert_true(c.is_open);
	assert_int_equal(c.next_open, 1651239000); /* 2022-04-29T09:30:00-04:00 */
	free(s);
	s = s_shared("docs_asset_v2_example.json", &len);
	assert_int_equal(alpaca_parse_asset(s, len, &ok, why, sizeof(why), err, sizeof(err)), 0);
	assert_true(ok);
	free(s);
	s = s_shared("alpacapy_test_GET_v2_positions.json", &len);
	assert_int_equal(alpaca_parse_positions(s, len, "AAPL", &q, err, sizeof(err)), 0);
	assert_true(q == 5);
	assert_int_equal(alpaca_parse_positions(s, len, "MSFT", &q, err, sizeof(err)), 0);
	assert_true(q == 0);
	free(s);
	/* the docs' position sample is a single object, not the array */
	s = s_shared("docs_position_example.json", &len);
	assert_int_equal(alpaca_parse_positions(s, len, "AAPL", &q, err, sizeof(err)), -1);
	free(s);
}

static void test_shared_error_bodies_are_read_and_not_taken_for_duplicates(void **state)
{
	char msg[256];
	size_t len;
	char *s;

	(void)state;
	if ((s = s_shared("issue_403_insufficient_buying_power.json", &len)) == NULL)
		skip();
	alpaca_error_message(s, len, msg, sizeof(msg));
	assert_string_equal(msg, "insufficient buying power");
	assert_false(alpaca_is_duplicate_error(s, len));
	free(s);
	s = s_shared("issue_422_order_id_missing.json", &len);
	assert_false(alpaca_is_duplicate_error(s, len));
	free(s);
}

static void test_own_fixtures_filled_order_closed_clock_and_short_position(void **state)
{
	struct broker_order o;
	struct broker_clock c;
	char err[256];
	double q;
	size_t len;
	char *s;

	(void)state;
	s = s_own("alpaca_order_filled.json", &len);
	assert_int_equal(alpaca_parse_order(s, len, &o, err, sizeof(err)), 0);
	assert_int_equal(o.st, ORDER_FILLED);
	assert_true(o.qty == 10 && o.price == 187.245);
	free(s);
	s = s_own("alpaca_422_duplicate.json", &len);
	assert_true(alpaca_is_duplicate_error(s, len));
	free(s);
	s = s_own("alpaca_clock_closed.json", &len);
	assert_int_equal(alpaca_parse_clock(s, len, &c, err, sizeof(err)), 0);
	assert_false(c.is_open);
	assert_int_equal(c.next_open, 1777296600); /* 2026-04-27T13:30:00Z */
	free(s);
	s = s_own("alpaca_positions_mixed.json", &len);
	assert_int_equal(alpaca_parse_positions(s, len, "AAPL", &q, err, sizeof(err)), 0);
	assert_true(q == 12.5);
	assert_int_equal(alpaca_parse_positions(s, len, "TSLA", &q, err, sizeof(err)), 0);
	assert_true(q == -3);
	free(s);
}

static void test_hostile_bodies_are_refused_not_crashed_on(void **state)
{
	static const char *const bad[] = {
		"",
		"[",
		"null",
		"[1,2]",
		"{\"id\":5,\"status\":\"new\"}",
		"{\"id\":\"x\"}",
		"{\"id\":\"a\",\"id\":\"b\",\"status\":\"new\"}",
	};
	struct broker_order o;
	struct broker_clock c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(alpaca_parse_order(bad[i], strlen(bad[i]), &o, err, sizeof(err)),
		                 -1);
		assert_int_equal(alpaca_parse_clock(bad[i], strlen(bad[i]), &c, err, sizeof(err)),
		                 -1);
	}
	/* absurd numbers become unknown, not garbage */
	{
		const char *s = "{\"id\":\"a\",\"client_order_id\":\"c\",\"status\":\"filled\","
		                "\"qty\":\"-5\",\"filled_avg_price\":\"1e400\"}";
		assert_int_equal(alpaca_parse_order(s, strlen(s), &o, err, sizeof(err)), 0);
		assert_true(isnan(o.qty) && isnan(o.price));
	}
}

static void test_statuses_map_to_order_events(void **state)
{
	(void)state;
	assert_int_equal(alpaca_order_status("filled"), ORDER_FILLED);
	assert_int_equal(alpaca_order_status("new"), ORDER_SUBMITTED);
	assert_int_equal(alpaca_order_status("accepted"), ORDER_SUBMITTED);
	assert_int_equal(alpaca_order_status("partially_filled"), ORDER_SUBMITTED);
	assert_int_equal(alpaca_order_status("rejected"), ORDER_REJECTED);
	assert_int_equal(alpaca_order_status("canceled"), ORDER_REJECTED);
	assert_int_equal(alpaca_order_status("expired"), ORDER_REJECTED);
}

/* ---- against a scripted server ---- */

struct fx {
	struct httpd *h;
	broker_t *b;
};

static int s_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	struct alpaca_opts o = {
		.key_id = KEY_ID,
		.secret = SECRET,
		.http = { .user_agent = "coattail-test", .timeout_ms = 500, .get_retries = 2 },
	};

	f->h = httpd_start();
	assert_non_null(f->h);
	o.url = httpd_url(f->h, "");
	f->b = alpaca_broker_new(&o, err, sizeof(err));
	if (f->b == NULL)
		fail_msg("%s", err);
	*state = f;
	return 0;
}

static int s_teardown(void **state)
{
	struct fx *f = *state;

	broker_free(&f->b);
	httpd_stop(&f->h);
	free(f);
	return 0;
}

static const intent_t s_in = { .id = "short-1",
	                       .ticker = "AAPL",
	                       .side = SIDE_BUY,
	                       .qty = 10,
	                       .notional = NAN,
	                       .ref_price = 12.5 };

static struct broker_req s_req(const char *cid)
{
	return (struct broker_req){ .client_id = cid,
		                    .intent = &s_in,
		                    .side = SIDE_BUY,
		                    .qty = 10,
		                    .notional = NAN,
		                    .ref_price = 12.5 };
}

static char *s_order_json(const char *cid, const char *status)
{
	char *s;

	if (asprintf(&s,
	             "{\"id\":\"11111111-2222-3333-4444-555555555555\",\"client_order_id\":\"%s\","
	             "\"symbol\":\"AAPL\",\"qty\":\"10\",\"filled_qty\":\"0\","
	             "\"filled_avg_price\":null,\"status\":\"%s\",\"side\":\"buy\"}",
	             cid, status) < 0)
		fail();
	return s;
}

static void test_submit_sends_the_keys_as_headers_and_a_market_order(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;
	const struct httpd_request *r;
	char *body = s_order_json("short-1", "accepted");
	json_t *j;

	httpd_push(f->h, &(struct httpd_response){ .body = body });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_OK);
	assert_string_equal(o.id, "11111111-2222-3333-4444-555555555555");
	assert_int_equal(o.st, ORDER_SUBMITTED);
	r = httpd_request(f->h, 0);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->path, "/v2/orders");
	assert_string_equal(httpd_req_header(r, "APCA-API-KEY-ID"), KEY_ID);
	assert_string_equal(httpd_req_header(r, "APCA-API-SECRET-KEY"), SECRET);
	j = json_loads(r->body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "symbol")), "AAPL");
	assert_string_equal(json_string_value(json_object_get(j, "qty")), "10");
	assert_null(json_object_get(j, "notional"));
	assert_string_equal(json_string_value(json_object_get(j, "side")), "buy");
	assert_string_equal(json_string_value(json_object_get(j, "type")), "market");
	assert_string_equal(json_string_value(json_object_get(j, "time_in_force")), "day");
	assert_string_equal(json_string_value(json_object_get(j, "client_order_id")), "short-1");
	json_decref(j);
	free(body);
}

static void test_a_notional_order_sends_a_decimal_string_in_cents(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;
	char *body = s_order_json("short-1", "accepted");
	json_t *j;

	rq.qty = NAN;
	rq.notional = 1234.567;
	httpd_push(f->h, &(struct httpd_response){ .body = body });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_OK);
	j = json_loads(httpd_request(f->h, 0)->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "notional")), "1234.57");
	assert_null(json_object_get(j, "qty"));
	json_decref(j);
	free(body);
}

static void test_a_500_is_ambiguous_and_the_order_is_not_resent(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;

	httpd_push(f->h, &(struct httpd_response){ .status = 500,
	                                           .body = "{\"code\":50010000,"
	                                                   "\"message\":\"internal\"}" });
	httpd_push(f->h, &(struct httpd_response){ .status = 500 });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_AMBIGUOUS);
	assert_int_equal(httpd_request_count(f->h), 1);
	assert_int_equal(o.http_status, 500);
	assert_string_equal(o.reason, "alpaca: HTTP 500: internal");
}

static void test_a_429_is_ambiguous_and_not_retried_by_http(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;

	httpd_push(f->h, &(struct httpd_response){ .status = 429, .headers = "Retry-After: 0" });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_AMBIGUOUS);
	assert_int_equal(httpd_request_count(f->h), 1);
}

static void test_a_duplicate_client_id_answer_means_the_order_exists(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;
	size_t len;
	char *dup = s_own("alpaca_422_duplicate.json", &len);

	httpd_push(f->h, &(struct httpd_response){ .status = 422, .body = dup });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_EXISTS);
	free(dup);
}

static void test_other_4xx_are_rejections_with_the_brokers_words(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;

	httpd_push(
	    f->h, &(struct httpd_response){ .status = 403,
	                                    .body = "{\"buying_power\":\"1.00\",\"code\":40310000,"
	                                            "\"message\":\"insufficient buying power\"}" });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_REJECTED);
	assert_string_equal(o.reason, "alpaca: HTTP 403: insufficient buying power");
	httpd_push(f->h, &(struct httpd_response){
	                     .status = 422,
	                     .body = "{\"code\":40010001,\"message\":\"qty must be > 0\"}" });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_REJECTED);
}

static void test_a_timeout_is_ambiguous(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;
	char *body = s_order_json("short-1", "accepted");

	httpd_push(f->h, &(struct httpd_response){ .body = body, .delay_ms = 2000 });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_AMBIGUOUS);
	assert_non_null(strstr(o.reason, "timed out"));
	assert_int_equal(httpd_request_count(f->h), 1);
	free(body);
}

static void test_a_dropped_connection_is_ambiguous_and_never_silently_resent(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;
	char *body = s_order_json("short-1", "accepted");

	/* Warm a keep-alive connection with a GET first: libcurl re-sends a
	 * request on its own when a reused connection turns out dead, which
	 * would be a second order. */
	httpd_push(f->h, &(struct httpd_response){ .body = "{\"is_open\":true}" });
	{
		struct broker_clock c;
		char err[128];
		assert_int_equal(f->b->ops->clock(f->b->self, &c, err, sizeof(err)), 0);
	}
	httpd_push(f->h, &(struct httpd_response){ .close = true });
	httpd_push(f->h, &(struct httpd_response){ .body = body });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_AMBIGUOUS);
	assert_int_equal(httpd_request_count(f->h), 2);
	free(body);
}

static void test_an_answer_for_another_client_id_is_not_taken(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;
	char *body = s_order_json("short-2", "accepted");

	httpd_push(f->h, &(struct httpd_response){ .body = body });
	assert_int_equal(f->b->ops->lookup(f->b->self, &rq, &o), BROKER_AMBIGUOUS);
	free(body);
}

static void test_lookup_by_client_id_finds_or_knows_there_is_none(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("ct:ab+c");
	struct broker_order o;
	char *body = s_order_json("ct:ab+c", "filled");

	httpd_push(f->h, &(struct httpd_response){ .body = body });
	assert_int_equal(f->b->ops->lookup(f->b->self, &rq, &o), BROKER_OK);
	assert_int_equal(o.st, ORDER_FILLED);
	assert_string_equal(httpd_request(f->h, 0)->path,
	                    "/v2/orders:by_client_order_id?client_order_id=ct%3Aab%2Bc");
	assert_string_equal(httpd_request(f->h, 0)->method, "GET");
	httpd_push(f->h,
	           &(struct httpd_response){
	               .status = 404, .body = "{\"code\":40410000,\"message\":\"not found\"}" });
	assert_int_equal(f->b->ops->lookup(f->b->self, &rq, &o), BROKER_NOT_FOUND);
	free(body);
}

static void test_a_lookup_is_retried_through_a_503(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;
	char *body = s_order_json("short-1", "new");

	httpd_push(f->h, &(struct httpd_response){ .status = 503, .headers = "Retry-After: 0" });
	httpd_push(f->h, &(struct httpd_response){ .body = body });
	assert_int_equal(f->b->ops->lookup(f->b->self, &rq, &o), BROKER_OK);
	assert_int_equal(httpd_request_count(f->h), 2);
	free(body);
}

static void test_keys_echoed_by_the_server_are_redacted(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("short-1");
	struct broker_order o;

	httpd_push(f->h, &(struct httpd_response){ .status = 403,
	                                           .body = "{\"code\":1,\"message\":\"key " KEY_ID
	                                                   " secret " SECRET "\"}" });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_REJECTED);
	assert_null(strstr(o.reason, KEY_ID));
	assert_null(strstr(o.reason, SECRET));
	assert_non_null(strstr(o.reason, "[redacted]"));
}

static void test_an_unknown_asset_is_not_tradable_and_the_answer_is_cached(void **state)
{
	struct fx *f = *state;
	intent_t in = s_in;
	char why[128], err[128];
	bool ok = true;

	httpd_push(f->h,
	           &(struct httpd_response){
	               .status = 404,
	               .body = "{\"code\":40410000,\"message\":\"asset not found for AAPL\"}" });
	assert_int_equal(
	    f->b->ops->tradable(f->b->self, &in, &ok, why, sizeof(why), err, sizeof(err)), 0);
	assert_false(ok);
	assert_string_equal(why, "alpaca: asset AAPL not found");
	ok = true;
	assert_int_equal(
	    f->b->ops->tradable(f->b->self, &in, &ok, why, sizeof(why), err, sizeof(err)), 0);
	assert_false(ok);
	assert_int_equal(httpd_request_count(f->h), 1);
	assert_string_equal(httpd_request(f->h, 0)->path, "/v2/assets/AAPL");
}

static void test_a_blocked_account_and_the_clock_are_read(void **state)
{
	struct fx *f = *state;
	struct broker_account a;
	struct broker_clock c;
	char err[256];

	httpd_push(f->h, &(struct httpd_response){
	                     .body = "{\"status\":\"ACTIVE\",\"currency\":\"USD\",\"buying_power\":"
	                             "\"100.5\",\"trading_blocked\":true}" });
	assert_int_equal(f->b->ops->account(f->b->self, &a, err, sizeof(err)), 0);
	assert_true(a.blocked);
	assert_true(a.buying_power == 100.5);
	httpd_push(f->h, &(struct httpd_response){ .status = 401,
	                                           .body = "{\"message\":\"unauthorized\"}" });
	assert_int_equal(f->b->ops->clock(f->b->self, &c, err, sizeof(err)), -1);
	assert_string_equal(err, "alpaca: HTTP 401: unauthorized");
}

static void test_a_broker_without_keys_is_refused(void **state)
{
	struct alpaca_opts o = { .url = "http://127.0.0.1:1",
		                 .key_id = "k",
		                 .http = { .user_agent = "t" } };
	char err[256];

	(void)state;
	assert_null(alpaca_broker_new(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "alpaca_secret"));
}

int main(void)
{
#define T(fn)  cmocka_unit_test(fn)
#define TS(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
	const struct CMUnitTest tests[] = {
		T(test_client_id_is_the_intent_id_when_short_and_plain),
		T(test_long_or_odd_ids_become_a_48_character_hash),
		T(test_hash_is_the_first_45_hex_digits_of_sha256),
		T(test_shared_order_fixtures_parse),
		T(test_shared_account_clock_asset_and_position_fixtures_parse),
		T(test_shared_error_bodies_are_read_and_not_taken_for_duplicates),
		T(test_own_fixtures_filled_order_closed_clock_and_short_position),
		T(test_hostile_bodies_are_refused_not_crashed_on),
		T(test_statuses_map_to_order_events),
		TS(test_submit_sends_the_keys_as_headers_and_a_market_order),
		TS(test_a_notional_order_sends_a_decimal_string_in_cents),
		TS(test_a_500_is_ambiguous_and_the_order_is_not_resent),
		TS(test_a_429_is_ambiguous_and_not_retried_by_http),
		TS(test_a_duplicate_client_id_answer_means_the_order_exists),
		TS(test_other_4xx_are_rejections_with_the_brokers_words),
		TS(test_a_timeout_is_ambiguous),
		TS(test_a_dropped_connection_is_ambiguous_and_never_silently_resent),
		TS(test_an_answer_for_another_client_id_is_not_taken),
		TS(test_lookup_by_client_id_finds_or_knows_there_is_none),
		TS(test_a_lookup_is_retried_through_a_503),
		TS(test_keys_echoed_by_the_server_are_redacted),
		TS(test_an_unknown_asset_is_not_tradable_and_the_answer_is_cached),
		TS(test_a_blocked_account_and_the_clock_are_read),
		T(test_a_broker_without_keys_is_refused),
#undef T
#undef TS
	};

	log_init("test_alpaca", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
