/*
 * test_curl_load.c - libcurl is loaded when the first HTTP client is made,
 * not before, and a missing or wrong library fails with a message that says
 * what to install.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "curl_load.h"
#include "http.h"

static bool s_curl_mapped(void)
{
	void *h = dlopen(CURL_LOAD_SONAME, RTLD_NOW | RTLD_NOLOAD);

	if (h == NULL)
		return false;
	dlclose(h); /* drops only the reference RTLD_NOLOAD took */
	return true;
}

/* Runs first: nothing in this process has made a client yet, and the test
 * binary, like every coattail binary, does not link libcurl. */
static void test_libcurl_is_not_mapped_before_a_client_exists(void **state)
{
	(void)state;
	assert_false(s_curl_mapped());
}

static void test_a_missing_library_says_what_to_install(void **state)
{
	struct curl_fns f;
	char err[512] = "";

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(curl_load_from("libcoattail-no-such-curl.so.9", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot load libcoattail-no-such-curl.so.9"));
	assert_non_null(strstr(err, "install Debian's libcurl4"));
	assert_null(f.easy_init);
}

/* A real library that is not libcurl: refused by the first missing symbol,
 * and *fns left untouched. */
static void test_a_library_without_curl_symbols_is_refused(void **state)
{
	struct curl_fns f;
	char err[512] = "";

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(curl_load_from("libm.so.6", &f, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "libm.so.6 has no curl_global_init"));
	assert_null(f.global_init);
	assert_false(s_curl_mapped());
}

/* A client made to load on its first request loads nothing until then;
 * that request then loads libcurl and is made (here: refused by a closed
 * port, an ordinary transport error). */
static void test_a_lazy_client_loads_libcurl_with_its_first_request(void **state)
{
	struct http_opts o = { .user_agent = "coattail-test/1 test@example.com",
		               .load_on_first_request = true,
		               .max_retries = -1 };
	struct http_request req = { .url = "http://127.0.0.1:9/nothing" };
	struct http_response resp;
	http_client_t *c;

	(void)state;
	c = http_new(&o);
	assert_non_null(c);
	assert_false(s_curl_mapped());
	assert_int_equal(http_do(c, &req, &resp), -1);
	assert_true(s_curl_mapped());
	assert_non_null(strstr(resp.error, "GET http://127.0.0.1:9/nothing: "));
	assert_null(strstr(resp.error, "cannot load"));
	http_response_free(&resp);
	http_free(&c);
}

static void test_the_first_client_loads_libcurl_once(void **state)
{
	struct http_opts o = { .user_agent = "coattail-test/1 test@example.com" };
	http_client_t *a, *b;
	char err[256] = "x";

	(void)state;
	a = http_new(&o);
	assert_non_null(a);
	assert_true(s_curl_mapped());
	assert_non_null(curl_fn.easy_perform);
	/* Later loads are no-ops that report the first one's success. */
	assert_int_equal(curl_load(err, sizeof(err)), 0);
	b = http_new(&o);
	assert_non_null(b);
	assert_non_null(curl_fn.version_info(CURLVERSION_NOW));
	assert_true(curl_fn.version_info(CURLVERSION_NOW)->version_num >= LIBCURL_VERSION_NUM);
	http_free(&a);
	http_free(&b);
	assert_null(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libcurl_is_not_mapped_before_a_client_exists),
		cmocka_unit_test(test_a_missing_library_says_what_to_install),
		cmocka_unit_test(test_a_library_without_curl_symbols_is_refused),
		cmocka_unit_test(test_a_lazy_client_loads_libcurl_with_its_first_request),
		cmocka_unit_test(test_the_first_client_loads_libcurl_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
