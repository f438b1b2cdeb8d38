/*
 * coattail-inject - push records from stdin into a stage's input endpoint.
 *
 *   coattail-inject [-c FILE] [--hex] EP < records.jsonl
 *
 * Each line is a JSON record; it is checked like any stage checks input and
 * sent as msgpack.  A bad line is reported as "stdin:LINE: reason" and
 * skipped; the exit status is then 1.  --hex sends each line's hex-decoded
 * bytes as they are, unchecked: for testing how stages treat hostile
 * messages.  Waits up to 30 s at the end for queued records to leave.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "record.h"
#include "wire.h"
#include "zmq_load.h"

static void s_usage(FILE *f)
{
	fprintf(f, "usage: coattail-inject [-c FILE] [--hex] EP < records.jsonl\n"
	           "  EP     a stage's input endpoint (tcp://, ipc://; a relative ipc path\n"
	           "         lives in the config's run_dir)\n"
	           "  --hex  send hex-encoded raw messages, unchecked (for tests)\n");
}

static int s_unhex(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
	size_t k = 0;

	if (n % 2 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]) ||
		    sscanf(s + i, "%2x", &v) != 1)
			return -1;
		out[k++] = (unsigned char)v;
	}
	*outlen = k;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hex", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL;
	char ep[4096], errs[8192];
	bool hex = false;
	long lineno = 0, sent = 0, bad = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	conf_t *c;
	curve_t *cv = NULL;
	void *ctx, *sock;
	int ch, linger = 30000, hwm = 10000;

	log_init("inject", LOG_LVL_INFO);
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'x':
			hex = true;
			break;
		case 'h':
			s_usage(stdout);
			return 0;
		default:
			s_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		s_usage(stderr);
		return 2;
	}
	c = conf_load(conf_path, errs, sizeof(errs));
	if (c == NULL) {
		fputs(errs, stderr);
		return 2;
	}
	if (wire_resolve_endpoint(argv[optind], conf_str(c, "run_dir"), ep, sizeof(ep)) != 0) {
		fprintf(stderr, "coattail-inject: bad endpoint '%s'\n", argv[optind]);
		return 2;
	}
	if (curve_from_conf(c, &cv, errs, sizeof(errs)) != 0) {
		fprintf(stderr, "coattail-inject: %s\n", errs);
		conf_free(&c);
		return 2;
	}
	conf_free(&c);
	if (zmq_load(errs, sizeof(errs)) != 0) {
		fprintf(stderr, "coattail-inject: %s\n", errs);
		curve_free(&cv);
		return 1;
	}
	ctx = zmq_ctx_new();
	sock = zmq_socket(ctx, ZMQ_PUSH);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	if (curve_prepare_connect(cv, sock, ep, errs, sizeof(errs)) != 0) {
		fprintf(stderr, "coattail-inject: %s\n", errs);
		return 2;
	}
	curve_free(&cv); /* the socket holds its own copy of the keys */
	if (zmq_connect(sock, ep) != 0) {
		fprintf(stderr, "coattail-inject: connect %s: %s\n", ep, zmq_strerror(errno));
		return 1;
	}
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		char err[256];
		char *mp = NULL;
		size_t len = 0;
		record_t r;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (hex) {
			mp = malloc((size_t)n / 2 + 1);
			if (mp == NULL ||
			    s_unhex(line, (size_t)n, (unsigned char *)mp, &len) != 0) {
				fprintf(stderr, "stdin:%ld: not hex\n", lineno);
				free(mp);
				bad++;
				continue;
			}
		} else {
			if (record_from_json(line, (size_t)n, &r, err, sizeof(err)) != 0) {
				fprintf(stderr, "stdin:%ld: %s\n", lineno, err);
				bad++;
				continue;
			}
			if (record_to_msgpack(&r, &mp, &len, err, sizeof(err)) != 0) {
				fprintf(stderr, "stdin:%ld: %s\n", lineno, err);
				record_free(&r);
				bad++;
				continue;
			}
			record_free(&r);
		}
		while (zmq_send(sock, mp, len, 0) < 0 && errno == EINTR)
			;
		free(mp);
		sent++;
	}
	free(line);
	zmq_close(sock);
	zmq_ctx_term(ctx);
	fprintf(stderr, "coattail-inject: %ld sent, %ld refused\n", sent, bad);
	return bad > 0 ? 1 : 0;
}
