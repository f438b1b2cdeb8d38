/*
 * test_memo.c - the mapper's in-process memo of cache answers: a value
 * lives exactly until the expiry it was stored with, the memo never holds
 * more than its bound, the least recently used entry is the one replaced,
 * and a memo that is off remembers nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../mapper/memo.h"

#define T0 1777000000LL

static const char *s_get(memo_t *m, const char *key, int64_t now)
{
	size_t len = 0;
	const char *v = memo_get(m, key, now, &len);

	if (v != NULL)
		assert_int_equal(len, strlen(v));
	return v;
}

static void s_put(memo_t *m, const char *key, const char *val, int64_t expires_at)
{
	assert_int_equal(memo_put(m, key, val, strlen(val), expires_at), 0);
}

static void test_a_value_lives_until_its_expiry_and_not_a_second_longer(void **state)
{
	memo_t *m = memo_new(16);

	(void)state;
	assert_non_null(m);
	assert_null(s_get(m, "TICKER|IBM|exch=US", T0));
	s_put(m, "TICKER|IBM|exch=US", "BBG000BLNNH6", T0 + 100);
	assert_string_equal(s_get(m, "TICKER|IBM|exch=US", T0), "BBG000BLNNH6");
	assert_string_equal(s_get(m, "TICKER|IBM|exch=US", T0 + 99), "BBG000BLNNH6");
	/* The cache's rule is "expires_at > now": at T0 + 100 the row is dead. */
	assert_null(s_get(m, "TICKER|IBM|exch=US", T0 + 100));
	assert_int_equal(memo_count(m), 0);
	memo_free(&m);
	assert_null(m);
}

static void test_put_replaces_and_forget_drops(void **state)
{
	memo_t *m = memo_new(16);

	(void)state;
	s_put(m, "a", "one", T0 + 10);
	s_put(m, "a", "two, longer", T0 + 20);
	assert_int_equal(memo_count(m), 1);
	assert_string_equal(s_get(m, "a", T0 + 15), "two, longer");
	memo_forget(m, "a");
	memo_forget(m, "never stored");
	assert_null(s_get(m, "a", T0));
	assert_int_equal(memo_count(m), 0);
	s_put(m, "b", "", T0 + 10); /* an empty value is a value */
	assert_string_equal(s_get(m, "b", T0), "");
	memo_clear(m);
	assert_int_equal(memo_count(m), 0);
	memo_free(&m);
}

static void test_the_memo_never_holds_more_than_its_bound(void **state)
{
	memo_t *m = memo_new(8);
	char key[32];

	(void)state;
	assert_int_equal(memo_capacity(m), 8);
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "TICKER|T%04d|exch=US", i);
		s_put(m, key, key, T0 + 100);
		assert_true(memo_count(m) <= 8);
	}
	/* The newest is always there. */
	assert_string_equal(s_get(m, key, T0), key);
	memo_free(&m);
}

static void test_the_least_recently_used_entry_is_replaced(void **state)
{
	memo_t *m = memo_new(4); /* one set of four ways */

	(void)state;
	assert_int_equal(memo_capacity(m), 4);
	s_put(m, "a", "A", T0 + 100);
	s_put(m, "b", "B", T0 + 100);
	s_put(m, "c", "C", T0 + 100);
	s_put(m, "d", "D", T0 + 100);
	assert_non_null(s_get(m, "a", T0)); /* a is now more recent than b */
	s_put(m, "e", "E", T0 + 100);
	assert_null(s_get(m, "b", T0));
	assert_string_equal(s_get(m, "a", T0), "A");
	assert_string_equal(s_get(m, "c", T0), "C");
	assert_string_equal(s_get(m, "e", T0), "E");
	assert_int_equal(memo_count(m), 4);
	memo_free(&m);
}

static void test_a_memo_that_is_off_remembers_nothing(void **state)
{
	memo_t *m = memo_new(0);

	(void)state;
	assert_null(m);
	assert_int_equal(memo_put(m, "a", "A", 1, T0 + 100), 0);
	assert_null(memo_get(m, "a", T0, NULL));
	memo_forget(m, "a");
	assert_int_equal(memo_count(m), 0);
	assert_int_equal(memo_capacity(m), 0);
	memo_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_value_lives_until_its_expiry_and_not_a_second_longer),
		cmocka_unit_test(test_put_replaces_and_forget_drops),
		cmocka_unit_test(test_the_memo_never_holds_more_than_its_bound),
		cmocka_unit_test(test_the_least_recently_used_entry_is_replaced),
		cmocka_unit_test(test_a_memo_that_is_off_remembers_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
