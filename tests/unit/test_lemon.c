/*
 * test_lemon.c - the lemon.markets broker: the envelope, money in
 * 1/10,000, the parsers against the shared SDK/recorded fixtures and the
 * project's own, and the broker against a scripted HTTP server (create then
 * activate, the lookup by idempotency key or notes, how answers are
 * classified).
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
#include "../../executor/lemon.h"
#include "support/httpd.h"
#include "support/testutil.h"

#define KEY "lemon-key-0123456789"
#define PIN "4711"

static char *s_shared(const char *name, size_t *len)
{
	const char *dir = test_shared_fixtures();
	char path[1024];
	char *s;

	if (dir == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/apis/lemon/%s", dir, name);
	s = test_read_file(path, len);
	if (s == NULL)
		fail_msg("cannot read %s", path);
	return s;
}

static void test_money_is_in_ten_thousandths(void **state)
{
	json_t *v = json_integer(100000);

	(void)state;
	assert_true(lemon_money(v) == 10.0);
	json_decref(v);
	v = json_integer(2465000);
	assert_true(lemon_money(v) == 246.5);
	json_decref(v);
	assert_true(isnan(lemon_money(NULL)));
}

static void test_statuses_map_to_order_events(void **state)
{
	(void)state;
	assert_int_equal(lemon_order_status("executed"), ORDER_FILLED);
	assert_int_equal(lemon_order_status("inactive"), ORDER_SUBMITTED);
	assert_int_equal(lemon_order_status("activated"), ORDER_SUBMITTED);
	assert_int_equal(lemon_order_status("in_progress"), ORDER_SUBMITTED);
	assert_int_equal(lemon_order_status("rejected"), ORDER_REJECTED);
	assert_int_equal(lemon_order_status("canceled"), ORDER_REJECTED);
	assert_int_equal(lemon_order_status("expired"), ORDER_REJECTED);
}

static void test_shared_create_answer_is_an_inactive_order_with_its_key(void **state)
{
	json_t *root, *res;
	struct broker_order o;
	char err[256];
	size_t len;
	char *s;

	(void)state;
	if ((s = s_shared("sdk_POST_orders.json", &len)) == NULL)
		skip();
	assert_int_equal(lemon_open_envelope(s, len, &root, &res, err, sizeof(err)), 0);
	assert_int_equal(lemon_parse_order(res, &o, err, sizeof(err)), 0);
	assert_string_equal(o.id, "ord_pyPGQggmmj0jhlLHw2nfM92Hm9PmgTYq9K");
	assert_string_equal(o.status, "inactive");
	assert_string_equal(o.client_id, "1234abcd");
	assert_true(o.qty == 1);
	assert_true(lemon_order_matches(res, "1234abcd"));
	assert_false(lemon_order_matches(res, "1234abc"));
	json_decref(root);
	free(s);
	/* the 2021 recording: no idempotency field at all */
	s = s_shared("rec2021_trading_order_create_order.json", &len);
	assert_int_equal(lemon_open_envelope(s, len, &root, &res, err, sizeof(err)), 0);
	assert_int_equal(lemon_parse_order(res, &o, err, sizeof(err)), 0);
	assert_string_equal(o.id, "ord_1337");
	assert_string_equal(o.client_id, "");
	json_decref(root);
	free(s);
	/* activation answers carry no results */
	s = s_shared("sdk_POST_orders_id_activate.json", &len);
	assert_int_equal(lemon_open_envelope(s, len, &root, &res, err, sizeof(err)), 0);
	assert_null(res);
	json_decref(root);
	free(s);
}

static void test_shared_order_list_page_is_searched_by_key(void **state)
{
	struct broker_order o;
	char err[256];
	bool found, more;
	size_t len;
	char *s;

	(void)state;
	if ((s = s_shared("sdk_GET_orders.json", &len)) == NULL)
		skip();
	assert_int_equal(
	    lemon_find_in_page(s, len, "1235abcd", &o, &found, &more, err, sizeof(err)), 0);
	assert_true(found);
	assert_true(more); /* page 2 of 4 */
	assert_string_equal(o.id, "ord_pyPGQhhllz0mypLHw2nfM67Gm9PmgTYq0J");
	assert_true(o.qty == 1); /* executed_quantity */
	assert_true(o.price == 296.5);
	assert_int_equal(lemon_find_in_page(s, len, "nope", &o, &found, &more, err, sizeof(err)),
	                 0);
	assert_false(found);
	free(s);
}

static void test_shared_error_envelopes_name_the_error(void **state)
{
	json_t *root, *res;
	char err[256];
	size_t len;
	char *s;

	(void)state;
	if ((s = s_shared("sdk_error_shape_example.json", &len)) == NULL)
		skip();
	assert_int_equal(lemon_open_envelope(s, len, &root, &res, err, sizeof(err)), -1);
	assert_string_equal(err, "lemon: pin_invalid: generic error message");
	assert_null(root);
	free(s);
	s = s_shared("rec2021_trading_trading_error.json", &len);
	assert_int_equal(lemon_open_envelope(s, len, &root, &res, err, sizeof(err)), -1);
	assert_string_equal(err, "lemon: invalid_query: Unauthorized");
	free(s);
}

static void test_shared_account_positions_venues_and_instruments_parse(void **state)
{
	struct broker_account a;
	char err[256], isin[16];
	bool open, tradable;
	double q;
	size_t len;
	char *s;

	(void)state;
	if ((s = s_shared("sdk_GET_account.json", &len)) == NULL)
		skip();
	assert_int_equal(lemon_parse_account(s, len, &a, err, sizeof(err)), 0);
	assert_true(a.buying_power == 8000.0); /* cash_to_invest 80000000 */
	assert_string_equal(a.currency, "EUR");
	free(s);
	s = s_shared("sdk_GET_positions.json", &len);
	assert_int_equal(lemon_parse_positions(s, len, "US19260Q1076", &q, err, sizeof(err)), 0);
	assert_true(q == 2);
	assert_int_equal(lemon_parse_positions(s, len, "DE0008232125", &q, err, sizeof(err)), 0);
	assert_true(q == 0);
	free(s);
	s = s_shared("sdk_GET_venues.json", &len);
	assert_int_equal(lemon_parse_venue(s, len, "XMUN", &open, err, sizeof(err)), 0);
	assert_true(open);
	assert_int_equal(lemon_parse_venue(s, len, "XGAT", &open, err, sizeof(err)), -1);
	free(s);
	s = s_shared("rec2021_market_venues.json", &len); /* no status field */
	assert_int_equal(lemon_parse_venue(s, len, "LMBPX", &open, err, sizeof(err)), 0);
	assert_true(open);
	free(s);
	s = s_shared("sdk_GET_instruments.json", &len);
	assert_int_equal(lemon_parse_instrument(s, len, "US19260Q1076", "XMUN", isin, sizeof(isin),
	                                        &tradable, err, sizeof(err)),
	                 0);
	assert_string_equal(isin, "US19260Q1076");
	assert_true(tradable);
	/* a search by a US ticker that lemon lists under another symbol
	 * finds nothing rather than a guess */
	assert_int_equal(lemon_parse_instrument(s, len, "COIN", "XMUN", isin, sizeof(isin),
	                                        &tradable, err, sizeof(err)),
	                 0);
	assert_string_equal(isin, "");
	free(s);
	s = s_shared("rec2021_market_instruments.json", &len);
	assert_int_equal(lemon_parse_instrument(s, len, "307", "XMUN", isin, sizeof(isin),
	                                        &tradable, err, sizeof(err)),
	                 0);
	assert_string_equal(isin, "CA82509L1076");
	free(s);
}

static void test_own_fixture_matches_by_notes_or_idempotency(void **state)
{
	struct broker_order o;
	char path[1024], err[256];
	bool found, more;
	size_t len;
	char *s;

	(void)state;
	snprintf(path, sizeof(path), "%s/executor/lemon_orders_page.json", test_fixtures());
	s = test_read_file(path, &len);
	assert_non_null(s);
	assert_int_equal(lemon_find_in_page(s, len, "short-7", &o, &found, &more, err, sizeof(err)),
	                 0);
	assert_true(found);
	assert_false(more);
	assert_string_equal(o.id, "ord_aaaa");
	assert_int_equal(o.st, ORDER_FILLED);
	assert_true(o.price == 174.85);
	/* a part of another intent's key never matches: "short-" is not
	 * "short-7" (nor would "short-7" be "short-70") */
	assert_int_equal(lemon_find_in_page(s, len, "short-", &o, &found, &more, err, sizeof(err)),
	                 0);
	assert_false(found);
	assert_int_equal(
	    lemon_find_in_page(s, len, "ct:feedbeef", &o, &found, &more, err, sizeof(err)), 0);
	assert_true(found);
	assert_string_equal(o.id, "ord_bbbb");
	assert_string_equal(o.status, "inactive");
	free(s);
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
	struct lemon_opts o = {
		.key = KEY,
		.pin = PIN,
		.venue = "XMUN",
		.http = { .user_agent = "coattail-test", .timeout_ms = 500, .get_retries = 1 },
	};

	f->h = httpd_start();
	assert_non_null(f->h);
	o.url = httpd_url(f->h, "");
	o.data_url = httpd_url(f->h, "/data");
	f->b = lemon_broker_new(&o, err, sizeof(err));
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

static const intent_t s_in = { .id = "i",
	                       .ticker = "AAPL",
	                       .isin = "US0378331005",
	                       .side = SIDE_BUY,
	                       .qty = 3.7,
	                       .notional = NAN,
	                       .ref_price = 150 };

static struct broker_req s_req(const char *cid)
{
	return (struct broker_req){ .client_id = cid,
		                    .intent = &s_in,
		                    .side = SIDE_BUY,
		                    .qty = 3.7,
		                    .notional = NAN,
		                    .ref_price = 150 };
}

#define INSTRUMENT                                                                                 \
	"{\"results\":[{\"isin\":\"US0378331005\",\"symbol\":\"APC\",\"type\":\"stock\","          \
	"\"venues\":[{\"mic\":\"XMUN\",\"tradable\":true}]}],\"page\":1,\"pages\":1}"
#define CREATED                                                                                    \
	"{\"status\":\"ok\",\"mode\":\"paper\",\"results\":{\"id\":\"ord_1\",\"status\":"          \
	"\"inactive\",\"isin\":\"US0378331005\",\"quantity\":3,\"idempotency\":\"k1\"}}"
#define OK "{\"status\":\"ok\",\"mode\":\"paper\"}"

static void test_an_order_is_created_with_its_key_then_activated_with_the_pin(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("k1");
	struct broker_order o;
	const struct httpd_request *r;
	json_t *j;

	httpd_push(f->h, &(struct httpd_response){ .body = INSTRUMENT });
	httpd_push(f->h, &(struct httpd_response){ .body = CREATED });
	httpd_push(f->h, &(struct httpd_response){ .body = OK });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_OK);
	assert_string_equal(o.id, "ord_1");
	assert_string_equal(o.status, "activated");
	assert_int_equal(o.st, ORDER_SUBMITTED);
	assert_int_equal(httpd_request_count(f->h), 3);
	r = httpd_request(f->h, 0);
	assert_string_equal(r->path, "/data/v1/instruments?isin=US0378331005");
	r = httpd_request(f->h, 1);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->path, "/v1/orders");
	assert_string_equal(httpd_req_header(r, "Authorization"), "Bearer " KEY);
	j = json_loads(r->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "isin")), "US0378331005");
	assert_int_equal(json_integer_value(json_object_get(j, "quantity")), 3); /* whole shares */
	assert_string_equal(json_string_value(json_object_get(j, "venue")), "XMUN");
	assert_string_equal(json_string_value(json_object_get(j, "idempotency")), "k1");
	assert_string_equal(json_string_value(json_object_get(j, "notes")), "coattail k1");
	json_decref(j);
	r = httpd_request(f->h, 2);
	assert_string_equal(r->path, "/v1/orders/ord_1/activate");
	j = json_loads(r->body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "pin")), PIN);
	json_decref(j);
}

static void test_a_failed_activation_is_ambiguous_and_the_lookup_finishes_it(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("k1");
	struct broker_order o;
	const char *page = "{\"status\":\"ok\",\"results\":[{\"id\":\"ord_1\",\"status\":"
	                   "\"inactive\",\"quantity\":3,\"notes\":\"coattail k1\"}],"
	                   "\"page\":1,\"pages\":1}";

	httpd_push(f->h, &(struct httpd_response){ .body = INSTRUMENT });
	httpd_push(f->h, &(struct httpd_response){ .body = CREATED });
	httpd_push(f->h, &(struct httpd_response){ .status = 500 });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_AMBIGUOUS);
	assert_int_equal(httpd_request_count(f->h), 3); /* the activation is not retried */
	httpd_push(f->h, &(struct httpd_response){ .body = page });
	httpd_push(f->h, &(struct httpd_response){ .body = OK });
	assert_int_equal(f->b->ops->lookup(f->b->self, &rq, &o), BROKER_OK);
	assert_string_equal(o.id, "ord_1");
	assert_string_equal(o.status, "activated");
	assert_string_equal(httpd_request(f->h, 3)->path,
	                    "/v1/orders?isin=US0378331005&side=buy&limit=100&page=1");
	assert_string_equal(httpd_request(f->h, 4)->path, "/v1/orders/ord_1/activate");
}

static void test_a_lookup_reads_every_page_and_knows_when_there_is_none(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("k9");
	struct broker_order o;

	httpd_push(f->h, &(struct httpd_response){ .body = INSTRUMENT });
	httpd_push(
	    f->h, &(struct httpd_response){
	              .body = "{\"status\":\"ok\",\"results\":[{\"id\":\"ord_x\",\"status\":"
	                      "\"executed\",\"idempotency\":\"other\"}],\"page\":1,\"pages\":2}" });
	httpd_push(f->h,
	           &(struct httpd_response){
	               .body = "{\"status\":\"ok\",\"results\":[{\"id\":\"ord_y\",\"status\":"
	                       "\"executed\",\"idempotency\":\"k8\"}],\"page\":2,\"pages\":2}" });
	assert_int_equal(f->b->ops->lookup(f->b->self, &rq, &o), BROKER_NOT_FOUND);
	assert_int_equal(httpd_request_count(f->h), 3);
	/* a page that cannot be read leaves the question open */
	httpd_push(f->h, &(struct httpd_response){ .status = 400,
	                                           .body = "{\"status\":\"error\","
	                                                   "\"error_code\":\"x\"}" });
	assert_int_equal(f->b->ops->lookup(f->b->self, &rq, &o), BROKER_AMBIGUOUS);
}

static void test_a_create_without_answer_is_ambiguous_and_sent_once(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("k1");
	struct broker_order o;

	httpd_push(f->h, &(struct httpd_response){ .body = INSTRUMENT });
	httpd_push(f->h, &(struct httpd_response){ .close = true });
	httpd_push(f->h, &(struct httpd_response){ .body = CREATED });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_AMBIGUOUS);
	assert_int_equal(httpd_request_count(f->h), 2);
}

static void test_a_refused_create_is_rejected_and_a_refused_pin_reports_the_order(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("k1");
	struct broker_order o;

	httpd_push(f->h, &(struct httpd_response){ .body = INSTRUMENT });
	httpd_push(f->h, &(struct httpd_response){
	                     .status = 400,
	                     .body = "{\"status\":\"error\",\"error_code\":\"insufficient_funds\","
	                             "\"error_message\":\"not enough cash\"}" });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_REJECTED);
	assert_string_equal(o.reason,
	                    "lemon: create: HTTP 400: lemon: insufficient_funds: not enough cash");
	httpd_push(f->h, &(struct httpd_response){ .body = CREATED });
	httpd_push(f->h, &(struct httpd_response){
	                     .status = 400,
	                     .body = "{\"status\":\"error\",\"error_code\":\"pin_invalid\","
	                             "\"error_message\":\"wrong pin " PIN "\"}" });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_OK);
	assert_int_equal(o.st, ORDER_REJECTED);
	assert_string_equal(o.id, "ord_1");
	assert_non_null(strstr(o.reason, "pin_invalid"));
	assert_null(strstr(o.reason, PIN)); /* echoed secrets are redacted */
}

static void test_less_than_one_whole_share_is_refused_before_sending(void **state)
{
	struct fx *f = *state;
	struct broker_req rq = s_req("k1");
	struct broker_order o;

	rq.qty = NAN;
	rq.notional = 100; /* at 150: 0 shares */
	httpd_push(f->h, &(struct httpd_response){ .body = INSTRUMENT });
	assert_int_equal(f->b->ops->submit(f->b->self, &rq, &o), BROKER_REJECTED);
	assert_int_equal(httpd_request_count(f->h), 1);
	assert_non_null(strstr(o.reason, "less than one share"));
}

static void test_an_intent_without_isin_needs_an_exact_symbol_match(void **state)
{
	struct fx *f = *state;
	intent_t in = s_in;
	char why[128], err[128];
	bool ok = true;

	in.isin = NULL;
	in.ticker = "APC";
	httpd_push(f->h, &(struct httpd_response){ .body = INSTRUMENT });
	assert_int_equal(
	    f->b->ops->tradable(f->b->self, &in, &ok, why, sizeof(why), err, sizeof(err)), 0);
	assert_true(ok);
	assert_string_equal(httpd_request(f->h, 0)->path,
	                    "/data/v1/instruments?search=APC&type=stock");
	in.ticker = "AAPL";
	httpd_push(f->h, &(struct httpd_response){ .body = INSTRUMENT });
	assert_int_equal(
	    f->b->ops->tradable(f->b->self, &in, &ok, why, sizeof(why), err, sizeof(err)), 0);
	assert_false(ok);
	assert_string_equal(why, "lemon: no instrument found for AAPL");
}

static void test_the_venue_clock_and_a_position_are_read(void **state)
{
	struct fx *f = *state;
	struct broker_clock c;
	char err[256];
	double q;

	httpd_push(f->h, &(struct httpd_response){
	                     .body = "{\"results\":[{\"mic\":\"XMUN\",\"is_open\":false}]}" });
	assert_int_equal(f->b->ops->clock(f->b->self, &c, err, sizeof(err)), 0);
	assert_false(c.is_open);
	assert_int_equal(c.next_open, 0);
	assert_string_equal(httpd_request(f->h, 0)->path, "/data/v1/venues?mic=XMUN");
	httpd_push(f->h, &(struct httpd_response){ .body = INSTRUMENT });
	httpd_push(f->h, &(struct httpd_response){
	                     .body = "{\"status\":\"ok\",\"results\":[{\"isin\":\"US0378331005\","
	                             "\"quantity\":7}]}" });
	assert_int_equal(f->b->ops->position(f->b->self, &s_in, &q, err, sizeof(err)), 0);
	assert_true(q == 7);
}

int main(void)
{
#define T(fn)  cmocka_unit_test(fn)
#define TS(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
	const struct CMUnitTest tests[] = {
		T(test_money_is_in_ten_thousandths),
		T(test_statuses_map_to_order_events),
		T(test_shared_create_answer_is_an_inactive_order_with_its_key),
		T(test_shared_order_list_page_is_searched_by_key),
		T(test_shared_error_envelopes_name_the_error),
		T(test_shared_account_positions_venues_and_instruments_parse),
		T(test_own_fixture_matches_by_notes_or_idempotency),
		TS(test_an_order_is_created_with_its_key_then_activated_with_the_pin),
		TS(test_a_failed_activation_is_ambiguous_and_the_lookup_finishes_it),
		TS(test_a_lookup_reads_every_page_and_knows_when_there_is_none),
		TS(test_a_create_without_answer_is_ambiguous_and_sent_once),
		TS(test_a_refused_create_is_rejected_and_a_refused_pin_reports_the_order),
		TS(test_less_than_one_whole_share_is_refused_before_sending),
		TS(test_an_intent_without_isin_needs_an_exact_symbol_match),
		TS(test_the_venue_clock_and_a_position_are_read),
#undef T
#undef TS
	};

	log_init("test_lemon", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
