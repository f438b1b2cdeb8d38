/*
 * form4.c - an SEC Form 4 ownershipDocument -> one trade per
 * non-derivative transaction.
 *
 * The choices DESIGN.md leaves to the parser, and why:
 *
 * - Rows.  One trade per nonDerivativeTransaction, in document order.
 *   nonDerivativeHolding rows (no transaction) and the derivative table
 *   (options, units: an exercise shows up again as an M row of the
 *   non-derivative table) are counted as dropped, not emitted.
 *
 * - Owner.  A Form 4 carries one set of transactions however many reporting
 *   owners sign it (a fund, its adviser and its manager; SOURCES.md 5.6).
 *   One trade per owner would count one purchase several times, so every
 *   trade is attributed to ONE owner: the first reporting owner whose
 *   relationship has isOfficer set (an executive's trade is the one a
 *   reader looks for), else the first owner listed.  roles are that owner's
 *   roles only.
 *
 * - Title.  officerTitle, else otherText, else one built from the roles
 *   ("Director, 10% Owner").  "See Remarks" (any case, "See remarks below")
 *   is replaced by the text of <remarks>, with a leading "Title:" label
 *   removed, cut at the first sentence end and to at most 100 bytes; when
 *   the remarks are empty the title stays as written.
 *
 * - Planned.  aff10b5One true (a filing-level check box since 2023), or a
 *   mention of Rule 10b5-1 ("10b5-1", "10b5 - 1", "Rule 10b5-1(c)", any
 *   case, any dash) in a footnote the transaction references, or in a
 *   filing-level text that no transaction references (the remarks and
 *   footnotes nothing points to: "all sales reported herein were made under
 *   a 10b5-1 plan").  Not in every footnote of the filing: one filing often
 *   holds a planned sale and an unplanned tax withholding (F), and the
 *   sale's footnote must not make the withholding planned.  A mention in a
 *   sentence that negates it ("not pursuant to", "terminated") is ignored.
 *
 * - Key.  "edgar:<accession>:<n>", n the 1-based position of the
 *   nonDerivativeTransaction among all of them in the document, bad rows
 *   included (an accepted filing never changes, so n is stable).  Without
 *   an accession (a bare XML given to --file without one) the document
 *   names itself: "edgar:sha256-<first 20 hex digits of the SHA-256 of the
 *   document's bytes>:<n>".
 *
 * - Amendment.  documentType "4/A", or ctx->amendment (the feed said 4/A).
 *   A 4/A is emitted as its own trades (its own accession, so its own
 *   keys); whether it replaces the original is the decider's call.
 *
 * - Ticker.  issuerTradingSymbol trimmed and upper-cased; when filers name
 *   two classes ("GOOGL, GOOG") the first is kept.  Empty, "NONE" and "N/A"
 *   are missing, and a missing ticker skips the row ("no
 *   issuerTradingSymbol").
 *
 * - filed_at and url come from ctx only: the document does not carry them.
 *
 * Values are read from <x><value>...</value><footnoteId/></x> or from the
 * element's own text; footnote-only, empty and missing values are null.
 * Booleans are 0/1 or true/false.
 */
#include <ctype.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htmlutil.h"
#include "numparse.h"
#include "parse.h"
#include "parse_priv.h"

#define SRC "form4"

/* Longest footnote/remarks text read (planned detection, titles). */
#define TEXT_MAX (64 * 1024)
/* Longest name, title or other short field. */
#define FIELD_MAX 512
/* Longest title taken from the remarks. */
#define REMARKS_TITLE_MAX 100
#define MAX_FOOTNOTES     256

struct s_footnote {
	char id[32];
	char *text;
	bool referenced; /* by any element outside <footnotes> */
	bool plan;       /* mentions a 10b5-1 plan, not negated */
};

struct s_doc {
	xmlNodePtr root;
	size_t nfn;
	bool filing_plan; /* aff10b5One, or an unreferenced text mentions a plan */
	bool fn_plan;     /* some footnote mentions a plan */
	bool amendment;
	char *issuer, *ticker;
	char issuer_cik[CIK_LEN], owner_cik[CIK_LEN];
	char *owner, *title;
	unsigned roles;
	char keybase[96]; /* "edgar:<accession>" or "edgar:sha256-<hex>" */
	const char *accession;
	/* Last, and not zeroed (12 KB of memset per document): entries below
	 * nfn are written whole by s_read_footnotes. */
	struct s_footnote fn[MAX_FOOTNOTES];
};

static void s_doc_free(struct s_doc *d)
{
	for (size_t i = 0; i < d->nfn; i++)
		free(d->fn[i].text);
	free(d->issuer);
	free(d->ticker);
	free(d->owner);
	free(d->title);
}

/* ---- element access ---- */

/* Follow a '/'-separated path of element children from n. */
static xmlNodePtr s_at(xmlNodePtr n, const char *path)
{
	char part[64];

	while (n != NULL && *path != '\0') {
		size_t k = strcspn(path, "/");
		if (k >= sizeof(part))
			return NULL;
		memcpy(part, path, k);
		part[k] = '\0';
		n = hu_child(n, part);
		path += k;
		if (*path == '/')
			path++;
	}
	return n;
}

/*
 * The value of a Form 4 field: the text of its <value> child when it has
 * one, else its own text (<transactionCode>P</transactionCode>).  Written
 * cleaned into buf; returns false for missing, footnote-only or empty.
 */
static bool s_value(xmlNodePtr n, char *buf, size_t len)
{
	xmlNodePtr v;

	buf[0] = '\0';
	if (n == NULL)
		return false;
	v = hu_child(n, "value");
	return hu_text(v != NULL ? v : n, buf, len) > 0;
}

static bool s_value_at(xmlNodePtr n, const char *path, char *buf, size_t len)
{
	return s_value(s_at(n, path), buf, len);
}

/* 1/true -> true; 0/false/empty/missing -> false. */
static bool s_bool(xmlNodePtr n, const char *path)
{
	char v[16];

	if (!s_value_at(n, path, v, sizeof(v)))
		return false;
	return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0;
}

/* ---- 10b5-1 ---- */

/* Bytes of a dash at p (ASCII '-', U+2010-2015, U+2212), else 0. */
static size_t s_dash(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	if (*p == '-')
		return 1;
	if (u[0] == 0xE2 && u[1] == 0x80 && u[2] >= 0x90 && u[2] <= 0x95)
		return 3;
	if (u[0] == 0xE2 && u[1] == 0x88 && u[2] == 0x92)
		return 3;
	return 0;
}

/* Does the text at p read "10b5-1" (with the spellings above)?  *end past it. */
static bool s_rule_at(const char *p, const char **end)
{
	size_t k;

	if (p[0] != '1' || p[1] != '0' || (p[2] != 'b' && p[2] != 'B'))
		return false;
	p += 3;
	p += s_dash(p); /* "10b-5-1" */
	if (*p != '5')
		return false;
	p++;
	while (*p == ' ')
		p++;
	if ((k = s_dash(p)) == 0)
		return false;
	p += k;
	while (*p == ' ')
		p++;
	if (*p != '1' || isdigit((unsigned char)p[1]))
		return false;
	*end = p + 1;
	return true;
}

/* The word w at p, not inside a longer word (b: where the text may start). */
static bool s_word_at(const char *b, const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncasecmp(p, w, n) == 0 && (p == b || !isalpha((unsigned char)p[-1])) &&
	       !isalpha((unsigned char)p[n]);
}

/* Words that negate a sentence (whole words), and stems (anywhere). */
static const struct {
	const char *s;
	size_t len;
	bool word;
} s_negations[] = {
	{ "not", 3, true },     { "no", 2, true },        { "none", 4, true },
	{ "neither", 7, true }, { "nor", 3, true },       { "without", 7, true },
	{ "n't", 3, false },    { "terminat", 8, false }, { "cancel", 6, false },
	{ "revoke", 6, false },
};

/*
 * Does the sentence [b, e) negate what it says?  Each byte is compared
 * with the entries whose first two letters it could start (a cheap test
 * the full comparison implies) before strncasecmp: a sentence has many
 * 'n', 't', 'c' and 'r'.
 */
static bool s_negated(const char *b, const char *e)
{
	for (const char *p = b; p < e; p++) {
		/* every word and stem starts with one of these letters */
		char c = (char)(*p | 0x20);
		if (c != 'n' && c != 'w' && c != 't' && c != 'c' && c != 'r')
			continue;
		for (size_t i = 0; i < sizeof(s_negations) / sizeof(s_negations[0]); i++) {
			const char *w = s_negations[i].s;
			size_t n = s_negations[i].len;

			if (w[0] != c || p + n > e || (p[1] | 0x20) != (w[1] | 0x20))
				continue;
			if (s_negations[i].word ? s_word_at(b, p, w) : strncasecmp(p, w, n) == 0)
				return true;
		}
	}
	return false;
}

/* A sentence ends at ';' or at '.' followed by a blank or the end. */
static bool s_sentence_end(const char *p)
{
	return *p == ';' || (*p == '.' && (p[1] == ' ' || p[1] == '\0'));
}

/* How far a sentence is looked at around a mention, and how many
 * mentions one text may make us look at: hostile footnotes stay cheap. */
#define SENTENCE_MAX 400
#define MENTIONS_MAX 16

/*
 * Does the text say a transaction was made under a Rule 10b5-1 plan?  Any
 * mention counts unless its sentence negates it.
 */
static bool s_mentions_plan(const char *text)
{
	const char *end;
	int mentions = 0;

	if (text == NULL)
		return false;
	/* Every mention starts with a '1': strchr finds the candidates, so a
	 * footnote is not compared at each of its bytes. */
	for (const char *p = text; (p = strchr(p, '1')) != NULL && mentions < MENTIONS_MAX; p++) {
		const char *b, *e;
		if (!s_rule_at(p, &end))
			continue;
		mentions++;
		for (b = p; b > text && p - b < SENTENCE_MAX && !s_sentence_end(b - 1); b--)
			;
		for (e = end; *e != '\0' && e - end < SENTENCE_MAX && !s_sentence_end(e); e++)
			;
		if (!s_negated(b, e))
			return true;
		p = end - 1;
	}
	return false;
}

/* ---- document-level reading ---- */

static struct s_footnote *s_footnote(struct s_doc *d, const char *id)
{
	for (size_t i = 0; i < d->nfn; i++)
		if (strcmp(d->fn[i].id, id) == 0)
			return &d->fn[i];
	return NULL;
}

/*
 * Read <footnotes>, then mark those some element outside them refers to.
 * Which are referenced matters only for footnotes that mention a plan
 * (filing_plan, s_tx_plan), so without one the document is not walked.
 */
static void s_read_footnotes(struct s_doc *d)
{
	xmlNodePtr fns = hu_child(d->root, "footnotes");
	char id[32];

	for (xmlNodePtr f = hu_child(fns, "footnote"); f != NULL && d->nfn < MAX_FOOTNOTES;
	     f = hu_next_elem(f, "footnote")) {
		struct s_footnote *fn = &d->fn[d->nfn];
		if (hu_attr(f, "id", id, sizeof(id)) == 0 || s_footnote(d, id) != NULL)
			continue;
		memcpy(fn->id, id, sizeof(id));
		fn->text = hu_text_dup(f, TEXT_MAX);
		fn->plan = s_mentions_plan(fn->text);
		fn->referenced = false;
		d->fn_plan = d->fn_plan || fn->plan;
		d->nfn++;
	}
	if (!d->fn_plan)
		return;
	for (xmlNodePtr n = d->root; n != NULL;) {
		if (n == fns) {
			n = hu_skip(n, d->root);
			continue;
		}
		if (hu_is(n, "footnoteId") && hu_attr(n, "id", id, sizeof(id)) > 0) {
			struct s_footnote *fn = s_footnote(d, id);
			if (fn != NULL)
				fn->referenced = true;
		}
		n = hu_next(n, d->root);
	}
}

static bool s_is_see_remarks(const char *t)
{
	return t != NULL && strncasecmp(t, "see remark", 10) == 0;
}

/*
 * A title out of the remarks: drop a leading "Title:"-like label, stop at
 * the first sentence end, keep at most REMARKS_TITLE_MAX bytes (cut at a
 * word).  NULL when nothing is left.
 */
static char *s_title_from_remarks(const char *remarks)
{
	static const char *const labels[] = { "officer title", "title", "remarks", "position",
		                              NULL };
	const char *p = remarks;
	char out[REMARKS_TITLE_MAX + 1];
	size_t n = 0;

	if (p == NULL)
		return NULL;
	for (int again = 1; again;) {
		again = 0;
		for (int i = 0; labels[i] != NULL; i++) {
			size_t l = strlen(labels[i]);
			if (strncasecmp(p, labels[i], l) == 0 && (p[l] == ':' || p[l] == '-')) {
				p += l + 1;
				while (*p == ' ')
					p++;
				again = 1;
			}
		}
	}
	for (const char *q = p; *q != '\0' && n < REMARKS_TITLE_MAX; q++) {
		if (*q == ';')
			break;
		if (*q == '.' && (q[1] == ' ' || q[1] == '\0')) {
			/* "Sr. Vice President": a short word before '.' is an abbreviation */
			const char *w = q;
			while (w > p && isalpha((unsigned char)w[-1]))
				w--;
			if (q - w >= 4 || q[1] == '\0')
				break;
		}
		out[n++] = *q;
	}
	if (n == REMARKS_TITLE_MAX && p[n] != '\0' && p[n] != ' ') {
		while (n > 0 && out[n - 1] != ' ')
			n--; /* do not cut a word (or a UTF-8 sequence) */
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == ',' || out[n - 1] == '.' ||
	                 out[n - 1] == ':' || out[n - 1] == '-'))
		n--;
	if (n == 0)
		return NULL;
	out[n] = '\0';
	return strdup(out);
}

static char *s_title_from_roles(unsigned roles)
{
	char buf[64] = "";

	if (roles & ROLE_DIRECTOR)
		strcat(buf, "Director");
	if (roles & ROLE_OFFICER)
		strcat(strcat(buf, buf[0] ? ", " : ""), "Officer");
	if (roles & ROLE_TEN_PERCENT_OWNER)
		strcat(strcat(buf, buf[0] ? ", " : ""), "10% Owner");
	if (roles & ROLE_OTHER)
		strcat(strcat(buf, buf[0] ? ", " : ""), "Other");
	return buf[0] ? strdup(buf) : NULL;
}

static int s_read_header(struct s_doc *d, const struct parse_ctx *ctx)
{
	char buf[FIELD_MAX];
	xmlNodePtr chosen = NULL;
	xmlNodePtr rel;
	bool oom = false;
	char *remarks;

	if (s_value_at(d->root, "documentType", buf, sizeof(buf)) && strcmp(buf, "4/A") == 0)
		d->amendment = true;
	if (ctx != NULL && ctx->amendment)
		d->amendment = true;
	if (s_value_at(d->root, "issuer/issuerName", buf, sizeof(buf)))
		d->issuer = parse_strdup(buf, &oom);
	if (s_value_at(d->root, "issuer/issuerTradingSymbol", buf, sizeof(buf)))
		d->ticker = parse_ticker(buf);
	if (!s_value_at(d->root, "issuer/issuerCik", buf, sizeof(buf)) ||
	    cik_normalize(buf, d->issuer_cik) != 0)
		d->issuer_cik[0] = '\0';

	/* The owner: the first officer, else the first owner. */
	for (xmlNodePtr o = hu_child(d->root, "reportingOwner"); o != NULL;
	     o = hu_next_elem(o, "reportingOwner")) {
		if (chosen == NULL)
			chosen = o;
		if (s_bool(o, "reportingOwnerRelationship/isOfficer")) {
			chosen = o;
			break;
		}
	}
	if (chosen != NULL) {
		if (s_value_at(chosen, "reportingOwnerId/rptOwnerName", buf, sizeof(buf)))
			d->owner = parse_strdup(buf, &oom);
		if (!s_value_at(chosen, "reportingOwnerId/rptOwnerCik", buf, sizeof(buf)) ||
		    cik_normalize(buf, d->owner_cik) != 0)
			d->owner_cik[0] = '\0';
		rel = s_at(chosen, "reportingOwnerRelationship");
		if (s_bool(rel, "isDirector"))
			d->roles |= ROLE_DIRECTOR;
		if (s_bool(rel, "isOfficer"))
			d->roles |= ROLE_OFFICER;
		if (s_bool(rel, "isTenPercentOwner"))
			d->roles |= ROLE_TEN_PERCENT_OWNER;
		if (s_bool(rel, "isOther"))
			d->roles |= ROLE_OTHER;
		if ((s_value_at(rel, "officerTitle", buf, sizeof(buf)) ||
		     s_value_at(rel, "otherText", buf, sizeof(buf))))
			d->title = parse_strdup(buf, &oom);
	}
	remarks = hu_text_dup(hu_child(d->root, "remarks"), TEXT_MAX);
	if (s_is_see_remarks(d->title)) {
		char *t = s_title_from_remarks(remarks);
		if (t != NULL) {
			free(d->title);
			d->title = t;
		}
	}
	if (d->title == NULL)
		d->title = s_title_from_roles(d->roles);

	s_read_footnotes(d);
	d->filing_plan = s_bool(d->root, "aff10b5One") || s_mentions_plan(remarks);
	for (size_t i = 0; i < d->nfn; i++)
		if (!d->fn[i].referenced && d->fn[i].plan)
			d->filing_plan = true;
	free(remarks);
	return oom ? -1 : 0;
}

/* Does any footnote referenced inside the transaction mention a plan? */
static bool s_tx_plan(struct s_doc *d, xmlNodePtr tx)
{
	char id[32];

	if (!d->fn_plan)
		return false; /* no footnote mentions one */
	for (xmlNodePtr n = tx; n != NULL; n = hu_next(n, tx)) {
		if (hu_is(n, "footnoteId") && hu_attr(n, "id", id, sizeof(id)) > 0) {
			struct s_footnote *fn = s_footnote(d, id);
			if (fn != NULL && fn->plan)
				return true;
		}
	}
	return false;
}

/* A number field: *x set (NAN when null); false (reason noted) when unreadable. */
static bool s_num(xmlNodePtr tx, const char *path, const char *name, bool required, double *x,
                  struct parse_result *res)
{
	char buf[64];

	*x = REC_NULL_NUM;
	if (!s_value_at(tx, path, buf, sizeof(buf))) {
		if (required) {
			parse_note(res, true, "no %s", name);
			return false;
		}
		return true;
	}
	if (np_number(buf, x) != NP_OK) {
		parse_note(res, true, "bad %s '%.24s'", name, buf);
		return false;
	}
	if (*x < 0) {
		parse_note(res, true, "negative %s", name);
		return false;
	}
	return true;
}

/* One nonDerivativeTransaction -> one trade (or a skipped row).  -1: no memory. */
static int s_transaction(struct s_doc *d, xmlNodePtr tx, size_t n, const struct parse_ctx *ctx,
                         struct trade_list *out, size_t mark, struct parse_result *res)
{
	record_t rec = { .type = REC_TRADE };
	trade_t *t = &rec.u.trade;
	char buf[FIELD_MAX], key[160];
	civil_date_t date;
	bool oom = false;

	res->rows++;
	if (d->ticker == NULL) {
		parse_note(res, true, "no issuerTradingSymbol");
		return 0;
	}
	if (d->issuer == NULL) {
		parse_note(res, true, "no issuerName");
		return 0;
	}
	if (d->owner == NULL) {
		parse_note(res, true, "no reportingOwner name");
		return 0;
	}
	if (!s_value_at(tx, "transactionDate", buf, sizeof(buf))) {
		parse_note(res, true, "no transactionDate");
		return 0;
	}
	if (np_xml_date(buf, &date) != 0) {
		parse_note(res, true, "bad transactionDate '%.24s'", buf);
		return 0;
	}
	if (!s_value_at(tx, "transactionCoding/transactionCode", buf, sizeof(buf))) {
		parse_note(res, true, "no transactionCode");
		return 0;
	}
	if (strlen(buf) != 1 || !isalpha((unsigned char)buf[0])) {
		parse_note(res, true, "bad transactionCode '%.8s'", buf);
		return 0;
	}
	t->code[0] = (char)toupper((unsigned char)buf[0]);
	if (!s_num(tx, "transactionAmounts/transactionShares", "transactionShares", true,
	           &t->shares, res) ||
	    !s_num(tx, "transactionAmounts/transactionPricePerShare", "transactionPricePerShare",
	           false, &t->price, res) ||
	    !s_num(tx, "postTransactionAmounts/sharesOwnedFollowingTransaction",
	           "sharesOwnedFollowingTransaction", false, &t->shares_after, res))
		return 0;
	t->value = isnan(t->price) ? REC_NULL_NUM : parse_value(t->shares, t->price);
	t->direct = REC_TRI_NULL;
	if (s_value_at(tx, "ownershipNature/directOrIndirectOwnership", buf, sizeof(buf))) {
		if (strcasecmp(buf, "D") == 0)
			t->direct = 1;
		else if (strcasecmp(buf, "I") == 0)
			t->direct = 0;
	}
	date_format(date, t->trade_date, sizeof(t->trade_date));
	t->planned = d->filing_plan || s_tx_plan(d, tx);
	t->amendment = d->amendment;
	t->roles = d->roles;
	t->filed_at = ctx != NULL ? ctx->filed_at : REC_NULL_TIME;
	snprintf(key, sizeof(key), "%s:%zu", d->keybase, n);
	t->key = parse_strdup(key, &oom);
	t->source = parse_strdup("edgar", &oom);
	t->accession = parse_strdup(d->accession, &oom);
	t->url = parse_strdup(ctx != NULL ? ctx->url : NULL, &oom);
	t->ticker = parse_strdup(d->ticker, &oom);
	t->issuer = parse_strdup(d->issuer, &oom);
	t->issuer_cik = parse_strdup(d->issuer_cik, &oom);
	t->owner = parse_strdup(d->owner, &oom);
	t->owner_cik = parse_strdup(d->owner_cik, &oom);
	t->title = parse_strdup(d->title, &oom);
	if (oom) {
		record_free(&rec);
		return -1;
	}
	return parse_append(out, mark, &rec, res);
}

int form4_parse(const char *buf, size_t len, const struct parse_ctx *ctx, struct trade_list *out,
                struct parse_result *res, char *err, size_t errlen)
{
	struct parse_result local;
	struct s_doc *d;
	xmlDocPtr doc;
	xmlNodePtr table;
	size_t mark = out->n, n = 0;
	enum doc_kind known;
	bool dtd;
	int rc;

	if (res == NULL)
		res = &local;
	parse_result_init(res);
	/* The .txt of a submission puts a newline before <?xml.  The caller's
	 * sniff (ctx->kind) is of the buffer as given, so it stands only when
	 * nothing was trimmed. */
	known = ctx != NULL ? ctx->kind : DOC_UNKNOWN;
	while (len > 0 && (*buf == ' ' || *buf == '\t' || *buf == '\r' || *buf == '\n')) {
		buf++;
		len--;
		known = DOC_UNKNOWN;
	}
	if (len > 0 && known == DOC_UNKNOWN)
		known = doc_sniff(buf, len);
	if (len > 0 && known >= DOC_OPENINSIDER) /* some HTML page */
		return parse_html_instead(SRC, "an ownershipDocument", buf, len, res, out, mark,
		                          err, errlen);
	doc = hu_xml_read(buf, len, SRC, &dtd, err, errlen);
	if (doc == NULL)
		return parse_fail(res, PARSE_BAD_DOC, out, mark, NULL, 0, "-");
	d = malloc(sizeof(*d));
	if (d != NULL)
		memset(d, 0, offsetof(struct s_doc, fn));
	if (d == NULL) {
		xmlFreeDoc(doc);
		return parse_fail(res, PARSE_NOMEM, out, mark, err, errlen, SRC ": out of memory");
	}
	d->root = xmlDocGetRootElement(doc);
	if (!hu_is(d->root, "ownershipDocument")) {
		rc = parse_fail(res, PARSE_SHAPE, out, mark, err, errlen,
		                SRC ": root element is <%.40s>, not <ownershipDocument>",
		                (const char *)d->root->name);
		goto done;
	}
	{
		char dt[16];
		if (s_value_at(d->root, "documentType", dt, sizeof(dt)) && strcmp(dt, "4") != 0 &&
		    strcmp(dt, "4/A") != 0) {
			rc = parse_fail(res, PARSE_BAD_DOC, out, mark, err, errlen,
			                SRC ": documentType '%s' is not a Form 4 or 4/A", dt);
			goto done;
		}
	}
	if (ctx != NULL && accession_valid(ctx->accession)) {
		d->accession = ctx->accession;
		snprintf(d->keybase, sizeof(d->keybase), "edgar:%s", ctx->accession);
	} else {
		char hex[21];
		parse_sha256_hex(buf, len, hex, sizeof(hex));
		snprintf(d->keybase, sizeof(d->keybase), "edgar:sha256-%s", hex);
	}
	if (s_read_header(d, ctx) != 0) {
		rc = parse_fail(res, PARSE_NOMEM, out, mark, err, errlen, SRC ": out of memory");
		goto done;
	}
	table = hu_child(d->root, "nonDerivativeTable");
	for (xmlNodePtr c = table != NULL ? table->children : NULL; c != NULL; c = c->next) {
		if (hu_is(c, "nonDerivativeHolding")) {
			parse_note(res, false, "holding");
			continue;
		}
		if (!hu_is(c, "nonDerivativeTransaction"))
			continue;
		n++;
		if (res->rows >= PARSE_MAX_ROWS) {
			parse_note(res, true, "over the %d-row limit", PARSE_MAX_ROWS);
			continue;
		}
		if (s_transaction(d, c, n, ctx, out, mark, res) != 0) {
			rc = parse_fail(res, PARSE_NOMEM, out, mark, err, errlen,
			                SRC ": out of memory");
			goto done;
		}
	}
	table = hu_child(d->root, "derivativeTable");
	for (xmlNodePtr c = table != NULL ? table->children : NULL; c != NULL; c = c->next) {
		if (hu_is(c, "derivativeTransaction"))
			parse_note(res, false, "derivative transaction");
		else if (hu_is(c, "derivativeHolding"))
			parse_note(res, false, "derivative holding");
	}
	rc = parse_finish(SRC, out, mark, res, err, errlen);
done:
	s_doc_free(d);
	free(d);
	xmlFreeDoc(doc);
	return rc;
}
