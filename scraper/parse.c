/*
 * parse.c - what every parser shares: trade lists, results and their
 * notes, keys, accession numbers and CIKs, roles from an aggregator's
 * title, and telling documents apart for --file.
 */
#include "parse.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htmlsax.h"
#include "htmlutil.h"
#include "numparse.h"
#include "parse_priv.h"
#include "sha256.h"

/* ---- trade lists ---- */

void trade_list_init(struct trade_list *l)
{
	memset(l, 0, sizeof(*l));
}

/*
 * The keys of items [mark, n) of a trade list, for parse_append(): open
 * addressing over item positions, so that a key is looked up in O(1) and a
 * repeated key's first free "~i" suffix in amortised O(1).  Scanning the
 * list per row instead made a page of N copies of one row cost O(N^3)
 * (4000 copies of an OpenInsider row: a minute).
 */
struct tk_slot {
	size_t item;   /* position + 1 of the item with this key; 0: empty */
	unsigned next; /* every "key~i" with 2 <= i < next is taken */
};

struct trade_keys {
	size_t mark, n; /* the items indexed: [mark, n); n == SIZE_MAX: stale */
	size_t cap;     /* slots, a power of two, at least twice the keys */
	struct tk_slot *slot;
};

void trade_list_truncate(struct trade_list *l, size_t n)
{
	while (l->n > n)
		record_free(&l->items[--l->n]);
	if (l->keys != NULL)
		l->keys->n = SIZE_MAX;
}

void trade_list_free(struct trade_list *l)
{
	trade_list_truncate(l, 0);
	free(l->items);
	if (l->keys != NULL) {
		free(l->keys->slot);
		free(l->keys);
	}
	trade_list_init(l);
}

void parse_ctx_init(struct parse_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->filed_at = REC_NULL_TIME;
	ctx->now = REC_NULL_TIME;
}

/* ---- results ---- */

void parse_result_init(struct parse_result *res)
{
	memset(res, 0, sizeof(*res));
}

const char *parse_status_name(enum parse_status s)
{
	switch (s) {
	case PARSE_OK:
		return "ok";
	case PARSE_EMPTY:
		return "empty";
	case PARSE_BLOCKED:
		return "blocked";
	case PARSE_SHAPE:
		return "shape changed";
	case PARSE_UNSUPPORTED:
		return "unsupported layout";
	case PARSE_ROWS_BAD:
		return "all rows bad";
	case PARSE_BAD_DOC:
		return "bad document";
	case PARSE_NOMEM:
		return "out of memory";
	}
	return "?";
}

void parse_note(struct parse_result *res, bool skipped, const char *fmt, ...)
{
	char reason[PARSE_NOTE_LEN];
	va_list ap;

	if (skipped)
		res->skipped++;
	else
		res->dropped++;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < res->n_notes; i++) {
		struct parse_note *n = &res->notes[i];
		if (n->skipped == skipped && strcmp(n->reason, reason) == 0) {
			n->count++;
			return;
		}
	}
	if (res->n_notes < PARSE_MAX_NOTES) {
		struct parse_note *n = &res->notes[res->n_notes++];
		n->skipped = skipped;
		n->count = 1;
		memcpy(n->reason, reason, sizeof(reason));
	}
}

/* snprintf that appends at *off and never runs past len. */
static void s_cat(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_cat(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (w > 0)
		*off += (size_t)w < len - *off ? (size_t)w : len - *off - 1;
}

static void s_cat_notes(const struct parse_result *res, bool skipped, char *buf, size_t len,
                        size_t *off)
{
	bool first = true;

	for (size_t i = 0; i < res->n_notes; i++) {
		const struct parse_note *n = &res->notes[i];
		if (n->skipped != skipped)
			continue;
		s_cat(buf, len, off, "%s%zux %s", first ? " (" : ", ", n->count, n->reason);
		first = false;
	}
	if (!first)
		s_cat(buf, len, off, ")");
}

char *parse_result_summary(const struct parse_result *res, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	s_cat(buf, len, &off, "%zu rows, %zu ok", res->rows, res->trades);
	if (res->skipped > 0) {
		s_cat(buf, len, &off, ", %zu skipped", res->skipped);
		s_cat_notes(res, true, buf, len, &off);
	}
	if (res->dropped > 0) {
		s_cat(buf, len, &off, ", %zu dropped", res->dropped);
		s_cat_notes(res, false, buf, len, &off);
	}
	return buf;
}

int parse_fail(struct parse_result *res, enum parse_status st, struct trade_list *out, size_t mark,
               char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (out != NULL && out->n > mark) {
		res->trades -= out->n - mark < res->trades ? out->n - mark : res->trades;
		trade_list_truncate(out, mark);
	}
	res->status = st;
	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

bool parse_doc_too_big(size_t len, const char *source, char *err, size_t errlen)
{
	if (len <= PARSE_MAX_DOC_BYTES)
		return false;
	snprintf(err, errlen, "%s: document of %zu bytes is over the %zu-byte limit", source, len,
	         PARSE_MAX_DOC_BYTES);
	return true;
}

size_t parse_str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)(h ^ (h >> 32));
}

/* The slot of key, or the empty slot where it would go. */
static struct tk_slot *s_key_slot(const struct trade_keys *k, const record_t *items,
                                  const char *key)
{
	size_t m = k->cap - 1;

	for (size_t i = parse_str_hash(key) & m;; i = (i + 1) & m) {
		struct tk_slot *sl = &k->slot[i];

		if (sl->item == 0 || strcmp(items[sl->item - 1].u.trade.key, key) == 0)
			return sl;
	}
}

/*
 * Make out->keys index exactly the items [mark, out->n), with room for one
 * key more: kept when it already does, else rebuilt (a new mark, a
 * truncated list, or a table to grow).  A rebuild also shrinks a table
 * more than four times what it needs: the list is reused across
 * documents, and a 10,000-row page must not leave every later Form 4 to
 * clear 32,768 slots.  0, or -1 when out of memory.
 */
static int s_keys_sync(struct trade_list *out, size_t mark)
{
	struct trade_keys *k = out->keys;
	size_t need = (out->n - mark + 1) * 2, cap;

	if (k != NULL && k->mark == mark && k->n == out->n && need <= k->cap)
		return 0;
	if (k == NULL) {
		k = calloc(1, sizeof(*k));
		if (k == NULL)
			return -1;
		out->keys = k;
	}
	for (cap = 64; cap < need; cap *= 2)
		;
	if (cap > k->cap || k->cap > 4 * cap) {
		struct tk_slot *sl = malloc(cap * sizeof(*sl));

		if (sl == NULL)
			return -1;
		free(k->slot);
		k->slot = sl;
		k->cap = cap;
	}
	memset(k->slot, 0, k->cap * sizeof(*k->slot));
	for (size_t i = mark; i < out->n; i++) {
		const char *key = out->items[i].u.trade.key;
		struct tk_slot *sl;

		if (key == NULL)
			continue;
		sl = s_key_slot(k, out->items, key);
		if (sl->item == 0) {
			sl->item = i + 1;
			sl->next = 2;
		}
	}
	k->mark = mark;
	k->n = out->n;
	return 0;
}

int parse_append(struct trade_list *out, size_t mark, record_t *rec, struct parse_result *res)
{
	struct tk_slot *sl;
	char why[160];

	if (record_validate(rec, why, sizeof(why)) != 0) {
		/* "trade: shares must be > 0" -> "shares must be > 0" */
		const char *r = strncmp(why, "trade: ", 7) == 0 ? why + 7 : why;
		parse_note(res, true, "%s", r);
		record_free(rec);
		return 0;
	}
	if (mark > out->n)
		mark = out->n; /* nothing since mark */
	if (s_keys_sync(out, mark) != 0) {
		record_free(rec);
		return -1;
	}
	sl = s_key_slot(out->keys, out->items, rec->u.trade.key);
	if (sl->item != 0) {
		/* Taken since mark: the first free "key~i", i >= 2. */
		size_t kl = strlen(rec->u.trade.key);
		char *k = malloc(kl + 24);
		unsigned i;

		if (k == NULL) {
			record_free(rec);
			return -1;
		}
		for (i = sl->next;; i++) {
			snprintf(k, kl + 24, "%s~%u", rec->u.trade.key, i);
			if (s_key_slot(out->keys, out->items, k)->item == 0)
				break;
		}
		sl->next = i + 1;
		free(rec->u.trade.key);
		rec->u.trade.key = k;
		sl = s_key_slot(out->keys, out->items, k);
	}
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		record_t *items = realloc(out->items, cap * sizeof(*items));
		if (items == NULL) {
			record_free(rec);
			return -1;
		}
		out->items = items;
		out->cap = cap;
	}
	out->items[out->n++] = *rec;
	memset(rec, 0, sizeof(*rec));
	sl->item = out->n;
	sl->next = 2;
	out->keys->n = out->n;
	res->trades++;
	return 0;
}

int parse_finish(const char *source, struct trade_list *out, size_t mark, struct parse_result *res,
                 char *err, size_t errlen)
{
	char sum[256];

	if (res->rows > 0 && res->trades == 0 && res->skipped > 0)
		return parse_fail(res, PARSE_ROWS_BAD, out, mark, err, errlen,
		                  "%s: every row was bad: %s", source,
		                  parse_result_summary(res, sum, sizeof(sum)));
	res->status = PARSE_OK;
	return 0;
}

void parse_key_num(double x, char *buf, size_t len)
{
	size_t n;

	if (len == 0)
		return;
	if (isnan(x)) {
		buf[0] = '\0';
		return;
	}
	if (x == floor(x) && fabs(x) < 1e15) {
		/* "%.0f" of an integer below 2^53 is its digits (and "-0" for
		 * minus zero), written here without printf: keys take one or
		 * two numbers a row, mostly counts of shares. */
		char tmp[24];
		unsigned long long v = (unsigned long long)fabs(x);
		size_t at = sizeof(tmp), w;

		do {
			tmp[--at] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		if (signbit(x))
			tmp[--at] = '-';
		w = sizeof(tmp) - at < len ? sizeof(tmp) - at : len - 1; /* cut as snprintf */
		memcpy(buf, tmp + at, w);
		buf[w] = '\0';
		return;
	}
	snprintf(buf, len, "%.6f", x);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

double parse_value(double shares, double price)
{
	double v = shares * price;

	/* Six decimals is far below a cent; above 1e9 the product has no
	 * noise worth removing and scaling could lose digits. */
	if (fabs(v) < 1e9)
		v = nearbyint(v * 1e6) / 1e6;
	return v;
}

void parse_sha256_hex(const void *data, size_t len, char *hex, size_t hexlen)
{
	uint8_t d[SHA256_DIGEST_LEN];

	if (hexlen == 0)
		return;
	sha256(data, len, d);
	sha256_hex(d, hexlen - 1 > 64 ? 64 : hexlen - 1, hex);
}

/*
 * The byte of a needle to look for with memchr: the first that is no
 * letter (one value whatever the case; in our needles '<', '-', '"' or
 * '/'), else the rarest letter by English letter frequency.
 */
static size_t s_anchor(const char *needle, size_t nl)
{
	static const char order[] = "etaoinsrhldcumfpgwybvkxjqz"; /* most to least common */
	size_t k = 0;
	long best = -1;

	for (size_t i = 0; i < nl; i++) {
		unsigned char c = (unsigned char)needle[i];
		long rank;

		if (!isalpha(c))
			return i;
		rank = strchr(order, tolower(c)) - order;
		if (rank > best) {
			best = rank;
			k = i;
		}
	}
	return k;
}

/*
 * Candidates are found with memchr (vectorised in glibc) on the needle's
 * anchor byte (s_anchor), in either case, and checked at the needle's
 * first and last bytes before strncasecmp.  A byte-by-byte scan was most
 * of telling a FinViz page apart (~9 instructions a byte over the whole
 * page before the first marker that matched).  The next occurrence of each
 * case is kept until passed, so every byte is searched once per case
 * (hostile pages full of one case stay linear).  The first match is
 * returned, as a scan from the start would find it.
 */
const char *parse_memcasemem(const char *hay, size_t len, const char *needle)
{
	size_t nl = strlen(needle), k;
	const char *end, *p, *next_lo = NULL, *next_up = NULL;
	bool lo_left = true, up_left;
	int first, last;
	char lo, up;

	if (nl == 0 || len < nl)
		return NULL;
	k = s_anchor(needle, nl);
	lo = (char)tolower((unsigned char)needle[k]);
	up = (char)toupper((unsigned char)needle[k]);
	up_left = up != lo;
	first = tolower((unsigned char)needle[0]);
	last = tolower((unsigned char)needle[nl - 1]);
	/* the anchor of a match at i sits at i + k, and i + nl <= len */
	end = hay + (len - nl) + k + 1;
	for (p = hay + k; p < end; p++) {
		const char *at;

		if (lo_left && (next_lo == NULL || next_lo < p))
			lo_left = (next_lo = memchr(p, lo, (size_t)(end - p))) != NULL;
		if (up_left && (next_up == NULL || next_up < p))
			up_left = (next_up = memchr(p, up, (size_t)(end - p))) != NULL;
		if (!lo_left && !up_left)
			break;
		p = !up_left || (lo_left && next_lo < next_up) ? next_lo : next_up;
		at = p - k;
		if (tolower((unsigned char)at[0]) != first ||
		    tolower((unsigned char)at[nl - 1]) != last)
			continue;
		if (strncasecmp(at, needle, nl) == 0 && memchr(at, '\0', nl) == NULL)
			return at;
	}
	return NULL;
}

/* Markers of challenge and block pages sit in their first bytes. */
#define BLOCK_SCAN_MAX ((size_t)1 << 20)
/* Markers of a source's pages sit well inside the first 4 MiB. */
#define SNIFF_SCAN_MAX ((size_t)4 << 20)

bool parse_looks_blocked(const char *buf, size_t len)
{
	/*
	 * Only challenge-specific markers: Cloudflare also injects
	 * /cdn-cgi/challenge-platform/scripts/... into ordinary pages, so that
	 * path alone does not make a page a challenge.
	 */
	static const char *const markers[] = {
		"<title>Just a moment...</title>",
		"window._cf_chl_opt",
		"/orchestrate/chl_page/",
		"cf-browser-verification",
		"<title>Attention Required! | Cloudflare</title>",
		"Undeclared Automated Tool",
		"Request Rate Threshold Exceeded",
		"<title>Access Denied</title>",
		"<title>403 Forbidden</title>",
	};

	if (len > BLOCK_SCAN_MAX)
		len = BLOCK_SCAN_MAX;
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (parse_memcasemem(buf, len, markers[i]) != NULL)
			return true;
	return false;
}

int parse_html_instead(const char *src, const char *expected, const char *buf, size_t len,
                       struct parse_result *res, struct trade_list *out, size_t mark, char *err,
                       size_t errlen)
{
	char title[120];
	bool blocked = parse_looks_blocked(buf, len);

	hu_html_title(buf, len, title, sizeof(title));
	return parse_fail(res, blocked ? PARSE_BLOCKED : PARSE_BAD_DOC, out, mark, err, errlen,
	                  "%s: expected %s, got an HTML page '%s'%s", src, expected, title,
	                  blocked ? " (blocked: a refusal or challenge page)" : "");
}

char *parse_strdup(const char *s, bool *oom)
{
	char *d;

	if (s == NULL || s[0] == '\0')
		return NULL;
	d = strdup(s);
	if (d == NULL)
		*oom = true;
	return d;
}

/*
 * Ticker: trimmed, upper case, the first of several; NULL when missing or
 * a placeholder.
 */
char *parse_ticker(const char *raw)
{
	static const char *const none[] = { "none", "n/a", "na", "null", "-", "--", NULL };
	char t[24];
	size_t n = 0;

	if (raw == NULL)
		return NULL;
	for (int i = 0; none[i] != NULL; i++)
		if (strcasecmp(raw, none[i]) == 0)
			return NULL;
	for (const char *p = raw; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '^' && *p != '_')
			break;
		if (n == sizeof(t) - 1)
			return NULL; /* no ticker is this long */
		t[n++] = (char)toupper((unsigned char)*p);
	}
	if (n == 0)
		return NULL;
	t[n] = '\0';
	return strdup(t);
}

/* ---- accession numbers and CIKs ---- */

static bool s_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool accession_valid(const char *s)
{
	return s != NULL && strlen(s) == 20 && s_digits(s, 10) && s[10] == '-' &&
	       s_digits(s + 11, 2) && s[13] == '-' && s_digits(s + 14, 6);
}

/* 18 digits at p (and not more) -> "10-2-6". */
static bool s_acc18(const char *p, char out[ACCESSION_LEN])
{
	if (!s_digits(p, 18) || (p[18] >= '0' && p[18] <= '9'))
		return false;
	snprintf(out, ACCESSION_LEN, "%.10s-%.2s-%.6s", p, p + 10, p + 12);
	return true;
}

/* A dashed accession "10-2-6" at p, not inside a longer run of digits. */
static bool s_acc20(const char *p, char out[ACCESSION_LEN])
{
	char tmp[ACCESSION_LEN];

	memcpy(tmp, p, 20);
	tmp[20] = '\0';
	if (!accession_valid(tmp) || (p[20] >= '0' && p[20] <= '9'))
		return false;
	memcpy(out, tmp, ACCESSION_LEN);
	return true;
}

int accession_from_url(const char *url, char out[ACCESSION_LEN])
{
	const char *p;

	if (url == NULL)
		return -1;
	/* /Archives/edgar/data/<cik>/<18 digits>/ */
	p = parse_memcasemem(url, strlen(url), "/edgar/data/");
	if (p != NULL) {
		p += strlen("/edgar/data/");
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p == '/' && strlen(p + 1) >= 18 && s_acc18(p + 1, out))
			return 0;
	}
	/* A dashed accession anywhere in the link (-index.htm, .txt). */
	for (p = url; *p != '\0'; p++) {
		if (p > url && p[-1] >= '0' && p[-1] <= '9')
			continue;
		if (strlen(p) >= 20 && s_acc20(p, out))
			return 0;
	}
	return -1;
}

int accession_from_filename(const char *path, char out[ACCESSION_LEN])
{
	const char *base;

	if (path == NULL)
		return -1;
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if (strlen(base) >= 20 && s_acc20(base, out))
		return 0;
	if (strlen(base) >= 18 && s_acc18(base, out))
		return 0;
	return -1;
}

/* The CIK folder of an archive link (".../edgar/data/<cik>/..."). */
int parse_archive_cik(const char *href, char cik[CIK_LEN])
{
	const char *p = parse_memcasemem(href, strlen(href), "/edgar/data/");
	char tmp[16];
	size_t n;

	cik[0] = '\0';
	if (p == NULL)
		return -1;
	p += strlen("/edgar/data/");
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(tmp) || p[n] != '/')
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (cik_normalize(tmp, cik) != 0) {
		cik[0] = '\0';
		return -1;
	}
	return 0;
}

int cik_normalize(const char *s, char out[CIK_LEN])
{
	size_t n;

	if (s == NULL)
		return -1;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strspn(s, "0123456789");
	if (n == 0)
		return -1;
	for (const char *p = s + n; *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return -1;
	/* Leading zeros do not count against the 10 digits. */
	while (n > 1 && *s == '0') {
		s++;
		n--;
	}
	if (n > 10)
		return -1;
	memset(out, '0', 10 - n);
	memcpy(out + 10 - n, s, n);
	out[10] = '\0';
	return 0;
}

/* ---- roles from an aggregator's relationship text ---- */

static bool s_word_in(const char *w, const char *const *list)
{
	/* The lists are lower case and w is ASCII letters and digits, so
	 * (c | 0x20) is the lower case of a letter and no letter for a digit:
	 * only words that start with the same letter are compared. */
	char c = (char)(*w | 0x20);

	for (; *list != NULL; list++)
		if (**list == c && strcasecmp(w, *list) == 0)
			return true;
	return false;
}

/* Roles of one comma-separated part of a title; 0 when no word is known. */
static unsigned s_roles_part(const char *part)
{
	static const char *const director[] = { "dir", "director", "directors", NULL };
	static const char *const chair[] = { "cob",   "chairman",   "chairperson",
		                             "chair", "chairwoman", NULL };
	static const char *const officer[] = {
		"ceo",       "cfo",         "coo",       "cto",     "cio",   "cmo",
		"cao",       "cco",         "clo",       "cso",     "cro",   "chro",
		"cpo",       "cbo",         "cdo",       "pfo",     "pao",   "peo",
		"gc",        "pres",        "president", "vp",      "svp",   "evp",
		"sevp",      "avp",         "vice",      "officer", "chief", "secretary",
		"treasurer", "controller",  "counsel",   "head",    "gm",    "principal",
		"coceo",     "copresident", "cofounder", NULL,
	};
	unsigned roles = 0;
	char w[32];
	size_t wl = 0;

	if (strstr(part, "10%") != NULL)
		roles |= ROLE_TEN_PERCENT_OWNER;
	for (const char *p = part;; p++) {
		if (isalnum((unsigned char)*p)) {
			if (wl < sizeof(w) - 1)
				w[wl++] = *p;
			continue;
		}
		if (wl > 0) {
			w[wl] = '\0';
			if (s_word_in(w, director) || s_word_in(w, chair))
				roles |= ROLE_DIRECTOR;
			else if (s_word_in(w, officer))
				roles |= ROLE_OFFICER;
			wl = 0;
		}
		if (*p == '\0')
			break;
	}
	return roles;
}

unsigned roles_from_title(const char *title)
{
	unsigned roles = 0;
	char part[128];

	if (title == NULL)
		return 0;
	for (const char *p = title; *p != '\0';) {
		size_t n = strcspn(p, ",;");
		size_t k = n < sizeof(part) - 1 ? n : sizeof(part) - 1;
		unsigned r;
		bool blank = true;

		memcpy(part, p, k);
		part[k] = '\0';
		for (size_t i = 0; i < k; i++)
			if (!isspace((unsigned char)part[i]))
				blank = false;
		if (!blank) {
			r = s_roles_part(part);
			roles |= r != 0 ? r : ROLE_OTHER;
		}
		p += n;
		if (*p != '\0')
			p++;
	}
	return roles;
}

/* ---- telling documents apart ---- */

const char *doc_kind_name(enum doc_kind k)
{
	switch (k) {
	case DOC_FORM4_XML:
		return "form4";
	case DOC_EDGAR_SGML:
		return "edgar-sgml";
	case DOC_ATOM:
		return "atom";
	case DOC_OPENINSIDER:
		return "openinsider";
	case DOC_FINVIZ:
		return "finviz";
	case DOC_BLOCKED:
		return "blocked";
	case DOC_HTML:
		return "html";
	case DOC_UNKNOWN:
		break;
	}
	return "unknown";
}

static bool s_starts(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - p) >= n && strncasecmp(p, prefix, n) == 0;
}

enum doc_kind doc_sniff(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	bool xmlish;

	if (buf == NULL || len == 0)
		return DOC_UNKNOWN;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end && isspace((unsigned char)*p))
		p++;
	/* SGML first: it holds an ownershipDocument inside <XML>. */
	if (s_starts(p, end, "<SEC-DOCUMENT>") || s_starts(p, end, "<SEC-HEADER>") ||
	    s_starts(p, end, "<SUBMISSION>") || s_starts(p, end, "<IMS-DOCUMENT>") ||
	    s_starts(p, end, "<DOCUMENT>") ||
	    s_starts(p, end, "-----BEGIN PRIVACY-ENHANCED MESSAGE-----"))
		return DOC_EDGAR_SGML;
	xmlish = s_starts(p, end, "<?xml") || s_starts(p, end, "<ownershipDocument") ||
	         s_starts(p, end, "<feed") || s_starts(p, end, "<!--");
	if (xmlish) {
		const char *od = parse_memcasemem(p, (size_t)(end - p), "<ownershipDocument");
		/* Only whether <feed or <html comes before the ownershipDocument
		 * matters, so a Form 4 is not scanned to its end for them (the
		 * scraper sniffs each document more than once).  Neither needle
		 * can straddle od: its only '<' is its first byte. */
		const char *stop = od != NULL ? od : end;
		const char *feed = parse_memcasemem(p, (size_t)(stop - p), "<feed");
		const char *html = parse_memcasemem(p, (size_t)(stop - p), "<html");
		if (od != NULL && (html == NULL || od < html) && (feed == NULL || od < feed))
			return DOC_FORM4_XML;
		if (feed != NULL && (html == NULL || feed < html))
			return DOC_ATOM;
	}
	/* A source's own markers first: a real page may carry challenge
	 * scripts, a challenge page never carries the insider table. */
	if (len > SNIFF_SCAN_MAX)
		len = SNIFF_SCAN_MAX;
	if (parse_memcasemem(buf, len, "tinytable") != NULL)
		return DOC_OPENINSIDER;
	if (parse_memcasemem(buf, len, "fv-insider-row") != NULL ||
	    parse_memcasemem(buf, len, "insider-table") != NULL ||
	    parse_memcasemem(buf, len, "insider-trading-table") != NULL ||
	    parse_memcasemem(buf, len, "\"insider-row") != NULL ||
	    parse_memcasemem(buf, len, "insider-buy-row") != NULL ||
	    parse_memcasemem(buf, len, "insider-sale-row") != NULL)
		return DOC_FINVIZ;
	if (parse_looks_blocked(buf, len))
		return DOC_BLOCKED;
	if (parse_memcasemem(buf, len, "<html") != NULL ||
	    parse_memcasemem(buf, len, "<!doctype html") != NULL)
		return DOC_HTML;
	if (parse_memcasemem(buf, len, "<ownershipDocument") != NULL)
		return DOC_FORM4_XML;
	return DOC_UNKNOWN;
}

int parse_trades(const char *buf, size_t len, const char *source, const struct parse_ctx *ctx,
                 struct trade_list *out, struct parse_result *res, enum doc_kind *kind, char *err,
                 size_t errlen)
{
	enum doc_kind sniffed, k;
	struct parse_result local;
	struct parse_ctx c;

	if (ctx != NULL)
		c = *ctx;
	else
		parse_ctx_init(&c);
	sniffed = c.kind != DOC_UNKNOWN ? c.kind : doc_sniff(buf, len);
	k = sniffed;
	/* Only form4_parse reads this buffer whole, so only it may reuse the
	 * sniff; the SGML parser hands the XML inside the submission on with
	 * its ctx, and that is another buffer. */
	c.kind = DOC_UNKNOWN;
	if (res == NULL)
		res = &local;
	parse_result_init(res);
	if (source != NULL) {
		if (strcmp(source, "edgar") == 0)
			k = k == DOC_EDGAR_SGML ? DOC_EDGAR_SGML : DOC_FORM4_XML;
		else if (strcmp(source, "openinsider") == 0)
			k = DOC_OPENINSIDER;
		else if (strcmp(source, "finviz") == 0)
			k = DOC_FINVIZ;
		else
			return parse_fail(res, PARSE_BAD_DOC, NULL, 0, err, errlen,
			                  "unknown source '%s' (edgar, openinsider, finviz)",
			                  source);
	}
	if (kind != NULL)
		*kind = k;
	switch (k) {
	case DOC_FORM4_XML:
		c.kind = sniffed;
		return form4_parse(buf, len, &c, out, res, err, errlen);
	case DOC_EDGAR_SGML:
		return sgml_parse(buf, len, &c, out, res, err, errlen);
	case DOC_OPENINSIDER:
		return openinsider_parse(buf, len, &c, out, res, err, errlen);
	case DOC_FINVIZ:
		return finviz_parse(buf, len, &c, out, res, err, errlen);
	case DOC_BLOCKED:
		return parse_fail(res, PARSE_BLOCKED, NULL, 0, err, errlen,
		                  "blocked: the document is a challenge or access-denied page");
	case DOC_ATOM:
		return parse_fail(res, PARSE_BAD_DOC, NULL, 0, err, errlen,
		                  "an Atom feed lists filings, not trades (use atom_parse)");
	case DOC_HTML:
	case DOC_UNKNOWN:
		break;
	}
	return parse_fail(res, PARSE_BAD_DOC, NULL, 0, err, errlen,
	                  "cannot tell what this document is (%s): name its source with --source",
	                  doc_kind_name(k));
}

bool parse_cell_num(const char *text, const char *name, bool required, bool allow_negative,
                    double *x, struct parse_result *res)
{
	*x = REC_NULL_NUM;
	switch (np_number(text, x)) {
	case NP_OK:
		if (*x < 0 && !allow_negative) {
			parse_note(res, true, "negative %s", name);
			return false;
		}
		return true;
	case NP_EMPTY:
		*x = REC_NULL_NUM;
		if (required) {
			parse_note(res, true, "empty %s", name);
			return false;
		}
		return true;
	case NP_BAD:
		break;
	}
	parse_note(res, true, "bad %s '%.24s'", name, text);
	return false;
}

bool parse_page_cell_num(const struct hs_page *pg, const struct hs_cell *cell, const char *name,
                         bool required, bool allow_negative, double *x, struct parse_result *res)
{
	char text[PARSE_CELL_NUM];

	hs_cell_text(pg, cell, text, sizeof(text));
	return parse_cell_num(text, name, required, allow_negative, x, res);
}

int parse_page_read(const char *buf, size_t len, const struct hs_rules *rules, struct hs_page *doc,
                    const char *source, struct trade_list *out, size_t mark,
                    struct parse_result *res, char *err, size_t errlen)
{
	int rc = hs_read(buf, len, rules, doc, source, err, errlen);

	if (rc == HS_BAD) /* err says why */
		return parse_fail(res, PARSE_BAD_DOC, out, mark, NULL, 0, "-");
	if (rc != 0)
		return parse_fail(res, PARSE_NOMEM, out, mark, err, errlen, "%s: out of memory",
		                  source);
	return 0;
}
