/*
 * test_readme.c - the README's configuration reference is generated from the
 * settings tables, so it cannot drift: this test fails when they differ.
 * `make readme` (COATTAIL_UPDATE_README=1) rewrites the section.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "support/testutil.h"

#define BEGIN_MARK "<!-- BEGIN CONFIG REFERENCE (generated: make readme) -->\n"
#define END_MARK   "<!-- END CONFIG REFERENCE -->\n"

static char *s_reference(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	conf_write_reference(f);
	fclose(f);
	return buf;
}

static void test_readme_config_reference_matches_the_tables(void **state)
{
	size_t len;
	char *readme = test_read_file("README.md", &len);
	char *ref = s_reference();
	char *begin, *end;
	(void)state;

	assert_non_null(readme);
	begin = strstr(readme, BEGIN_MARK);
	end = begin ? strstr(begin, END_MARK) : NULL;
	if (begin == NULL || end == NULL)
		fail_msg("README.md lacks the config reference markers");
	begin += strlen(BEGIN_MARK);
	if (getenv("COATTAIL_UPDATE_README") != NULL) {
		FILE *f = fopen("README.md", "w");
		assert_non_null(f);
		fwrite(readme, 1, (size_t)(begin - readme), f);
		fputs(ref, f);
		fputs(end, f);
		fclose(f);
	} else if ((size_t)(end - begin) != strlen(ref) || memcmp(begin, ref, strlen(ref)) != 0) {
		fail_msg("README.md's config reference is out of date: run `make readme`");
	}
	free(ref);
	free(readme);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_config_reference_matches_the_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
