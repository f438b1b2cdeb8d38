/*
 * finviz.c - FinViz insider-trading and quote pages -> trades.
 *
 * Layouts (SOURCES.md 1): the 2026 insider page, table#insider-table with
 * <th> headers and tr.fv-insider-row rows; the 2023 quote page,
 * table.insider-trading-table whose header is a row of td.table-top and
 * whose rows are tr.insider-row; older tr.insider-{buy,sale,option}-row-N
 * rows are recognised too.  Columns are found by header text; quote pages
 * have no Ticker column (their first header is "Insider Trading", the
 * owner), so the ticker and company come from the page (a#ticker and the
 * fullview title, else <title> "AMZN - Amazon.com, Inc. Stock Price ...",
 * else ctx->ticker).
 *
 * Rows: ad rows (fewer cells than columns, one colspan cell) and "Proposed
 * Sale" rows (Form 144 notices, linked to xsl144) are dropped; Buy -> P,
 * Sale -> S, Option Exercise -> M.  A Cloudflare challenge, or a page
 * without a single insider row, is PARSE_BLOCKED ("blocked"), never "no
 * trades": FinViz serves challenge pages to clients it distrusts.
 *
 * Years.  FinViz prints the filing time without a year ("Jul 02 09:13 PM")
 * and, on 2023 pages, the trade date too ("May 25").  The filing's year is
 * the accession number's ("0001510281-26-000229" was filed in 2026: EDGAR
 * assigns it at submission), which holds for saved pages of any age; the
 * trade date is then the latest such day on or before the filing day.
 * Only when a row has no accession does ctx->now (the capture time) stand
 * in: the latest such day not after it.  Filing times are US Eastern.
 *
 * value is the page's Value ($) (the filing's total to the dollar, where
 * shares x the rounded Cost is not), else shares x price.
 * Key: "fv:<accession>:<owner_cik>:<trade_date>:<code>:<shares>:<price>".
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

#define SRC       "finviz"
#define MAX_CELLS HS_MAX_CELLS
#define FIELD_MAX HS_TEXT_MAX

enum s_col {
	F_TICKER,
	F_OWNER,
	F_REL,
	F_DATE,
	F_TX,
	F_COST,
	F_SHARES,
	F_VALUE,
	F_TOTAL,
	F_FORM4,
	F_N
};

static const struct {
	const char *header; /* lower case */
	enum s_col col;
	bool required;
	const char *name;
} s_cols[] = {
	{ "ticker", F_TICKER, false, "Ticker" },
	{ "owner", F_OWNER, true, "Owner" },
	{ "insider trading", F_OWNER, true, "Owner" },
	{ "relationship", F_REL, false, "Relationship" },
	{ "date", F_DATE, true, "Date" },
	{ "transaction", F_TX, true, "Transaction" },
	{ "cost", F_COST, true, "Cost" },
	{ "#shares", F_SHARES, true, "#Shares" },
	{ "value ($)", F_VALUE, false, "Value ($)" },
	{ "value", F_VALUE, false, "Value ($)" },
	{ "#shares total", F_TOTAL, false, "#Shares Total" },
	{ "sec form 4", F_FORM4, true, "SEC Form 4" },
};

struct s_page {
	int col[F_N];
	int ncols;
	char ticker[HS_TICKER];   /* the quote page's ticker, "" when not one */
	char company[FIELD_MAX];  /* the quote page's company */
	civil_date_t now_eastern; /* ctx->now as an Eastern date */
	bool have_now;
};

static void s_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Row flags (hs_rules.row_flags) from a <tr>'s class attribute. */
enum { ROW_INSIDER = 1, ROW_AD = 2 };

static unsigned s_row_flags(const char *cls)
{
	unsigned f = 0;

	if (cls == NULL)
		return 0;
	if (hu_token(cls, "fv-insider-row", false) || hu_token(cls, "insider-row", false) ||
	    hu_token(cls, "insider-buy-row", true) || hu_token(cls, "insider-sale-row", true) ||
	    hu_token(cls, "insider-option-row", true))
		f |= ROW_INSIDER;
	if (hu_token(cls, "ic-banner", false))
		f |= ROW_AD;
	return f;
}

static bool s_insider_row(const struct hs_row *tr)
{
	return (tr->flags & ROW_INSIDER) != 0;
}

/* Is this row the header: <th> cells, or the 2023 td.table-top cells? */
static bool s_header_row(const struct hs_row *tr)
{
	return tr->any_cell && (tr->first_th || tr->first_token);
}

/*
 * The insider table: by id, by class, or as the table around the first
 * insider row (hs_rules); the quote page's header bits (a#ticker and the
 * fullview title) are kept too.
 */
static const struct hs_rules s_rules = {
	.table_id = "insider-table",
	.table_class = "insider-trading-table",
	.key_row = ROW_INSIDER,
	.row_flags = s_row_flags,
	.is_header = s_header_row,
	.is_data = s_insider_row,
	.cell_token = "table-top",
	.cell_attr = "data-boxover-company",
	.link_text = true,
	.quote = true,
};

/* A cell's text as hu_text() put it in a buffer of `size` bytes; "" for no cell. */
static void s_map_columns(const struct hs_page *doc, const struct hs_row *hdr, struct s_page *pg)
{
	const struct hs_cell *cells[MAX_CELLS];
	int n = hs_cells(doc, hdr, cells, MAX_CELLS);
	char text[64];

	for (int c = 0; c < F_N; c++)
		pg->col[c] = -1;
	pg->ncols = n;
	for (int i = 0; i < n; i++) {
		hs_cell_text(doc, cells[i], text, sizeof(text));
		s_lower(text);
		for (size_t k = 0; k < sizeof(s_cols) / sizeof(s_cols[0]); k++)
			if (strcmp(text, s_cols[k].header) == 0 && pg->col[s_cols[k].col] < 0)
				pg->col[s_cols[k].col] = i;
	}
}

/* The quote page's ticker and company (2023: a#ticker + fullview-title). */
static void s_read_quote_header(const struct hs_page *doc, const struct parse_ctx *ctx,
                                struct s_page *pg)
{
	char buf[FIELD_MAX], *dash, *stock;

	hs_cut(doc->quote_ticker, pg->ticker, sizeof(pg->ticker));
	hs_cut(doc->quote_company, pg->company, sizeof(pg->company));
	/* <title>AMZN - Amazon.com, Inc. Stock Price and Quote</title> */
	hs_cut(doc->title, buf, sizeof(buf));
	dash = strstr(buf, " - ");
	if (dash != NULL && (size_t)(dash - buf) < sizeof(pg->ticker)) {
		if (pg->ticker[0] == '\0')
			snprintf(pg->ticker, sizeof(pg->ticker), "%.*s", (int)(dash - buf), buf);
		stock = strstr(dash + 3, " Stock Price");
		if (pg->company[0] == '\0' && stock != NULL)
			snprintf(pg->company, sizeof(pg->company), "%.*s",
			         (int)(stock - (dash + 3)), dash + 3);
	}
	if (pg->ticker[0] == '\0' && ctx != NULL && ctx->ticker != NULL)
		snprintf(pg->ticker, sizeof(pg->ticker), "%s", ctx->ticker);
}

/* "insidertrading?oc=1510281&tc=1" -> the owner's CIK. */
static bool s_owner_cik(const char *href, char cik[CIK_LEN])
{
	const char *p = href;
	char tmp[16];
	size_t n;

	while ((p = strstr(p, "oc=")) != NULL) {
		if (p > href && (p[-1] == '?' || p[-1] == '&'))
			break;
		p += 3;
	}
	if (p == NULL)
		return false;
	p += 3;
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return cik_normalize(tmp, cik) == 0;
}

static const struct hs_cell *s_cell(const struct hs_cell **cells, const struct s_page *pg,
                                    enum s_col c)
{
	return pg->col[c] >= 0 ? cells[pg->col[c]] : NULL;
}

/* Transaction text -> code; 0 for Proposed Sale; -1 unknown. */
static int s_code(const char *tx)
{
	if (strcasecmp(tx, "Buy") == 0 || strcasecmp(tx, "Purchase") == 0)
		return 'P';
	if (strcasecmp(tx, "Sale") == 0 || strcasecmp(tx, "Sell") == 0)
		return 'S';
	if (strcasecmp(tx, "Option Exercise") == 0)
		return 'M';
	if (strcasecmp(tx, "Proposed Sale") == 0)
		return 0;
	return -1;
}

static int s_row(const struct hs_page *doc, const struct hs_row *tr, const struct s_page *pg,
                 struct trade_list *out, size_t mark, struct parse_result *res)
{
	const struct hs_cell *cells[MAX_CELLS], *a;
	record_t rec = { .type = REC_TRADE };
	trade_t *t = &rec.u.trade;
	char buf[FIELD_MAX], href[HS_HREF_MAX], acc[ACCESSION_LEN], cik[CIK_LEN], key[256];
	char sh[32], pr[32], tx[64];
	civil_date_t filed_day = { 0, 0, 0 }, d;
	bool have_filed_day = false, oom = false;
	int n, code, mo, dd, yy, hh, mi;

	res->rows++;
	n = hs_cells(doc, tr, cells, MAX_CELLS);
	if (n < pg->ncols) {
		if (n == 1 || (tr->flags & ROW_AD) != 0)
			parse_note(res, false, "ad row");
		else
			parse_note(res, true, "%d cells, expected %d", n, pg->ncols);
		return 0;
	}
	hs_cell_text(doc, s_cell(cells, pg, F_TX), tx, sizeof(tx));
	code = s_code(tx);
	a = s_cell(cells, pg, F_FORM4);
	href[0] = '\0';
	if (a != NULL && a->link)
		hs_raw(doc, &a->href, href, sizeof(href));
	if (code == 0 || strstr(href, "xsl144") != NULL) {
		parse_note(res, false, "Proposed Sale (Form 144)");
		return 0;
	}
	if (code < 0) {
		parse_note(res, true, "unknown Transaction '%.24s'", tx);
		return 0;
	}
	t->code[0] = (char)code;
	if (href[0] == '\0' || accession_from_url(href, acc) != 0) {
		parse_note(res, true, "no filing link in SEC Form 4");
		return 0;
	}
	/* Filing time: no year; the accession's year is the filing's. */
	t->filed_at = REC_NULL_TIME;
	hs_cell_text(doc, s_cell(cells, pg, F_FORM4), buf, sizeof(buf));
	if (np_month_day_time(buf, &mo, &dd, &hh, &mi) == 0) {
		civil_date_t fd = { 2000 + (acc[11] - '0') * 10 + (acc[12] - '0'), mo, dd };
		if (date_valid(fd) && eastern_to_utc(fd, hh, mi, 0, &t->filed_at) == 0) {
			filed_day = fd;
			have_filed_day = true;
		}
	}
	/* Trade date: "Jun 30 '26", or "May 25" resolved as said above. */
	hs_cell_text(doc, s_cell(cells, pg, F_DATE), buf, sizeof(buf));
	if (np_month_day(buf, &mo, &dd, &yy) != 0) {
		parse_note(res, true, "bad Date '%.24s'", buf);
		return 0;
	}
	if (yy != 0) {
		d = (civil_date_t){ yy, mo, dd };
	} else if (have_filed_day) {
		if (np_resolve_year(mo, dd, filed_day, &d) != 0) {
			parse_note(res, true, "bad Date '%.24s'", buf);
			return 0;
		}
	} else if (pg->have_now) {
		if (np_resolve_year(mo, dd, date_add_days(pg->now_eastern, 1), &d) != 0) {
			parse_note(res, true, "bad Date '%.24s'", buf);
			return 0;
		}
	} else {
		parse_note(res, true, "year-less Date and no capture time");
		return 0;
	}
	date_format(d, t->trade_date, sizeof(t->trade_date));
	if (!parse_page_cell_num(doc, s_cell(cells, pg, F_SHARES), "#Shares", true, false,
	                         &t->shares, res) ||
	    !parse_page_cell_num(doc, s_cell(cells, pg, F_COST), "Cost", false, false, &t->price,
	                         res))
		return 0;
	t->shares_after = REC_NULL_NUM;
	if (pg->col[F_TOTAL] >= 0 &&
	    !parse_page_cell_num(doc, s_cell(cells, pg, F_TOTAL), "#Shares Total", false, false,
	                         &t->shares_after, res))
		return 0;
	/* Value ($) is the filing's total to the dollar; Cost is rounded. */
	if (pg->col[F_VALUE] >= 0 &&
	    !parse_page_cell_num(doc, s_cell(cells, pg, F_VALUE), "Value ($)", false, false,
	                         &t->value, res))
		return 0;
	if (pg->col[F_VALUE] < 0 || isnan(t->value))
		t->value = isnan(t->price) ? REC_NULL_NUM : parse_value(t->shares, t->price);
	/* Owner: name and CIK from the insidertrading?oc=<CIK> link. */
	a = s_cell(cells, pg, F_OWNER);
	if (a != NULL && a->link)
		hs_raw(doc, &a->href, buf, sizeof(buf));
	if (a == NULL || !a->link || !s_owner_cik(buf, cik)) {
		parse_note(res, true, "no owner CIK link");
		return 0;
	}
	hs_text(doc, &a->link_text, buf, sizeof(buf));
	t->owner = parse_strdup(buf, &oom);
	if (pg->col[F_REL] >= 0) {
		hs_cell_text(doc, s_cell(cells, pg, F_REL), buf, sizeof(buf));
		t->title = parse_strdup(buf, &oom);
		t->roles = roles_from_title(buf);
	}
	/* Ticker and company: the row's, else the quote page's. */
	if (pg->col[F_TICKER] >= 0) {
		const struct hs_cell *tc = s_cell(cells, pg, F_TICKER);
		hs_cell_text(doc, tc, buf, sizeof(buf));
		t->ticker = parse_ticker(buf);
		hs_text(doc, tc != NULL ? &tc->attr : NULL, buf, sizeof(buf));
	} else {
		t->ticker = parse_ticker(pg->ticker);
		snprintf(buf, sizeof(buf), "%s", pg->company);
	}
	if (t->ticker == NULL) {
		parse_note(res, true, "no ticker");
		record_free(&rec);
		return 0;
	}
	t->issuer = parse_strdup(buf[0] != '\0' ? buf : t->ticker, &oom);
	t->direct = REC_TRI_NULL;
	t->planned = false;
	t->amendment = false;
	parse_key_num(t->shares, sh, sizeof(sh));
	parse_key_num(t->price, pr, sizeof(pr));
	snprintf(key, sizeof(key), "fv:%s:%s:%s:%s:%s:%s", acc, cik, t->trade_date, t->code, sh,
	         pr);
	hu_clean(href, strlen(href), buf, sizeof(buf));
	t->url = parse_strdup(buf, &oom);
	t->key = parse_strdup(key, &oom);
	t->source = parse_strdup("finviz", &oom);
	t->accession = parse_strdup(acc, &oom);
	t->owner_cik = parse_strdup(cik, &oom);
	if (oom) {
		record_free(&rec);
		return -1;
	}
	return parse_append(out, mark, &rec, res);
}

int finviz_parse(const char *buf, size_t len, const struct parse_ctx *ctx, struct trade_list *out,
                 struct parse_result *res, char *err, size_t errlen)
{
	struct parse_result local;
	struct hs_page doc;
	struct s_page pg;
	size_t mark = out->n;
	char title[120];
	int rc;

	if (res == NULL)
		res = &local;
	parse_result_init(res);
	memset(&pg, 0, sizeof(pg));
	if (ctx != NULL && ctx->now != REC_NULL_TIME) {
		int sec;
		utc_to_eastern(ctx->now, &pg.now_eastern, &sec);
		pg.have_now = true;
	}
	hs_page_init(&doc);
	rc = parse_page_read(buf, len, &s_rules, &doc, SRC, out, mark, res, err, errlen);
	if (rc != 0)
		goto done;
	hs_cut(doc.title, title, sizeof(title));
	/* Challenge markers only explain a page without insider rows: a real
	 * page may carry Cloudflare's scripts too. */
	if (!doc.table && parse_looks_blocked(buf, len)) {
		rc = parse_fail(res, PARSE_BLOCKED, out, mark, err, errlen,
		                SRC ": blocked: Cloudflare challenge or access-denied page '%s' "
		                    "(0 rows read)",
		                title);
		goto done;
	}
	if (!doc.table) {
		rc = parse_fail(res, PARSE_BLOCKED, out, mark, err, errlen,
		                SRC ": blocked: no insider table and no insider row in page '%s' "
		                    "(0 rows read)",
		                title);
		goto done;
	}
	if (doc.nrows == 0) {
		rc = parse_fail(res, PARSE_BLOCKED, out, mark, err, errlen,
		                SRC
		                ": blocked: the insider table has no insider rows (0 rows read)");
		goto done;
	}
	if (doc.hdr == NULL) {
		rc = parse_fail(res, PARSE_SHAPE, out, mark, err, errlen,
		                SRC ": the insider table has no header row (0 rows read, %zu rows "
		                    "seen)",
		                doc.nrows);
		goto done;
	}
	s_map_columns(&doc, doc.hdr, &pg);
	for (size_t k = 0; k < sizeof(s_cols) / sizeof(s_cols[0]); k++) {
		if (s_cols[k].required && pg.col[s_cols[k].col] < 0) {
			rc = parse_fail(res, PARSE_SHAPE, out, mark, err, errlen,
			                SRC ": the insider table has no '%s' column (0 rows read)",
			                s_cols[k].name);
			goto done;
		}
	}
	if (pg.col[F_TICKER] < 0)
		s_read_quote_header(&doc, ctx, &pg);
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
