/*
 * parse.h - the scraper's parsers: pure functions from a document in memory
 * to trade records (or, for the EDGAR Atom feed, to a list of filings).
 *
 * Nothing here fetches, logs, sleeps or reads the clock: what a document
 * does not say comes in a parse_ctx from the caller (the fetch loop, or
 * `coattail-scraper --file`).  Every parser
 *   - refuses documents over PARSE_MAX_DOC_BYTES and reads at most
 *     PARSE_MAX_ROWS rows;
 *   - parses with libxml2 without network access, without entity
 *     expansion and without DTDs (an XML document that declares a DTD is
 *     refused before its internal subset is read);
 *   - appends to `out` only records that pass record_validate();
 *   - costs one row for one bad row: the row is skipped and its reason
 *     counted in parse_result, the rest of the document still counts;
 *   - returns 0 when the document was read as expected, or -1 with
 *     res->status saying what kind of failure it was and err naming the
 *     source and the cause ("openinsider: table.tinytable has no 'Trade
 *     Type' column (0 rows read)").  On -1 nothing is left appended to out.
 *
 * A document that is read but yields no trade is never silent: a table
 * without rows is PARSE_EMPTY, a page without the table PARSE_SHAPE, a
 * FinViz page without insider rows PARSE_BLOCKED, a table whose every row
 * was bad PARSE_ROWS_BAD.  The one legitimate "0 trades, return 0" case is
 * a Form 4 that reports only derivative transactions or holdings; its
 * res->dropped says so.
 */
#ifndef COATTAIL_PARSE_H
#define COATTAIL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* Largest document any parser accepts. */
#define PARSE_MAX_DOC_BYTES ((size_t)32 * 1024 * 1024)
/* Most rows (table rows, transactions, feed entries) read from one document. */
#define PARSE_MAX_ROWS 10000
/* Length of an accession number "0001209191-22-001234" plus NUL. */
#define ACCESSION_LEN 21
/* A CIK as 10 digits plus NUL. */
#define CIK_LEN 11

/* ---- trade lists ---- */

struct trade_keys;

/* A growable array of REC_TRADE records owned by the list. */
struct trade_list {
	record_t *items;
	size_t n, cap;
	/* parse_append()'s hash index of the keys of the items it appended
	 * (private to parse.c; NULL until the first append). */
	struct trade_keys *keys;
};

void trade_list_init(struct trade_list *l);
/* record_free() every item and release the array; the list is then empty. */
void trade_list_free(struct trade_list *l);
/* Free items [n, l->n) and shrink the list to n items. */
void trade_list_truncate(struct trade_list *l, size_t n);

/* ---- what the document does not say ---- */

/*
 * Context a caller passes with a document.  Zero it with parse_ctx_init(),
 * which sets the times to REC_NULL_TIME; every pointer may stay NULL.
 */
enum doc_kind {
	DOC_UNKNOWN = 0,
	DOC_FORM4_XML,   /* an ownershipDocument */
	DOC_EDGAR_SGML,  /* full-submission .txt / feed .nc with <XML> inside */
	DOC_ATOM,        /* an Atom feed (EDGAR getcurrent) */
	DOC_OPENINSIDER, /* an OpenInsider page */
	DOC_FINVIZ,      /* a FinViz insider or quote page */
	DOC_BLOCKED,     /* a Cloudflare challenge or access-denied page */
	DOC_HTML,        /* some other HTML page (an error page, say) */
};

struct parse_ctx {
	const char *accession; /* from the feed or the link; NULL when unknown */
	const char *url;       /* link to the filing / page; NULL when unknown */
	int64_t filed_at;      /* acceptance time from the feed (UTC); REC_NULL_TIME */
	int64_t now;           /* capture time (UTC); resolves year-less FinViz dates */
	bool amendment;        /* the feed said 4/A, for a document that does not */
	const char *ticker;    /* FinViz/OpenInsider ticker page: its ticker, if known */
	/* doc_sniff() of exactly the buffer this ctx is passed with, when the
	 * caller has already sniffed it (--file does, to find Atom feeds), so
	 * parse_trades and form4_parse do not sniff it again; DOC_UNKNOWN (what
	 * parse_ctx_init sets) when not known. */
	enum doc_kind kind;
};

void parse_ctx_init(struct parse_ctx *ctx);

/* ---- outcome ---- */

enum parse_status {
	PARSE_OK = 0,      /* read as expected; out holds its trades */
	PARSE_EMPTY,       /* the table is there but has no data rows */
	PARSE_BLOCKED,     /* a block/challenge page, or no insider rows (FinViz) */
	PARSE_SHAPE,       /* expected structure missing: table, column, root element */
	PARSE_UNSUPPORTED, /* a layout that cannot give per-insider trades (clusters) */
	PARSE_ROWS_BAD,    /* rows were there, and every one of them was bad */
	PARSE_BAD_DOC,     /* not well formed, too big, a DTD, or the wrong kind */
	PARSE_NOMEM,
};

const char *parse_status_name(enum parse_status s);

#define PARSE_MAX_NOTES 8
#define PARSE_NOTE_LEN  96

/* Why rows were skipped (bad) or dropped (not trades by design), counted. */
struct parse_note {
	bool skipped; /* true: a bad row; false: dropped by design */
	size_t count;
	char reason[PARSE_NOTE_LEN];
};

struct parse_result {
	enum parse_status status;
	size_t rows;    /* data rows / transactions / entries examined */
	size_t trades;  /* records appended (filings, for atom_parse) */
	size_t skipped; /* bad rows: each cost only itself */
	size_t dropped; /* rows that are not trades by design (holdings, Form 144, ads) */
	size_t n_notes;
	struct parse_note notes[PARSE_MAX_NOTES]; /* the first distinct reasons */
};

void parse_result_init(struct parse_result *res);
/*
 * One line for a log: "100 rows, 98 ok, 2 skipped (2x no issuerTradingSymbol),
 * 3 dropped (3x Proposed Sale (Form 144))".  Returns buf.
 */
char *parse_result_summary(const struct parse_result *res, char *buf, size_t len);

/* ---- telling documents apart (for --file) ---- */

const char *doc_kind_name(enum doc_kind k);
/* Classify a document by its content (the first bytes and a few markers). */
enum doc_kind doc_sniff(const char *buf, size_t len);

/*
 * Parse a document that yields trades, choosing the parser by doc_sniff():
 * Form 4 XML, EDGAR SGML, OpenInsider, FinViz; `source` ("edgar",
 * "openinsider", "finviz" or NULL) overrides the guess (--source).  An
 * Atom feed, a blocked page or an unknown document is an error here
 * (PARSE_BAD_DOC or PARSE_BLOCKED).  *kind, when not NULL, gets the kind
 * used.
 */
int parse_trades(const char *buf, size_t len, const char *source, const struct parse_ctx *ctx,
                 struct trade_list *out, struct parse_result *res, enum doc_kind *kind, char *err,
                 size_t errlen);

/* ---- Form 4 (form4.c) ---- */

/*
 * One trade per nonDerivativeTransaction of an ownershipDocument (see the
 * comment at the top of form4.c for who the owner is, what "planned"
 * means and how keys are made).  Leading whitespace before the document is
 * allowed.
 */
int form4_parse(const char *buf, size_t len, const struct parse_ctx *ctx, struct trade_list *out,
                struct parse_result *res, char *err, size_t errlen);

/* ---- EDGAR SGML (sgml.c) ---- */

/* What the SGML header of a submission says. */
struct sgml_info {
	char accession[ACCESSION_LEN]; /* "" when absent */
	char form[8];                  /* the Form 4 document's <TYPE>: "4" or "4/A" */
	int64_t accepted_at;           /* ACCEPTANCE-DATETIME (Eastern) as UTC, or REC_NULL_TIME */
	const char *xml; /* the ownershipDocument inside <XML>, in the caller's buffer */
	size_t xml_len;
};

/*
 * Find the Form 4 document (<TYPE>4 or 4/A) of a full submission (.txt,
 * LF line ends) or a feed .nc file (bare CR line ends) and the XML between
 * its <XML> and </XML>, leading whitespace stripped.  info->xml points
 * into buf.
 */
int sgml_extract(const char *buf, size_t len, struct sgml_info *info, char *err, size_t errlen);

/*
 * sgml_extract() then form4_parse(); what ctx leaves unknown (accession,
 * filed_at, 4/A) is taken from the SGML header.
 */
int sgml_parse(const char *buf, size_t len, const struct parse_ctx *ctx, struct trade_list *out,
               struct parse_result *res, char *err, size_t errlen);

/* ---- EDGAR Atom feed (atom.c) ---- */

/* One Form 4 or 4/A filing announced by the getcurrent feed. */
struct edgar_filing {
	char accession[ACCESSION_LEN];
	char form[8];             /* "4" or "4/A" */
	char cik[CIK_LEN];        /* CIK in the first entry's link (its archive folder) */
	char issuer_cik[CIK_LEN]; /* from the (Issuer) entry, "" when none seen */
	char owner_cik[CIK_LEN];  /* from the first (Reporting) entry, "" when none */
	char *index_url;          /* the -index.htm link of the first entry */
	int64_t accepted_at;      /* <updated>, UTC; REC_NULL_TIME when unreadable */
};

struct filing_list {
	struct edgar_filing *items;
	size_t n, cap;
};

void filing_list_init(struct filing_list *l);
void filing_list_free(struct filing_list *l);
/* The filing with that accession, or NULL. */
const struct edgar_filing *filing_list_find(const struct filing_list *l, const char *accession);

/*
 * Append the Form 4 / 4/A filings of one getcurrent Atom page to out.
 * Entries of other forms (the feed's type=4 is a prefix match) are dropped,
 * entries whose accession is already in out are merged into it (every
 * filing appears at least twice: Reporting and Issuer), so pages can be
 * accumulated into one list.  An HTML page, or any root other than an Atom
 * <feed>, is an error (PARSE_BAD_DOC, "edgar: expected an Atom feed, got an
 * HTML page 'SEC.gov | File Unavailable'").  A well-formed feed without
 * entries returns 0 with res->rows == 0.  res->trades counts new filings.
 */
int atom_parse(const char *buf, size_t len, struct filing_list *out, struct parse_result *res,
               char *err, size_t errlen);

/* ---- OpenInsider (openinsider.c) ---- */

/*
 * One trade per row of table.tinytable on any OpenInsider listing, ticker,
 * insider or screener page; columns are found by header text.  The
 * cluster-buys layout (Industry and Ins instead of Insider Name and Title)
 * is PARSE_UNSUPPORTED: its rows sum several insiders and link no filing.
 */
int openinsider_parse(const char *buf, size_t len, const struct parse_ctx *ctx,
                      struct trade_list *out, struct parse_result *res, char *err, size_t errlen);

/* ---- FinViz (finviz.c) ---- */

/*
 * One trade per insider row of a FinViz insider-trading page (2026:
 * table#insider-table, tr.fv-insider-row) or quote page (2023:
 * table.insider-trading-table, tr.insider-row).  Ad rows and Proposed Sale
 * rows (Form 144 notices) are dropped; a Cloudflare challenge, or a page
 * without any insider row, is PARSE_BLOCKED.
 */
int finviz_parse(const char *buf, size_t len, const struct parse_ctx *ctx, struct trade_list *out,
                 struct parse_result *res, char *err, size_t errlen);

/* ---- small helpers other parts of the scraper use too ---- */

/* "0001209191-22-001234": 10 digits, 2 digits, 6 digits. */
bool accession_valid(const char *s);
/*
 * Accession number of an EDGAR archive link
 * (".../Archives/edgar/data/<cik>/<18 digits>/..." or ".../<accession>-index.htm"),
 * written to out as "0001209191-22-001234".  0, or -1 when the link has none.
 */
int accession_from_url(const char *url, char out[ACCESSION_LEN]);
/*
 * An accession number at the start of a file's base name
 * ("0000320121-23-000040_TLS.xml", "0001127602-25-004598.nc"), for --file.
 * 0, or -1.
 */
int accession_from_filename(const char *path, char out[ACCESSION_LEN]);
/* Digits only, 1-10 of them, written zero-padded to 10.  0, or -1. */
int cik_normalize(const char *s, char out[CIK_LEN]);
/*
 * Role bits guessed from a relationship as an aggregator writes it ("Dir,
 * 10%", "CEO, Pres", "10% Owner", "Director", "See Remarks"): "Dir..." ->
 * director, "10%" -> ten_percent_owner, "COB"/"Chair..." -> director, a
 * known officer word (CEO, CFO, Pres, VP, Chief ..., GC, Officer, ...) ->
 * officer, anything else (See Remarks, Portfolio Manager) -> other.
 */
unsigned roles_from_title(const char *title);

#endif
