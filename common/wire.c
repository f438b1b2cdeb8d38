/*
 * wire.c - sockets, the signal self-pipe and the poll(2) loop of a stage
 * (wire.h).
 */
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"
#include "store.h"
#include "timeutil.h"
#include "zmq_load.h" /* libzmq by its own names, loaded by the first socket */

#define RECV_BATCH   1024 /* records taken per loop turn before on_idle */
#define MAX_LOCKS    4
#define STDIN_BUFSZ  (2 * RECORD_MAX_BYTES + 2)
#define STATS_LOG_MS 60000
#define TAP_CHECK_MS 20 /* see s_tap_listened */

struct wire {
	struct wire_opts o;
	void *ctx;              /* NULL: no socket, libzmq maybe never loaded */
	void *in;               /* PULL, or NULL */
	void *out;              /* PUSH, or NULL */
	void *tap;              /* XPUB, or NULL */
	int in_fd, tap_fd;      /* their ZMQ_FD (s_wait), or -1 */
	bool in_unread;         /* in may hold messages its ZMQ_FD will not announce */
	bool tap_unread;        /* the tap may hold subscriptions its ZMQ_FD will not announce */
	int tap_topics;         /* subscriptions the tap holds: 0 means nobody listens */
	int64_t tap_checked_ms; /* when subscriptions were last known (s_tap_listened) */
	bool in_stdin, out_stdout;
	FILE *stdout_f;
	int lock_fds[MAX_LOCKS];
	int n_locks;

	/* stdin line assembly */
	char *line;
	size_t line_len;
	bool line_overflow;
	long lineno; /* lines read from stdin, for messages */
	bool eof;

	bool finish;
	int64_t stop_deadline_ms; /* 0 until a stop was requested */
	struct wire_counts counts;
	struct wire_counts logged; /* counts at the last periodic log line */
	int64_t next_stats_ms, next_log_ms, next_watchdog_ms;
	struct log_limit drop_limit, send_limit;
	bool out_broken; /* stdout failed (EPIPE): stop, exit 1 */

	/* the message being delivered to on_record (wire_input_msgpack) */
	const void *cur_mp;
	size_t cur_len;
	struct record_mp_info cur_info;
	char *stdin_mp; /* RECORD_MAX_BYTES: a stdin record's msgpack, once one was read */
};

static int s_sigpipe[2] = { -1, -1 };
static volatile sig_atomic_t s_stop;

static void s_on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;

	if (signo == SIGTERM || signo == SIGINT)
		s_stop = 1;
	if (s_sigpipe[1] >= 0)
		(void)!write(s_sigpipe[1], &b, 1);
	errno = saved;
}

static int s_install_signals(char *err, size_t errlen)
{
	struct sigaction sa;

	if (s_sigpipe[0] < 0 && pipe2(s_sigpipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = s_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int wire_resolve_endpoint(const char *ep, const char *run_dir, char *buf, size_t len)
{
	int n;

	if (strncmp(ep, "ipc://", 6) == 0) {
		const char *path = ep + 6;
		if (path[0] == '\0')
			return -1;
		if (path[0] == '/' || path[0] == '@' || run_dir == NULL)
			n = snprintf(buf, len, "%s", ep);
		else
			n = snprintf(buf, len, "ipc://%s/%s", run_dir, path);
	} else if (strncmp(ep, "tcp://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0) {
		n = snprintf(buf, len, "%s", ep);
	} else {
		return -1;
	}
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* Lock "<path>.lock" for an ipc endpoint this process binds.  The lock lives
 * as long as the process, so a second instance is refused even after the
 * first one's socket file was removed. */
static int s_lock_ipc(wire_t *w, const char *resolved, char *err, size_t errlen)
{
	char lockpath[4200];
	int fd;

	if (strncmp(resolved, "ipc://", 6) != 0 || resolved[6] == '@')
		return 0;
	if (w->n_locks >= MAX_LOCKS) {
		snprintf(err, errlen, "too many ipc endpoints");
		return -1;
	}
	snprintf(lockpath, sizeof(lockpath), "%s.lock", resolved + 6);
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", lockpath, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen,
		         "%s is in use by another process (lock %s held); is another %s "
		         "running?",
		         resolved, lockpath, w->o.stage);
		close(fd);
		return -1;
	}
	w->lock_fds[w->n_locks++] = fd;
	return 0;
}

static int s_setopt_int(void *sock, int opt, int val)
{
	return zmq_setsockopt(sock, opt, &val, sizeof(val));
}

/*
 * A socket with ZMQ_LINGER, the HWMs and ZMQ_MAXMSGSIZE set explicitly
 * (DESIGN.md "Sockets"), and nothing else.  Against the CPU of the ZeroMQ
 * I/O threads (2.3-3.2 CPU-seconds per 1M trades in the pipeline bench,
 * 60% of it in the kernel), the rest was measured and left out
 * (BENCHMARKS.md, "Findings"):
 *  - The I/O threads already write and read full batches: 85-98% of their
 *    sendto/recvfrom calls move exactly 8192 bytes, libzmq's out and in
 *    batch size (per 1M trades ~46,000 reads in the mapper, trades of ~360
 *    bytes, and ~73,000 writes out of it, ~590 bytes with the instrument).
 *    ZMQ_OUT_BATCH_SIZE and ZMQ_IN_BATCH_SIZE, which would raise that, are
 *    draft options, and Debian's libzmq 4.3.4 is built without the draft
 *    API: zmq_setsockopt refuses them (EINVAL).
 *  - ZMQ_SNDBUF/ZMQ_RCVBUF (32 KiB, 1 MiB): the writes stay 8 KiB; no
 *    change beyond noise, on the relay or the pipeline.
 *  - ZMQ_THREAD_SCHED_POLICY SCHED_BATCH for the I/O thread: the same
 *    writes, no less CPU.  ZMQ_IO_THREADS 2: no less CPU.
 *    ZMQ_THREAD_PRIORITY renices the I/O thread to -20, which an
 *    unprivileged process may not: libzmq aborts ("Operation not
 *    permitted", thread.cpp).
 *  - Holding a turn's output to send it in one burst: 72,600 writes per 1M
 *    trades out of the mapper instead of 74,100.
 *  - Sending from a pool of buffers (zmq_msg_init_data), so that the I/O
 *    thread does not free into the main thread's malloc arena: the
 *    mapper's futex calls fell from 50,000-70,000 to ~450 per 1M trades,
 *    its CPU not measurably.
 */
static void *s_socket(wire_t *w, int type, int hwm, char *err, size_t errlen)
{
	void *s = zmq_socket(w->ctx, type);
	int64_t maxmsg = w->o.max_msg_bytes;

	if (s == NULL) {
		snprintf(err, errlen, "zmq_socket: %s", zmq_strerror(errno));
		return NULL;
	}
	s_setopt_int(s, ZMQ_LINGER, w->o.linger_ms);
	s_setopt_int(s, ZMQ_SNDHWM, hwm);
	s_setopt_int(s, ZMQ_RCVHWM, hwm);
	zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
	return s;
}

static int s_bind(wire_t *w, void *sock, const char *ep, char *err, size_t errlen)
{
	char resolved[4096];

	if (wire_resolve_endpoint(ep, w->o.run_dir, resolved, sizeof(resolved)) != 0) {
		snprintf(err, errlen, "bad endpoint '%s' (tcp://, ipc:// or inproc://)", ep);
		return -1;
	}
	if (s_lock_ipc(w, resolved, err, errlen) != 0)
		return -1;
	if (curve_prepare_bind(w->o.curve, w->ctx, sock, resolved, err, errlen) != 0)
		return -1;
	if (zmq_bind(sock, resolved) != 0) {
		snprintf(err, errlen, "bind %s: %s", resolved, zmq_strerror(errno));
		return -1;
	}
	if (curve_is_tcp(resolved) && w->o.curve == NULL)
		log_warnx("%s is plain tcp: unencrypted and open to anyone who can reach it; "
		          "set wire.curve_secret_key (README: \"Scaling a stage across hosts\")",
		          resolved);
	log_debug("bound %s%s", resolved,
	          curve_is_tcp(resolved) && w->o.curve != NULL ? " (CURVE)" : "");
	return 0;
}

/* Connect the PUSH socket to one resolved endpoint, CURVE or plain. */
static int s_connect(wire_t *w, const char *resolved, char *err, size_t errlen)
{
	if (curve_prepare_connect(w->o.curve, w->out, resolved, err, errlen) != 0)
		return -1;
	if (zmq_connect(w->out, resolved) != 0) {
		snprintf(err, errlen, "connect %s: %s", resolved, zmq_strerror(errno));
		return -1;
	}
	if (curve_is_tcp(resolved) && w->o.curve == NULL)
		log_warnx("%s is plain tcp: unencrypted and unauthenticated; set "
		          "wire.curve_secret_key and wire.curve_servers",
		          resolved);
	return 0;
}

static bool s_needs_run_dir(const struct wire_opts *o)
{
	const char *eps[2] = { o->in, o->tap };

	for (size_t i = 0; i < 2; i++)
		if (eps[i] != NULL && strncmp(eps[i], "ipc://", 6) == 0 && eps[i][6] != '/' &&
		    eps[i][6] != '@')
			return true;
	for (size_t i = 0; i < o->n_out; i++)
		if (strncmp(o->out[i], "ipc://", 6) == 0 && o->out[i][6] != '/' &&
		    o->out[i][6] != '@')
			return true;
	return false;
}

/* Whether the wire has a socket: an input that is not stdin, an output
 * that is not stdout alone, or a tap.  Only then is libzmq loaded and a
 * context made. */
static bool s_needs_zmq(const struct wire_opts *o)
{
	if (o->in != NULL && strcmp(o->in, "-") != 0)
		return true;
	if (o->n_out > 1 || (o->n_out == 1 && strcmp(o->out[0], "-") != 0))
		return true;
	return o->tap != NULL && o->tap[0] != '\0';
}

/* A socket's ZMQ_FD, or -1. */
static int s_zmq_fd(void *sock)
{
	int fd = -1;
	size_t len = sizeof(fd);

	if (sock == NULL || zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0)
		return -1;
	return fd;
}

/*
 * The loop's one wait: poll(2) over file descriptors, the sockets among
 * them by their ZMQ_FD, rather than zmq_poll.  zmq_poll looks at every
 * socket's ZMQ_EVENTS with a poll() of no timeout before it sleeps and
 * again after, each look a getpid() and a poll() of the socket's mailbox:
 * about eight system calls a loop turn, paid on every record's way through
 * every stage (~1.2 us each on the bench machine; BENCHMARKS.md, finding
 * 22).  A ZMQ_FD only becomes readable when commands reach the socket's
 * mailbox, so it says nothing of messages already queued: the loop reads
 * the input until EAGAIN (which processes every command and leaves the
 * descriptor to announce the next message), and while it has stopped
 * short of that (in_unread: a full batch, input_ready() false, EINTR) it
 * reads again without sleeping.  The tap likewise: a send on it may take
 * the command that announced a subscription, so its subscriptions are
 * read once more before the next sleep (tap_unread).  Returns poll's
 * result.
 */
static int s_wait(struct pollfd *pfd, int n, int64_t timeout)
{
	return poll(pfd, (nfds_t)n, timeout < 0 ? -1 : timeout > INT_MAX ? INT_MAX : (int)timeout);
}

wire_t *wire_new(const struct wire_opts *o, char *err, size_t errlen)
{
	wire_t *w = calloc(1, sizeof(*w));

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->o = *o;
	w->in_fd = w->tap_fd = -1;
	w->drop_limit = (struct log_limit)LOG_LIMIT_INIT(10, 10);
	w->send_limit = (struct log_limit)LOG_LIMIT_INIT(10, 5);
	if (s_install_signals(err, errlen) != 0)
		goto fail;
	if (s_needs_run_dir(o)) {
		if (o->run_dir == NULL || store_mkdirs(o->run_dir, 0700) != 0) {
			snprintf(err, errlen, "runtime directory %s: %s",
			         o->run_dir ? o->run_dir : "(unset)", strerror(errno));
			goto fail;
		}
	}
	if (s_needs_zmq(o)) {
		if (zmq_load(err, errlen) != 0)
			goto fail;
		w->ctx = zmq_ctx_new();
		if (w->ctx == NULL) {
			snprintf(err, errlen, "zmq_ctx_new: %s", zmq_strerror(errno));
			goto fail;
		}
	}
	if (o->in != NULL && strcmp(o->in, "-") == 0) {
		w->in_stdin = true;
		w->line = malloc(STDIN_BUFSZ);
		if (w->line == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
	} else if (o->in != NULL) {
		w->in = s_socket(w, ZMQ_PULL, o->hwm, err, errlen);
		if (w->in == NULL || s_bind(w, w->in, o->in, err, errlen) != 0)
			goto fail;
		w->in_fd = s_zmq_fd(w->in);
		w->in_unread = true;
		if (w->in_fd < 0) {
			snprintf(err, errlen, "ZMQ_FD: %s", zmq_strerror(errno));
			goto fail;
		}
	}
	if (o->n_out == 1 && strcmp(o->out[0], "-") == 0) {
		w->out_stdout = true;
		w->stdout_f = stdout;
		/* glibc sizes a buffer it allocates itself by st_blksize (4 KiB
		 * on a pipe) whatever size is asked: give it the 64 KiB. */
		static char stdout_buf[1 << 16];
		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	} else if (o->n_out > 0) {
		w->out = s_socket(w, ZMQ_PUSH, o->hwm, err, errlen);
		if (w->out == NULL)
			goto fail;
		for (size_t i = 0; i < o->n_out; i++) {
			char resolved[4096];
			if (strcmp(o->out[i], "-") == 0 ||
			    wire_resolve_endpoint(o->out[i], o->run_dir, resolved,
			                          sizeof(resolved)) != 0) {
				snprintf(err, errlen, "bad output endpoint '%s'", o->out[i]);
				goto fail;
			}
			if (s_connect(w, resolved, err, errlen) != 0)
				goto fail;
		}
	}
	if (o->tap != NULL && o->tap[0] != '\0') {
		/* XPUB rather than PUB: it tells us whether anyone subscribes,
		 * so a tap nobody watches costs no encoding (s_tap_read). */
		w->tap = s_socket(w, ZMQ_XPUB, o->tap_hwm, err, errlen);
		if (w->tap == NULL || s_bind(w, w->tap, o->tap, err, errlen) != 0)
			goto fail;
		s_setopt_int(w->tap, ZMQ_LINGER, 0);
		w->tap_fd = s_zmq_fd(w->tap);
		w->tap_unread = true;
		if (w->tap_fd < 0) {
			snprintf(err, errlen, "ZMQ_FD: %s", zmq_strerror(errno));
			goto fail;
		}
	}
	return w;
fail:
	wire_free(&w);
	return NULL;
}

void wire_free(wire_t **wp)
{
	wire_t *w = *wp;

	if (w == NULL)
		return;
	if (w->stdout_f != NULL)
		fflush(w->stdout_f);
	if (w->in != NULL) {
		s_setopt_int(w->in, ZMQ_LINGER, 0);
		zmq_close(w->in);
	}
	if (w->out != NULL) {
		/* Queued output gets drain_ms to reach the next stage, counted
		 * from the stop request: time s_push already waited for a full
		 * queue is not granted twice. */
		int linger = w->o.drain_ms;
		if (w->stop_deadline_ms != 0) {
			int64_t left = w->stop_deadline_ms - time_mono_ms();
			linger = left <= 0 ? 0 : left < linger ? (int)left : linger;
		}
		s_setopt_int(w->out, ZMQ_LINGER, linger);
		zmq_close(w->out);
	}
	if (w->tap != NULL)
		zmq_close(w->tap);
	curve_stop(w->o.curve); /* its ZAP socket would hold zmq_ctx_term forever */
	if (w->ctx != NULL)
		zmq_ctx_term(w->ctx);
	for (int i = 0; i < w->n_locks; i++)
		close(w->lock_fds[i]);
	free(w->line);
	free(w->stdin_mp);
	free(w);
	*wp = NULL;
}

/* ---- output ---- */

static void s_tap_read(wire_t *w);

/* Whether anyone subscribes to the tap.  Subscriptions are read when the
 * loop's poll finds the tap readable, and here too once a turn has gone on
 * for TAP_CHECK_MS since the poll or the last read, so a tap that
 * connects while a stage is busy in one long turn (a scraper cycle) starts
 * receiving within milliseconds, as with a plain PUB.  A shorter turn (a
 * pipeline stage's record) reads nothing here: a record that comes after a
 * quiet spell, as every intent does, does not pay two system calls for it
 * on its way. */
static bool s_tap_listened(wire_t *w)
{
	if (w->tap == NULL)
		return false;
	if (w->tap_topics == 0) {
		if (time_mono_ms() - w->tap_checked_ms >= TAP_CHECK_MS)
			s_tap_read(w);
	}
	return w->tap_topics > 0;
}

static void s_publish(wire_t *w, const void *buf, size_t len)
{
	if (s_tap_listened(w)) {
		(void)zmq_send(w->tap, buf, len, ZMQ_DONTWAIT);
		/* the send may have taken the commands that announced a
		 * subscription (s_wait) */
		w->tap_unread = true;
	}
}

/*
 * Read the subscription messages the XPUB tap queues (first byte 1:
 * subscribe, 0: unsubscribe, then the topic).  Without ZMQ_XPUB_VERBOSE a
 * topic's first subscription and its last unsubscription are passed, once
 * per topic, so the count is the number of topics someone holds; at zero
 * the tap's records would be dropped by ZeroMQ anyway, and are not built.
 */
static void s_tap_read(wire_t *w)
{
	unsigned char b[256];
	int n;

	while ((n = zmq_recv(w->tap, b, sizeof(b), ZMQ_DONTWAIT)) >= 0) {
		if (n >= 1 && b[0] == 1)
			w->tap_topics++;
		else if (n >= 1 && b[0] == 0 && w->tap_topics > 0)
			w->tap_topics--;
	}
	w->tap_unread = errno != EAGAIN;
	w->tap_checked_ms = time_mono_ms();
}

/*
 * Send one message on the PUSH socket.  While the high-water mark is reached
 * this waits, watching the signal pipe; once a stop was requested it gives up
 * at the drain deadline (the record is then lost here and comes again with
 * the scraper's next cycle: DESIGN.md "Delivery").
 */
static int s_push(wire_t *w, const void *buf, size_t len)
{
	for (;;) {
		zmq_pollitem_t items[2] = {
			{ w->out, 0, ZMQ_POLLOUT, 0 },
			{ NULL, s_sigpipe[0], ZMQ_POLLIN, 0 },
		};
		long timeout = 1000;

		if (zmq_send(w->out, buf, len, ZMQ_DONTWAIT) >= 0)
			return 0;
		if (errno != EAGAIN && errno != EINTR) {
			log_warnx("send: %s", zmq_strerror(errno));
			return -1;
		}
		if (s_stop) {
			int64_t now = time_mono_ms();
			if (w->stop_deadline_ms == 0)
				w->stop_deadline_ms = now + w->o.drain_ms;
			if (now >= w->stop_deadline_ms)
				return -1;
			timeout = (long)(w->stop_deadline_ms - now);
		}
		if (zmq_poll(items, s_stop ? 1 : 2, timeout) < 0 && errno != EINTR)
			return -1;
		if (items[1].revents & ZMQ_POLLIN) {
			unsigned char b[16];
			while (read(s_sigpipe[0], b, sizeof(b)) > 0)
				;
		}
	}
}

int wire_emit(wire_t *w, const record_t *r)
{
	char err[256];
	char *mp;
	size_t len;
	int rc;

	if (record_to_msgpack(r, &mp, &len, err, sizeof(err)) != 0) {
		log_warnx("not emitting an invalid %s record: %s", record_type_name(r->type), err);
		w->counts.errors++;
		return -1;
	}
	rc = wire_emit_encoded(w, r, mp, len);
	free(mp);
	return rc;
}

int wire_emit_encoded(wire_t *w, const record_t *r, const void *mp, size_t len)
{
	char err[256];
	int rc = 0;

	if (w->out_stdout) {
		char *js;
		size_t jlen;
		if (w->out_broken) {
			rc = -1;
		} else if (record_encoded_to_json(mp, len, &js, &jlen, err, sizeof(err)) == 0) {
			fwrite(js, 1, jlen, w->stdout_f);
			if (putc('\n', w->stdout_f) == EOF) {
				log_warn("stdout");
				w->out_broken = true;
				rc = -1;
			}
			free(js);
		} else {
			rc = -1;
		}
	} else if (w->out != NULL) {
		rc = s_push(w, mp, len);
	}
	if (rc == 0) {
		w->counts.out++;
		s_publish(w, mp, len);
	} else {
		w->counts.errors++;
		log_warnx("output: %s record %s not sent", record_type_name(r->type),
		          record_key(r) ? record_key(r) : "");
	}
	return rc;
}

void wire_tap(wire_t *w, const record_t *r)
{
	char err[256];
	char *mp;
	size_t len;

	if (!s_tap_listened(w))
		return;
	if (record_to_msgpack(r, &mp, &len, err, sizeof(err)) != 0) {
		log_warnx("tap: invalid %s record: %s", record_type_name(r->type), err);
		return;
	}
	s_publish(w, mp, len);
	free(mp);
}

/* Publish a drop record and count it; the caller logs. */
static void s_drop(wire_t *w, const char *key, const char *reason)
{
	record_t r;

	w->counts.dropped++;
	record_init(&r, REC_DROP);
	r.u.drop.stage = (char *)w->o.stage;
	r.u.drop.key = (char *)key;
	r.u.drop.reason = (char *)reason;
	/* A key from outside may be invalid UTF-8; then publish without it. */
	if (key != NULL && !record_utf8_valid(key, strlen(key)))
		r.u.drop.key = NULL;
	wire_tap(w, &r);
}

void wire_drop(wire_t *w, const char *key, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	log_warnx_limited(&w->drop_limit, "dropped %s: %s", key ? key : "a record", reason);
	s_drop(w, key, reason);
}

void wire_decline(wire_t *w, const char *key, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	/* The stage doing its job, once per record: with no tap listener
	 * and no debug log, the reason would be formatted for nobody. */
	if (!s_tap_listened(w) && log_get_level() < LOG_LVL_DEBUG) {
		w->counts.dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	log_debug("declined %s: %s", key ? key : "a record", reason);
	s_drop(w, key, reason);
}

void wire_count_error(wire_t *w)
{
	w->counts.errors++;
}

void wire_finish(wire_t *w)
{
	w->finish = true;
}

volatile sig_atomic_t *wire_stop_flag(wire_t *w)
{
	(void)w;
	return &s_stop;
}

bool wire_stopping(const wire_t *w)
{
	(void)w;
	return s_stop != 0;
}

void wire_get_counts(const wire_t *w, struct wire_counts *c)
{
	*c = w->counts;
}

/* ---- input ---- */

bool wire_input_msgpack(const wire_t *w, const void **mp, size_t *len,
                        const struct record_mp_info **info)
{
	if (w->cur_mp == NULL)
		return false;
	*mp = w->cur_mp;
	*len = w->cur_len;
	*info = &w->cur_info;
	return true;
}

static void s_deliver(wire_t *w, const struct stage_ops *ops, void *ctx, record_t *r)
{
	w->counts.in++;
	if (ops->on_record != NULL && ops->on_record(ctx, r) != 0)
		w->counts.errors++;
	record_free(r);
}

/* Take up to RECV_BATCH messages from the PULL socket; returns how many.
 * Only a read that ends in EAGAIN clears in_unread (s_wait). */
static int s_read_socket(wire_t *w, const struct stage_ops *ops, void *ctx)
{
	int n = 0;

	w->in_unread = true;
	while (n < RECV_BATCH && !s_stop) {
		char err[256];
		zmq_msg_t msg;
		record_t r;
		int more;

		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, w->in, ZMQ_DONTWAIT) < 0) {
			w->in_unread = errno != EAGAIN;
			zmq_msg_close(&msg);
			break;
		}
		n++;
		/* zmq_msg_more: ZMQ_RCVMORE without a socket option call per
		 * message */
		more = zmq_msg_more(&msg);
		if (more) {
			/* One record is one single-part message; discard the rest. */
			while (more) {
				zmq_msg_close(&msg);
				zmq_msg_init(&msg);
				if (zmq_msg_recv(&msg, w->in, 0) < 0)
					break;
				more = zmq_msg_more(&msg);
			}
			zmq_msg_close(&msg);
			w->counts.in++;
			wire_drop(w, NULL, "multi-part message");
			continue;
		}
		if (record_from_msgpack_info(zmq_msg_data(&msg), zmq_msg_size(&msg), &r,
		                             &w->cur_info, err, sizeof(err)) != 0) {
			w->counts.in++;
			wire_drop(w, NULL, "bad record: %s", err);
		} else {
			w->cur_mp = zmq_msg_data(&msg);
			w->cur_len = zmq_msg_size(&msg);
			s_deliver(w, ops, ctx, &r);
			w->cur_mp = NULL;
		}
		zmq_msg_close(&msg);
		if (ops->input_ready != NULL && !ops->input_ready(ctx))
			break;
	}
	return n;
}

static void s_handle_line(wire_t *w, const struct stage_ops *ops, void *ctx, char *line, size_t len)
{
	char err[256];
	const void *mp;
	size_t mplen;
	record_t r;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return;
	if (record_from_json_info(line, len, &r, &w->cur_info, &mp, &mplen, err, sizeof(err)) !=
	    0) {
		w->counts.in++;
		wire_drop(w, NULL, "stdin:%ld: bad record: %s", w->lineno, err);
		return;
	}
	/* A copy: the codec's buffer is reused by any record_from_json the
	 * stage calls while it handles the record. */
	if (w->stdin_mp == NULL)
		w->stdin_mp = malloc(RECORD_MAX_BYTES);
	if (w->stdin_mp != NULL && mplen <= RECORD_MAX_BYTES) {
		memcpy(w->stdin_mp, mp, mplen);
		w->cur_mp = w->stdin_mp;
		w->cur_len = mplen;
	}
	s_deliver(w, ops, ctx, &r);
	w->cur_mp = NULL;
}

/* Read what stdin has and handle every complete line; sets w->eof at EOF. */
static int s_read_stdin(wire_t *w, const struct stage_ops *ops, void *ctx)
{
	int lines = 0;

	for (int rounds = 0; rounds < 64 && !w->eof && !s_stop; rounds++) {
		char buf[65536];
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("stdin");
			if (errno != EAGAIN)
				w->eof = true;
			break;
		}
		if (n == 0) {
			w->eof = true;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			char c = buf[i];
			if (c == '\n') {
				w->lineno++;
				if (w->line_overflow) {
					w->counts.in++;
					wire_drop(w, NULL, "stdin:%ld: line longer than %d bytes",
					          w->lineno, STDIN_BUFSZ - 2);
				} else {
					s_handle_line(w, ops, ctx, w->line, w->line_len);
				}
				lines++;
				w->line_len = 0;
				w->line_overflow = false;
				continue;
			}
			if (w->line_len + 1 >= STDIN_BUFSZ)
				w->line_overflow = true;
			else
				w->line[w->line_len++] = c;
		}
		if (ops->input_ready != NULL && !ops->input_ready(ctx))
			break;
	}
	if (w->eof && w->line_len > 0 && !w->line_overflow) {
		w->lineno++;
		s_handle_line(w, ops, ctx, w->line, w->line_len); /* last line, no newline */
		w->line_len = 0;
	}
	return lines;
}

/* ---- the loop ---- */

static void s_publish_stats(wire_t *w)
{
	record_t r;

	record_init(&r, REC_STATS);
	r.u.stats.stage = (char *)w->o.stage;
	r.u.stats.in = w->counts.in;
	r.u.stats.out = w->counts.out;
	r.u.stats.dropped = w->counts.dropped;
	r.u.stats.errors = w->counts.errors;
	wire_tap(w, &r);
}

static void s_stats(wire_t *w, int64_t now)
{
	if (now >= w->next_stats_ms) {
		w->next_stats_ms = now + w->o.stats_interval_ms;
		s_publish_stats(w);
	}
	if (now >= w->next_log_ms) {
		if (w->next_log_ms != 0 && memcmp(&w->counts, &w->logged, sizeof(w->counts)) != 0)
			log_info("last minute: in %llu, out %llu, dropped %llu, errors %llu",
			         (unsigned long long)(w->counts.in - w->logged.in),
			         (unsigned long long)(w->counts.out - w->logged.out),
			         (unsigned long long)(w->counts.dropped - w->logged.dropped),
			         (unsigned long long)(w->counts.errors - w->logged.errors));
		w->logged = w->counts;
		w->next_log_ms = now + STATS_LOG_MS;
	}
	if (now >= w->next_watchdog_ms) {
		uint64_t usec = 0;
		int on = sdnotify_watchdog_usec(&usec);

		if (on > 0) {
			/* A failed ping is tried again at the next one (a log line
			 * every half interval at most), never given up. */
			if (sdnotify_send("WATCHDOG=1") < 0)
				log_warn("systemd: cannot ping the watchdog at $NOTIFY_SOCKET");
			w->next_watchdog_ms = now + (int64_t)(usec / 2000);
		} else {
			if (on < 0)
				log_warnx("systemd: WATCHDOG_USEC/WATCHDOG_PID malformed: no "
				          "watchdog pings");
			w->next_watchdog_ms = INT64_MAX;
		}
	}
}

int wire_run(wire_t *w, const struct stage_ops *ops, void *ctx)
{
	int rc = 0;

	if (sdnotify_send("READY=1") < 0)
		log_warn("systemd: cannot send READY=1 to $NOTIFY_SOCKET");
	while (!s_stop && !w->finish && !w->out_broken) {
		struct pollfd pfd[3];
		int n = 0, idx_in = -1, idx_tap = -1;
		bool in_now = false; /* read the input without waiting for it */
		int64_t now = time_mono_ms(), wait = w->o.stats_interval_ms, tick = -1;
		bool ready;

		if (ops->on_tick != NULL)
			tick = ops->on_tick(ctx);
		if (w->finish || s_stop)
			break;
		/* After the tick: a tick that freed room lets input in at once. */
		ready = ops->input_ready == NULL || ops->input_ready(ctx);
		s_stats(w, now);
		if (w->next_stats_ms - now < wait)
			wait = w->next_stats_ms - now;
		if (w->next_watchdog_ms - now < wait) /* a ping is due sooner */
			wait = w->next_watchdog_ms - now;
		if (tick >= 0 && tick < wait)
			wait = tick;
		if (wait < 0)
			wait = 0;

		if (w->tap_unread)
			s_tap_read(w);
		pfd[n++] = (struct pollfd){ s_sigpipe[0], POLLIN, 0 };
		if (ready && w->in != NULL) {
			idx_in = n;
			pfd[n++] = (struct pollfd){ w->in_fd, POLLIN, 0 };
			in_now = w->in_unread;
		} else if (ready && w->in_stdin && !w->eof) {
			idx_in = n;
			pfd[n++] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		}
		if (w->tap != NULL) {
			idx_tap = n;
			pfd[n++] = (struct pollfd){ w->tap_fd, POLLIN, 0 };
		}
		if (in_now)
			wait = 0;
		if (w->stdout_f != NULL && fflush(w->stdout_f) != 0) {
			log_warn("stdout");
			w->out_broken = true;
			break;
		}
		if (s_wait(pfd, n, wait) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			rc = 1;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			unsigned char b[16];
			ssize_t k;
			while ((k = read(s_sigpipe[0], b, sizeof(b))) > 0)
				for (ssize_t i = 0; i < k; i++)
					if (b[i] == SIGHUP)
						log_info("SIGHUP: configuration is read at start; "
						         "restart the stage to apply changes");
		}
		if (s_stop)
			break;
		/* The subscriptions are known as of now: read below if the tap is
		 * readable, else none arrived (tap_unread was cleared above). */
		if (idx_tap >= 0 && (pfd[idx_tap].revents & POLLIN))
			s_tap_read(w);
		else if (idx_tap >= 0 && !w->tap_unread)
			w->tap_checked_ms = time_mono_ms();
		/* A closed pipe on stdin polls as POLLHUP alone. */
		if (idx_in >= 0 &&
		    (in_now || (pfd[idx_in].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))) {
			int got =
			    w->in != NULL ? s_read_socket(w, ops, ctx) : s_read_stdin(w, ops, ctx);
			if (got < RECV_BATCH && ops->on_idle != NULL)
				ops->on_idle(ctx);
			if (w->eof) {
				if (ops->on_idle != NULL)
					ops->on_idle(ctx);
				if (ops->on_eof != NULL)
					ops->on_eof(ctx);
				break;
			}
		}
	}
	if (s_stop) {
		log_info("stopping: signal received");
		/* drain_ms counts from here for all that is left to send. */
		if (w->stop_deadline_ms == 0)
			w->stop_deadline_ms = time_mono_ms() + w->o.drain_ms;
	}
	if (ops->on_idle != NULL)
		ops->on_idle(ctx);
	s_publish_stats(w);
	log_info("totals: in %llu, out %llu, dropped %llu, errors %llu",
	         (unsigned long long)w->counts.in, (unsigned long long)w->counts.out,
	         (unsigned long long)w->counts.dropped, (unsigned long long)w->counts.errors);
	if (w->stdout_f != NULL && !w->out_broken && fflush(w->stdout_f) != 0) {
		log_warn("stdout");
		w->out_broken = true;
	}
	if (w->out_broken) {
		log_warnx("stopping: standard output is closed");
		rc = 1;
	}
	return rc;
}
