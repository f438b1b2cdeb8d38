/*
 * wire.h - a stage's I/O and its one event loop.
 *
 * Input: a PULL socket that binds (or "-": JSON lines on stdin).
 * Output: one PUSH socket that connects to every listed endpoint, round-robin
 * between them (or "-": JSON lines on stdout).  Connecting keeps the queue
 * while a peer restarts (ZeroMQ RFC 30); ZMQ_IMMEDIATE is never set.
 * Tap: an XPUB socket that binds and never blocks the pipeline; it carries
 * every record the stage emits, a "drop" for every record it refuses, and a
 * "stats" record every wire.stats_interval_ms.
 *
 * Relative ipc:// endpoints ("ipc://mapper.in") live in the runtime
 * directory (created 0700).  Binding an ipc endpoint takes an exclusive lock
 * on "<path>.lock", so a second instance fails loudly instead of silently
 * stealing the socket file.
 *
 * wire_run() is the stage's only loop: one poll(2) over a self-pipe that
 * the signal handlers write to, the input (a socket by its ZMQ_FD), the
 * tap, and the stage's timer.  SIGTERM and SIGINT stop reading, give
 * queued output up to wire.drain_ms to leave, and return 0.  EOF on stdin
 * lets the stage finish its work first.
 *
 * libzmq is not linked (zmq_load.h): wire_new loads it when the wire has a
 * socket (any endpoint for --in, --out or --tap), before it makes its
 * context.  A wire on stdin and/or stdout with no tap makes no context and
 * loads nothing.
 */
#ifndef COATTAIL_WIRE_H
#define COATTAIL_WIRE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "curve.h"
#include "record.h"

struct wire_opts {
	const char *stage;      /* "mapper": names logs, drops and stats */
	const char *in;         /* NULL: no input; "-": stdin */
	const char *const *out; /* endpoints; a single "-": stdout */
	size_t n_out;           /* 0: the stage emits on its tap only */
	const char *tap;        /* NULL: no tap */
	const char *run_dir;    /* for relative ipc:// paths and locks */
	int hwm;                /* SNDHWM/RCVHWM of pipeline sockets */
	int tap_hwm;            /* SNDHWM of the tap */
	int max_msg_bytes;      /* ZMQ_MAXMSGSIZE of the input */
	int linger_ms;          /* ZMQ_LINGER of sockets in normal operation */
	int drain_ms;           /* how long shutdown waits for queued output */
	int stats_interval_ms;  /* period of "stats" records on the tap */
	curve_t *curve;         /* CURVE for tcp:// links, or NULL (plain); borrowed:
	                           wire_free stops its ZAP handler, the caller frees it */
};

typedef struct wire wire_t;

/* What a stage plugs into the loop.  Every callback may be NULL. */
struct stage_ops {
	/* One decoded, validated input record.  The stage may take over what r
	 * owns (and record_init it); the loop frees what is left.  Return 0, or
	 * -1 to count an error. */
	int (*on_record)(void *ctx, record_t *r);
	/* Called on every loop turn; returns the milliseconds until it wants to
	 * be called again, or -1 for no timer. */
	int64_t (*on_tick)(void *ctx);
	/* The input queue is empty for now: flush batched work. */
	void (*on_idle)(void *ctx);
	/* The input ended (EOF on stdin): finish all work before returning. */
	void (*on_eof)(void *ctx);
	/* false: do not read input now (the stage holds too much); ZeroMQ's
	 * high-water mark then pushes back on the sender. */
	bool (*input_ready)(void *ctx);
};

/* Create the sockets and the runtime directory; NULL with err on failure
 * (bad endpoint, endpoint in use, directory not creatable, libzmq missing
 * or older than 4.3: "cannot load libzmq.so.5: ..."). */
wire_t *wire_new(const struct wire_opts *o, char *err, size_t errlen);
/* Close everything; output gets up to drain_ms to leave.  Idempotent. */
void wire_free(wire_t **w);

/* Run the loop until a signal, wire_finish(), or EOF; returns the exit status
 * (0 done, 1 runtime failure). */
int wire_run(wire_t *w, const struct stage_ops *ops, void *ctx);

/* Send a record to the output and the tap.  Blocks while the output is at
 * its high-water mark (backpressure), but not past a stop request plus
 * drain_ms.  0, or -1 when the record could not be sent (counted, logged). */
int wire_emit(wire_t *w, const record_t *r);
/*
 * wire_emit for a record already encoded: mp (len bytes, the caller's)
 * must be exactly record_to_msgpack's bytes for r, which names the record
 * in log lines only.  The same output, tap and counts as wire_emit(w, r).
 */
int wire_emit_encoded(wire_t *w, const record_t *r, const void *mp, size_t len);
/*
 * During on_record: the msgpack the record was decoded from (the message,
 * or the msgpack a JSON line on stdin was read into) and what the decoder
 * said of it (record_from_msgpack_info).  false outside on_record.  Valid
 * until on_record returns.
 */
bool wire_input_msgpack(const wire_t *w, const void **mp, size_t *len,
                        const struct record_mp_info **info);
/* Publish on the tap only (e.g. order events), never blocking. */
void wire_tap(wire_t *w, const record_t *r);
/* Refuse one record: a "drop" on the tap, a rate-limited log line, and the
 * dropped counter.  key may be NULL. */
void wire_drop(wire_t *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A record the stage's rules decline (the decider's "not an executive"):
 * the same "drop" on the tap and dropped count, but a debug log line, since
 * this is the stage doing its job, not a fault. */
void wire_decline(wire_t *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Count a runtime error (failed fetch, broker error) for the stats. */
void wire_count_error(wire_t *w);
/* End the loop once the current turn is done and output is flushed (--once). */
void wire_finish(wire_t *w);
/* Set while shutting down; give it to long operations (http_opts.stop). */
volatile sig_atomic_t *wire_stop_flag(wire_t *w);
bool wire_stopping(const wire_t *w);

struct wire_counts {
	uint64_t in, out, dropped, errors;
};
void wire_get_counts(const wire_t *w, struct wire_counts *c);

/* Resolve an endpoint: a relative ipc:// path is placed in run_dir.  Writes
 * the result into buf; 0, or -1 when it does not fit or is not
 * tcp://, ipc:// or inproc://. */
int wire_resolve_endpoint(const char *ep, const char *run_dir, char *buf, size_t len);

#endif
