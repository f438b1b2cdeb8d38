/*
 * htmlutil.c - safe reading of hostile XML, small tree helpers, and the
 * text cleaner that they and the HTML page reader (htmlsax.c) share.
 *
 * Trees are walked with parent pointers, never by recursion, so a deeply
 * nested document costs time proportional to its size and no stack
 * (libxml2 itself stops at 256 levels without XML_PARSE_HUGE, which we
 * never set).
 */
#include "htmlutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "parse.h"
#include "parse_priv.h"

/* ---- text cleaning ---- */

void hu_tb_init(struct hu_tb *tb, char *buf, size_t size)
{
	tb->buf = buf;
	tb->len = 0;
	tb->cap = size > 0 ? size - 1 : 0;
	tb->space = false;
	tb->full = size == 0;
	if (size > 0 && buf != NULL)
		buf[0] = '\0';
}

static void s_tb_emit(struct hu_tb *tb, const char *c, size_t n)
{
	size_t need = n + (tb->space && tb->len > 0 ? 1 : 0);

	if (tb->full)
		return;
	if (tb->len + need > tb->cap) {
		tb->full = true; /* stop on a character boundary */
		return;
	}
	tb->space = false;
	if (tb->buf == NULL) {
		tb->len += need;
		return;
	}
	if (need > n)
		tb->buf[tb->len++] = ' ';
	memcpy(tb->buf + tb->len, c, n);
	tb->len += n;
	tb->buf[tb->len] = '\0';
}

/*
 * Length of the valid UTF-8 sequence at p (at most `left` bytes), or 0
 * when the bytes there are not one (overlong forms, surrogates and values
 * above U+10FFFF included).
 */
static size_t s_utf8_len(const unsigned char *p, size_t left)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		return left >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (p[0] == 0xE0 && p[1] < 0xA0)
			return 0; /* overlong */
		if (p[0] == 0xED && p[1] >= 0xA0)
			return 0; /* surrogate */
		return 3;
	}
	if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
		    (p[3] & 0xC0) != 0x80)
			return 0;
		if (p[0] == 0xF0 && p[1] < 0x90)
			return 0;
		if (p[0] == 0xF4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Emit a run of n printable ASCII bytes (0x21-0x7e, one character each)
 * at once: what s_tb_emit would do for each of them in turn, the pending
 * blank before the first, and as many as fit before the buffer is full.
 */
static void s_tb_emit_ascii(struct hu_tb *tb, const char *c, size_t n)
{
	size_t avail, m;

	if (tb->full)
		return;
	avail = tb->cap - tb->len;
	if (tb->space && tb->len > 0) {
		if (avail < 2) {
			tb->full = true;
			return;
		}
		if (tb->buf != NULL)
			tb->buf[tb->len] = ' ';
		tb->len++;
		avail--;
	}
	tb->space = false;
	m = n < avail ? n : avail;
	if (tb->buf != NULL) {
		memcpy(tb->buf + tb->len, c, m);
		tb->buf[tb->len + m] = '\0';
	}
	tb->len += m;
	if (m < n)
		tb->full = true;
}

bool hu_tb_put(struct hu_tb *tb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n && !tb->full) {
		if (p[i] > 0x20 && p[i] < 0x7f) {
			size_t j = i + 1;
			while (j < n && p[j] > 0x20 && p[j] < 0x7f)
				j++;
			s_tb_emit_ascii(tb, (const char *)p + i, j - i);
			i = j;
			continue;
		}
		if (p[i] == '\0')
			return true;
		k = s_utf8_len(p + i, n - i);
		if (k == 0) {
			s_tb_emit(tb, "\xEF\xBF\xBD", 3); /* U+FFFD */
			i++;
			continue;
		}
		if (k == 1 && (p[i] <= 0x20 || p[i] == 0x7F)) {
			tb->space = true; /* whitespace and controls */
		} else if (k == 2 && p[i] == 0xC2 && (p[i + 1] == 0xA0 || p[i + 1] < 0xA0)) {
			tb->space = true; /* U+00A0 and the C1 controls */
		} else if (k == 3 && p[i] == 0xE2 && p[i + 1] == 0x80 &&
		           (p[i + 2] <= 0x8B || p[i + 2] == 0xA8 || p[i + 2] == 0xA9 ||
		            p[i + 2] == 0xAF)) {
			tb->space = true; /* U+2000-200B, line/paragraph separators, U+202F */
		} else {
			s_tb_emit(tb, (const char *)p + i, k);
		}
		i += k;
	}
	return false;
}

size_t hu_clean(const char *in, size_t inlen, char *out, size_t outlen)
{
	struct hu_tb tb;

	hu_tb_init(&tb, out, outlen);
	if (in != NULL)
		hu_tb_put(&tb, in, inlen);
	return tb.len;
}

/* ---- reading ---- */

/*
 * SAX internalSubset handler: called at "<!DOCTYPE name ..." before any
 * declaration inside it is read.  Stopping here means no entity is ever
 * declared, so none can be expanded (XXE, billion laughs) whatever the
 * options say.
 */
static void s_refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id,
                         const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;

	(void)name;
	(void)external_id;
	(void)system_id;
	if (ctxt->_private != NULL)
		*(bool *)ctxt->_private = true;
	xmlStopParser(ctxt);
}

xmlDocPtr hu_xml_read(const char *buf, size_t len, const char *source, bool *dtd, char *err,
                      size_t errlen)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	bool seen = false;

	*dtd = false;
	if (parse_doc_too_big(len, source, err, errlen))
		return NULL;
	if (len == 0) {
		snprintf(err, errlen, "%s: empty document", source);
		return NULL;
	}
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		snprintf(err, errlen, "%s: out of memory", source);
		return NULL;
	}
	ctxt->sax->internalSubset = s_refuse_dtd;
	ctxt->_private = &seen;
	/* XML_PARSE_COMPACT keeps short texts inside their nodes (one malloc
	 * less per value: ~11% of libxml2's work on a Form 4); the tree is
	 * only read, never modified, as COMPACT requires. */
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
	                            XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
	if (seen) {
		*dtd = true;
		if (doc != NULL)
			xmlFreeDoc(doc);
		snprintf(err, errlen,
		         "%s: document declares a DTD (refused: no DTDs or entities are read)",
		         source);
		xmlFreeParserCtxt(ctxt);
		return NULL;
	}
	if (doc == NULL || !ctxt->wellFormed || xmlDocGetRootElement(doc) == NULL) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[160] = "no root element";

		if (e != NULL && e->message != NULL)
			hu_clean(e->message, strlen(e->message), msg, sizeof(msg));
		snprintf(err, errlen, "%s: XML not well formed at line %d: %s", source,
		         e != NULL ? e->line : 0, msg);
		if (doc != NULL)
			xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return NULL;
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* ---- walking ---- */

xmlNodePtr hu_skip(xmlNodePtr node, xmlNodePtr root)
{
	while (node != NULL && node != root) {
		if (node->next != NULL)
			return node->next;
		node = node->parent;
	}
	return NULL;
}

xmlNodePtr hu_next(xmlNodePtr node, xmlNodePtr root)
{
	/* Attributes, entity declarations and the like hang off other lists. */
	if (node->children != NULL &&
	    (node->type == XML_ELEMENT_NODE || node->type == XML_DOCUMENT_NODE ||
	     node->type == XML_HTML_DOCUMENT_NODE))
		return node->children;
	return hu_skip(node, root);
}

/*
 * strcasecmp(a, b) == 0 as the C locale has it (the stages never call
 * setlocale): bytes equal, or ASCII letters that differ only in case.
 * Not the library call, which was most of the cost of the tree walks.
 */
bool hu_name_eq(const xmlChar *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = *a, y = (unsigned char)*b;

		if (x != y) {
			x |= 0x20;
			if (x != (y | 0x20) || x < 'a' || x > 'z')
				return false;
		}
		if (y == '\0')
			return true;
	}
}

bool hu_token(const char *list, const char *tok, bool prefix)
{
	size_t tl = strlen(tok);
	const char *p = list;

	while (*p != '\0') {
		const char *e;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
			p++;
		e = p;
		while (*e != '\0' && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r' &&
		       *e != '\f')
			e++;
		if (e > p && (prefix ? (size_t)(e - p) >= tl : (size_t)(e - p) == tl) &&
		    strncmp(p, tok, tl) == 0)
			return true;
		p = e;
	}
	return false;
}

xmlNodePtr hu_child(xmlNodePtr n, const char *name)
{
	if (n == NULL)
		return NULL;
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && (name == NULL || hu_is(c, name)))
			return c;
	return NULL;
}

xmlNodePtr hu_next_elem(xmlNodePtr n, const char *name)
{
	if (n == NULL)
		return NULL;
	for (xmlNodePtr c = n->next; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && (name == NULL || hu_is(c, name)))
			return c;
	return NULL;
}

/* ---- text ---- */

static void s_collect(xmlNodePtr n, struct hu_tb *tb)
{
	if (n == NULL)
		return;
	for (xmlNodePtr c = n; c != NULL && !tb->full;) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (c->content != NULL)
				hu_tb_put(tb, (const char *)c->content,
				          strlen((const char *)c->content));
		} else if (c != n && (hu_is(c, "script") || hu_is(c, "style"))) {
			c = hu_skip(c, n);
			continue;
		} else if (hu_is(c, "br") || hu_is(c, "p") || hu_is(c, "div") || hu_is(c, "td")) {
			tb->space = true; /* block boundaries separate words */
		}
		/* Entity references are never followed: they cannot exist in
		 * our XML (no DTD) and HTML has only predefined ones. */
		if (c->type == XML_ENTITY_REF_NODE) {
			c = hu_skip(c, n);
			continue;
		}
		c = hu_next(c, n);
	}
}

size_t hu_text(xmlNodePtr n, char *buf, size_t len)
{
	struct hu_tb tb;

	hu_tb_init(&tb, buf, len);
	s_collect(n, &tb);
	return tb.len;
}

/* Bytes of hu_text_dup's first try, on the stack: most texts fit. */
#define TEXT_DUP_STACK 1024

/*
 * A buffer of max + 1 bytes per call (64 KiB for a Form 4 footnote) was
 * a large malloc and free per footnote, which made glibc consolidate its
 * free lists and return the heap top to the kernel, then fault it back in
 * for the next document.  Now the text is built on the stack; only a text
 * longer than that is counted first (the same builder without a buffer,
 * so the same cut) and built again into a buffer of its own size.
 */
char *hu_text_dup(xmlNodePtr n, size_t max)
{
	char small[TEXT_DUP_STACK], *buf;
	struct hu_tb tb;

	hu_tb_init(&tb, small, max + 1 < sizeof(small) ? max + 1 : sizeof(small));
	s_collect(n, &tb);
	if (tb.len == 0) /* no character is longer than the stack buffer */
		return NULL;
	if (!tb.full || tb.cap == max) {
		buf = malloc(tb.len + 1);
		if (buf != NULL)
			memcpy(buf, small, tb.len + 1);
		return buf;
	}
	/* Longer than the stack buffer: count, then build at its size. */
	hu_tb_init(&tb, NULL, max + 1);
	s_collect(n, &tb);
	if ((buf = malloc(tb.len + 1)) == NULL)
		return NULL;
	hu_tb_init(&tb, buf, tb.len + 1);
	s_collect(n, &tb);
	return buf;
}

size_t hu_attr(xmlNodePtr n, const char *name, char *buf, size_t len)
{
	xmlChar *v;
	size_t r;

	if (len > 0)
		buf[0] = '\0';
	if (n == NULL || n->type != XML_ELEMENT_NODE)
		return 0;
	v = xmlGetProp(n, (const xmlChar *)name);
	if (v == NULL)
		return 0;
	r = hu_clean((const char *)v, strlen((const char *)v), buf, len);
	xmlFree(v);
	return r;
}

size_t hu_text_cut(const char *s, size_t len, size_t size)
{
	size_t n;

	if (size == 0)
		return 0;
	if (len < size)
		return len;
	/* The text has tokens (a pending blank and one character) that a
	 * buffer of `size` bytes could not hold: keep the whole ones that fit.
	 * s is valid UTF-8 whose blanks are single and never last, so the
	 * last character that fits ends where no continuation byte follows,
	 * and a blank before the cut belongs to the character after it. */
	n = size - 1;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	if (n > 0 && s[n - 1] == ' ')
		n--;
	return n;
}
