/*
 * htmlutil.h - libxml2 helpers shared by the scraper's parsers: reading
 * hostile XML safely, walking a tree without recursion, finding elements
 * by name, and taking their text cleaned; the text cleaner itself, which
 * the HTML page reader (htmlsax.h) feeds as text streams in.
 *
 * Every text that leaves here is valid UTF-8 without control characters,
 * with whitespace runs (U+00A0 included) collapsed to one space and
 * trimmed, and cut to the caller's bound on a character boundary.
 */
#ifndef COATTAIL_HTMLUTIL_H
#define COATTAIL_HTMLUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

/*
 * Parse XML with NONET|NOCDATA and neither NOENT nor DTDLOAD nor HUGE.  A
 * document type declaration stops the parser as soon as it is seen (before
 * any internal subset is read), so no entity is ever declared, let alone
 * expanded; *dtd is then set.  NULL on failure, with err naming `source`,
 * the line and libxml2's message ("form4: XML not well formed at line 3:
 * ...").
 */
xmlDocPtr hu_xml_read(const char *buf, size_t len, const char *source, bool *dtd, char *err,
                      size_t errlen);

/* Pre-order successor of node inside root's subtree, or NULL (iterative). */
xmlNodePtr hu_next(xmlNodePtr node, xmlNodePtr root);
/* Like hu_next, but does not descend into node's children. */
xmlNodePtr hu_skip(xmlNodePtr node, xmlNodePtr root);

/* n->name and name are equal but for the case of ASCII letters. */
bool hu_name_eq(const xmlChar *a, const char *b);

/*
 * An element whose local name is `name` (ASCII case-insensitive).  Inline:
 * tree walks ask it at nearly every node, and most names differ already
 * in their first byte (two bytes that differ in more than the 0x20 bit
 * can be no letter and its other case).
 */
static inline bool hu_is(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->name != NULL &&
	       ((n->name[0] ^ (unsigned char)name[0]) & ~0x20) == 0 && hu_name_eq(n->name, name);
}
/* First element child named `name` (NULL: any element). */
xmlNodePtr hu_child(xmlNodePtr n, const char *name);
/* Next element sibling named `name` (NULL: any element). */
xmlNodePtr hu_next_elem(xmlNodePtr n, const char *name);

/*
 * Text of n's subtree, cleaned, into buf (always NUL-terminated).  Returns
 * the length written.  Script and style contents are not text.
 */
size_t hu_text(xmlNodePtr n, char *buf, size_t len);
/* The same, malloc'd, at most max bytes; NULL when empty (or no memory). */
char *hu_text_dup(xmlNodePtr n, size_t max);
/* An attribute's value, cleaned, into buf; "" (returns 0) when absent. */
size_t hu_attr(xmlNodePtr n, const char *name, char *buf, size_t len);
/* Clean arbitrary bytes as described above into out (NUL-terminated). */
size_t hu_clean(const char *in, size_t inlen, char *out, size_t outlen);

/*
 * The first <title> of an HTML page given as bytes, cleaned, into buf (""
 * when none), for error messages; read as the page parsers read pages
 * (htmlsax.c), and cut to at most HS_TEXT_MAX - 1 bytes whatever len.
 */
size_t hu_html_title(const char *html, size_t hlen, char *buf, size_t len);

/* ---- cleaning text as it streams in (htmlsax.c) ---- */

/*
 * The cleaner behind hu_text and hu_clean, for text that arrives in
 * pieces: it appends cleaned text to a fixed buffer and stops for good,
 * on a character boundary, at the first character (with the blank before
 * it) that does not fit.  With buf NULL it only counts.
 */
struct hu_tb {
	char *buf;
	size_t len, cap; /* cap excludes the NUL */
	bool space;      /* a blank is pending (written before the next character) */
	bool full;
};

void hu_tb_init(struct hu_tb *tb, char *buf, size_t size);
/*
 * Clean and append n bytes.  A NUL ends the text as it ends a C string:
 * the rest of s is not read and true is returned (false otherwise).  A
 * UTF-8 sequence is judged within this call's bytes only.
 */
bool hu_tb_put(struct hu_tb *tb, const char *s, size_t n);
/* A word boundary (an element such as <br> or <td>): a blank is pending. */
static inline void hu_tb_break(struct hu_tb *tb)
{
	tb->space = true;
}

/*
 * How much of s (len bytes of text as hu_text or hu_tb wrote it into a
 * larger buffer) hu_text would have written into a buffer of `size`
 * bytes: the same characters, as many as fit with the blanks before them.
 */
size_t hu_text_cut(const char *s, size_t len, size_t size);

/* Does the blank-separated list (a class attribute) hold the token tok,
 * or with prefix true, a token starting with tok? */
bool hu_token(const char *list, const char *tok, bool prefix);

#endif
