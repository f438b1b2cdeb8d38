/*
 * test_parse.c - what the parsers share: accession numbers from links and
 * file names, CIKs, roles from an aggregator's title, the summary line,
 * and telling every kind of document apart for --file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../../scraper/docbuf.h"
#include "../../scraper/htmlutil.h"
#include "../../scraper/parse.h"
#include "../../scraper/parse_priv.h"
#include "support/testutil.h"

static void test_accession_from_archive_links_and_index_pages(void **state)
{
	char acc[ACCESSION_LEN];

	(void)state;
	assert_int_equal(
	    accession_from_url(
	        "http://www.sec.gov/Archives/edgar/data/858706/000151028126000229/xslF345X06/"
	        "primary_doc.xml",
	        acc),
	    0);
	assert_string_equal(acc, "0001510281-26-000229");
	assert_int_equal(accession_from_url("https://www.sec.gov/Archives/edgar/data/2063236/"
	                                    "000206323625000004/0002063236-25-000004-index.htm",
	                                    acc),
	                 0);
	assert_string_equal(acc, "0002063236-25-000004");
	assert_int_equal(accession_from_url("https://www.sec.gov/Archives/edgar/data/1/"
	                                    "0001209191-22-001234.txt",
	                                    acc),
	                 0);
	assert_string_equal(acc, "0001209191-22-001234");
	assert_int_equal(accession_from_url("/NBBK", acc), -1);
	assert_int_equal(accession_from_url("/Archives/edgar/data/1/12345678901234567/x", acc), -1);
	assert_int_equal(accession_from_url("/Archives/edgar/data/1/1234567890123456789/x", acc),
	                 -1);
	assert_int_equal(accession_from_url(NULL, acc), -1);
}

static void test_accession_from_file_names(void **state)
{
	char acc[ACCESSION_LEN];

	(void)state;
	assert_int_equal(
	    accession_from_filename("../shared/fixtures/form4/0000320121-23-000040_TLS.xml", acc),
	    0);
	assert_string_equal(acc, "0000320121-23-000040");
	assert_int_equal(accession_from_filename("0001127602-25-004598.nc", acc), 0);
	assert_int_equal(accession_from_filename("/tmp/000112760225004598.txt", acc), 0);
	assert_string_equal(acc, "0001127602-25-004598");
	assert_int_equal(accession_from_filename("SCWO_374Water_form4.xml", acc), -1);
	assert_int_equal(accession_from_filename("0001127602-25-0045989.nc", acc), -1);
	assert_true(accession_valid("0001209191-22-001234"));
	assert_false(accession_valid("0001209191-22-00123"));
	assert_false(accession_valid("000120919-122-001234"));
}

static void test_cik_is_ten_digits_or_nothing(void **state)
{
	char cik[CIK_LEN];

	(void)state;
	assert_int_equal(cik_normalize("1234", cik), 0);
	assert_string_equal(cik, "0000001234");
	assert_int_equal(cik_normalize(" 0001777906 ", cik), 0);
	assert_string_equal(cik, "0001777906");
	assert_int_equal(cik_normalize("000000000000001", cik), 0); /* leading zeros are free */
	assert_string_equal(cik, "0000000001");
	assert_int_equal(cik_normalize("12345678901", cik), -1);
	assert_int_equal(cik_normalize("12a4", cik), -1);
	assert_int_equal(cik_normalize("", cik), -1);
	assert_int_equal(cik_normalize("-1", cik), -1);
}

static void test_roles_from_aggregator_titles(void **state)
{
	static const struct {
		const char *title;
		unsigned roles;
	} cases[] = {
		{ "Dir", ROLE_DIRECTOR },
		{ "10%", ROLE_TEN_PERCENT_OWNER },
		{ "Dir, 10%", ROLE_DIRECTOR | ROLE_TEN_PERCENT_OWNER },
		{ "CEO, Pres", ROLE_OFFICER },
		{ "COB, CEO, Pres", ROLE_DIRECTOR | ROLE_OFFICER },
		{ "See Remarks, 10%", ROLE_OTHER | ROLE_TEN_PERCENT_OWNER },
		{ "See Remarks", ROLE_OTHER },
		{ "10% Owner", ROLE_TEN_PERCENT_OWNER },
		{ "Director", ROLE_DIRECTOR },
		{ "President and CEO", ROLE_OFFICER },
		{ "Senior Vice President and CFO", ROLE_OFFICER },
		{ "Executive Chair", ROLE_DIRECTOR },
		{ "Chief Accounting Officer", ROLE_OFFICER },
		{ "EVP-N.A. Muncipal Utility", ROLE_OFFICER },
		{ "Portfolio Manager", ROLE_OTHER },
		{ "Investment Adviser, 10%", ROLE_OTHER | ROLE_TEN_PERCENT_OWNER },
		{ "Director Emerita", ROLE_DIRECTOR },
		{ "Co-CEO", ROLE_OFFICER },
		{ "", 0 },
	};

	(void)state;
	assert_int_equal(roles_from_title(NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (roles_from_title(cases[i].title) != cases[i].roles)
			print_error("'%s': %u, want %u\n", cases[i].title,
			            roles_from_title(cases[i].title), cases[i].roles);
		assert_int_equal(roles_from_title(cases[i].title), cases[i].roles);
	}
}

static void test_summary_counts_skips_and_drops_by_reason(void **state)
{
	struct parse_result res;
	char buf[256];

	(void)state;
	parse_result_init(&res);
	res.rows = 5;
	res.trades = 2;
	res.skipped = 2;
	res.dropped = 1;
	res.n_notes = 2;
	res.notes[0] = (struct parse_note){ true, 2, "no issuerTradingSymbol" };
	res.notes[1] = (struct parse_note){ false, 1, "holding" };
	assert_string_equal(parse_result_summary(&res, buf, sizeof(buf)),
	                    "5 rows, 2 ok, 2 skipped (2x no issuerTradingSymbol), 1 dropped (1x "
	                    "holding)");
	/* a short buffer is cut, never overrun */
	assert_int_equal(strlen(parse_result_summary(&res, buf, 10)), 9);
}

static void test_doc_sniff_tells_every_kind_apart(void **state)
{
	static const struct {
		const char *dir; /* NULL: tests/fixtures */
		const char *name;
		enum doc_kind kind;
	} cases[] = {
		{ NULL, "form4/traps_multi_owner_4A.xml", DOC_FORM4_XML },
		{ NULL, "form4/aff10b5one_director.xml", DOC_FORM4_XML },
		{ NULL, "form4/undeclared_tool_403.html", DOC_BLOCKED },
		{ NULL, "sgml/0001234567-24-000042.txt", DOC_EDGAR_SGML },
		{ NULL, "sgml/bare_cr.nc", DOC_EDGAR_SGML },
		{ NULL, "atom/mixed_forms.atom.xml", DOC_ATOM },
		{ NULL, "atom/maintenance_503.html", DOC_HTML },
		{ NULL, "openinsider/listing17.html", DOC_OPENINSIDER },
		{ NULL, "openinsider/cluster.html", DOC_OPENINSIDER },
		{ NULL, "finviz/insider2026.html", DOC_FINVIZ },
		{ NULL, "finviz/quote2023.html", DOC_FINVIZ },
		{ NULL, "finviz/cloudflare.html", DOC_BLOCKED },
		{ "form4", "0000921895-25-001190_FLWS_3_owners_4xP.xml", DOC_FORM4_XML },
		{ "edgar_sgml", "0000921895-25-001190.txt", DOC_EDGAR_SGML },
		{ "edgar_sgml", "0001127602-25-004598.nc", DOC_EDGAR_SGML },
		{ "edgar_atom", "getcurrent_type4_start0.atom.xml", DOC_ATOM },
		{ "edgar_atom", "getcurrent_503_after_start5100.html", DOC_HTML },
		{ "openinsider", "ticker_NVDA.html", DOC_OPENINSIDER },
		{ "finviz", "quote_AMZN_2023-05.html", DOC_FINVIZ },
		{ "finviz", "insidertrading_tc1_feed_fragment_2026.html", DOC_FINVIZ },
		{ "finviz", "blocked_cloudflare_challenge.html", DOC_BLOCKED },
	};
	const char *shared = test_shared_fixtures();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[1024];
		size_t len;
		char *buf;

		if (cases[i].dir != NULL && shared == NULL)
			continue;
		if (cases[i].dir == NULL)
			snprintf(path, sizeof(path), "%s/%s", test_fixtures(), cases[i].name);
		else
			snprintf(path, sizeof(path), "%s/%s/%s", shared, cases[i].dir,
			         cases[i].name);
		buf = test_read_file(path, &len);
		assert_non_null(buf);
		if (doc_sniff(buf, len) != cases[i].kind)
			print_error("%s: %s, want %s\n", cases[i].name,
			            doc_kind_name(doc_sniff(buf, len)),
			            doc_kind_name(cases[i].kind));
		assert_int_equal(doc_sniff(buf, len), cases[i].kind);
		free(buf);
	}
	assert_int_equal(doc_sniff("", 0), DOC_UNKNOWN);
	assert_int_equal(doc_sniff("hello", 5), DOC_UNKNOWN);
	assert_int_equal(doc_sniff("\xEF\xBB\xBF<ownershipDocument/>", 23), DOC_FORM4_XML);
}

static void test_text_cleaning_makes_valid_short_utf8(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(hu_clean("  a \t\r\n b\xc2\xa0\xc2\xa0"
	                          "c  ",
	                          17, out, sizeof(out)),
	                 5);
	assert_string_equal(out, "a b c");
	hu_clean("x\xff\xfey", 4, out, sizeof(out));
	assert_string_equal(out, "x\xef\xbf\xbd\xef\xbf\xbdy");
	hu_clean("\xed\xa0\x80", 3, out, sizeof(out)); /* a surrogate: one U+FFFD a byte */
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	hu_clean("\xc0\xaf", 2, out, sizeof(out)); /* overlong '/' */
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
	/* cut on a character boundary: 5 x "é" is 10 bytes, 7 fit -> 3 chars */
	hu_clean("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10, out, 8);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9\xc3\xa9");
	hu_clean("a\x01\x7f"
	         "b",
	         4, out, sizeof(out));
	assert_string_equal(out, "a b");
}

/* ASCII runs are copied whole, but cut exactly where a byte at a time
 * would have cut them: a pending blank first, then as many as fit. */
static void test_text_cleaning_cuts_ascii_runs_like_single_bytes(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(hu_clean("abcdefghij", 10, out, sizeof(out)), 7);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(hu_clean("abcdef gh", 9, out, sizeof(out)), 6);
	assert_string_equal(out, "abcdef"); /* " g" does not fit: the blank is never emitted */
	assert_int_equal(hu_clean("abcde g", 7, out, sizeof(out)), 7);
	assert_string_equal(out, "abcde g");
	assert_int_equal(hu_clean("ab\xc3\xa9 cd", 7, out, sizeof(out)), 7);
	assert_string_equal(out, "ab\xc3\xa9 cd");
	assert_int_equal(hu_clean(" \t a  b ", 8, out, sizeof(out)), 3);
	assert_string_equal(out, "a b");
}

/* hu_is compares as strcasecmp does in the C locale: every pair of bytes,
 * first (the inline test) and second (hu_name_eq). */
static void test_element_names_match_ignoring_ascii_case_only(void **state)
{
	xmlNodePtr n;
	char name[4], want[4];

	(void)state;
	for (int pos = 0; pos < 2; pos++) {
		for (int x = 1; x < 256; x++) {
			snprintf(name, sizeof(name), "%s%c", pos ? "a" : "", x);
			n = xmlNewNode(NULL, (const xmlChar *)name);
			assert_non_null(n);
			for (int y = 1; y < 256; y++) {
				snprintf(want, sizeof(want), "%s%c", pos ? "a" : "", y);
				assert_int_equal(hu_is(n, want), strcasecmp(name, want) == 0);
				assert_int_equal(hu_name_eq(n->name, want),
				                 strcasecmp(name, want) == 0);
			}
			/* one name longer than the other */
			assert_int_equal(hu_is(n, "a"), strcasecmp(name, "a") == 0);
			assert_false(hu_is(n, "a__"));
			xmlFreeNode(n);
		}
	}
	n = xmlNewNode(NULL, (const xmlChar *)"footnoteId");
	assert_true(hu_is(n, "FOOTNOTEID"));
	assert_true(hu_is(n, "footnoteid"));
	assert_false(hu_is(n, "footnoteI"));
	assert_false(hu_is(n, "footnoteIds"));
	assert_false(hu_is(NULL, "footnoteId"));
	xmlFreeNode(n);
	n = xmlNewText((const xmlChar *)"footnoteId");
	assert_false(hu_is(n, "footnoteId")); /* text nodes have a name too */
	xmlFreeNode(n);
}

/*
 * hu_text_dup(n, max) is hu_text() into a buffer of max + 1 bytes,
 * malloc'd, NULL when empty: at lengths around its stack buffer (1 KiB)
 * and its count-then-build path, with blanks, multi-byte characters and
 * bad bytes where the cuts fall.
 */
static void test_text_dup_is_text_into_a_buffer_of_max_bytes(void **state)
{
	static const char *const pieces[] = { "word",         "  \t\n", "\xc3\xa9",
		                              "\xe2\x82\xac", "\xff",   "x",
		                              "\xc2\xa0",     "<b>",    "\xf0\x9f\x98\x80" };
	static const size_t maxes[] = { 0,    1,    2,    3,    4,    5,    100,  1021, 1022,
		                        1023, 1024, 1025, 1026, 2047, 2048, 4000, 65536 };
	char *want = malloc(65537 + 1);

	(void)state;
	assert_non_null(want);
	for (size_t total = 0; total < 6000; total = total * 3 / 2 + 7) {
		xmlNodePtr t = xmlNewNode(NULL, (const xmlChar *)"t");
		xmlNodePtr blank = xmlNewNode(NULL, (const xmlChar *)"e");
		size_t len = 0;

		assert_non_null(t);
		assert_non_null(blank);
		xmlAddChild(blank, xmlNewText((const xmlChar *)" \t "));
		/* text nodes with any bytes, and elements with text inside */
		for (size_t i = 0; len < total; i++) {
			const char *p = pieces[(i * 7 + total) % 9];
			xmlNodePtr c;

			if (strcmp(p, "<b>") == 0) {
				c = xmlNewNode(NULL, (const xmlChar *)"b");
				xmlAddChild(c, xmlNewText((const xmlChar *)"in"));
			} else {
				c = xmlNewText((const xmlChar *)p);
			}
			assert_non_null(c);
			xmlAddChild(t, c);
			len += strlen(p);
		}
		for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
			size_t got_len = hu_text(t, want, maxes[m] + 1);
			char *got = hu_text_dup(t, maxes[m]);

			if (got_len == 0) {
				assert_null(got);
				continue;
			}
			assert_non_null(got);
			assert_string_equal(got, want);
			free(got);
		}
		assert_null(hu_text_dup(blank, 100));
		xmlFreeNode(t);
		xmlFreeNode(blank);
	}
	assert_null(hu_text_dup(NULL, 100));
	free(want);
}

/* Write n bytes of text (repeated) to dir/name; returns the path (static). */
static const char *s_write(const char *dir, const char *name, const char *text, size_t n)
{
	static char path[4096];
	size_t tl = strlen(text);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(fputc(text[i % tl], f), (unsigned char)text[i % tl]);
	assert_int_equal(fclose(f), 0);
	return path;
}

/*
 * One doc_buf read file after file: each text whole and NUL-terminated,
 * the buffer kept while it is large enough, grown when not; JSON lines,
 * missing and oversized files fail without spoiling the next read.
 */
static void test_one_buffer_reads_file_after_file(void **state)
{
	static const size_t sizes[] = { 5000, 100, 0, 70000, 3, 4096, 200000, 10 };
	char *dir = test_tmpdir(), err[128];
	struct doc_buf b;
	size_t len;
	bool jsonl;
	char *got;

	(void)state;
	assert_non_null(dir);
	doc_buf_init(&b);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *prev = b.buf;
		size_t prev_cap = b.cap;
		const char *p = s_write(dir, "doc.xml", "<ownershipDocument>", sizes[i]);

		len = 12345;
		got = doc_buf_read(&b, p, 1 << 20, &len, &jsonl, err, sizeof(err));
		assert_non_null(got);
		assert_false(jsonl);
		assert_ptr_equal(got, b.buf);
		assert_int_equal(len, sizes[i]);
		assert_int_equal(got[len], '\0');
		assert_true(b.cap >= len + 1);
		for (size_t k = 0; k < len; k++)
			assert_int_equal(got[k], "<ownershipDocument>"[k % 19]);
		if (prev != NULL && prev_cap >= sizes[i] + 2) /* room for the file, EOF and NUL */
			assert_ptr_equal(b.buf, prev);
	}
	/* JSON lines: told by the first non-blank byte, nothing read whole */
	got = doc_buf_read(&b, s_write(dir, "t.jsonl", " \n\t{\"type\":\"trade\"}\n", 100), 1 << 20,
	                   &len, &jsonl, err, sizeof(err));
	assert_null(got);
	assert_true(jsonl);
	/* too large, then missing: errors; the buffer still serves */
	got = doc_buf_read(&b, s_write(dir, "big.xml", "x", 3000), 2999, &len, &jsonl, err,
	                   sizeof(err));
	assert_null(got);
	assert_false(jsonl);
	assert_string_equal(err, "larger than 2999 bytes");
	got = doc_buf_read(&b, s_write(dir, "ok.xml", "x", 2999), 2999, &len, &jsonl, err,
	                   sizeof(err));
	assert_non_null(got);
	assert_int_equal(len, 2999);
	snprintf(err, sizeof(err), "%s/absent.xml", dir);
	got = doc_buf_read(&b, err, 1 << 20, &len, &jsonl, err, sizeof(err));
	assert_null(got);
	assert_string_equal(err, "No such file or directory");
	/* not a regular file: read by doubling from 64 KiB */
	got = doc_buf_read(&b, "/dev/null", 1 << 20, &len, &jsonl, err, sizeof(err));
	assert_non_null(got);
	assert_int_equal(len, 0);
	/* trimmed only when over the size kept */
	doc_buf_trim(&b, b.cap);
	assert_non_null(b.buf);
	doc_buf_trim(&b, b.cap - 1);
	assert_null(b.buf);
	assert_int_equal(b.cap, 0);
	doc_buf_free(&b);
	doc_buf_free(&b);
	unlink(s_write(dir, "doc.xml", "", 0));
	unlink(s_write(dir, "t.jsonl", "", 0));
	unlink(s_write(dir, "big.xml", "", 0));
	unlink(s_write(dir, "ok.xml", "", 0));
	rmdir(dir);
	free(dir);
}

/* A trade list emptied with trade_list_truncate and used again gives
 * each document the trades (and keys) a fresh list would. */
static void test_a_list_reused_across_documents_gives_the_same_trades(void **state)
{
	static const char *const names[] = { "openinsider/listing17.html",
		                             "finviz/insider2026.html",
		                             "form4/traps_multi_owner_4A.xml",
		                             "openinsider/listing17.html" };
	struct trade_list reused;

	(void)state;
	trade_list_init(&reused);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct trade_list fresh;
		struct parse_result r1, r2;
		struct parse_ctx ctx;
		char path[1024], err[512];
		size_t len;
		char *buf;

		snprintf(path, sizeof(path), "%s/%s", test_fixtures(), names[i]);
		buf = test_read_file(path, &len);
		assert_non_null(buf);
		parse_ctx_init(&ctx);
		ctx.now = 1777000000;
		trade_list_init(&fresh);
		trade_list_truncate(&reused, 0);
		assert_int_equal(
		    parse_trades(buf, len, NULL, &ctx, &fresh, &r1, NULL, err, sizeof(err)), 0);
		assert_int_equal(
		    parse_trades(buf, len, NULL, &ctx, &reused, &r2, NULL, err, sizeof(err)), 0);
		assert_true(fresh.n > 0);
		assert_int_equal(fresh.n, reused.n);
		for (size_t k = 0; k < fresh.n; k++) {
			char e[256], *ja, *jb;
			size_t la, lb;
			assert_int_equal(record_to_json(&fresh.items[k], &ja, &la, e, sizeof(e)),
			                 0);
			assert_int_equal(record_to_json(&reused.items[k], &jb, &lb, e, sizeof(e)),
			                 0);
			assert_string_equal(ja, jb);
			free(ja);
			free(jb);
		}
		trade_list_free(&fresh);
		free(buf);
	}
	assert_true(reused.cap > 0);
	trade_list_free(&reused);
}

/* parse_memcasemem as it was: a byte-by-byte scan, the reference. */
static const char *s_memcasemem_ref(const char *hay, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	if (nl == 0 || len < nl)
		return NULL;
	for (size_t i = 0; i + nl <= len; i++)
		if (strncasecmp(hay + i, needle, nl) == 0 && memchr(hay + i, '\0', nl) == NULL)
			return hay + i;
	return NULL;
}

/*
 * The memchr-anchored search finds what a scan from the start finds (the
 * first match, any case, never across a NUL) for the markers doc_sniff and
 * the parsers look for and for random needles, in haystacks made of their
 * pieces, their bytes in either case, NULs and noise.
 */
static void test_case_insensitive_search_finds_the_first_match(void **state)
{
	static const char *const needles[] = {
		"<ownershipDocument",
		"<feed",
		"<html",
		"tinytable",
		"fv-insider-row",
		"insider-table",
		"\"insider-row",
		"/edgar/data/",
		"<!doctype html",
		"<title>Just a moment...</title>",
		"a",
		"Zz",
		"-",
		"q-q",
		"<",
		"e1E",
	};
	static const char alphabet[] = "tinyableTINYABLE<>-/\"qQzZe1 \0\xc3\xa9";
	uint64_t st = 0x9E3779B97F4A7C15ull;
	char hay[600], needle[16];

	(void)state;
	for (int round = 0; round < 40000; round++) {
		size_t len = (size_t)(st % sizeof(hay)), nl;
		const char *n;

		st ^= st << 13;
		st ^= st >> 7;
		st ^= st << 17;
		for (size_t i = 0; i < len; i++) {
			st ^= st << 13;
			st ^= st >> 7;
			st ^= st << 17;
			hay[i] = alphabet[st % (sizeof(alphabet) - 1)];
		}
		if (round % 2 == 0) {
			n = needles[round / 2 % (sizeof(needles) / sizeof(needles[0]))];
		} else {
			nl = 1 + st % (sizeof(needle) - 1);
			for (size_t i = 0; i < nl; i++) {
				st ^= st << 13;
				st ^= st >> 7;
				st ^= st << 17;
				needle[i] = alphabet[st % (sizeof(alphabet) - 2)] ?: 'x';
			}
			needle[nl] = '\0';
			n = needle;
		}
		/* plant the needle (in a random case) somewhere, now and then */
		nl = strlen(n);
		if (round % 3 != 0 && len > nl) {
			size_t at = (size_t)(st >> 20) % (len - nl + 1);
			for (size_t i = 0; i < nl; i++)
				hay[at + i] =
				    (char)((st >> (i % 60)) & 1 ? toupper((unsigned char)n[i])
				                                : tolower((unsigned char)n[i]));
		}
		if (parse_memcasemem(hay, len, n) != s_memcasemem_ref(hay, len, n))
			fail_msg("round %d: needle '%s' in %zu bytes", round, n, len);
	}
	assert_null(parse_memcasemem("abc", 3, ""));
	assert_null(parse_memcasemem("ab", 2, "abc"));
	assert_null(parse_memcasemem("xxTinyTabl", 10, "tinytable"));
	assert_null(parse_memcasemem("TinyT\0able", 11, "tinytable")); /* not across a NUL */
	{
		const char *h = "a tinyTABLE, a TinyTable";
		assert_ptr_equal(parse_memcasemem(h, strlen(h), "tinytable"), h + 2);
	}
}

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A hostile page made of the needle's anchor byte in one case (or in
 * both) stays linear: a few ms a MiB, not a rescan per candidate. */
static void test_case_insensitive_search_stays_linear_on_hostile_pages(void **state)
{
	static const char fill[][3] = { "B", "b", "bB", "tB" };
	size_t len = (size_t)4 << 20;
	char *hay = malloc(len);

	(void)state;
	assert_non_null(hay);
	for (size_t f = 0; f < sizeof(fill) / sizeof(fill[0]); f++) {
		size_t fl = strlen(fill[f]);
		double t0;

		for (size_t i = 0; i < len; i++)
			hay[i] = fill[f][i % fl];
		t0 = s_now();
		assert_null(parse_memcasemem(hay, len, "tinytable"));
		assert_null(parse_memcasemem(hay, len, "insider-buy-row"));
		if (s_now() - t0 > 2.0)
			fail_msg("'%s' x 4 MiB took %.1f s", fill[f], s_now() - t0);
	}
	free(hay);
}

/* parse_key_num as it was: printf for every number, the reference. */
static void s_key_num_ref(double x, char *buf, size_t len)
{
	size_t n;

	if (len == 0)
		return;
	if (isnan(x)) {
		buf[0] = '\0';
		return;
	}
	if (x == floor(x) && fabs(x) < 1e15) {
		snprintf(buf, len, "%.0f", x);
		return;
	}
	snprintf(buf, len, "%.6f", x);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

/* Whole numbers in keys are written without printf, as printf wrote
 * them: signs, minus zero, the largest below 1e15, cut to short buffers. */
static void test_key_numbers_are_written_as_printf_wrote_them(void **state)
{
	static const double xs[] = { 0,
		                     -0.0,
		                     1,
		                     -1,
		                     7,
		                     10,
		                     1e14,
		                     1e15 - 1,
		                     -1e15 + 1,
		                     1e15,
		                     123456789,
		                     35000,
		                     11.37,
		                     0.5,
		                     -2.25,
		                     1e-7,
		                     999999.9999999,
		                     NAN,
		                     4503599627370497.0,
		                     1e300,
		                     -1e300 };
	static const size_t lens[] = { 1, 2, 3, 4, 8, 17, 64 };
	uint64_t st = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]) + 20000; i++) {
		double x;

		if (i < sizeof(xs) / sizeof(xs[0])) {
			x = xs[i];
		} else {
			st ^= st << 13;
			st ^= st >> 7;
			st ^= st << 17;
			x = (double)(st % 2000000000000000ull) - 1e15;
			if (i % 3 == 0)
				x /= 1000; /* mostly not whole */
		}
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			char got[64], want[64];

			memset(got, 'x', sizeof(got));
			memset(want, 'x', sizeof(want));
			parse_key_num(x, got, lens[l]);
			s_key_num_ref(x, want, lens[l]);
			assert_memory_equal(got, want, sizeof(got));
		}
	}
}

static void s_push_key_at(struct trade_list *l, size_t mark, const char *key)
{
	record_t r;

	record_init(&r, REC_TRADE);
	r.u.trade.key = strdup(key);
	r.u.trade.source = strdup("finviz");
	strcpy(r.u.trade.trade_date, "2026-04-22");
	r.u.trade.ticker = strdup("ACME");
	r.u.trade.issuer = strdup("Acme");
	r.u.trade.owner = strdup("Roe");
	strcpy(r.u.trade.code, "P");
	r.u.trade.shares = 1;
	{
		struct parse_result res;
		parse_result_init(&res);
		assert_int_equal(parse_append(l, mark, &r, &res), 0);
	}
}

static void s_push_key(struct trade_list *l, const char *key)
{
	s_push_key_at(l, 0, key);
}

/* A key already on the page gets the first "~N" (N >= 2) nobody has;
 * look-alikes ("~02", "~2x", another key's suffix) do not count. */
static void test_repeated_keys_get_the_first_free_suffix(void **state)
{
	static const char *const in[] = { "K",    "K~2", "K~3", "K~5", "K~02", "K~4x",
		                          "KK~4", "K",   "K",   "K",   "K~2" };
	static const char *const want[] = { "K",    "K~2", "K~3", "K~5", "K~02", "K~4x",
		                            "KK~4", "K~4", "K~6", "K~7", "K~2~2" };
	struct trade_list l;

	(void)state;
	trade_list_init(&l);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		s_push_key(&l, in[i]);
		assert_string_equal(l.items[i].u.trade.key, want[i]);
	}
	/* past the suffixes noted in one pass (2..255): still the first free */
	trade_list_free(&l);
	trade_list_init(&l);
	for (int i = 0; i < 300; i++)
		s_push_key(&l, "R");
	assert_string_equal(l.items[1].u.trade.key, "R~2");
	assert_string_equal(l.items[254].u.trade.key, "R~255");
	assert_string_equal(l.items[255].u.trade.key, "R~256");
	assert_string_equal(l.items[299].u.trade.key, "R~300");
	trade_list_free(&l);
}

/* A page of PARSE_MAX_ROWS copies of one row: each copy's key and free
 * suffix found without rescanning the list (that was O(N^3): 4000 copies
 * of an OpenInsider row took a minute).  Keys are counted from the mark,
 * and a truncated list forgets its keys. */
static void test_a_page_of_one_repeated_row_stays_fast(void **state)
{
	struct trade_list l;
	double t0 = s_now();
	char want[32];

	(void)state;
	trade_list_init(&l);
	for (int i = 0; i < PARSE_MAX_ROWS; i++) {
		s_push_key(&l, "openinsider:2024-03-06:ACMW:777002:P:3597:70.06");
		if (i % 64 == 0 && s_now() - t0 > 3.0)
			fail_msg("%d copies of one row took %.1f s", i, s_now() - t0);
	}
	snprintf(want, sizeof(want), "~%d", PARSE_MAX_ROWS);
	assert_non_null(strstr(l.items[PARSE_MAX_ROWS - 1].u.trade.key, want));
	trade_list_free(&l);

	trade_list_init(&l);
	s_push_key(&l, "A");
	s_push_key(&l, "A");
	s_push_key(&l, "A");
	assert_string_equal(l.items[2].u.trade.key, "A~3");
	trade_list_truncate(&l, 1);
	s_push_key(&l, "A");
	assert_string_equal(l.items[1].u.trade.key, "A~2");
	/* a new document from mark 2: the keys before it are not its own */
	s_push_key_at(&l, 2, "A");
	s_push_key_at(&l, 2, "A~2");
	s_push_key_at(&l, 2, "A");
	assert_string_equal(l.items[2].u.trade.key, "A");
	assert_string_equal(l.items[3].u.trade.key, "A~2");
	assert_string_equal(l.items[4].u.trade.key, "A~3");
	trade_list_free(&l);
}

/* The kind the caller sniffed (ctx.kind, as --file passes it) gives the
 * same trades as letting parse_trades sniff: a Form 4 reuses it, and the
 * SGML parser does not hand it to the XML inside a submission. */
static void test_a_sniffed_kind_gives_the_same_trades(void **state)
{
	static const char *const names[] = {
		"form4/traps_multi_owner_4A.xml", "form4/aff10b5one_director.xml",
		"form4/undeclared_tool_403.html", "sgml/0001234567-24-000042.txt",
		"openinsider/listing17.html",     "finviz/insider2026.html",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct trade_list a, b;
		struct parse_result ra, rb;
		struct parse_ctx ctx;
		char path[1024], err[512], err2[512];
		enum doc_kind ka, kb;
		size_t len;
		char *buf;
		int rca, rcb;

		snprintf(path, sizeof(path), "%s/%s", test_fixtures(), names[i]);
		buf = test_read_file(path, &len);
		assert_non_null(buf);
		trade_list_init(&a);
		trade_list_init(&b);
		parse_ctx_init(&ctx);
		ctx.now = 1777000000;
		rca = parse_trades(buf, len, NULL, &ctx, &a, &ra, &ka, err, sizeof(err));
		ctx.kind = doc_sniff(buf, len);
		rcb = parse_trades(buf, len, NULL, &ctx, &b, &rb, &kb, err2, sizeof(err2));
		assert_int_equal(rca, rcb);
		assert_int_equal(ka, kb);
		assert_int_equal(a.n, b.n);
		if (rca != 0)
			assert_string_equal(err, err2);
		for (size_t k = 0; k < a.n; k++) {
			char e[256], *ja, *jb;
			size_t la, lb;
			assert_int_equal(record_to_json(&a.items[k], &ja, &la, e, sizeof(e)), 0);
			assert_int_equal(record_to_json(&b.items[k], &jb, &lb, e, sizeof(e)), 0);
			assert_string_equal(ja, jb);
			free(ja);
			free(jb);
		}
		if (strstr(names[i], "sgml") != NULL || strstr(names[i], "form4/t") != NULL)
			assert_true(a.n > 0);
		trade_list_free(&a);
		trade_list_free(&b);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accession_from_archive_links_and_index_pages),
		cmocka_unit_test(test_accession_from_file_names),
		cmocka_unit_test(test_cik_is_ten_digits_or_nothing),
		cmocka_unit_test(test_roles_from_aggregator_titles),
		cmocka_unit_test(test_summary_counts_skips_and_drops_by_reason),
		cmocka_unit_test(test_doc_sniff_tells_every_kind_apart),
		cmocka_unit_test(test_text_cleaning_makes_valid_short_utf8),
		cmocka_unit_test(test_text_cleaning_cuts_ascii_runs_like_single_bytes),
		cmocka_unit_test(test_element_names_match_ignoring_ascii_case_only),
		cmocka_unit_test(test_text_dup_is_text_into_a_buffer_of_max_bytes),
		cmocka_unit_test(test_one_buffer_reads_file_after_file),
		cmocka_unit_test(test_a_list_reused_across_documents_gives_the_same_trades),
		cmocka_unit_test(test_case_insensitive_search_finds_the_first_match),
		cmocka_unit_test(test_case_insensitive_search_stays_linear_on_hostile_pages),
		cmocka_unit_test(test_key_numbers_are_written_as_printf_wrote_them),
		cmocka_unit_test(test_repeated_keys_get_the_first_free_suffix),
		cmocka_unit_test(test_a_page_of_one_repeated_row_stays_fast),
		cmocka_unit_test(test_a_sniffed_kind_gives_the_same_trades),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
