/*
 * openfigi.c - OpenFIGI v3 mapping requests and answers (see openfigi.h).
 *
 * Answers are parsed with jansson, which refuses invalid UTF-8 and "\u0000"
 * in strings, so every string kept here is valid UTF-8 without NULs.
 */
#include "openfigi.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append n bytes of s at *o in buf of len; false when they do not fit
 * (with room left for the final NUL). */
static bool s_key_add(char *buf, size_t len, size_t *o, const char *s, size_t n)
{
	if (n >= len - *o)
		return false;
	memcpy(buf + *o, s, n);
	*o += n;
	return true;
}

/* Built with memcpy, not snprintf: it runs for every trade. */
int openfigi_job_key(const struct figi_job *job, char *buf, size_t len)
{
	const char *tag = "", *code = "";
	size_t o = 0, taglen = 0;

	if (job->id_type == NULL || job->id_value == NULL || len == 0)
		return -1;
	if (job->mic_code != NULL) {
		tag = "|mic=";
		code = job->mic_code;
	} else if (job->exch_code != NULL) {
		tag = "|exch=";
		code = job->exch_code;
	} else {
		tag = "|";
	}
	taglen = strlen(tag);
	if (!s_key_add(buf, len, &o, job->id_type, strlen(job->id_type)) ||
	    !s_key_add(buf, len, &o, "|", 1) ||
	    !s_key_add(buf, len, &o, job->id_value, strlen(job->id_value)) ||
	    !s_key_add(buf, len, &o, tag, taglen) || !s_key_add(buf, len, &o, code, strlen(code))) {
		buf[0] = '\0';
		return -1;
	}
	buf[o] = '\0';
	return 0;
}

int openfigi_request_body(const struct figi_job *jobs, size_t n, char **body, size_t *len,
                          char *err, size_t errlen)
{
	json_t *arr = json_array();
	char *text = NULL;

	*body = NULL;
	*len = 0;
	if (arr == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto nomem;
		if (json_object_set_new(o, "idType", json_string(jobs[i].id_type)) != 0 ||
		    json_object_set_new(o, "idValue", json_string(jobs[i].id_value)) != 0)
			goto bad;
		if (jobs[i].exch_code != NULL &&
		    json_object_set_new(o, "exchCode", json_string(jobs[i].exch_code)) != 0)
			goto bad;
		if (jobs[i].mic_code != NULL &&
		    json_object_set_new(o, "micCode", json_string(jobs[i].mic_code)) != 0)
			goto bad;
	}
	text = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(arr);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*body = text;
	*len = strlen(text);
	return 0;
bad:
	/* json_string() refuses invalid UTF-8: a ticker we could not send. */
	json_decref(arr);
	snprintf(err, errlen, "a job value is not valid UTF-8");
	return -1;
nomem:
	json_decref(arr);
	snprintf(err, errlen, "out of memory");
	return -1;
}

int openfigi_figi_valid(const char *s)
{
	if (s == NULL || strlen(s) != 12 || s[2] != 'G')
		return 0;
	for (size_t i = 0; i < 12; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

void figi_row_free(struct figi_row *r)
{
	if (r == NULL)
		return;
	if (r->block != NULL) {
		free(r->block);
		memset(r, 0, sizeof(*r));
		return;
	}
	free(r->figi);
	free(r->name);
	free(r->ticker);
	free(r->exch_code);
	free(r->composite_figi);
	free(r->security_type);
	free(r->market_sector);
	free(r->share_class_figi);
	free(r->security_type2);
	free(r->security_description);
	memset(r, 0, sizeof(*r));
}

static int s_dup(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? -1 : 0;
}

int figi_row_copy(struct figi_row *d, const struct figi_row *s)
{
	memset(d, 0, sizeof(*d));
	if (s_dup(&d->figi, s->figi) || s_dup(&d->name, s->name) || s_dup(&d->ticker, s->ticker) ||
	    s_dup(&d->exch_code, s->exch_code) || s_dup(&d->composite_figi, s->composite_figi) ||
	    s_dup(&d->security_type, s->security_type) ||
	    s_dup(&d->market_sector, s->market_sector) ||
	    s_dup(&d->share_class_figi, s->share_class_figi) ||
	    s_dup(&d->security_type2, s->security_type2) ||
	    s_dup(&d->security_description, s->security_description)) {
		figi_row_free(d);
		return -1;
	}
	return 0;
}

void openfigi_results_free(struct figi_result *res, size_t n)
{
	for (size_t i = 0; res != NULL && i < n; i++) {
		for (size_t k = 0; k < res[i].n_rows; k++)
			figi_row_free(&res[i].rows[k]);
		free(res[i].rows);
		free(res[i].message);
		memset(&res[i], 0, sizeof(res[i]));
	}
}

/* A text field of a row: a string of sane length, else null.  Returns -1
 * only when out of memory. */
static int s_field(json_t *obj, const char *name, char **out)
{
	json_t *v = json_object_get(obj, name);
	const char *s;

	*out = NULL;
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	if (json_string_length(v) > OPENFIGI_MAX_FIELD)
		return 0;
	*out = strdup(s);
	return *out == NULL ? -1 : 0;
}

/* Fill row from one FIGI object.  1 usable, 0 skipped, -1 out of memory. */
static int s_row(json_t *o, struct figi_row *row)
{
	memset(row, 0, sizeof(*row));
	if (!json_is_object(o))
		return 0;
	if (s_field(o, "figi", &row->figi) != 0)
		return -1;
	if (!openfigi_figi_valid(row->figi)) {
		figi_row_free(row);
		return 0;
	}
	if (s_field(o, "name", &row->name) || s_field(o, "ticker", &row->ticker) ||
	    s_field(o, "exchCode", &row->exch_code) ||
	    s_field(o, "compositeFIGI", &row->composite_figi) ||
	    s_field(o, "securityType", &row->security_type) ||
	    s_field(o, "marketSector", &row->market_sector) ||
	    s_field(o, "shareClassFIGI", &row->share_class_figi) ||
	    s_field(o, "securityType2", &row->security_type2) ||
	    s_field(o, "securityDescription", &row->security_description)) {
		figi_row_free(row);
		return -1;
	}
	/* Identifiers we act on must look like FIGIs; a malformed one is
	 * treated as absent. */
	if (row->composite_figi != NULL && !openfigi_figi_valid(row->composite_figi)) {
		free(row->composite_figi);
		row->composite_figi = NULL;
	}
	if (row->share_class_figi != NULL && !openfigi_figi_valid(row->share_class_figi)) {
		free(row->share_class_figi);
		row->share_class_figi = NULL;
	}
	return 1;
}

static int s_set_message(struct figi_result *r, const char *fmt, const char *s)
{
	char buf[OPENFIGI_MAX_FIELD + 64];

	snprintf(buf, sizeof(buf), fmt, s);
	r->message = strdup(buf);
	return r->message == NULL ? -1 : 0;
}

/* One element of the answer array.  0, or -1 when out of memory. */
static int s_element(json_t *e, struct figi_result *r)
{
	json_t *data, *warn, *error;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(e)) {
		r->kind = FIGI_BAD;
		return s_set_message(r, "%s", "answer element is not an object");
	}
	data = json_object_get(e, "data");
	warn = json_object_get(e, "warning");
	error = json_object_get(e, "error");
	if (error != NULL) {
		r->kind = FIGI_ERROR;
		if (json_is_string(error) && json_string_length(error) <= OPENFIGI_MAX_FIELD)
			return s_set_message(r, "%s", json_string_value(error));
		return s_set_message(r, "%s", "error (no readable text)");
	}
	if (data == NULL && warn != NULL) {
		r->kind = FIGI_NOT_FOUND;
		if (json_is_string(warn) && json_string_length(warn) <= OPENFIGI_MAX_FIELD)
			return s_set_message(r, "%s", json_string_value(warn));
		return s_set_message(r, "%s", "warning (no readable text)");
	}
	if (!json_is_array(data)) {
		r->kind = FIGI_BAD;
		return s_set_message(r, "%s", "answer element has no data, warning or error");
	}
	n = json_array_size(data);
	if (n > OPENFIGI_MAX_ROWS) {
		r->kind = FIGI_BAD;
		return s_set_message(r, "%s", "answer element has too many rows");
	}
	r->rows = calloc(n > 0 ? n : 1, sizeof(*r->rows));
	if (r->rows == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int rc = s_row(json_array_get(data, i), &r->rows[r->n_rows]);

		if (rc < 0)
			return -1;
		r->n_rows += (size_t)rc;
	}
	if (r->n_rows == 0) {
		r->kind = FIGI_NOT_FOUND;
		return s_set_message(r, "%s",
		                     n == 0 ? "empty data" : "no row with a well-formed figi");
	}
	r->kind = FIGI_FOUND;
	return 0;
}

int openfigi_parse(const char *body, size_t len, size_t n_jobs, struct figi_result *res, char *err,
                   size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	size_t i;

	if (body == NULL) {
		snprintf(err, errlen, "empty answer");
		return -1;
	}
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "answer is not JSON: %s (line %d)", jerr.text, jerr.line);
		return json_error_code(&jerr) == json_error_out_of_memory ? -2 : -1;
	}
	if (!json_is_array(root)) {
		snprintf(err, errlen, "answer is not an array");
		json_decref(root);
		return -1;
	}
	if (json_array_size(root) != n_jobs) {
		snprintf(err, errlen, "answer has %zu elements for %zu jobs", json_array_size(root),
		         n_jobs);
		json_decref(root);
		return -1;
	}
	for (i = 0; i < n_jobs; i++) {
		if (s_element(json_array_get(root, i), &res[i]) != 0) {
			openfigi_results_free(res, i + 1);
			json_decref(root);
			snprintf(err, errlen, "out of memory");
			return -2;
		}
	}
	json_decref(root);
	return 0;
}

/* ---- the choice rule ----------------------------------------------------- */

static bool s_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Lower is better: what kind of security the row is. */
static int s_kind_rank(const struct figi_row *r)
{
	if (s_eq(r->security_type2, "Common Stock"))
		return 0;
	if (s_eq(r->security_type, "Common Stock"))
		return 1;
	if (s_eq(r->security_type2, "Depositary Receipt"))
		return 2;
	if (s_eq(r->market_sector, "Equity"))
		return 3;
	return 4;
}

/* Negative when a is the better answer to job, positive when b is. */
static int s_compare(const struct figi_row *a, const struct figi_row *b, const struct figi_job *job)
{
	int d = s_kind_rank(a) - s_kind_rank(b);

	if (d != 0)
		return d;
	if (job != NULL && job->exch_code != NULL) {
		d = (int)s_eq(b->exch_code, job->exch_code) -
		    (int)s_eq(a->exch_code, job->exch_code);
		if (d != 0)
			return d;
	}
	d = (int)s_eq(b->figi, b->composite_figi) - (int)s_eq(a->figi, a->composite_figi);
	if (d != 0)
		return d;
	return strcmp(a->figi, b->figi);
}

long openfigi_choose(const struct figi_row *rows, size_t n, const struct figi_job *job)
{
	long best = -1;

	for (size_t i = 0; i < n; i++)
		if (best < 0 || s_compare(&rows[i], &rows[best], job) < 0)
			best = (long)i;
	return best;
}
