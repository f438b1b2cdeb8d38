/*
 * curl_load.h - libcurl, loaded with dlopen when the first HTTP client is made.
 *
 * libcurl brings some thirty shared objects with it (TLS, Kerberos, LDAP,
 * SSH, IDN, HTTP/2, compression): linked in, they cost every process ~11 ms
 * of start-up and several MB of resident pages, whether it speaks HTTP or
 * not.  Most runs don't: the decider never does, `coattail-scraper --file`
 * and every `--help`, `--version` and `--check-config` neither.  So no stage
 * links libcurl; common/http.c, its only user, loads it when a client is
 * created (http_new), once per process, and never unloads it.
 *
 * http.c includes this header instead of <curl/curl.h> and keeps calling
 * libcurl by its own names: each name below is mapped to the pointer loaded.
 * (libcurl's compile-time type checks of curl_easy_setopt arguments work on
 * the linked function only, so they are off here; option values are cast to
 * long / curl_off_t / pointers explicitly where they are set.)
 */
#ifndef COATTAIL_CURL_LOAD_H
#define COATTAIL_CURL_LOAD_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stddef.h>

/* The shared object loaded: Debian's libcurl4 (OpenSSL flavour, the one
 * libcurl4-openssl-dev builds against). */
#define CURL_LOAD_SONAME "libcurl.so.4"

/* The libcurl functions coattail calls. */
struct curl_fns {
	CURLcode (*global_init)(long flags);
	curl_version_info_data *(*version_info)(CURLversion age);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	void (*easy_reset)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part, unsigned int flags);
	CURLUcode (*url_get)(const CURLU *u, CURLUPart what, char **part, unsigned int flags);
	void (*url_cleanup)(CURLU *u);
	void (*str_free)(void *p);
	time_t (*getdate)(const char *p, const time_t *unused);
};

/* The loaded functions; valid after curl_load() returned 0. */
extern struct curl_fns curl_fn;

/*
 * Load CURL_LOAD_SONAME and run curl_global_init, once per process (safe
 * from any thread; later calls return the first call's result).  Returns 0,
 * or -1 with what went wrong in err (the library missing, a symbol missing,
 * a libcurl older than the one coattail was built against, or
 * curl_global_init failing), e.g. "cannot load libcurl.so.4: ... (install
 * Debian's libcurl4)".
 */
int curl_load(char *err, size_t errlen);

/*
 * The loading step alone, from the shared object soname into *fns (for
 * tests: a missing or wrong library must fail with a clear message and leave
 * nothing half-loaded).  Returns 0, or -1 with err set.  Runs no
 * curl_global_init.
 */
int curl_load_from(const char *soname, struct curl_fns *fns, char *err, size_t errlen);

#ifndef CURL_LOAD_NO_NAMES
#undef curl_easy_setopt /* curl.h's pass-through macros of the linked names */
#undef curl_easy_getinfo
#define curl_global_init    (curl_fn.global_init)
#define curl_version_info   (curl_fn.version_info)
#define curl_easy_init      (curl_fn.easy_init)
#define curl_easy_cleanup   (curl_fn.easy_cleanup)
#define curl_easy_reset     (curl_fn.easy_reset)
#define curl_easy_setopt    (curl_fn.easy_setopt)
#define curl_easy_perform   (curl_fn.easy_perform)
#define curl_easy_getinfo   (curl_fn.easy_getinfo)
#define curl_easy_strerror  (curl_fn.easy_strerror)
#define curl_slist_append   (curl_fn.slist_append)
#define curl_slist_free_all (curl_fn.slist_free_all)
#define curl_url            (curl_fn.url)
#define curl_url_set        (curl_fn.url_set)
#define curl_url_get        (curl_fn.url_get)
#define curl_url_cleanup    (curl_fn.url_cleanup)
#define curl_free           (curl_fn.str_free)
#define curl_getdate        (curl_fn.getdate)
#endif

#endif
