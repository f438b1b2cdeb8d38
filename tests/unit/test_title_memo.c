/*
 * test_title_memo.c - the decider's memo of executive-title answers gives
 * title_is_executive's answer every time: first ask, repeats, titles that
 * share a slot, titles too long for it, and after a matcher change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../decider/title.h"

static const char *const s_titles[] = {
	"Director",
	"CEO",
	"Dir, 10%",
	"Pres. & CEO",
	"EVP & CFO",
	"Chief Legal Officer",
	"10% Owner",
	"See Remarks",
	"C.E.O.",
	"VP",
	"",
	"cfo",
	"Chief Executive Officer",
	"COO, Director",
	"Controller",
	"CTO and Co-Founder",
	"Dir",
	/* 47 bytes: the longest the memo keeps */
	"Director and Chairman of the Board, CEO x x x 4",
	/* 48 and more: answered without it */
	"Director and Chairman of the Board, CEO x x x 48",
	"Executive Vice President, General Counsel and Corporate Secretary (not an officer)",
};

static void s_matcher(struct title_matcher *m, const char *words)
{
	char err[256];

	assert_int_equal(title_matcher_init(m, words, err, sizeof(err)), 0);
}

static void test_memo_answers_as_the_matcher_does_first_and_again(void **state)
{
	struct title_matcher m;
	struct title_memo *c = malloc(sizeof(*c));

	(void)state;
	assert_non_null(c);
	s_matcher(&m, TITLE_DEFAULT_WORDS);
	title_memo_init(c);
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(s_titles) / sizeof(s_titles[0]); i++)
			assert_int_equal(title_memo_is_executive(c, &m, s_titles[i]),
			                 title_is_executive(&m, s_titles[i]));
	assert_false(title_memo_is_executive(c, &m, NULL));
	assert_true(
	    title_memo_is_executive(c, &m, "Director and Chairman of the Board, CEO x x x 4"));
	assert_true(
	    title_memo_is_executive(c, &m, "Director and Chairman of the Board, CEO x x x 48"));
	free(c);
}

/* Far more distinct titles than slots, so they evict each other; every
 * answer is still the matcher's. */
static void test_titles_sharing_a_slot_keep_their_own_answers(void **state)
{
	struct title_matcher m;
	struct title_memo *c = malloc(sizeof(*c));
	char t[64];

	(void)state;
	assert_non_null(c);
	s_matcher(&m, TITLE_DEFAULT_WORDS);
	title_memo_init(c);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 20 * TITLE_MEMO_SLOTS; i++) {
			snprintf(t, sizeof(t), i % 3 == 0 ? "CEO %d" : "Director %d", i);
			assert_int_equal(title_memo_is_executive(c, &m, t), i % 3 == 0);
		}
	free(c);
}

/* A memo belongs to one matcher: init again after changing it. */
static void test_memo_init_forgets_the_old_matcher(void **state)
{
	struct title_matcher m;
	struct title_memo *c = malloc(sizeof(*c));

	(void)state;
	assert_non_null(c);
	s_matcher(&m, "CEO");
	title_memo_init(c);
	assert_false(title_memo_is_executive(c, &m, "President"));
	s_matcher(&m, "President");
	title_memo_init(c);
	assert_true(title_memo_is_executive(c, &m, "President"));
	assert_false(title_memo_is_executive(c, &m, "CEO"));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memo_answers_as_the_matcher_does_first_and_again),
		cmocka_unit_test(test_titles_sharing_a_slot_keep_their_own_answers),
		cmocka_unit_test(test_memo_init_forgets_the_old_matcher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
