/*
 * curve.c - CURVE keys, the client allow-list and the ZAP handler thread.
 */
#include "curve.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zmq_load.h" /* libzmq by its own names: loaded here when CURVE is on */

#define KEY_BIN     32
#define KEY_Z85     40
#define LABEL_MAX   64
#define ZAP_FRAMES  8 /* version .. credentials: 7 for CURVE, one spare */
#define ZAP_POLL_MS 200

struct curve_peer {
	uint8_t key[KEY_BIN];
	char z85[KEY_Z85 + 1];
	char label[LABEL_MAX]; /* "name" of "KEY name", or "" */
};

struct curve_server {
	char *endpoint; /* "tcp://host:port" as written */
	uint8_t key[KEY_BIN];
};

struct curve {
	uint8_t secret[KEY_BIN];
	uint8_t public_key[KEY_BIN];
	char public_z85[KEY_Z85 + 1];
	struct curve_peer *allow;
	size_t n_allow;
	struct curve_server *servers;
	size_t n_servers;

	/* the ZAP handler */
	void *zap;
	pthread_t zap_thread;
	bool zap_running;
	atomic_bool zap_stop;
	struct log_limit refused_limit;
};

bool curve_is_tcp(const char *ep)
{
	return ep != NULL && strncmp(ep, "tcp://", 6) == 0;
}

/* Decode 40 characters of Z85 at s (not necessarily NUL-terminated). */
static int s_decode_key(const char *s, size_t len, uint8_t out[KEY_BIN])
{
	char tmp[KEY_Z85 + 1];

	if (len != KEY_Z85)
		return -1;
	memcpy(tmp, s, KEY_Z85);
	tmp[KEY_Z85] = '\0';
	return zmq_z85_decode(out, tmp) != NULL ? 0 : -1;
}

/* Split "WORD rest" at the first run of blanks; *rest is "" when absent. */
static size_t s_first_word(const char *s, const char **rest)
{
	size_t n = strcspn(s, " \t");
	const char *r = s + n;

	while (*r == ' ' || *r == '\t')
		r++;
	*rest = r;
	return n;
}

static int s_load_allow(const conf_t *c, struct curve *cv, char *err, size_t errlen)
{
	const char *const *items;
	size_t n = conf_strlist(c, "wire.curve_allow", &items);

	cv->allow = calloc(n ? n : 1, sizeof(*cv->allow));
	if (cv->allow == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct curve_peer *p = &cv->allow[cv->n_allow];
		const char *label;
		size_t klen = s_first_word(items[i], &label);

		if (s_decode_key(items[i], klen, p->key) != 0) {
			snprintf(err, errlen,
			         "wire.curve_allow: entry %zu: \"%.*s\" is not a public key (40 "
			         "characters of Z85, as coattail-keygen prints)",
			         i + 1, (int)(klen > 48 ? 48 : klen), items[i]);
			return -1;
		}
		if (strlen(label) >= LABEL_MAX) {
			snprintf(err, errlen,
			         "wire.curve_allow: entry %zu: name longer than %d bytes", i + 1,
			         LABEL_MAX - 1);
			return -1;
		}
		memcpy(p->z85, items[i], KEY_Z85);
		p->z85[KEY_Z85] = '\0';
		snprintf(p->label, sizeof(p->label), "%s", label);
		cv->n_allow++;
	}
	return 0;
}

static int s_load_servers(const conf_t *c, struct curve *cv, char *err, size_t errlen)
{
	const char *const *items;
	size_t n = conf_strlist(c, "wire.curve_servers", &items);

	cv->servers = calloc(n ? n : 1, sizeof(*cv->servers));
	if (cv->servers == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct curve_server *s = &cv->servers[cv->n_servers];
		const char *key;
		size_t elen = s_first_word(items[i], &key);

		if (elen <= 6 || !curve_is_tcp(items[i])) {
			snprintf(err, errlen,
			         "wire.curve_servers: entry %zu: \"%.48s\" does not start with a "
			         "tcp:// endpoint (\"tcp://HOST:PORT KEY\")",
			         i + 1, items[i]);
			return -1;
		}
		if (s_decode_key(key, strlen(key), s->key) != 0) {
			snprintf(
			    err, errlen,
			    "wire.curve_servers: entry %zu: the key after %.*s is not a public "
			    "key (40 characters of Z85)",
			    i + 1, (int)elen, items[i]);
			return -1;
		}
		s->endpoint = strndup(items[i], elen);
		if (s->endpoint == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		cv->n_servers++;
	}
	return 0;
}

int curve_from_conf(const conf_t *c, curve_t **out, char *err, size_t errlen)
{
	char sk[KEY_Z85 + 8], why[256];
	struct curve *cv;
	int rc;

	*out = NULL;
	rc = conf_secret(c, "wire.curve_secret_key", sk, sizeof(sk), why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "wire.curve_secret_key: %s", why);
		return -1;
	}
	if (rc == 0)
		return 0;
	/* The public key is derived, and keys decoded, by libzmq. */
	if (zmq_load(why, sizeof(why)) != 0) {
		explicit_bzero(sk, sizeof(sk));
		snprintf(err, errlen, "wire.curve_secret_key is set but %s", why);
		return -1;
	}
	if (!zmq_has("curve")) {
		explicit_bzero(sk, sizeof(sk));
		snprintf(err, errlen, "wire.curve_secret_key is set but this libzmq has no CURVE");
		return -1;
	}
	cv = calloc(1, sizeof(*cv));
	if (cv == NULL) {
		explicit_bzero(sk, sizeof(sk));
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cv->refused_limit = (struct log_limit)LOG_LIMIT_INIT(60, 10);
	atomic_init(&cv->zap_stop, false);
	if (s_decode_key(sk, strlen(sk), cv->secret) != 0 ||
	    zmq_curve_public(cv->public_z85, sk) != 0) {
		explicit_bzero(sk, sizeof(sk));
		snprintf(err, errlen,
		         "wire.curve_secret_key: not a secret key (40 characters of Z85, as "
		         "coattail-keygen writes)");
		curve_free(&cv);
		return -1;
	}
	explicit_bzero(sk, sizeof(sk));
	if (zmq_z85_decode(cv->public_key, cv->public_z85) == NULL ||
	    s_load_allow(c, cv, err, errlen) != 0 || s_load_servers(c, cv, err, errlen) != 0) {
		curve_free(&cv);
		return -1;
	}
	*out = cv;
	return 0;
}

const char *curve_public_key(const curve_t *cv)
{
	return cv->public_z85;
}

size_t curve_n_allowed(const curve_t *cv)
{
	return cv->n_allow;
}

/* ---- the ZAP handler (RFC 27) ---- */

struct zap_request {
	zmq_msg_t frames[ZAP_FRAMES];
	int n;
	bool truncated; /* more frames than ZAP_FRAMES */
};

static bool s_frame_is(zmq_msg_t *m, const char *s)
{
	size_t n = strlen(s);
	return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

/* Copy a frame into buf as printable text (for log lines). */
static void s_frame_text(zmq_msg_t *m, char *buf, size_t len)
{
	const unsigned char *d = zmq_msg_data(m);
	size_t n = zmq_msg_size(m), j = 0;

	for (size_t i = 0; i < n && j + 1 < len; i++)
		buf[j++] = d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '?';
	buf[j] = '\0';
}

static const struct curve_peer *s_allowed(const struct curve *cv, const uint8_t *key)
{
	for (size_t i = 0; i < cv->n_allow; i++)
		if (memcmp(cv->allow[i].key, key, KEY_BIN) == 0)
			return &cv->allow[i];
	return NULL;
}

static void s_send_frame(void *sock, const void *data, size_t len, bool more)
{
	(void)zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0);
}

/*
 * Answer one request: frames are version, request id, domain, address,
 * routing id, mechanism, and for CURVE the client's 32-byte public key.
 * 200 admits the client, 400 refuses it; anything malformed is refused.
 */
static void s_zap_answer(struct curve *cv, struct zap_request *q)
{
	const struct curve_peer *peer = NULL;
	const char *status = "400", *text = "key not allowed";
	char addr[64] = "?", keyz[KEY_Z85 + 1] = "?";

	if (q->n >= 4)
		s_frame_text(&q->frames[3], addr, sizeof(addr));
	if (q->n != 7 || q->truncated || !s_frame_is(&q->frames[0], "1.0")) {
		text = "malformed ZAP request";
	} else if (!s_frame_is(&q->frames[5], "CURVE") || zmq_msg_size(&q->frames[6]) != KEY_BIN) {
		text = "CURVE required";
	} else {
		zmq_z85_encode(keyz, zmq_msg_data(&q->frames[6]), KEY_BIN);
		peer = s_allowed(cv, zmq_msg_data(&q->frames[6]));
		if (peer != NULL) {
			status = "200";
			text = "OK";
		}
	}
	if (peer != NULL)
		log_info("CURVE client %s%s%s%s connected from %s", keyz,
		         peer->label[0] ? " (" : "", peer->label, peer->label[0] ? ")" : "", addr);
	else
		log_warnx_limited(&cv->refused_limit,
		                  "refused a connection from %s: client key %s: %s "
		                  "(wire.curve_allow lists %zu key%s)",
		                  addr, keyz, text, cv->n_allow, cv->n_allow == 1 ? "" : "s");

	/* Always answer: a REP socket that skips a reply can receive nothing
	 * more.  A request too short to carry an id gets an empty one. */
	s_send_frame(cv->zap, "1.0", 3, true);
	if (q->n >= 2)
		s_send_frame(cv->zap, zmq_msg_data(&q->frames[1]), zmq_msg_size(&q->frames[1]),
		             true);
	else
		s_send_frame(cv->zap, "", 0, true);
	s_send_frame(cv->zap, status, 3, true);
	s_send_frame(cv->zap, text, strlen(text), true);
	s_send_frame(cv->zap, peer != NULL ? peer->label : "",
	             peer != NULL ? strlen(peer->label) : 0, true);
	s_send_frame(cv->zap, "", 0, false);
}

/* Read one multi-part request (the REP socket delivers it whole). */
static int s_zap_read(void *sock, struct zap_request *q)
{
	int more = 1;
	size_t sz = sizeof(more);

	q->n = 0;
	q->truncated = false;
	while (more) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return q->n > 0 ? 0 : -1;
		}
		zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
		if (q->n < ZAP_FRAMES)
			q->frames[q->n++] = m;
		else {
			q->truncated = true;
			zmq_msg_close(&m);
		}
	}
	return 0;
}

static void *s_zap_main(void *arg)
{
	struct curve *cv = arg;

	while (!atomic_load(&cv->zap_stop)) {
		zmq_pollitem_t it = { cv->zap, 0, ZMQ_POLLIN, 0 };
		struct zap_request q;
		int rc = zmq_poll(&it, 1, ZAP_POLL_MS);

		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0 || s_zap_read(cv->zap, &q) != 0)
			continue;
		s_zap_answer(cv, &q);
		for (int i = 0; i < q.n; i++)
			zmq_msg_close(&q.frames[i]);
	}
	return NULL;
}

/* Bind the handler's REP socket in ctx and start its thread, signals
 * blocked (they belong to the stage's main loop). */
static int s_zap_start(struct curve *cv, void *ctx, char *err, size_t errlen)
{
	sigset_t all, old;
	int linger = 0, rc;

	cv->zap = zmq_socket(ctx, ZMQ_REP);
	if (cv->zap == NULL) {
		snprintf(err, errlen, "ZAP handler: zmq_socket: %s", zmq_strerror(errno));
		return -1;
	}
	zmq_setsockopt(cv->zap, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(cv->zap, "inproc://zeromq.zap.01") != 0) {
		snprintf(err, errlen, "ZAP handler: bind inproc://zeromq.zap.01: %s",
		         zmq_strerror(errno));
		zmq_close(cv->zap);
		cv->zap = NULL;
		return -1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&cv->zap_thread, NULL, s_zap_main, cv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "ZAP handler: pthread_create: %s", strerror(rc));
		zmq_close(cv->zap);
		cv->zap = NULL;
		return -1;
	}
	cv->zap_running = true;
	log_info("CURVE on: public key %s; %zu client key%s allowed", cv->public_z85, cv->n_allow,
	         cv->n_allow == 1 ? "" : "s");
	if (cv->n_allow == 0)
		log_warnx("wire.curve_allow is empty: no client can connect to a tcp:// endpoint "
		          "of this process");
	return 0;
}

void curve_stop(curve_t *cv)
{
	if (cv == NULL || cv->zap == NULL)
		return;
	if (cv->zap_running) {
		atomic_store(&cv->zap_stop, true);
		pthread_join(cv->zap_thread, NULL);
		cv->zap_running = false;
	}
	zmq_close(cv->zap);
	cv->zap = NULL;
}

void curve_free(curve_t **cvp)
{
	curve_t *cv;

	if (cvp == NULL || (cv = *cvp) == NULL)
		return;
	curve_stop(cv);
	for (size_t i = 0; i < cv->n_servers; i++)
		free(cv->servers[i].endpoint);
	free(cv->servers);
	free(cv->allow);
	explicit_bzero(cv->secret, sizeof(cv->secret));
	free(cv);
	*cvp = NULL;
}

/* ---- sockets ---- */

int curve_prepare_bind(curve_t *cv, void *ctx, void *sock, const char *ep, char *err, size_t errlen)
{
	int one = 1;

	if (cv == NULL || !curve_is_tcp(ep))
		return 0;
	if (cv->zap == NULL && s_zap_start(cv, ctx, err, errlen) != 0)
		return -1;
	if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, cv->secret, KEY_BIN) != 0 ||
	    zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "coattail", 8) != 0) {
		snprintf(err, errlen, "CURVE server %s: %s", ep, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

int curve_prepare_connect(curve_t *cv, void *sock, const char *ep, char *err, size_t errlen)
{
	const struct curve_server *srv = NULL;

	if (cv == NULL || !curve_is_tcp(ep)) {
		/* Back to the NULL mechanism in case an earlier connect of this
		 * socket made it a CURVE client (a NULL username does that). */
		if (zmq_setsockopt(sock, ZMQ_PLAIN_USERNAME, NULL, 0) != 0) {
			snprintf(err, errlen, "reset security of %s: %s", ep, zmq_strerror(errno));
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < cv->n_servers && srv == NULL; i++)
		if (strcmp(cv->servers[i].endpoint, ep) == 0)
			srv = &cv->servers[i];
	if (srv == NULL) {
		snprintf(err, errlen,
		         "%s: no server key; add \"%s KEY\" to wire.curve_servers (CURVE is on, "
		         "so tcp:// is never plain)",
		         ep, ep);
		return -1;
	}
	if (zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, cv->public_key, KEY_BIN) != 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, cv->secret, KEY_BIN) != 0 ||
	    zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, srv->key, KEY_BIN) != 0) {
		snprintf(err, errlen, "CURVE client %s: %s", ep, zmq_strerror(errno));
		return -1;
	}
	return 0;
}
