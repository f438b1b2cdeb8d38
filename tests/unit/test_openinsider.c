/*
 * test_openinsider.c - OpenInsider pages: the shared captures (17-column
 * listings, the 16-column ticker page, the cluster layout) checked by row
 * count and field by field, and the project's own pages for every trap:
 * signed Qty, -$0, New and >999% ΔOwn, amendments, a missing filing link,
 * repeated rows, bad UTF-8, a changed header, an empty table, no table.
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
#include <time.h>

#include "../../scraper/parse.h"
#include "support/testutil.h"
#include "support/tradecheck.h"

#define D ROLE_DIRECTOR
#define O ROLE_OFFICER
#define T ROLE_TEN_PERCENT_OWNER
#define X ROLE_OTHER

struct parsed {
	struct trade_list l;
	struct parse_result res;
	char err[512];
	int rc;
};

static void s_parse_buf(const char *buf, size_t len, struct parsed *p)
{
	trade_list_init(&p->l);
	p->err[0] = '\0';
	p->rc = openinsider_parse(buf, len, NULL, &p->l, &p->res, p->err, sizeof(p->err));
	if (p->rc == 0)
		check_trades_sane(p->l.items, p->l.n, "openinsider");
	else
		assert_int_equal(p->l.n, 0);
}

static void s_parse_file(const char *dir, const char *name, struct parsed *p)
{
	char path[1024];
	size_t len;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf = test_read_file(path, &len);
	if (buf == NULL)
		print_error("cannot read %s\n", path);
	assert_non_null(buf);
	s_parse_buf(buf, len, p);
	free(buf);
}

static size_t s_note(const struct parse_result *res, bool skipped, const char *reason)
{
	for (size_t i = 0; i < res->n_notes; i++)
		if (res->notes[i].skipped == skipped && strcmp(res->notes[i].reason, reason) == 0)
			return res->notes[i].count;
	return 0;
}

static size_t s_count_code(const struct trade_list *l, char code)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->items[i].u.trade.code[0] == code;
	return n;
}

#define SEC "http://www.sec.gov/Archives/edgar/data/"

/* Rows read by hand from the shared pages. */
static const struct want_trade s_strs = {
	"oi:0000902664-26-002148:0001317904:2026-04-22:S:10493:29.9",
	"0000902664-26-002148",
	SEC "885508/000090266426002148/xslF345X03/ownership.xml",
	"2026-04-25T01:35:59Z", /* 21:35:59 EDT */
	"2026-04-22",
	"STRS",
	"Stratus Properties Inc",
	"0000885508", /* the link's archive folder */
	"Oasis Management Co Ltd.",
	"0001317904",
	"10%",
	T,
	"S",
	10493,
	29.90,
	313792, /* the page's Value: 10,493 x $29.90 would be 313,740.70 */
	1016765,
	0, /* "1,016,765 indirect shares" */
	false,
	false,
};
static const struct want_trade s_wulf = {
	"oi:0001083301-26-000071:0001877476:2026-04-24:S:452152:0",
	"0001083301-26-000071",
	SEC "1083301/000108330126000071/xslF345X03/wk-form4_1777080871.xml",
	"2026-04-25T01:34:34Z",
	"2026-04-24",
	"WULF",
	"Terawulf Inc.",
	"0001083301",
	"Khan Nazar M.",
	"0001877476",
	"CTO",
	O,
	"S", /* "S - Sale+OE" */
	452152,
	0,
	0, /* "-$0" */
	26765894,
	1,
	false,
	false,
};
static const struct want_trade s_nmm = {
	"oi:0001193125-26-178241:0001310495:2026-04-22:P:3597:70.06",
	"0001193125-26-178241",
	SEC "1415921/000119312526178241/xslF345X03/ownership.xml",
	"2026-04-25T01:10:03Z",
	"2026-04-22",
	"NMM",
	"Navios Maritime Partners L.P.",
	"0001415921",
	"Frangou Angeliki",
	"0001310495",
	"See Remarks, 10%",
	T | X,
	"P",
	3597,
	70.06,
	251999,
	5695737,
	0,
	false,
	false,
};
static const struct want_trade s_beat = {
	"oi:0001213900-26-047514:0001034413:2026-04-16:P:57500:0.8",
	"0001213900-26-047514",
	SEC "1779372/000121390026047514/xslF345X03/ownership.xml",
	"2026-04-24T20:05:03Z",
	"2026-04-16",
	"BEAT",
	"Heartbeam, Inc.",
	"0001779372",
	"Ferrari Richard",
	"0001034413",
	"Dir",
	D,
	"P",
	57500,
	0.80,
	46000,
	286636,
	1,
	false,
	true, /* X = "A" */
};
static const struct want_trade s_nvda = {
	"oi:0001199039-26-000003:0001199039:2026-03-20:S:221682:173.68",
	"0001199039-26-000003",
	SEC "1045810/000119903926000003/xslF345X03/wk-form4_1774386816.xml",
	"2026-03-24T21:13:39Z", /* EDT since March 8 */
	"2026-03-20",
	"NVDA",
	"Nvidia Corp", /* no Company Name column: from the <h1> */
	"0001045810",
	"Stevens Mark A",
	"0001199039",
	"Dir",
	D,
	"S",
	221682,
	173.68,
	38502524,
	33960922,
	0,
	false,
	false,
};
static const struct want_trade s_klra = {
	"oi:0001193125-26-164388:0001752059:2026-04-20:P:8398438:16",
	"0001193125-26-164388",
	SEC "2096997/000119312526164388/xslF345X03/ownership.xml",
	"2026-04-20T22:00:25Z",
	"2026-04-20",
	"KLRA",
	"Kailera Therapeutics, Inc.",
	"0002096997",
	"Kaplan Andrew T.",
	"0001752059",
	"Dir, 10%",
	D | T,
	"P",
	8398438,
	16,
	134375008,
	26255581,
	0,
	false,
	false,
};

static void test_shared_pages_row_counts_and_rows_field_by_field(void **state)
{
	static const struct {
		const char *name;
		size_t trades, purchases;
		const struct want_trade *row[4];
	} pages[] = {
		{ "latest.html", 100, 26, { &s_strs, &s_wulf, &s_nmm, &s_beat } },
		{ "officer_buys.html", 100, 100, { &s_nmm } },
		{ "top_buys_week.html", 100, 100, { &s_klra } },
		{ "ticker_NVDA.html", 100, 0, { &s_nvda } },
	};
	const char *shared = test_shared_fixtures();
	char dir[512], where[256];

	(void)state;
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/openinsider", shared);
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		struct parsed p;

		s_parse_file(dir, pages[i].name, &p);
		if (p.rc != 0)
			print_error("%s: %s\n", pages[i].name, p.err);
		assert_int_equal(p.rc, 0);
		assert_int_equal(p.res.rows, pages[i].trades);
		assert_int_equal(p.l.n, pages[i].trades);
		assert_int_equal(p.res.skipped, 0);
		assert_int_equal(s_count_code(&p.l, 'P'), pages[i].purchases);
		assert_int_equal(s_count_code(&p.l, 'S'), pages[i].trades - pages[i].purchases);
		for (size_t k = 0; k < 4 && pages[i].row[k] != NULL; k++) {
			snprintf(where, sizeof(where), "%s %s", pages[i].name,
			         pages[i].row[k]->key);
			check_trade(find_trade(p.l.items, p.l.n, pages[i].row[k]->key),
			            "openinsider", pages[i].row[k], where);
		}
		trade_list_free(&p.l);
	}
}

static void test_shared_cluster_page_is_refused_as_unsupported(void **state)
{
	const char *shared = test_shared_fixtures();
	char dir[512];
	struct parsed p;

	(void)state;
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/openinsider", shared);
	s_parse_file(dir, "cluster_buys.html", &p);
	assert_int_equal(p.rc, -1);
	assert_int_equal(p.res.status, PARSE_UNSUPPORTED);
	assert_non_null(strstr(p.err, "openinsider: cluster-buys layout"));
	assert_non_null(strstr(p.err, "its 100 rows"));
}

static void test_own_listing_with_every_cell_trap(void **state)
{
	const struct want_trade acme = {
		"oi:0001111111-24-000010:0000777002:2024-03-06:P:3597:70.06",
		"0001111111-24-000010",
		SEC "1111/000111111124000010/xslF345X05/form4.xml",
		"2024-03-08T21:05:01Z", /* EST: DST starts March 10 */
		"2024-03-06",
		"ACMW",
		"Acme Widgets & Gadgets",
		"0000001111",
		"Roe Jane Q.",
		"0000777002",
		"CEO, Pres",
		O,
		"P",
		3597,
		70.06,
		251999,
		5000,
		1,
		false,
		true, /* X = "A"; ΔOwn "New" is not read */
	};
	struct want_trade acme2 = acme;
	const struct want_trade beta = {
		"oi:0002222222-24-000020:0000000888:2024-11-01:S:10493:0",
		"0002222222-24-000020",
		SEC "2222/000222222224000020/xslF345X05/form4.xml",
		"2024-11-04T14:15:00Z", /* EST again since November 3 */
		"2024-11-01",
		"BETA",
		"Beta Inc",
		"0000002222",
		"Beta Fund LP",
		"0000000888",
		"Dir, 10%",
		D | T,
		"S",
		10493,
		0,
		0, /* "-$0"; ΔOwn ">999%" */
		12345678,
		0,
		false,
		false, /* X = "DM" */
	};
	const struct want_trade gama = {
		"oi:0003333333-24-000030:0000999003:2024-03-08:F:1000:12.5",
		"0003333333-24-000030",
		SEC "3333/000333333324000030/xslF345X05/form4.xml",
		"2024-03-11T03:59:59Z", /* 23:59:59 EDT on the day DST began */
		"2024-03-08",
		"GAMA",
		"Gamma Co",
		"0000003333",
		"Gee Gina",
		"0000999003",
		"See Remarks",
		X,
		"F",
		1000,
		12.5,
		12500,
		0,
		REC_TRI_NULL, /* the link's title says neither direct nor indirect */
		false,
		false,
	};
	char path[512];
	struct parsed p;
	const trade_t *dl;

	(void)state;
	snprintf(path, sizeof(path), "%s/openinsider", test_fixtures());
	s_parse_file(path, "listing17.html", &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.res.rows, 7);
	assert_int_equal(p.l.n, 5);
	check_trade(&p.l.items[0], "openinsider", &acme, "listing17 row 1");
	check_trade(&p.l.items[1], "openinsider", &beta, "listing17 row 2");
	check_trade(&p.l.items[2], "openinsider", &gama, "listing17 row 3");
	/* row 6 repeats row 1: its key gets "~2" */
	acme2.key = "oi:0001111111-24-000010:0000777002:2024-03-06:P:3597:70.06~2";
	check_trade(&p.l.items[3], "openinsider", &acme2, "listing17 row 6");
	/* row 7: invalid UTF-8 comes out valid, the rest of the text kept */
	dl = &p.l.items[4].u.trade;
	assert_string_equal(dl->ticker, "DLTA");
	assert_true(utf8_valid(dl->issuer) && utf8_valid(dl->owner));
	assert_true(strncmp(dl->issuer, "Delta ", 6) == 0);
	assert_non_null(strstr(dl->issuer, " Corp"));
	assert_true(strncmp(dl->owner, "Bad ", 4) == 0);
	/* rows 4 and 5 cost only themselves */
	assert_int_equal(p.res.skipped, 2);
	assert_int_equal(s_note(&p.res, true, "bad Qty 'lots'"), 1);
	assert_int_equal(s_note(&p.res, true, "no filing link in Filing Date"), 1);
	trade_list_free(&p.l);
}

static void test_own_ticker_page_takes_the_company_from_the_heading(void **state)
{
	const struct want_trade kay = {
		"oi:0005555555-25-000001:0000555101:2024-12-31:S:50:10",
		"0005555555-25-000001",
		SEC "5555/000555555525000001/xslF345X05/form4.xml",
		"2025-01-02T23:00:00Z",
		"2024-12-31",
		"ABCD",
		"Abcd Holdings Inc",
		"0000005555",
		"Kay Kim",
		"0000555101",
		"CFO",
		O,
		"S",
		50,
		10,
		500,
		100,
		1,
		false,
		false,
	};
	const struct want_trade lee = {
		"oi:0005555555-25-000002:0000555102:2024-12-30:P:1001:9.99",
		"0005555555-25-000002",
		SEC "5555/000555555525000002/xslF345X05/form4.xml",
		"2025-01-03T12:00:00Z",
		"2024-12-30",
		"ABCD",
		"Abcd Holdings Inc",
		"0000005555",
		"Lee Lou",
		"0000555102",
		"Dir",
		D,
		"P",
		1001,
		9.99,
		10000,
		2002,
		REC_TRI_NULL,
		false,
		false,
	};
	char path[512];
	struct parsed p;

	(void)state;
	snprintf(path, sizeof(path), "%s/openinsider", test_fixtures());
	s_parse_file(path, "ticker16.html", &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.l.n, 2);
	check_trade(&p.l.items[0], "openinsider", &kay, "ticker16 row 1");
	check_trade(&p.l.items[1], "openinsider", &lee, "ticker16 row 2");
	trade_list_free(&p.l);
}

static void test_pages_that_give_no_trades_say_which_and_why(void **state)
{
	static const struct {
		const char *name;
		enum parse_status status;
		const char *msg;
	} cases[] = {
		{ "openinsider/cluster.html", PARSE_UNSUPPORTED,
		  "openinsider: cluster-buys layout (Industry and Ins columns, no Insider Name)" },
		{ "openinsider/empty_table.html", PARSE_EMPTY,
		  "openinsider: table.tinytable has no rows (0 rows read)" },
		{ "openinsider/no_table.html", PARSE_SHAPE,
		  "openinsider: no table.tinytable in page 'OpenInsider - maintenance' (0 rows "
		  "read)" },
		{ "openinsider/no_trade_type.html", PARSE_SHAPE,
		  "openinsider: table.tinytable has no 'Trade Type' column (0 rows read)" },
		{ "finviz/cloudflare.html", PARSE_BLOCKED, "openinsider: blocked" },
		{ "form4/traps_multi_owner_4A.xml", PARSE_SHAPE, "no table.tinytable" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed p;
		s_parse_file(test_fixtures(), cases[i].name, &p);
		assert_int_equal(p.rc, -1);
		if (strstr(p.err, cases[i].msg) == NULL)
			print_error("%s: '%s' lacks '%s'\n", cases[i].name, p.err, cases[i].msg);
		assert_int_equal(p.res.status, cases[i].status);
		assert_non_null(strstr(p.err, cases[i].msg));
	}
}

/* A page of n copies of one row, each with its own accession. */
static char *s_many_rows(size_t n, size_t *len)
{
	const char *head = "<html><body><table class=\"tinytable\"><thead><tr><th>X</th>"
	                   "<th>Filing&nbsp;Date</th><th>Trade&nbsp;Date</th><th>Ticker</th>"
	                   "<th>Insider&nbsp;Name</th><th>Trade&nbsp;Type</th><th>Price</th>"
	                   "<th>Qty</th></tr></thead><tbody>\n";
	size_t cap = strlen(head) + n * 400 + 64, off;
	char *buf = malloc(cap);

	assert_non_null(buf);
	off = (size_t)snprintf(buf, cap, "%s", head);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(
		    buf + off, cap - off,
		    "<tr><td></td><td><a href=\"http://www.sec.gov/Archives/edgar/data/1/"
		    "%010zu24%06zu/x.xml\">2024-01-02 10:00:00</a></td><td>2024-01-02</td>"
		    "<td><a href=\"/AB\">AB</a></td><td><a href=\"/insider/A-B/42\">A B</a></td>"
		    "<td>P - Purchase</td><td>$1.00</td><td>+1</td></tr>\n",
		    i, i);
	off += (size_t)snprintf(buf + off, cap - off, "</tbody></table></body></html>");
	*len = off;
	return buf;
}

static void test_rows_beyond_the_cap_are_counted_not_read(void **state)
{
	size_t len;
	char *buf = s_many_rows(PARSE_MAX_ROWS + 5, &len);
	struct trade_list l;
	struct parse_result res;
	char err[256];

	(void)state;
	trade_list_init(&l);
	assert_int_equal(openinsider_parse(buf, len, NULL, &l, &res, err, sizeof(err)), 0);
	assert_int_equal(l.n, PARSE_MAX_ROWS);
	assert_int_equal(res.skipped, 5);
	trade_list_free(&l);
	free(buf);
}

static void test_deeply_nested_page_ends_quickly(void **state)
{
	size_t depth = 200000, len = 0;
	char *buf = malloc(depth * 5 + 512);
	struct parsed p;
	struct timespec t0, t1;

	(void)state;
	assert_non_null(buf);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	len += (size_t)sprintf(buf, "<html><body>");
	for (size_t i = 0; i < depth; i++)
		len += (size_t)sprintf(buf + len, "<div>");
	len += (size_t)sprintf(buf + len, "<table class=\"tinytable\"><tr><th>X</th></tr></table>");
	s_parse_buf(buf, len, &p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(p.rc, -1);
	assert_true((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < 5.0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_pages_row_counts_and_rows_field_by_field),
		cmocka_unit_test(test_shared_cluster_page_is_refused_as_unsupported),
		cmocka_unit_test(test_own_listing_with_every_cell_trap),
		cmocka_unit_test(test_own_ticker_page_takes_the_company_from_the_heading),
		cmocka_unit_test(test_pages_that_give_no_trades_say_which_and_why),
		cmocka_unit_test(test_rows_beyond_the_cap_are_counted_not_read),
		cmocka_unit_test(test_deeply_nested_page_ends_quickly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
