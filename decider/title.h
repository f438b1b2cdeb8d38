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

#endif
