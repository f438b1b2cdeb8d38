/*
 * test_curve.c - CURVE keys from the config, and real CURVE handshakes over
 * tcp://127.0.0.1 through the ZAP handler: an allowed client gets through,
 * an unknown key and a plain client do not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "curve.h"
#include "support/testutil.h"
#include "zmq_load.h" /* the test calls libzmq through the same table */

static char *s_dir; /* this run's private directory (group setup) */

struct keypair {
	char pub[41], sec[41];
};

static struct keypair s_keys(void)
{
	struct keypair k;
	assert_int_equal(zmq_curve_keypair(k.pub, k.sec), 0);
	return k;
}

/* Load a config made of `body` (a 0600 file, so inline secrets pass). */
static conf_t *s_conf(const char *body)
{
	char path[4096], errs[4096];
	FILE *f;
	conf_t *c;

	snprintf(path, sizeof(path), "%s/coattail.conf", s_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	chmod(path, 0600);
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("config refused: %s", errs);
	return c;
}

/* curve_from_conf on `body`; returns rc, err in err. */
static int s_load(const char *body, curve_t **cv, char *err, size_t errlen)
{
	conf_t *c = s_conf(body);
	int rc = curve_from_conf(c, cv, err, errlen);
	conf_free(&c);
	return rc;
}

static void test_no_secret_key_means_curve_off(void **state)
{
	curve_t *cv = (curve_t *)1;
	char err[256];

	(void)state;
	assert_int_equal(s_load("wire: { curve_allow = [ "
	                        "\"0123456789012345678901234567890123456789\" ]; };\n",
	                        &cv, err, sizeof(err)),
	                 0);
	assert_null(cv);
}

static void test_public_key_is_derived_from_the_secret_key(void **state)
{
	struct keypair server = s_keys(), client = s_keys();
	char body[1024], err[256];
	curve_t *cv = NULL;

	(void)state;
	snprintf(body, sizeof(body),
	         "wire: { curve_secret_key = \"%s\"; curve_allow = [ \"%s host-b\" ]; };\n",
	         server.sec, client.pub);
	assert_int_equal(s_load(body, &cv, err, sizeof(err)), 0);
	assert_non_null(cv);
	assert_string_equal(curve_public_key(cv), server.pub);
	assert_int_equal(curve_n_allowed(cv), 1);
	curve_free(&cv);
	assert_null(cv);
}

static void test_secret_key_file_is_read(void **state)
{
	struct keypair k = s_keys();
	char path[4096], body[4600], err[256];
	curve_t *cv = NULL;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/curve.key", s_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", k.sec);
	fclose(f);
	chmod(path, 0600);
	snprintf(body, sizeof(body), "wire: { curve_secret_key_file = \"%s\"; };\n", path);
	assert_int_equal(s_load(body, &cv, err, sizeof(err)), 0);
	assert_non_null(cv);
	assert_string_equal(curve_public_key(cv), k.pub);
	curve_free(&cv);
}

static void test_bad_keys_are_refused_with_the_setting_named(void **state)
{
	struct keypair k = s_keys();
	char body[1024], err[512];
	curve_t *cv = NULL;

	(void)state;
	/* 40 characters, but not Z85 ('"' and ' ' are outside its alphabet). */
	assert_int_equal(s_load("wire: { curve_secret_key = "
	                        "\"~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\"; };\n",
	                        &cv, err, sizeof(err)),
	                 -1);
	assert_null(cv);
	assert_non_null(strstr(err, "wire.curve_secret_key"));

	snprintf(body, sizeof(body),
	         "wire: { curve_secret_key = \"%s\"; curve_allow = [ \"%s\", "
	         "\"not-a-key-but-forty-characters-long-xxxxx\" ]; };\n",
	         k.sec, k.pub);
	assert_int_equal(s_load(body, &cv, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "wire.curve_allow: entry 2"));
	assert_null(strstr(err, k.sec)); /* the secret never reaches a message */

	snprintf(body, sizeof(body),
	         "wire: { curve_secret_key = \"%s\"; curve_servers = [ \"ipc://x.in %s\" ]; };\n",
	         k.sec, k.pub);
	assert_int_equal(s_load(body, &cv, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "wire.curve_servers: entry 1"));

	snprintf(body, sizeof(body),
	         "wire: { curve_secret_key = \"%s\"; curve_servers = [ \"tcp://10.0.0.1:5555 "
	         "a-key-that-is-not-z85-but-long-enough\" ]; };\n",
	         k.sec);
	assert_int_equal(s_load(body, &cv, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a public key"));
}

static void test_connect_to_an_unlisted_tcp_endpoint_is_an_error(void **state)
{
	struct keypair k = s_keys();
	char body[1024], err[512];
	curve_t *cv = NULL;
	void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_PUSH);

	(void)state;
	snprintf(body, sizeof(body), "wire: { curve_secret_key = \"%s\"; };\n", k.sec);
	assert_int_equal(s_load(body, &cv, err, sizeof(err)), 0);
	assert_int_equal(curve_prepare_connect(cv, sock, "tcp://10.9.9.9:5555", err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "wire.curve_servers"));
	/* ipc:// never needs a key. */
	assert_int_equal(curve_prepare_connect(cv, sock, "ipc:///tmp/x", err, sizeof(err)), 0);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	curve_free(&cv);
}

/* ---- real handshakes ---- */

struct server {
	void *ctx, *pull;
	curve_t *cv;
	char ep[256];
	struct keypair keys;
};

/* A CURVE PULL server on 127.0.0.1 (a free port) admitting `allowed`. */
static void s_server_start(struct server *s, const char *allowed_pub)
{
	char body[1024], err[512];
	size_t len;
	int linger = 0;

	memset(s, 0, sizeof(*s));
	s->keys = s_keys();
	snprintf(body, sizeof(body),
	         "wire: { curve_secret_key = \"%s\"; curve_allow = [ \"%s\" ]; };\n", s->keys.sec,
	         allowed_pub);
	assert_int_equal(s_load(body, &s->cv, err, sizeof(err)), 0);
	s->ctx = zmq_ctx_new();
	s->pull = zmq_socket(s->ctx, ZMQ_PULL);
	zmq_setsockopt(s->pull, ZMQ_LINGER, &linger, sizeof(linger));
	if (curve_prepare_bind(s->cv, s->ctx, s->pull, "tcp://127.0.0.1:0", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(zmq_bind(s->pull, "tcp://127.0.0.1:0"), 0);
	len = sizeof(s->ep);
	assert_int_equal(zmq_getsockopt(s->pull, ZMQ_LAST_ENDPOINT, s->ep, &len), 0);
}

static void s_server_stop(struct server *s)
{
	zmq_close(s->pull);
	curve_stop(s->cv);
	zmq_ctx_term(s->ctx);
	curve_free(&s->cv);
}

/* Wait up to ms for a message on sock; its text, or "" when none came. */
static void s_recv(void *sock, int ms, char *buf, size_t len)
{
	zmq_pollitem_t it = { sock, 0, ZMQ_POLLIN, 0 };
	int n;

	buf[0] = '\0';
	if (zmq_poll(&it, 1, ms) <= 0)
		return;
	n = zmq_recv(sock, buf, len - 1, ZMQ_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
}

/* A client with `keys` (or plain when keys is NULL) sends `text` to s. */
static void *s_client(void *ctx, const struct server *s, const struct keypair *keys,
                      const char *text)
{
	void *push = zmq_socket(ctx, ZMQ_PUSH);
	int linger = 0;
	char err[512];

	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof(linger));
	if (keys != NULL) {
		char body[1024];
		curve_t *cv = NULL;
		snprintf(body, sizeof(body),
		         "wire: { curve_secret_key = \"%s\"; curve_servers = [ \"%s %s\" ]; };\n",
		         keys->sec, s->ep, s->keys.pub);
		assert_int_equal(s_load(body, &cv, err, sizeof(err)), 0);
		if (curve_prepare_connect(cv, push, s->ep, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		curve_free(&cv);
	}
	assert_int_equal(zmq_connect(push, s->ep), 0);
	assert_int_equal(zmq_send(push, text, strlen(text), ZMQ_DONTWAIT), (int)strlen(text));
	return push;
}

static void test_an_allowed_client_key_gets_through(void **state)
{
	struct keypair client = s_keys();
	struct server s;
	char got[64];
	void *ctx = zmq_ctx_new(), *push;

	(void)state;
	s_server_start(&s, client.pub);
	push = s_client(ctx, &s, &client, "hello");
	s_recv(s.pull, 5000, got, sizeof(got));
	assert_string_equal(got, "hello");
	zmq_close(push);
	zmq_ctx_term(ctx);
	s_server_stop(&s);
}

static void test_an_unknown_key_and_a_plain_client_are_refused(void **state)
{
	struct keypair allowed = s_keys(), stranger = s_keys();
	struct server s;
	char got[64];
	void *ctx = zmq_ctx_new(), *a, *b, *c;

	(void)state;
	s_server_start(&s, allowed.pub);
	a = s_client(ctx, &s, &stranger, "from a stranger");
	b = s_client(ctx, &s, NULL, "plain");
	s_recv(s.pull, 1500, got, sizeof(got));
	assert_string_equal(got, "");
	/* The handler still answers: the allowed key gets through afterwards. */
	c = s_client(ctx, &s, &allowed, "friend");
	s_recv(s.pull, 5000, got, sizeof(got));
	assert_string_equal(got, "friend");
	s_recv(s.pull, 300, got, sizeof(got));
	assert_string_equal(got, "");
	zmq_close(a);
	zmq_close(b);
	zmq_close(c);
	zmq_ctx_term(ctx);
	s_server_stop(&s);
}

/* One PUSH socket: a CURVE tcp:// peer and then a plain ipc:// peer.  The
 * ipc connect must not inherit the CURVE client settings. */
static void test_one_socket_connects_curve_tcp_and_plain_ipc(void **state)
{
	struct keypair client = s_keys();
	struct server s;
	char body[1024], err[512], ipc[4200], got[64];
	curve_t *cv = NULL;
	void *ctx = zmq_ctx_new(), *push, *plain;
	int linger = 0, got_tcp = 0, got_ipc = 0;

	(void)state;
	s_server_start(&s, client.pub);
	snprintf(ipc, sizeof(ipc), "ipc://%s/plain.sock", s_dir);
	plain = zmq_socket(ctx, ZMQ_PULL);
	zmq_setsockopt(plain, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_bind(plain, ipc), 0);

	snprintf(body, sizeof(body),
	         "wire: { curve_secret_key = \"%s\"; curve_servers = [ \"%s %s\" ]; };\n",
	         client.sec, s.ep, s.keys.pub);
	assert_int_equal(s_load(body, &cv, err, sizeof(err)), 0);
	push = zmq_socket(ctx, ZMQ_PUSH);
	zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(curve_prepare_connect(cv, push, s.ep, err, sizeof(err)), 0);
	assert_int_equal(zmq_connect(push, s.ep), 0);
	assert_int_equal(curve_prepare_connect(cv, push, ipc, err, sizeof(err)), 0);
	assert_int_equal(zmq_connect(push, ipc), 0);
	curve_free(&cv);

	/* Round-robin over both peers once each is up. */
	for (int i = 0; i < 40 && !(got_tcp && got_ipc); i++) {
		zmq_send(push, "x", 1, ZMQ_DONTWAIT);
		s_recv(s.pull, 50, got, sizeof(got));
		got_tcp |= got[0] == 'x';
		s_recv(plain, 50, got, sizeof(got));
		got_ipc |= got[0] == 'x';
	}
	assert_true(got_tcp);
	assert_true(got_ipc);
	zmq_close(push);
	zmq_close(plain);
	zmq_ctx_term(ctx);
	s_server_stop(&s);
}

static int s_setup(void **state)
{
	(void)state;
	s_dir = test_tmpdir();
	return s_dir != NULL ? 0 : -1;
}

static int s_teardown(void **state)
{
	char cmd[4200];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s_dir);
	if (system(cmd) != 0)
		return -1;
	free(s_dir);
	return 0;
}

int main(void)
{
	char err[512];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_secret_key_means_curve_off),
		cmocka_unit_test(test_public_key_is_derived_from_the_secret_key),
		cmocka_unit_test(test_secret_key_file_is_read),
		cmocka_unit_test(test_bad_keys_are_refused_with_the_setting_named),
		cmocka_unit_test(test_connect_to_an_unlisted_tcp_endpoint_is_an_error),
		cmocka_unit_test(test_an_allowed_client_key_gets_through),
		cmocka_unit_test(test_an_unknown_key_and_a_plain_client_are_refused),
		cmocka_unit_test(test_one_socket_connects_curve_tcp_and_plain_ipc),
	};
	if (zmq_load(err, sizeof(err)) != 0) {
		printf("FAIL: %s\n", err);
		return 1;
	}
	if (!zmq_has("curve")) {
		printf("SKIP: this libzmq has no CURVE support\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
