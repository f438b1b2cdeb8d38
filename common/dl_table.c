/*
 * dl_table.c - a shared library's functions into a table (see dl_table.h).
 */
#include "dl_table.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void *dl_table_open(const char *soname, const char *lib, const char *package,
                    const struct dl_sym *syms, size_t n, void *fns, size_t fns_size, char *err,
                    size_t errlen)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		const char *why = dlerror();

		snprintf(err, errlen, "cannot load %s: %s (install Debian's %s)", soname,
		         why != NULL ? why : "not found", package);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		void *sym;

		dlerror();
		sym = dlsym(h, syms[i].name);
		if (sym == NULL || syms[i].off + sizeof(sym) > fns_size) {
			snprintf(err, errlen, "%s has no %s: not a %s coattail can use", soname,
			         syms[i].name, lib);
			dlclose(h);
			return NULL;
		}
		/* POSIX guarantees a function pointer survives the trip through
		 * void *; memcpy says so without a cast between the two kinds. */
		memcpy((unsigned char *)fns + syms[i].off, &sym, sizeof(sym));
	}
	return h;
}
