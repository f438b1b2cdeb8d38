/*
 * htmlsax.c - an HTML page read once through libxml2's SAX interface into
 * the few strings the page parsers need (see htmlsax.h for what and why it
 * gives the tree's answers).
 *
 * The parser reports elements as they open and close; here a stack of
 * open elements (frames) mirrors libxml2's own, and "sinks" collect the
 * text of the elements whose text is wanted while they are open.  Rows
 * are kept when they close, once the header and data tests can be
 * answered; a table's choice is known only at the end of the page (a
 * later table can win), so the candidates' rows are kept until then.
 */
#include "htmlsax.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "htmlutil.h"
#include "parse.h"
#include "parse_priv.h"

/* The options the tree was read with (htmlReadMemory): the same events. */
#define OPTIONS (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET)

enum s_kind {
	K_OTHER,
	K_TABLE,
	K_SECTION, /* thead, tbody, tfoot */
	K_TR,
	K_TD,
	K_TH,
	K_A,
	K_B,
	K_TITLE,
	K_H1,
	K_SKIP,  /* script, style: no text */
	K_BREAK, /* br, p, div: a word boundary (td is one too) */
};

/* Why a table's rows are read (bits). */
enum {
	T_ID = 1,    /* the first table with rules->table_id */
	T_CLASS = 2, /* the first with rules->table_class */
	T_SPEC = 4,  /* any table, until the key row shows which one */
	T_KEY = 8,   /* the key row's table */
};

/* What an element's start did, undone at its end. */
struct s_frame {
	uint8_t kind;
	bool visible; /* in the root element's subtree, where searches look */
	bool cell;    /* a kept cell: on the open-cell stack */
	int table;    /* K_TABLE, K_SECTION: the read table, -1 */
	int row;      /* K_TR: its index in the open rows, -1 */
};

struct s_table {
	unsigned role;
	bool live;    /* its rows are still read */
	int hdr;      /* its header row's index in pg->rows, -1 */
	size_t ndata; /* data rows kept */
	size_t nover; /* data rows past PARSE_MAX_ROWS, counted only */
	size_t rows_mark, cells_mark, store_mark;
};

struct s_orow {
	struct hs_row row;
	int last;       /* its last kept cell, -1 */
	bool light;     /* past the row cap and not a header: no cells kept */
	size_t started; /* rows_started just after it started */
	size_t cells_mark, store_mark;
};

enum { F_TEXT, F_LINK_TEXT };

/*
 * The text of one open element, cleaned as hu_text() cleans it.  hu_text
 * cleans text node by text node, and the tree's text node is the run of
 * character events between two other events; a UTF-8 sequence split by
 * the parser's buffering is held back (carry) until its run goes on, and
 * a NUL ends the rest of its node (stopped).
 */
struct s_sink {
	size_t level; /* depth of its element */
	size_t skip;  /* inside a script/style at this depth; 0: not */
	struct hu_tb tb;
	char *ext;     /* written here (a page field), else into own */
	int cell;      /* the kept cell it is for, -1 */
	uint8_t field; /* F_TEXT or F_LINK_TEXT */
	uint8_t ncarry;
	bool stopped;
	unsigned char carry[4];
	char own[HS_TEXT_MAX];
};

enum { FIRST_NONE, FIRST_ROOT, FIRST_OTHER };

struct s_reader {
	xmlParserCtxtPtr ctxt;
	const struct hs_rules *rules;
	struct hs_page *pg;
	struct s_frame *fr; /* open elements: fr[depth - 1] is the innermost */
	size_t depth, fr_cap;
	struct s_sink *sk;
	size_t nsk, sk_cap;
	struct s_orow *orow;
	size_t norow, orow_cap;
	int *ocell; /* open kept cells */
	size_t nocell, ocell_cap;
	struct s_table *tab;
	size_t ntab, tab_cap;
	size_t rows_started;
	int id_table, class_table, key_table;
	int first; /* the document's first node: FIRST_* */
	bool root; /* the root element started */
	bool dtd;  /* a DOCTYPE was read */
	bool spec; /* every table is read until the key row decides */
	bool stop; /* the tree would end here: ignore the rest */
	bool oom;
	bool text_open; /* character events since the last other event */
	bool keep_all;  /* no truncation: a store entry may outlive its row */
	bool title_seen, h1_seen, ticker_seen, fullview_seen, fullb_seen;
	size_t fullview_level; /* depth of the open first table.fullview-title, 0 */
};

static const struct hs_rules s_title_only;

/* ---- storage ---- */

/*
 * p (an array of `size`-byte items, *cap of them) with room for `need`:
 * p itself, or its reallocation (*cap updated); NULL when out of memory,
 * p then unchanged.
 */
static void *s_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap > 0 ? *cap : 16;
	void *q;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	if ((q = realloc(p, c * size)) != NULL)
		*cap = c;
	return q;
}

/* S_GROW(array, cap, need): s_grow() assigned back; false when out of memory. */
#define S_GROW(a, cap, need)                                                                       \
	({                                                                                         \
		void *q_ = s_grow((a), &(cap), (need), sizeof(*(a)));                              \
		if (q_ != NULL)                                                                    \
			(a) = q_;                                                                  \
		q_ != NULL;                                                                        \
	})

/* Stop reading: what the tree had so far is the answer (or, oom, none). */
static void s_halt(struct s_reader *r, bool oom)
{
	r->stop = true;
	r->oom = r->oom || oom;
	xmlStopParser(r->ctxt);
}

static void s_store(struct s_reader *r, const char *s, size_t n, struct hs_str *out)
{
	struct hs_page *pg = r->pg;

	if (!S_GROW(pg->store, pg->store_cap, pg->store_len + n + 1)) {
		s_halt(r, true);
		out->off = out->len = 0;
		return;
	}
	memcpy(pg->store + pg->store_len, s, n);
	pg->store[pg->store_len + n] = '\0';
	out->off = pg->store_len;
	out->len = n;
	pg->store_len += n + 1;
}

/* ---- attributes and names ---- */

/*
 * An attribute as xmlGetProp() returns it from the tree: NULL when absent,
 * "" when given without a value (its own name for a boolean attribute such
 * as nowrap, as the tree builder sets it).
 */
static const char *s_attr(const xmlChar **atts, const char *name)
{
	if (atts == NULL)
		return NULL;
	for (size_t i = 0; atts[i] != NULL; i += 2) {
		if (strcmp((const char *)atts[i], name) != 0)
			continue;
		if (atts[i + 1] != NULL)
			return (const char *)atts[i + 1];
		return htmlIsBooleanAttr(atts[i]) ? (const char *)atts[i] : "";
	}
	return NULL;
}

static enum s_kind s_kind(const xmlChar *n)
{
	switch (n[0] | 0x20) {
	case 'a':
		return hu_name_eq(n, "a") ? K_A : K_OTHER;
	case 'b':
		return hu_name_eq(n, "b") ? K_B : hu_name_eq(n, "br") ? K_BREAK : K_OTHER;
	case 'd':
		return hu_name_eq(n, "div") ? K_BREAK : K_OTHER;
	case 'h':
		return hu_name_eq(n, "h1") ? K_H1 : K_OTHER;
	case 'p':
		return hu_name_eq(n, "p") ? K_BREAK : K_OTHER;
	case 's':
		return hu_name_eq(n, "script") || hu_name_eq(n, "style") ? K_SKIP : K_OTHER;
	case 't':
		if (hu_name_eq(n, "td"))
			return K_TD;
		if (hu_name_eq(n, "tr"))
			return K_TR;
		if (hu_name_eq(n, "th"))
			return K_TH;
		if (hu_name_eq(n, "table"))
			return K_TABLE;
		if (hu_name_eq(n, "tbody") || hu_name_eq(n, "thead") || hu_name_eq(n, "tfoot"))
			return K_SECTION;
		if (hu_name_eq(n, "title"))
			return K_TITLE;
		return K_OTHER;
	default:
		return K_OTHER;
	}
}

/* ---- text ---- */

/* Bytes of the UTF-8 sequence a byte leads, as hu_tb judges them (1: none). */
static size_t s_need(unsigned char b)
{
	if (b >= 0xC2 && b <= 0xDF)
		return 2;
	if (b >= 0xE0 && b <= 0xEF)
		return 3;
	if (b >= 0xF0 && b <= 0xF4)
		return 4;
	return 1;
}

/* How many of s's last bytes start a sequence that more bytes could finish. */
static size_t s_open_tail(const unsigned char *s, size_t n)
{
	for (size_t j = 1; j <= 3 && j <= n; j++) {
		unsigned char b = s[n - j];
		if ((b & 0xC0) == 0x80)
			continue;
		return s_need(b) > j ? j : 0;
	}
	return 0;
}

static struct hu_tb *s_tb(struct s_sink *k)
{
	k->tb.buf = k->ext != NULL ? k->ext : k->own; /* own moves with the array */
	return &k->tb;
}

/* One character event's bytes into a sink, as part of its text node. */
static void s_feed(struct s_sink *k, const unsigned char *s, size_t n)
{
	struct hu_tb *tb = s_tb(k);
	size_t t;

	if (k->ncarry > 0) {
		size_t need = s_need(k->carry[0]);
		while (k->ncarry < need && n > 0 && (*s & 0xC0) == 0x80) {
			k->carry[k->ncarry++] = *s++;
			n--;
		}
		if (k->ncarry < need && n == 0)
			return; /* the next event may finish it */
		hu_tb_put(tb, (const char *)k->carry, k->ncarry);
		k->ncarry = 0;
	}
	t = s_open_tail(s, n);
	if (hu_tb_put(tb, (const char *)s, n - t)) {
		k->stopped = true;
		return;
	}
	memcpy(k->carry, s + n - t, t);
	k->ncarry = (uint8_t)t;
}

/* Another node than text comes: every text node in progress ends. */
static void s_boundary(struct s_reader *r)
{
	if (!r->text_open)
		return;
	r->text_open = false;
	for (size_t i = 0; i < r->nsk; i++) {
		struct s_sink *k = &r->sk[i];
		if (k->ncarry > 0 && !k->stopped)
			hu_tb_put(s_tb(k), (const char *)k->carry, k->ncarry);
		k->ncarry = 0;
		k->stopped = false;
	}
}

static void s_sink(struct s_reader *r, char *ext, size_t size, int cell, uint8_t field)
{
	struct s_sink *k;

	if (!S_GROW(r->sk, r->sk_cap, r->nsk + 1)) {
		s_halt(r, true);
		return;
	}
	k = &r->sk[r->nsk++];
	k->level = r->depth;
	k->skip = 0;
	k->ext = ext;
	k->cell = cell;
	k->field = field;
	k->ncarry = 0;
	k->stopped = false;
	hu_tb_init(&k->tb, ext != NULL ? ext : k->own, size);
}

/* A sink's element ended: its text is final. */
static void s_commit(struct s_reader *r, struct s_sink *k)
{
	struct hs_str s;

	if (k->cell < 0)
		return; /* written in place */
	s_store(r, k->own, k->tb.len, &s);
	if (k->field == F_TEXT)
		r->pg->cells[k->cell].text = s;
	else
		r->pg->cells[k->cell].link_text = s;
}

static void s_characters(void *ctx, const xmlChar *ch, int len)
{
	struct s_reader *r = ((xmlParserCtxtPtr)ctx)->_private;

	if (r->stop || r->nsk == 0 || len <= 0)
		return;
	r->text_open = true;
	for (size_t i = 0; i < r->nsk; i++) {
		struct s_sink *k = &r->sk[i];
		if (k->skip == 0 && !k->stopped && !k->tb.full)
			s_feed(k, ch, (size_t)len);
	}
}

/* ---- tables, rows, cells ---- */

static int s_new_table(struct s_reader *r, unsigned role)
{
	struct s_table *t;

	if (!S_GROW(r->tab, r->tab_cap, r->ntab + 1)) {
		s_halt(r, true);
		return -1;
	}
	t = &r->tab[r->ntab];
	*t = (struct s_table){ .role = role,
		               .live = true,
		               .hdr = -1,
		               .rows_mark = r->pg->nrows_all,
		               .cells_mark = r->pg->ncells,
		               .store_mark = r->pg->store_len };
	return (int)r->ntab++;
}

/* No table is read on speculation any more (keep decides which stays). */
static void s_spec_off(struct s_reader *r, int keep)
{
	r->spec = false;
	for (size_t i = 0; i < r->ntab; i++)
		if (r->tab[i].role == T_SPEC && (int)i != keep)
			r->tab[i].live = false;
}

static void s_table_start(struct s_reader *r, struct s_frame *f, const xmlChar **atts)
{
	const struct hs_rules *ru = r->rules;
	const char *v;
	unsigned role = 0;
	int t;

	if (ru->quote && !r->fullview_seen && (v = s_attr(atts, "class")) != NULL &&
	    hu_token(v, "fullview-title", false)) {
		r->fullview_seen = true;
		r->fullview_level = r->depth;
	}
	if (ru->table_id != NULL && r->id_table < 0 && (v = s_attr(atts, "id")) != NULL &&
	    strcmp(v, ru->table_id) == 0)
		role |= T_ID;
	if (ru->table_class != NULL && r->class_table < 0 && (v = s_attr(atts, "class")) != NULL &&
	    hu_token(v, ru->table_class, false))
		role |= T_CLASS;
	if (role != 0 && r->spec)
		s_spec_off(r, -1); /* a table by id or class wins over any key row's */
	if (role == 0 && r->spec)
		role = T_SPEC;
	if (role == 0)
		return;
	if ((t = s_new_table(r, role)) < 0)
		return;
	if (role & T_ID)
		r->id_table = t;
	if (role & T_CLASS)
		r->class_table = t;
	f->table = t;
}

/* A key row: the table around it (the nearest open one) is the one. */
static void s_key_row(struct s_reader *r)
{
	for (size_t i = r->depth - 1; i-- > 0;) {
		if (r->fr[i].kind != K_TABLE)
			continue;
		if (r->fr[i].table >= 0) {
			r->key_table = r->fr[i].table;
			r->tab[r->key_table].role |= T_KEY;
			s_spec_off(r, r->key_table);
		}
		return;
	}
}

static void s_row_start(struct s_reader *r, struct s_frame *f, const struct s_frame *up,
                        const xmlChar **atts)
{
	const struct hs_rules *ru = r->rules;
	struct s_orow *o;
	unsigned flags = 0;
	int t = -1;

	if (up != NULL && (up->kind == K_TABLE || up->kind == K_SECTION))
		t = up->table;
	if (t >= 0 && !r->tab[t].live)
		t = -1;
	if (ru->row_flags != NULL && (t >= 0 || r->spec))
		flags = ru->row_flags(s_attr(atts, "class"));
	if (r->spec && (flags & ru->key_row) != 0)
		s_key_row(r);
	if (t < 0 || !r->tab[t].live)
		return;
	if (!S_GROW(r->orow, r->orow_cap, r->norow + 1)) {
		s_halt(r, true);
		return;
	}
	o = &r->orow[r->norow];
	*o = (struct s_orow){ .row = { .table = t, .flags = flags, .cell = -1 },
		              .last = -1,
		              .light = r->tab[t].ndata >= PARSE_MAX_ROWS && r->tab[t].hdr >= 0,
		              .started = ++r->rows_started,
		              .cells_mark = r->pg->ncells,
		              .store_mark = r->pg->store_len };
	f->row = (int)r->norow++;
}

static void s_cell_start(struct s_reader *r, struct s_frame *f, const struct s_frame *up, bool th,
                         const xmlChar **atts)
{
	const struct hs_rules *ru = r->rules;
	struct hs_page *pg = r->pg;
	struct s_orow *o;
	const char *v;
	int ci;

	if (up == NULL || up->kind != K_TR || up->row < 0)
		return;
	o = &r->orow[up->row];
	if (!o->row.any_cell) {
		o->row.any_cell = true;
		o->row.first_th = th;
		o->row.first_token = ru->cell_token != NULL &&
		                     (v = s_attr(atts, "class")) != NULL &&
		                     hu_token(v, ru->cell_token, false);
	}
	if (!th)
		o->row.has_td = true;
	if (o->light || o->row.ncells >= HS_MAX_CELLS)
		return;
	if (!S_GROW(pg->cells, pg->cells_cap, pg->ncells + 1) ||
	    !S_GROW(r->ocell, r->ocell_cap, r->nocell + 1)) {
		s_halt(r, true);
		return;
	}
	ci = (int)pg->ncells++;
	pg->cells[ci] = (struct hs_cell){ .next = -1, .th = th };
	if (o->last >= 0)
		pg->cells[o->last].next = ci;
	else
		o->row.cell = ci;
	o->last = ci;
	o->row.ncells++;
	if (ru->cell_attr != NULL && (v = s_attr(atts, ru->cell_attr)) != NULL) {
		char tmp[HS_TEXT_MAX];
		size_t n = hu_clean(v, strlen(v), tmp, sizeof(tmp));
		s_store(r, tmp, n, &pg->cells[ci].attr);
	}
	r->ocell[r->nocell++] = ci;
	f->cell = true;
	s_sink(r, NULL, HS_TEXT_MAX, ci, F_TEXT);
}

/* An <a>: the first link with an href of every open cell that has none. */
static void s_link(struct s_reader *r, const xmlChar **atts)
{
	struct hs_page *pg = r->pg;
	const char *href, *title;

	if (r->nocell == 0 || (href = s_attr(atts, "href")) == NULL)
		return;
	title = s_attr(atts, "title");
	for (size_t i = r->nocell; i-- > 0;) {
		int ci = r->ocell[i];
		size_t n;
		if (pg->cells[ci].link)
			continue;
		/* An outer cell's link is stored amid an inner row's data,
		 * which can then no longer be dropped by truncation. */
		if (i + 1 < r->nocell)
			r->keep_all = true;
		pg->cells[ci].link = true;
		n = strlen(href);
		s_store(r, href, n < HS_HREF_MAX ? n : HS_HREF_MAX - 1, &pg->cells[ci].href);
		if (title != NULL) {
			n = strlen(title);
			s_store(r, title, n < HS_TEXT_MAX ? n : HS_TEXT_MAX - 1,
			        &pg->cells[ci].title);
		}
		if (r->rules->link_text)
			s_sink(r, NULL, HS_TEXT_MAX, ci, F_LINK_TEXT);
	}
}

static void s_row_end(struct s_reader *r, int oi)
{
	const struct hs_rules *ru = r->rules;
	struct hs_page *pg = r->pg;
	struct s_orow *o = &r->orow[oi];
	struct s_table *t = &r->tab[o->row.table];
	bool keep = false;

	if (t->live) {
		if (t->hdr < 0 && ru->is_header != NULL && ru->is_header(&o->row)) {
			keep = true;
			t->hdr = (int)pg->nrows_all;
		} else if (ru->is_data != NULL && ru->is_data(&o->row)) {
			if (t->ndata < PARSE_MAX_ROWS) {
				keep = true;
				t->ndata++;
			} else {
				t->nover++;
			}
		}
	}
	if (keep) {
		if (!S_GROW(pg->rows, pg->rows_cap, pg->nrows_all + 1)) {
			s_halt(r, true);
			return;
		}
		pg->rows[pg->nrows_all++] = o->row;
	} else if (!r->keep_all && o->started == r->rows_started) {
		/* Nothing of another row came after it: drop what it kept. */
		pg->ncells = o->cells_mark;
		pg->store_len = o->store_mark;
	}
	r->norow--;
}

static void s_table_end(struct s_reader *r, int ti)
{
	struct s_table *t = &r->tab[ti];

	if (!r->spec || t->role != T_SPEC)
		return;
	/* Closed before any key row: it will never be read, nor will the
	 * tables inside it, whose rows come after its marks. */
	t->live = false;
	if (!r->keep_all) {
		r->pg->nrows_all = t->rows_mark;
		r->pg->ncells = t->cells_mark;
		r->pg->store_len = t->store_mark;
		/* Its record and those of the tables inside it go too: all
		 * speculative, and no kept row names them any more. */
		r->ntab = (size_t)ti;
	}
}

/* ---- the element events ---- */

/* An element starts: the sinks inside which it starts see it first. */
static void s_sinks_see(struct s_reader *r, enum s_kind kind)
{
	for (size_t i = 0; i < r->nsk; i++) {
		struct s_sink *k = &r->sk[i];
		if (k->skip != 0)
			continue;
		if (kind == K_SKIP)
			k->skip = r->depth;
		else
			hu_tb_break(&k->tb);
	}
}

static void s_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	struct s_reader *r = ((xmlParserCtxtPtr)ctx)->_private;
	const struct hs_rules *ru = r->rules;
	struct hs_page *pg = r->pg;
	struct s_frame *f, *up;
	enum s_kind kind;
	bool visible;
	const char *v;

	if (r->stop)
		return;
	/* The tree builder's nodePush() refuses an element this deep and
	 * stops the parser: the tree ends here, and so does this page. */
	if (r->depth > xmlParserMaxDepth) {
		s_halt(r, false);
		return;
	}
	s_boundary(r);
	if (!S_GROW(r->fr, r->fr_cap, r->depth + 1)) {
		s_halt(r, true);
		return;
	}
	f = &r->fr[r->depth++];
	up = r->depth > 1 ? f - 1 : NULL;
	if (up != NULL) {
		visible = up->visible;
	} else if (!r->root) {
		r->root = true;
		visible = true;
		if (r->first == FIRST_NONE)
			r->first = FIRST_ROOT;
	} else {
		/* After the root closed: the tree builder hangs the element
		 * under the document's first node, the root if that is an
		 * element, else beside it, out of the root's subtree. */
		visible = r->first == FIRST_ROOT;
	}
	kind = s_kind(name);
	*f = (struct s_frame){ .kind = (uint8_t)kind, .visible = visible, .table = -1, .row = -1 };
	if (!visible)
		return;
	if (r->nsk > 0 && (kind == K_SKIP || kind == K_BREAK || kind == K_TD))
		s_sinks_see(r, kind);
	switch (kind) {
	case K_TITLE:
		if (!r->title_seen) {
			r->title_seen = true;
			s_sink(r, pg->title, sizeof(pg->title), -1, F_TEXT);
		}
		break;
	case K_H1:
		if (ru->h1 && !r->h1_seen) {
			r->h1_seen = true;
			s_sink(r, pg->h1, sizeof(pg->h1), -1, F_TEXT);
		}
		break;
	case K_B:
		if (r->fullview_level > 0 && !r->fullb_seen) {
			r->fullb_seen = true;
			s_sink(r, pg->quote_company, sizeof(pg->quote_company), -1, F_TEXT);
		}
		break;
	case K_A:
		s_link(r, atts);
		if (ru->quote && !r->ticker_seen && (v = s_attr(atts, "id")) != NULL &&
		    strcmp(v, "ticker") == 0) {
			r->ticker_seen = true;
			s_sink(r, pg->quote_ticker, sizeof(pg->quote_ticker), -1, F_TEXT);
		}
		break;
	case K_TABLE:
		s_table_start(r, f, atts);
		break;
	case K_SECTION:
		if (up != NULL && up->kind == K_TABLE)
			f->table = up->table;
		break;
	case K_TR:
		s_row_start(r, f, up, atts);
		break;
	case K_TD:
	case K_TH:
		s_cell_start(r, f, up, kind == K_TH, atts);
		break;
	default:
		break;
	}
}

/* The innermost open element ends. */
static void s_pop(struct s_reader *r)
{
	struct s_frame *f = &r->fr[r->depth - 1];

	while (r->nsk > 0 && r->sk[r->nsk - 1].level == r->depth) {
		r->nsk--;
		s_commit(r, &r->sk[r->nsk]);
	}
	for (size_t i = 0; i < r->nsk; i++)
		if (r->sk[i].skip == r->depth)
			r->sk[i].skip = 0;
	if (f->cell)
		r->nocell--;
	if (f->row >= 0)
		s_row_end(r, f->row);
	if (f->kind == K_TABLE && f->table >= 0)
		s_table_end(r, f->table);
	if (r->fullview_level == r->depth)
		r->fullview_level = 0;
	r->depth--;
}

static void s_end(void *ctx, const xmlChar *name)
{
	struct s_reader *r = ((xmlParserCtxtPtr)ctx)->_private;

	(void)name; /* always the innermost open element's, as for the tree */
	if (r->stop || r->depth == 0)
		return;
	s_boundary(r);
	s_pop(r);
}

/* A comment or processing instruction: a node of its own. */
static void s_comment(void *ctx, const xmlChar *value)
{
	struct s_reader *r = ((xmlParserCtxtPtr)ctx)->_private;

	(void)value;
	if (r->stop)
		return;
	s_boundary(r);
	if (r->depth == 0 && r->first == FIRST_NONE)
		r->first = FIRST_OTHER;
}

static void s_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)data;
	s_comment(ctx, target);
}

/* Script and style contents: a node that is never text. */
static void s_cdata(void *ctx, const xmlChar *value, int len)
{
	struct s_reader *r = ((xmlParserCtxtPtr)ctx)->_private;

	(void)value;
	(void)len;
	if (!r->stop)
		s_boundary(r);
}

/* The tree builder drops ignorable blanks (only with NOBLANKS: never here). */
static void s_blanks(void *ctx, const xmlChar *ch, int len)
{
	(void)ctx;
	(void)ch;
	(void)len;
}

/* The first DOCTYPE becomes the document's first node (later ones are ignored). */
static void s_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                      const xmlChar *system_id)
{
	struct s_reader *r = ((xmlParserCtxtPtr)ctx)->_private;

	(void)name;
	(void)external_id;
	(void)system_id;
	if (r->stop || r->dtd)
		return;
	r->dtd = true;
	r->first = FIRST_OTHER;
}

/* ---- reading ---- */

void hs_page_init(struct hs_page *pg)
{
	memset(pg, 0, sizeof(*pg));
}

void hs_page_free(struct hs_page *pg)
{
	free(pg->store);
	free(pg->cells);
	free(pg->rows);
	free(pg->data);
	hs_page_init(pg);
}

static void s_reset(struct hs_page *pg)
{
	pg->table = false;
	pg->hdr = NULL;
	pg->nrows = pg->nkept = 0;
	pg->title[0] = pg->h1[0] = pg->quote_ticker[0] = pg->quote_company[0] = '\0';
	pg->store_len = pg->ncells = pg->nrows_all = 0;
}

/* The page ended: the chosen table's header and data rows. */
static int s_finish(struct s_reader *r)
{
	struct hs_page *pg = r->pg;
	int ti = r->id_table >= 0      ? r->id_table
	         : r->class_table >= 0 ? r->class_table
	                               : r->key_table;
	struct s_table *t;

	if (ti < 0)
		return 0;
	t = &r->tab[ti];
	pg->table = true;
	pg->hdr = t->hdr >= 0 ? &pg->rows[t->hdr] : NULL;
	pg->nrows = t->ndata + t->nover;
	if (!S_GROW(pg->data, pg->data_cap, t->ndata + 1))
		return HS_NOMEM;
	for (size_t i = 0; i < pg->nrows_all; i++)
		if (pg->rows[i].table == ti && (int)i != t->hdr)
			pg->data[pg->nkept++] = i;
	return 0;
}

int hs_read(const char *buf, size_t len, const struct hs_rules *rules, struct hs_page *pg,
            const char *source, char *err, size_t errlen)
{
	struct s_reader r;
	xmlSAXHandler sax;
	xmlParserCtxtPtr ctxt;
	xmlCharEncodingHandlerPtr enc;
	int rc = 0;

	s_reset(pg);
	if (parse_doc_too_big(len, source, err, errlen))
		return HS_BAD;
	if (len == 0) {
		snprintf(err, errlen, "%s: empty document", source);
		return HS_BAD;
	}
	/* htmlReadMemory() exactly, but for the handlers: an XML memory
	 * context given the HTML handler's SAX1 part, the options, forced
	 * UTF-8 (which a <meta charset> then cannot change), the document. */
	xmlInitParser();
	ctxt = xmlCreateMemoryParserCtxt(buf, (int)len);
	if (ctxt == NULL) {
		snprintf(err, errlen, "%s: not an HTML document", source);
		return HS_BAD;
	}
	memset(&r, 0, sizeof(r));
	r.ctxt = ctxt;
	r.rules = rules != NULL ? rules : &s_title_only;
	r.pg = pg;
	r.id_table = r.class_table = r.key_table = -1;
	r.spec = r.rules->key_row != 0;
	memset(&sax, 0, sizeof(sax)); /* the init leaves an initialized handler alone */
	xmlSAX2InitHtmlDefaultSAXHandler(&sax);
	sax.startDocument = NULL; /* no tree */
	sax.endDocument = NULL;
	sax.internalSubset = s_doctype;
	sax.startElement = s_start;
	sax.endElement = s_end;
	sax.characters = s_characters;
	sax.ignorableWhitespace = s_blanks;
	sax.cdataBlock = s_cdata;
	sax.comment = s_comment;
	sax.processingInstruction = s_pi;
	sax.reference = NULL;
	if (ctxt->sax != NULL)
		memcpy(ctxt->sax, &sax, sizeof(xmlSAXHandlerV1));
	ctxt->_private = &r;
	htmlCtxtUseOptions(ctxt, OPTIONS);
	ctxt->html = 1;
	if ((enc = xmlFindCharEncodingHandler("UTF-8")) != NULL) {
		xmlSwitchToEncoding(ctxt, enc);
		if (ctxt->input->encoding != NULL)
			xmlFree((xmlChar *)ctxt->input->encoding);
		ctxt->input->encoding = xmlStrdup((const xmlChar *)"UTF-8");
	}
	htmlParseDocument(ctxt);
	if (ctxt->myDoc != NULL) /* none is built; a stray one is freed */
		xmlFreeDoc(ctxt->myDoc);
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
	r.ctxt = NULL;
	/* What is still open is closed, as the tree holds it. */
	r.stop = r.oom;
	while (!r.oom && r.depth > 0) {
		s_boundary(&r);
		s_pop(&r);
	}
	if (!r.oom)
		rc = s_finish(&r);
	if (r.oom || rc != 0) {
		snprintf(err, errlen, "%s: out of memory", source);
		rc = HS_NOMEM;
	} else if (!r.root) {
		snprintf(err, errlen, "%s: not an HTML document", source);
		rc = HS_BAD;
	}
	free(r.fr);
	free(r.sk);
	free(r.orow);
	free(r.ocell);
	free(r.tab);
	return rc;
}

const struct hs_row *hs_data_row(const struct hs_page *pg, size_t i)
{
	return i < pg->nkept ? &pg->rows[pg->data[i]] : NULL;
}

int hs_cells(const struct hs_page *pg, const struct hs_row *r, const struct hs_cell **cells,
             int max)
{
	int k = 0;

	for (int c = r != NULL ? r->cell : -1; c >= 0 && k < max; c = pg->cells[c].next)
		cells[k++] = &pg->cells[c];
	return k;
}

size_t hs_text(const struct hs_page *pg, const struct hs_str *s, char *buf, size_t size)
{
	size_t n;

	if (size == 0)
		return 0;
	n = s != NULL ? hu_text_cut(pg->store + s->off, s->len, size) : 0;
	if (n > 0)
		memcpy(buf, pg->store + s->off, n);
	buf[n] = '\0';
	return n;
}

size_t hs_cell_text(const struct hs_page *pg, const struct hs_cell *c, char *buf, size_t size)
{
	return hs_text(pg, c != NULL ? &c->text : NULL, buf, size);
}

size_t hs_raw(const struct hs_page *pg, const struct hs_str *s, char *buf, size_t size)
{
	size_t n;

	if (size == 0)
		return 0;
	n = s != NULL ? (s->len < size ? s->len : size - 1) : 0;
	if (n > 0)
		memcpy(buf, pg->store + s->off, n);
	buf[n] = '\0';
	return n;
}

size_t hs_cut(const char *text, char *buf, size_t size)
{
	size_t n;

	if (size == 0)
		return 0;
	n = hu_text_cut(text, strlen(text), size);
	memmove(buf, text, n);
	buf[n] = '\0';
	return n;
}

size_t hu_html_title(const char *html, size_t hlen, char *buf, size_t len)
{
	struct hs_page pg;
	char err[96];
	size_t n = 0;

	hs_page_init(&pg);
	if (hs_read(html, hlen, NULL, &pg, "html", err, sizeof(err)) == 0)
		n = hs_cut(pg.title, buf, len);
	else if (len > 0)
		buf[0] = '\0';
	hs_page_free(&pg);
	return n;
}
