/*
 * test_finviz.c - FinViz insider pages: the 2026 feed fragment and the 2023
 * quote page checked by row count and field by field, the Cloudflare page
 * reported as blocked, and the project's own pages for every trap: ad
 * rows, Proposed Sale (Form 144) rows, year-less dates across a year
 * boundary, a trade date that needs the capture time, unclosed links.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../scraper/parse.h"
#include "support/testutil.h"
#include "support/tradecheck.h"
#include "timeutil.h"

#define D ROLE_DIRECTOR
#define O ROLE_OFFICER
#define T ROLE_TEN_PERCENT_OWNER

struct parsed {
	struct trade_list l;
	struct parse_result res;
	char err[512];
	int rc;
};

static void s_parse_file(const char *dir, const char *name, const struct parse_ctx *ctx,
                         struct parsed *p)
{
	char path[1024];
	size_t len;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf = test_read_file(path, &len);
	if (buf == NULL)
		print_error("cannot read %s\n", path);
	assert_non_null(buf);
	trade_list_init(&p->l);
	p->err[0] = '\0';
	p->rc = finviz_parse(buf, len, ctx, &p->l, &p->res, p->err, sizeof(p->err));
	if (p->rc == 0)
		check_trades_sane(p->l.items, p->l.n, name);
	else
		assert_int_equal(p->l.n, 0);
	free(buf);
}

static size_t s_note(const struct parse_result *res, bool skipped, const char *reason)
{
	for (size_t i = 0; i < res->n_notes; i++)
		if (res->notes[i].skipped == skipped && strcmp(res->notes[i].reason, reason) == 0)
			return res->notes[i].count;
	return 0;
}

#define SEC "http://www.sec.gov/Archives/edgar/data/"

static void test_shared_2026_fragment_rows_field_by_field(void **state)
{
	const struct want_trade want[] = {
		{ "fv:0001510281-26-000229:0001510281:2026-06-30:P:100:11.37",
		  "0001510281-26-000229",
		  SEC "858706/000151028126000229/xslF345X06/primary_doc.xml",
		  "2026-07-03T01:13:00Z", /* Jul 02 09:13 PM EDT, year from the accession */
		  "2026-06-30",
		  "GF",
		  "New Germany Fund Inc",
		  NULL,
		  "Saba Capital Management, L.P.",
		  "0001510281",
		  "10% Owner",
		  T,
		  "P",
		  100,
		  11.37,
		  1137,
		  3602815,
		  REC_TRI_NULL,
		  false,
		  false },
		{ "fv:0000902664-26-002999:0001273782:2026-06-30:P:35000:1.51",
		  "0000902664-26-002999",
		  SEC "1273782/000090266426002999/xslF345X06/ownership.xml",
		  "2026-07-03T00:00:00Z",
		  "2026-06-30",
		  "SNES",
		  "SenesTech Inc",
		  NULL,
		  "GLENBROOK CAPITAL MANAGEMENT",
		  "0001273782",
		  "10% Owner",
		  T,
		  "P",
		  35000,
		  1.51,
		  52731 /* the page's Value, not 35,000 x 1.51 */,
		  1022824,
		  REC_TRI_NULL,
		  false,
		  false },
		{ "fv:0001178579-26-000009:0001178579:2026-06-30:P:26030:2.54",
		  "0001178579-26-000009",
		  SEC "1178579/000117857926000009/xslF345X06/form4-07022026_110743.xml",
		  "2026-07-02T23:45:00Z",
		  "2026-06-30",
		  "BOLD",
		  "Boundless Bio Inc",
		  NULL,
		  "TANG KEVIN",
		  "0001178579",
		  "10% Owner",
		  T,
		  "P",
		  26030,
		  2.54,
		  66112,
		  2559875,
		  REC_TRI_NULL,
		  false,
		  false },
	};
	const char *shared = test_shared_fixtures();
	char dir[512];
	struct parsed p;

	(void)state;
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/finviz", shared);
	s_parse_file(dir, "insidertrading_tc1_feed_fragment_2026.html", NULL, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res.rows, 4);
	assert_int_equal(p.l.n, 3);
	assert_int_equal(s_note(&p.res, false, "ad row"), 1);
	for (size_t i = 0; i < 3; i++)
		check_trade(&p.l.items[i], "finviz", &want[i], "2026 fragment");
	trade_list_free(&p.l);
}

static void test_shared_2023_quote_page_91_rows_with_years_from_the_filings(void **state)
{
	const struct want_trade want[] = {
		{ "fv:0001104659-23-065485:0001043298:2023-05-25:P:1:114.77",
		  "0001104659-23-065485",
		  SEC "1018724/000110465923065485/xslF345X04/tm2317086-1_4seq1.xml",
		  "2023-05-26T20:20:00Z",
		  "2023-05-25",
		  "AMZN",
		  "Amazon.com, Inc.",
		  NULL,
		  "BEZOS JEFFREY P",
		  "0001043298",
		  "Executive Chair",
		  D,
		  "P",
		  1,
		  114.77,
		  115,
		  990545661,
		  REC_TRI_NULL,
		  false,
		  false },
		{ "fv:0001104659-23-063751:0001936006:2023-05-21:M:23680:0",
		  "0001104659-23-063751",
		  SEC "1018724/000110465923063751/xslF345X04/tm2316497-2_4seq1.xml",
		  "2023-05-23T23:46:00Z",
		  "2023-05-21",
		  "AMZN",
		  "Amazon.com, Inc.",
		  NULL,
		  "Herrington Douglas J",
		  "0001936006",
		  "CEO Worldwide Amazon Stores",
		  O,
		  "M",
		  23680,
		  0,
		  0,
		  581773,
		  REC_TRI_NULL,
		  false,
		  false },
		/* "Oct 07" with an accession of 2022: the page spans two years */
		{ "fv:0000899243-22-033396:0001018724:2022-10-07:S:250000:23.61",
		  "0000899243-22-033396",
		  SEC "894081/000089924322033396/xslF345X03/doc4.xml",
		  "2022-10-11T20:11:00Z",
		  "2022-10-07",
		  "AMZN",
		  "Amazon.com, Inc.",
		  NULL,
		  "AMAZON COM INC",
		  "0001018724",
		  "10% Owner",
		  T,
		  "S",
		  250000,
		  23.61,
		  5902500,
		  14178445,
		  REC_TRI_NULL,
		  false,
		  false },
		/* the last row */
		{ "fv:0001127602-22-021216:0001684974:2022-08-15:S:12320:142.38",
		  "0001127602-22-021216",
		  SEC "1018724/000112760222021216/xslF345X03/form4.xml",
		  "2022-08-17T20:46:00Z",
		  "2022-08-15",
		  "AMZN",
		  "Amazon.com, Inc.",
		  NULL,
		  "Selipsky Adam",
		  "0001684974",
		  "CEO Amazon Web Services",
		  O,
		  "S",
		  12320,
		  142.38,
		  1754104,
		  117720,
		  REC_TRI_NULL,
		  false,
		  false },
	};
	const char *shared = test_shared_fixtures();
	char dir[512];
	struct parsed p;
	size_t codes[3] = { 0 };
	struct parse_ctx ctx;

	(void)state;
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/finviz", shared);
	/* A capture time years later must not move the dates: the accession
	 * numbers date the filings. */
	parse_ctx_init(&ctx);
	assert_int_equal(time_parse_rfc3339("2026-01-15T12:00:00Z", &ctx.now), 0);
	s_parse_file(dir, "quote_AMZN_2023-05.html", &ctx, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res.rows, 91);
	assert_int_equal(p.l.n, 91);
	for (size_t i = 0; i < p.l.n; i++) {
		const trade_t *t = &p.l.items[i].u.trade;
		codes[t->code[0] == 'P' ? 0 : t->code[0] == 'S' ? 1 : 2]++;
		assert_true(strcmp(t->trade_date, "2022-08-01") > 0);
		assert_true(strcmp(t->trade_date, "2023-05-26") < 0);
	}
	assert_int_equal(codes[0], 1);
	assert_int_equal(codes[1], 58);
	assert_int_equal(codes[2], 32);
	check_trade(&p.l.items[0], "finviz", &want[0], "AMZN row 1");
	for (size_t i = 1; i < 3; i++)
		check_trade(find_trade(p.l.items, p.l.n, want[i].key), "finviz", &want[i],
		            want[i].key);
	check_trade(&p.l.items[90], "finviz", &want[3], "AMZN row 91");
	trade_list_free(&p.l);
}

static void test_cloudflare_challenge_is_blocked_not_empty(void **state)
{
	const char *shared = test_shared_fixtures();
	char dir[512];
	struct parsed p;

	(void)state;
	s_parse_file(test_fixtures(), "finviz/cloudflare.html", NULL, &p);
	assert_int_equal(p.rc, -1);
	assert_int_equal(p.res.status, PARSE_BLOCKED);
	assert_non_null(strstr(p.err, "finviz: blocked: Cloudflare"));
	assert_non_null(strstr(p.err, "Just a moment..."));
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/finviz", shared);
	s_parse_file(dir, "blocked_cloudflare_challenge.html", NULL, &p);
	assert_int_equal(p.rc, -1);
	assert_int_equal(p.res.status, PARSE_BLOCKED);
	assert_non_null(strstr(p.err, "blocked"));
}

static void test_own_2026_page_drops_form144_and_ads_and_crosses_the_year(void **state)
{
	const struct want_trade want[] = {
		/* trade Dec 30 '25, filed "Jan 02" with a 2026 accession */
		{ "fv:0001510281-26-000001:0001510281:2025-12-30:P:100:11.37",
		  "0001510281-26-000001",
		  SEC "858706/000151028126000001/xslF345X06/primary_doc.xml",
		  "2026-01-03T02:13:00Z",
		  "2025-12-30",
		  "GF",
		  "New Germany Fund Inc",
		  NULL,
		  "Saba Capital Management, L.P.",
		  "0001510281",
		  "10% Owner",
		  T,
		  "P",
		  100,
		  11.37,
		  1137,
		  3602815,
		  REC_TRI_NULL,
		  false,
		  false },
		{ "fv:0000902664-26-002999:0001273782:2026-06-30:S:35000:1.51",
		  "0000902664-26-002999",
		  SEC "1273782/000090266426002999/xslF345X06/primary_doc.xml",
		  "2026-07-02T12:00:00Z",
		  "2026-06-30",
		  "SNES",
		  "SenesTech & Co",
		  NULL,
		  "DOE JANE",
		  "0001273782",
		  "President and CEO",
		  O,
		  "S",
		  35000,
		  1.51,
		  52731,
		  1022824,
		  REC_TRI_NULL,
		  false,
		  false },
		/* 12:05 AM is just after midnight */
		{ "fv:0002000001-26-000004:0002000001:2026-06-29:M:1500:0",
		  "0002000001-26-000004",
		  SEC "2000001/000200000126000004/xslF345X06/primary_doc.xml",
		  "2026-07-01T04:05:00Z",
		  "2026-06-29",
		  "OPTX",
		  "Optix Corp",
		  NULL,
		  "ROE RICHARD",
		  "0002000001",
		  "Director, Chief Technology Officer",
		  D | O,
		  "M",
		  1500,
		  0,
		  0,
		  9000,
		  REC_TRI_NULL,
		  false,
		  false },
	};
	struct parsed p;

	(void)state;
	s_parse_file(test_fixtures(), "finviz/insider2026.html", NULL, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res.rows, 6);
	assert_int_equal(p.l.n, 3);
	for (size_t i = 0; i < 3; i++)
		check_trade(&p.l.items[i], "finviz", &want[i], "insider2026");
	assert_int_equal(s_note(&p.res, false, "Proposed Sale (Form 144)"), 1);
	assert_int_equal(s_note(&p.res, false, "ad row"), 1);
	assert_int_equal(s_note(&p.res, true, "unknown Transaction 'Gift'"), 1);
	trade_list_free(&p.l);
}

static void test_own_2023_quote_page_and_the_capture_time(void **state)
{
	const struct want_trade want[] = {
		/* "Dec 28", filed "Jan 03" with a 2024 accession: 2023-12-28 */
		{ "fv:0001104659-24-000101:0000007001:2023-12-28:S:500:115.68",
		  "0001104659-24-000101",
		  SEC "7777/000110465924000101/xslF345X04/form4.xml",
		  "2024-01-03T21:20:00Z",
		  "2023-12-28",
		  "ABCD",
		  "Abcd Corp",
		  NULL,
		  "Seller Sam",
		  "0000007001",
		  "Chief Financial Officer",
		  O,
		  "S",
		  500,
		  115.68,
		  57842,
		  153280,
		  REC_TRI_NULL,
		  false,
		  false },
		/* the filing cell's <a> is never closed */
		{ "fv:0001104659-24-065485:0000007002:2024-05-25:P:1:114.77",
		  "0001104659-24-065485",
		  SEC "7777/000110465924065485/xslF345X04/form4.xml",
		  "2024-05-26T20:20:00Z",
		  "2024-05-25",
		  "ABCD",
		  "Abcd Corp",
		  NULL,
		  "Buyer Bea",
		  "0000007002",
		  "Director",
		  D,
		  "P",
		  1,
		  114.77,
		  115,
		  990545661,
		  REC_TRI_NULL,
		  false,
		  false },
		/* no readable filing time: "Feb 29" resolved against the capture time */
		{ "fv:0001104659-24-000202:0000007003:2024-02-29:M:2000:0",
		  "0001104659-24-000202",
		  SEC "7777/000110465924000202/xslF345X04/form4.xml",
		  NULL,
		  "2024-02-29",
		  "ABCD",
		  "Abcd Corp",
		  NULL,
		  "Exerciser Eve",
		  "0000007003",
		  "Vice President",
		  O,
		  "M",
		  2000,
		  0,
		  0,
		  12000,
		  REC_TRI_NULL,
		  false,
		  false },
	};
	struct parse_ctx ctx;
	struct parsed p;

	(void)state;
	parse_ctx_init(&ctx);
	assert_int_equal(time_parse_rfc3339("2024-03-05T12:00:00Z", &ctx.now), 0);
	s_parse_file(test_fixtures(), "finviz/quote2023.html", &ctx, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 3);
	for (size_t i = 0; i < 3; i++)
		check_trade(&p.l.items[i], "finviz", &want[i], "quote2023");
	trade_list_free(&p.l);

	/* Without a capture time that row cannot be dated: it alone is lost. */
	s_parse_file(test_fixtures(), "finviz/quote2023.html", NULL, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 2);
	assert_int_equal(s_note(&p.res, true, "year-less Date and no capture time"), 1);
	trade_list_free(&p.l);
}

/* A quote page that names its ticker nowhere: the caller's (from the URL). */
static void test_quote_page_ticker_from_the_caller(void **state)
{
	const char *page =
	    "<html><body><table class=\"insider-trading-table\"><tr>"
	    "<td class=\"table-top\">Insider Trading</td><td class=\"table-top\">Date"
	    "</td><td class=\"table-top\">Transaction</td><td class=\"table-top\">"
	    "Cost</td><td class=\"table-top\">#Shares</td><td class=\"table-top\">"
	    "SEC Form 4</td></tr><tr class=\"insider-row is-buy-1\"><td><a href=\""
	    "insidertrading.ashx?tc=7&oc=55\">Who Ever</a></td><td>Mar 01 '24</td>"
	    "<td>Buy</td><td>2.50</td><td>4</td><td><a href=\"http://www.sec.gov/"
	    "Archives/edgar/data/55/000000005524000001/x.xml\">Mar 04 10:00 AM</a>"
	    "</td></tr></table></body></html>";
	struct trade_list l;
	struct parse_result res;
	struct parse_ctx ctx;
	char err[256];

	(void)state;
	trade_list_init(&l);
	parse_ctx_init(&ctx);
	ctx.ticker = "zz";
	assert_int_equal(finviz_parse(page, strlen(page), &ctx, &l, &res, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].u.trade.ticker, "ZZ");
	assert_string_equal(l.items[0].u.trade.issuer, "ZZ"); /* no company anywhere */
	assert_string_equal(l.items[0].u.trade.owner_cik, "0000000055");
	assert_true(num_eq(l.items[0].u.trade.value, 10)); /* no Value column: 4 x 2.50 */
	assert_true(isnan(l.items[0].u.trade.shares_after));
	trade_list_free(&l);
	assert_int_equal(finviz_parse(page, strlen(page), NULL, &l, &res, err, sizeof(err)), -1);
	assert_int_equal(res.status, PARSE_ROWS_BAD);
	assert_non_null(strstr(err, "no ticker"));
}

/* Cloudflare injects its detection script into real pages too. */
static void test_real_page_with_cloudflare_scripts_is_read(void **state)
{
	char path[512];
	size_t len;
	char *page, *buf;
	const char *inject = "<script src=\"/cdn-cgi/challenge-platform/scripts/jsd/main.js\">"
	                     "</script>";
	struct trade_list l;
	struct parse_result res;
	char err[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/finviz/insider2026.html", test_fixtures());
	page = test_read_file(path, &len);
	assert_non_null(page);
	buf = malloc(len + strlen(inject) + 1);
	assert_non_null(buf);
	memcpy(buf, inject, strlen(inject));
	memcpy(buf + strlen(inject), page, len + 1);
	len += strlen(inject);
	assert_int_equal(doc_sniff(buf, len), DOC_FINVIZ);
	trade_list_init(&l);
	assert_int_equal(finviz_parse(buf, len, NULL, &l, &res, err, sizeof(err)), 0);
	assert_int_equal(l.n, 3);
	trade_list_free(&l);
	free(buf);
	free(page);
}

static void test_pages_without_insider_rows_are_blocked(void **state)
{
	static const struct {
		const char *name, *msg;
	} cases[] = {
		{ "finviz/no_rows.html", "finviz: blocked: the insider table has no insider rows" },
		{ "finviz/no_table.html",
		  "finviz: blocked: no insider table and no insider row in page 'Finviz - Stock "
		  "Screener'" },
		{ "openinsider/listing17.html", "finviz: blocked: no insider table" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed p;
		s_parse_file(test_fixtures(), cases[i].name, NULL, &p);
		assert_int_equal(p.rc, -1);
		assert_int_equal(p.res.status, PARSE_BLOCKED);
		if (strstr(p.err, cases[i].msg) == NULL)
			print_error("%s: '%s' lacks '%s'\n", cases[i].name, p.err, cases[i].msg);
		assert_non_null(strstr(p.err, cases[i].msg));
	}
}

static void test_changed_header_is_a_shape_error(void **state)
{
	const char *page = "<html><body><table id=\"insider-table\"><thead><tr><th>Ticker</th>"
	                   "<th>Owner</th><th>When</th><th>Transaction</th><th>Cost</th>"
	                   "<th>#Shares</th><th>SEC Form 4</th></tr></thead>"
	                   "<tr class=\"fv-insider-row is-buy-1\"><td>A</td><td>B</td><td>C</td>"
	                   "<td>Buy</td><td>1</td><td>1</td><td>x</td></tr></table></body></html>";
	struct trade_list l;
	struct parse_result res;
	char err[256];

	(void)state;
	trade_list_init(&l);
	assert_int_equal(finviz_parse(page, strlen(page), NULL, &l, &res, err, sizeof(err)), -1);
	assert_int_equal(res.status, PARSE_SHAPE);
	assert_string_equal(err, "finviz: the insider table has no 'Date' column (0 rows read)");
	assert_int_equal(l.n, 0);
}

static void test_every_row_bad_is_an_error_not_zero_trades(void **state)
{
	const char *page = "<html><body><table id=\"insider-table\"><thead><tr><th>Ticker</th>"
	                   "<th>Owner</th><th>Date</th><th>Transaction</th><th>Cost</th>"
	                   "<th>#Shares</th><th>SEC Form 4</th></tr></thead>"
	                   "<tr class=\"fv-insider-row is-buy-1\"><td>ABC</td>"
	                   "<td><a href=\"insidertrading?oc=1\">A</a></td><td>Jun 31 '26</td>"
	                   "<td>Buy</td><td>1</td><td>1</td><td>Jul 01 10:00 AM</td></tr>"
	                   "</table></body></html>";
	struct trade_list l;
	struct parse_result res;
	char err[256];

	(void)state;
	trade_list_init(&l);
	assert_int_equal(finviz_parse(page, strlen(page), NULL, &l, &res, err, sizeof(err)), -1);
	assert_int_equal(res.status, PARSE_ROWS_BAD);
	assert_non_null(strstr(err, "finviz: every row was bad"));
	assert_non_null(strstr(err, "no filing link in SEC Form 4"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_2026_fragment_rows_field_by_field),
		cmocka_unit_test(test_shared_2023_quote_page_91_rows_with_years_from_the_filings),
		cmocka_unit_test(test_cloudflare_challenge_is_blocked_not_empty),
		cmocka_unit_test(test_own_2026_page_drops_form144_and_ads_and_crosses_the_year),
		cmocka_unit_test(test_own_2023_quote_page_and_the_capture_time),
		cmocka_unit_test(test_quote_page_ticker_from_the_caller),
		cmocka_unit_test(test_real_page_with_cloudflare_scripts_is_read),
		cmocka_unit_test(test_pages_without_insider_rows_are_blocked),
		cmocka_unit_test(test_changed_header_is_a_shape_error),
		cmocka_unit_test(test_every_row_bad_is_an_error_not_zero_trades),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
