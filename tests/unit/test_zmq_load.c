/*
 * test_zmq_load.c - libzmq is loaded by the first wire that has a socket,
 * not before and not by a wire on stdin/stdout alone; a missing, foreign or
 * too old library fails with a message that says what is wrong; the load
 * happens once, whichever threads ask.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* zmq_fn's fields by their names: no mapping of the names to them here */
#define ZMQ_LOAD_NO_NAMES 1
#include "wire.h"
#include "zmq_load.h"

static bool s_zmq_mapped(void)
{
	void *h = dlopen(ZMQ_LOAD_SONAME, RTLD_NOW | RTLD_NOLOAD);

	if (h == NULL)
		return false;
	dlclose(h); /* drops only the reference RTLD_NOLOAD took */
	return true;
}

static bool s_fns_empty(const struct zmq_fns *f)
{
	static const struct zmq_fns zero;

	return memcmp(f, &zero, sizeof(zero)) == 0;
}

/* Runs first: nothing in this process has made a wire yet, and the test
 * binary, like every coattail binary, does not link libzmq. */
static void test_libzmq_is_not_mapped_before_a_socket_exists(void **state)
{
	(void)state;
	assert_false(s_zmq_mapped());
	assert_null(zmq_fn.zmq_ctx_new);
}

static void test_a_missing_library_says_what_to_install(void **state)
{
	struct zmq_fns f;
	char err[512] = "";

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(zmq_load_from("libcoattail-no-such-zmq.so.9", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot load libcoattail-no-such-zmq.so.9: "));
	assert_non_null(strstr(err, "install Debian's libzmq5"));
	assert_true(s_fns_empty(&f));
}

/* A real library that is not libzmq: refused by the first missing symbol,
 * and *fns left untouched. */
static void test_a_library_without_zmq_symbols_is_refused(void **state)
{
	struct zmq_fns f;
	char err[512] = "";

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(zmq_load_from("libm.so.6", &f, err, sizeof(err)), -1);
	assert_string_equal(err, "libm.so.6 has no zmq_version: not a libzmq coattail can use");
	assert_true(s_fns_empty(&f));
	assert_false(s_zmq_mapped());
}

/* fakezmq/libzmq.so.5 beside this binary (the Makefile builds it) has every
 * symbol and says it is 4.1.0. */
static void test_a_libzmq_older_than_4_3_is_refused(void **state)
{
	char exe[PATH_MAX], path[PATH_MAX + 32], err[PATH_MAX + 128] = "", want[PATH_MAX + 128];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct zmq_fns f;
	char *slash;

	(void)state;
	assert_true(n > 0);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	assert_non_null(slash);
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/fakezmq/libzmq.so.5", exe);
	assert_int_equal(access(path, R_OK), 0);
	memset(&f, 0, sizeof(f));
	assert_int_equal(zmq_load_from(path, &f, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s is libzmq 4.1.0; coattail needs 4.3 or later", path);
	assert_string_equal(err, want);
	assert_true(s_fns_empty(&f));
	assert_false(s_zmq_mapped());
}

/* A wire without sockets (no input, no output, no tap; the scenario test
 * covers --out - and --in -, which would take this process's stdio) makes
 * no context and loads nothing. */
static void test_a_wire_without_sockets_loads_nothing(void **state)
{
	struct wire_opts o = { .stage = "test", .drain_ms = 10, .stats_interval_ms = 1000 };
	char err[256] = "";
	wire_t *w;

	(void)state;
	w = wire_new(&o, err, sizeof(err));
	if (w == NULL)
		fail_msg("wire_new: %s", err);
	wire_free(&w);
	assert_false(s_zmq_mapped());
	assert_null(zmq_fn.zmq_ctx_new);
}

/* The process's first load, asked for by eight threads at once: one load,
 * every caller told 0. */
#define N_THREADS 8
static void *s_load_thread(void *arg)
{
	char err[512];

	*(int *)arg = zmq_load(err, sizeof(err));
	return NULL;
}

static void test_concurrent_first_loads_load_once(void **state)
{
	pthread_t t[N_THREADS];
	int rc[N_THREADS];
	int major = 0, minor = 0, patch = 0;
	void *h, *sym;

	(void)state;
	for (int i = 0; i < N_THREADS; i++) {
		rc[i] = -2;
		assert_int_equal(pthread_create(&t[i], NULL, s_load_thread, &rc[i]), 0);
	}
	for (int i = 0; i < N_THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(rc[i], 0);
	}
	assert_true(s_zmq_mapped());
	zmq_fn.zmq_version(&major, &minor, &patch);
	assert_true(major > ZMQ_LOAD_MIN_MAJOR ||
	            (major == ZMQ_LOAD_MIN_MAJOR && minor >= ZMQ_LOAD_MIN_MINOR));
	/* The pointers are libzmq's own. */
	h = dlopen(ZMQ_LOAD_SONAME, RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(h);
	sym = dlsym(h, "zmq_ctx_new");
	assert_memory_equal(&zmq_fn.zmq_ctx_new, &sym, sizeof(sym));
	dlclose(h);
}

/* A wire with a socket (here an inproc tap) works through the table. */
static void test_a_wire_with_a_socket_uses_the_loaded_library(void **state)
{
	struct wire_opts o = { .stage = "test",
		               .tap = "inproc://test-zmq-load",
		               .hwm = 10,
		               .tap_hwm = 10,
		               .max_msg_bytes = 65536,
		               .drain_ms = 10,
		               .stats_interval_ms = 1000 };
	char err[256] = "";
	wire_t *w;

	(void)state;
	w = wire_new(&o, err, sizeof(err));
	if (w == NULL)
		fail_msg("wire_new: %s", err);
	assert_non_null(zmq_fn.zmq_socket);
	assert_int_equal(zmq_load(err, sizeof(err)), 0);
	wire_free(&w);
	assert_null(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libzmq_is_not_mapped_before_a_socket_exists),
		cmocka_unit_test(test_a_missing_library_says_what_to_install),
		cmocka_unit_test(test_a_library_without_zmq_symbols_is_refused),
		cmocka_unit_test(test_a_libzmq_older_than_4_3_is_refused),
		cmocka_unit_test(test_a_wire_without_sockets_loads_nothing),
		cmocka_unit_test(test_concurrent_first_loads_load_once),
		cmocka_unit_test(test_a_wire_with_a_socket_uses_the_loaded_library),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
