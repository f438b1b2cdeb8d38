/*
 * curve.h - CURVE encryption and client authentication for tcp:// links.
 *
 * ipc:// links stay on one host behind a 0700 directory; a tcp:// link
 * crosses a network, so with a secret key configured (wire.curve_secret_key)
 * every tcp:// socket of the process speaks CURVE (ZeroMQ RFC 26):
 *
 *   - a socket that binds tcp:// is a CURVE server, and a ZAP handler (RFC
 *     27) in this process admits only the client public keys listed in
 *     wire.curve_allow.  Without a ZAP handler libzmq's CURVE server admits
 *     any client that knows the server key, so the handler is not optional:
 *     it is started before the first tcp:// bind and a bind fails if it
 *     cannot start.  Each refusal is logged with the key and the address.
 *   - a socket that connects to tcp:// is a CURVE client and must know the
 *     server's public key, from wire.curve_servers ("tcp://HOST:PORT KEY");
 *     a tcp:// endpoint missing there is an error, not a plain connection.
 *
 * Without a secret key tcp:// is plain (and the caller warns).  Keys are Z85
 * text (40 characters for 32 bytes), as coattail-keygen writes them.
 */
#ifndef COATTAIL_CURVE_H
#define COATTAIL_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

typedef struct curve curve_t;

/*
 * Read wire.curve_secret_key (through conf_secret: environment, systemd
 * credential, file, inline), wire.curve_allow and wire.curve_servers.
 * Returns 0 with *out NULL when no secret key is set (CURVE off; allow and
 * server lists are then ignored), 0 with *out set when CURVE is on, or -1
 * with err naming the setting and the entry that is wrong (a key that is
 * not 40 characters of Z85, an entry without a key).  err never contains
 * the secret key.  With a secret key set it loads libzmq (zmq_load.h: keys
 * are decoded and the public key derived by libzmq), so a libzmq missing,
 * too old or without CURVE is an error here too.
 */
int curve_from_conf(const conf_t *c, curve_t **out, char *err, size_t errlen);

/* Stop the ZAP handler, if one runs, and close its socket: call before
 * zmq_ctx_term() of the context it was started in (which would otherwise
 * wait for it forever).  Idempotent; NULL is fine. */
void curve_stop(curve_t *cv);

/* curve_stop(), then wipe the keys and free.  Idempotent. */
void curve_free(curve_t **cv);

/* This process's public key (Z85), derived from the secret key. */
const char *curve_public_key(const curve_t *cv);

/* Number of client keys in the allow-list. */
size_t curve_n_allowed(const curve_t *cv);

/*
 * Prepare `sock` (of context `ctx`) before it binds the resolved endpoint
 * `ep`.  tcp:// with cv: make it a CURVE server, starting the ZAP handler in
 * ctx on first use.  Anything else: nothing.  0, or -1 with err.
 */
int curve_prepare_bind(curve_t *cv, void *ctx, void *sock, const char *ep, char *err,
                       size_t errlen);

/*
 * Prepare `sock` before it connects to the resolved endpoint `ep`.  tcp://
 * with cv: make it a CURVE client of the server key listed for ep in
 * wire.curve_servers (-1 with err when ep is not listed).  Anything else:
 * the NULL mechanism, so one socket may connect to a CURVE tcp:// endpoint
 * and a plain ipc:// one (libzmq takes the security options at connect
 * time).  0, or -1 with err.
 */
int curve_prepare_connect(curve_t *cv, void *sock, const char *ep, char *err, size_t errlen);

/* Whether ep is a tcp:// endpoint (the only kind CURVE applies to). */
bool curve_is_tcp(const char *ep);

#endif
