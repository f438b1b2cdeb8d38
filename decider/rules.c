/*
 * rules.c - the decider's engine (see rules.h for the rules themselves).
 *
 * A trade goes through three stages:
 *   1. decider_handle_trade: the per-trade filters, in the order a person
 *      would ask (is it a purchase or sale, is it recent, planned, a large
 *      cap, an executive?), each refusal a drop with the rule's reason.  A
 *      trade that passes is upserted into the window and waits.
 *   2. decider_flush, per group (source, accession, owner, side): is it a
 *      copy of another source's group, a group that already made an intent,
 *      a 4/A repeat?  Otherwise the executive_trade rule judges the whole
 *      group as it now stands.
 *   3. decider_flush, per ticker with new purchases: cluster_buy.
 * Then every waiting trade that became no intent gets one drop naming what
 * stopped it.
 */
#include "rules.h"

#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sha256.h"
#include "timeutil.h"
#include "title.h"
#include "window.h"

#define DAY_SECONDS 86400
/* Hex digits of SHA-256 in an intent id. */
#define ID_HEX 32
/* Waiting-list entries kept allocated between flushes; a larger list (a
 * burst of up to batch_max) is given back after its flush. */
#define PEND_KEEP 1024
/* Rows of one group judged at most; a filing has a few dozen at most. */
#define GROUP_MAX 1000
/* How often the window is pruned, in seconds of `now`. */
#define PRUNE_EVERY 3600
/* Seconds of `now` between two copies of one intent sent again. */
#define RESEND_EVERY 30
/* Longest reason sentence. */
#define REASON_MAX 1024

/* A trade waiting for the flush, and what the flush made of it. */
struct pend {
	struct win_trade *row; /* in the window; row->tag points back here at the flush */
	/* set by the flush */
	bool judged;   /* group stage done; the row is marked in the window */
	bool dup;      /* a copy or repeat of a trade already seen */
	bool used;     /* evidence of an intent emitted by this flush */
	double gvalue; /* its group's value */
	char *reason;  /* why the group stage made no intent of it */
	char note[80]; /* what cluster_buy made of it (its longest note is ~60) */
};

/* A threshold as s_fmt_pct prints it with 1 to 4 decimals, printed once
 * (min_fraction: every intent's reason compares its fraction with it). */
struct pct_thr {
	char p[4][64];
};

/* The last title s_title_filter answered, with its drop reason. */
struct last_title {
	bool valid, exec;
	char title[TITLE_MEMO_LEN];
	char reason[REASON_MAX];
};

struct decider {
	struct decider_opts o; /* strings point at the copies below */
	char *state_dir;
	char *titles;
	struct title_matcher tm;
	struct title_memo tmemo; /* tm's answers for the titles seen */
	struct last_title last;  /* the last title's answer (s_title_filter) */
	struct pct_thr min_pct;  /* exec_min_fraction as s_fmt_pct prints it */
	int retention_days;      /* effective: at least recency + cluster window + 1 */
	window_t *w;
	struct pend *pend;
	size_t npend, cap;
	int64_t last_prune;
};

/* ---- small helpers ---------------------------------------------------- */

static uint64_t s_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t s_fnv_str(uint64_t h, const char *s)
{
	static const unsigned char nul = 0, absent = 1;

	if (s == NULL)
		return s_fnv(h, &absent, 1);
	return s_fnv(s_fnv(h, s, strlen(s)), &nul, 1);
}

static uint64_t s_fnv_num(uint64_t h, double x)
{
	if (isnan(x))
		x = NAN; /* one NaN pattern */
	return s_fnv(h, &x, sizeof(x));
}

/* What a row holds: a key seen again with another hash is judged again. */
static uint64_t s_content_hash(const trade_t *t)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int64_t flags = (int64_t)t->direct * 4 + t->planned * 2 + t->amendment;

	h = s_fnv_str(h, t->source);
	h = s_fnv_str(h, t->accession);
	h = s_fnv_str(h, t->owner);
	h = s_fnv_str(h, t->owner_cik);
	h = s_fnv_str(h, t->title);
	h = s_fnv_str(h, t->ticker);
	h = s_fnv_str(h, t->issuer);
	h = s_fnv_str(h, t->trade_date);
	h = s_fnv_str(h, t->code);
	h = s_fnv_num(h, t->shares);
	h = s_fnv_num(h, t->price);
	h = s_fnv_num(h, t->value);
	h = s_fnv_num(h, t->shares_after);
	h = s_fnv(h, &flags, sizeof(flags));
	h = s_fnv(h, &t->filed_at, sizeof(t->filed_at));
	if (t->instrument != NULL) {
		h = s_fnv_str(h, t->instrument->ticker);
		h = s_fnv_str(h, t->instrument->figi);
		h = s_fnv_str(h, t->instrument->isin);
	}
	return h;
}

/* Source preference when two sources bring the same filing in one batch:
 * EDGAR has the individual transactions, the others aggregate. */
static int s_source_rank(const char *source)
{
	if (strcmp(source, "edgar") == 0)
		return 0;
	if (strcmp(source, "openinsider") == 0)
		return 1;
	if (strcmp(source, "finviz") == 0)
		return 2;
	return 3;
}

static int64_t s_day_of(int64_t t)
{
	return date_to_days(date_of_utc(t));
}

/* "12,000" / "12,000.5" (at most 4 decimals) */
static char *s_fmt_qty(double x, char *buf, size_t len)
{
	double r = round(fabs(x) * 10000) / 10000, ip = floor(r), fp = r - ip;
	char digits[64], frac[16] = "";
	size_t n, o = 0;

	if (ip < 1e15) {
		/* "%.0f" of a whole number below 2^53, without printf */
		uint64_t v = (uint64_t)ip;
		char rev[24];
		size_t k = 0;

		do {
			rev[k++] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		for (n = 0; n < k; n++)
			digits[n] = rev[k - 1 - n];
		digits[k] = '\0';
	} else {
		snprintf(digits, sizeof(digits), "%.0f", ip);
	}
	if (fp > 0) {
		snprintf(frac, sizeof(frac), "%.4f", fp); /* "0.5000" */
		for (size_t k = strlen(frac); k > 0 && frac[k - 1] == '0'; k--)
			frac[k - 1] = '\0';
	}
	n = strlen(digits);
	if (x < 0 && o + 1 < len)
		buf[o++] = '-';
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	if (frac[0] == '0' && frac[1] == '.' && frac[2] != '\0')
		snprintf(buf + o, len - o, "%s", frac + 1);
	return buf;
}

/* Money in words a person reads: "8,500 USD", "2.5M USD", "25.3B USD". */
static char *s_fmt_usd(double x, char *buf, size_t len)
{
	char q[64];

	if (x >= 1e9)
		snprintf(buf, len, "%.3gB USD", x / 1e9);
	else if (x >= 1e7)
		snprintf(buf, len, "%.3gM USD", x / 1e6);
	else
		snprintf(buf, len, "%s USD", s_fmt_qty(round(x), q, sizeof(q)));
	return buf;
}

static void s_pct_thr_init(struct pct_thr *t, double thr)
{
	for (int prec = 1; prec <= 4; prec++)
		snprintf(t->p[prec - 1], sizeof(t->p[0]), "%.*f", prec, thr * 100);
}

/* A fraction as a percentage with enough digits that it never prints the
 * same as the threshold it is compared with ("0.99%" beside "1%").  tc:
 * thr as s_pct_thr_init printed it, or NULL. */
static char *s_fmt_pct(double f, double thr, const struct pct_thr *tc, char *buf, size_t len)
{
	char a[64], b[64];
	size_t n, m;

	for (int prec = 1; prec <= 4; prec++) {
		const char *bp = b;

		snprintf(a, sizeof(a), "%.*f", prec, f * 100);
		if (tc != NULL)
			bp = tc->p[prec - 1];
		else
			snprintf(b, sizeof(b), "%.*f", prec, thr * 100);
		if (strcmp(a, bp) != 0 || prec == 4)
			break;
	}
	/* "2.40" -> "2.4", "100.0" -> "100" */
	if (strchr(a, '.') != NULL) {
		size_t k = strlen(a);

		while (k > 0 && a[k - 1] == '0')
			a[--k] = '\0';
		if (k > 0 && a[k - 1] == '.')
			a[--k] = '\0';
	}
	/* snprintf(buf, len, "%s%%", a), cut the same way */
	n = strlen(a);
	if (len == 0)
		return buf;
	for (m = 0; m < n && m + 1 < len; m++)
		buf[m] = a[m];
	if (m == n && m + 1 < len)
		buf[m++] = '%';
	buf[m] = '\0';
	return buf;
}

/* A day number as its date, "YYYY-MM-DD". */
static char *s_fmt_day(int64_t day, char *buf, size_t len)
{
	return date_format(date_from_days(day), buf, len);
}

/* Whole days when whole, else one decimal. */
static char *s_fmt_days(int64_t seconds, char *buf, size_t len)
{
	if (seconds % DAY_SECONDS == 0)
		snprintf(buf, len, "%" PRId64, seconds / DAY_SECONDS);
	else
		snprintf(buf, len, "%.1f", (double)seconds / DAY_SECONDS);
	return buf;
}

static int s_drop(const struct decision_sink *sink, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_drop(const struct decision_sink *sink, const char *key, const char *fmt, ...)
{
	char reason[REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (sink == NULL || sink->drop == NULL)
		return 0;
	if (sink->drop(sink->ctx, key, reason) < 0) {
		log_warnx("decider: the drop of %.64s was refused", key != NULL ? key : "(no key)");
		return -1;
	}
	return 0;
}

/* "%s%.*s%s" of a, bmax and b, c into reason (REASON_MAX bytes, cut
 * there), as s_drop_cat sends it. */
static void s_cat(char reason[REASON_MAX], const char *a, const char *b, size_t bmax, const char *c)
{
	const char *part[3] = { a, b, c };
	size_t lim[3] = { SIZE_MAX, bmax, SIZE_MAX }, off = 0;

	for (int i = 0; i < 3; i++) {
		size_t n;

		if (part[i] == NULL)
			continue;
		n = strnlen(part[i], lim[i] < REASON_MAX ? lim[i] : REASON_MAX);
		if (n > REASON_MAX - 1 - off)
			n = REASON_MAX - 1 - off;
		memcpy(reason + off, part[i], n);
		off += n;
	}
	reason[off] = '\0';
}

/* s_drop(sink, key, "%s", reason) without printf. */
static int s_drop_str(const struct decision_sink *sink, const char *key, const char *reason)
{
	if (sink == NULL || sink->drop == NULL)
		return 0;
	if (sink->drop(sink->ctx, key, reason) < 0) {
		log_warnx("decider: the drop of %.64s was refused", key != NULL ? key : "(no key)");
		return -1;
	}
	return 0;
}

/*
 * s_drop(sink, key, "%s%.*s%s", a, bmax, b, c) without printf: a declined
 * trade is the common case and its reason is a fixed sentence with at most
 * one string in it, which printf's machinery made the costliest part of
 * declining it.  b and c may be NULL (nothing); bmax bounds b in bytes, as
 * printf's precision does; the whole is cut at REASON_MAX - 1 bytes, as
 * s_drop's buffer cuts it.  Same return as s_drop.
 */
static int s_drop_cat(const struct decision_sink *sink, const char *key, const char *a,
                      const char *b, size_t bmax, const char *c)
{
	char reason[REASON_MAX];

	if (sink == NULL || sink->drop == NULL)
		return 0;
	s_cat(reason, a, b, bmax, c);
	return s_drop_str(sink, key, reason);
}

static char *s_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *s_printf(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* The strings (up to a NULL) joined by '|', malloc'd; NULL out of memory. */
static char *s_join(const char *first, ...)
{
	size_t len = 0, off = 0;
	const char *p;
	va_list ap;
	char *out;

	va_start(ap, first);
	for (p = first; p != NULL; p = va_arg(ap, const char *))
		len += strlen(p) + 1;
	va_end(ap);
	out = malloc(len + 1);
	if (out == NULL)
		return NULL;
	va_start(ap, first);
	for (p = first; p != NULL; p = va_arg(ap, const char *)) {
		size_t n = strlen(p);

		if (off > 0)
			out[off++] = '|';
		memcpy(out + off, p, n);
		off += n;
	}
	va_end(ap);
	out[off] = '\0';
	return out;
}

static int s_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The intent id: SHA-256 of rule, side and the evidence keys, which must
 * be sorted; the first ID_HEX hex digits. */
static void s_make_id(const char *rule, int side, const char *const *keys, size_t n,
                      char out[ID_HEX + 1])
{
	uint8_t dig[SHA256_DIGEST_LEN];
	const char *sname = side_name((enum side)side);
	sha256_t c;

	sha256_init(&c);
	sha256_update(&c, rule, strlen(rule));
	sha256_update(&c, "\n", 1);
	sha256_update(&c, sname, strlen(sname));
	for (size_t i = 0; i < n; i++) {
		sha256_update(&c, "\n", 1);
		sha256_update(&c, keys[i], strlen(keys[i]));
	}
	sha256_final(&c, dig);
	sha256_hex(dig, ID_HEX, out);
}

/* ---- options ---------------------------------------------------------- */

void decider_opts_defaults(struct decider_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->state_dir = NULL;
	o->exec_enabled = true;
	o->exec_min_fraction = 0.01;
	o->fraction_of = FRACTION_OF_BEFORE;
	o->exec_titles = TITLE_DEFAULT_WORDS;
	o->cluster_enabled = true;
	o->cluster_min_executives = 3;
	o->cluster_window_days = 7;
	o->recency_enabled = true;
	o->recency_days = 3;
	o->mcap_enabled = true;
	o->mcap_max = 10e9;
	o->mcap_allow_unknown = true;
	o->planned_exclude = true;
	o->min_value = 0;
	o->sizing.mode = SIZING_NOTIONAL;
	o->sizing.shares = 1;
	o->sizing.notional = 1000;
	o->sizing.fraction = 0.01;
	o->sizing.equity = NAN;
	o->validity_hours = 48;
	o->retention_days = 14;
	o->batch_max = 10000;
	o->max_trades = 100000;
}

int decider_opts_check(const struct decider_opts *o, char *err, size_t errlen)
{
	struct title_matcher tm;
	char why[256];

	if (o->state_dir == NULL || o->state_dir[0] == '\0') {
		snprintf(err, errlen, "decider: no state directory");
		return -1;
	}
	if (!(o->exec_min_fraction >= 0 && o->exec_min_fraction <= 100)) {
		snprintf(err, errlen, "decider.executive_trade.min_fraction must be in [0, 100]");
		return -1;
	}
	if (o->fraction_of != FRACTION_OF_BEFORE && o->fraction_of != FRACTION_OF_AFTER) {
		snprintf(err, errlen,
		         "decider.executive_trade.fraction_of must be before or after");
		return -1;
	}
	if (title_matcher_init(&tm, o->exec_titles, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "decider.executive_trade.titles: %s", why);
		return -1;
	}
	if (o->cluster_min_executives < 2 || o->cluster_min_executives > 100) {
		snprintf(err, errlen, "decider.cluster_buy.min_executives must be in [2, 100]");
		return -1;
	}
	if (o->cluster_window_days < 0 || o->cluster_window_days > 365) {
		snprintf(err, errlen, "decider.cluster_buy.window_days must be in [0, 365]");
		return -1;
	}
	if (o->recency_days < 0 || o->recency_days > 3650) {
		snprintf(err, errlen, "decider.recency.days must be in [0, 3650]");
		return -1;
	}
	if (!(o->mcap_max > 0 && isfinite(o->mcap_max))) {
		snprintf(err, errlen, "decider.market_cap.max must be > 0");
		return -1;
	}
	if (!(o->min_value >= 0 && isfinite(o->min_value))) {
		snprintf(err, errlen, "decider.min_value.usd must be >= 0");
		return -1;
	}
	if (o->validity_hours < 1 || o->validity_hours > 24 * 365) {
		snprintf(err, errlen, "decider.intent.validity_hours must be in [1, 8760]");
		return -1;
	}
	if (o->retention_days < 1 || o->retention_days > 3650) {
		snprintf(err, errlen, "decider.window.retention_days must be in [1, 3650]");
		return -1;
	}
	if (o->batch_max < 1 || o->batch_max > 1000000) {
		snprintf(err, errlen, "decider.window.batch_max must be in [1, 1000000]");
		return -1;
	}
	if (o->max_trades < 1000 || o->max_trades > 100000000) {
		snprintf(err, errlen, "decider.window.max_trades must be in [1000, 100000000]");
		return -1;
	}
	if (sizing_check(&o->sizing, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "decider.%s", why);
		return -1;
	}
	return 0;
}

/* ---- life cycle ------------------------------------------------------- */

decider_t *decider_new(const struct decider_opts *o, char *err, size_t errlen)
{
	decider_t *d;
	int floor_days;

	if (decider_opts_check(o, err, errlen) < 0)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->o = *o;
	d->state_dir = strdup(o->state_dir);
	d->titles = strdup(o->exec_titles != NULL ? o->exec_titles : "");
	if (d->state_dir == NULL || d->titles == NULL) {
		snprintf(err, errlen, "out of memory");
		decider_free(&d);
		return NULL;
	}
	d->o.state_dir = d->state_dir;
	d->o.exec_titles = d->titles;
	if (title_matcher_init(&d->tm, d->titles, err, errlen) < 0) {
		decider_free(&d);
		return NULL;
	}
	title_memo_init(&d->tmemo);
	s_pct_thr_init(&d->min_pct, d->o.exec_min_fraction);
	/* The memory must outlive every copy that can still pass recency, and
	 * every purchase a fresh one could make a cluster with. */
	floor_days = (o->recency_enabled ? o->recency_days : 0) + o->cluster_window_days + 1;
	d->retention_days = o->retention_days > floor_days ? o->retention_days : floor_days;
	d->last_prune = INT64_MIN;
	d->w = window_open(d->state_dir, (size_t)o->max_trades, err, errlen);
	if (d->w == NULL) {
		decider_free(&d);
		return NULL;
	}
	return d;
}

/* Forget the waiting list; rows_alive: the rows are still the window's
 * (false after a rollback freed them). */
static void s_pend_clear(decider_t *d, bool rows_alive)
{
	for (size_t i = 0; i < d->npend; i++) {
		if (rows_alive)
			d->pend[i].row->tag = NULL;
		free(d->pend[i].reason);
	}
	d->npend = 0;
}

void decider_free(decider_t **dp)
{
	decider_t *d;

	if (dp == NULL || *dp == NULL)
		return;
	d = *dp;
	if (d->npend > 0)
		log_info("decider: %zu trades not flushed; they come again with the next cycle",
		         d->npend);
	s_pend_clear(d, true);
	window_close(&d->w);
	free(d->pend);
	free(d->state_dir);
	free(d->titles);
	free(d);
	*dp = NULL;
}

size_t decider_pending(const decider_t *d)
{
	return d->npend;
}

long decider_intent_count(decider_t *d)
{
	return window_signal_count(d->w);
}

/* ---- stage 1: one trade ------------------------------------------------ */

/* Days since 1970-01-01 of a valid trade's trade_date. */
static int64_t s_trade_day(const trade_t *t)
{
	civil_date_t td;

	date_parse(t->trade_date, &td);
	return date_to_days(td);
}

/*
 * The last filter, who: 1 for an executive's trade, else the drop's
 * return.  Nearly every trade's title is the one before's ("Director" after
 * "Director"): the last title's answer and drop reason are kept, so such a
 * trade costs one strcmp, not the memo's hash and the reason's assembly.
 * The answer is title_memo_is_executive's and the reason the one built
 * for that title, so nothing a trade gets depends on the one before.
 */
static int s_title_filter(decider_t *d, const trade_t *t, const struct decision_sink *sink)
{
	struct last_title *l = &d->last;
	size_t len;

	if (t->title == NULL || t->title[0] == '\0') {
		if (title_memo_is_executive(&d->tmemo, &d->tm, t->title))
			return 1;
		return s_drop_str(sink, t->key, "not an executive: no title");
	}
	if (l->valid && strcmp(t->title, l->title) == 0)
		return l->exec ? 1 : s_drop_str(sink, t->key, l->reason);
	len = strlen(t->title);
	if (len >= sizeof(l->title)) {
		/* too long to keep: answered each time */
		if (title_memo_is_executive(&d->tmemo, &d->tm, t->title))
			return 1;
		return s_drop_cat(sink, t->key, "not an executive: ", t->title, 80, NULL);
	}
	memcpy(l->title, t->title, len + 1);
	l->exec = title_memo_is_executive(&d->tmemo, &d->tm, t->title);
	if (!l->exec)
		s_cat(l->reason, "not an executive: ", t->title, 80, NULL);
	l->valid = true;
	return l->exec ? 1 : s_drop_str(sink, t->key, l->reason);
}

/* The per-trade filters, on a valid trade.  Returns 1 when t goes on to
 * the window (side set), 0 when it was dropped, -1 when the sink refused
 * the drop.  The trade date is parsed only by the filters that read it. */
static int s_filter(decider_t *d, const trade_t *t, int64_t now, int *side,
                    const struct decision_sink *sink)
{
	const struct decider_opts *o = &d->o;
	char a[64], b[64];

	if (t->code[0] == 'P' && t->code[1] == '\0')
		*side = SIDE_BUY;
	else if (t->code[0] == 'S' && t->code[1] == '\0')
		*side = SIDE_SELL;
	else
		return s_drop_cat(sink, t->key, "code ", t->code, SIZE_MAX,
		                  " is not an open-market purchase or sale");

	if (o->recency_enabled) {
		if (t->filed_at != REC_NULL_TIME) {
			int64_t age = now - t->filed_at;

			if (age > (int64_t)o->recency_days * DAY_SECONDS)
				return s_drop(sink, t->key, "filed %s days ago (more than %d)",
				              s_fmt_days(age, a, sizeof(a)), o->recency_days);
		} else {
			int64_t days = s_day_of(now) - s_trade_day(t);

			if (days > o->recency_days)
				return s_drop(sink, t->key,
				              "traded %" PRId64 " days ago, filing time unknown"
				              " (more than %d)",
				              days, o->recency_days);
		}
	}
	if (o->planned_exclude && t->planned)
		return s_drop_cat(sink, t->key, "10b5-1 plan", NULL, 0, NULL);
	if (o->mcap_enabled) {
		double cap = t->instrument != NULL ? t->instrument->market_cap : NAN;

		if (!isnan(cap) && cap > o->mcap_max)
			return s_drop(sink, t->key, "market cap %s above the %s maximum",
			              s_fmt_usd(cap, a, sizeof(a)),
			              s_fmt_usd(o->mcap_max, b, sizeof(b)));
		if (isnan(cap) && !o->mcap_allow_unknown)
			return s_drop_cat(sink, t->key, "market cap unknown", NULL, 0, NULL);
	}
	if (t->amendment && s_trade_day(t) < s_day_of(now) - d->retention_days)
		return s_drop(sink, t->key,
		              "4/A of a trade on %s, older than the %d-day memory: cannot tell"
		              " whether it is new",
		              t->trade_date, d->retention_days);
	if (!o->exec_enabled && !o->cluster_enabled)
		return s_drop_cat(sink, t->key, "executive_trade and cluster_buy are off", NULL, 0,
		                  NULL);
	if (!o->exec_enabled && *side == SIDE_SELL)
		return s_drop_cat(sink, t->key, "sale, and executive_trade is off", NULL, 0, NULL);
	return s_title_filter(d, t, sink);
}

static int s_pend_push(decider_t *d, struct win_trade *row)
{
	struct pend *p;

	if (d->npend == d->cap) {
		size_t ncap = d->cap == 0 ? 256 : d->cap * 2;
		struct pend *np = realloc(d->pend, ncap * sizeof(*np));

		if (np == NULL)
			return -1;
		d->pend = np;
		d->cap = ncap;
	}
	p = &d->pend[d->npend++];
	memset(p, 0, sizeof(*p));
	p->row = row;
	p->gvalue = NAN;
	row->tag = p; /* until the flush sorts the list */
	return 0;
}

/*
 * Send again the intent a repeated trade is evidence of, as it was first
 * sent.  PUSH/PULL has no acknowledgement: an intent still queued in this
 * process when it was killed after the commit, or in the executor's queue
 * when that one was, is lost, and the scraper's next cycle repeating its
 * trade is the only chance to make good (DESIGN.md, Delivery).  The
 * executor journals by intent id, so a copy it already has costs a
 * "duplicate" event.  At most once per RESEND_EVERY seconds per intent
 * (the rows of a group, and a scraper polling every second, would
 * otherwise bury the executor in copies).  Failing to resend costs a log
 * line, not the trade.
 */
static void s_resend(decider_t *d, const char *id, int64_t now, const struct decision_sink *sink)
{
	char err[256];
	void *mp = NULL;
	size_t len = 0;
	record_t rec;
	int rc;

	if (sink == NULL || sink->resend == NULL || !window_resend_due(d->w, id, now, RESEND_EVERY))
		return;
	rc = window_outbox_get(d->w, id, &mp, &len, err, sizeof(err));
	if (rc <= 0) {
		if (rc < 0)
			log_warnx("decider: intent %.12s not sent again: %s", id, err);
		return; /* pruned, or made before the outbox existed */
	}
	if (record_from_msgpack(mp, len, &rec, err, sizeof(err)) < 0) {
		log_warnx("decider: intent %.12s not sent again: %s", id, err);
	} else {
		if (rec.type == REC_INTENT && sink->resend(sink->ctx, &rec.u.intent) < 0)
			log_warnx("decider: intent %.12s not sent again: refused", id);
		record_free(&rec);
	}
	free(mp);
}

int decider_handle_trade(decider_t *d, const trade_t *t, int64_t now,
                         const struct decision_sink *sink)
{
	char why[256];
	record_t r;

	memset(&r, 0, sizeof(r));
	r.type = REC_TRADE;
	r.u.trade = *t;
	if (record_validate(&r, why, sizeof(why)) < 0)
		return s_drop(sink, t->key, "invalid trade: %s", why);
	return decider_handle_valid_trade(d, t, now, sink);
}

int decider_handle_valid_trade(decider_t *d, const trade_t *t, int64_t now,
                               const struct decision_sink *sink)
{
	char owner_key[256], err[512];
	struct win_put w;
	struct win_trade *seen, *row;
	struct win_detail det;
	civil_date_t td;
	char *grp = NULL;
	int side = SIDE_NONE, rc, ret = -1;
	uint64_t chash;
	bool was_pending;

	rc = s_filter(d, t, now, &side, sink);
	if (rc <= 0)
		return rc;

	/* The scraper sends its whole window every cycle: a repeat is
	 * answered from memory, before anything is built for it. */
	chash = s_content_hash(t);
	seen = window_lookup(d->w, t->key);
	if (seen != NULL && seen->chash == chash) {
		if (seen->pending)
			return s_drop_cat(sink, t->key,
			                  "repeat of a trade already waiting in this batch", NULL,
			                  0, NULL);
		if (seen->used_by != NULL) {
			s_resend(d, seen->used_by, now, sink);
			return s_drop_cat(sink, t->key, "already used: evidence of intent ",
			                  seen->used_by, 12, NULL);
		}
		return s_drop_cat(sink, t->key,
		                  seen->outcome != NULL ? seen->outcome : "already judged", NULL, 0,
		                  NULL);
	}
	was_pending = seen != NULL && seen->pending;

	date_parse(t->trade_date, &td);
	if (title_owner_key(t->owner, owner_key, sizeof(owner_key)) == 0)
		snprintf(owner_key, sizeof(owner_key), "%s", t->owner);
	/* The group: one filing (accession) by one owner on one side, from one
	 * source; a trade without an accession is a group of its own. */
	if (t->accession != NULL && t->accession[0] != '\0')
		grp = s_join(t->source, t->accession, t->code,
		             t->owner_cik != NULL ? "cik:" : "name:",
		             t->owner_cik != NULL ? t->owner_cik : owner_key, NULL);
	else
		grp = s_join(t->source, "key", t->key, NULL);
	if (grp == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}

	memset(&w, 0, sizeof(w));
	w.key = t->key;
	w.chash = chash;
	w.source = t->source;
	w.srank = s_source_rank(t->source);
	w.accession = t->accession != NULL && t->accession[0] != '\0' ? t->accession : NULL;
	w.grp = grp;
	w.side = side;
	w.owner_cik = t->owner_cik;
	w.owner_key = owner_key;
	w.ticker = t->ticker;
	memset(&det, 0, sizeof(det));
	det.owner = t->owner;
	det.title = t->title;
	det.issuer = t->issuer;
	if (t->instrument != NULL) {
		det.vticker = t->instrument->ticker;
		det.figi = t->instrument->figi;
		det.isin = t->instrument->isin;
	}
	w.det = det;
	w.trade_day = date_to_days(td);
	w.shares = t->shares;
	w.price = t->price;
	w.value = t->value;
	w.shares_after = t->shares_after;
	w.direct = t->direct;
	w.amendment = t->amendment;
	w.ref_time = t->filed_at != REC_NULL_TIME ? t->filed_at : w.trade_day * DAY_SECONDS;

	row = window_put(d->w, &w);
	if (row == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (was_pending) {
		/* Changed while waiting: the stored row now holds the new
		 * content and gets the one answer at the flush. */
		ret = s_drop(sink, t->key,
		             "repeat of a trade already waiting in this batch"
		             " (its content replaced the earlier copy)");
		goto done;
	}
	if (s_pend_push(d, row) < 0) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	ret = 0;
	if (d->npend >= (size_t)d->o.batch_max)
		ret = decider_flush(d, now, sink);
	goto done;
out:
	log_warnx("decider: trade %.64s: %s", t->key, err);
done:
	free(grp);
	return ret;
}

/* ---- stage 2: groups ---------------------------------------------------- */

/* Judging order: originals before amendments, then by source rank, group
 * and key (window_find_repeat's "earlier" within a batch is the same). */
static int s_cmp_pend(const void *a, const void *b)
{
	const struct win_trade *x = ((const struct pend *)a)->row,
	                       *y = ((const struct pend *)b)->row;
	int c;

	if (x->amendment != y->amendment)
		return x->amendment ? 1 : -1;
	if (x->srank != y->srank)
		return x->srank < y->srank ? -1 : 1;
	if ((c = strcmp(win_grp(x), win_grp(y))) != 0)
		return c;
	return strcmp(x->key, y->key);
}

/* The waiting entry of a row, or NULL when the row is older. */
static struct pend *s_pend_of(const struct win_trade *r)
{
	return r->tag;
}

/* Record the group stage's answer for a waiting row, in memory and in the
 * window.  reason NULL: it became evidence. */
static int s_settle(decider_t *d, struct pend *p, double gvalue, const char *dup_of,
                    const char *reason, char *err, size_t errlen)
{
	p->judged = true;
	p->dup = dup_of != NULL;
	p->gvalue = gvalue;
	free(p->reason);
	p->reason = NULL;
	if (reason != NULL && (p->reason = strdup(reason)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (window_mark(d->w, p->row, gvalue, dup_of, reason, NULL) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* How big the group is against the holdings. */
enum ratio_kind {
	RATIO_FRACTION,     /* f is the fraction */
	RATIO_NEW_POSITION, /* a purchase with nothing held before */
	RATIO_ALL_AFTER,    /* fraction_of after, nothing left after a sale */
	RATIO_UNKNOWN,      /* a shares_after is unknown */
};

struct group_sum {
	double shares; /* total */
	double value;  /* total, NAN when a row's is unknown */
	double pv, ps; /* sum of price x shares and shares over priced rows */
	enum ratio_kind kind;
	double f;
	size_t n;                /* live rows */
	struct win_trade *first; /* first live row by key */
	int64_t day_lo, day_hi;  /* first and last trade day (n > 0) */
};

/* Sum the live rows and measure them against the holdings (rules.h). */
static void s_group_sum(const struct decider_opts *o, struct win_trade *const *rows, size_t n,
                        const bool *live, int side, struct group_sum *g)
{
	double tb[3] = { 0, 0, 0 }, ab[3] = { NAN, NAN, NAN };
	bool used[3] = { false, false, false }, unknown = false;
	double before = 0, after = 0;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < n; i++) {
		struct win_trade *r = rows[i];
		double v = !isnan(r->value) ? r->value : r->shares * r->price;
		int b = r->direct + 1;

		if (!live[i])
			continue;
		if (g->first == NULL)
			g->first = r;
		if (g->n == 0 || r->trade_day < g->day_lo)
			g->day_lo = r->trade_day;
		if (g->n == 0 || r->trade_day > g->day_hi)
			g->day_hi = r->trade_day;
		g->n++;
		g->shares += r->shares;
		g->value += v; /* NaN sticks: one unknown makes the total unknown */
		if (!isnan(r->price)) {
			g->pv += r->price * r->shares;
			g->ps += r->shares;
		}
		if (b < 0 || b > 2)
			b = 0;
		used[b] = true;
		tb[b] += r->shares;
		if (isnan(r->shares_after))
			unknown = true;
		else if (isnan(ab[b]))
			ab[b] = r->shares_after;
		else if (side == SIDE_BUY)
			ab[b] = fmax(ab[b], r->shares_after);
		else
			ab[b] = fmin(ab[b], r->shares_after);
	}
	if (unknown) {
		g->kind = RATIO_UNKNOWN;
		return;
	}
	for (int b = 0; b < 3; b++) {
		if (!used[b])
			continue;
		after += ab[b];
		before += side == SIDE_BUY ? ab[b] - tb[b] : ab[b] + tb[b];
	}
	if (o->fraction_of == FRACTION_OF_AFTER) {
		if (after <= 0) {
			g->kind = RATIO_ALL_AFTER;
			return;
		}
		g->kind = RATIO_FRACTION;
		g->f = g->shares / after;
		return;
	}
	if (before <= 0) {
		/* Nothing held before (or inconsistent holdings lines that
		 * say less than nothing): the purchase is all there is.  A
		 * sale always has before >= its own shares > 0. */
		g->kind = RATIO_NEW_POSITION;
		return;
	}
	g->kind = RATIO_FRACTION;
	g->f = g->shares / before;
}

/* "(2.4% of holdings)" and the like, for the intent's reason. */
static void s_ratio_words(const decider_t *d, const struct group_sum *g, char *buf, size_t len)
{
	char pct[64];

	switch (g->kind) {
	case RATIO_NEW_POSITION:
		snprintf(buf, len, "a new position");
		break;
	case RATIO_ALL_AFTER:
		snprintf(buf, len, "all of the holdings: none left after the trade");
		break;
	case RATIO_UNKNOWN:
		snprintf(buf, len, "holdings unknown");
		break;
	case RATIO_FRACTION:
		snprintf(buf, len, "%s of holdings%s",
		         s_fmt_pct(g->f, d->o.exec_min_fraction, &d->min_pct, pct, sizeof(pct)),
		         d->o.fraction_of == FRACTION_OF_AFTER ? " after the trade" : "");
		break;
	}
}

/* Fill the parts of an intent every rule shares, and emit it.  keys must
 * be sorted; they are all hashed into the id, at most RECORD_MAX_EVIDENCE
 * listed.  The instrument is like's (its words read back when it is an
 * older row).  *emitted is false when the window already holds that id. */
static int s_emit_intent(decider_t *d, const char *rule, int side, const char **keys, size_t n,
                         struct win_trade *like, double ref_price, const char *reason, int64_t now,
                         const struct decision_sink *sink, char id[ID_HEX + 1], bool *emitted,
                         char *err, size_t errlen)
{
	char rule_buf[32], *reason_buf, *mp = NULL;
	const struct win_detail *ld;
	const char *unread;
	intent_t in;
	record_t rec = { .type = REC_INTENT };
	size_t mplen = 0;
	int rc = 0, known;

	*emitted = false;
	s_make_id(rule, side, keys, n, id);
	known = window_signal_exists(d->w, id);
	/* A read of this batch failed: the rules judged without part of the
	 * window, and an intent sent now would outlive the failed commit. */
	if ((unread = window_read_error(d->w)) != NULL) {
		snprintf(err, errlen, "%s", unread);
		return -1;
	}
	if (known)
		return 0;
	if ((ld = window_detail(d->w, like, err, errlen)) == NULL)
		return -1;
	memset(&in, 0, sizeof(in));
	snprintf(rule_buf, sizeof(rule_buf), "%s", rule);
	reason_buf = strdup(reason);
	if (reason_buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The intent is only encoded by the sink, never changed or freed:
	 * it borrows the window's (interned, const) strings. */
	in.id = id;
	in.rule = rule_buf;
	in.side = (enum side)side;
	in.ticker = (char *)(ld->vticker != NULL ? ld->vticker : like->ticker);
	in.figi = (char *)ld->figi;
	in.isin = (char *)ld->isin;
	sizing_apply(&d->o.sizing, &in);
	in.ref_price = ref_price;
	in.evidence = (char **)keys;
	in.n_evidence = n < RECORD_MAX_EVIDENCE ? n : RECORD_MAX_EVIDENCE;
	in.reason = reason_buf;
	in.created_at = now;
	in.expires_at = now + (int64_t)d->o.validity_hours * 3600;
	/* Encoded once: the outbox keeps these bytes, and a sink that takes
	 * them sends them as they are. */
	rec.u.intent = in;
	if (record_to_msgpack(&rec, &mp, &mplen, err, errlen) < 0)
		rc = -1;
	if (rc == 0 && sink != NULL && sink->intent != NULL &&
	    sink->intent(sink->ctx, &in, mp, mplen) < 0) {
		snprintf(err, errlen, "the intent %s was refused", id);
		rc = -1;
	}
	if (rc == 0 && window_signal_put(d->w, &in) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc == 0 && window_outbox_put(d->w, id, mp, mplen, in.created_at, err, errlen) < 0)
		rc = -1;
	free(mp);
	free(reason_buf);
	if (rc == 0) {
		*emitted = true;
		/* debug: the stage logs each intent it sends at info already
		 * (decider.c); a second line per intent was a second write to
		 * stderr on the hot path. */
		log_debug("decider: intent %s %s %s: %s", id, rule, side_name((enum side)side),
		          reason);
	}
	return rc;
}

static int s_oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Judge one group, whose waiting rows start at d->pend[lo]. */
static int s_judge_group(decider_t *d, size_t lo, int64_t now, const struct decision_sink *sink,
                         char *err, size_t errlen)
{
	const struct decider_opts *o = &d->o;
	const char *grp = win_grp(d->pend[lo].row);
	struct win_trade **rows = NULL;
	const struct win_trade *r0;
	struct win_group *mem;
	struct group_sum g;
	bool *live = NULL;
	const char **keys = NULL;
	char *reason = NULL;
	char buf[REASON_MAX], a[96], b[96], id[ID_HEX + 1] = "";
	int64_t ref_time = INT64_MIN;
	size_t n = 0, nkeys = 0;
	bool any_new = false, emitted = false;
	int rc = -1;

	if (window_group_rows(d->w, grp, &rows, &n) < 0)
		return s_oom(err, errlen);
	if (n == 0) {
		snprintf(err, errlen, "group %.64s vanished from the window", grp);
		goto out;
	}
	if (n > GROUP_MAX) {
		snprintf(buf, sizeof(buf),
		         "more than %d transactions by one owner in one filing: not judged",
		         GROUP_MAX);
		for (size_t i = 0; i < n; i++) {
			struct pend *p = s_pend_of(rows[i]);

			if (p != NULL &&
			    s_settle(d, p, NAN, "oversized group", buf, err, errlen) < 0)
				goto out;
		}
		rc = 0;
		goto out;
	}
	r0 = rows[0];
	for (size_t i = 0; i < n; i++)
		if (rows[i]->ref_time > ref_time)
			ref_time = rows[i]->ref_time;

	if (win_accession(r0) != NULL) {
		/* The same filing and owner through another source. */
		mem = window_group_copy(d->w, grp, win_accession(r0), r0->side, win_owner_cik(r0),
		                        r0->owner_key);
		if (mem != NULL) {
			if (mem->intent != NULL)
				snprintf(
				    buf, sizeof(buf),
				    "already used: same transaction seen via %s (intent %.12s)",
				    mem->source, mem->intent);
			else
				snprintf(buf, sizeof(buf), "same transaction already seen via %s",
				         mem->source);
			snprintf(a, sizeof(a), "copy of %.80s", mem->grp);
			for (size_t i = 0; i < n; i++) {
				struct pend *p = s_pend_of(rows[i]);

				if (p != NULL && s_settle(d, p, NAN, a, buf, err, errlen) < 0)
					goto out;
			}
			/* Not remembered as a group of its own: the original stays
			 * the one a later copy, or a later row of either, is
			 * matched against. */
			rc = 0;
			goto out;
		}
		/* A group that already made its intent: later rows add nothing. */
		mem = window_group_get(d->w, grp);
		if (mem != NULL && mem->intent != NULL) {
			const struct win_detail *d0 = NULL;

			snprintf(id, sizeof(id), "%.32s", mem->intent);
			for (size_t i = 0; i < n; i++) {
				struct pend *p = s_pend_of(rows[i]);

				if (p == NULL)
					continue;
				if (rows[i]->used_by != NULL && strcmp(rows[i]->used_by, id) == 0) {
					snprintf(buf, sizeof(buf),
					         "already used: evidence of intent %.12s", id);
				} else {
					/* r0's owner, read back once if it is an older row */
					if (d0 == NULL && (d0 = window_detail(d->w, rows[0], err,
					                                      errlen)) == NULL)
						goto out;
					snprintf(
					    buf, sizeof(buf),
					    "already used: filing %s by %.60s already signalled"
					    " as intent %.12s",
					    win_accession(r0), d0->owner, id);
				}
				if (s_settle(d, p, rows[i]->gvalue, NULL, buf, err, errlen) < 0)
					goto out;
			}
			if (window_group_put(d->w, grp, win_source(r0), win_accession(r0), r0->side,
			                     win_owner_cik(r0), r0->owner_key, id, ref_time) < 0)
				goto oom;
			rc = 0;
			goto out;
		}
	}

	/* 4/A repeats (and accession-less copies): not new. */
	live = calloc(n, sizeof(*live));
	keys = calloc(n, sizeof(*keys));
	if (live == NULL || keys == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct win_trade *r = rows[i], *q;
		struct pend *p = s_pend_of(r);

		if (p == NULL) {
			live[i] = r->dup_of == NULL;
			continue;
		}
		q = window_find_repeat(d->w, r);
		if (q == NULL) {
			live[i] = true;
			any_new = true;
			continue;
		}
		if (win_accession(r) == NULL || win_accession(q) == NULL)
			snprintf(buf, sizeof(buf), "same transaction already seen as %.200s",
			         q->key);
		else if (r->amendment)
			snprintf(buf, sizeof(buf), "4/A repeats a transaction already seen in %s",
			         win_accession(q));
		else
			snprintf(buf, sizeof(buf), "repeats a transaction already seen in 4/A %s",
			         win_accession(q));
		snprintf(a, sizeof(a), "repeat of %.80s", q->key);
		if (s_settle(d, p, NAN, a, buf, err, errlen) < 0)
			goto out;
	}
	if (!any_new) {
		rc = 0;
		if (win_accession(r0) != NULL &&
		    window_group_put(d->w, grp, win_source(r0), win_accession(r0), r0->side,
		                     win_owner_cik(r0), r0->owner_key, NULL, ref_time) < 0)
			goto oom;
		goto out;
	}

	/* executive_trade on the group as it now stands. */
	s_group_sum(o, rows, n, live, r0->side, &g);
	if (!o->exec_enabled)
		reason = s_printf("executive_trade is off");
	else if (o->min_value > 0 && isnan(g.value))
		reason =
		    s_printf("value unknown (minimum %s)", s_fmt_usd(o->min_value, a, sizeof(a)));
	else if (o->min_value > 0 && g.value < o->min_value)
		reason = s_printf("value %s below the %s minimum", s_fmt_usd(g.value, a, sizeof(a)),
		                  s_fmt_usd(o->min_value, b, sizeof(b)));
	else if (g.kind == RATIO_UNKNOWN && o->exec_min_fraction > 0)
		reason = s_printf("holdings unknown (no shares owned after the trade)");
	else if (g.kind == RATIO_FRACTION && !(g.f > o->exec_min_fraction)) {
		s_ratio_words(d, &g, a, sizeof(a));
		reason = s_printf("%s (more than %s needed)", a,
		                  s_fmt_pct(o->exec_min_fraction, 0, NULL, b, sizeof(b)));
	} else {
		/* An intent: "CFO John Doe bought 12,000 shares (2.4% of
		 * holdings) of ACME on 2026-04-22". */
		char dates[64], txn[48] = "", words[96];
		const struct win_detail *gd;

		for (size_t i = 0; i < n; i++)
			if (live[i])
				keys[nkeys++] = rows[i]->key; /* rows are in key order */
		if (g.day_lo == g.day_hi)
			snprintf(dates, sizeof(dates), "on %s", s_fmt_day(g.day_lo, a, sizeof(a)));
		else
			snprintf(dates, sizeof(dates), "between %s and %s",
			         s_fmt_day(g.day_lo, a, sizeof(a)),
			         s_fmt_day(g.day_hi, b, sizeof(b)));
		if (g.n > 1)
			snprintf(txn, sizeof(txn), " in %zu transactions", g.n);
		s_ratio_words(d, &g, words, sizeof(words));
		if ((gd = window_detail(d->w, g.first, err, errlen)) == NULL)
			goto out;
		snprintf(buf, sizeof(buf), "%.80s %.80s %s %s shares (%s) of %s %s%s",
		         gd->title != NULL ? gd->title : "Executive", gd->owner,
		         r0->side == SIDE_BUY ? "bought" : "sold",
		         s_fmt_qty(g.shares, a, sizeof(a)), words, g.first->ticker, dates, txn);
		if (s_emit_intent(d, "executive_trade", r0->side, keys, nkeys, g.first,
		                  g.ps > 0 ? g.pv / g.ps : NAN, buf, now, sink, id, &emitted, err,
		                  errlen) < 0)
			goto out;
		if (!emitted)
			reason = s_printf("already used: intent %.12s", id);
	}
	if (nkeys == 0 && reason == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct pend *p = live[i] ? s_pend_of(rows[i]) : NULL;

		if (p != NULL) {
			p->judged = true;
			p->dup = false;
			p->gvalue = g.value;
			p->used = emitted;
			if (reason != NULL && (p->reason = strdup(reason)) == NULL)
				goto oom;
			if (window_mark(d->w, rows[i], g.value, NULL, reason,
			                nkeys > 0 ? id : NULL) < 0)
				goto oom;
		} else if (live[i] && nkeys > 0 && window_use(d->w, rows[i], id) < 0) {
			goto oom;
		}
	}
	rc = 0;
	if (win_accession(r0) != NULL &&
	    window_group_put(d->w, grp, win_source(r0), win_accession(r0), r0->side,
	                     win_owner_cik(r0), r0->owner_key, nkeys > 0 ? id : NULL, ref_time) < 0)
		goto oom;
	goto out;
oom:
	rc = s_oom(err, errlen);
out:
	free(reason);
	free(keys);
	free(live);
	free(rows);
	return rc;
}

/* ---- stage 3: clusters -------------------------------------------------- */

/* Distinct owners in the sliding window, with how many rows each has. */
struct owner_count {
	const char *owner_key;
	int rows;
};

struct owner_set {
	struct owner_count *v;
	size_t n, cap;
};

static int s_owner_add(struct owner_set *s, const char *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].owner_key, k) == 0) {
			s->v[i].rows++;
			return 0;
		}
	if (s->n == s->cap) {
		size_t ncap = s->cap == 0 ? 8 : s->cap * 2;
		struct owner_count *nv = realloc(s->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n].owner_key = k;
	s->v[s->n].rows = 1;
	s->n++;
	return 0;
}

static void s_owner_remove(struct owner_set *s, const char *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].owner_key, k) == 0) {
			if (--s->v[i].rows == 0)
				s->v[i] = s->v[--s->n];
			return;
		}
}

/* Signal a cluster formed by c[lo..hi); fills cl. */
static int s_emit_cluster(decider_t *d, struct win_trade **c, size_t lo, size_t hi,
                          struct win_cluster *cl, int64_t now, const struct decision_sink *sink,
                          char *err, size_t errlen)
{
	char buf[REASON_MAX];
	struct win_trade *latest = c[hi - 1], *like = NULL;
	char d1[16], d2[16];
	struct owner_set seen = { 0 };
	const char **keys = calloc(hi - lo, sizeof(*keys));
	double ref_price = NAN;
	size_t n = 0, shown = 0, off;
	bool emitted;
	int rc = -1;

	if (keys == NULL)
		return s_oom(err, errlen);
	for (size_t i = lo; i < hi; i++)
		keys[n++] = c[i]->key;
	qsort(keys, n, sizeof(*keys), s_cmp_str);
	/* The latest information: the price and instrument of the newest
	 * member that has them. */
	for (size_t i = hi; i > lo; i--) {
		struct win_trade *r = c[i - 1];

		if (isnan(ref_price) && !isnan(r->price))
			ref_price = r->price;
		if (like == NULL && r->has_figi)
			like = r;
	}
	if (like == NULL)
		like = latest;

	/* "3 executives bought ACME between 2026-04-15 and 2026-04-21: CEO
	 * Jane Roe, CFO John Doe, COO Ann Lee" */
	for (size_t i = lo; i < hi; i++)
		if (s_owner_add(&seen, c[i]->owner_key) < 0)
			goto oom;
	off =
	    (size_t)snprintf(buf, sizeof(buf), "%zu executives bought %s ", seen.n, latest->ticker);
	if (c[lo]->trade_day == latest->trade_day)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		                        "on %s:", s_fmt_day(latest->trade_day, d1, sizeof(d1)));
	else
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "between %s and %s:",
		                        s_fmt_day(c[lo]->trade_day, d1, sizeof(d1)),
		                        s_fmt_day(latest->trade_day, d2, sizeof(d2)));
	seen.n = 0; /* again, to name each owner once, in order */
	for (size_t i = lo; i < hi && off < sizeof(buf); i++) {
		struct win_trade *r = c[i];
		const struct win_detail *rd;
		size_t before = seen.n;

		if (s_owner_add(&seen, r->owner_key) < 0)
			goto oom;
		if (seen.n == before)
			continue;
		if (shown == 6) {
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, " and others");
			break;
		}
		if ((rd = window_detail(d->w, r, err, errlen)) == NULL)
			goto out;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s %.60s %.60s",
		                        shown > 0 ? "," : "", rd->title != NULL ? rd->title : "",
		                        rd->owner);
		shown++;
	}
	if (s_emit_intent(d, "cluster_buy", SIDE_BUY, keys, n, like, ref_price, buf, now, sink,
	                  cl->id, &emitted, err, errlen) < 0)
		goto out;
	snprintf(cl->ticker, sizeof(cl->ticker), "%s", latest->ticker);
	cl->first_day = c[lo]->trade_day;
	cl->last_day = latest->trade_day;
	for (size_t i = lo; i < hi; i++) {
		struct pend *p = s_pend_of(c[i]);

		if (window_use(d->w, c[i], cl->id) < 0)
			goto oom;
		if (p != NULL && emitted)
			p->used = true;
		else if (p != NULL)
			snprintf(p->note, sizeof(p->note),
			         "cluster_buy: already used: intent %.12s", cl->id);
	}
	rc = 0;
	goto out;
oom:
	rc = s_oom(err, errlen);
out:
	free(seen.v);
	free(keys);
	return rc;
}

/*
 * cluster_buy for one ticker with purchases in this batch on days
 * [day_lo, day_hi].  Candidates are the judged, non-copy purchases within
 * window_days of them; those within window_days of a signalled cluster's
 * span join it (and stretch it); the rest are scanned in date order and
 * form a cluster at the first trade date on which the last window_days
 * hold min_executives distinct owners.
 */
static int s_judge_ticker(decider_t *d, const char *ticker, int64_t day_lo, int64_t day_hi,
                          int64_t now, const struct decision_sink *sink, char *err, size_t errlen)
{
	const struct decider_opts *o = &d->o;
	const int64_t wdays = o->cluster_window_days;
	struct win_trade **c = NULL, **u = NULL;
	struct win_cluster *cl = NULL;
	struct owner_set win = { 0 };
	size_t nc = 0, ncl = 0, nu = 0;
	int *assigned = NULL;
	bool *dirty = NULL;
	int rc = -1;

	if (window_cluster_candidates(d->w, ticker, day_lo - wdays, day_hi + wdays, &c, &nc) < 0 ||
	    window_clusters(d->w, ticker, &cl, &ncl) < 0)
		goto oom;
	assigned = malloc((nc + 1) * sizeof(*assigned));
	u = malloc((nc + 1) * sizeof(*u));
	{
		/* room for every cluster that can form here */
		struct win_cluster *ncls = realloc(cl, (ncl + nc + 1) * sizeof(*ncls));

		if (ncls != NULL)
			cl = ncls;
		dirty = calloc(ncl + nc + 1, sizeof(*dirty));
		if (assigned == NULL || u == NULL || ncls == NULL || dirty == NULL)
			goto oom;
	}
	for (size_t i = 0; i < nc; i++) {
		bool small = o->min_value > 0 && !(c[i]->gvalue >= o->min_value);
		struct pend *p = s_pend_of(c[i]);

		assigned[i] = small ? -2 : -1;
		if (small && p != NULL)
			snprintf(p->note, sizeof(p->note), "cluster_buy: value below the minimum");
	}
	/* Later members of signalled clusters, stretching them as they join. */
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < nc; i++) {
			if (assigned[i] != -1)
				continue;
			for (size_t k = 0; k < ncl; k++)
				if (c[i]->trade_day >= cl[k].first_day - wdays &&
				    c[i]->trade_day <= cl[k].last_day + wdays) {
					assigned[i] = (int)k;
					if (c[i]->trade_day < cl[k].first_day)
						cl[k].first_day = c[i]->trade_day;
					if (c[i]->trade_day > cl[k].last_day)
						cl[k].last_day = c[i]->trade_day;
					dirty[k] = changed = true;
					break;
				}
		}
	}
	for (size_t i = 0; i < nc; i++)
		if (assigned[i] == -1)
			u[nu++] = c[i];

	/* New clusters among the rest. */
	for (size_t i = 0, j = 0; i < nu;) {
		size_t k = i;
		int64_t day = u[i]->trade_day;

		while (k < nu && u[k]->trade_day == day)
			k++;
		for (; u[j]->trade_day < day - wdays; j++)
			s_owner_remove(&win, u[j]->owner_key);
		for (size_t m = i; m < k; m++)
			if (s_owner_add(&win, u[m]->owner_key) < 0)
				goto oom;
		if (win.n >= (size_t)o->cluster_min_executives) {
			struct win_cluster *nw = &cl[ncl];

			memset(nw, 0, sizeof(*nw));
			if (s_emit_cluster(d, u, j, k, nw, now, sink, err, errlen) < 0)
				goto out;
			/* Later members in this batch join it. */
			for (; k < nu && u[k]->trade_day <= nw->last_day + wdays; k++) {
				struct pend *p = s_pend_of(u[k]);

				nw->last_day = u[k]->trade_day;
				if (p != NULL && !p->used)
					snprintf(p->note, sizeof(p->note),
					         "cluster_buy: later member of cluster %.12s",
					         nw->id);
			}
			dirty[ncl] = true;
			ncl++;
			win.n = 0;
			i = j = k;
			continue;
		}
		for (size_t m = i; m < k; m++) {
			struct pend *p = s_pend_of(u[m]);

			if (p != NULL)
				snprintf(p->note, sizeof(p->note),
				         "cluster_buy: %zu of %d executives within %d days", win.n,
				         o->cluster_min_executives, o->cluster_window_days);
		}
		i = k;
	}
	/* What joining a signalled cluster meant for the waiting rows. */
	for (size_t i = 0; i < nc; i++) {
		struct pend *p = s_pend_of(c[i]);

		if (assigned[i] < 0 || p == NULL || p->used)
			continue;
		snprintf(p->note, sizeof(p->note), "cluster_buy: later member of cluster %.12s",
		         cl[assigned[i]].id);
	}
	for (size_t k = 0; k < ncl; k++)
		if (dirty[k] && window_cluster_put(d->w, &cl[k]) < 0)
			goto oom;
	rc = 0;
	goto out;
oom:
	rc = s_oom(err, errlen);
out:
	free(win.v);
	free(dirty);
	free(u);
	free(assigned);
	free(cl);
	free(c);
	return rc;
}

static int s_cmp_pend_ptr_ticker(const void *a, const void *b)
{
	const struct pend *x = *(const struct pend *const *)a, *y = *(const struct pend *const *)b;

	return strcmp(x->row->ticker, y->row->ticker);
}

static int s_clusters(decider_t *d, int64_t now, const struct decision_sink *sink, char *err,
                      size_t errlen)
{
	struct pend **buys = malloc((d->npend + 1) * sizeof(*buys));
	size_t nb = 0;
	int rc = 0;

	if (buys == NULL)
		return s_oom(err, errlen);
	for (size_t i = 0; i < d->npend; i++)
		if (d->pend[i].row->side == SIDE_BUY && d->pend[i].judged && !d->pend[i].dup)
			buys[nb++] = &d->pend[i];
	qsort(buys, nb, sizeof(*buys), s_cmp_pend_ptr_ticker);
	for (size_t i = 0; i < nb && rc == 0;) {
		size_t k = i;
		int64_t lo = buys[i]->row->trade_day, hi = lo;

		for (; k < nb && strcmp(buys[k]->row->ticker, buys[i]->row->ticker) == 0; k++) {
			lo = buys[k]->row->trade_day < lo ? buys[k]->row->trade_day : lo;
			hi = buys[k]->row->trade_day > hi ? buys[k]->row->trade_day : hi;
		}
		rc = s_judge_ticker(d, buys[i]->row->ticker, lo, hi, now, sink, err, errlen);
		i = k;
	}
	free(buys);
	return rc;
}

/* ---- the flush ---------------------------------------------------------- */

/* One drop per waiting trade that became no intent. */
static int s_emit_drops(decider_t *d, const struct decision_sink *sink, char *err, size_t errlen)
{
	char buf[REASON_MAX];

	for (size_t i = 0; i < d->npend; i++) {
		struct pend *p = &d->pend[i];

		if (p->used)
			continue;
		if (p->note[0] != '\0' && p->reason != NULL) {
			snprintf(buf, sizeof(buf), "%s; %s", p->reason, p->note);
			if (window_mark(d->w, p->row, p->gvalue, p->row->dup_of, buf, NULL) < 0)
				return s_oom(err, errlen);
		} else {
			snprintf(buf, sizeof(buf), "%s",
			         p->reason != NULL    ? p->reason
			         : p->note[0] != '\0' ? p->note
			                              : "no rule made an intent of it");
		}
		if (s_drop(sink, p->row->key, "%s", buf) < 0) {
			snprintf(err, errlen, "a drop was refused");
			return -1;
		}
	}
	return 0;
}

static bool s_prune_due(const decider_t *d, int64_t now)
{
	return d->last_prune == INT64_MIN || now < d->last_prune ||
	       now - d->last_prune >= PRUNE_EVERY;
}

int decider_flush(decider_t *d, int64_t now, const struct decision_sink *sink)
{
	char err[512] = "";
	int64_t cutoff = now - (int64_t)d->retention_days * DAY_SECONDS;
	bool prune = s_prune_due(d, now), emitted = false;
	int rc = -1;

	if (d->npend == 0 && !prune) {
		/* idle: let go of the rows repeats read */
		window_drop_reads(d->w);
		return 0;
	}
	if (d->npend > 0) {
		qsort(d->pend, d->npend, sizeof(*d->pend), s_cmp_pend);
		for (size_t i = 0; i < d->npend; i++)
			d->pend[i].row->tag = &d->pend[i];
		for (size_t i = 0; i < d->npend;) {
			size_t k = i + 1;

			while (k < d->npend &&
			       strcmp(win_grp(d->pend[k].row), win_grp(d->pend[i].row)) == 0)
				k++;
			if (!d->pend[i].judged &&
			    s_judge_group(d, i, now, sink, err, sizeof(err)) < 0)
				goto out;
			i = k;
		}
		if (d->o.cluster_enabled && s_clusters(d, now, sink, err, sizeof(err)) < 0)
			goto out;
		if (s_emit_drops(d, sink, err, sizeof(err)) < 0)
			goto out;
	}
	for (size_t i = 0; i < d->npend && !emitted; i++)
		emitted = d->pend[i].used;
	s_pend_clear(d, true);
	if (d->cap > PEND_KEEP) {
		free(d->pend);
		d->pend = NULL;
		d->cap = 0;
	}
	/* Clusters are tiny and outlive their members' rows by one more
	 * retention, so old members never form the same cluster again. */
	if (prune &&
	    window_prune(d->w, cutoff, s_day_of(cutoff) - d->retention_days, err, sizeof(err)) < 0)
		goto out;
	/* The intents are with ZeroMQ, whose I/O thread has yet to send them:
	 * on a busy machine the commit below (~150 us) held the core it
	 * needed, and a yield here cut the decider -> executor hop's p99 from
	 * 1.6 to 0.45 ms under load (no change on a quiet machine;
	 * BENCHMARKS.md, finding 22). */
	if (emitted)
		sched_yield();
	if (window_commit(d->w, err, sizeof(err)) < 0)
		goto out;
	if (prune)
		d->last_prune = now;
	rc = 0;
out:
	if (rc < 0) {
		char why[256];

		log_warnx("decider: flush of %zu trades failed, rolled back: %s", d->npend, err);
		/* the rows are freed by the reload: forget them first */
		s_pend_clear(d, true);
		if (window_rollback(d->w, why, sizeof(why)) < 0)
			log_warnx("decider: reloading the window: %s", why);
	}
	return rc;
}
