/*
 * test_atom.c - EDGAR's getcurrent Atom feed: filings deduplicated by
 * accession, only forms 4 and 4/A, and an HTML page where the feed was
 * expected is an error, never an empty feed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../scraper/parse.h"
#include "support/testutil.h"
#include "timeutil.h"

static char *s_read(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	buf = test_read_file(path, len);
	if (buf == NULL)
		print_error("cannot read %s\n", path);
	assert_non_null(buf);
	return buf;
}

static size_t s_note(const struct parse_result *res, bool skipped, const char *reason)
{
	for (size_t i = 0; i < res->n_notes; i++)
		if (res->notes[i].skipped == skipped && strcmp(res->notes[i].reason, reason) == 0)
			return res->notes[i].count;
	return 0;
}

static const char *s_time(int64_t t, char *buf)
{
	if (t == REC_NULL_TIME)
		return "null";
	return time_format_rfc3339(t, buf, TIME_RFC3339_LEN);
}

static void test_shared_feed_has_46_filings_each_once(void **state)
{
	const char *shared = test_shared_fixtures();
	struct filing_list fl;
	struct parse_result res;
	char dir[512], err[256], when[TIME_RFC3339_LEN];
	size_t len;
	char *buf;

	(void)state;
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/edgar_atom", shared);
	buf = s_read(dir, "getcurrent_type4_start0.atom.xml", &len);
	assert_int_equal(doc_sniff(buf, len), DOC_ATOM);
	filing_list_init(&fl);
	assert_int_equal(atom_parse(buf, len, &fl, &res, err, sizeof(err)), 0);
	assert_int_equal(res.status, PARSE_OK);
	assert_int_equal(res.rows, 100);
	assert_int_equal(fl.n, 46);
	assert_int_equal(res.trades, 46);
	assert_int_equal(s_note(&res, false, "repeated accession"), 54);
	assert_int_equal(res.skipped, 0);
	for (size_t i = 0; i < fl.n; i++) {
		const struct edgar_filing *f = &fl.items[i];
		assert_true(accession_valid(f->accession));
		assert_string_equal(f->form, "4");
		assert_non_null(f->index_url);
		assert_non_null(strstr(f->index_url, "-index.htm"));
		assert_true(f->accepted_at != REC_NULL_TIME);
		assert_int_equal(strlen(f->cik), 10);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(fl.items[j].accession, f->accession);
	}
	/* The first entry, by hand from the feed. */
	assert_string_equal(fl.items[0].accession, "0002063236-25-000004");
	assert_string_equal(fl.items[0].cik, "0002063236");
	assert_string_equal(fl.items[0].owner_cik, "0002063236");
	assert_string_equal(fl.items[0].issuer_cik, "0001673743"); /* Hinge Health (Issuer) */
	assert_string_equal(fl.items[0].index_url,
	                    "https://www.sec.gov/Archives/edgar/data/2063236/000206323625000004/"
	                    "0002063236-25-000004-index.htm");
	assert_string_equal(s_time(fl.items[0].accepted_at, when), "2025-12-12T23:02:43Z");
	/* The last: GAPCO, two Reporting entries of one accession. */
	assert_non_null(filing_list_find(&fl, "0000950142-25-003181"));
	filing_list_free(&fl);
	free(buf);
}

static void test_shared_503_html_is_an_error_not_an_empty_feed(void **state)
{
	const char *shared = test_shared_fixtures();
	struct filing_list fl;
	struct parse_result res;
	char dir[512], err[256];
	size_t len;
	char *buf;

	(void)state;
	if (shared == NULL) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/edgar_atom", shared);
	buf = s_read(dir, "getcurrent_503_after_start5100.html", &len);
	filing_list_init(&fl);
	assert_int_equal(atom_parse(buf, len, &fl, &res, err, sizeof(err)), -1);
	assert_int_equal(res.status, PARSE_BAD_DOC);
	assert_non_null(strstr(err, "edgar: expected an Atom feed, got an HTML page"));
	assert_non_null(strstr(err, "File Unavailable"));
	assert_int_equal(fl.n, 0);
	filing_list_free(&fl);
	free(buf);
}

static void test_own_feed_keeps_4_and_4A_merges_repeats_and_skips_bad_entries(void **state)
{
	static const struct {
		const char *acc, *form, *cik, *issuer, *owner, *accepted;
	} want[] = {
		{ "0000100001-24-000001", "4", "0000100001", "0000200002", "0000100001",
		  "2024-06-03T21:30:02Z" },
		/* Issuer entry first, then two owners: the first owner is kept */
		{ "0000400004-24-000003", "4/A", "0000400004", "0000400004", "0000500005",
		  "2024-06-03T21:28:00Z" },
		/* <id> without the accession: taken from the link */
		{ "0000700007-24-000005", "4", "0000700007", "", "0000700007",
		  "2024-06-03T21:26:00Z" },
		/* EST offset */
		{ "0000900009-24-000001", "4", "0000900009", "", "0000900009",
		  "2024-01-05T21:00:00Z" },
	};
	struct filing_list fl;
	struct parse_result res;
	char err[256], when[TIME_RFC3339_LEN];
	size_t len;
	char *buf = s_read(test_fixtures(), "atom/mixed_forms.atom.xml", &len);

	(void)state;
	filing_list_init(&fl);
	assert_int_equal(atom_parse(buf, len, &fl, &res, err, sizeof(err)), 0);
	assert_int_equal(res.rows, 12);
	assert_int_equal(fl.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(fl.items[i].accession, want[i].acc);
		assert_string_equal(fl.items[i].form, want[i].form);
		assert_string_equal(fl.items[i].cik, want[i].cik);
		assert_string_equal(fl.items[i].issuer_cik, want[i].issuer);
		assert_string_equal(fl.items[i].owner_cik, want[i].owner);
		assert_string_equal(s_time(fl.items[i].accepted_at, when), want[i].accepted);
	}
	assert_int_equal(s_note(&res, true, "entry without an accession number"), 1);
	assert_int_equal(s_note(&res, false, "form 424B2"), 1);
	assert_int_equal(s_note(&res, false, "form 425"), 1);
	assert_int_equal(s_note(&res, false, "form 485BPOS"), 1);
	assert_int_equal(s_note(&res, false, "repeated accession"), 4);

	/* The next poll sees the same filings again: nothing new. */
	assert_int_equal(atom_parse(buf, len, &fl, &res, err, sizeof(err)), 0);
	assert_int_equal(fl.n, 4);
	assert_int_equal(res.trades, 0);
	filing_list_free(&fl);
	free(buf);
}

/* A feed at the entry limit: every filing twice (owner, then issuer), the
 * repeats merged into the first by accession, and all of it quick. */
static void test_a_feed_at_the_entry_limit_merges_every_repeat(void **state)
{
	const size_t n = PARSE_MAX_ROWS / 2, cap = (size_t)PARSE_MAX_ROWS * 400 + 200;
	struct filing_list fl;
	struct parse_result res;
	char err[256], *buf = malloc(cap);
	size_t len;
	struct timespec t0, t1;

	(void)state;
	assert_non_null(buf);
	len = (size_t)snprintf(buf, cap,
	                       "<?xml version=\"1.0\"?>\n"
	                       "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
	for (size_t i = 0; i < 2 * n; i++) {
		size_t k = i % n;
		len += (size_t)snprintf(
		    buf + len, cap - len,
		    "<entry><title>4 - X (%010zu) (%s)</title><category term=\"4\"/>"
		    "<id>urn:tag:sec.gov,2008:accession-number=0000100001-24-%06zu</id></entry>\n",
		    i < n ? 100000 + k : 900000 + k, i < n ? "Reporting" : "Issuer", k);
		assert_true(len < cap);
	}
	len += (size_t)snprintf(buf + len, cap - len, "</feed>\n");
	filing_list_init(&fl);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(atom_parse(buf, len, &fl, &res, err, sizeof(err)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(res.rows, 2 * n);
	assert_int_equal(fl.n, n);
	assert_int_equal(s_note(&res, false, "repeated accession"), n);
	for (size_t k = 0; k < n; k += 997) {
		char want[CIK_LEN];

		snprintf(want, sizeof(want), "%010zu", 900000 + k);
		assert_string_equal(fl.items[k].issuer_cik, want);
		snprintf(want, sizeof(want), "%010zu", 100000 + k);
		assert_string_equal(fl.items[k].owner_cik, want);
	}
	if ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 > 3.0)
		fail_msg("a %zu-entry feed took over 3 s", 2 * n);
	filing_list_free(&fl);
	free(buf);
}

static void test_empty_feed_is_zero_entries_without_error(void **state)
{
	struct filing_list fl;
	struct parse_result res;
	char err[256];
	size_t len;
	char *buf = s_read(test_fixtures(), "atom/empty_feed.atom.xml", &len);

	(void)state;
	filing_list_init(&fl);
	assert_int_equal(atom_parse(buf, len, &fl, &res, err, sizeof(err)), 0);
	assert_int_equal(res.rows, 0);
	assert_int_equal(fl.n, 0);
	filing_list_free(&fl);
	free(buf);
}

static void test_other_documents_where_atom_expected_are_errors(void **state)
{
	static const struct {
		const char *name;
		enum parse_status status;
		const char *why;
	} cases[] = {
		{ "atom/rss_not_atom.xml", PARSE_SHAPE, "got a <rss> document" },
		{ "atom/maintenance_503.html", PARSE_BAD_DOC,
		  "HTML page 'SEC.gov | File Unavailable'" },
		{ "form4/billion_laughs.xml", PARSE_BAD_DOC, "declares a DTD" },
		{ "form4/traps_multi_owner_4A.xml", PARSE_SHAPE, "<ownershipDocument>" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct filing_list fl;
		struct parse_result res;
		char err[256] = "";
		size_t len;
		char *buf = s_read(test_fixtures(), cases[i].name, &len);

		filing_list_init(&fl);
		assert_int_equal(atom_parse(buf, len, &fl, &res, err, sizeof(err)), -1);
		assert_int_equal(res.status, cases[i].status);
		if (strstr(err, cases[i].why) == NULL)
			print_error("%s: '%s' lacks '%s'\n", cases[i].name, err, cases[i].why);
		assert_non_null(strstr(err, cases[i].why));
		assert_int_equal(fl.n, 0);
		filing_list_free(&fl);
		free(buf);
	}
}

static void test_truncated_feed_is_an_error(void **state)
{
	struct filing_list fl;
	struct parse_result res;
	char err[256];
	size_t len;
	char *buf = s_read(test_fixtures(), "atom/mixed_forms.atom.xml", &len);

	(void)state;
	filing_list_init(&fl);
	assert_int_equal(atom_parse(buf, len / 2, &fl, &res, err, sizeof(err)), -1);
	assert_int_equal(res.status, PARSE_BAD_DOC);
	assert_non_null(strstr(err, "not well formed"));
	assert_int_equal(fl.n, 0);
	filing_list_free(&fl);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_feed_has_46_filings_each_once),
		cmocka_unit_test(test_shared_503_html_is_an_error_not_an_empty_feed),
		cmocka_unit_test(test_own_feed_keeps_4_and_4A_merges_repeats_and_skips_bad_entries),
		cmocka_unit_test(test_a_feed_at_the_entry_limit_merges_every_repeat),
		cmocka_unit_test(test_empty_feed_is_zero_entries_without_error),
		cmocka_unit_test(test_other_documents_where_atom_expected_are_errors),
		cmocka_unit_test(test_truncated_feed_is_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
