/*
 * zmq_load.c - libzmq loaded at run time (see zmq_load.h).
 */
#define ZMQ_LOAD_NO_NAMES 1
#include "zmq_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dl_table.h"

struct zmq_fns zmq_fn;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int s_rc = -1;
static char s_err[512];

/* Each function: its libzmq name and where its pointer goes. */
#define ZMQ_LOAD_ENTRY(name) { #name, offsetof(struct zmq_fns, name) },
static const struct dl_sym s_table[] = { ZMQ_LOAD_FUNCTIONS(ZMQ_LOAD_ENTRY) };
#undef ZMQ_LOAD_ENTRY

int zmq_load_from(const char *soname, struct zmq_fns *fns, char *err, size_t errlen)
{
	struct zmq_fns got;
	int major = 0, minor = 0, patch = 0;
	void *h;

	/* Never unloaded: libzmq's I/O threads outlive any one caller. */
	h = dl_table_open(soname, "libzmq", "libzmq5", s_table,
	                  sizeof(s_table) / sizeof(s_table[0]), &got, sizeof(got), err, errlen);
	if (h == NULL)
		return -1;
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
