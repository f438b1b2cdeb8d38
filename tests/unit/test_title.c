/*
 * test_title.c - executive titles and owner-name keys.
 *
 * The titles are real: every distinct one on the OpenInsider pages and in
 * the Form 4 XML of ../shared/fixtures, plus the examples.  A
 * fixture test checks that the table covers every title on those pages, so
 * a new fixture with a new title fails until someone decides its answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "support/testutil.h"
#include "../../decider/title.h"

static const struct {
	const char *title;
	bool executive;
} s_titles[] = {
	/* OpenInsider pages (latest, officer_buys, top_buys_week, ticker_NVDA) */
	{ "Dir", false },
	{ "Pres, CEO", true },
	{ "CEO", true },
	{ "10%", false },
	{ "CFO", true },
	{ "See Remarks", false },
	{ "EVP, CFO", true },
	{ "See Remarks, 10%", false },
	{ "Dir, 10%", false },
	{ "CEO, 10%", true },
	{ "Principal Accounting Officer", true },
	{ "EVP, Worldwide Field Ops", false },
	{ "Pres, 10%", false },
	{ "CTO", true },
	{ "Portfolio Manager", false },
	{ "Chief Accounting Officer", true },
	{ "CEO, Pres", true },
	{ "Chief Medical Officer", true },
	{ "COO", true },
	{ "EVP", false },
	{ "Pres, CEO, 10%", true },
	{ "SVP", false },
	{ "Chief Medical Officer, 10%", true },
	{ "COB, CEO", true },
	{ "COB, Pres, CEO", true },
	{ "VP-Global Operations", false },
	{ "EVP-N.A. Muncipal Utility", false },
	{ "VP-Engineering", false },
	{ "VP-Controller", false },
	{ "COB, CEO, Pres", true },
	{ "CFO, Treasurer, Secretary", true },
	{ "EVP, Operations", false },
	{ "GC, Secretary", false },
	{ "See remarks below", false },
	{ "CEO, Chairperson", true },
	{ "Pres, COO", true },
	{ "Chief Clinical Officer", true },
	{ "Chief Strategy Officer", true },
	{ "EVP, CHRO", false },
	{ "Head of Global IP, S", false },
	{ "Pres Finance, Operations", false },
	{ "Sr EVP, GC", false },
	{ "EVP, CHIEF CREDIT OFFICER", true },
	{ "VP, Controller", false },
	{ "Director Emerita", false },
	{ "CFO, TREASURER", true },
	{ "CHAIRPERSON, CEO", true },
	{ "Chief Scientific Officer", true },
	{ "EVP, Professional Services", false },
	{ "EVP, COO", true },
	{ "EVP, Chief Admin Officer", true },
	{ "CHIEF RISK OFFICER", true },
	{ "Chief Early Development", false },
	{ "CCO, GC", false },
	{ "Investment Adviser, 10%", false },
	{ "Co-CEO", true },
	{ "Senior Vice-Pres", false },
	{ "VP Administration, CCO, PFO", false },
	{ "Pres", false },
	{ "Pres, CEO, Dir of Company, Ban", true },
	{ "EVP - CFO", true },
	{ "Chief Commercial Officer", true },
	{ "EVP Legal Officer", true },
	{ "Officer, Sustainability", true },
	{ "Pres, CCO, Interim Co-CEO", true },
	{ "EVP, GM, EES", false },
	{ "Pres, Prin. Ex. Officer", true },
	{ "Chief Credit Officer", true },
	{ "SEVP, CFO", true },
	{ "Chief Regional Officer: Amer.", true },
	{ "VP", false },
	/* Form 4 officerTitle elements */
	{ "SVP, CLO & Secretary", false }, /* CLO is not one of the four words */
	{ "Chief Technology Officer", true },
	/* the examples */
	{ "Pres. & CEO", true },
	{ "Chief Executive Officer", true },
	{ "EVP & CFO", true },
	{ "Chairman and CEO", true },
	{ "Director", false },
	{ "10% Owner", false },
	{ "President & CEO", true },
	{ "CHIEF LEGAL OFFICER", true },
	/* punctuation and case */
	{ "ceo", true },
	{ "C.E.O.", true },
	{ "Pres./C.E.O.", true },
	{ "CEO/CFO", true },
	{ "President&CEO", true },
	{ "  cfo  ", true },
	{ "CEOs Office Manager", false }, /* "ceos" is not the word "ceo" */
	{ "Executive Chairman", false },
	{ "Chief Executive", false }, /* no word of the four, no "officer" */
	{ "", false },
	{ "---", false },
};

static struct title_matcher s_default(void)
{
	struct title_matcher m;
	char err[128];

	assert_int_equal(title_matcher_init(&m, TITLE_DEFAULT_WORDS, err, sizeof(err)), 0);
	return m;
}

static void test_real_titles_table(void **state)
{
	struct title_matcher m = s_default();
	int bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(s_titles) / sizeof(s_titles[0]); i++)
		if (title_is_executive(&m, s_titles[i].title) != s_titles[i].executive) {
			fprintf(stderr, "title '%s': expected %s\n", s_titles[i].title,
			        s_titles[i].executive ? "executive" : "not executive");
			bad++;
		}
	assert_int_equal(bad, 0);
}

/* The original's failure: "ceo" != "CEO". */
static void test_title_match_is_case_insensitive(void **state)
{
	struct title_matcher m = s_default();

	(void)state;
	assert_true(title_is_executive(&m, "ceo"));
	assert_true(title_is_executive(&m, "Ceo"));
	assert_true(title_is_executive(&m, "CHIEF FINANCIAL OFFICER"));
	assert_true(title_is_executive(&m, "chief operating officer"));
}

/* The original's failure: an exact match misses a combined title. */
static void test_president_and_ceo_is_executive(void **state)
{
	struct title_matcher m = s_default();

	(void)state;
	assert_true(title_is_executive(&m, "President & CEO"));
	assert_true(title_is_executive(&m, "President and CEO"));
	assert_true(title_is_executive(&m, "Pres. & CEO"));
	assert_true(title_is_executive(&m, "Pres, CEO"));
}

static void test_chief_legal_officer_is_executive(void **state)
{
	struct title_matcher m = s_default();

	(void)state;
	assert_true(title_is_executive(&m, "CHIEF LEGAL OFFICER"));
	assert_true(title_is_executive(&m, "Chief Legal Officer"));
}

static void test_director_and_ten_percent_owner_are_not_executives(void **state)
{
	struct title_matcher m = s_default();

	(void)state;
	assert_false(title_is_executive(&m, "Director"));
	assert_false(title_is_executive(&m, "Dir"));
	assert_false(title_is_executive(&m, "10% Owner"));
	assert_false(title_is_executive(&m, "Dir, 10%"));
	assert_false(title_is_executive(&m, NULL));
}

static void test_configured_words_replace_the_four(void **state)
{
	struct title_matcher m;
	char err[128];

	(void)state;
	assert_int_equal(title_matcher_init(&m, "CEO, CLO", err, sizeof(err)), 0);
	assert_true(title_is_executive(&m, "SVP, CLO & Secretary"));
	assert_false(title_is_executive(&m, "CFO"));
	assert_true(title_is_executive(&m, "Chief Financial Officer")); /* "officer" stays */
	assert_int_equal(title_matcher_init(&m, "", err, sizeof(err)), 0);
	assert_false(title_is_executive(&m, "CEO"));
	assert_int_equal(title_matcher_init(&m, "C-E-O", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "letters and digits"));
	assert_int_equal(title_matcher_init(&m, "averyveryverylongtitleword", err, sizeof(err)),
	                 -1);
}

static void test_normalise_collapses_punctuation_and_case(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(title_normalise("  Pres. & C.E.O.  ", out, sizeof(out)), 10);
	assert_string_equal(out, "pres c e o");
	title_normalise("EVP-N.A. Muncipal", out, sizeof(out));
	assert_string_equal(out, "evp n a muncipal");
	title_normalise(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	/* truncation keeps a terminated prefix */
	title_normalise("Chief Executive Officer", out, 8);
	assert_string_equal(out, "chief e");
}

static void test_owner_key_ignores_order_case_and_initials(void **state)
{
	char a[128], b[128];
	static const char *const same[][2] = {
		{ "Smith John", "John Smith" },         { "SMITH JOHN A", "John A. Smith" },
		{ "Huang Jen-Hsun", "Jen-Hsun Huang" }, { "Doe Jane Jr.", "Jane Doe" },
		{ "O'Brien Pat", "Pat O Brien" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		title_owner_key(same[i][0], a, sizeof(a));
		title_owner_key(same[i][1], b, sizeof(b));
		assert_string_equal(a, b);
	}
	title_owner_key("Smith John", a, sizeof(a));
	assert_string_equal(a, "john smith");
	title_owner_key("Smith Joan", b, sizeof(b));
	assert_string_not_equal(a, b);
	/* initials only: kept rather than emptied */
	title_owner_key("A. B.", a, sizeof(a));
	assert_string_equal(a, "a b");
}

/* Every title on the shared OpenInsider pages has a decided answer above. */
static void test_every_title_on_the_openinsider_pages_is_in_the_table(void **state)
{
	static const char *const pages[] = { "latest.html", "officer_buys.html",
		                             "top_buys_week.html", "ticker_NVDA.html" };
	const char *dir = test_shared_fixtures();
	int seen = 0, missing = 0;

	(void)state;
	if (dir == NULL)
		skip();
	for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
		char path[1024], xp[128];
		size_t len;
		char *html;
		htmlDocPtr doc;
		xmlXPathContextPtr ctx;
		xmlXPathObjectPtr heads, cells;
		int col = -1;

		snprintf(path, sizeof(path), "%s/openinsider/%s", dir, pages[p]);
		html = test_read_file(path, &len);
		assert_non_null(html);
		doc = htmlReadMemory(html, (int)len, NULL, "utf-8",
		                     HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
		assert_non_null(doc);
		ctx = xmlXPathNewContext(doc);
		heads = xmlXPathEvalExpression(
		    (const xmlChar *)"//table[contains(@class,'tinytable')]/thead/tr/th", ctx);
		assert_non_null(heads);
		for (int i = 0; heads->nodesetval != NULL && i < heads->nodesetval->nodeNr; i++) {
			xmlChar *t = xmlNodeGetContent(heads->nodesetval->nodeTab[i]);

			if (t != NULL && strcmp((const char *)t, "Title") == 0)
				col = i + 1;
			xmlFree(t);
		}
		assert_true(col > 0);
		snprintf(xp, sizeof(xp), "//table[contains(@class,'tinytable')]/tbody/tr/td[%d]",
		         col);
		cells = xmlXPathEvalExpression((const xmlChar *)xp, ctx);
		assert_non_null(cells);
		for (int i = 0; cells->nodesetval != NULL && i < cells->nodesetval->nodeNr; i++) {
			xmlChar *t = xmlNodeGetContent(cells->nodesetval->nodeTab[i]);
			char title[256];
			bool found = false;

			snprintf(title, sizeof(title), "%s", t != NULL ? (const char *)t : "");
			xmlFree(t);
			/* trim */
			for (size_t k = strlen(title);
			     k > 0 && (title[k - 1] == ' ' || title[k - 1] == '\n'); k--)
				title[k - 1] = '\0';
			for (size_t k = 0; k < sizeof(s_titles) / sizeof(s_titles[0]); k++)
				if (strcmp(s_titles[k].title, title) == 0)
					found = true;
			if (!found) {
				fprintf(stderr, "%s: title '%s' not in the table\n", pages[p],
				        title);
				missing++;
			}
			seen++;
		}
		xmlXPathFreeObject(cells);
		xmlXPathFreeObject(heads);
		xmlXPathFreeContext(ctx);
		xmlFreeDoc(doc);
		free(html);
	}
	assert_true(seen > 300);
	assert_int_equal(missing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_titles_table),
		cmocka_unit_test(test_title_match_is_case_insensitive),
		cmocka_unit_test(test_president_and_ceo_is_executive),
		cmocka_unit_test(test_chief_legal_officer_is_executive),
		cmocka_unit_test(test_director_and_ten_percent_owner_are_not_executives),
		cmocka_unit_test(test_configured_words_replace_the_four),
		cmocka_unit_test(test_normalise_collapses_punctuation_and_case),
		cmocka_unit_test(test_owner_key_ignores_order_case_and_initials),
		cmocka_unit_test(test_every_title_on_the_openinsider_pages_is_in_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
