/*
 * test_htmlsax.c - the SAX page reader (scraper/htmlsax.c) against the tree
 * it replaced: every page is also parsed with htmlReadMemory() and read the
 * way openinsider.c and finviz.c read trees before (tests/fuzz/htmlsax_ref.h:
 * a pre-order search from the root, the table's direct rows, hu_text of each
 * cell, its first link), and the two must agree string for string.  Pages: the project's and the
 * shared fixtures, each also mutated at random (cuts, junk tags, entities,
 * nesting around libxml2's depth limit, content after </html>, bad bytes).
 * Plus the pieces: hu_text_cut() against a smaller buffer, hu_html_title().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "../../scraper/htmlsax.h"
#include "../../scraper/htmlutil.h"
#include "../../scraper/parse.h"
#include "../fuzz/htmlsax_ref.h"
#include "support/testutil.h"

/* The page read both ways under one parser's rules must agree. */
static void s_compare(const char *buf, size_t len, bool fv, const char *name)
{
	char why[600];

	if (ref_compare(buf, len, fv, why, sizeof(why)) != NULL) {
		print_error("%s (%s rules): %s\n", name, fv ? "finviz" : "openinsider", why);
		fail();
	}
}

/* ---- pages ---- */

static uint64_t s_seed = 88172645463325252ull;

static uint64_t s_rand(void)
{
	s_seed ^= s_seed << 13;
	s_seed ^= s_seed >> 7;
	s_seed ^= s_seed << 17;
	return s_seed;
}

static const char *const s_junk[] = {
	"<!-- c -->",
	"<?pi x?>",
	"<!DOCTYPE html>",
	"</html>",
	"</body>",
	"<html>",
	"</table>",
	"<table>",
	"<tr>",
	"</tr>",
	"<td>",
	"</td>",
	"<th>",
	"<tbody>",
	"<br>",
	"<p>",
	"</p>",
	"<div>",
	"</div>",
	"<b>",
	"</b>",
	"<a>",
	"</a>",
	"<a href=\"/insider/A/9\">",
	"<script>x='</td>'</script>",
	"<style>td{}</style>",
	"<title>T</title>",
	"<h1>A - B - C</h1>",
	"&amp;",
	"&nbsp;",
	"&bogus;",
	"&",
	"&#0;",
	"&#xD800;",
	"&#128512;",
	"\xff",
	"\xc3",
	"\x00",
	"\xe2\x82",
	"\xc2\xa0",
	"<table class=\"tinytable\"><tr><th>Ticker</th></tr>",
	"<tr class=\"fv-insider-row\"><td>1</td>",
	"<table id=\"insider-table\">",
	"<table class=\"insider-trading-table\">",
	"<td class=\"table-top\">",
	"<a id=\"ticker\">T</a>",
	"<table class=\"fullview-title\"><b>Co</b></table>",
	"<meta charset=\"latin1\">",
	"<textarea>a<b></textarea>",
	"<select><option>o</select>",
	"\r\n\t ",
};

/* A random edit of buf (which has room for len + 8192 bytes); the new length. */
static size_t s_mutate(char *buf, size_t len)
{
	size_t at = len > 0 ? s_rand() % len : 0;
	unsigned op = (unsigned)(s_rand() % 6);

	if (op == 0 && len > 0) /* cut */
		return at;
	if (op == 1 && len > 0) { /* remove a piece */
		size_t n = 1 + s_rand() % 3000;
		if (at + n > len)
			n = len - at;
		memmove(buf + at, buf + at + n, len - at - n);
		return len - n;
	}
	if (op == 2) { /* deep nesting, around the limit */
		size_t depth = 245 + s_rand() % 20;
		memmove(buf + at + depth * 5, buf + at, len - at);
		for (size_t i = 0; i < depth; i++)
			memcpy(buf + at + i * 5, "<div>", 5);
		return len + depth * 5;
	}
	if (op == 3 && len > 0) { /* repeat a piece */
		size_t n = 1 + s_rand() % 2000;
		if (at + n > len)
			n = len - at;
		if (n > 4000)
			n = 4000;
		memmove(buf + at + n, buf + at, len - at);
		return len + n;
	}
	{ /* junk */
		const char *j = s_junk[s_rand() % (sizeof(s_junk) / sizeof(s_junk[0]))];
		size_t n = j[0] == '\0' ? 1 : strlen(j);
		memmove(buf + at + n, buf + at, len - at);
		memcpy(buf + at, j, n);
		return len + n;
	}
}

static void s_pages_in(const char *dir, int mutations)
{
	DIR *d = dir != NULL ? opendir(dir) : NULL;
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[1024], name[1100];
		size_t len, cap, n;
		char *page, *buf;

		if (strstr(e->d_name, ".html") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		page = test_read_file(path, &len);
		assert_non_null(page);
		cap = len + (size_t)mutations * 8192 + 1;
		buf = malloc(cap);
		assert_non_null(buf);
		s_compare(page, len, false, path);
		s_compare(page, len, true, path);
		for (int m = 0; m < mutations; m++) {
			memcpy(buf, page, len);
			n = len;
			for (int k = 0; k <= m % 4; k++)
				n = s_mutate(buf, n);
			snprintf(name, sizeof(name), "%s (mutation %d)", path, m);
			s_compare(buf, n, m % 2 == 1, name);
		}
		free(buf);
		free(page);
	}
	closedir(d);
}

static void test_pages_read_as_the_tree_reads_them(void **state)
{
	char dir[1024];
	const char *shared = test_shared_fixtures();

	(void)state;
	snprintf(dir, sizeof(dir), "%s/openinsider", test_fixtures());
	s_pages_in(dir, 60);
	snprintf(dir, sizeof(dir), "%s/finviz", test_fixtures());
	s_pages_in(dir, 60);
	if (shared != NULL) {
		snprintf(dir, sizeof(dir), "%s/openinsider", shared);
		s_pages_in(dir, 8);
		snprintf(dir, sizeof(dir), "%s/finviz", shared);
		s_pages_in(dir, 8);
	}
}

/* Elements after the root closed: under the root, or (DOCTYPE or comment
 * first) beside it, out of reach of a search from the root. */
static void test_elements_after_the_root_are_found_as_the_tree_finds_them(void **state)
{
	static const char *const pages[] = {
		"<html><body>a</body></html><table class=tinytable><tr><th>X</th></tr>"
		"<tr><td>1</td></tr></table>",
		"<!DOCTYPE html><html><body>a</body></html><table class=tinytable><tr><th>X</th>"
		"</tr><tr><td>1</td></tr></table>",
		"<!-- c --><html><body>a</body></html><table class=tinytable><tr><th>X</th></tr>"
		"</table>",
		"<html><body>a</body></html><!DOCTYPE html><table class=tinytable></table>",
		"<html><title>x</title></html><title>y</title><h1>h</h1>",
		"<?pi?><html></html><table id=insider-table><tr class=insider-row><td>1</td></tr>",
		"<html></html><table><tr class=insider-row><td>1</td></tr></table>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		s_compare(pages[i], strlen(pages[i]), false, pages[i]);
		s_compare(pages[i], strlen(pages[i]), true, pages[i]);
	}
}

/* libxml2's tree stops at xmlParserMaxDepth levels; so does the reader. */
static void test_the_page_ends_where_the_tree_would_end_it(void **state)
{
	struct hs_page pg;
	char err[128];
	char *buf = malloc(400 * 5 + 256);

	(void)state;
	assert_non_null(buf);
	for (size_t depth = 250; depth < 262; depth++) {
		size_t len = 0;
		len += (size_t)sprintf(buf, "<html><body>");
		for (size_t i = 0; i < depth; i++)
			len += (size_t)sprintf(buf + len, "<div>");
		len += (size_t)sprintf(buf + len, "<table class=tinytable><tr><th>X</th></tr>"
		                                  "<tr><td>1</td></tr></table>");
		s_compare(buf, len, false, "nested");
		hs_page_init(&pg);
		assert_int_equal(hs_read(buf, len, &ref_rules_oi, &pg, "t", err, sizeof(err)), 0);
		/* html, body, the divs, the table, a row, a cell: 257 levels at most */
		assert_int_equal(pg.table, depth + 2 + 1 <= 257);
		assert_int_equal(pg.nrows == 1, depth + 2 + 3 <= 257);
		hs_page_free(&pg);
	}
	free(buf);
}

/* Script and style are no text; br, p, div and td separate words; entities
 * are read; cells are cut where a 512-byte buffer cuts. */
static void test_cell_text_is_cleaned_as_hu_text_cleans_it(void **state)
{
	struct hs_page pg;
	const struct hs_cell *c[HS_MAX_CELLS];
	char err[128], text[HS_TEXT_MAX], *buf = malloc(8192);
	size_t len;

	(void)state;
	assert_non_null(buf);
	len = (size_t)sprintf(buf, "<table class=tinytable><tr><th>X</th></tr><tr><td>a<script>b"
	                           "</script>c<br>d<style>e</style>&amp;f<div>g</div>h&nbsp;i</td>"
	                           "<td>");
	for (int i = 0; i < 300; i++)
		len += (size_t)sprintf(buf + len, "\xc3\xa9 ");
	len += (size_t)sprintf(buf + len, "</td></tr></table>");
	hs_page_init(&pg);
	assert_int_equal(hs_read(buf, len, &ref_rules_oi, &pg, "t", err, sizeof(err)), 0);
	assert_int_equal(pg.nrows, 1);
	assert_int_equal(hs_cells(&pg, hs_data_row(&pg, 0), c, HS_MAX_CELLS), 2);
	hs_text(&pg, &c[0]->text, text, sizeof(text));
	assert_string_equal(text, "ac d&f gh i");
	assert_int_equal(hs_text(&pg, &c[1]->text, text, sizeof(text)), 509); /* 170 x "é" */
	assert_int_equal(hs_text(&pg, &c[1]->text, text, 64), 62);
	hs_page_free(&pg);
	s_compare(buf, len, false, "cleaning");
	free(buf);
}

/*
 * hu_text_cut(t, n, size) is what a buffer of `size` bytes would have held
 * of the text that a larger one held as t: for random bytes (blanks,
 * multi-byte and broken sequences) and every size.
 */
static void test_text_cut_is_a_smaller_buffer(void **state)
{
	static const char *const pieces[] = { "a",        "bc",
		                              " ",        "\t\n",
		                              "\xc3\xa9", "\xff",
		                              "\xe2\x82", "\xe2\x82\xac",
		                              "\xc2\xa0", "\xf0\x9f\x98\x80" };
	char in[1200], big[HS_TEXT_MAX], want[HS_TEXT_MAX], got[HS_TEXT_MAX];

	(void)state;
	for (int round = 0; round < 300; round++) {
		size_t len = 0, blen;
		while (len < (size_t)(round * 4 % 1100)) {
			const char *p = pieces[s_rand() % 10];
			memcpy(in + len, p, strlen(p));
			len += strlen(p);
		}
		blen = hu_clean(in, len, big, sizeof(big));
		for (size_t size = 0; size <= HS_TEXT_MAX; size++) {
			size_t w = hu_clean(in, len, want, size);
			size_t g = hu_text_cut(big, blen, size);
			assert_int_equal(w, g);
			if (size > 0) {
				assert_int_equal(hs_cut(big, got, size), w);
				assert_string_equal(got, want);
			}
		}
	}
}

/* hu_html_title is the tree's first <title>, for pages of every kind. */
static void test_html_title_is_the_first_title(void **state)
{
	static const char *const names[] = { "finviz/cloudflare.html", "openinsider/no_table.html",
		                             "form4/undeclared_tool_403.html",
		                             "finviz/quote2023.html" };
	char path[1024], got[120], want[120];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len;
		char *buf;
		htmlDocPtr doc;

		snprintf(path, sizeof(path), "%s/%s", test_fixtures(), names[i]);
		buf = test_read_file(path, &len);
		assert_non_null(buf);
		doc = htmlReadMemory(buf, (int)len, NULL, "UTF-8",
		                     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
		                         HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
		assert_non_null(doc);
		hu_text(ref_find(xmlDocGetRootElement(doc), "title", NULL, NULL), want,
		        sizeof(want));
		hu_html_title(buf, len, got, sizeof(got));
		assert_string_equal(got, want);
		assert_true(got[0] != '\0');
		xmlFreeDoc(doc);
		free(buf);
	}
	assert_int_equal(hu_html_title("", 0, got, sizeof(got)), 0);
	assert_string_equal(got, "");
	assert_int_equal(hu_html_title("<!-- x -->", 10, got, sizeof(got)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_read_as_the_tree_reads_them),
		cmocka_unit_test(test_elements_after_the_root_are_found_as_the_tree_finds_them),
		cmocka_unit_test(test_the_page_ends_where_the_tree_would_end_it),
		cmocka_unit_test(test_cell_text_is_cleaned_as_hu_text_cleans_it),
		cmocka_unit_test(test_text_cut_is_a_smaller_buffer),
		cmocka_unit_test(test_html_title_is_the_first_title),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
