/*
 * sgml.c - EDGAR submissions in SGML: the full-submission .txt (LF line
 * ends, a "<SEC-HEADER>" of "KEY: value" lines) and the feed's .nc files
 * (bare CR line ends, "<ACCESSION-NUMBER>value" tags).  We read the header
 * for the accession number and the acceptance time, find the document of
 * type 4 or 4/A, and hand the ownershipDocument between <XML> and </XML>
 * to form4_parse().  No regular expressions: a line scanner over the
 * caller's buffer, which is never copied or modified.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "parse_priv.h"
#include "timeutil.h"

#define SRC "edgar-sgml"

/* One line of buf: [b, e), without its CR/LF. */
struct s_line {
	const char *b, *e;
};

/* The line at *p (advancing *p past its terminator); false at the end. */
static bool s_next_line(const char **p, const char *end, struct s_line *l)
{
	const char *q = *p;

	if (q >= end)
		return false;
	l->b = q;
	while (q < end && *q != '\n' && *q != '\r')
		q++;
	l->e = q;
	if (q < end && *q == '\r' && q + 1 < end && q[1] == '\n')
		q++;
	*p = q < end ? q + 1 : q;
	/* Tags may be indented in the .txt header. */
	while (l->b < l->e && (*l->b == ' ' || *l->b == '\t'))
		l->b++;
	while (l->e > l->b && (l->e[-1] == ' ' || l->e[-1] == '\t'))
		l->e--;
	return true;
}

/* Does the line start with prefix?  *rest gets what follows, blanks skipped. */
static bool s_starts(const struct s_line *l, const char *prefix, struct s_line *rest)
{
	size_t n = strlen(prefix);

	if ((size_t)(l->e - l->b) < n || strncasecmp(l->b, prefix, n) != 0)
		return false;
	rest->b = l->b + n;
	rest->e = l->e;
	while (rest->b < rest->e && (*rest->b == ' ' || *rest->b == '\t'))
		rest->b++;
	return true;
}

static bool s_is(const struct s_line *l, const char *s)
{
	return (size_t)(l->e - l->b) == strlen(s) && strncasecmp(l->b, s, strlen(s)) == 0;
}

/* A dashed accession at the start of the text. */
static void s_accession(const struct s_line *v, char out[ACCESSION_LEN])
{
	char tmp[ACCESSION_LEN];

	if (v->e - v->b < 20)
		return;
	memcpy(tmp, v->b, 20);
	tmp[20] = '\0';
	if (accession_valid(tmp) && (v->e - v->b == 20 || !isdigit((unsigned char)v->b[20])))
		memcpy(out, tmp, ACCESSION_LEN);
}

/* "20250428163735", US Eastern, -> UTC. */
static int64_t s_acceptance(const struct s_line *v)
{
	civil_date_t d;
	int f[6], w[6] = { 4, 2, 2, 2, 2, 2 };
	const char *p = v->b;
	int64_t t;

	if (v->e - v->b < 14)
		return REC_NULL_TIME;
	for (int i = 0; i < 6; i++) {
		f[i] = 0;
		for (int k = 0; k < w[i]; k++, p++) {
			if (!isdigit((unsigned char)*p))
				return REC_NULL_TIME;
			f[i] = f[i] * 10 + (*p - '0');
		}
	}
	d.year = f[0];
	d.month = f[1];
	d.day = f[2];
	if (!date_valid(d) || f[3] > 23 || f[4] > 59 || f[5] > 59 ||
	    eastern_to_utc(d, f[3], f[4], f[5], &t) != 0)
		return REC_NULL_TIME;
	return t;
}

static bool s_form4_type(const char *t)
{
	return strcmp(t, "4") == 0 || strcmp(t, "4/A") == 0;
}

int sgml_extract(const char *buf, size_t len, struct sgml_info *info, char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	struct s_line l, v;
	bool in_doc = false, header = true;
	char type[16] = "";
	size_t docs = 0, lines = 0;

	memset(info, 0, sizeof(*info));
	info->accepted_at = REC_NULL_TIME;
	if (parse_doc_too_big(len, SRC, err, errlen))
		return -1;
	while (s_next_line(&p, end, &l)) {
		lines++;
		if (header) {
			if (s_starts(&l, "<ACCEPTANCE-DATETIME>", &v))
				info->accepted_at = s_acceptance(&v);
			else if (s_starts(&l, "ACCESSION NUMBER:", &v) ||
			         s_starts(&l, "<ACCESSION-NUMBER>", &v))
				s_accession(&v, info->accession);
			else if (s_starts(&l, "<SEC-DOCUMENT>", &v) && info->accession[0] == '\0')
				s_accession(&v, info->accession);
		}
		if (s_is(&l, "<DOCUMENT>")) {
			in_doc = true;
			header = false;
			type[0] = '\0';
			docs++;
			continue;
		}
		if (!in_doc)
			continue;
		if (s_is(&l, "</DOCUMENT>")) {
			in_doc = false;
		} else if (s_starts(&l, "<TYPE>", &v) && type[0] == '\0') {
			size_t n = (size_t)(v.e - v.b);
			if (n >= sizeof(type))
				n = sizeof(type) - 1;
			memcpy(type, v.b, n);
			type[n] = '\0';
		} else if (s_starts(&l, "<XML>", &v)) {
			const char *x = l.b + 5, *xe;
			/* The XML runs to </XML>, whatever line ends it uses. */
			xe = memmem(x, (size_t)(end - x), "</XML>", 6);
			if (xe == NULL) {
				snprintf(err, errlen, SRC ": <XML> without </XML> in document %zu",
				         docs);
				return -1;
			}
			if (s_form4_type(type)) {
				while (x < xe && isspace((unsigned char)*x))
					x++;
				while (xe > x && isspace((unsigned char)xe[-1]))
					xe--;
				info->xml = x;
				info->xml_len = (size_t)(xe - x);
				snprintf(info->form, sizeof(info->form), "%.7s", type);
				return 0;
			}
			p = xe + 6; /* another document's XML: skip it whole */
		}
	}
	if (docs == 0)
		snprintf(err, errlen, SRC ": no <DOCUMENT> in %zu lines: not an EDGAR submission",
		         lines);
	else
		snprintf(err, errlen,
		         SRC ": none of the %zu documents is a Form 4 or 4/A with an <XML> part",
		         docs);
	return -1;
}

int sgml_parse(const char *buf, size_t len, const struct parse_ctx *ctx, struct trade_list *out,
               struct parse_result *res, char *err, size_t errlen)
{
	struct parse_result local;
	struct sgml_info info;
	struct parse_ctx c;

	if (res == NULL)
		res = &local;
	parse_result_init(res);
	if (doc_sniff(buf, len) >= DOC_OPENINSIDER) /* some HTML page */
		return parse_html_instead(SRC, "an EDGAR submission", buf, len, res, NULL, 0, err,
		                          errlen);
	if (sgml_extract(buf, len, &info, err, errlen) != 0)
		return parse_fail(res, PARSE_BAD_DOC, NULL, 0, NULL, 0, "-");
	if (ctx != NULL)
		c = *ctx;
	else
		parse_ctx_init(&c);
	if (!accession_valid(c.accession) && info.accession[0] != '\0')
		c.accession = info.accession;
	if (c.filed_at == REC_NULL_TIME)
		c.filed_at = info.accepted_at;
	if (strcmp(info.form, "4/A") == 0)
		c.amendment = true;
	return form4_parse(info.xml, info.xml_len, &c, out, res, err, errlen);
}
