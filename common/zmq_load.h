/*
 * zmq_load.h - libzmq, loaded with dlopen when the first ZeroMQ context is
 * made.
 *
 * libzmq brings a dozen shared objects with it (libsodium, libpgm, libnorm,
 * Kerberos, ...): linked in, they cost every process 2-3 ms of start-up
 * (1.8 M instructions, nearly all in the dynamic linker, and the mapping of
 * 3.5 MB of code), whether it opens a socket or not.  Some runs never do:
 * `coattail-scraper --file ... --out - --tap ''` (one document parsed, JSON
 * lines out), a stage on `--in - --out -` without a tap, every `--help`,
 * `--version` and `-n` of a config without CURVE.  So no binary links
 * libzmq, and:
 *
 *   - wire_new() loads it when the wire has a socket (an --in, --out or
 *     --tap endpoint): every daemon, at start, as when it was linked.  A
 *     failure there stops the stage at start (exit 1) with the message.
 *   - curve_from_conf() loads it when a CURVE secret key is configured (it
 *     derives the public key with libzmq), and still refuses a libzmq
 *     without CURVE.
 *   - coattail-tap, -inject and -keygen load it before their first call.
 *   - A wire without sockets polls stdin with poll(2), never zmq_poll.
 *
 * Once per process, from any thread (pthread_once); never unloaded.
 *
 * Code that calls ZeroMQ includes this header instead of <zmq.h> and keeps
 * calling libzmq by its own names: each name below is mapped to the pointer
 * loaded, whose type is the one <zmq.h> declares.  A call before zmq_load()
 * returned 0 is a call through a NULL pointer, so every path that makes a
 * context loads first.  Types and constants (zmq_msg_t, ZMQ_PUSH, ...) come
 * from <zmq.h> as before.
 */
#ifndef COATTAIL_ZMQ_LOAD_H
#define COATTAIL_ZMQ_LOAD_H

#include <stddef.h>
#include <zmq.h>

/* The shared object loaded: Debian's libzmq5 (ABI 5: libzmq 4.x). */
#define ZMQ_LOAD_SONAME "libzmq.so.5"

/*
 * The oldest libzmq accepted: 4.3, the series coattail is written and
 * tested against (Debian 12 ships 4.3.4; every call here exists since 4.2,
 * but no 4.2 was ever run).  The soname only promises the 4.x ABI.
 */
#define ZMQ_LOAD_MIN_MAJOR 4
#define ZMQ_LOAD_MIN_MINOR 3

/* The libzmq functions coattail calls, as X(name). */
#define ZMQ_LOAD_FUNCTIONS(X)                                                                      \
	X(zmq_version)                                                                             \
	X(zmq_has)                                                                                 \
	X(zmq_strerror)                                                                            \
	X(zmq_ctx_new)                                                                             \
	X(zmq_ctx_term)                                                                            \
	X(zmq_socket)                                                                              \
	X(zmq_close)                                                                               \
	X(zmq_setsockopt)                                                                          \
	X(zmq_getsockopt)                                                                          \
	X(zmq_bind)                                                                                \
	X(zmq_connect)                                                                             \
	X(zmq_send)                                                                                \
	X(zmq_recv)                                                                                \
	X(zmq_poll)                                                                                \
	X(zmq_msg_init)                                                                            \
	X(zmq_msg_recv)                                                                            \
	X(zmq_msg_close)                                                                           \
	X(zmq_msg_data)                                                                            \
	X(zmq_msg_size)                                                                            \
	X(zmq_msg_more)                                                                            \
	X(zmq_z85_encode)                                                                          \
	X(zmq_z85_decode)                                                                          \
	X(zmq_curve_keypair)                                                                       \
	X(zmq_curve_public)

/* One pointer per function, typed by <zmq.h>'s declaration of it. */
struct zmq_fns {
#define ZMQ_LOAD_FIELD(name) __typeof__(name) *name;
	ZMQ_LOAD_FUNCTIONS(ZMQ_LOAD_FIELD)
#undef ZMQ_LOAD_FIELD
};

/* The loaded functions; valid after zmq_load() returned 0. */
extern struct zmq_fns zmq_fn;

/*
 * Load ZMQ_LOAD_SONAME, once per process (safe from any thread; later calls
 * return the first call's result).  Returns 0, or -1 with what went wrong in
 * err (the library missing, a symbol missing, a libzmq older than 4.3),
 * e.g. "cannot load libzmq.so.5: ... (install Debian's libzmq5)".
 */
int zmq_load(char *err, size_t errlen);

/*
 * The loading step alone, from the shared object soname (a name the dynamic
 * linker searches for, or a path) into *fns: for tests, where a missing,
 * foreign or old library must fail with a clear message and leave *fns
 * untouched.  Returns 0, or -1 with err set.
 */
int zmq_load_from(const char *soname, struct zmq_fns *fns, char *err, size_t errlen);

#ifndef ZMQ_LOAD_NO_NAMES
/* A macro naming itself is not expanded again: zmq_fn.zmq_socket is the
 * field. */
#define zmq_version       (zmq_fn.zmq_version)
#define zmq_has           (zmq_fn.zmq_has)
#define zmq_strerror      (zmq_fn.zmq_strerror)
#define zmq_ctx_new       (zmq_fn.zmq_ctx_new)
#define zmq_ctx_term      (zmq_fn.zmq_ctx_term)
#define zmq_socket        (zmq_fn.zmq_socket)
#define zmq_close         (zmq_fn.zmq_close)
#define zmq_setsockopt    (zmq_fn.zmq_setsockopt)
#define zmq_getsockopt    (zmq_fn.zmq_getsockopt)
#define zmq_bind          (zmq_fn.zmq_bind)
#define zmq_connect       (zmq_fn.zmq_connect)
#define zmq_send          (zmq_fn.zmq_send)
#define zmq_recv          (zmq_fn.zmq_recv)
#define zmq_poll          (zmq_fn.zmq_poll)
#define zmq_msg_init      (zmq_fn.zmq_msg_init)
#define zmq_msg_recv      (zmq_fn.zmq_msg_recv)
#define zmq_msg_close     (zmq_fn.zmq_msg_close)
#define zmq_msg_data      (zmq_fn.zmq_msg_data)
#define zmq_msg_size      (zmq_fn.zmq_msg_size)
#define zmq_msg_more      (zmq_fn.zmq_msg_more)
#define zmq_z85_encode    (zmq_fn.zmq_z85_encode)
#define zmq_z85_decode    (zmq_fn.zmq_z85_decode)
#define zmq_curve_keypair (zmq_fn.zmq_curve_keypair)
#define zmq_curve_public  (zmq_fn.zmq_curve_public)
#endif

#endif
