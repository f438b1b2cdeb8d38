/*
 * bench_relay - the pipeline benchmark's helpers, each a bare ZeroMQ
 * PUSH/PULL process with nothing of a stage inside (the floor), plus the
 * paced sender and receiver of the latency benchmark.
 *
 *   bench_relay encode IN.jsonl OUT.bin
 *       JSON-lines records -> their msgpack encodings, as the stages send
 *       them, each behind a 4-byte native length ("the same messages").
 *   bench_relay source EP FILE.bin
 *       PUSH (connect) every message of FILE.bin, then an empty message.
 *   bench_relay relay IN OUT
 *       PULL (bind) IN, PUSH (connect) OUT, forward each message unchanged
 *       until the empty one, which is forwarded too.
 *   bench_relay sink IN [COUNT [INTENT]]
 *       PULL (bind) IN until the empty message, COUNT messages (0: no
 *       limit) or an order event for intent id INTENT (or that intent
 *       itself, when the sink stands in for the executor); prints "msgs N first
 *       T last T" (CLOCK_MONOTONIC seconds).
 *   bench_relay latency OUT IN FILE.bin RATE [EXPECT]
 *       PUSH (connect) OUT the trades of FILE.bin, message i at t0 + i/RATE,
 *       while PULLing (bind) IN the executor's order events; the intent id
 *       of trade K is the decider's executive_trade id, SHA-256 of
 *       "executive_trade\nsell\nK" (decider/rules.c), so each event is
 *       matched to the send time of its trade.  Prints "sent N matched N
 *       unmatched N" and then one latency in microseconds per line.  It
 *       waits (at most 10 s after the last send) for EXPECT events (default:
 *       one per trade; trades the decider declines have none).  A trade
 *       received back (through bare relays: the latency floor) is matched
 *       by the id its key would get.
 *
 * Every socket gets what common/wire.c's s_socket gives a stage's pipeline
 * socket under the default settings the bench runs the stages with, read
 * from the same table (conf_settings_common), so that the floor is the same
 * messages through the same sockets: ZMQ_SNDHWM and ZMQ_RCVHWM wire.hwm
 * (1000; this helper used 10,000 before), ZMQ_MAXMSGSIZE
 * wire.max_msg_bytes, ZMQ_LINGER wire.linger_ms, and a PUSH socket is
 * closed with wire.drain_ms of linger, as wire_free closes a stage's
 * output.  Nothing else, as in the stages: no ZMQ_SNDBUF/ZMQ_RCVBUF,
 * scheduling or I/O-thread options, never ZMQ_IMMEDIATE (wire.c, s_socket,
 * says what those were measured to do).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "conf.h"
#include "record.h"
#include "sha256.h"

struct msgs {
	char **buf;
	size_t *len;
	size_t n, cap;
};

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_die(const char *what)
{
	fprintf(stderr, "bench_relay: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

/* The default of a wire.* setting, as a stage without a configuration has
 * it. */
static int s_default(const char *path)
{
	for (const struct conf_setting *c = conf_settings_common; c->type != CONF_END; c++)
		if (strcmp(c->path, path) == 0 && c->def != NULL)
			return atoi(c->def);
	fprintf(stderr, "bench_relay: no default for %s\n", path);
	exit(1);
}

static void s_setopt_int(void *s, int opt, int val)
{
	if (zmq_setsockopt(s, opt, &val, sizeof(val)) != 0)
		s_die("zmq_setsockopt");
}

/* A pipeline socket as common/wire.c's s_socket makes it. */
static void *s_socket(void *ctx, int type, const char *ep, int bind)
{
	void *s = zmq_socket(ctx, type);
	int hwm = s_default("wire.hwm");
	int64_t maxmsg = s_default("wire.max_msg_bytes");

	if (s == NULL)
		s_die("zmq_socket");
	s_setopt_int(s, ZMQ_LINGER, s_default("wire.linger_ms"));
	s_setopt_int(s, ZMQ_SNDHWM, hwm);
	s_setopt_int(s, ZMQ_RCVHWM, hwm);
	if (zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0)
		s_die("zmq_setsockopt");
	if ((bind ? zmq_bind(s, ep) : zmq_connect(s, ep)) != 0)
		s_die(ep);
	return s;
}

/* Close an output as wire_free does: queued messages get wire.drain_ms. */
static void s_close_push(void *s)
{
	s_setopt_int(s, ZMQ_LINGER, s_default("wire.drain_ms"));
	zmq_close(s);
}

/* Load a file written by "encode". */
static void s_load(const char *path, struct msgs *m)
{
	FILE *f = fopen(path, "rb");
	uint32_t n;

	if (f == NULL)
		s_die(path);
	memset(m, 0, sizeof(*m));
	while (fread(&n, sizeof(n), 1, f) == 1) {
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 1024;
			m->buf = realloc(m->buf, m->cap * sizeof(*m->buf));
			m->len = realloc(m->len, m->cap * sizeof(*m->len));
			if (m->buf == NULL || m->len == NULL)
				s_die("realloc");
		}
		m->buf[m->n] = malloc(n ? n : 1);
		if (m->buf[m->n] == NULL || fread(m->buf[m->n], 1, n, f) != n)
			s_die(path);
		m->len[m->n++] = n;
	}
	fclose(f);
}

static void s_msgs_free(struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->buf[i]);
	free(m->buf);
	free(m->len);
	memset(m, 0, sizeof(*m));
}

static int s_encode(const char *in, const char *out)
{
	FILE *fi = fopen(in, "r"), *fo = fopen(out, "wb");
	char *line = NULL, err[256];
	size_t cap = 0, n = 0;
	ssize_t len;

	if (fi == NULL || fo == NULL)
		s_die("open");
	while ((len = getline(&line, &cap, fi)) > 0) {
		record_t r;
		char *mp;
		size_t mplen;
		uint32_t l32;

		if (record_from_json(line, (size_t)len, &r, err, sizeof(err)) != 0 ||
		    record_to_msgpack(&r, &mp, &mplen, err, sizeof(err)) != 0) {
			fprintf(stderr, "bench_relay: %s:%zu: %s\n", in, n + 1, err);
			return 1;
		}
		l32 = (uint32_t)mplen;
		fwrite(&l32, sizeof(l32), 1, fo);
		fwrite(mp, 1, mplen, fo);
		free(mp);
		record_free(&r);
		n++;
	}
	free(line);
	fclose(fi);
	return fclose(fo) == 0 ? 0 : 1;
}

static int s_source(const char *ep, const char *path)
{
	void *ctx = zmq_ctx_new(), *s;
	struct msgs m;

	s_load(path, &m);
	s = s_socket(ctx, ZMQ_PUSH, ep, 0);
	printf("start %.6f\n", s_now());
	fflush(stdout);
	for (size_t i = 0; i < m.n; i++)
		if (zmq_send(s, m.buf[i], m.len[i], 0) < 0)
			s_die("send");
	zmq_send(s, "", 0, 0);
	s_close_push(s);
	zmq_ctx_term(ctx);
	s_msgs_free(&m);
	return 0;
}

static int s_relay(const char *in, const char *out)
{
	void *ctx = zmq_ctx_new();
	void *pull = s_socket(ctx, ZMQ_PULL, in, 1), *push = s_socket(ctx, ZMQ_PUSH, out, 0);
	zmq_msg_t msg;

	zmq_msg_init(&msg);
	for (;;) {
		size_t size;

		if (zmq_msg_recv(&msg, pull, 0) < 0) {
			if (errno == EINTR)
				continue;
			s_die("recv");
		}
		size = zmq_msg_size(&msg);
		if (zmq_msg_send(&msg, push, 0) < 0)
			s_die("send");
		if (size == 0)
			break;
	}
	zmq_msg_close(&msg);
	zmq_close(pull);
	s_close_push(push);
	zmq_ctx_term(ctx);
	return 0;
}

/* Whether msg is an order event for the intent id want, or that intent
 * itself (a sink in the executor's place). */
static int s_is_order_for(const zmq_msg_t *msg, const char *want)
{
	char err[256];
	record_t r;
	int hit;

	if (record_from_msgpack(zmq_msg_data((zmq_msg_t *)msg), zmq_msg_size(msg), &r, err,
	                        sizeof(err)) != 0)
		return 0;
	hit = (r.type == REC_ORDER && r.u.order.intent != NULL &&
	       strcmp(r.u.order.intent, want) == 0) ||
	      (r.type == REC_INTENT && strcmp(r.u.intent.id, want) == 0);
	record_free(&r);
	return hit;
}

static int s_sink(const char *in, long count, const char *until)
{
	void *ctx = zmq_ctx_new(), *pull = s_socket(ctx, ZMQ_PULL, in, 1);
	double first = 0, last = 0;
	long n = 0;
	zmq_msg_t msg;

	printf("ready\n");
	fflush(stdout);
	zmq_msg_init(&msg);
	while (count <= 0 || n < count) {
		if (zmq_msg_recv(&msg, pull, 0) < 0) {
			if (errno == EINTR)
				continue;
			s_die("recv");
		}
		if (zmq_msg_size(&msg) == 0)
			break;
		last = s_now();
		if (n++ == 0)
			first = last;
		if (until != NULL && s_is_order_for(&msg, until))
			break;
	}
	printf("msgs %ld first %.6f last %.6f\n", n, first, last);
	zmq_msg_close(&msg);
	zmq_close(pull);
	zmq_ctx_term(ctx);
	return 0;
}

struct pending {
	char id[33];
	double sent;
};

static int s_cmp_id(const void *a, const void *b)
{
	return strcmp(((const struct pending *)a)->id, ((const struct pending *)b)->id);
}

/* The intent id the decider gives trade `key` when it sells alongside:
 * SHA-256 of "executive_trade\nsell\nKEY", the first 16 bytes in hex. */
static void s_trade_id(const char *key, char id[33])
{
	uint8_t dig[SHA256_DIGEST_LEN];
	sha256_t c;

	sha256_init(&c);
	sha256_update(&c, "executive_trade\nsell\n", 21);
	sha256_update(&c, key, strlen(key));
	sha256_final(&c, dig);
	sha256_hex(dig, 32, id);
}

/* Drain every message waiting on pull and match each to its trade: an
 * order event by its intent id; a trade (the relay floor hands the
 * trades back unchanged) by the id its key would get. */
static void s_drain(void *pull, struct pending *p, size_t n, double *lat, size_t *matched,
                    size_t *unmatched)
{
	char buf[65536], err[256];
	int len;

	while ((len = zmq_recv(pull, buf, sizeof(buf), ZMQ_DONTWAIT)) >= 0) {
		double t = s_now();
		struct pending key, *hit;
		record_t r;

		if (len > (int)sizeof(buf) ||
		    record_from_msgpack(buf, (size_t)len, &r, err, sizeof(err)) != 0) {
			(*unmatched)++;
			continue;
		}
		if ((r.type == REC_ORDER && r.u.order.intent != NULL) || r.type == REC_TRADE) {
			if (r.type == REC_TRADE)
				s_trade_id(r.u.trade.key, key.id);
			else
				snprintf(key.id, sizeof(key.id), "%s", r.u.order.intent);
			hit = bsearch(&key, p, n, sizeof(*p), s_cmp_id);
			if (hit != NULL && hit->sent > 0) {
				lat[(*matched)++] = (t - hit->sent) * 1e6;
				hit->sent = -1; /* a second event for it is not counted */
			} else {
				(*unmatched)++;
			}
		}
		record_free(&r);
	}
}

static int s_latency(const char *out, const char *in, const char *path, double rate, size_t expect)
{
	void *ctx = zmq_ctx_new();
	void *pull = s_socket(ctx, ZMQ_PULL, in, 1), *push = s_socket(ctx, ZMQ_PUSH, out, 0);
	struct pending *p, *sorted;
	size_t matched = 0, unmatched = 0;
	char err[256];
	double *lat, t0, deadline;
	struct msgs m;

	s_load(path, &m);
	p = calloc(m.n, sizeof(*p));
	sorted = calloc(m.n, sizeof(*p));
	lat = calloc(m.n, sizeof(*lat));
	if (p == NULL || sorted == NULL || lat == NULL)
		s_die("calloc");
	for (size_t i = 0; i < m.n; i++) {
		record_t r;

		if (record_from_msgpack(m.buf[i], m.len[i], &r, err, sizeof(err)) != 0 ||
		    r.type != REC_TRADE)
			s_die("not a trade");
		s_trade_id(r.u.trade.key, p[i].id);
		record_free(&r);
	}
	/* A sorted copy for the lookups; the sends go by index into it. */
	memcpy(sorted, p, m.n * sizeof(*p));
	qsort(sorted, m.n, sizeof(*sorted), s_cmp_id);
	{
		/* index of each message's slot in sorted */
		size_t *slot = malloc(m.n * sizeof(*slot));

		if (slot == NULL)
			s_die("malloc");
		for (size_t i = 0; i < m.n; i++) {
			struct pending *h = bsearch(&p[i], sorted, m.n, sizeof(*sorted), s_cmp_id);
			slot[i] = (size_t)(h - sorted);
		}
		zmq_sleep(1); /* let the connections settle before the clock starts */
		t0 = s_now();
		for (size_t i = 0; i < m.n; i++) {
			double due = t0 + (double)i / rate;

			/* Sleep (microsecond resolution) on the socket's fd until the
			 * due time instead of spinning through zmq_poll(0). */
			for (double now = s_now(); now < due; now = s_now()) {
				int zfd, ev = 0;
				size_t zl = sizeof(zfd), el = sizeof(ev);
				struct pollfd pf;
				struct timespec ts;
				double d = due - now;

				s_drain(pull, sorted, m.n, lat, &matched, &unmatched);
				zmq_getsockopt(pull, ZMQ_EVENTS, &ev, &el);
				if (ev & ZMQ_POLLIN)
					continue;
				zmq_getsockopt(pull, ZMQ_FD, &zfd, &zl);
				pf.fd = zfd;
				pf.events = POLLIN;
				ts.tv_sec = (time_t)d;
				ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
				ppoll(&pf, 1, &ts, NULL);
			}
			sorted[slot[i]].sent = s_now();
			if (zmq_send(push, m.buf[i], m.len[i], 0) < 0)
				s_die("send");
			s_drain(pull, sorted, m.n, lat, &matched, &unmatched);
		}
		free(slot);
	}
	deadline = s_now() + 10;
	if (expect == 0 || expect > m.n)
		expect = m.n;
	while (matched < expect && s_now() < deadline) {
		zmq_pollitem_t it = { pull, 0, ZMQ_POLLIN, 0 };

		if (zmq_poll(&it, 1, 100) > 0)
			s_drain(pull, sorted, m.n, lat, &matched, &unmatched);
	}
	printf("sent %zu matched %zu unmatched %zu seconds %.6f\n", m.n, matched, unmatched,
	       s_now() - t0);
	for (size_t i = 0; i < matched; i++)
		printf("%.1f\n", lat[i]);
	zmq_close(pull);
	s_close_push(push);
	zmq_ctx_term(ctx);
	s_msgs_free(&m);
	free(p);
	free(sorted);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "encode") == 0)
		return s_encode(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "source") == 0)
		return s_source(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "relay") == 0)
		return s_relay(argv[2], argv[3]);
	if (argc >= 3 && argc <= 5 && strcmp(argv[1], "sink") == 0)
		return s_sink(argv[2], argc >= 4 ? atol(argv[3]) : 0, argc == 5 ? argv[4] : NULL);
	if ((argc == 6 || argc == 7) && strcmp(argv[1], "latency") == 0)
		return s_latency(argv[2], argv[3], argv[4], atof(argv[5]),
		                 argc == 7 ? (size_t)atol(argv[6]) : 0);
	fprintf(
	    stderr,
	    "usage: bench_relay encode IN.jsonl OUT.bin | source EP FILE.bin | "
	    "relay IN OUT | sink IN [COUNT [INTENT]] | latency OUT IN FILE.bin RATE [EXPECT]\n");
	return 2;
}
