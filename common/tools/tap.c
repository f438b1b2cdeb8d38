/*
 * coattail-tap - watch the pipeline: subscribe to stage taps and print
 * every record as a JSON line.
 *
 *   coattail-tap [-c FILE] [--type T[,T...]] [--count N] [EP...]
 *
 * Without EP, subscribes to tap.endpoints, else to the four stage taps of
 * the config.  --type keeps only those record types (trade, intent, order,
 * drop, stats).  --count N exits after printing N records.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "conf.h"
#include "log.h"
#include "record.h"
#include "wire.h"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int signo)
{
	(void)signo;
	s_stop = 1;
}

static void s_usage(FILE *f)
{
	fprintf(f, "usage: coattail-tap [-c FILE] [--type T[,T...]] [--count N] [EP...]\n"
	           "  --type T   only these record types: trade,intent,order,drop,stats\n"
	           "  --count N  exit after N records\n"
	           "  EP         tap endpoints (default: tap.endpoints, else every stage's tap)\n");
}

static int s_connect(void *sock, const char *ep, const char *run_dir)
{
	char resolved[4096];

	if (wire_resolve_endpoint(ep, run_dir, resolved, sizeof(resolved)) != 0) {
		fprintf(stderr, "coattail-tap: bad endpoint '%s'\n", ep);
		return -1;
	}
	if (zmq_connect(sock, resolved) != 0) {
		fprintf(stderr, "coattail-tap: connect %s: %s\n", resolved, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const stage_taps[] = { "scraper.tap", "mapper.tap", "decider.tap",
		                                  "executor.tap" };
	const char *conf_path = NULL, *types = NULL;
	unsigned type_mask = 0;
	long count = -1, printed = 0;
	char errs[8192];
	conf_t *c;
	void *ctx, *sock;
	int ch, rc = 0;

	log_init("tap", LOG_LVL_INFO);
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 't':
			types = optarg;
			break;
		case 'N':
			count = strtol(optarg, NULL, 10);
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
		char *dup = strdup(types), *save = NULL;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			enum record_type rt = record_type_from_name(t);
			if (rt == REC_NONE) {
				fprintf(stderr, "coattail-tap: unknown record type '%s'\n", t);
				return 2;
			}
			type_mask |= 1u << rt;
		}
		free(dup);
	}
	c = conf_load(conf_path != NULL ? conf_path : conf_default_path(), errs, sizeof(errs));
	if (c == NULL) {
		fputs(errs, stderr);
		return 2;
	}
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_SUB);
	zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "", 0);
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			if (s_connect(sock, argv[i], conf_str(c, "run_dir")) != 0)
				return 2;
	} else {
		const char *const *eps;
		size_t n = conf_strlist(c, "tap.endpoints", &eps);
		for (size_t i = 0; i < n; i++)
			if (s_connect(sock, eps[i], conf_str(c, "run_dir")) != 0)
				return 2;
		for (size_t i = 0; n == 0 && i < 4; i++) {
			const char *ep = conf_str(c, stage_taps[i]);
			if (ep != NULL && ep[0] != '\0' &&
			    s_connect(sock, ep, conf_str(c, "run_dir")) != 0)
				return 2;
		}
	}
	signal(SIGINT, s_on_signal);
	signal(SIGTERM, s_on_signal);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (!s_stop && (count < 0 || printed < count)) {
		char err[256];
		char *js;
		size_t jlen;
		record_t r;
		zmq_msg_t msg;

		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, sock, 0) < 0) {
			zmq_msg_close(&msg);
			if (errno == EINTR)
				continue;
			rc = 1;
			break;
		}
		/* Taps are outside data too: decode with every check before printing. */
		if (record_from_msgpack(zmq_msg_data(&msg), zmq_msg_size(&msg), &r, err,
		                        sizeof(err)) != 0) {
			fprintf(stderr, "coattail-tap: bad record: %s\n", err);
		} else {
			if (type_mask == 0 || (type_mask & (1u << r.type))) {
				if (record_msgpack_to_json(zmq_msg_data(&msg), zmq_msg_size(&msg),
				                           &js, &jlen, err, sizeof(err)) == 0) {
					if (printf("%s\n", js) < 0)
						s_stop = 1;
					free(js);
					printed++;
				}
			}
			record_free(&r);
		}
		zmq_msg_close(&msg);
	}
	zmq_close(sock);
	zmq_ctx_term(ctx);
	conf_free(&c);
	return rc;
}
