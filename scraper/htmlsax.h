/*
 * htmlsax.h - one pass over an HTML page with libxml2's HTML parser driven
 * by SAX callbacks (no tree), keeping only what the page parsers
 * (openinsider.c, finviz.c) read: the rows of one table (each cell's text,
 * its first link's href, title and text, one attribute), the header row
 * among them, the page's first <title> and <h1>, and FinViz's quote
 * header (a#ticker, the first b of table.fullview-title).
 *
 * Same answers as the tree.  The parser is set up exactly as
 * htmlReadMemory() sets it up (same context, options, forced UTF-8), so
 * it emits the events the tree was built from, implied and auto-closed
 * elements included.  What the tree builder (libxml2's SAX2 handlers)
 * added on top is reproduced here: an element deeper than
 * xmlParserMaxDepth stops the parse; an element that starts after the
 * root element closed hangs under the root, or, when the document's
 * first node is not the root (a DOCTYPE, a comment), beside it, where no
 * search from the root finds it; text is cleaned per text node (hu_text),
 * a node being a run of text events between two other nodes; script and
 * style contents are not text.  Elements are found as a pre-order search
 * from the root finds them: the first table with a class, the first a
 * with an id, and so on.
 *
 * Bounded.  A row keeps at most HS_MAX_CELLS cells; a text at most
 * HS_TEXT_MAX - 1 bytes, an href HS_HREF_MAX - 1: what the extractors'
 * buffers held, cut where they cut.  A table keeps at most
 * PARSE_MAX_ROWS data rows; more are counted, not read.  Elements are at
 * most xmlParserMaxDepth deep.  So memory is a small multiple of the
 * input (itself at most PARSE_MAX_DOC_BYTES), far below the tree's.
 */
#ifndef COATTAIL_HTMLSAX_H
#define COATTAIL_HTMLSAX_H

#include <stdbool.h>
#include <stddef.h>

#define HS_MAX_CELLS 40   /* cells kept per row (hu_cells' max of the tree parsers) */
#define HS_TEXT_MAX  512  /* a kept text's buffer: its bytes and a NUL */
#define HS_HREF_MAX  1024 /* a kept href's buffer */
#define HS_TICKER    24   /* FinViz's quote ticker buffer */

/* hs_read's failures (0 is success). */
#define HS_BAD   (-1) /* not read: too big, empty, or no element at all */
#define HS_NOMEM (-2)

/* A string kept in the page's store. */
struct hs_str {
	size_t off, len;
};

/* A <td> or <th> of a kept row. */
struct hs_cell {
	struct hs_str text;      /* its text, cleaned, as hu_text() into HS_TEXT_MAX */
	struct hs_str href;      /* its first <a> with an href: the href as written */
	struct hs_str title;     /* that link's title attribute as written ("" when none) */
	struct hs_str link_text; /* that link's text, cleaned (hs_rules.link_text) */
	struct hs_str attr;      /* hs_rules.cell_attr's value, cleaned ("" when none) */
	int next;                /* the row's next kept cell, -1 */
	bool th;                 /* a <th> */
	bool link;               /* has a link (href, title, link_text) */
};

/* A <tr> of a kept table, as the header and data tests see it. */
struct hs_row {
	int table;        /* the table it belongs to (hs_read's own numbering) */
	unsigned flags;   /* hs_rules.row_flags of its class attribute */
	int ncells;       /* its <td>/<th> children, at most HS_MAX_CELLS */
	int cell;         /* its first kept cell, -1 */
	bool any_cell;    /* it has a <td> or <th> child */
	bool first_th;    /* the first of them is a <th> */
	bool first_token; /* the first of them has the class token hs_rules.cell_token */
	bool has_td;      /* one of them is a <td> */
};

/*
 * What to keep.  The table read: the first with the id table_id, else the
 * first with the class token table_class, else (key_row nonzero) the
 * table around the first <tr> whose flags hold key_row and that has a
 * table around it.  Its rows are the <tr> children of the table and of
 * its thead/tbody/tfoot children: the first that is_header() accepts is
 * the header, the others that is_data() accepts are its data rows.
 */
struct hs_rules {
	const char *table_id;
	const char *table_class;
	unsigned key_row;
	unsigned (*row_flags)(const char *cls); /* NULL: 0 (cls NULL: no class) */
	bool (*is_header)(const struct hs_row *r);
	bool (*is_data)(const struct hs_row *r);
	const char *cell_token; /* class token looked for on a row's first cell */
	const char *cell_attr;  /* attribute kept from every cell */
	bool link_text;         /* keep each cell's first link's text */
	bool h1;                /* keep the first <h1>'s text */
	bool quote;             /* keep a#ticker's and table.fullview-title's first b's text */
};

/*
 * What hs_read found.  Strings without an hs_str are NUL-terminated; all
 * texts are cleaned as hu_text() cleans them.  The storage is the page's
 * until hs_page_free().
 */
struct hs_page {
	bool table;               /* a table matched the rules */
	const struct hs_row *hdr; /* its header row, NULL when none */
	size_t nrows;             /* its data rows, counted */
	size_t nkept;             /* of which kept: the first PARSE_MAX_ROWS */
	char title[HS_TEXT_MAX];  /* the first <title> */
	char h1[HS_TEXT_MAX];
	char quote_ticker[HS_TICKER];
	char quote_company[HS_TEXT_MAX];

	/* storage (hs_read's) */
	char *store;
	size_t store_len, store_cap;
	struct hs_cell *cells;
	size_t ncells, cells_cap;
	struct hs_row *rows;
	size_t nrows_all, rows_cap;
	size_t *data; /* indexes into rows of the kept data rows */
	size_t data_cap;
};

void hs_page_init(struct hs_page *pg);
void hs_page_free(struct hs_page *pg);

/*
 * Read the page buf[0..len) into pg (which it resets; rules NULL: only the
 * title).  0, or HS_BAD with err saying "<source>: document of N bytes is
 * over the N-byte limit" / "empty document" / "not an HTML document", or
 * HS_NOMEM with err "<source>: out of memory".
 */
int hs_read(const char *buf, size_t len, const struct hs_rules *rules, struct hs_page *pg,
            const char *source, char *err, size_t errlen);

/* The i-th kept data row (i < pg->nkept), in document order. */
const struct hs_row *hs_data_row(const struct hs_page *pg, size_t i);
/* A row's kept cells, at most max; returns how many. */
int hs_cells(const struct hs_page *pg, const struct hs_row *r, const struct hs_cell **cells,
             int max);

/*
 * A cleaned text into buf as hu_text() would have written it into a buffer
 * of `size` bytes (the same characters, cut where it would have cut);
 * returns its length.  s NULL: "".
 */
size_t hs_text(const struct hs_page *pg, const struct hs_str *s, char *buf, size_t size);
/* A cell's text, as hs_text(); c NULL (a column the page lacks): "". */
size_t hs_cell_text(const struct hs_page *pg, const struct hs_cell *c, char *buf, size_t size);
/* A string as written (an href, a title) into buf as snprintf("%s") would. */
size_t hs_raw(const struct hs_page *pg, const struct hs_str *s, char *buf, size_t size);
/* A NUL-terminated cleaned text (pg->title...) as hs_text() does it. */
size_t hs_cut(const char *text, char *buf, size_t size);

#endif
