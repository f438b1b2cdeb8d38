/*
 * openinsider.c - OpenInsider pages (listings, ticker, insider and screener
 * pages) -> trades.
 *
 * The data is table.tinytable (a small stats table comes first, so the
 * class matters).  Columns are found by their header text, because the
 * layouts differ: 17 columns on listings, 16 on ticker pages (no Company
 * Name), and the cluster-buys layout, whose Industry and Ins columns
 * replace Insider Name and Title.  Cluster rows sum several insiders'
 * purchases of one company and link to the company page, not to a filing:
 * there is no insider, CIK or accession to attribute a trade to, and
 * inventing an owner "multiple" would give keys that collide with nothing
 * and mean nothing.  Such a page is refused as PARSE_UNSUPPORTED with a
 * message saying so; the latest-insider listings carry the same purchases
 * one insider at a time.
 *
 * Fields: filing time is US Eastern (converted to UTC); the accession, the
 * url and the issuer's CIK (the archive folder OpenInsider links under)
 * come from the Filing Date link; the owner CIK from the
 * /insider/<Name>/<CIK> link, whose title ("1,016,765 indirect shares")
 * tells direct from indirect; Trade Type "S - Sale+OE" is code S; an "A" in
 * the X column marks an amendment; Qty is signed, shares are its absolute
 * value; value is shares x price (the page's Value column is that, rounded
 * to dollars).  Company Name, when the layout has none, comes from the
 * page's <h1> ("NVDA - Nvidia Corp - ...") for rows of that ticker, else
 * the ticker stands in.  ΔOwn and the 1d..6m returns are not read.
 *
 * Key: "oi:<accession>:<owner_cik>:<trade_date>:<code>:<shares>:<price>".
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htmlsax.h"
#include "htmlutil.h"
#include "numparse.h"
#include "parse.h"
#include "parse_priv.h"
#include "timeutil.h"

#define SRC       "openinsider"
#define MAX_CELLS HS_MAX_CELLS
#define FIELD_MAX HS_TEXT_MAX

enum s_col {
	C_X,
	C_FILED,
	C_TRADE_DATE,
	C_TICKER,
	C_COMPANY,
	C_INSIDER,
	C_TITLE,
	C_TYPE,
	C_PRICE,
	C_QTY,
	C_OWNED,
	C_VALUE,
	C_INDUSTRY,
	C_INS,
	C_N
};

static const struct {
	const char *header; /* lower case, blanks collapsed */
	enum s_col col;
	bool required;
	const char *name; /* as the page writes it, for messages */
} s_cols[] = {
	{ "x", C_X, false, "X" },
	{ "filing date", C_FILED, true, "Filing Date" },
	{ "trade date", C_TRADE_DATE, true, "Trade Date" },
	{ "ticker", C_TICKER, true, "Ticker" },
	{ "company name", C_COMPANY, false, "Company Name" },
	{ "insider name", C_INSIDER, true, "Insider Name" },
	{ "title", C_TITLE, false, "Title" },
	{ "trade type", C_TYPE, true, "Trade Type" },
	{ "price", C_PRICE, true, "Price" },
	{ "qty", C_QTY, true, "Qty" },
	{ "owned", C_OWNED, false, "Owned" },
	{ "value", C_VALUE, false, "Value" },
	{ "industry", C_INDUSTRY, false, "Industry" },
	{ "ins", C_INS, false, "Ins" },
};

struct s_page {
	int col[C_N]; /* cell index of each column, -1 when absent */
	int ncols;    /* cells a data row needs */
	char h1_ticker[24];
	char h1_company[FIELD_MAX];
};

static void s_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A cell's text as hu_text() put it in a buffer of `size` bytes; "" for no cell. */
/* The header row's cells -> column indexes. */
static void s_map_columns(const struct hs_page *doc, const struct hs_row *hdr, struct s_page *pg)
{
	const struct hs_cell *cells[MAX_CELLS];
	int n = hs_cells(doc, hdr, cells, MAX_CELLS);
	char text[64];

	for (int c = 0; c < C_N; c++)
		pg->col[c] = -1;
	pg->ncols = 0;
	for (int i = 0; i < n; i++) {
		hs_cell_text(doc, cells[i], text, sizeof(text));
		s_lower(text);
		for (size_t k = 0; k < sizeof(s_cols) / sizeof(s_cols[0]); k++) {
			if (strcmp(text, s_cols[k].header) == 0 && pg->col[s_cols[k].col] < 0) {
				pg->col[s_cols[k].col] = i;
				if (i + 1 > pg->ncols)
					pg->ncols = i + 1;
			}
		}
	}
}

/* "NVDA - Nvidia Corp - SEC Form 4 Insider Trading Screener" on ticker pages. */
static void s_read_h1(const struct hs_page *doc, struct s_page *pg)
{
	char h1[FIELD_MAX];
	char *a, *b;

	pg->h1_ticker[0] = '\0';
	pg->h1_company[0] = '\0';
	hs_cut(doc->h1, h1, sizeof(h1));
	a = strstr(h1, " - ");
	if (a == NULL || (size_t)(a - h1) >= sizeof(pg->h1_ticker))
		return;
	b = strstr(a + 3, " - ");
	if (b == NULL)
		return;
	snprintf(pg->h1_ticker, sizeof(pg->h1_ticker), "%.*s", (int)(a - h1), h1);
	snprintf(pg->h1_company, sizeof(pg->h1_company), "%.*s", (int)(b - (a + 3)), a + 3);
}

/* A row of <th> cells is the header; a row with <td> cells is data. */
static bool s_header_row(const struct hs_row *tr)
{
	return tr->any_cell && tr->first_th;
}

static bool s_data_row(const struct hs_row *tr)
{
	return !s_header_row(tr) && tr->has_td;
}

static const struct hs_rules s_rules = {
	.table_class = "tinytable",
	.is_header = s_header_row,
	.is_data = s_data_row,
	.h1 = true,
};

/* The last path segment of an /insider/<Name>/<CIK> link, as a CIK. */
static bool s_insider_cik(const char *href, char cik[CIK_LEN])
{
	const char *p = strrchr(href, '/');
	char tmp[16];
	size_t n;

	if (p == NULL || strstr(href, "/insider/") == NULL)
		return false;
	p++;
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(tmp) || (p[n] != '\0' && p[n] != '?' && p[n] != '#'))
		return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return cik_normalize(tmp, cik) == 0;
}

/* "1,016,765 indirect shares\n<address>" -> 0; "... direct shares" -> 1. */
static int8_t s_direct(const char *title)
{
	const char *p = title;

	while (isdigit((unsigned char)*p) || *p == ',')
		p++;
	if (p == title || *p != ' ')
		return REC_TRI_NULL;
	p++;
	if (strncasecmp(p, "indirect shares", 15) == 0)
		return 0;
	if (strncasecmp(p, "direct shares", 13) == 0)
		return 1;
	return REC_TRI_NULL;
}

static const struct hs_cell *s_cell(const struct hs_cell **cells, const struct s_page *pg,
                                    enum s_col c)
{
	return pg->col[c] >= 0 ? cells[pg->col[c]] : NULL;
}

/* One data row -> one trade or a skipped row.  -1: no memory. */
static int s_row(const struct hs_page *doc, const struct hs_row *tr, const struct s_page *pg,
                 struct trade_list *out, size_t mark, struct parse_result *res)
{
	const struct hs_cell *cells[MAX_CELLS], *a;
	record_t rec = { .type = REC_TRADE };
	trade_t *t = &rec.u.trade;
	char buf[FIELD_MAX], href[HS_HREF_MAX], acc[ACCESSION_LEN], cik[CIK_LEN], icik[CIK_LEN],
	    key[256];
	char sh[32], pr[32];
	civil_date_t d;
	int hh, mi, ss, n;
	bool oom = false;

	res->rows++;
	n = hs_cells(doc, tr, cells, MAX_CELLS);
	if (n < pg->ncols) {
		parse_note(res, true, "%d cells, expected %d", n, pg->ncols);
		return 0;
	}
	/* Filing Date: the link to the filing, the time in US Eastern. */
	a = s_cell(cells, pg, C_FILED);
	if (a != NULL && a->link)
		hs_raw(doc, &a->href, href, sizeof(href));
	if (a == NULL || !a->link || accession_from_url(href, acc) != 0) {
		parse_note(res, true, "no filing link in Filing Date");
		return 0;
	}
	hs_cell_text(doc, s_cell(cells, pg, C_FILED), buf, sizeof(buf));
	if (np_iso_datetime(buf, &d, &hh, &mi, &ss) != 0 ||
	    eastern_to_utc(d, hh, mi, ss, &t->filed_at) != 0) {
		parse_note(res, true, "bad Filing Date '%.24s'", buf);
		return 0;
	}
	hs_cell_text(doc, s_cell(cells, pg, C_TRADE_DATE), buf, sizeof(buf));
	if (date_parse(buf, &d) != 0) {
		parse_note(res, true, "bad Trade Date '%.24s'", buf);
		return 0;
	}
	date_format(d, t->trade_date, sizeof(t->trade_date));
	/* Trade Type: "P - Purchase", "S - Sale+OE" -> the letter. */
	hs_cell_text(doc, s_cell(cells, pg, C_TYPE), buf, sizeof(buf));
	if (!isupper((unsigned char)buf[0]) || (buf[1] != '\0' && buf[1] != ' ' && buf[1] != '-')) {
		parse_note(res, true, "bad Trade Type '%.24s'", buf);
		return 0;
	}
	t->code[0] = buf[0];
	if (!parse_page_cell_num(doc, s_cell(cells, pg, C_QTY), "Qty", true, true, &t->shares,
	                         res) ||
	    !parse_page_cell_num(doc, s_cell(cells, pg, C_PRICE), "Price", false, true, &t->price,
	                         res) ||
	    (pg->col[C_OWNED] >= 0 && !parse_page_cell_num(doc, s_cell(cells, pg, C_OWNED), "Owned",
	                                                   false, true, &t->shares_after, res)))
		return 0;
	if (pg->col[C_OWNED] < 0)
		t->shares_after = REC_NULL_NUM;
	t->shares = fabs(t->shares);
	if (!isnan(t->price) && t->price < 0) {
		parse_note(res, true, "negative Price");
		return 0;
	}
	/* The page's Value is the filing's exact total; Price is rounded. */
	if (pg->col[C_VALUE] >= 0 && !parse_page_cell_num(doc, s_cell(cells, pg, C_VALUE), "Value",
	                                                  false, true, &t->value, res))
		return 0;
	if (pg->col[C_VALUE] < 0 || isnan(t->value))
		t->value = isnan(t->price) ? REC_NULL_NUM : parse_value(t->shares, t->price);
	t->value = fabs(t->value);
	/* Insider: name and CIK from the /insider/<Name>/<CIK> link. */
	a = s_cell(cells, pg, C_INSIDER);
	if (a != NULL && a->link)
		hs_raw(doc, &a->href, buf, sizeof(buf));
	if (a == NULL || !a->link || !s_insider_cik(buf, cik)) {
		parse_note(res, true, "no insider CIK link");
		return 0;
	}
	hs_raw(doc, &a->title, buf, sizeof(buf));
	t->direct = s_direct(buf);
	hs_cell_text(doc, s_cell(cells, pg, C_INSIDER), buf, sizeof(buf));
	t->owner = parse_strdup(buf, &oom);
	hs_cell_text(doc, s_cell(cells, pg, C_TICKER), buf, sizeof(buf));
	t->ticker = parse_ticker(buf);
	if (t->ticker == NULL) {
		parse_note(res, true, "no ticker");
		record_free(&rec);
		return 0;
	}
	if (pg->col[C_COMPANY] >= 0)
		hs_cell_text(doc, s_cell(cells, pg, C_COMPANY), buf, sizeof(buf));
	else if (pg->h1_company[0] != '\0' && strcasecmp(pg->h1_ticker, t->ticker) == 0)
		snprintf(buf, sizeof(buf), "%s", pg->h1_company);
	else
		snprintf(buf, sizeof(buf), "%s", t->ticker);
	t->issuer = parse_strdup(buf, &oom);
	if (pg->col[C_TITLE] >= 0) {
		hs_cell_text(doc, s_cell(cells, pg, C_TITLE), buf, sizeof(buf));
		t->title = parse_strdup(buf, &oom);
		t->roles = roles_from_title(buf);
	}
	if (pg->col[C_X] >= 0) {
		hs_cell_text(doc, s_cell(cells, pg, C_X), buf, sizeof(buf));
		t->amendment = strchr(buf, 'A') != NULL;
	}
	t->planned = false;
	parse_key_num(t->shares, sh, sizeof(sh));
	parse_key_num(t->price, pr, sizeof(pr));
	snprintf(key, sizeof(key), "oi:%s:%s:%s:%s:%s:%s", acc, cik, t->trade_date, t->code, sh,
	         pr);
	hu_clean(href, strlen(href), buf, sizeof(buf));
	t->url = parse_strdup(buf, &oom);
	t->key = parse_strdup(key, &oom);
	t->source = parse_strdup("openinsider", &oom);
	t->accession = parse_strdup(acc, &oom);
	t->owner_cik = parse_strdup(cik, &oom);
	/* OpenInsider links the filing under the issuer's folder (checked on
	 * every capture); a folder that is the owner's says nothing. */
	if (parse_archive_cik(href, icik) == 0 && strcmp(icik, cik) != 0)
		t->issuer_cik = parse_strdup(icik, &oom);
	if (oom) {
		record_free(&rec);
		return -1;
	}
	return parse_append(out, mark, &rec, res);
}

int openinsider_parse(const char *buf, size_t len, const struct parse_ctx *ctx,
                      struct trade_list *out, struct parse_result *res, char *err, size_t errlen)
{
	struct parse_result local;
	struct hs_page doc;
	struct s_page pg;
	size_t mark = out->n;
	int rc;

	(void)ctx; /* everything is on the page */
	if (res == NULL)
		res = &local;
	parse_result_init(res);
	hs_page_init(&doc);
	rc = parse_page_read(buf, len, &s_rules, &doc, SRC, out, mark, res, err, errlen);
	if (rc != 0)
		goto done;
	if (!doc.table) {
		char title[120];
		hs_cut(doc.title, title, sizeof(title));
		if (parse_looks_blocked(buf, len))
			rc = parse_fail(res, PARSE_BLOCKED, out, mark, err, errlen,
			                SRC ": blocked: the page is a challenge or access-denied "
			                    "page '%s' (0 rows read)",
			                title);
		else
			rc = parse_fail(res, PARSE_SHAPE, out, mark, err, errlen,
			                SRC ": no table.tinytable in page '%s' (0 rows read)",
			                title);
		goto done;
	}
	if (doc.hdr == NULL) {
		rc = parse_fail(res, PARSE_SHAPE, out, mark, err, errlen,
		                SRC ": table.tinytable has no header row (<th> cells) (0 rows "
		                    "read, %zu rows seen)",
		                doc.nrows);
		goto done;
	}
	s_map_columns(&doc, doc.hdr, &pg);
	if (pg.col[C_INSIDER] < 0 && (pg.col[C_INS] >= 0 || pg.col[C_INDUSTRY] >= 0)) {
		rc = parse_fail(res, PARSE_UNSUPPORTED, out, mark, err, errlen,
		                SRC ": cluster-buys layout (Industry and Ins columns, no Insider "
		                    "Name): its %zu rows sum several insiders and link no filing, "
		                    "so they cannot become per-insider trades (0 rows read)",
		                doc.nrows);
		goto done;
	}
	for (size_t k = 0; k < sizeof(s_cols) / sizeof(s_cols[0]); k++) {
		if (s_cols[k].required && pg.col[s_cols[k].col] < 0) {
			rc = parse_fail(res, PARSE_SHAPE, out, mark, err, errlen,
			                SRC ": table.tinytable has no '%s' column (0 rows read)",
			                s_cols[k].name);
			goto done;
		}
	}
	if (doc.nrows == 0) {
		rc = parse_fail(res, PARSE_EMPTY, out, mark, err, errlen,
		                SRC ": table.tinytable has no rows (0 rows read)");
		goto done;
	}
	s_read_h1(&doc, &pg);
	for (size_t i = 0; i < doc.nrows; i++) {
		if (res->rows >= PARSE_MAX_ROWS) {
			parse_note(res, true, "over the %d-row limit", PARSE_MAX_ROWS);
			continue;
		}
		if (s_row(&doc, hs_data_row(&doc, i), &pg, out, mark, res) != 0) {
			rc = parse_fail(res, PARSE_NOMEM, out, mark, err, errlen,
			                SRC ": out of memory");
			goto done;
		}
	}
	rc = parse_finish(SRC, out, mark, res, err, errlen);
done:
	hs_page_free(&doc);
	return rc;
}
