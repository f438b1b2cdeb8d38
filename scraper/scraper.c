/*
 * scraper.c - the scraper stage: sources fetched on their schedules, their
 * trades emitted, and the lookback window emitted again every cycle.
 *
 * Three ways to run (main.c parses the arguments):
 *   --file PATH...  parse saved documents (Form 4 XML, EDGAR .txt/.nc,
 *                   OpenInsider and FinViz pages; an Atom feed is listed,
 *                   not turned into trades; a file starting with '{' is
 *                   JSON lines of trade records, replayed) and exit;
 *   --once          one cycle of each active source now, whatever the
 *                   calendar says (systemd timers are the schedule), then
 *                   exit: 0, or 1 when any source failed;
 *   (default)       the wire loop: on_tick runs each source when its
 *                   schedule (schedule.h) says it is due and returns the
 *                   milliseconds until the next one is.  A cycle blocks
 *                   the loop, bounded by the HTTP timeouts and the stop
 *                   flag; the scraper has no input to starve.
 *
 * The active sources are those enabled in the config, or the one named by
 * --source (enabled or not: naming it is asking for it).
 *
 * Every cycle of a source, whatever its fetching did: the trades it read
 * are stored in the fetch cache, then every stored trade of that source
 * filed within the lookback window is emitted (DESIGN.md "Delivery": what
 * was lost in flight comes again; the decider upserts by key).  Trades
 * read this cycle but filed before the window are counted, not emitted.
 * One log line per cycle gives the counts.
 */
#include "scraper.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/xmlerror.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "docbuf.h"
#include "fetch_cache.h"
#include "log.h"
#include "parse.h"
#include "schedule.h"
#include "source.h"
#include "timeutil.h"

/* A daily source whose cycle failed tries again after this long. */
#define DAILY_RETRY_S 3600
/* --file keeps its read buffer across documents up to this size, and its
 * trade list up to this many items (docbuf.h says why). */
#define FILE_BUF_KEEP  ((size_t)1 << 20)
#define FILE_LIST_KEEP 1024
/* Validators not used for this long are pruned. */
#define PAGE_KEEP_S (30 * 86400)
/* Most accession numbers named in the log line of an Atom file. */
#define ATOM_LIST_MAX 20

enum { SRC_EDGAR, SRC_OPENINSIDER, SRC_FINVIZ, SRC_N };

static const char *const s_names[SRC_N] = { "edgar", "openinsider", "finviz" };

struct source {
	const char *name;
	bool active;
	struct sched sched;
	struct edgar_src *edgar; /* SRC_EDGAR */
	struct page_src *pages;  /* SRC_OPENINSIDER, SRC_FINVIZ */
	int64_t last_run;        /* start of the last cycle, or SCHED_NEVER */
	int64_t hold_until;      /* no cycle before this (a refusal, a failed daily run) */
	int64_t said_due;        /* the due time last logged, so it is said once */
};

struct scraper {
	conf_t *c;
	const struct stage_args *a;
	wire_t *w;
	fetch_cache_t *cache;
	struct source src[SRC_N];
	int64_t lookback_s;
	int64_t mono0;         /* time_mono_ms() at start, for a running --now clock */
	int failed_cycles;     /* cycles with an error, for --once's exit status */
	struct doc_buf doc;    /* --file: the document read, kept across files */
	struct trade_list out; /* --file: its trades, the array kept across files */
};

/*
 * The scraper's clock.  --now fixes it for --once and --file (reproducible
 * captures); in the loop a fixed clock would never make a source due
 * again, so there --now is where the clock starts, and it runs.
 */
static int64_t s_now(const struct scraper *s)
{
	if (s->a->now == TIME_UNSET || s->a->once)
		return time_now();
	return s->a->now + (time_mono_ms() - s->mono0) / 1000;
}

/* ---- --file ---- */

/* --file reads JSON lines in blocks of this size.  It is larger than any
 * line a record can be (RECORD_MAX_JSON_BYTES), so a line the block cannot
 * hold is refused without being held: memory stays at one block whatever
 * the file holds. */
#define JSONL_BLOCK ((size_t)256 * 1024)
_Static_assert(JSONL_BLOCK > RECORD_MAX_JSON_BYTES, "a block holds any record's line");

/* The number of '\r' ending s[0..n). */
static size_t s_trailing_cr(const char *s, size_t n)
{
	size_t k = 0;

	while (k < n && s[n - 1 - k] == '\r')
		k++;
	return k;
}

/* One JSON line: its record emitted when it is a trade (as the bytes the
 * JSON reader built when they are already in the canonical form
 * record_to_msgpack writes, not encoded again), or dropped with the reason. */
static void s_replay_line(wire_t *w, const char *path, long lineno, const char *line, size_t n)
{
	char err[256];
	record_t r;
	struct record_mp_info info;
	const void *mp;
	size_t mplen;

	if (record_from_json_info(line, n, &r, &info, &mp, &mplen, err, sizeof(err)) != 0) {
		wire_drop(w, NULL, "%s:%ld: %s", path, lineno, err);
		return;
	}
	if (r.type != REC_TRADE)
		wire_drop(w, record_key(&r), "%s:%ld: a %s record, not a trade", path, lineno,
		          record_type_name(r.type));
	else if (info.canonical)
		wire_emit_encoded(w, &r, mp, mplen);
	else
		wire_emit(w, &r);
	record_free(&r);
}

/*
 * Emit every trade of a JSON-lines file; a bad line costs that line, and a
 * blank one nothing (the newline and any carriage returns before it are
 * not the line's).  The file is read in blocks and its lines are handled
 * where they lie, found by memchr: no copy of each line, as getline made.
 */
static int s_replay_jsonl(wire_t *w, const char *path)
{
	size_t cap = JSONL_BLOCK, beg = 0, end = 0;
	/* A line longer than the block: its bytes counted so far (0: none),
	 * and the carriage returns they end with. */
	size_t over = 0, over_cr = 0;
	long lineno = 0;
	bool eof = false;
	char *buf;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_warn("%s", path);
		return -1;
	}
	/* Mapped, not from malloc's heap: a 256 KiB chunk there moved where
	 * the record decoder's small strings land, and made malloc and free
	 * dearer by ~200 instructions a record (callgrind). */
	map = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		log_warnx("%s: out of memory", path);
		close(fd);
		return -1;
	}
	buf = map;
	while (!wire_stopping(w)) {
		char *line = buf + beg, *nl = memchr(line, '\n', end - beg);
		size_t n;

		if (nl == NULL && !eof) {
			/* the partial line to the front, then more of the file */
			ssize_t got;

			if (beg > 0) {
				memmove(buf, line, end - beg);
				end -= beg;
				beg = 0;
			}
			if (end == cap) {
				/* no newline in a whole block: counted, not kept */
				size_t cr = s_trailing_cr(buf, end);
				over_cr = cr == end ? over_cr + cr : cr;
				over += end;
				end = 0;
			}
			got = read(fd, buf + end, cap - end);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				log_warn("%s", path);
			if (got <= 0)
				eof = true;
			else
				end += (size_t)got;
			continue;
		}
		if (nl == NULL) {
			if (beg == end && over == 0)
				break;
			nl = buf + end; /* the last line has no newline */
		}
		n = (size_t)(nl - line);
		beg = nl < buf + end ? (size_t)(nl - buf) + 1 : end;
		lineno++;
		if (over > 0) {
			/* the end of a line longer than the block: refused as the
			 * JSON reader refuses any line over its limit */
			size_t cr = s_trailing_cr(line, n);
			over_cr = cr == n ? over_cr + cr : cr;
			wire_drop(w, NULL, "%s:%ld: json: line of %zu bytes, more than %d", path,
			          lineno, over + n - over_cr, RECORD_MAX_JSON_BYTES);
			over = over_cr = 0;
			continue;
		}
		while (n > 0 && line[n - 1] == '\r')
			n--;
		if (n > 0)
			s_replay_line(w, path, lineno, line, n);
	}
	munmap(map, cap);
	close(fd);
	return 0;
}

/* An Atom feed given to --file: list its filings in one log line. */
static int s_file_atom(const char *path, const char *buf, size_t len)
{
	struct filing_list l;
	struct parse_result res;
	char err[512], sum[512], list[ATOM_LIST_MAX * 32 + 64] = "";
	size_t used = 0;

	filing_list_init(&l);
	if (atom_parse(buf, len, &l, &res, err, sizeof(err)) != 0) {
		parse_result_summary(&res, sum, sizeof(sum));
		log_warnx("%s: %s [%s]", path, err, sum);
		filing_list_free(&l);
		return -1;
	}
	for (size_t i = 0; i < l.n && i < ATOM_LIST_MAX; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s (%s)",
		                         i ? ", " : "", l.items[i].accession, l.items[i].form);
	if (l.n > ATOM_LIST_MAX)
		snprintf(list + used, sizeof(list) - used, " and %zu more", l.n - ATOM_LIST_MAX);
	parse_result_summary(&res, sum, sizeof(sum));
	log_info("%s: Atom feed: %zu Form 4 filing%s (%s)%s%s", path, l.n, l.n == 1 ? "" : "s", sum,
	         l.n ? ": " : "", list);
	filing_list_free(&l);
	return 0;
}

/*
 * One saved document: its trades emitted, or an error naming the cause.
 * The read buffer and the trade list's array are s's, reused from one
 * document to the next (kept while they stay small); both are left empty.
 */
static int s_file(struct scraper *s, const char *path)
{
	const char *source = s->a->source;
	char err[512], sum[512], acc[ACCESSION_LEN];
	struct trade_list *out = &s->out;
	struct parse_result res;
	struct parse_ctx ctx;
	enum doc_kind kind;
	bool jsonl;
	size_t len;
	char *buf;
	int rc;

	buf = doc_buf_read(&s->doc, path, PARSE_MAX_DOC_BYTES, &len, &jsonl, err, sizeof(err));
	if (jsonl) {
		doc_buf_trim(&s->doc, FILE_BUF_KEEP);
		return s_replay_jsonl(s->w, path);
	}
	if (buf == NULL) {
		doc_buf_trim(&s->doc, FILE_BUF_KEEP);
		log_warnx("%s: %s", path, err);
		return -1;
	}
	kind = doc_sniff(buf, len);
	if (kind == DOC_ATOM && (source == NULL || strcmp(source, "edgar") == 0)) {
		rc = s_file_atom(path, buf, len);
		doc_buf_trim(&s->doc, FILE_BUF_KEEP);
		return rc;
	}
	parse_ctx_init(&ctx);
	if (accession_from_filename(path, acc) == 0)
		ctx.accession = acc;
	ctx.now = time_now();
	ctx.kind = kind; /* sniffed once: parse_trades and form4_parse reuse it */
	rc = parse_trades(buf, len, source, &ctx, out, &res, &kind, err, sizeof(err));
	if (rc != 0) {
		log_warnx("%s: %s [%s]", path, err, parse_result_summary(&res, sum, sizeof(sum)));
	} else {
		/* The summary is a few printfs: not for a line nobody logs. */
		if (log_get_level() >= LOG_LVL_INFO)
			log_info("%s: %s: %s", path, doc_kind_name(kind),
			         parse_result_summary(&res, sum, sizeof(sum)));
		for (size_t k = 0; k < out->n && !wire_stopping(s->w); k++)
			wire_emit(s->w, &out->items[k]);
	}
	trade_list_truncate(out, 0);
	if (out->cap > FILE_LIST_KEEP)
		trade_list_free(out);
	doc_buf_trim(&s->doc, FILE_BUF_KEEP);
	return rc;
}

static int s_files(struct scraper *s)
{
	int rc = 0;

	doc_buf_init(&s->doc);
	trade_list_init(&s->out);
	for (size_t i = 0; i < s->a->n_files && !wire_stopping(s->w); i++)
		if (s_file(s, s->a->files[i]) != 0) {
			wire_count_error(s->w);
			rc = 1;
		}
	doc_buf_free(&s->doc);
	trade_list_free(&s->out);
	return rc;
}

/* ---- setup ---- */

static int s_source_index(const char *name)
{
	for (int i = 0; i < SRC_N; i++)
		if (strcmp(name, s_names[i]) == 0)
			return i;
	return -1;
}

/* "HH:MM" setting -> seconds after midnight; logs and returns -1 when bad. */
static int s_hhmm(const conf_t *c, const char *path, bool allow_24, int *sec)
{
	const char *v = conf_str(c, path);

	if (sched_parse_hhmm(v, allow_24, sec) != 0) {
		log_warnx("%s: %s = \"%s\": want HH:MM (00:00-%s), US Eastern time",
		          conf_file(c) ? conf_file(c) : "config", path, v ? v : "",
		          allow_24 ? "24:00" : "23:59");
		return -1;
	}
	return 0;
}

/* Schedules from the config; 0, or -1 (logged): a usage error. */
static int s_schedules(struct scraper *s)
{
	const conf_t *c = s->c;
	int ws, we, fv;
	char err[256];

	if (s_hhmm(c, "scraper.window_start", false, &ws) != 0 ||
	    s_hhmm(c, "scraper.window_end", true, &we) != 0 ||
	    s_hhmm(c, "scraper.finviz_time", false, &fv) != 0)
		return -1;
	for (int i = 0; i < SRC_N; i++) {
		struct sched *sc = &s->src[i].sched;

		sc->trading_days_only = conf_bool(c, "scraper.trading_days_only");
		sc->window_start = ws;
		sc->window_end = we;
		sc->kind = i == SRC_FINVIZ ? SCHED_DAILY : SCHED_INTERVAL;
		sc->daily_at = fv;
		sc->interval_s = conf_int(c, i == SRC_EDGAR ? "scraper.edgar_interval_s"
		                                            : "scraper.openinsider_interval_s");
		if (sched_check(sc, err, sizeof(err)) != 0) {
			log_warnx("scraper.window_start/window_end: %s", err);
			return -1;
		}
	}
	return 0;
}

/* Build the active sources; 0, or -1 (logged): a usage or config error. */
static int s_sources(struct scraper *s)
{
	volatile sig_atomic_t *stop = wire_stop_flag(s->w);
	static const char *const enabled[SRC_N] = { "scraper.edgar_enabled",
		                                    "scraper.openinsider_enabled",
		                                    "scraper.finviz_enabled" };
	int n_active = 0;
	char err[1024];

	for (int i = 0; i < SRC_N; i++) {
		struct source *src = &s->src[i];

		src->name = s_names[i];
		src->last_run = SCHED_NEVER;
		src->hold_until = SCHED_NEVER;
		src->said_due = SCHED_NEVER;
		src->active = s->a->source != NULL ? strcmp(s->a->source, s_names[i]) == 0
		                                   : conf_bool(s->c, enabled[i]);
		if (!src->active)
			continue;
		if (i == SRC_EDGAR)
			src->edgar = edgar_src_new(s->c, stop, err, sizeof(err));
		else if (i == SRC_OPENINSIDER)
			src->pages = openinsider_src_new(s->c, stop, err, sizeof(err));
		else
			src->pages = finviz_src_new(s->c, stop, err, sizeof(err));
		if (src->edgar == NULL && src->pages == NULL) {
			log_warnx("%s", err);
			return -1;
		}
		n_active++;
	}
	if (n_active == 0) {
		log_warnx("no source is enabled (scraper.edgar_enabled, openinsider_enabled, "
		          "finviz_enabled): nothing to do");
		return -1;
	}
	return 0;
}

static void s_describe(const struct source *src, char *buf, size_t len)
{
	const struct sched *sc = &src->sched;
	const char *days = sc->trading_days_only ? "on NYSE trading days" : "every day";

	if (sc->kind == SCHED_DAILY)
		snprintf(buf, len, "once a day at %02d:%02d ET %s", sc->daily_at / 3600,
		         sc->daily_at % 3600 / 60, days);
	else
		snprintf(buf, len, "every %lld s, %02d:%02d-%02d:%02d ET %s",
		         (long long)sc->interval_s, sc->window_start / 3600,
		         sc->window_start % 3600 / 60, sc->window_end / 3600,
		         sc->window_end % 3600 / 60, days);
}

static void s_teardown(struct scraper *s)
{
	for (int i = 0; i < SRC_N; i++) {
		edgar_src_free(&s->src[i].edgar);
		page_src_free(&s->src[i].pages);
	}
	fetch_cache_close(&s->cache);
}

/* ---- one cycle ---- */

static int s_emit_cb(void *arg, record_t *r)
{
	struct scraper *s = arg;

	wire_emit(s->w, r);
	return wire_stopping(s->w) ? 1 : 0;
}

/*
 * Run one cycle of src: fetch, store, emit the window, log one line, and
 * update its schedule state.  Returns 0, or -1 when the cycle had errors.
 */
static int s_cycle(struct scraper *s, struct source *src)
{
	int64_t now = s_now(s), t0 = time_mono_ms();
	struct src_ctx cx = {
		.cache = s->cache,
		.now = now,
		.since = now - s->lookback_s,
		.stop = wire_stop_flag(s->w),
	};
	struct src_stats st;
	struct trade_list out;
	size_t stored = 0;
	long emitted;
	char what[256] = "";
	int rc;

	memset(&st, 0, sizeof(st));
	trade_list_init(&out);
	fetch_cache_prune(s->cache, cx.since, cx.since, now - PAGE_KEEP_S);
	if (src->edgar != NULL)
		rc = edgar_src_cycle(src->edgar, &cx, &out, &st);
	else
		rc = page_src_cycle(src->pages, &cx, &out, &st);
	if (wire_stopping(s->w)) {
		trade_list_free(&out);
		return 0;
	}
	if (fetch_cache_put_trades(s->cache, src->name, &out, cx.since, now, &stored) != 0) {
		/* Not stored: emit what was read now, so nothing is lost. */
		st.errors++;
		for (size_t i = 0; i < out.n && !wire_stopping(s->w); i++)
			wire_emit(s->w, &out.items[i]);
	}
	emitted = fetch_cache_each_trade(s->cache, src->name, cx.since, s_emit_cb, s);
	if (emitted < 0) {
		st.errors++;
		emitted = 0;
	}
	if (src->edgar != NULL)
		snprintf(what, sizeof(what),
		         "%u feed page%s, %u new filing%s, %u document%s fetched%s, ", st.pages,
		         st.pages == 1 ? "" : "s", st.filings_new, st.filings_new == 1 ? "" : "s",
		         st.documents, st.documents == 1 ? "" : "s",
		         st.pending ? " (more left for the next cycle)" : "");
	else
		snprintf(what, sizeof(what), "%u page%s read, %u not modified, ", st.pages,
		         st.pages == 1 ? "" : "s", st.not_modified);
	log_info("%s: cycle: %s%zu trade%s read (%zu filed before the %lld-day window), %ld "
	         "emitted, %u request%s, %u error%s%s, %.1f s",
	         src->name, what, st.trades_read, st.trades_read == 1 ? "" : "s",
	         out.n - (stored <= out.n ? stored : out.n), (long long)(s->lookback_s / 86400),
	         emitted, st.requests, st.requests == 1 ? "" : "s", st.errors,
	         st.errors == 1 ? "" : "s",
	         st.unreachable ? " (network unreachable)"
	         : st.blocked   ? " (blocked)"
	                        : "",
	         (double)(time_mono_ms() - t0) / 1000.0);
	trade_list_free(&out);
	for (unsigned i = 0; i < st.errors; i++)
		wire_count_error(s->w);
	if (rc != 0 && st.errors == 0) {
		wire_count_error(s->w);
		st.errors = 1;
	}

	/* Schedule state.  A daily run that failed is not recorded as run:
	 * it is tried again after DAILY_RETRY_S rather than tomorrow. */
	if (st.errors > 0 && src->sched.kind == SCHED_DAILY) {
		src->hold_until = now + DAILY_RETRY_S;
	} else {
		src->last_run = now;
		fetch_cache_set_last_run(s->cache, src->name, now);
	}
	if (st.hold_s > 0 && now + st.hold_s > src->hold_until)
		src->hold_until = now + st.hold_s;
	return st.errors > 0 ? -1 : 0;
}

/* ---- the loop ---- */

static int64_t s_due(const struct source *src, int64_t now)
{
	int64_t due = sched_next_due(&src->sched, src->last_run, now);

	if (src->hold_until != SCHED_NEVER && due < src->hold_until)
		due = src->hold_until;
	return due;
}

/* Say once when a source next runs, if that is not right away. */
static void s_say_due(struct source *src, int64_t now, int64_t due)
{
	char when[TIME_RFC3339_LEN], how[160];
	civil_date_t d;
	int sod;

	if (due == src->said_due || due <= now)
		return;
	src->said_due = due;
	if (due == SCHED_NONE) {
		log_warnx("%s: no allowed day within 400 days: the source will not run", src->name);
		return;
	}
	/* Waits of one interval inside the window go unsaid; the rest
	 * (nights, weekends, holidays, pauses) are worth a line. */
	if (src->sched.kind == SCHED_INTERVAL && due - now <= src->sched.interval_s &&
	    (src->hold_until == SCHED_NEVER || due > src->hold_until))
		return;
	utc_to_eastern(due, &d, &sod);
	s_describe(src, how, sizeof(how));
	log_info("%s: next cycle at %s (%04d-%02d-%02d %02d:%02d ET; %s)", src->name,
	         time_format_rfc3339(due, when, sizeof(when)), d.year, d.month, d.day, sod / 3600,
	         sod % 3600 / 60, how);
}

static int64_t s_on_tick(void *ctx)
{
	struct scraper *s = ctx;
	int64_t now = s_now(s), next = SCHED_NONE;

	for (int i = 0; i < SRC_N; i++) {
		struct source *src = &s->src[i];
		int64_t due;

		if (!src->active)
			continue;
		due = s_due(src, now);
		if (due <= now) {
			s_cycle(s, src);
			if (wire_stopping(s->w))
				return -1;
			now = s_now(s);
			due = s_due(src, now);
		}
		s_say_due(src, now, due);
		if (due < next)
			next = due;
	}
	if (next == SCHED_NONE)
		return -1;
	/* Whole seconds: wake at the second the source is due. */
	if (next - now > 3600)
		return 3600 * 1000;
	return next > now ? (next - now) * 1000 : 0;
}

/*
 * libxml2 reports a document whose bytes do not convert from its declared
 * encoding through its generic error handler, which prints bare lines
 * ("encoding error : input conversion failed ...", "I/O error : encoder
 * error") on stderr whatever the parse options say.  The parser's own log
 * line already names the document and the failure; these say nothing more.
 */
static void s_xml_quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/*
 * glibc's heap, held steady across documents.  The scraper works in
 * cycles of one document: it grows the heap by a few hundred KB, frees it
 * all, and does it again.  By default glibc gives the freed
 * top back to the kernel as soon as it exceeds twice the largest chunk
 * freed from mmap so far (~360 KB after the first page's 180 KB copy in
 * libxml2), so every page paid for its memory again in page faults: 66
 * faults and 3 brk calls a 100-row page, a third of the scraper's time
 * on pages (BENCHMARKS.md finding 18).  With chunks below 1 MiB from the
 * heap and up to 2 MiB of free top kept, the scraper faults its heap in
 * once; its RSS grows by at most those 2 MiB (measured: +0.2 MB on 100
 * pages).  Fixed values also stop glibc's own threshold from drifting with
 * what was freed last.  Only here: in the decider, whose window's arrays
 * grow by realloc, the same settings kept ~0.8 MB more resident.
 */
static void s_malloc_steady(void)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 2 << 20);
#endif
}

int scraper_run(conf_t *c, const struct stage_args *a, wire_t *w)
{
	struct scraper s;
	char err[1024];
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.a = a;
	s.w = w;
	s.mono0 = time_mono_ms();
	s_malloc_steady();
	xmlSetGenericErrorFunc(NULL, s_xml_quiet);
	if (a->source != NULL && s_source_index(a->source) < 0) {
		log_warnx("--source %s: unknown source (edgar, openinsider, finviz)", a->source);
		return 2;
	}
	if (a->n_files > 0)
		return s_files(&s);

	s.lookback_s = conf_int(c, "scraper.lookback_days") * 86400;
	if (s_schedules(&s) != 0 || s_sources(&s) != 0) {
		s_teardown(&s);
		return 2;
	}
	s.cache = fetch_cache_open(conf_str(c, "state_dir"), err, sizeof(err));
	if (s.cache == NULL) {
		log_warnx("fetch cache: %s", err);
		s_teardown(&s);
		return 1;
	}
	for (int i = 0; i < SRC_N; i++) {
		struct source *src = &s.src[i];
		char how[160];

		if (!src->active)
			continue;
		src->last_run = fetch_cache_last_run(s.cache, src->name);
		s_describe(src, how, sizeof(how));
		log_info("%s: active: %s%s", src->name, how,
		         a->once ? " (--once: one cycle now, whatever the calendar says)" : "");
	}

	if (a->once) {
		for (int i = 0; i < SRC_N && !wire_stopping(w); i++)
			if (s.src[i].active && s_cycle(&s, &s.src[i]) != 0)
				s.failed_cycles++;
		rc = s.failed_cycles > 0 ? 1 : 0;
	} else {
		struct stage_ops ops = { .on_tick = s_on_tick };
		rc = wire_run(w, &ops, &s);
	}
	s_teardown(&s);
	return rc;
}
