/*
 * coattail-tap - watch the pipeline: subscribe to stage taps and print what
 * each stage emits, drops and counts.
 *
 *   coattail-tap [-c FILE] [--type T,...] [--ticker SYM,...] [--stage S,...]
 *                [--json | --human] [--stats] [--count N] [EP...]
 *
 * Without EP, subscribes to tap.endpoints, else to the four stage taps of
 * the config.  At a terminal it prints aligned, coloured lines (time, stage,
 * type, ticker, side, reason); piped, one JSON object per line, so
 * `coattail-tap | jq` works.  --stats shows a live table of in/out/dropped/
 * errors per stage from the stats records.  Tap messages are outside input:
 * each is decoded with every check before it is shown.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "record.h"
#include "timeutil.h"
#include "wire.h"
#include "zmq_load.h"

#define MAX_TAPS  32
#define MAX_NAMES 32

static volatile sig_atomic_t s_stop;

static void s_on_signal(int signo)
{
	(void)signo;
	s_stop = 1;
}

struct tap_sub {
	void *sock;
	char stage[32]; /* label shown for records from this endpoint */
};

struct name_filter {
	char *names[MAX_NAMES];
	size_t n;
};

struct stage_stats {
	char stage[32];
	stats_t last;
	int64_t seen_ms;
};

struct tap {
	struct tap_sub subs[MAX_TAPS];
	size_t n_subs;
	unsigned type_mask;
	struct name_filter tickers, stages;
	bool human, color, stats_mode;
	long count, printed;
	struct stage_stats table[MAX_TAPS];
	size_t n_table;
	curve_t *curve; /* CURVE client keys for tcp:// taps, or NULL */
};

static void s_usage(FILE *f)
{
	fprintf(f,
	        "usage: coattail-tap [-c FILE] [--type T,...] [--ticker SYM,...] [--stage S,...]\n"
	        "                    [--json | --human] [--stats] [--count N] [EP...]\n"
	        "  --type T      only these record types: trade,intent,order,drop,stats\n"
	        "  --ticker SYM  only records about these tickers\n"
	        "  --stage S     only these stages' taps (scraper,mapper,decider,executor)\n"
	        "  --json        JSON lines (the default when stdout is not a terminal)\n"
	        "  --human       aligned, coloured lines (the default at a terminal)\n"
	        "  --stats       a live table of in/out/dropped/errors per stage\n"
	        "  --count N     exit after N records\n"
	        "  EP            tap endpoints (default: tap.endpoints, else every stage's tap)\n");
}

static void s_split(struct name_filter *f, const char *list)
{
	char *dup = strdup(list), *save = NULL;

	for (char *t = strtok_r(dup, ",", &save); t != NULL && f->n < MAX_NAMES;
	     t = strtok_r(NULL, ",", &save))
		f->names[f->n++] = strdup(t);
	free(dup);
}

static bool s_match(const struct name_filter *f, const char *name)
{
	if (f->n == 0)
		return true;
	if (name == NULL)
		return false;
	for (size_t i = 0; i < f->n; i++)
		if (strcasecmp(f->names[i], name) == 0)
			return true;
	return false;
}

/* "ipc://mapper.tap" -> "mapper"; otherwise the endpoint itself. */
static void s_label_of(const char *ep, char *out, size_t len)
{
	const char *base = strrchr(ep, '/');
	const char *dot;

	base = base ? base + 1 : ep;
	dot = strstr(base, ".tap");
	if (dot != NULL && (size_t)(dot - base) < len) {
		memcpy(out, base, (size_t)(dot - base));
		out[dot - base] = '\0';
	} else {
		snprintf(out, len, "%s", ep);
	}
}

static int s_add(struct tap *t, void *ctx, const char *ep, const char *label, const char *run_dir)
{
	char resolved[4096], err[512];
	struct tap_sub *s;

	if (t->n_subs == MAX_TAPS) {
		fprintf(stderr, "coattail-tap: more than %d endpoints\n", MAX_TAPS);
		return -1;
	}
	if (wire_resolve_endpoint(ep, run_dir, resolved, sizeof(resolved)) != 0) {
		fprintf(stderr, "coattail-tap: bad endpoint '%s'\n", ep);
		return -1;
	}
	s = &t->subs[t->n_subs];
	if (label != NULL)
		snprintf(s->stage, sizeof(s->stage), "%s", label);
	else
		s_label_of(ep, s->stage, sizeof(s->stage));
	if (!s_match(&t->stages, s->stage))
		return 0;
	s->sock = zmq_socket(ctx, ZMQ_SUB);
	zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, "", 0);
	if (curve_prepare_connect(t->curve, s->sock, resolved, err, sizeof(err)) != 0) {
		fprintf(stderr, "coattail-tap: %s\n", err);
		zmq_close(s->sock);
		return -1;
	}
	if (zmq_connect(s->sock, resolved) != 0) {
		fprintf(stderr, "coattail-tap: connect %s: %s\n", resolved, zmq_strerror(errno));
		zmq_close(s->sock);
		return -1;
	}
	t->n_subs++;
	return 0;
}

static const char *s_ticker_of(const record_t *r)
{
	switch (r->type) {
	case REC_TRADE:
		return r->u.trade.ticker;
	case REC_INTENT:
		return r->u.intent.ticker;
	default:
		return NULL;
	}
}

/* ---- human output ---- */

#define C_RESET  "\033[0m"
#define C_DIM    "\033[2m"
#define C_RED    "\033[31m"
#define C_GREEN  "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BLUE   "\033[34m"
#define C_MAG    "\033[35m"
#define C_CYAN   "\033[36m"
#define C_BOLD   "\033[1m"

static const char *s_color_of(const record_t *r)
{
	switch (r->type) {
	case REC_TRADE:
		return C_CYAN;
	case REC_INTENT:
		return C_GREEN C_BOLD;
	case REC_ORDER:
		return (r->u.order.status == ORDER_ERROR || r->u.order.status == ORDER_REJECTED)
		           ? C_RED C_BOLD
		           : C_MAG C_BOLD;
	case REC_DROP:
		return C_YELLOW;
	default:
		return C_DIM;
	}
}

static void s_print_human(struct tap *t, const char *stage, const record_t *r)
{
	char when[16], detail[1024] = "", side[8] = "", ticker[16] = "";
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	switch (r->type) {
	case REC_TRADE: {
		const trade_t *x = &r->u.trade;
		char price[32] = "?";
		if (!rec_num_is_null(x->price))
			snprintf(price, sizeof(price), "%.2f", x->price);
		snprintf(side, sizeof(side), "%s", x->code);
		snprintf(detail, sizeof(detail), "%s (%s) %.0f sh @ %s on %s via %s%s%s", x->owner,
		         x->title ? x->title : "-", x->shares, price, x->trade_date, x->source,
		         x->planned ? ", 10b5-1" : "", x->amendment ? ", 4/A" : "");
		break;
	}
	case REC_INTENT:
		snprintf(side, sizeof(side), "%s", side_name(r->u.intent.side));
		snprintf(detail, sizeof(detail), "[%s] %s", r->u.intent.rule, r->u.intent.reason);
		break;
	case REC_ORDER: {
		const order_t *o = &r->u.order;
		snprintf(side, sizeof(side), "%.7s", order_status_name(o->status));
		snprintf(detail, sizeof(detail), "%s %s%s%s", o->broker, o->reason ? o->reason : "",
		         o->broker_order_id ? " id " : "",
		         o->broker_order_id ? o->broker_order_id : "");
		break;
	}
	case REC_DROP:
		snprintf(detail, sizeof(detail), "%s: %s", r->u.drop.key ? r->u.drop.key : "-",
		         r->u.drop.reason);
		break;
	case REC_STATS:
		snprintf(detail, sizeof(detail), "in %llu  out %llu  dropped %llu  errors %llu",
		         (unsigned long long)r->u.stats.in, (unsigned long long)r->u.stats.out,
		         (unsigned long long)r->u.stats.dropped,
		         (unsigned long long)r->u.stats.errors);
		break;
	case REC_NONE:
		break;
	}
	if (s_ticker_of(r) != NULL)
		snprintf(ticker, sizeof(ticker), "%s", s_ticker_of(r));
	printf("%s%s  %-8s %-6s %-6s %-7s %s%s\n", t->color ? s_color_of(r) : "", when, stage,
	       record_type_name(r->type), ticker, side, detail, t->color ? C_RESET : "");
}

/* ---- --stats ---- */

static void s_note_stats(struct tap *t, const char *stage, const stats_t *st)
{
	size_t i;

	for (i = 0; i < t->n_table; i++)
		if (strcmp(t->table[i].stage, st->stage) == 0)
			break;
	if (i == t->n_table) {
		if (t->n_table == MAX_TAPS)
			return;
		t->n_table++;
		snprintf(t->table[i].stage, sizeof(t->table[i].stage), "%s", st->stage);
	}
	(void)stage;
	t->table[i].last = *st;
	t->table[i].last.stage = NULL;
	t->table[i].seen_ms = time_mono_ms();
}

static void s_draw_stats(struct tap *t)
{
	int64_t now = time_mono_ms();

	if (t->human)
		printf("\033[H\033[2J");
	printf("%-10s %12s %12s %10s %10s %8s\n", "stage", "in", "out", "dropped", "errors", "age");
	for (size_t i = 0; i < t->n_table; i++) {
		const stats_t *s = &t->table[i].last;
		printf("%-10s %12llu %12llu %10llu %10llu %7llds\n", t->table[i].stage,
		       (unsigned long long)s->in, (unsigned long long)s->out,
		       (unsigned long long)s->dropped, (unsigned long long)s->errors,
		       (long long)((now - t->table[i].seen_ms) / 1000));
	}
	if (t->n_table == 0)
		printf("(waiting for stats records...)\n");
	if (!t->human)
		printf("\n");
	fflush(stdout);
}

static void s_handle(struct tap *t, const struct tap_sub *sub, zmq_msg_t *msg)
{
	char err[256], *js;
	size_t jlen;
	record_t r;

	if (record_from_msgpack(zmq_msg_data(msg), zmq_msg_size(msg), &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "coattail-tap: bad record from %s tap: %s\n", sub->stage, err);
		return;
	}
	if (t->stats_mode) {
		if (r.type == REC_STATS)
			s_note_stats(t, sub->stage, &r.u.stats);
	} else if ((t->type_mask == 0 || (t->type_mask & (1u << r.type))) &&
	           (t->tickers.n == 0 || s_match(&t->tickers, s_ticker_of(&r)))) {
		if (t->human) {
			s_print_human(t, sub->stage, &r);
		} else if (record_msgpack_to_json(zmq_msg_data(msg), zmq_msg_size(msg), &js, &jlen,
		                                  err, sizeof(err)) == 0) {
			printf("%s\n", js);
			free(js);
		}
		if (fflush(stdout) != 0)
			s_stop = 1;
		t->printed++;
	}
	record_free(&r);
}

int main(int argc, char **argv)
{
	enum { OPT_TYPE = 256, OPT_COUNT, OPT_TICKER, OPT_STAGE, OPT_JSON, OPT_HUMAN, OPT_STATS };
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "ticker", required_argument, NULL, OPT_TICKER },
		{ "stage", required_argument, NULL, OPT_STAGE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "human", no_argument, NULL, OPT_HUMAN },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const stage_taps[] = { "scraper", "mapper", "decider", "executor" };
	static struct tap t;
	const char *conf_path = NULL, *types = NULL;
	int force = -1; /* -1 auto, 0 json, 1 human */
	char errs[8192];
	int64_t next_draw = 0;
	conf_t *c;
	void *ctx;
	int ch, rc = 0;

	log_init("tap", LOG_LVL_INFO);
	t.count = -1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case OPT_TYPE:
			types = optarg;
			break;
		case OPT_COUNT:
			t.count = strtol(optarg, NULL, 10);
			break;
		case OPT_TICKER:
			s_split(&t.tickers, optarg);
			break;
		case OPT_STAGE:
			s_split(&t.stages, optarg);
			break;
		case OPT_JSON:
			force = 0;
			break;
		case OPT_HUMAN:
			force = 1;
			break;
		case OPT_STATS:
			t.stats_mode = true;
			break;
		case 'h':
			s_usage(stdout);
			return 0;
		default:
			s_usage(stderr);
			return 2;
		}
	}
	if (types != NULL) {
		struct name_filter f = { 0 };
		s_split(&f, types);
		for (size_t i = 0; i < f.n; i++) {
			enum record_type rt = record_type_from_name(f.names[i]);
			if (rt == REC_NONE) {
				fprintf(stderr, "coattail-tap: unknown record type '%s'\n",
				        f.names[i]);
				return 2;
			}
			t.type_mask |= 1u << rt;
			free(f.names[i]);
		}
	}
	t.human = force >= 0 ? force == 1 : isatty(STDOUT_FILENO);
	t.color = t.human && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	c = conf_load(conf_path != NULL ? conf_path : conf_default_path(), errs, sizeof(errs));
	if (c == NULL) {
		fputs(errs, stderr);
		return 2;
	}
	if (curve_from_conf(c, &t.curve, errs, sizeof(errs)) != 0) {
		fprintf(stderr, "coattail-tap: %s\n", errs);
		conf_free(&c);
		return 2;
	}
	if (zmq_load(errs, sizeof(errs)) != 0) {
		fprintf(stderr, "coattail-tap: %s\n", errs);
		return 1;
	}
	ctx = zmq_ctx_new();
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			if (s_add(&t, ctx, argv[i], NULL, conf_str(c, "run_dir")) != 0)
				return 2;
	} else {
		const char *const *eps;
		size_t n = conf_strlist(c, "tap.endpoints", &eps);
		for (size_t i = 0; i < n; i++)
			if (s_add(&t, ctx, eps[i], NULL, conf_str(c, "run_dir")) != 0)
				return 2;
		for (size_t i = 0; n == 0 && i < 4; i++) {
			char key[32];
			const char *ep;
			snprintf(key, sizeof(key), "%s.tap", stage_taps[i]);
			ep = conf_str(c, key);
			if (ep != NULL && ep[0] != '\0' &&
			    s_add(&t, ctx, ep, stage_taps[i], conf_str(c, "run_dir")) != 0)
				return 2;
		}
	}
	if (t.n_subs == 0) {
		fprintf(stderr, "coattail-tap: no tap endpoint to watch\n");
		return 2;
	}
	signal(SIGINT, s_on_signal);
	signal(SIGTERM, s_on_signal);
	signal(SIGPIPE, SIG_IGN);
	while (!s_stop && (t.count < 0 || t.printed < t.count)) {
		zmq_pollitem_t items[MAX_TAPS];
		int n;

		for (size_t i = 0; i < t.n_subs; i++)
			items[i] = (zmq_pollitem_t){ t.subs[i].sock, 0, ZMQ_POLLIN, 0 };
		n = zmq_poll(items, (int)t.n_subs, t.stats_mode ? 250 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = 1;
			break;
		}
		for (size_t i = 0; i < t.n_subs; i++) {
			zmq_msg_t msg;
			if (!(items[i].revents & ZMQ_POLLIN))
				continue;
			zmq_msg_init(&msg);
			while (zmq_msg_recv(&msg, t.subs[i].sock, ZMQ_DONTWAIT) >= 0) {
				s_handle(&t, &t.subs[i], &msg);
				if (t.count >= 0 && t.printed >= t.count)
					break;
			}
			zmq_msg_close(&msg);
		}
		if (t.stats_mode && time_mono_ms() >= next_draw) {
			s_draw_stats(&t);
			next_draw = time_mono_ms() + 1000;
		}
	}
	for (size_t i = 0; i < t.n_subs; i++)
		zmq_close(t.subs[i].sock);
	zmq_ctx_term(ctx);
	curve_free(&t.curve);
	conf_free(&c);
	return rc;
}
