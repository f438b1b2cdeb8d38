/*
 * zmq_load.c - libzmq loaded at run time (see zmq_load.h).
 */
#define ZMQ_LOAD_NO_NAMES 1
#include "zmq_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct zmq_fns zmq_fn;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int s_rc = -1;
static char s_err[512];

/* Each function: its libzmq name and where its pointer goes. */
#define ZMQ_LOAD_ENTRY(name) { #name, offsetof(struct zmq_fns, name) },
static const struct {
	const char *name;
	size_t off;
} s_table[] = { ZMQ_LOAD_FUNCTIONS(ZMQ_LOAD_ENTRY) };
#undef ZMQ_LOAD_ENTRY

int zmq_load_from(const char *soname, struct zmq_fns *fns, char *err, size_t errlen)
{
	struct zmq_fns got;
	int major = 0, minor = 0, patch = 0;
	void *h;

	/* Never unloaded: libzmq's I/O threads outlive any one caller. */
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();

		snprintf(err, errlen, "cannot load %s: %s (install Debian's libzmq5)", soname,
		         why != NULL ? why : "not found");
		return -1;
	}
	memset(&got, 0, sizeof(got));
	for (size_t i = 0; i < sizeof(s_table) / sizeof(s_table[0]); i++) {
		void *sym;

		dlerror();
		sym = dlsym(h, s_table[i].name);
		if (sym == NULL) {
			snprintf(err, errlen, "%s has no %s: not a libzmq coattail can use", soname,
			         s_table[i].name);
			dlclose(h);
			return -1;
		}
		/* POSIX guarantees a function pointer survives the trip through
		 * void *; memcpy says so without a cast between the two kinds. */
		memcpy((char *)&got + s_table[i].off, &sym, sizeof(sym));
	}
	got.zmq_version(&major, &minor, &patch);
	if (major < ZMQ_LOAD_MIN_MAJOR ||
	    (major == ZMQ_LOAD_MIN_MAJOR && minor < ZMQ_LOAD_MIN_MINOR)) {
		snprintf(err, errlen, "%s is libzmq %d.%d.%d; coattail needs %d.%d or later",
		         soname, major, minor, patch, ZMQ_LOAD_MIN_MAJOR, ZMQ_LOAD_MIN_MINOR);
		dlclose(h);
		return -1;
	}
	*fns = got;
	return 0;
}

static void s_load_once(void)
{
	if (zmq_load_from(ZMQ_LOAD_SONAME, &zmq_fn, s_err, sizeof(s_err)) == 0)
		s_rc = 0;
}

int zmq_load(char *err, size_t errlen)
{
	pthread_once(&s_once, s_load_once);
	if (s_rc < 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", s_err);
	return s_rc;
}
