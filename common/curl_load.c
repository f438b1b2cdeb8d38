/*
 * curl_load.c - libcurl loaded at run time (see curl_load.h).
 */
#define CURL_LOAD_NO_NAMES 1
#include "curl_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dl_table.h"

struct curl_fns curl_fn;

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static int s_rc = -1;
static char s_err[512];

/* Each function: its libcurl name and where its pointer goes. */
#define FN(field, name)                                                                            \
	{                                                                                          \
		name, offsetof(struct curl_fns, field)                                             \
	}
static const struct dl_sym s_table[] = {
	FN(global_init, "curl_global_init"),
	FN(version_info, "curl_version_info"),
	FN(easy_init, "curl_easy_init"),
	FN(easy_cleanup, "curl_easy_cleanup"),
	FN(easy_reset, "curl_easy_reset"),
	FN(easy_setopt, "curl_easy_setopt"),
	FN(easy_perform, "curl_easy_perform"),
	FN(easy_getinfo, "curl_easy_getinfo"),
	FN(easy_strerror, "curl_easy_strerror"),
	FN(slist_append, "curl_slist_append"),
	FN(slist_free_all, "curl_slist_free_all"),
	FN(url, "curl_url"),
	FN(url_set, "curl_url_set"),
	FN(url_get, "curl_url_get"),
	FN(url_cleanup, "curl_url_cleanup"),
	FN(str_free, "curl_free"),
	FN(getdate, "curl_getdate"),
};
#undef FN

int curl_load_from(const char *soname, struct curl_fns *fns, char *err, size_t errlen)
{
	struct curl_fns got;
	curl_version_info_data *vi;
	void *h;

	/* Never unloaded: libcurl's TLS back end keeps global state. */
	h = dl_table_open(soname, "libcurl", "libcurl4", s_table,
	                  sizeof(s_table) / sizeof(s_table[0]), &got, sizeof(got), err, errlen);
	if (h == NULL)
		return -1;
	/* Options and behaviour http.c relies on appeared up to the version it
	 * was compiled against; an older library at run time would refuse them
	 * one request at a time, so refuse it once, here. */
	vi = got.version_info(CURLVERSION_NOW);
	if (vi == NULL || vi->version_num < (unsigned int)LIBCURL_VERSION_NUM) {
		snprintf(err, errlen,
		         "%s is libcurl %s; coattail was built against %s and needs at least that",
		         soname, vi != NULL && vi->version != NULL ? vi->version : "(unknown)",
		         LIBCURL_VERSION);
		dlclose(h);
		return -1;
	}
	*fns = got;
	return 0;
}

static void s_load_once(void)
{
	CURLcode rc;

	if (curl_load_from(CURL_LOAD_SONAME, &curl_fn, s_err, sizeof(s_err)) < 0)
		return;
	/* Not thread-safe in libcurl: this once-only call is why it is here. */
	rc = curl_fn.global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(s_err, sizeof(s_err), "curl_global_init: %s", curl_fn.easy_strerror(rc));
		return;
	}
	s_rc = 0;
}

int curl_load(char *err, size_t errlen)
{
	pthread_once(&s_once, s_load_once);
	if (s_rc < 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", s_err);
	return s_rc;
}
