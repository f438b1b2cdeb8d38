/*
 * htmlutil.h - libxml2 helpers shared by the scraper's parsers: reading
 * hostile XML and HTML safely, walking a tree without recursion, finding
 * elements by name, class and id, and taking their text cleaned.
 *
 * Every text that leaves here is valid UTF-8 without control characters,
 * with whitespace runs (U+00A0 included) collapsed to one space and
 * trimmed, and cut to the caller's bound on a character boundary.
 */
#ifndef COATTAIL_HTMLUTIL_H
#define COATTAIL_HTMLUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

/*
 * Parse HTML with RECOVER|NOERROR|NOWARNING|NONET, as UTF-8.  Documents
 * over PARSE_MAX_DOC_BYTES are refused.  NULL on failure, with err saying
 * why prefixed by `source`.
 */
htmlDocPtr hu_html_read(const char *buf, size_t len, const char *source, char *err, size_t errlen);

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
/* The class attribute holds the token cls. */
bool hu_has_class(xmlNodePtr n, const char *cls);
/* The class attribute holds a token starting with prefix. */
bool hu_has_class_prefix(xmlNodePtr n, const char *prefix);

/*
 * First element of root's subtree (root included) named `name` (NULL: any)
 * with the class token `cls` (NULL: any) and, if id is not NULL, that id.
 */
xmlNodePtr hu_find(xmlNodePtr root, const char *name, const char *cls, const char *id);
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
/* An attribute's raw value (not cleaned), into buf; false when absent. */
bool hu_attr_raw(xmlNodePtr n, const char *name, char *buf, size_t len);

/* Clean arbitrary bytes as described above into out (NUL-terminated). */
size_t hu_clean(const char *in, size_t inlen, char *out, size_t outlen);

/* The <td>/<th> children of a row, at most max; returns how many. */
int hu_cells(xmlNodePtr tr, xmlNodePtr *cells, int max);
/* First <a> with an href in n's subtree (n included), or NULL. */
xmlNodePtr hu_link(xmlNodePtr n);

/* The header row and the data rows of a table, in document order. */
struct hu_rows {
	xmlNodePtr hdr; /* NULL when no row was a header */
	xmlNodePtr *tr; /* data rows (malloc'd; free with hu_rows_free) */
	size_t n, cap;
};

/*
 * Collect the rows directly in `table` or in its thead/tbody/tfoot (not the
 * rows of nested tables): the first row is_header() accepts becomes r->hdr,
 * and the rows is_data() accepts are appended to r->tr.  r starts zeroed.
 * Returns 0, or -1 when out of memory.
 */
int hu_collect_rows(xmlNodePtr table, bool (*is_header)(xmlNodePtr tr),
                    bool (*is_data)(xmlNodePtr tr), struct hu_rows *r);
void hu_rows_free(struct hu_rows *r);

/* The document's <title> text, cleaned, into buf ("" when none). */
size_t hu_title(xmlDocPtr doc, char *buf, size_t len);
/* The <title> of an HTML page given as bytes, for error messages. */
size_t hu_html_title(const char *html, size_t hlen, char *buf, size_t len);

#endif
