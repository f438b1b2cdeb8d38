/*
 * mapper.c - the mapper stage: each trade's ticker resolved through the
 * OpenFIGI v3 mapping API, an `instrument` attached, and the trade passed on.
 *
 * A trade moves through up to three steps, each answered from the cache
 * (state_dir/mapper.sqlite) when it can be, else from the network:
 *
 *   1. US: the job {idType:"TICKER", idValue:<ticker>, exchCode:"US"}, the
 *      US composite listing.  Class shares written "BRK.B" or "BRK-B" are
 *      asked for as Bloomberg writes them, "BRK/B".
 *   2. VENUE (only with mapper.target_venue): the composite's share class
 *      FIGI mapped to the target venue's listing, {idType:
 *      "ID_BB_GLOBAL_SHARE_CLASS_LEVEL", idValue:<shareClassFIGI>,
 *      exchCode:<venue>} (or micCode).  The share class FIGI, not the
 *      composite FIGI: a composite FIGI stands for one country's listings
 *      (the US composite has no German members), while the share class
 *      FIGI links the composites of every country.  The instrument then
 *      describes that listing (its FIGI, ticker and exchCode).
 *   3. SEC: shares outstanding (marketcap.c); market_cap = shares
 *      outstanding x the trade's price, an estimate; null when either is
 *      unknown.  Never a reason to hold or drop a trade.
 *
 * Choosing one row when a job has several (openfigi_choose), the first rule
 * that tells two rows apart decides:
 *   a. the kind of security: securityType2 "Common Stock", then
 *      securityType "Common Stock", then securityType2 "Depositary
 *      Receipt", then any other marketSector "Equity" row, then the rest;
 *   b. the row whose exchCode is the one the job asked for;
 *   c. a composite row (figi == compositeFIGI) before a single venue's;
 *   d. the smallest figi, byte by byte.
 * The rule looks only at the rows' contents, so the answer does not depend
 * on the order OpenFIGI lists them in.
 *
 * Batching and rate: distinct jobs wait in one queue (each job once, however
 * many trades wait on it).  A request goes when it is full (10 jobs without a
 * key, 100 with one, or mapper.jobs_per_request), when its oldest job has
 * waited mapper.batch_ms, or at once at the end of the input; and only when
 * the token bucket (batch.h) has a token: at most rate_requests per window
 * (25 per minute without a key, 25 per 6 s with one).
 *
 * Retry policy.  Trades are never dropped because OpenFIGI is unavailable:
 *   - no answer (refused, timeout, reset), 5xx, 429, 401/403, other 4xx:
 *     the jobs go back to the head of the queue, their trades stay, and no
 *     request is sent until the backoff ends (retry_min_ms doubling to
 *     retry_max_ms, with jitter; for a 429 at least ratelimit-reset or
 *     Retry-After when given, and the token bucket is emptied).  A 401 is
 *     logged as a bad key: a configuration problem, not the trades' fault.
 *   - 413 (too many jobs): the per-request limit drops to the number the
 *     answer names ("Request may only contain 10 mapping jobs."), else to
 *     half, and the same jobs go again at once.
 *   - 400, or a 200 whose body is not the aligned array: the batch is split
 *     in halves until the job at fault is alone; that job's trades are then
 *     dropped with the reason, and the refusal is cached with it
 *     (cache_refused_ttl_s, short: it may be the server's fault), so the
 *     trade's repeats in later scrape cycles are dropped at once instead of
 *     costing the split again.  Only a job refused alone is: a batch is
 *     split, and a failed transport is retried, never cached.
 *   - {"warning":"No identifier found."} and {"error":...} are answers:
 *     cached (cache_not_found_ttl_s) and the trades dropped with the text.
 * The client's own retries are off: the loop keeps reading input and
 * signals between tries, and HTTP calls are bounded by request_timeout_ms
 * and end early on SIGTERM (wire_stop_flag).
 *
 * Trades are dropped, each with its reason on the tap, only for answers:
 * no US listing, a refused job, no listing on the target venue, a ticker
 * too long to be one.
 *
 * Scale-out: several mappers, each binding its own input, may share one
 * state_dir: an answer one of them cached saves the others the request (a
 * queued job is looked up again just before it is sent).
 *
 * Memory: at most max_pending trades are held (a later copy of a pending
 * trade, same key, replaces the held one); past that the loop stops reading
 * and ZeroMQ's high-water mark pushes back on the scraper.  On SIGTERM held
 * trades are let go (the scraper's next cycle sends them again: DESIGN.md
 * "Delivery"); at the end of stdin every held trade is resolved first.
 */
#include "mapper.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "figi_cache.h"
#include "http.h"
#include "log.h"
#include "marketcap.h"
#include "openfigi.h"
#include "strmap.h"
#include "timeutil.h"

#ifndef COATTAIL_VERSION
#define COATTAIL_VERSION "0.0.0"
#endif

#define MAPPING_PATH       "/v3/mapping"
#define KEY_HEADER         "X-OPENFIGI-APIKEY: "
#define MAX_KEY_LEN        512
#define MAX_TICKER_LEN     32
#define SENDS_PER_TURN     4   /* requests per loop turn, so input and signals get a look */
#define SEC_BUDGET_MS      250 /* SEC lookups per loop turn, in time */
#define OPENFIGI_MAX_BYTES ((size_t)16 * 1024 * 1024)
#define US_COMPOSITE       "US"

enum step { STEP_US = 0, STEP_VENUE, STEP_SEC };

struct mjob;

/* A trade held while it is resolved. */
struct pend {
	record_t rec;        /* the trade (owned) */
	enum step step;      /* what it waits for */
	struct figi_row row; /* the answer so far: US composite, then the venue listing */
	struct mjob *job;    /* the job it waits on, or NULL */
	struct pend *next;   /* in its job's waiters, or in the SEC queue */
	bool held;           /* in m->pending (parked at least once) */
};

/* One distinct OpenFIGI job, queued or in flight. */
struct mjob {
	char key[OPENFIGI_KEY_LEN]; /* openfigi_job_key */
	const char *id_type;        /* static string */
	char *id_value;
	char *exch_code, *mic_code;
	int64_t queued_ms;    /* monotonic time it was first queued */
	struct pend *waiters; /* trades waiting on it */
	struct mjob *next;    /* in the send queue */
};

struct mapper {
	wire_t *w;
	figi_cache_t *cache;
	marketcap_t *mc; /* NULL: no market-cap estimate */
	http_client_t *http;
	char *url;        /* <openfigi_url>/v3/mapping */
	char *key_header; /* "X-OPENFIGI-APIKEY: ..." or NULL; never logged */
	size_t key_header_len;

	/* settings */
	size_t jobs_cap;  /* jobs per request (lowered after a 413) */
	size_t probe_cap; /* after a 400: smaller batches to find the bad job; 0 = off */
	int64_t batch_ms;
	int64_t found_ttl_s, not_found_ttl_s, refused_ttl_s;
	size_t max_pending;
	char venue_exch[8], venue_mic[8]; /* target venue, one of them or neither */

	/* state */
	struct tbucket bucket;
	struct backoff backoff;
	strmap_t *pending; /* trade key -> struct pend */
	strmap_t *jobs;    /* job key -> struct mjob */
	struct mjob *q_head, *q_tail;
	size_t n_queued;
	struct pend *sec_head, *sec_tail;
	bool flushing;      /* end of input: send batches without waiting */
	struct pend *fresh; /* the trade on_record is moving, decoded from the current message */
	char *out_buf;      /* s_send's spliced trades, reused from one to the next */
	size_t out_cap;

	/* counters and logging */
	unsigned long requests, failures_in_row;
	int64_t outage_since_ms;
	struct log_limit fail_limit;
};

/* ---- pending trades ------------------------------------------------------ */

static void s_pend_free(struct mapper *m, struct pend *p)
{
	if (p->held && p->rec.type == REC_TRADE && p->rec.u.trade.key != NULL &&
	    strmap_get(m->pending, p->rec.u.trade.key) == p)
		strmap_remove(m->pending, p->rec.u.trade.key);
	record_free(&p->rec);
	figi_row_free(&p->row);
	free(p);
}

static void s_drop(struct mapper *m, struct pend *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_drop(struct mapper *m, struct pend *p, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	wire_drop(m->w, p->rec.u.trade.key, "%s", reason);
	s_pend_free(m, p);
}

static char *s_strdup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/*
 * Send p's trade with ins as its instrument.  A trade resolved while its
 * own message is being delivered (the common case: the caches answer at
 * once) is not encoded again when that message is in the canonical form
 * record_to_msgpack writes: the instrument's encoding is spliced into the
 * received bytes, which gives the same bytes (record.h).  Otherwise, or
 * when the splice refuses, the whole trade is encoded as before, which
 * also logs any problem as before.
 */
static void s_send(struct mapper *m, struct pend *p, instrument_t *ins)
{
	const struct record_mp_info *info;
	const void *in;
	char err[256];
	size_t inlen, outlen;

	p->rec.u.trade.instrument = ins;
	if (p == m->fresh && wire_input_msgpack(m->w, &in, &inlen, &info) && info->canonical &&
	    record_trade_msgpack_with_instrument(in, inlen, info, ins, &m->out_buf, &m->out_cap,
	                                         &outlen, err, sizeof(err)) == 0) {
		wire_emit_encoded(m->w, &p->rec, m->out_buf, outlen);
	} else {
		wire_emit(m->w, &p->rec);
	}
	p->rec.u.trade.instrument = NULL;
}

/*
 * Attach the instrument and send the trade on.  The instrument borrows the
 * strings of p->row and lives on the stack: s_send encodes the record
 * before it returns and keeps no pointer into it, and the instrument is
 * detached again before p is freed, so nothing is copied or freed twice.
 */
static void s_emit(struct mapper *m, struct pend *p, double shares)
{
	trade_t *t = &p->rec.u.trade;
	const struct figi_row *r = &p->row;
	instrument_t ins;

	instrument_init(&ins);
	ins.figi = r->figi;
	ins.composite_figi = r->composite_figi;
	ins.share_class_figi = r->share_class_figi;
	ins.ticker = r->ticker;
	ins.exch_code = r->exch_code;
	ins.name = r->name;
	ins.security_type = r->security_type != NULL ? r->security_type : r->security_type2;
	ins.market_sector = r->market_sector;
	ins.isin = NULL; /* OpenFIGI never gives ISINs */
	if (!rec_num_is_null(shares)) {
		ins.shares_outstanding = shares;
		if (!rec_num_is_null(t->price) && t->price > 0)
			ins.market_cap = shares * t->price;
	}
	record_clear_instrument(&p->rec); /* one the trade came with */
	s_send(m, p, &ins);
	s_pend_free(m, p);
}

/* ---- the job queue -------------------------------------------------------- */

static void s_job_free(struct mjob *j)
{
	free(j->id_value);
	free(j->exch_code);
	free(j->mic_code);
	free(j);
}

static void s_queue_push(struct mapper *m, struct mjob *j)
{
	j->next = NULL;
	if (m->q_tail != NULL)
		m->q_tail->next = j;
	else
		m->q_head = j;
	m->q_tail = j;
	m->n_queued++;
}

static struct mjob *s_queue_pop(struct mapper *m)
{
	struct mjob *j = m->q_head;

	if (j == NULL)
		return NULL;
	m->q_head = j->next;
	if (m->q_head == NULL)
		m->q_tail = NULL;
	j->next = NULL;
	m->n_queued--;
	return j;
}

/* Put jobs [0, n) back at the head of the queue, in their order. */
static void s_queue_unshift(struct mapper *m, struct mjob **jobs, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		jobs[i]->next = m->q_head;
		m->q_head = jobs[i];
		if (m->q_tail == NULL)
			m->q_tail = jobs[i];
		m->n_queued++;
	}
}

/* Park p on the job (queued once per key). 0, or -1 when out of memory. */
static int s_wait_on(struct mapper *m, struct pend *p, const struct figi_job *job, const char *key)
{
	struct mjob *j = strmap_get(m->jobs, key);

	if (j == NULL) {
		j = calloc(1, sizeof(*j));
		if (j == NULL)
			return -1;
		snprintf(j->key, sizeof(j->key), "%s", key);
		j->id_type = job->id_type;
		j->id_value = strdup(job->id_value);
		j->exch_code = s_strdup_or_null(job->exch_code);
		j->mic_code = s_strdup_or_null(job->mic_code);
		j->queued_ms = time_mono_ms();
		if (j->id_value == NULL || (job->exch_code != NULL && j->exch_code == NULL) ||
		    (job->mic_code != NULL && j->mic_code == NULL) ||
		    strmap_put(m->jobs, key, j) != 0) {
			s_job_free(j);
			return -1;
		}
		s_queue_push(m, j);
	}
	p->job = j;
	p->next = j->waiters;
	j->waiters = p;
	return 0;
}

/* ---- moving a trade along ------------------------------------------------- */

/*
 * The ticker as OpenFIGI writes it: class shares "BRK.B" / "BRK-B" become
 * "BRK/B".  0, or -1 when it is too long to ask for.
 */
static int s_figi_ticker(const char *t, char *out, size_t len)
{
	size_t n = strlen(t);

	if (n == 0 || n > MAX_TICKER_LEN || n >= len)
		return -1;
	memcpy(out, t, n + 1);
	if (n >= 3 && (out[n - 2] == '.' || out[n - 2] == '-') &&
	    isupper((unsigned char)out[n - 1])) {
		bool letters = true;

		for (size_t i = 0; i < n - 2; i++)
			letters &= isupper((unsigned char)out[i]) != 0;
		if (letters)
			out[n - 2] = '/';
	}
	return 0;
}

static const char *s_venue(const struct mapper *m)
{
	return m->venue_exch[0] != '\0' ? m->venue_exch : m->venue_mic;
}

/* Build the job of p's current step. 0, or -1 with why. */
static int s_job_of(struct mapper *m, struct pend *p, struct figi_job *job, char *tick,
                    size_t ticklen, char *why, size_t whylen)
{
	memset(job, 0, sizeof(*job));
	if (p->step == STEP_US) {
		if (s_figi_ticker(p->rec.u.trade.ticker, tick, ticklen) != 0) {
			snprintf(why, whylen, "ticker longer than %d characters", MAX_TICKER_LEN);
			return -1;
		}
		job->id_type = "TICKER";
		job->id_value = tick;
		job->exch_code = US_COMPOSITE;
		return 0;
	}
	if (p->row.share_class_figi == NULL) {
		snprintf(why, whylen,
		         "%s (%s) has no share class FIGI, so no listing on %s can be found",
		         p->rec.u.trade.ticker, p->row.figi, s_venue(m));
		return -1;
	}
	job->id_type = "ID_BB_GLOBAL_SHARE_CLASS_LEVEL";
	job->id_value = p->row.share_class_figi;
	if (m->venue_exch[0] != '\0')
		job->exch_code = m->venue_exch;
	else
		job->mic_code = m->venue_mic;
	return 0;
}

static void s_drop_answer(struct mapper *m, struct pend *p, enum figi_answer kind, const char *msg)
{
	const char *ticker = p->rec.u.trade.ticker;

	if (msg == NULL || msg[0] == '\0')
		msg = kind == FIGI_NOT_FOUND ? "No identifier found." : "no reason given";
	if (p->step == STEP_US && kind == FIGI_NOT_FOUND)
		s_drop(m, p, "OpenFIGI has no US listing for ticker %s: %s", ticker, msg);
	else if (p->step == STEP_US && kind == FIGI_ERROR)
		s_drop(m, p, "OpenFIGI refused ticker %s: %s", ticker, msg);
	else if (p->step == STEP_US)
		s_drop(m, p, "OpenFIGI's answer for ticker %s is unusable: %s", ticker, msg);
	else if (kind == FIGI_NOT_FOUND)
		s_drop(m, p, "%s (share class %s) has no listing on %s: %s", ticker,
		       p->row.share_class_figi, s_venue(m), msg);
	else if (kind == FIGI_ERROR)
		s_drop(m, p, "OpenFIGI refused the %s listing of %s: %s", s_venue(m), ticker, msg);
	else
		s_drop(m, p, "OpenFIGI's answer for the %s listing of %s is unusable: %s",
		       s_venue(m), ticker, msg);
}

static void s_sec_push(struct mapper *m, struct pend *p)
{
	p->next = NULL;
	if (m->sec_tail != NULL)
		m->sec_tail->next = p;
	else
		m->sec_head = p;
	m->sec_tail = p;
}

/*
 * Enter p in the pending map (by trade key) before it is parked, so that a
 * copy arriving meanwhile is recognised and max_pending counts it.  A trade
 * the caches resolve at once never enters it: it is gone before the next
 * record is read.  0, or -1 when out of memory.
 */
static int s_hold(struct mapper *m, struct pend *p)
{
	if (p->held)
		return 0;
	if (strmap_put(m->pending, p->rec.u.trade.key, p) != 0)
		return -1;
	p->held = true;
	return 0;
}

/*
 * Take p as far as the caches allow: it is emitted, dropped, or parked on a
 * job or in the SEC queue.  p may be freed on return.
 */
static void s_advance(struct mapper *m, struct pend *p)
{
	for (;;) {
		struct figi_job job;
		struct figi_row row;
		char tick[MAX_TICKER_LEN + 1], key[OPENFIGI_KEY_LEN], why[256], msg[600];
		int st;

		if (p->step == STEP_VENUE && s_venue(m)[0] == '\0')
			p->step = STEP_SEC;
		if (p->step == STEP_SEC) {
			double shares = REC_NULL_NUM;

			if (m->mc != NULL &&
			    marketcap_shares(m->mc, p->rec.u.trade.ticker,
			                     p->rec.u.trade.issuer_cik, false, time_now(),
			                     time_mono_ms(), &shares) == 0) {
				if (s_hold(m, p) != 0) {
					s_drop(m, p, "out of memory");
					return;
				}
				s_sec_push(m, p);
				return;
			}
			s_emit(m, p, shares);
			return;
		}
		if (s_job_of(m, p, &job, tick, sizeof(tick), why, sizeof(why)) != 0 ||
		    openfigi_job_key(&job, key, sizeof(key)) != 0) {
			s_drop(m, p, "%s", why);
			return;
		}
		st = figi_cache_get(m->cache, key, time_now(), &row, msg, sizeof(msg));
		if (st == FIGI_FOUND) {
			figi_row_free(&p->row);
			p->row = row;
			p->step++;
			continue;
		}
		if (st == FIGI_NOT_FOUND || st == FIGI_ERROR || st == FIGI_BAD) {
			s_drop_answer(m, p, (enum figi_answer)st, msg);
			return;
		}
		if (s_hold(m, p) != 0 || s_wait_on(m, p, &job, key) != 0)
			s_drop(m, p, "out of memory");
		return;
	}
}

/* A job is answered: every trade waiting on it moves on.  Frees j. */
static void s_job_answered(struct mapper *m, struct mjob *j, enum figi_answer kind,
                           const struct figi_row *row, const char *msg)
{
	struct pend *p = j->waiters;

	strmap_remove(m->jobs, j->key);
	j->waiters = NULL;
	while (p != NULL) {
		struct pend *next = p->next;

		p->job = NULL;
		p->next = NULL;
		if (kind == FIGI_FOUND) {
			figi_row_free(&p->row);
			if (figi_row_copy(&p->row, row) != 0) {
				s_drop(m, p, "out of memory");
			} else {
				p->step++;
				s_advance(m, p);
			}
		} else {
			s_drop_answer(m, p, kind, msg);
		}
		p = next;
	}
	s_job_free(j);
}

/* ---- talking to OpenFIGI -------------------------------------------------- */

static size_t s_cap(const struct mapper *m)
{
	if (m->probe_cap > 0 && m->probe_cap < m->jobs_cap)
		return m->probe_cap;
	return m->jobs_cap;
}

/* After a failed request: keep the jobs, wait, say so. */
static void s_failed(struct mapper *m, struct mjob **batch, size_t n, int64_t at_least_ms,
                     const char *what)
{
	int64_t now = time_mono_ms(), wait;

	s_queue_unshift(m, batch, n);
	if (wire_stopping(m->w))
		return; /* cut short by SIGTERM: not OpenFIGI's failure */
	wait = backoff_fail(&m->backoff, now, at_least_ms);
	wire_count_error(m->w);
	if (m->failures_in_row++ == 0) {
		m->outage_since_ms = now;
		log_warnx("OpenFIGI: %s; %zu trades kept, retrying in %.1f s", what,
		          strmap_count(m->pending), (double)wait / 1000.0);
	} else {
		log_warnx_limited(&m->fail_limit,
		                  "OpenFIGI: %s (%lu failures in a row); %zu trades kept, "
		                  "retrying in %.1f s",
		                  what, m->failures_in_row, strmap_count(m->pending),
		                  (double)wait / 1000.0);
	}
}

/* The limit a 413 names ("Request may only contain 10 mapping jobs."), or 0. */
static size_t s_limit_from_413(const char *body)
{
	const char *p = body != NULL ? strstr(body, "contain ") : NULL;
	long v;

	if (p == NULL)
		return 0;
	p += 8;
	if (!isdigit((unsigned char)*p))
		return 0;
	v = strtol(p, NULL, 10);
	return (v >= 1 && v <= 100000) ? (size_t)v : 0;
}

/* A short, printable quote of an error body for a log line. */
static void s_quote(const char *body, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < outlen && o < 120; i++) {
		unsigned char c = (unsigned char)body[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[o] = '\0';
	while (o > 0 && out[o - 1] == ' ')
		out[--o] = '\0';
}

/*
 * The batch could not be read as a whole (400, or an unaligned 200): split
 * it until the job at fault is alone, then drop that job's trades.  A job
 * OpenFIGI refused alone (by_server) is OpenFIGI's answer for it: cached
 * with the reason for refused_ttl_s (0: not kept), so that its repeats are
 * dropped with the same reason without a request.  A request we could not
 * even build is not OpenFIGI's answer: not cached.
 */
static void s_refused(struct mapper *m, struct mjob **batch, size_t n, const char *what,
                      bool by_server)
{
	if (n > 1) {
		m->probe_cap = n / 2;
		s_queue_unshift(m, batch, n);
		log_warnx_limited(&m->fail_limit,
		                  "OpenFIGI: %s; trying the %zu jobs in smaller requests", what, n);
		return;
	}
	wire_count_error(m->w);
	if (by_server && m->refused_ttl_s > 0) {
		figi_cache_put(m->cache, batch[0]->key, FIGI_BAD, NULL, what, time_now(),
		               m->refused_ttl_s);
		/* Once per job and TTL: not rate-limited with the splits. */
		log_warnx("OpenFIGI: job %s refused alone: %s; its trades are dropped, and so "
		          "are its repeats for %lld s without asking again",
		          batch[0]->key, what, (long long)m->refused_ttl_s);
	} else {
		log_warnx_limited(&m->fail_limit, "OpenFIGI: job %s refused alone: %s",
		                  batch[0]->key, what);
	}
	s_job_answered(m, batch[0], FIGI_BAD, NULL, what);
}

static void s_answered(struct mapper *m, struct mjob **batch, size_t n, struct figi_result *res)
{
	int64_t now = time_now();

	/* Cache everything first, so trades moving on find the answers of
	 * the other jobs of this batch. */
	figi_cache_begin(m->cache);
	for (size_t i = 0; i < n; i++) {
		struct figi_job job = { batch[i]->id_type, batch[i]->id_value, batch[i]->exch_code,
			                batch[i]->mic_code };

		if (res[i].kind == FIGI_FOUND) {
			long k = openfigi_choose(res[i].rows, res[i].n_rows, &job);

			figi_cache_put(m->cache, batch[i]->key, FIGI_FOUND, &res[i].rows[k], NULL,
			               now, m->found_ttl_s);
		} else if (res[i].kind == FIGI_NOT_FOUND || res[i].kind == FIGI_ERROR) {
			figi_cache_put(m->cache, batch[i]->key, res[i].kind, NULL, res[i].message,
			               now, m->not_found_ttl_s);
		}
	}
	figi_cache_commit(m->cache);
	for (size_t i = 0; i < n; i++) {
		struct figi_job job = { batch[i]->id_type, batch[i]->id_value, batch[i]->exch_code,
			                batch[i]->mic_code };
		const struct figi_row *row = NULL;

		if (res[i].kind == FIGI_FOUND)
			row = &res[i].rows[openfigi_choose(res[i].rows, res[i].n_rows, &job)];
		s_job_answered(m, batch[i], res[i].kind, row, res[i].message);
	}
}

/*
 * Take up to cap jobs off the queue; jobs another mapper answered meanwhile
 * (a shared cache) are settled here instead of being asked for again.
 */
static size_t s_take_batch(struct mapper *m, struct mjob **batch, size_t cap)
{
	size_t n = 0;

	while (n < cap && m->q_head != NULL) {
		struct mjob *j = s_queue_pop(m);
		struct figi_row row;
		char msg[600];
		int st = figi_cache_get(m->cache, j->key, time_now(), &row, msg, sizeof(msg));

		if (st > 0) {
			s_job_answered(m, j, (enum figi_answer)st, st == FIGI_FOUND ? &row : NULL,
			               msg);
			figi_row_free(&row);
			continue;
		}
		batch[n++] = j;
	}
	return n;
}

/* Send one request of up to s_cap() jobs and settle what it answers. */
static void s_send_batch(struct mapper *m)
{
	struct mjob *batch[OPENFIGI_MAX_JOBS * 10];
	struct figi_job jobs[OPENFIGI_MAX_JOBS * 10];
	struct figi_result *res = NULL;
	struct http_response resp;
	const char *headers[3];
	char err[256], what[512], quote[160];
	char *body = NULL;
	size_t n, len, cap = s_cap(m);
	int rc;

	if (cap > sizeof(batch) / sizeof(batch[0]))
		cap = sizeof(batch) / sizeof(batch[0]);
	n = s_take_batch(m, batch, cap);
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		jobs[i] = (struct figi_job){ batch[i]->id_type, batch[i]->id_value,
			                     batch[i]->exch_code, batch[i]->mic_code };
	if (openfigi_request_body(jobs, n, &body, &len, err, sizeof(err)) != 0) {
		s_refused(m, batch, n, err, false);
		return;
	}
	headers[0] = "Content-Type: application/json";
	headers[1] = m->key_header; /* NULL ends the list when there is no key */
	headers[2] = NULL;
	{
		struct http_request req = {
			.method = "POST",
			.url = m->url,
			.headers = headers,
			.body = body,
			.body_len = len,
			.max_retries = 0,
		};

		m->requests++;
		log_debug("OpenFIGI: request %lu, %zu jobs", m->requests, n);
		rc = http_do(m->http, &req, &resp);
	}
	free(body);
	if (rc != 0) {
		s_failed(m, batch, n, 0, resp.error);
		goto out;
	}
	if (resp.status != 200)
		s_quote(resp.body, resp.len, quote, sizeof(quote));
	switch (resp.status) {
	case 200:
		res = calloc(n, sizeof(*res));
		if (res == NULL) {
			s_failed(m, batch, n, 0, "out of memory");
			break;
		}
		rc = openfigi_parse(resp.body, resp.len, n, res, err, sizeof(err));
		if (rc == -2) { /* out of memory: ours, not the answer's; the jobs stay */
			s_failed(m, batch, n, 0, err);
			break;
		}
		if (rc != 0) {
			snprintf(what, sizeof(what), "unusable answer to %zu jobs: %s", n, err);
			s_refused(m, batch, n, what, true);
			break;
		}
		if (m->failures_in_row > 0)
			log_info("OpenFIGI: answering again after %lu failed requests over %.0f s",
			         m->failures_in_row,
			         (double)(time_mono_ms() - m->outage_since_ms) / 1000.0);
		m->failures_in_row = 0;
		m->probe_cap = 0;
		backoff_reset(&m->backoff);
		s_answered(m, batch, n, res);
		openfigi_results_free(res, n);
		break;
	case 413: {
		size_t named = s_limit_from_413(resp.body);
		size_t lower = (named > 0 && named < n) ? named : (n > 1 ? n / 2 : 1);

		if (n == 1) {
			s_failed(m, batch, n, 0, "HTTP 413 for a single job");
			break;
		}
		log_warnx("OpenFIGI: HTTP 413 (\"%s\") for %zu jobs; sending at most %zu per "
		          "request from now on",
		          quote, n, lower);
		m->jobs_cap = lower;
		s_queue_unshift(m, batch, n);
		break;
	}
	case 429:
		tbucket_drain(&m->bucket, time_mono_ms());
		snprintf(what, sizeof(what), "HTTP 429 (rate limit; ratelimit-reset %s)",
		         http_header(&resp, "ratelimit-reset")
		             ? http_header(&resp, "ratelimit-reset")
		             : "not given");
		s_failed(m, batch, n,
		         batch_retry_hint_ms(http_header(&resp, "ratelimit-reset"),
		                             http_header(&resp, "Retry-After")),
		         what);
		break;
	case 401:
	case 403:
		snprintf(what, sizeof(what),
		         "HTTP %ld: the API key was refused (%s); check mapper.openfigi_key "
		         "(file, COATTAIL_OPENFIGI_KEY or credential)",
		         resp.status, m->key_header != NULL ? "a key is set" : "no key is set");
		s_failed(m, batch, n, 0, what);
		break;
	case 400:
		snprintf(what, sizeof(what), "HTTP 400 (\"%s\")", quote);
		s_refused(m, batch, n, what, true);
		break;
	default:
		snprintf(what, sizeof(what), "HTTP %ld (\"%s\")", resp.status, quote);
		s_failed(m, batch, n, 0, what);
		break;
	}
out:
	free(res);
	http_response_free(&resp);
}

/* ---- the loop's callbacks ------------------------------------------------- */

/* Resolve what waits for SEC data, for up to SEC_BUDGET_MS. */
static void s_sec_work(struct mapper *m)
{
	int64_t start = time_mono_ms();

	while (m->sec_head != NULL && !wire_stopping(m->w)) {
		struct pend *p = m->sec_head;
		double shares = REC_NULL_NUM;

		m->sec_head = p->next;
		if (m->sec_head == NULL)
			m->sec_tail = NULL;
		p->next = NULL;
		marketcap_shares(m->mc, p->rec.u.trade.ticker, p->rec.u.trade.issuer_cik, true,
		                 time_now(), time_mono_ms(), &shares);
		s_emit(m, p, shares);
		if (time_mono_ms() - start >= SEC_BUDGET_MS)
			break;
	}
}

/*
 * Send the requests that are due and allowed, do SEC lookups; returns the
 * milliseconds until there is more to do, or -1 when nothing waits.
 */
static int64_t s_work(struct mapper *m)
{
	int64_t now, due, wait = -1;
	int sent = 0;
	/* No more input comes while the stage is full: waiting for more jobs
	 * to fill a request would only stall. */
	bool flush = m->flushing || strmap_count(m->pending) >= m->max_pending;

	while (!wire_stopping(m->w) && m->n_queued > 0 && sent < SENDS_PER_TURN) {
		now = time_mono_ms();
		due = batch_due_ms(m->n_queued, m->q_head->queued_ms, s_cap(m), m->batch_ms, flush);
		if (due > now || now < m->backoff.until_ms || !tbucket_take(&m->bucket, now))
			break;
		s_send_batch(m);
		sent++;
	}
	if (m->sec_head != NULL)
		s_sec_work(m);
	if (wire_stopping(m->w))
		return -1;
	now = time_mono_ms();
	/* The loop asked input_ready() before this tick: when this turn made
	 * room, come back at once so that it reads again. */
	if (m->sec_head != NULL || sent == SENDS_PER_TURN ||
	    (flush && !m->flushing && strmap_count(m->pending) < m->max_pending))
		return 0;
	if (m->n_queued > 0) {
		flush = m->flushing || strmap_count(m->pending) >= m->max_pending;
		due = batch_due_ms(m->n_queued, m->q_head->queued_ms, s_cap(m), m->batch_ms, flush);
		if (due < m->backoff.until_ms)
			due = m->backoff.until_ms;
		if (due < now + tbucket_wait_ms(&m->bucket, now))
			due = now + tbucket_wait_ms(&m->bucket, now);
		wait = due > now ? due - now : 0;
	}
	return wait;
}

static int s_on_record(void *ctx, record_t *r)
{
	struct mapper *m = ctx;
	struct pend *p;

	if (r->type != REC_TRADE) {
		wire_drop(m->w, record_key(r), "the mapper takes trade records, not %s",
		          record_type_name(r->type));
		return 0;
	}
	p = strmap_get(m->pending, r->u.trade.key);
	if (p != NULL) {
		/* The scraper sent this trade again while it is held (an outage
		 * outlasting a scrape cycle): keep one, the newest copy. */
		if (strcmp(p->rec.u.trade.ticker, r->u.trade.ticker) == 0) {
			record_free(&p->rec);
			p->rec = *r;
			memset(r, 0, sizeof(*r));
		}
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		wire_drop(m->w, r->u.trade.key, "out of memory");
		return -1;
	}
	p->rec = *r;
	memset(r, 0, sizeof(*r));
	p->step = STEP_US;
	m->fresh = p;
	s_advance(m, p);
	m->fresh = NULL;
	return 0;
}

static int64_t s_on_tick(void *ctx)
{
	return s_work(ctx);
}

static bool s_input_ready(void *ctx)
{
	struct mapper *m = ctx;

	return strmap_count(m->pending) < m->max_pending;
}

/* Sleep up to ms, in slices, ending early on SIGTERM. */
static void s_nap(struct mapper *m, int64_t ms)
{
	while (ms > 0 && !wire_stopping(m->w)) {
		int64_t slice = ms < 50 ? ms : 50;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)slice * 1000000L };

		nanosleep(&ts, NULL);
		ms -= slice;
	}
}

/* End of input: resolve every held trade before the stage exits. */
static void s_on_eof(void *ctx)
{
	struct mapper *m = ctx;

	m->flushing = true;
	while (strmap_count(m->pending) > 0 && !wire_stopping(m->w)) {
		int64_t wait = s_work(m);

		if (strmap_count(m->pending) == 0)
			break;
		if (wait < 0 && m->n_queued == 0 && m->sec_head == NULL) {
			/* Nothing can move them: a bug, not an outage. */
			log_warnx("%zu trades held with nothing to wait for",
			          strmap_count(m->pending));
			break;
		}
		s_nap(m, wait < 0 ? 50 : (wait > 200 ? 200 : wait));
	}
}

/* ---- setup ---------------------------------------------------------------- */

static int s_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > MAX_KEY_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (k[i] <= 0x20 || k[i] >= 0x7f)
			return 0;
	return 1;
}

/* Read the key and build its header; 0, or -1 (logged, without the key). */
static int s_load_key(struct mapper *m, const conf_t *c)
{
	char key[MAX_KEY_LEN + 2], err[256];
	int rc = conf_secret(c, "mapper.openfigi_key", key, sizeof(key), err, sizeof(err));

	if (rc < 0) {
		log_warnx("mapper.openfigi_key: %s", err);
		return -1;
	}
	if (rc == 0)
		return 0;
	if (!s_key_ok(key)) {
		explicit_bzero(key, sizeof(key));
		log_warnx("mapper.openfigi_key: not a plausible key (printable ASCII without "
		          "blanks, at most %d characters)",
		          MAX_KEY_LEN);
		return -1;
	}
	m->key_header_len = strlen(KEY_HEADER) + strlen(key) + 1;
	m->key_header = malloc(m->key_header_len);
	if (m->key_header == NULL) {
		explicit_bzero(key, sizeof(key));
		return -1;
	}
	snprintf(m->key_header, m->key_header_len, "%s%s", KEY_HEADER, key);
	explicit_bzero(key, sizeof(key));
	return 0;
}

/* mapper.target_venue -> venue_exch or venue_mic.  0, or -1 (logged). */
static int s_load_venue(struct mapper *m, const conf_t *c)
{
	const char *v = conf_str(c, "mapper.target_venue");
	size_t n;

	if (v == NULL || v[0] == '\0')
		return 0;
	n = strlen(v);
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char)v[i]) && !isdigit((unsigned char)v[i]))
			n = 0;
	if (n == 2) {
		if (strcmp(v, US_COMPOSITE) != 0)
			snprintf(m->venue_exch, sizeof(m->venue_exch), "%s", v);
		return 0;
	}
	if (n == 4) {
		snprintf(m->venue_mic, sizeof(m->venue_mic), "%s", v);
		return 0;
	}
	log_warnx("mapper.target_venue \"%s\": want a 2-letter OpenFIGI exchCode (\"GY\") or "
	          "a 4-letter MIC (\"XETR\"), upper case",
	          v);
	return -1;
}

static void s_teardown(struct mapper *m)
{
	size_t held = m->pending != NULL ? strmap_count(m->pending) : 0;

	if (held > 0)
		log_info("%zu trades not resolved at exit; the scraper's next cycle sends them "
		         "again",
		         held);
	/* Free the held trades through their jobs and the SEC queue. */
	while (m->q_head != NULL) {
		struct mjob *j = s_queue_pop(m);

		while (j->waiters != NULL) {
			struct pend *p = j->waiters;

			j->waiters = p->next;
			s_pend_free(m, p);
		}
		s_job_free(j);
	}
	while (m->sec_head != NULL) {
		struct pend *p = m->sec_head;

		m->sec_head = p->next;
		s_pend_free(m, p);
	}
	free(m->out_buf);
	strmap_free(&m->pending);
	strmap_free(&m->jobs);
	marketcap_free(&m->mc);
	figi_cache_close(&m->cache);
	http_free(&m->http);
	free(m->url);
	if (m->key_header != NULL) {
		explicit_bzero(m->key_header, m->key_header_len);
		free(m->key_header);
	}
}

int mapper_run(conf_t *c, const struct stage_args *a, wire_t *w)
{
	struct mapper m;
	const struct stage_ops ops = {
		.on_record = s_on_record,
		.on_tick = s_on_tick,
		.on_eof = s_on_eof,
		.input_ready = s_input_ready,
	};
	struct http_opts ho = { 0 };
	char err[1024], ua[128];
	const char *base = conf_str(c, "mapper.openfigi_url");
	const char *sec_ua = conf_str(c, "mapper.sec_user_agent");
	long timeout = (long)conf_int(c, "mapper.request_timeout_ms");
	int64_t window;
	size_t blen;
	int rc;

	(void)a;
	memset(&m, 0, sizeof(m));
	m.w = w;
	m.fail_limit = (struct log_limit)LOG_LIMIT_INIT(60, 5);
	if (s_load_key(&m, c) != 0 || s_load_venue(&m, c) != 0) {
		s_teardown(&m);
		return 2;
	}
	m.batch_ms = conf_int(c, "mapper.batch_ms");
	m.found_ttl_s = conf_int(c, "mapper.cache_found_ttl_s");
	m.not_found_ttl_s = conf_int(c, "mapper.cache_not_found_ttl_s");
	m.refused_ttl_s = conf_int(c, "mapper.cache_refused_ttl_s");
	m.max_pending = (size_t)conf_int(c, "mapper.max_pending");
	m.jobs_cap = (size_t)conf_int(c, "mapper.jobs_per_request");
	if (m.jobs_cap == 0)
		m.jobs_cap = m.key_header != NULL ? 100 : 10;
	window = conf_int(c, m.key_header != NULL ? "mapper.rate_window_key_ms"
	                                          : "mapper.rate_window_ms");
	tbucket_init(&m.bucket, (int)conf_int(c, "mapper.rate_requests"), window,
	             (int)conf_int(c, "mapper.rate_burst"), time_mono_ms());
	backoff_init(&m.backoff, conf_int(c, "mapper.retry_min_ms"),
	             conf_int(c, "mapper.retry_max_ms"),
	             ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid());

	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	m.url = malloc(blen + sizeof(MAPPING_PATH));
	m.pending = strmap_new();
	m.jobs = strmap_new();
	if (m.url == NULL || m.pending == NULL || m.jobs == NULL) {
		log_warnx("out of memory");
		s_teardown(&m);
		return 1;
	}
	memcpy(m.url, base, blen);
	memcpy(m.url + blen, MAPPING_PATH, sizeof(MAPPING_PATH));

	m.cache = figi_cache_open(conf_str(c, "state_dir"), time_now(), err, sizeof(err));
	if (m.cache == NULL) {
		log_warnx("FIGI cache: %s", err);
		s_teardown(&m);
		return 1;
	}
	if (figi_cache_set_memo(m.cache, (size_t)conf_int(c, "mapper.cache_memo_entries")) != 0) {
		log_warnx("FIGI cache: out of memory for the memo");
		s_teardown(&m);
		return 1;
	}
	snprintf(ua, sizeof(ua), "coattail-mapper/%s", COATTAIL_VERSION);
	ho.user_agent = ua;
	ho.timeout_ms = timeout;
	ho.connect_timeout_ms = timeout < 5000 ? timeout : 5000;
	ho.max_bytes = OPENFIGI_MAX_BYTES;
	ho.max_retries = -1; /* none: this stage schedules its own retries */
	ho.stop = wire_stop_flag(w);
	/* While the caches answer, no request is made: libcurl and its TLS
	 * stack (~7 MB resident) are loaded by the first one. */
	ho.load_on_first_request = true;
	m.http = http_new(&ho);
	if (m.http == NULL) {
		log_warnx("cannot create the HTTP client");
		s_teardown(&m);
		return 1;
	}
	if (sec_ua != NULL && sec_ua[0] != '\0') {
		struct marketcap_opts mo = {
			.www_url = conf_str(c, "mapper.sec_www_url"),
			.data_url = conf_str(c, "mapper.sec_data_url"),
			.user_agent = sec_ua,
			.timeout_ms = timeout,
			.rate_per_s = conf_double(c, "mapper.sec_requests_per_s"),
			.shares_ttl_s = conf_int(c, "mapper.shares_ttl_s"),
			.none_ttl_s = m.not_found_ttl_s,
			.tickers_ttl_s = conf_int(c, "mapper.shares_ttl_s") < 86400
			                     ? conf_int(c, "mapper.shares_ttl_s")
			                     : 86400,
			.retry_ms = conf_int(c, "mapper.retry_max_ms") < 60000
			                ? conf_int(c, "mapper.retry_max_ms")
			                : 60000,
			.stop = wire_stop_flag(w),
		};

		m.mc = marketcap_new(&mo, m.cache);
		if (m.mc == NULL) {
			log_warnx("cannot set up SEC data");
			s_teardown(&m);
			return 1;
		}
	} else {
		log_info("market cap: mapper.sec_user_agent is not set (SEC wants a contact), "
		         "so shares_outstanding and market_cap stay null");
	}
	log_info("OpenFIGI %s, %s: %zu jobs per request, %lld requests per %.1f s (burst "
	         "%lld), batch window %lld ms; target venue %s; cache %ld answers",
	         base, m.key_header != NULL ? "with an API key" : "without an API key", m.jobs_cap,
	         (long long)conf_int(c, "mapper.rate_requests"), (double)window / 1000.0,
	         (long long)conf_int(c, "mapper.rate_burst"), (long long)m.batch_ms,
	         s_venue(&m)[0] != '\0' ? s_venue(&m) : "US composite", figi_cache_count(m.cache));

	rc = wire_run(w, &ops, &m);
	log_info("OpenFIGI: %lu requests sent", m.requests);
	s_teardown(&m);
	return rc;
}
