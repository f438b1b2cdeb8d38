/*
 * test_openfigi.c - OpenFIGI v3 mapping: request bodies, reading answers
 * (the project's fixtures and the shared recorded ones), and the rule that
 * picks one row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../mapper/openfigi.h"
#include "support/testutil.h"

/* Parse tests/fixtures/openfigi/NAME for n jobs; returns the rc. */
static int s_parse_fixture(const char *name, size_t n, struct figi_result *res, char *err,
                           size_t errlen)
{
	char path[1024];
	size_t len;
	char *body;
	int rc;

	snprintf(path, sizeof(path), "%s/openfigi/%s", test_fixtures(), name);
	body = test_read_file(path, &len);
	if (body == NULL)
		fail_msg("cannot read %s", path);
	rc = openfigi_parse(body, len, n, res, err, errlen);
	free(body);
	return rc;
}

static void test_request_body_is_the_jobs_in_order(void **state)
{
	const struct figi_job jobs[] = {
		{ "TICKER", "IBM", "US", NULL },
		{ "TICKER", "BRK/B", "US", NULL },
		{ "ID_BB_GLOBAL_SHARE_CLASS_LEVEL", "BBG001S5N8V8", NULL, "XETR" },
	};
	char err[128], *body;
	size_t len;

	(void)state;
	assert_int_equal(openfigi_request_body(jobs, 3, &body, &len, err, sizeof(err)), 0);
	assert_string_equal(body,
	                    "[{\"idType\":\"TICKER\",\"idValue\":\"IBM\",\"exchCode\":\"US\"},"
	                    "{\"idType\":\"TICKER\",\"idValue\":\"BRK/B\",\"exchCode\":\"US\"},"
	                    "{\"idType\":\"ID_BB_GLOBAL_SHARE_CLASS_LEVEL\","
	                    "\"idValue\":\"BBG001S5N8V8\",\"micCode\":\"XETR\"}]");
	assert_int_equal(len, strlen(body));
	free(body);
}

static void test_request_body_refuses_a_value_that_is_not_utf8(void **state)
{
	const struct figi_job jobs[] = { { "TICKER", "AB\xff", "US", NULL } };
	char err[128], *body = (char *)1;
	size_t len;

	(void)state;
	assert_int_equal(openfigi_request_body(jobs, 1, &body, &len, err, sizeof(err)), -1);
	assert_null(body);
	assert_non_null(strstr(err, "UTF-8"));
}

static void test_job_key_names_the_venue(void **state)
{
	const struct figi_job us = { "TICKER", "IBM", "US", NULL };
	const struct figi_job mic = { "ID_BB_GLOBAL_SHARE_CLASS_LEVEL", "BBG001S5N8V8", NULL,
		                      "XETR" };
	const struct figi_job none = { "TICKER", "IBM", NULL, NULL };
	char k[OPENFIGI_KEY_LEN], small[8];

	(void)state;
	assert_int_equal(openfigi_job_key(&us, k, sizeof(k)), 0);
	assert_string_equal(k, "TICKER|IBM|exch=US");
	assert_int_equal(openfigi_job_key(&mic, k, sizeof(k)), 0);
	assert_string_equal(k, "ID_BB_GLOBAL_SHARE_CLASS_LEVEL|BBG001S5N8V8|mic=XETR");
	assert_int_equal(openfigi_job_key(&none, k, sizeof(k)), 0);
	assert_string_equal(k, "TICKER|IBM|");
	assert_int_equal(openfigi_job_key(&us, small, sizeof(small)), -1);
	/* 18 characters and the NUL fit in 19 bytes, not in 18. */
	assert_int_equal(openfigi_job_key(&us, k, 19), 0);
	assert_string_equal(k, "TICKER|IBM|exch=US");
	assert_int_equal(openfigi_job_key(&us, k, 18), -1);
	assert_int_equal(openfigi_job_key(&us, k, 0), -1);
}

static void test_one_us_composite_row_is_found(void **state)
{
	struct figi_result res[1];
	char err[256];

	(void)state;
	assert_int_equal(
	    s_parse_fixture("mapping_ticker_IBM_exchUS.json", 1, res, err, sizeof(err)), 0);
	assert_int_equal(res[0].kind, FIGI_FOUND);
	assert_int_equal(res[0].n_rows, 1);
	assert_string_equal(res[0].rows[0].figi, "BBG000BLNNH6");
	assert_string_equal(res[0].rows[0].composite_figi, "BBG000BLNNH6");
	assert_string_equal(res[0].rows[0].share_class_figi, "BBG001S5S399");
	assert_string_equal(res[0].rows[0].name, "INTL BUSINESS MACHINES CORP");
	assert_string_equal(res[0].rows[0].exch_code, "US");
	assert_string_equal(res[0].rows[0].security_type2, "Common Stock");
	openfigi_results_free(res, 1);
}

static void test_answers_align_with_jobs_data_warning_error(void **state)
{
	struct figi_result res[4];
	char err[256];

	(void)state;
	assert_int_equal(s_parse_fixture("mapping_mixed_batch.json", 4, res, err, sizeof(err)), 0);
	assert_int_equal(res[0].kind, FIGI_FOUND);
	assert_string_equal(res[0].rows[0].ticker, "AAPL");
	assert_int_equal(res[1].kind, FIGI_NOT_FOUND);
	assert_string_equal(res[1].message, "No identifier found.");
	assert_int_equal(res[2].kind, FIGI_ERROR);
	assert_string_equal(res[2].message, "Invalid idValue format.");
	assert_int_equal(res[3].kind, FIGI_FOUND);
	assert_null(res[3].rows[0].share_class_figi); /* options have none */
	assert_string_equal(res[3].rows[0].security_type, "Equity Option");
	openfigi_results_free(res, 4);
}

static void test_an_answer_of_the_wrong_length_is_refused_whole(void **state)
{
	struct figi_result res[3];
	char err[256];

	(void)state;
	memset(res, 0, sizeof(res));
	assert_int_equal(s_parse_fixture("mapping_unaligned.json", 3, res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2 elements for 3 jobs"));
	assert_int_equal(res[0].kind, 0);
}

static void test_not_json_or_not_an_array_is_refused(void **state)
{
	struct figi_result res[1];
	char err[256];
	const char *bodies[] = {
		"", "Too Many Requests", "{\"data\":[]}", "[{\"data\":[]}", "[1,2", "null"
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		err[0] = '\0';
		assert_int_equal(
		    openfigi_parse(bodies[i], strlen(bodies[i]), 1, res, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(openfigi_parse(NULL, 0, 1, res, err, sizeof(err)), -1);
}

static void test_a_hostile_element_costs_only_its_job(void **state)
{
	struct figi_result res[6];
	char err[256];

	(void)state;
	assert_int_equal(s_parse_fixture("mapping_hostile_elements.json", 6, res, err, sizeof(err)),
	                 0);
	assert_int_equal(res[0].kind, FIGI_BAD);
	assert_int_equal(res[1].kind, FIGI_BAD);
	assert_int_equal(res[2].kind, FIGI_BAD);
	/* A numeric figi is skipped; the other row is kept with its bad
	 * fields read as null. */
	assert_int_equal(res[3].kind, FIGI_FOUND);
	assert_int_equal(res[3].n_rows, 1);
	assert_string_equal(res[3].rows[0].figi, "BBG000BLNNH6");
	assert_null(res[3].rows[0].name);                 /* an array */
	assert_null(res[3].rows[0].share_class_figi);     /* not a FIGI */
	assert_null(res[3].rows[0].security_description); /* 5000 bytes */
	assert_string_equal(res[3].rows[0].ticker, "IBM");
	assert_int_equal(res[4].kind, FIGI_NOT_FOUND); /* empty data */
	assert_int_equal(res[5].kind, FIGI_ERROR);
	assert_non_null(res[5].message);
	openfigi_results_free(res, 6);
}

static void test_rows_without_a_wellformed_figi_are_skipped(void **state)
{
	struct figi_result res[1];
	char err[256];

	(void)state;
	assert_int_equal(
	    s_parse_fixture("mapping_several_securities.json", 1, res, err, sizeof(err)), 0);
	assert_int_equal(res[0].kind, FIGI_FOUND);
	assert_int_equal(res[0].n_rows, 5); /* of 7: a null figi and "BBG-BAD-FIGI" */
	for (size_t i = 0; i < res[0].n_rows; i++)
		assert_true(openfigi_figi_valid(res[0].rows[i].figi));
	openfigi_results_free(res, 1);
}

static void test_figi_format(void **state)
{
	(void)state;
	assert_true(openfigi_figi_valid("BBG000BLNNH6"));
	assert_false(openfigi_figi_valid("BBG000BLNNH"));
	assert_false(openfigi_figi_valid("BBG000BLNNH67"));
	assert_false(openfigi_figi_valid("bbg000blnnh6"));
	assert_false(openfigi_figi_valid("BBX000BLNNH6"));
	assert_false(openfigi_figi_valid(NULL));
}

/* ---- the choice rule ---- */

static struct figi_row s_row(const char *figi, const char *exch, const char *composite,
                             const char *stype, const char *stype2, const char *sector)
{
	struct figi_row r = { 0 };

	r.figi = (char *)figi;
	r.exch_code = (char *)exch;
	r.composite_figi = (char *)composite;
	r.security_type = (char *)stype;
	r.security_type2 = (char *)stype2;
	r.market_sector = (char *)sector;
	return r;
}

static void test_common_stock_beats_preferred_adr_and_warrant(void **state)
{
	struct figi_result res[1];
	const struct figi_job job = { "TICKER", "MULTI", "US", NULL };
	char err[256];
	long k;

	(void)state;
	assert_int_equal(
	    s_parse_fixture("mapping_several_securities.json", 1, res, err, sizeof(err)), 0);
	k = openfigi_choose(res[0].rows, res[0].n_rows, &job);
	assert_true(k >= 0);
	/* Common stock, on the venue asked for, the composite row. */
	assert_string_equal(res[0].rows[k].figi, "BBG00MULTUS0");
	openfigi_results_free(res, 1);
}

static void test_choice_steps_in_order(void **state)
{
	const struct figi_job us = { "TICKER", "X", "US", NULL };
	const struct figi_job gy = { "ID_BB_GLOBAL_SHARE_CLASS_LEVEL", "X", "GY", NULL };
	struct figi_row rows[4] = { { 0 } };

	(void)state;
	assert_int_equal(openfigi_choose(rows, 0, &us), -1);

	/* a. securityType2 Common Stock before securityType Common Stock
	 * before a depositary receipt before other equity. */
	rows[0] = s_row("BBG000000001", "US", "BBG000000001", "REIT", "REIT", "Equity");
	rows[1] =
	    s_row("BBG000000002", "US", "BBG000000002", "ADR", "Depositary Receipt", "Equity");
	rows[2] = s_row("BBG000000003", "US", "BBG000000003", "Common Stock", NULL, "Equity");
	rows[3] =
	    s_row("BBG000000009", "UN", "BBG000000008", "Common Stock", "Common Stock", "Equity");
	assert_int_equal(openfigi_choose(rows, 4, &us), 3);
	assert_int_equal(openfigi_choose(rows, 3, &us), 2);
	assert_int_equal(openfigi_choose(rows, 2, &us), 1);

	/* b. the exchCode asked for, over a composite elsewhere. */
	rows[0] =
	    s_row("BBG000000001", "GR", "BBG000000001", "Common Stock", "Common Stock", "Equity");
	rows[1] =
	    s_row("BBG000000005", "GY", "BBG000000001", "Common Stock", "Common Stock", "Equity");
	assert_int_equal(openfigi_choose(rows, 2, &gy), 1);

	/* c. the composite row over a venue's, when neither is asked for. */
	rows[0] =
	    s_row("BBG000000001", "UN", "BBG000000009", "Common Stock", "Common Stock", "Equity");
	rows[1] =
	    s_row("BBG000000009", "UQ", "BBG000000009", "Common Stock", "Common Stock", "Equity");
	assert_int_equal(openfigi_choose(rows, 2, &us), 1);

	/* d. the smallest figi. */
	rows[0] =
	    s_row("BBG000000007", "US", "BBG000000007", "Common Stock", "Common Stock", "Equity");
	rows[1] =
	    s_row("BBG000000004", "US", "BBG000000004", "Common Stock", "Common Stock", "Equity");
	rows[2] =
	    s_row("BBG000000006", "US", "BBG000000006", "Common Stock", "Common Stock", "Equity");
	assert_int_equal(openfigi_choose(rows, 3, &us), 1);
}

static void test_choice_does_not_depend_on_row_order(void **state)
{
	struct figi_result res[1];
	const struct figi_job job = { "TICKER", "MULTI", "US", NULL };
	struct figi_row shuffled[16];
	char err[256];
	size_t n;

	(void)state;
	assert_int_equal(
	    s_parse_fixture("mapping_several_securities.json", 1, res, err, sizeof(err)), 0);
	n = res[0].n_rows;
	assert_true(n <= 16);
	/* Every rotation and its reverse. */
	for (size_t rot = 0; rot < n; rot++) {
		for (int rev = 0; rev < 2; rev++) {
			long k;

			for (size_t i = 0; i < n; i++) {
				size_t src = (i + rot) % n;

				shuffled[rev ? n - 1 - i : i] = res[0].rows[src];
			}
			k = openfigi_choose(shuffled, n, &job);
			assert_string_equal(shuffled[k].figi, "BBG00MULTUS0");
		}
	}
	openfigi_results_free(res, 1);
}

static void test_row_copy_is_deep(void **state)
{
	struct figi_result res[1];
	struct figi_row copy;
	char err[256];

	(void)state;
	assert_int_equal(
	    s_parse_fixture("mapping_shareclass_AAPL_micXETR.json", 1, res, err, sizeof(err)), 0);
	assert_int_equal(figi_row_copy(&copy, &res[0].rows[0]), 0);
	openfigi_results_free(res, 1);
	assert_string_equal(copy.ticker, "APC");
	assert_string_equal(copy.exch_code, "GY");
	assert_string_equal(copy.share_class_figi, "BBG001S5N8V8");
	figi_row_free(&copy);
	assert_null(copy.figi);
}

/* ---- the shared recorded answers ---- */

/* Parse a recorded answer with as many jobs as it has elements. */
static int s_parse_shared(const char *dir, const char *name, struct figi_result **res, size_t *n)
{
	char path[2048], err[256];
	json_t *root;
	size_t len;
	char *body;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	body = test_read_file(path, &len);
	if (body == NULL)
		return -2;
	root = json_loadb(body, len, 0, NULL);
	if (!json_is_array(root)) {
		/* search/filter answers are objects: refused as mapping answers */
		json_decref(root);
		*res = calloc(1, sizeof(**res));
		rc = openfigi_parse(body, len, 1, *res, err, sizeof(err));
		free(body);
		*n = 0;
		return rc == -1 ? 1 : -3;
	}
	*n = json_array_size(root);
	json_decref(root);
	*res = calloc(*n > 0 ? *n : 1, sizeof(**res));
	rc = openfigi_parse(body, len, *n, *res, err, sizeof(err));
	free(body);
	if (rc != 0)
		fail_msg("%s: %s", name, err);
	return 0;
}

static void s_free_results(struct figi_result *res, size_t n)
{
	openfigi_results_free(res, n);
	free(res);
}

static void test_every_shared_recorded_answer_parses(void **state)
{
	const char *root = test_shared_fixtures();
	const char *subdirs[] = { "openfigi", "apis/openfigi" };
	int seen = 0;

	(void)state;
	if (root == NULL)
		skip();
	for (size_t s = 0; s < 2; s++) {
		char dir[1024];
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/%s", root, subdirs[s]);
		d = opendir(dir);
		if (d == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			struct figi_result *res = NULL;
			size_t n = 0, len = strlen(e->d_name);

			if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0)
				continue;
			assert_true(s_parse_shared(dir, e->d_name, &res, &n) >= 0);
			for (size_t i = 0; i < n; i++) {
				assert_true(res[i].kind == FIGI_FOUND ||
				            res[i].kind == FIGI_NOT_FOUND ||
				            res[i].kind == FIGI_ERROR);
				if (res[i].kind == FIGI_FOUND)
					assert_true(
					    openfigi_choose(res[i].rows, res[i].n_rows, NULL) >= 0);
			}
			s_free_results(res, n);
			seen++;
		}
		closedir(d);
	}
	assert_true(seen >= 10);
}

static void test_recorded_ibm_listings_choose_the_us_composite(void **state)
{
	const char *root = test_shared_fixtures();
	const struct figi_job job = { "TICKER", "IBM", "US", NULL };
	struct figi_result *res;
	char dir[1024];
	size_t n;
	long k;

	(void)state;
	if (root == NULL)
		skip();
	snprintf(dir, sizeof(dir), "%s/openfigi", root);
	/* TICKER IBM without exchCode: 61 listings around the world. */
	assert_int_equal(s_parse_shared(dir, "mapping_ticker_with_security_type.json", &res, &n),
	                 0);
	assert_int_equal(n, 1);
	assert_int_equal(res[0].kind, FIGI_FOUND);
	assert_true(res[0].n_rows > 10);
	k = openfigi_choose(res[0].rows, res[0].n_rows, &job);
	assert_string_equal(res[0].rows[k].figi, "BBG000BLNNH6");
	assert_string_equal(res[0].rows[k].exch_code, "US");
	s_free_results(res, n);
}

static void test_recorded_warning_error_and_bulk_answers(void **state)
{
	const char *root = test_shared_fixtures();
	struct figi_result *res;
	char dir[1024];
	size_t n;

	(void)state;
	if (root == NULL)
		skip();
	snprintf(dir, sizeof(dir), "%s/apis/openfigi", root);
	assert_int_equal(s_parse_shared(dir, "mapping_resp_no_identifier_found.json", &res, &n), 0);
	assert_int_equal(res[0].kind, FIGI_NOT_FOUND);
	assert_string_equal(res[0].message, "No identifier found.");
	s_free_results(res, n);

	assert_int_equal(s_parse_shared(dir, "mapping_resp_invalid_idValue.json", &res, &n), 0);
	assert_int_equal(res[0].kind, FIGI_ERROR);
	assert_string_equal(res[0].message, "Invalid idValue format.");
	s_free_results(res, n);

	assert_int_equal(s_parse_shared(dir, "mapping_resp_bulk_isinIBM_tickerAAPL.json", &res, &n),
	                 0);
	assert_int_equal(n, 2);
	assert_int_equal(res[0].kind, FIGI_FOUND);
	assert_int_equal(res[1].kind, FIGI_FOUND);
	/* Aligned: element 0 is IBM's ISIN, element 1 AAPL's ticker. */
	assert_string_equal(res[0].rows[0].share_class_figi, "BBG001S5S399");
	assert_string_equal(res[1].rows[0].share_class_figi, "BBG001S5N8V8");
	s_free_results(res, n);

	assert_int_equal(
	    s_parse_shared(dir, "mapping_resp_isin_US0378331005_EUR_micXETR.json", &res, &n), 0);
	assert_string_equal(res[0].rows[0].ticker, "APC");
	assert_string_equal(res[0].rows[0].exch_code, "GY");
	s_free_results(res, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_body_is_the_jobs_in_order),
		cmocka_unit_test(test_request_body_refuses_a_value_that_is_not_utf8),
		cmocka_unit_test(test_job_key_names_the_venue),
		cmocka_unit_test(test_one_us_composite_row_is_found),
		cmocka_unit_test(test_answers_align_with_jobs_data_warning_error),
		cmocka_unit_test(test_an_answer_of_the_wrong_length_is_refused_whole),
		cmocka_unit_test(test_not_json_or_not_an_array_is_refused),
		cmocka_unit_test(test_a_hostile_element_costs_only_its_job),
		cmocka_unit_test(test_rows_without_a_wellformed_figi_are_skipped),
		cmocka_unit_test(test_figi_format),
		cmocka_unit_test(test_common_stock_beats_preferred_adr_and_warrant),
		cmocka_unit_test(test_choice_steps_in_order),
		cmocka_unit_test(test_choice_does_not_depend_on_row_order),
		cmocka_unit_test(test_row_copy_is_deep),
		cmocka_unit_test(test_every_shared_recorded_answer_parses),
		cmocka_unit_test(test_recorded_ibm_listings_choose_the_us_composite),
		cmocka_unit_test(test_recorded_warning_error_and_bulk_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
