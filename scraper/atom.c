/*
 * atom.c - EDGAR's getcurrent Atom feed -> the Form 4 filings it announces.
 *
 * Two traps (SOURCES.md 3): every filing appears at least twice (a
 * Reporting and an Issuer entry, with different CIKs in the link), so
 * entries are merged by accession number; and type=4 is a prefix match
 * (4/A, 424B2, 425, ...), so only the category terms "4" and "4/A" are
 * kept.  When SEC is down the same URL answers with an HTML apology page:
 * that is an error, never an empty feed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htmlutil.h"
#include "parse.h"
#include "parse_priv.h"
#include "timeutil.h"

#define SRC "edgar"

void filing_list_init(struct filing_list *l)
{
	memset(l, 0, sizeof(*l));
}

void filing_list_free(struct filing_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].index_url);
	free(l->items);
	filing_list_init(l);
}

const struct edgar_filing *filing_list_find(const struct filing_list *l, const char *accession)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].accession, accession) == 0)
			return &l->items[i];
	return NULL;
}

/* "accession-number=0002063236-25-000004" in the entry's <id>. */
static bool s_acc_from_id(const char *id, char out[ACCESSION_LEN])
{
	const char *p = strstr(id, "accession-number=");
	char tmp[ACCESSION_LEN];

	if (p == NULL)
		return false;
	p += strlen("accession-number=");
	if (strlen(p) < 20)
		return false;
	memcpy(tmp, p, 20);
	tmp[20] = '\0';
	if (!accession_valid(tmp) || isdigit((unsigned char)p[20]))
		return false;
	memcpy(out, tmp, ACCESSION_LEN);
	return true;
}

/* "AccNo: 0002063236-25-000004" in the summary's text. */
static bool s_acc_from_summary(const char *s, char out[ACCESSION_LEN])
{
	const char *p = strstr(s, "AccNo:");

	if (p == NULL)
		return false;
	p += 6;
	while (*p == ' ')
		p++;
	return accession_from_url(p, out) == 0;
}

/*
 * "4 - Perez Daniel Antonio (0002063236) (Reporting)": the CIK in the
 * second-to-last parentheses, the role in the last.  Names may hold
 * parentheses too, so read from the end.
 */
static void s_title_cik_role(const char *title, char cik[CIK_LEN], char *role, size_t rlen)
{
	const char *e = title + strlen(title), *ro, *ce, *co;
	char tmp[24];

	cik[0] = '\0';
	role[0] = '\0';
	while (e > title && e[-1] == ' ')
		e--;
	if (e == title || e[-1] != ')')
		return;
	for (ro = e - 1; ro > title && *ro != '('; ro--)
		;
	if (*ro != '(')
		return;
	snprintf(role, rlen, "%.*s", (int)(e - 1 - (ro + 1)), ro + 1);
	for (ce = ro; ce > title && ce[-1] == ' '; ce--)
		;
	if (ce == title || ce[-1] != ')')
		return;
	for (co = ce - 1; co > title && *co != '('; co--)
		;
	if (*co != '(' || ce - 1 - (co + 1) >= (long)sizeof(tmp))
		return;
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(ce - 1 - (co + 1)), co + 1);
	if (cik_normalize(tmp, cik) != 0)
		cik[0] = '\0';
}

/*
 * The accessions of a filing list while one feed is read: open addressing
 * over item positions, so that merging an entry into the filing it repeats
 * costs O(1) (filing_list_find per entry made a 10000-entry feed cost 50
 * million string compares).
 */
struct s_accidx {
	size_t *slot; /* position + 1 of the filing; 0: empty */
	size_t cap;   /* a power of two, at least twice the filings */
};

/* The slot of acc, or the empty slot where it would go. */
static size_t *s_acc_slot(const struct s_accidx *ix, const struct filing_list *l, const char *acc)
{
	size_t m = ix->cap - 1;

	for (size_t i = parse_str_hash(acc) & m;; i = (i + 1) & m)
		if (ix->slot[i] == 0 || strcmp(l->items[ix->slot[i] - 1].accession, acc) == 0)
			return &ix->slot[i];
}

/* Room in ix for one filing more than l holds, every filing of l indexed
 * (the first of a repeated accession, as filing_list_find finds).  -1: no
 * memory. */
static int s_acc_reserve(struct s_accidx *ix, const struct filing_list *l)
{
	size_t cap = ix->cap ? ix->cap : 64;

	if ((l->n + 1) * 2 <= ix->cap)
		return 0;
	while (cap < (l->n + 1) * 2)
		cap *= 2;
	free(ix->slot);
	ix->slot = calloc(cap, sizeof(*ix->slot));
	ix->cap = ix->slot != NULL ? cap : 0;
	if (ix->slot == NULL)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		size_t *sl = s_acc_slot(ix, l, l->items[i].accession);

		if (*sl == 0)
			*sl = i + 1;
	}
	return 0;
}

/* One <entry>: appended, merged, dropped or skipped.  -1: no memory. */
static int s_entry(xmlNodePtr e, struct filing_list *out, struct s_accidx *ix,
                   struct parse_result *res)
{
	size_t *sl;
	char term[32] = "", id[256], href[1024] = "", title[512], updated[64], role[32];
	char acc[ACCESSION_LEN] = "", title_cik[CIK_LEN], link_cik[CIK_LEN];
	struct edgar_filing *f;
	int64_t t;

	res->rows++;
	for (xmlNodePtr c = hu_child(e, "category"); c != NULL; c = hu_next_elem(c, "category"))
		if (hu_attr(c, "term", term, sizeof(term)) > 0)
			break;
	if (term[0] == '\0') {
		parse_note(res, true, "entry without a form type");
		return 0;
	}
	if (strcmp(term, "4") != 0 && strcmp(term, "4/A") != 0) {
		parse_note(res, false, "form %.16s", term);
		return 0;
	}
	for (xmlNodePtr c = hu_child(e, "link"); c != NULL; c = hu_next_elem(c, "link")) {
		char rel[32];
		hu_attr(c, "rel", rel, sizeof(rel));
		if (rel[0] == '\0' || strcmp(rel, "alternate") == 0) {
			hu_attr(c, "href", href, sizeof(href));
			break;
		}
	}
	hu_text(hu_child(e, "id"), id, sizeof(id));
	if (!s_acc_from_id(id, acc) && accession_from_url(href, acc) != 0) {
		char summary[512];
		hu_text(hu_child(e, "summary"), summary, sizeof(summary));
		if (!s_acc_from_summary(summary, acc)) {
			parse_note(res, true, "entry without an accession number");
			return 0;
		}
	}
	hu_text(hu_child(e, "title"), title, sizeof(title));
	s_title_cik_role(title, title_cik, role, sizeof(role));
	if (parse_archive_cik(href, link_cik) != 0)
		link_cik[0] = '\0';
	if (title_cik[0] == '\0')
		memcpy(title_cik, link_cik, CIK_LEN);
	hu_text(hu_child(e, "updated"), updated, sizeof(updated));
	if (time_parse_rfc3339(updated, &t) != 0)
		t = REC_NULL_TIME;

	if (s_acc_reserve(ix, out) != 0)
		return -1;
	sl = s_acc_slot(ix, out, acc);
	f = *sl != 0 ? &out->items[*sl - 1] : NULL;
	if (f == NULL) {
		if (out->n == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 64;
			struct edgar_filing *items = realloc(out->items, cap * sizeof(*items));
			if (items == NULL)
				return -1;
			out->items = items;
			out->cap = cap;
		}
		f = &out->items[out->n];
		memset(f, 0, sizeof(*f));
		memcpy(f->accession, acc, ACCESSION_LEN);
		snprintf(f->form, sizeof(f->form), "%.7s", term);
		memcpy(f->cik, link_cik[0] ? link_cik : title_cik, CIK_LEN);
		if (href[0] != '\0') {
			f->index_url = strdup(href);
			if (f->index_url == NULL)
				return -1;
		}
		f->accepted_at = t;
		*sl = ++out->n;
		res->trades++;
	} else {
		parse_note(res, false, "repeated accession");
		if (f->index_url == NULL && href[0] != '\0' &&
		    (f->index_url = strdup(href)) == NULL)
			return -1;
		if (f->accepted_at == REC_NULL_TIME)
			f->accepted_at = t;
		if (f->cik[0] == '\0')
			memcpy(f->cik, link_cik[0] ? link_cik : title_cik, CIK_LEN);
	}
	if (strcasecmp(role, "Issuer") == 0 && f->issuer_cik[0] == '\0')
		memcpy(f->issuer_cik, title_cik, CIK_LEN);
	else if (strcasecmp(role, "Reporting") == 0 && f->owner_cik[0] == '\0')
		memcpy(f->owner_cik, title_cik, CIK_LEN);
	return 0;
}

int atom_parse(const char *buf, size_t len, struct filing_list *out, struct parse_result *res,
               char *err, size_t errlen)
{
	struct parse_result local;
	struct s_accidx ix = { NULL, 0 };
	xmlDocPtr doc;
	xmlNodePtr root;
	size_t mark = out->n;
	bool dtd;
	int rc = 0;

	if (res == NULL)
		res = &local;
	parse_result_init(res);
	while (len > 0 && isspace((unsigned char)*buf)) {
		buf++;
		len--;
	}
	if (len > 0 && doc_sniff(buf, len) >= DOC_OPENINSIDER) /* some HTML page */
		return parse_html_instead(SRC, "an Atom feed", buf, len, res, NULL, 0, err, errlen);
	doc = hu_xml_read(buf, len, SRC, &dtd, err, errlen);
	if (doc == NULL)
		return parse_fail(res, PARSE_BAD_DOC, NULL, 0, NULL, 0, "-");
	root = xmlDocGetRootElement(doc);
	if (!hu_is(root, "feed")) {
		rc = parse_fail(res, PARSE_SHAPE, NULL, 0, err, errlen,
		                SRC ": expected an Atom feed, got a <%.40s> document",
		                (const char *)root->name);
		goto done;
	}
	for (xmlNodePtr e = hu_child(root, "entry"); e != NULL; e = hu_next_elem(e, "entry")) {
		if (res->rows >= PARSE_MAX_ROWS) {
			parse_note(res, true, "over the %d-entry limit", PARSE_MAX_ROWS);
			break;
		}
		if (s_entry(e, out, &ix, res) != 0) {
			/* Undo this call's appends so out stays as it was. */
			while (out->n > mark)
				free(out->items[--out->n].index_url);
			rc = parse_fail(res, PARSE_NOMEM, NULL, 0, err, errlen,
			                SRC ": out of memory");
			goto done;
		}
	}
	if (res->rows > 0 && res->trades == 0 && res->skipped == res->rows) {
		while (out->n > mark)
			free(out->items[--out->n].index_url);
		rc = parse_fail(res, PARSE_ROWS_BAD, NULL, 0, err, errlen,
		                SRC ": every one of the %zu feed entries was bad", res->rows);
		goto done;
	}
	res->status = PARSE_OK;
done:
	free(ix.slot);
	xmlFreeDoc(doc);
	return rc;
}
