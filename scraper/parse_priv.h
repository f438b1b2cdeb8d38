/*
 * parse_priv.h - what the parsers (form4.c, sgml.c, atom.c, openinsider.c,
 * finviz.c) share and nobody else needs: counting skipped rows, failing a
 * document cleanly, appending validated trades, and making keys.
 */
#ifndef COATTAIL_PARSE_PRIV_H
#define COATTAIL_PARSE_PRIV_H

#include <stdarg.h>

#include "parse.h"

/* Whether a document of len bytes is over PARSE_MAX_DOC_BYTES; if so, err
 * says so, naming source. */
bool parse_doc_too_big(size_t len, const char *source, char *err, size_t errlen);

/* Count a row: skipped (bad) or dropped (not a trade by design), with why. */
void parse_note(struct parse_result *res, bool skipped, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Fail the document: set res->status, drop what this call appended to out
 * (items from `mark` on; out may be NULL), write "fmt ..." to err, return -1.
 */
int parse_fail(struct parse_result *res, enum parse_status st, struct trade_list *out, size_t mark,
               char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/*
 * Append *rec (a REC_TRADE whose strings it owns) to out after
 * record_validate(); the list takes the strings and *rec is zeroed.  A
 * record that fails validation is freed and counted as skipped with the
 * validator's reason; returns 0 either way, -1 only when out of memory.
 * A key already used by an item from `mark` on gets "~2", "~3", ...
 * appended, so two rows of one document never share a key.
 */
int parse_append(struct trade_list *out, size_t mark, record_t *rec, struct parse_result *res);

/*
 * The end of a table parser: PARSE_ROWS_BAD when rows were read and every
 * one was skipped, else PARSE_OK.  Returns 0 or -1 (through parse_fail).
 */
int parse_finish(const char *source, struct trade_list *out, size_t mark, struct parse_result *res,
                 char *err, size_t errlen);

/* A number as it appears in a key: integers without a point, otherwise at
 * most 6 decimals without trailing zeros; "" for null. */
void parse_key_num(double x, char *buf, size_t len);

/* shares x price without binary noise (85710.40000000001 -> 85710.4). */
double parse_value(double shares, double price);

/* SHA-256 of data as lowercase hex, cut to hexlen-1 characters. */
void parse_sha256_hex(const void *data, size_t len, char *hex, size_t hexlen);

/* Does the raw page look like a Cloudflare challenge or a block page? */
bool parse_looks_blocked(const char *buf, size_t len);

/*
 * Fail a document that is an HTML page where `expected` ("an Atom feed")
 * was: PARSE_BLOCKED for a refusal or challenge page, else PARSE_BAD_DOC;
 * the message names the page by its title.  Returns -1.
 */
int parse_html_instead(const char *src, const char *expected, const char *buf, size_t len,
                       struct parse_result *res, struct trade_list *out, size_t mark, char *err,
                       size_t errlen);

/* The CIK folder of an archive link (".../edgar/data/<cik>/...").  0, or -1. */
int parse_archive_cik(const char *href, char cik[CIK_LEN]);

/* Case-insensitive search for needle in the first len bytes of hay. */
const char *parse_memcasemem(const char *hay, size_t len, const char *needle);

/*
 * A ticker as a source writes it -> trimmed, upper case, the first of
 * several ("GOOGL, GOOG" -> "GOOGL"); malloc'd.  NULL when missing or a
 * placeholder ("NONE", "N/A"), or when it is no ticker at all.
 */
char *parse_ticker(const char *raw);

/* strdup that tolerates NULL; sets *oom when it fails. */
char *parse_strdup(const char *s, bool *oom);

/*
 * A table cell's number (np_number: "$1,234", "+3,597", "-$0", ...), given
 * the cell's text as a PARSE_CELL_NUM-byte buffer holds it, into *x; an
 * empty cell is NAN, and an error (noted in res) when `required`.  With
 * `allow_negative` false a negative number is an error too (FinViz never
 * signs its counts; OpenInsider signs Qty and Value, and the caller takes
 * the magnitude).  false when the row must be skipped.
 */
#define PARSE_CELL_NUM 64
bool parse_cell_num(const char *text, const char *name, bool required, bool allow_negative,
                    double *x, struct parse_result *res);

/* parse_cell_num() of a page's cell (htmlsax.h; NULL: an empty cell). */
struct hs_page;
struct hs_cell;
struct hs_rules;

/* hs_read() for a page parser: 0 when the page was read into doc, else
 * the document failed as parse_fail() fails it (bad page: err as hs_read
 * wrote it; out of memory), -1. */
int parse_page_read(const char *buf, size_t len, const struct hs_rules *rules, struct hs_page *doc,
                    const char *source, struct trade_list *out, size_t mark,
                    struct parse_result *res, char *err, size_t errlen);
bool parse_page_cell_num(const struct hs_page *pg, const struct hs_cell *cell, const char *name,
                         bool required, bool allow_negative, double *x, struct parse_result *res);

/* FNV-1a of a NUL-terminated string, folded to size_t: the parsers' hash
 * indexes (parse_append's keys, atom_parse's accessions). */
size_t parse_str_hash(const char *s);

#endif
