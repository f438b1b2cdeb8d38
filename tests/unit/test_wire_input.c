/*
 * test_wire_input.c - a stage's input over a real PULL socket: a
 * multi-part message costs one "drop", and during on_record the stage sees
 * the bytes each record came in (wire_input_msgpack) with the decoder's
 * verdict, and can send them on unchanged (wire_emit_encoded).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "wire.h"
#include "zmq_load.h" /* the test calls libzmq through the same table */

struct seen {
	wire_t *w;
	int records;
	bool canonical[4];
	size_t len[4];
	bool had_bytes[4];
};

static int s_on_record(void *ctx, record_t *r)
{
	struct seen *s = ctx;
	const struct record_mp_info *info;
	const void *mp;
	size_t len;

	s->had_bytes[s->records] = wire_input_msgpack(s->w, &mp, &len, &info);
	if (s->had_bytes[s->records]) {
		s->canonical[s->records] = info->canonical;
		s->len[s->records] = len;
		wire_emit_encoded(s->w, r, mp, len);
	}
	if (++s->records == 2)
		wire_finish(s->w);
	return 0;
}

static void s_trade(record_t *r, double price)
{
	record_init(r, REC_TRADE);
	r->u.trade.key = strdup("k1");
	r->u.trade.source = strdup("edgar");
	strcpy(r->u.trade.trade_date, "2026-04-22");
	r->u.trade.ticker = strdup("ACME");
	r->u.trade.issuer = strdup("Acme");
	r->u.trade.owner = strdup("Roe");
	strcpy(r->u.trade.code, "P");
	r->u.trade.shares = 100;
	r->u.trade.price = price;
}

static void test_multipart_is_dropped_and_records_come_with_their_bytes(void **state)
{
	char dir[] = "/tmp/coattail-wire-XXXXXX", in[256], out[256], err[256], *mp, *mp1;
	const char *outs[1];
	struct wire_opts o;
	struct wire_counts c;
	struct seen seen;
	const struct stage_ops ops = { .on_record = s_on_record };
	void *ctx, *push, *pull;
	size_t len, len1;
	record_t r;
	unsigned char odd[16];
	char got[1024];
	int linger = 0, timeout = 5000, n;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(in, sizeof(in), "ipc://%s/in", dir);
	snprintf(out, sizeof(out), "ipc://%s/out", dir);
	outs[0] = out;
	memset(&o, 0, sizeof(o));
	o.stage = "test";
	o.in = in;
	o.out = outs;
	o.n_out = 1;
	o.run_dir = dir;
	o.hwm = 1000;
	o.tap_hwm = 1000;
	o.max_msg_bytes = 1 << 20;
	o.linger_ms = 0;
	o.drain_ms = 100;
	o.stats_interval_ms = 60000;

	ctx = zmq_ctx_new();
	pull = zmq_socket(ctx, ZMQ_PULL);
	zmq_setsockopt(pull, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(pull, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	assert_int_equal(zmq_bind(pull, out), 0);
	seen = (struct seen){ 0 };
	seen.w = wire_new(&o, err, sizeof(err));
	if (seen.w == NULL)
		fail_msg("wire_new: %s", err);
	push = zmq_socket(ctx, ZMQ_PUSH);
	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_connect(push, in), 0);

	/* a two-part message, then a trade as the stages encode it, then the
	 * same trade with its whole price written as a float64 */
	assert_int_equal(zmq_send(push, "a", 1, ZMQ_SNDMORE), 1);
	assert_int_equal(zmq_send(push, "b", 1, 0), 1);
	s_trade(&r, 12.5);
	assert_int_equal(record_to_msgpack(&r, &mp1, &len1, err, sizeof(err)), 0);
	assert_int_equal(zmq_send(push, mp1, len1, 0), (int)len1);
	record_free(&r);
	s_trade(&r, 13);
	assert_int_equal(record_to_msgpack(&r, &mp, &len, err, sizeof(err)), 0);
	record_free(&r);
	{
		/* 13 is packed as the integer 13: write it as float64 13.0 */
		unsigned char *m = malloc(len + 8), *at;
		size_t off;
		at = memmem(mp, len, "\xa5price\x0d", 7);
		assert_non_null(at);
		off = (size_t)(at - (unsigned char *)mp) + 6;
		memcpy(m, mp, off);
		memcpy(odd, "\xcb\x40\x2a\x00\x00\x00\x00\x00\x00", 9);
		memcpy(m + off, odd, 9);
		memcpy(m + off + 9, (unsigned char *)mp + off + 1, len - off - 1);
		assert_int_equal(zmq_send(push, m, len + 8, 0), (int)len + 8);
		free(m);
	}

	alarm(20); /* a hang is a failure */
	assert_int_equal(wire_run(seen.w, &ops, &seen), 0);
	alarm(0);
	wire_get_counts(seen.w, &c);
	assert_int_equal(c.in, 3);
	assert_int_equal(c.dropped, 1);
	assert_int_equal(c.out, 2);
	assert_int_equal(seen.records, 2);
	assert_true(seen.had_bytes[0] && seen.had_bytes[1]);
	assert_true(seen.canonical[0]);
	assert_false(seen.canonical[1]);
	assert_int_equal(seen.len[0], len1);
	assert_int_equal(seen.len[1], len + 8);
	/* what on_record sent is what came in */
	n = zmq_recv(pull, got, sizeof(got), 0);
	assert_int_equal(n, (int)len1);
	assert_memory_equal(got, mp1, len1);
	n = zmq_recv(pull, got, sizeof(got), 0);
	assert_int_equal(n, (int)len + 8);
	free(mp);
	free(mp1);
	wire_free(&seen.w);
	zmq_close(push);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	snprintf(got, sizeof(got), "rm -rf '%s'", dir);
	assert_int_equal(system(got), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multipart_is_dropped_and_records_come_with_their_bytes),
	};
	char err[512];

	/* The test's own sockets are made before wire_new would load it. */
	if (zmq_load(err, sizeof(err)) != 0) {
		printf("FAIL: %s\n", err);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
