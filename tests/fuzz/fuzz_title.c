/*
 * Fuzz target: the decider's reading of an insider's title and name, both
 * straight from a filing or a page (decider/title.c).  The bytes are one
 * string (up to the first NUL).  What is written fits and ends in a NUL, a
 * normalised title and an owner key are fixed points, and the memo always
 * answers what title_is_executive answers (the memo lives across inputs).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../decider/title.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_fits(const char *out, size_t cap, size_t n)
{
	if (cap > 0 && (n >= cap || strlen(out) != n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct title_matcher m;
	static struct title_memo memo;
	static const size_t caps[] = { 1, 2, 3, 8, 64, 512 };
	char *s = malloc(size + 1), out[512], again[512], err[128];
	size_t n;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (m.n == 0) {
		if (title_matcher_init(&m, TITLE_DEFAULT_WORDS, err, sizeof(err)) != 0)
			abort();
		title_memo_init(&memo);
	}
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		n = title_normalise(s, out, caps[i]);
		s_fits(out, caps[i], n);
		n = title_owner_key(s, out, caps[i]);
		s_fits(out, caps[i], n);
	}
	n = title_normalise(s, out, sizeof(out));
	if (title_normalise(out, again, sizeof(again)) != n || strcmp(out, again) != 0)
		abort();
	n = title_owner_key(s, out, sizeof(out));
	if (title_owner_key(out, again, sizeof(again)) != n || strcmp(out, again) != 0)
		abort();
	if (title_memo_is_executive(&memo, &m, s) != title_is_executive(&m, s))
		abort();
	/* the same string as a matcher's word list: refused or usable */
	{
		struct title_matcher m2;

		if (title_matcher_init(&m2, s, err, sizeof(err)) == 0)
			(void)title_is_executive(&m2, s);
		else if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
	}
	free(s);
	return 0;
}
