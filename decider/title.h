/*
 * title.h - who an insider is: executive titles and owner names.
 *
 * The original system matched titles case-sensitively and exactly, so
 * "President & CEO" and "CHIEF LEGAL OFFICER" were not executives.  Here a
 * title is normalised first (ASCII lower case; every run of punctuation or
 * space becomes one space) and then read as words: it is an executive's
 * title when one of its words is one of the configured words (CEO, CFO, COO,
 * CTO) or when it contains "officer". A run of one-letter words counts as one
 * word, so "C.E.O." is "ceo".
 */
#ifndef COATTAIL_TITLE_H
#define COATTAIL_TITLE_H

#include <stdbool.h>
#include <stddef.h>

#define TITLE_MAX_WORDS    16
#define TITLE_MAX_WORD_LEN 24

/* The executive words, normalised; built once by title_matcher_init. */
struct title_matcher {
	char words[TITLE_MAX_WORDS][TITLE_MAX_WORD_LEN];
	int n;
};

/* The default executive words. */
#define TITLE_DEFAULT_WORDS "CEO,CFO,COO,CTO"

/*
 * Build a matcher from a list of words separated by commas or spaces
 * ("CEO,CFO,COO,CTO").  Each must be letters or digits only, at most
 * TITLE_MAX_WORD_LEN - 1 bytes; at most TITLE_MAX_WORDS.  An empty list
 * leaves only the "officer" test.  0, or -1 with err filled.
 */
int title_matcher_init(struct title_matcher *m, const char *words, char *err, size_t errlen);

/*
 * Lower-case ASCII letters, turn every run of bytes that are not ASCII
 * letters or digits into one space, trim.  Bytes >= 0x80 (UTF-8) are kept as
 * word characters.  Writes at most outlen - 1 bytes and a NUL; returns the
 * length written.
 */
size_t title_normalise(const char *in, char *out, size_t outlen);

/*
 * True when title names an executive: a word of the normalised title equals
 * one of m's words, or the normalised title contains "officer".  NULL or
 * empty is not an executive.  Roles are deliberately not consulted: the
 * Form 4 "officer" box covers every Section 16 officer (vice presidents,
 * controllers), which is wider than the rule.
 */
bool title_is_executive(const struct title_matcher *m, const char *title);

/*
 * A name key that the same person gets from every source: "Smith John A",
 * "SMITH JOHN A." and "John A. Smith" all become "john smith".  Normalised
 * as above, then one-letter words (initials) and courtesy or generational
 * words (jr, sr, ii, iii, iv, mr, mrs, ms, dr, md, phd, esq) are removed and
 * the words sorted.  When nothing is left (a name of initials only) the
 * sorted words are kept as they are.  Returns the length written.
 */
size_t title_owner_key(const char *owner, char *out, size_t outlen);

/*
 * A memo of title_is_executive's answers for one matcher: nearly every
 * trade's title is one of a few dozen ("Director", "CEO", "10% Owner"), and
 * a decider asks once per trade.  Direct-mapped, TITLE_MEMO_SLOTS slots,
 * keyed by the title's exact bytes; a title of TITLE_MEMO_LEN bytes or more
 * is answered without the memo.  The answer is always title_is_executive's:
 * the memo only remembers it.  Bound to one matcher: init it again when the
 * matcher changes.
 */
#define TITLE_MEMO_SLOTS 64
#define TITLE_MEMO_LEN   48

struct title_memo {
	struct {
		char title[TITLE_MEMO_LEN];
		signed char exec; /* -1 empty, else the answer */
	} slot[TITLE_MEMO_SLOTS];
};

void title_memo_init(struct title_memo *c);
bool title_memo_is_executive(struct title_memo *c, const struct title_matcher *m,
                             const char *title);

#endif
