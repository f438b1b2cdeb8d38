/*
 * dl_table.h - open a shared library and fill a table of its functions:
 * the step common/curl_load.c and common/zmq_load.c share.
 *
 * A loader describes its table as {name, offset} pairs (the offset of each
 * pointer in its own struct of typed function pointers) and gets either
 * every pointer filled and the library's handle, or the library closed and
 * one line saying what was wrong:
 *   "cannot load libzmq.so.5: <dlerror> (install Debian's libzmq5)"
 *   "libzmq.so.5 has no zmq_poll: not a libzmq coattail can use"
 * The version check that follows is the loader's own (each library says
 * its version differently).
 */
#ifndef COATTAIL_DL_TABLE_H
#define COATTAIL_DL_TABLE_H

#include <stddef.h>

struct dl_sym {
	const char *name; /* the symbol, e.g. "curl_easy_init" */
	size_t off;       /* where its pointer goes in the caller's table */
};

/*
 * dlopen(soname, RTLD_NOW | RTLD_LOCAL), then each of the n symbols of syms
 * into the function pointer at (char *)fns + syms[i].off.  lib names the
 * library in messages ("libcurl"), package the Debian package to install
 * ("libcurl4").  Returns the handle (for dlclose when a later check
 * refuses the library), or NULL with err set and fns partly filled: pass
 * a table of your own and copy it out once every check has passed.
 */
void *dl_table_open(const char *soname, const char *lib, const char *package,
                    const struct dl_sym *syms, size_t n, void *fns, size_t fns_size, char *err,
                    size_t errlen);

#endif
