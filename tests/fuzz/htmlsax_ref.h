/*
 * htmlsax_ref.h - the tree reference for the SAX page reader
 * (scraper/htmlsax.c), shared by tests/unit/test_htmlsax.c and the fuzz
 * target fuzz_htmlsax.c.
 *
 * ref_compare() parses a page twice: with htmlReadMemory() into a tree,
 * read the way openinsider.c and finviz.c read trees before the reader
 * replaced them (a pre-order search from the root, the table's direct
 * rows and their first header, hu_text of each cell, its first link's
 * href, title and text, hu_attr), and with hs_read() under the same
 * parser's rules; it names the first string on which the two disagree.
 */
#ifndef COATTAIL_HTMLSAX_REF_H
#define COATTAIL_HTMLSAX_REF_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "../../scraper/htmlsax.h"
#include "../../scraper/htmlutil.h"
#include "../../scraper/parse.h"

/* ---- the tree, as the parsers read it ---- */

static bool ref_class(xmlNodePtr n, const char *cls, bool prefix)
{
	xmlChar *v;
	bool r;

	if (n == NULL || n->type != XML_ELEMENT_NODE)
		return false;
	v = xmlGetProp(n, (const xmlChar *)"class");
	if (v == NULL)
		return false;
	r = hu_token((const char *)v, cls, prefix);
	xmlFree(v);
	return r;
}

static xmlNodePtr ref_find(xmlNodePtr root, const char *name, const char *cls, const char *id)
{
	for (xmlNodePtr n = root; n != NULL; n = hu_next(n, root)) {
		xmlChar *v;
		bool ok;
		if (n->type != XML_ELEMENT_NODE || (name != NULL && !hu_is(n, name)))
			continue;
		if (cls != NULL && !ref_class(n, cls, false))
			continue;
		if (id != NULL) {
			v = xmlGetProp(n, (const xmlChar *)"id");
			ok = v != NULL && strcmp((const char *)v, id) == 0;
			xmlFree(v);
			if (!ok)
				continue;
		}
		return n;
	}
	return NULL;
}

static int ref_cells(xmlNodePtr tr, xmlNodePtr *cells, int max)
{
	int k = 0;

	for (xmlNodePtr c = tr->children; c != NULL && k < max; c = c->next)
		if (hu_is(c, "td") || hu_is(c, "th"))
			cells[k++] = c;
	return k;
}

static xmlNodePtr ref_link(xmlNodePtr n)
{
	for (xmlNodePtr c = n; c != NULL; c = hu_next(c, n))
		if (hu_is(c, "a") && xmlHasProp(c, (const xmlChar *)"href") != NULL)
			return c;
	return NULL;
}

static bool ref_oi_header(xmlNodePtr tr)
{
	xmlNodePtr c[1];
	return ref_cells(tr, c, 1) == 1 && hu_is(c[0], "th");
}

static bool ref_oi_data(xmlNodePtr tr)
{
	return !ref_oi_header(tr) && hu_child(tr, "td") != NULL;
}

static bool ref_fv_insider(xmlNodePtr tr)
{
	return ref_class(tr, "fv-insider-row", false) || ref_class(tr, "insider-row", false) ||
	       ref_class(tr, "insider-buy-row", true) || ref_class(tr, "insider-sale-row", true) ||
	       ref_class(tr, "insider-option-row", true);
}

static bool ref_fv_header(xmlNodePtr tr)
{
	xmlNodePtr c[1];
	return ref_cells(tr, c, 1) == 1 &&
	       (hu_is(c[0], "th") || ref_class(c[0], "table-top", false));
}

static xmlNodePtr ref_fv_table(xmlNodePtr root)
{
	xmlNodePtr t = ref_find(root, "table", NULL, "insider-table");

	if (t == NULL)
		t = ref_find(root, "table", "insider-trading-table", NULL);
	if (t != NULL)
		return t;
	for (xmlNodePtr n = root; n != NULL; n = hu_next(n, root))
		if (hu_is(n, "tr") && ref_fv_insider(n))
			for (xmlNodePtr p = n->parent; p != NULL; p = p->parent)
				if (hu_is(p, "table"))
					return p;
	return NULL;
}

/* ---- the reader's rules, as the parsers set them ---- */

static bool ref_rule_oi_header(const struct hs_row *r)
{
	return r->any_cell && r->first_th;
}

static bool ref_rule_oi_data(const struct hs_row *r)
{
	return !ref_rule_oi_header(r) && r->has_td;
}

static unsigned ref_rule_fv_flags(const char *cls)
{
	if (cls == NULL)
		return 0;
	return (hu_token(cls, "fv-insider-row", false) || hu_token(cls, "insider-row", false) ||
	        hu_token(cls, "insider-buy-row", true) || hu_token(cls, "insider-sale-row", true) ||
	        hu_token(cls, "insider-option-row", true))
	           ? 1
	           : 0;
}

static bool ref_rule_fv_header(const struct hs_row *r)
{
	return r->any_cell && (r->first_th || r->first_token);
}

static bool ref_rule_fv_data(const struct hs_row *r)
{
	return r->flags & 1;
}

static const struct hs_rules ref_rules_oi = {
	.table_class = "tinytable",
	.is_header = ref_rule_oi_header,
	.is_data = ref_rule_oi_data,
	.h1 = true,
};

static const struct hs_rules ref_rules_fv = {
	.table_id = "insider-table",
	.table_class = "insider-trading-table",
	.key_row = 1,
	.row_flags = ref_rule_fv_flags,
	.is_header = ref_rule_fv_header,
	.is_data = ref_rule_fv_data,
	.cell_token = "table-top",
	.cell_attr = "data-boxover-company",
	.link_text = true,
	.quote = true,
};

/* ---- comparing ---- */

struct ref_cmp {
	const struct hs_page *pg;
	bool fv;
	char *why;
	size_t whylen;
	bool differ;
	char a[HS_HREF_MAX], b[HS_HREF_MAX];
};

static void ref_diff(struct ref_cmp *c, const char *what)
{
	if (!c->differ)
		snprintf(c->why, c->whylen, "%s differs: tree '%.200s', sax '%.200s'", what, c->a,
		         c->b);
	c->differ = true;
}

static void ref_same(struct ref_cmp *c, const char *what)
{
	if (strcmp(c->a, c->b) != 0)
		ref_diff(c, what);
}

static void ref_flag(struct ref_cmp *c, const char *what, bool tree, bool sax)
{
	if (tree != sax) {
		snprintf(c->a, sizeof(c->a), "%d", tree);
		snprintf(c->b, sizeof(c->b), "%d", sax);
		ref_diff(c, what);
	}
}

static void ref_cell(struct ref_cmp *c, xmlNodePtr n, const struct hs_cell *h)
{
	xmlNodePtr a = ref_link(n);
	xmlChar *v;

	hu_text(n, c->a, HS_TEXT_MAX);
	hs_text(c->pg, &h->text, c->b, HS_TEXT_MAX);
	ref_same(c, "cell text");
	ref_flag(c, "th", hu_is(n, "th"), h->th);
	ref_flag(c, "link", a != NULL, h->link);
	if (a != NULL && h->link) {
		v = xmlGetProp(a, (const xmlChar *)"href");
		snprintf(c->a, HS_HREF_MAX, "%s", v != NULL ? (const char *)v : "");
		xmlFree(v);
		hs_raw(c->pg, &h->href, c->b, HS_HREF_MAX);
		ref_same(c, "href");
		v = xmlGetProp(a, (const xmlChar *)"title");
		snprintf(c->a, HS_TEXT_MAX, "%s", v != NULL ? (const char *)v : "");
		xmlFree(v);
		hs_raw(c->pg, &h->title, c->b, HS_TEXT_MAX);
		ref_same(c, "link title");
		if (c->fv) {
			hu_text(a, c->a, HS_TEXT_MAX);
			hs_text(c->pg, &h->link_text, c->b, HS_TEXT_MAX);
			ref_same(c, "link text");
		}
	}
	if (c->fv) {
		hu_attr(n, "data-boxover-company", c->a, HS_TEXT_MAX);
		hs_text(c->pg, &h->attr, c->b, HS_TEXT_MAX);
		ref_same(c, "cell attribute");
	}
}

static void ref_row(struct ref_cmp *c, xmlNodePtr tr, const struct hs_row *r)
{
	xmlNodePtr n[HS_MAX_CELLS];
	const struct hs_cell *h[HS_MAX_CELLS];
	int k = ref_cells(tr, n, HS_MAX_CELLS);
	int m = hs_cells(c->pg, r, h, HS_MAX_CELLS);

	snprintf(c->a, sizeof(c->a), "%d", k);
	snprintf(c->b, sizeof(c->b), "%d", m);
	ref_same(c, "cell count");
	if (c->fv)
		ref_flag(c, "insider row", ref_fv_insider(tr), (r->flags & 1) != 0);
	for (int i = 0; i < k && i < m; i++)
		ref_cell(c, n[i], h[i]);
}

/*
 * Read buf both ways under OpenInsider's rules (fv false) or FinViz's; NULL
 * when they agree, else why (written to why).
 */
static const char *ref_compare(const char *buf, size_t len, bool fv, char *why, size_t whylen)
{
	static struct ref_cmp c; /* big: off the stack */
	htmlDocPtr doc = NULL;
	xmlNodePtr root = NULL, table, hdr = NULL, t;
	struct hs_page pg;
	char err[256];
	size_t ndata = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	c.pg = &pg;
	c.fv = fv;
	c.why = why;
	c.whylen = whylen;
	if (len > 0 && len <= PARSE_MAX_DOC_BYTES)
		doc = htmlReadMemory(buf, (int)len, NULL, "UTF-8",
		                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
		                         HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	if (doc != NULL)
		root = xmlDocGetRootElement(doc);
	hs_page_init(&pg);
	rc = hs_read(buf, len, fv ? &ref_rules_fv : &ref_rules_oi, &pg, "t", err, sizeof(err));
	ref_flag(&c, "read", root != NULL, rc == 0);
	if (root == NULL || rc != 0)
		goto done;
	hu_text(ref_find(root, "title", NULL, NULL), c.a, HS_TEXT_MAX);
	snprintf(c.b, sizeof(c.b), "%s", pg.title);
	ref_same(&c, "title");
	if (fv) {
		hu_text(ref_find(root, "a", NULL, "ticker"), c.a, HS_TICKER);
		snprintf(c.b, sizeof(c.b), "%s", pg.quote_ticker);
		ref_same(&c, "quote ticker");
		t = ref_find(root, "table", "fullview-title", NULL);
		hu_text(t != NULL ? ref_find(t, "b", NULL, NULL) : NULL, c.a, HS_TEXT_MAX);
		snprintf(c.b, sizeof(c.b), "%s", pg.quote_company);
		ref_same(&c, "quote company");
	} else {
		hu_text(ref_find(root, "h1", NULL, NULL), c.a, HS_TEXT_MAX);
		snprintf(c.b, sizeof(c.b), "%s", pg.h1);
		ref_same(&c, "h1");
	}
	table = fv ? ref_fv_table(root) : ref_find(root, "table", "tinytable", NULL);
	ref_flag(&c, "table", table != NULL, pg.table);
	if (table == NULL || !pg.table)
		goto done;
	/* hu_collect_rows, as it was */
	for (xmlNodePtr k = table->children; k != NULL; k = k->next) {
		xmlNodePtr first = NULL;
		if (hu_is(k, "tr"))
			first = k;
		else if (hu_is(k, "thead") || hu_is(k, "tbody") || hu_is(k, "tfoot"))
			first = hu_child(k, "tr");
		for (xmlNodePtr tr = first; tr != NULL;
		     tr = hu_is(k, "tr") ? NULL : hu_next_elem(tr, "tr")) {
			if (hdr == NULL && (fv ? ref_fv_header(tr) : ref_oi_header(tr))) {
				hdr = tr;
				continue;
			}
			if (!(fv ? ref_fv_insider(tr) : ref_oi_data(tr)))
				continue;
			if (ndata < PARSE_MAX_ROWS && ndata < pg.nkept)
				ref_row(&c, tr, hs_data_row(&pg, ndata));
			ndata++;
		}
	}
	snprintf(c.a, sizeof(c.a), "%zu", ndata);
	snprintf(c.b, sizeof(c.b), "%zu", pg.nrows);
	ref_same(&c, "data rows");
	ref_flag(&c, "header row", hdr != NULL, pg.hdr != NULL);
	if (hdr != NULL && pg.hdr != NULL)
		ref_row(&c, hdr, pg.hdr);
done:
	hs_page_free(&pg);
	if (doc != NULL)
		xmlFreeDoc(doc);
	return c.differ ? why : NULL;
}

#endif
