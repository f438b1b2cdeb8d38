/*
 * stage.c - command line, config and wire setup shared by the four stages.
 */
#include "stage.h"

#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"

#ifndef COATTAIL_VERSION
#define COATTAIL_VERSION "0.0.0"
#endif

static void s_usage(const struct stage_def *def, FILE *f)
{
	unsigned fl = def->flags;

	fprintf(
	    f, "usage: coattail-%s [-c FILE] [-n] [-v]%s [--out EP[,EP...]|-] [--tap EP]%s%s%s%s\n",
	    def->name, (fl & STAGE_ARG_IN) ? " [--in EP|-]" : "",
	    (fl & STAGE_ARG_ONCE) ? " [--once]" : "",
	    (fl & STAGE_ARG_SOURCE) ? " [--source NAME]" : "",
	    (fl & STAGE_ARG_FILE) ? " [--file PATH...]" : "",
	    (fl & STAGE_ARG_NOW) ? " [--now TIME]" : "");
}

static void s_help(const struct stage_def *def)
{
	unsigned fl = def->flags;

	printf("coattail-%s %s - %s\n\n", def->name, COATTAIL_VERSION, def->summary);
	s_usage(def, stdout);
	printf("\noptions:\n"
	       "  -c FILE        config file (default: $COATTAIL_CONF, else %s)\n"
	       "  -n             check the config, print \"configuration OK\" or every error\n"
	       "                 as FILE:LINE: message, and exit (0 OK, 2 errors)\n"
	       "  -v             more log output (repeat for debug)\n",
	       conf_default_path());
	if (fl & STAGE_ARG_IN)
		printf("  --in EP|-      input endpoint to bind (PULL), or - for JSON lines on "
		       "stdin;\n"
		       "                 at EOF the stage finishes its work and exits 0\n");
	printf("  --out EP|-     output endpoints to connect (PUSH, comma-separated for\n"
	       "                 scale-out), or - for JSON lines on stdout\n"
	       "  --tap EP       tap endpoint to bind (PUB); \"\" for none\n");
	if (fl & STAGE_ARG_ONCE)
		printf("  --once         run one cycle and exit (for timers)\n");
	if (fl & STAGE_ARG_SOURCE)
		printf("  --source NAME  only this source (or: the parser for --file)\n");
	if (fl & STAGE_ARG_FILE)
		printf("  --file PATH... parse saved documents instead of fetching\n");
	if (fl & STAGE_ARG_NOW)
		printf("  --now TIME     fix the clock (RFC 3339), for tests and replays\n");
	printf("  -h, --help     this text\n"
	       "  --version      print the version\n\n"
	       "Endpoints: tcp://HOST:PORT, ipc://PATH (a relative PATH lives in run_dir),\n"
	       "inproc://NAME.  Exit status: 0 done, 1 runtime failure, 2 bad usage or config.\n"
	       "Environment: COATTAIL_CONF, COATTAIL_STATE_DIR, COATTAIL_RUN_DIR and the\n"
	       "overrides listed in the README override the config file.\n");
	if (def->help_extra != NULL)
		printf("\n%s", def->help_extra);
}

static void s_bad_usage(const struct stage_def *def, const char *msg, const char *arg)
{
	fprintf(stderr, "coattail-%s: %s%s%s\n", def->name, msg, arg ? ": " : "", arg ? arg : "");
	s_usage(def, stderr);
	fprintf(stderr, "try 'coattail-%s --help'\n", def->name);
	exit(2);
}

void stage_parse_args(const struct stage_def *def, int argc, char **argv, struct stage_args *a)
{
	enum { OPT_IN = 256, OPT_OUT, OPT_TAP, OPT_ONCE, OPT_SOURCE, OPT_FILE, OPT_NOW, OPT_VER };
	static const struct option longopts[] = {
		{ "in", required_argument, NULL, OPT_IN },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "tap", required_argument, NULL, OPT_TAP },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "file", no_argument, NULL, OPT_FILE },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VER },
		{ NULL, 0, NULL, 0 },
	};
	bool want_files = false;
	int ch;

	memset(a, 0, sizeof(*a));
	a->now = TIME_UNSET;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:nvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a->conf_path = optarg;
			break;
		case 'n':
			a->check_only = true;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'h':
			s_help(def);
			exit(0);
		case OPT_VER:
			printf("coattail-%s %s\n", def->name, COATTAIL_VERSION);
			exit(0);
		case OPT_IN:
			if (!(def->flags & STAGE_ARG_IN))
				s_bad_usage(def, "this stage has no input", "--in");
			a->in = optarg;
			break;
		case OPT_OUT:
			a->out = optarg;
			break;
		case OPT_TAP:
			a->tap = optarg;
			break;
		case OPT_ONCE:
			if (!(def->flags & STAGE_ARG_ONCE))
				s_bad_usage(def, "unknown option", "--once");
			a->once = true;
			break;
		case OPT_SOURCE:
			if (!(def->flags & STAGE_ARG_SOURCE))
				s_bad_usage(def, "unknown option", "--source");
			a->source = optarg;
			break;
		case OPT_FILE:
			if (!(def->flags & STAGE_ARG_FILE))
				s_bad_usage(def, "unknown option", "--file");
			want_files = true;
			/* --file takes every operand up to the next option. */
			a->files = &argv[optind];
			while (optind < argc && argv[optind][0] != '-') {
				a->n_files++;
				optind++;
			}
			break;
		case OPT_NOW:
			if (!(def->flags & STAGE_ARG_NOW))
				s_bad_usage(def, "unknown option", "--now");
			if (time_parse_rfc3339(optarg, &a->now) != 0)
				s_bad_usage(def, "--now wants an RFC 3339 time", optarg);
			break;
		case ':':
			s_bad_usage(def, "option needs a value", argv[optind - 1]);
			break;
		default:
			s_bad_usage(def, "unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		s_bad_usage(def, "unexpected argument", argv[optind]);
	if (want_files && a->n_files == 0)
		s_bad_usage(def, "--file needs at least one path", NULL);
	if (a->now != TIME_UNSET)
		time_set_now(a->now);
}

static int s_level_of(const char *name)
{
	if (name == NULL)
		return LOG_LVL_INFO;
	if (strcmp(name, "error") == 0)
		return LOG_LVL_ERROR;
	if (strcmp(name, "warn") == 0)
		return LOG_LVL_WARN;
	if (strcmp(name, "debug") == 0)
		return LOG_LVL_DEBUG;
	return LOG_LVL_INFO;
}

conf_t *stage_load_conf(const struct stage_def *def, const struct stage_args *a)
{
	const char *path = a->conf_path != NULL ? a->conf_path : conf_default_path();
	static char errs[16384];
	conf_t *c;
	int level;

	log_init(def->name, LOG_LVL_INFO);
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL) {
		fputs(errs, stderr);
		if (errs[0] != '\0' && errs[strlen(errs) - 1] != '\n')
			fputc('\n', stderr);
		exit(2);
	}
	if (a->check_only) {
		char err[512];
		curve_t *cv = NULL;
		/* Keys and key lists are checked here too: -n promises a config
		 * the stage will start with. */
		if (curve_from_conf(c, &cv, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", conf_file(c) ? conf_file(c) : "(defaults)",
			        err);
			conf_free(&c);
			exit(2);
		}
		curve_free(&cv);
		printf("configuration OK\n");
		conf_free(&c);
		exit(0);
	}
	level = s_level_of(conf_str(c, "log_level")) + a->verbose;
	log_set_level(level > LOG_LVL_DEBUG ? LOG_LVL_DEBUG : level);
	return c;
}

int stage_wire_opts(const conf_t *c, const struct stage_def *def, const struct stage_args *a,
                    struct stage_wire *sw)
{
	char key[64];
	struct wire_opts *o = &sw->opts;

	memset(sw, 0, sizeof(*sw));
	o->stage = def->name;
	o->run_dir = conf_str(c, "run_dir");
	o->hwm = (int)conf_int(c, "wire.hwm");
	o->tap_hwm = (int)conf_int(c, "wire.tap_hwm");
	o->max_msg_bytes = (int)conf_int(c, "wire.max_msg_bytes");
	o->linger_ms = (int)conf_int(c, "wire.linger_ms");
	o->drain_ms = (int)conf_int(c, "wire.drain_ms");
	o->stats_interval_ms = (int)conf_int(c, "wire.stats_interval_ms");

	if (def->flags & STAGE_ARG_IN) {
		snprintf(key, sizeof(key), "%s.in", def->name);
		o->in = a->in != NULL ? a->in : conf_str(c, key);
	}
	snprintf(key, sizeof(key), "%s.tap", def->name);
	o->tap = a->tap != NULL ? a->tap : conf_str(c, key);
	if (o->tap != NULL && o->tap[0] == '\0')
		o->tap = NULL;

	if (a->out != NULL) {
		char *save = NULL, *tok;
		if (strlen(a->out) >= sizeof(sw->outbuf)) {
			fprintf(stderr, "coattail-%s: --out too long\n", def->name);
			return -1;
		}
		strcpy(sw->outbuf, a->out);
		for (tok = strtok_r(sw->outbuf, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			if (o->n_out == sizeof(sw->out) / sizeof(sw->out[0])) {
				fprintf(stderr, "coattail-%s: more than 16 --out endpoints\n",
				        def->name);
				return -1;
			}
			sw->out[o->n_out++] = tok;
		}
	} else {
		const char *const *items;
		size_t n;
		snprintf(key, sizeof(key), "%s.out", def->name);
		n = conf_strlist(c, key, &items);
		if (n > sizeof(sw->out) / sizeof(sw->out[0])) {
			fprintf(stderr, "coattail-%s: more than 16 output endpoints\n", def->name);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			sw->out[o->n_out++] = items[i];
	}
	o->out = sw->out;
	return 0;
}

void stage_log_startup(const conf_t *c, const struct stage_def *def, const struct wire_opts *o)
{
	char outs[1024] = "";
	size_t used = 0;

	for (size_t i = 0; i < o->n_out && used < sizeof(outs); i++)
		used += (size_t)snprintf(outs + used, sizeof(outs) - used, "%s%s", i ? "," : "",
		                         o->out[i]);
	log_info("coattail-%s %s starting: config %s, in %s, out %s, tap %s, run_dir %s, "
	         "state_dir %s",
	         def->name, COATTAIL_VERSION, conf_file(c) ? conf_file(c) : "(defaults)",
	         o->in ? o->in : "-", o->n_out ? outs : "(none)", o->tap ? o->tap : "(none)",
	         o->run_dir ? o->run_dir : "?", conf_str(c, "state_dir"));
}

/*
 * malloc's trimming.  ZeroMQ's I/O thread allocates each batch it reads in
 * a malloc arena of its own, and the stage's thread frees the messages; the
 * top of that arena empties and fills again every few batches, and with
 * glibc's default threshold (128 KiB, raised only by large allocations)
 * every emptying handed the pages back to the kernel (madvise), to be
 * faulted in again by the next batch.  In the decider that was ~120 madvise
 * calls and ~1,500 page faults per 300,000 trades (BENCHMARKS.md).  Up to
 * 1 MiB kept free at the top of an arena ends it; memory stays flat.
 */
#define STAGE_TRIM_THRESHOLD (1024 * 1024)

int stage_main(const struct stage_def *def, int argc, char **argv, stage_run_fn run)
{
	struct stage_args a;
	struct stage_wire sw;
	char err[1024];
	conf_t *c;
	wire_t *w;
	int rc;

	stage_parse_args(def, argc, argv, &a);
	c = stage_load_conf(def, &a);
	if (stage_wire_opts(c, def, &a, &sw) != 0) {
		conf_free(&c);
		return 2;
	}
	if (curve_from_conf(c, &sw.opts.curve, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", conf_file(c) ? conf_file(c) : "(defaults)", err);
		conf_free(&c);
		return 2;
	}
	stage_log_startup(c, def, &sw.opts);
	if (mallopt(M_TRIM_THRESHOLD, STAGE_TRIM_THRESHOLD) != 1)
		log_debug("mallopt(M_TRIM_THRESHOLD) refused; malloc trims as it likes");
	w = wire_new(&sw.opts, err, sizeof(err));
	if (w == NULL) {
		log_warnx("%s", err);
		curve_free(&sw.opts.curve);
		conf_free(&c);
		return 1;
	}
	rc = run(c, &a, w);
	wire_free(&w);
	curve_free(&sw.opts.curve);
	conf_free(&c);
	log_info("exiting with status %d", rc);
	return rc;
}
