/*
 * edgar.c - the fetch side of SEC EDGAR: the getcurrent Atom feed, then one
 * document per new Form 4 filing.
 *
 * Feed.  GET <edgar_url>/cgi-bin/browse-edgar?action=getcurrent&type=4&
 * owner=include&start=N&count=C&output=atom, newest first.  atom_parse()
 * keeps forms 4 and 4/A (type=4 is a prefix match), merges the Reporting
 * and Issuer entries of one filing by accession, and refuses an HTML page
 * (SEC's maintenance page comes back instead of Atom) as an error, never an
 * empty feed.  Each filing is recorded in the fetch cache; the next page is
 * read only while the page was full and none of its filings was seen before
 * or older than the lookback window - the first page holding a filing seen
 * before means the rest was read in an earlier cycle (a full page of other
 * forms, 424B2 notes say, tells nothing and is read past).  At most
 * scraper.edgar_feed_pages pages per cycle (a first run, or a long outage,
 * reads that far back and says so).
 *
 * Documents.  Each pending filing of the lookback window (newest first, at
 * most scraper.edgar_max_documents per cycle) is fetched ONCE with ONE
 * request: the full submission <acc-no-dashes>/<accession>.txt, whose
 * <XML> section is the raw ownershipDocument (sgml_parse).  The index page
 * (-index.htm, table.tableFile) or index.json would need two requests per
 * filing (the listing, then the XML that is not under xsl*); they are the
 * fallback only, as index.json + XML, when the .txt is missing (404).  A
 * .txt holds a few KB more than the XML (the SGML header, sometimes a
 * power-of-attorney exhibit), which costs less than a second request
 * against SEC's 10 requests/s.  A document that parsed is never fetched
 * again; one that is unreadable is marked bad (an accepted filing never
 * changes); transient failures are retried in later cycles, at most
 * FC_MAX_ATTEMPTS times.
 *
 * URLs are built from the configured base and the filing's CIK and
 * accession, never taken from the feed's links: the feed is outside input,
 * and tests point the base at a local server.  The feed's -index.htm link
 * is only copied into the trades' url.
 *
 * Fair access: every request carries scraper.sec_user_agent (refused at
 * start when missing or not naming a contact e-mail address) and asks for
 * gzip; one HTTP client paces all EDGAR requests at
 * scraper.edgar_max_requests_per_s (<= 10).  A 403 ends the cycle at once:
 * SEC's "Request Rate Threshold Exceeded" block lasts about 10 minutes and
 * grows while requests continue, so edgar pauses for EDGAR_BLOCK_HOLD_S.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "htmlutil.h"
#include "log.h"
#include "source.h"

#define SRC "edgar"
/* How long edgar pauses after SEC refused it (its block lasts ~10 min). */
#define EDGAR_BLOCK_HOLD_S 600
/* Most index.json items looked at. */
#define INDEX_MAX_ITEMS 1000

struct edgar_src {
	http_client_t *http; /* the declared User-Agent, paced for SEC */
	char *base;          /* scraper.edgar_url without a trailing '/' */
	char *user_agent;    /* for messages */
	int feed_pages;      /* most feed pages per cycle */
	int feed_count;      /* entries per feed page */
	size_t max_docs;     /* most documents per cycle */
};

/* Does the User-Agent name a contact e-mail address ("x@y.z")? */
static bool s_has_contact(const char *ua)
{
	for (const char *at = strchr(ua, '@'); at != NULL; at = strchr(at + 1, '@')) {
		const char *dot;
		size_t tail;

		if (at == ua || isspace((unsigned char)at[-1]))
			continue;
		tail = strcspn(at + 1, " \t");
		dot = memchr(at + 1, '.', tail);
		if (dot != NULL && dot > at + 1 && dot < at + tail)
			return true;
	}
	return false;
}

struct edgar_src *edgar_src_new(const conf_t *c, volatile sig_atomic_t *stop, char *err,
                                size_t errlen)
{
	const char *ua = conf_str(c, "scraper.sec_user_agent");
	const char *base = conf_str(c, "scraper.edgar_url");
	struct edgar_src *e;
	size_t bl;

	if (ua == NULL || ua[0] == '\0') {
		snprintf(err, errlen,
		         SRC ": scraper.sec_user_agent is not set: SEC answers requests "
		             "without a declared User-Agent with 403; set it to your name and a "
		             "contact e-mail address (\"Example Corp admin@example.com\") in the "
		             "config or COATTAIL_SEC_USER_AGENT, or set scraper.edgar_enabled = "
		             "false");
		return NULL;
	}
	if (strncasecmp(ua, "Mozilla/", 8) == 0 || !s_has_contact(ua)) {
		snprintf(err, errlen,
		         SRC ": scraper.sec_user_agent \"%.100s\" %s: SEC wants a company or "
		             "person and a contact e-mail address (\"Example Corp "
		             "admin@example.com\")",
		         ua,
		         strncasecmp(ua, "Mozilla/", 8) == 0
		             ? "imitates a browser, which SEC blocks"
		             : "names no contact e-mail address");
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->base = strdup(base)) == NULL || (e->user_agent = strdup(ua)) == NULL) {
		snprintf(err, errlen, SRC ": out of memory");
		edgar_src_free(&e);
		return NULL;
	}
	bl = strlen(e->base);
	while (bl > 0 && e->base[bl - 1] == '/')
		e->base[--bl] = '\0';
	e->feed_pages = (int)conf_int(c, "scraper.edgar_feed_pages");
	e->feed_count = (int)conf_int(c, "scraper.edgar_feed_count");
	e->max_docs = (size_t)conf_int(c, "scraper.edgar_max_documents");
	e->http = src_http_new(c, ua, conf_double(c, "scraper.edgar_max_requests_per_s"), stop);
	if (e->http == NULL) {
		snprintf(err, errlen, SRC ": cannot create an HTTP client");
		edgar_src_free(&e);
		return NULL;
	}
	return e;
}

void edgar_src_free(struct edgar_src **ep)
{
	struct edgar_src *e = ep != NULL ? *ep : NULL;

	if (e == NULL)
		return;
	http_free(&e->http);
	free(e->base);
	free(e->user_agent);
	free(e);
	*ep = NULL;
}

/*
 * A non-2xx answer from SEC.  403 is a refusal (an undeclared or
 * browser-like User-Agent, or the rate threshold): it ends the cycle and
 * pauses edgar.  Returns true when the cycle must end.
 */
static bool s_http_error(struct edgar_src *e, const char *what, const char *url,
                         const struct http_response *resp, struct src_stats *st)
{
	char title[120] = "";

	if (resp->body != NULL)
		hu_html_title(resp->body, resp->len, title, sizeof(title));
	st->errors++;
	if (resp->status == 403) {
		st->blocked = true;
		st->hold_s = EDGAR_BLOCK_HOLD_S;
		/* SEC's undeclared-tool page carries the rate page's title:
		 * tell them apart by the heading. */
		if (resp->body != NULL &&
		    strcasestr(resp->body, "Undeclared Automated Tool") == NULL &&
		    strcasestr(resp->body, "Request Rate Threshold Exceeded") != NULL)
			log_warnx(SRC ": SEC's request rate threshold was exceeded (HTTP 403 "
			              "from %s): SEC blocks for about 10 minutes; edgar pauses "
			              "for %d minutes (check scraper.edgar_max_requests_per_s "
			              "and other clients behind this address)",
			          url, EDGAR_BLOCK_HOLD_S / 60);
		else
			log_warnx(SRC ": SEC refused the request (HTTP 403 from %s%s%s%s): it "
			              "refuses undeclared tools and browser-like User-Agents; "
			              "check scraper.sec_user_agent (\"%s\"); edgar pauses for "
			              "%d minutes",
			          url, title[0] ? ": '" : "", title, title[0] ? "'" : "",
			          e->user_agent, EDGAR_BLOCK_HOLD_S / 60);
		return true;
	}
	log_warnx(SRC ": %s: HTTP %ld from %s after %d attempt%s%s%s%s", what, resp->status, url,
	          resp->attempts, resp->attempts == 1 ? "" : "s", title[0] ? " ('" : "", title,
	          title[0] ? "')" : "");
	return false;
}

/* ---- the feed ---- */

/*
 * Read the feed page by page (see the top of the file), recording every
 * filing in the cache.  Returns 0, or -1 when a page failed (logged).
 */
static int s_feed(struct edgar_src *e, const struct src_ctx *cx, struct src_stats *st)
{
	struct filing_list all;
	int rc = 0;

	filing_list_init(&all);
	for (int page = 0; page < e->feed_pages; page++) {
		int start = page * e->feed_count;
		unsigned fresh = 0, known = 0, old = 0;
		struct http_response resp;
		struct parse_result res;
		char url[1400], err[512], sum[512];
		size_t mark = all.n;
		bool more;

		if (cx->stop != NULL && *cx->stop)
			break;
		snprintf(url, sizeof(url),
		         "%s/cgi-bin/browse-edgar?action=getcurrent&type=4&owner=include&"
		         "start=%d&count=%d&output=atom",
		         e->base, start, e->feed_count);
		switch (src_get(e->http, cx, url, true, &resp, st)) {
		case SRC_GOT_STOPPED:
			http_response_free(&resp);
			goto out;
		case SRC_GOT_NETWORK:
			log_warnx(SRC ": network: %s; retrying next cycle", resp.error);
			st->unreachable = true;
			st->errors++;
			rc = -1;
			http_response_free(&resp);
			goto out;
		case SRC_GOT_REFUSED:
			log_warnx(SRC ": feed: %s", resp.error);
			st->errors++;
			rc = -1;
			http_response_free(&resp);
			goto out;
		case SRC_GOT_NOT_MODIFIED:
			st->not_modified++;
			log_info(SRC ": feed start=%d: not modified since it was last read (304)",
			         start);
			http_response_free(&resp);
			goto out;
		case SRC_GOT_HTTP_ERROR:
			s_http_error(e, "feed", url, &resp, st);
			rc = -1;
			http_response_free(&resp);
			goto out;
		case SRC_GOT_OK:
			break;
		}
		st->pages++;
		if (atom_parse(resp.body, resp.len, &all, &res, err, sizeof(err)) != 0) {
			log_warnx("%s [feed %s]", err, url);
			st->errors++;
			rc = -1;
			http_response_free(&resp);
			goto out;
		}
		/* Filings first listed on this page (a filing whose other entry
		 * was on the previous page was merged there, not counted). */
		for (size_t i = mark; i < all.n; i++) {
			const struct edgar_filing *f = &all.items[i];
			int added;

			if (f->accepted_at != REC_NULL_TIME && f->accepted_at < cx->since) {
				old++;
				continue;
			}
			added = fetch_cache_add_filing(cx->cache, f, cx->now);
			if (added < 0) {
				st->errors++;
				rc = -1;
				http_response_free(&resp);
				goto out;
			}
			if (added > 0)
				fresh++;
			else
				known++;
		}
		st->filings_new += fresh;
		parse_result_summary(&res, sum, sizeof(sum));
		log_info(SRC ": feed start=%d: %s; %u new filing%s, %u seen before, %u older than "
		             "the lookback window",
		         start, sum, fresh, fresh == 1 ? "" : "s", known, old);
		src_keep_validators(cx, url, &resp);
		http_response_free(&resp);
		/* A full page of other forms (424B2 floods the prefix match)
		 * says nothing about what follows: read on. */
		more = res.rows >= (size_t)e->feed_count && known == 0 && old == 0;
		if (!more)
			break;
		if (page + 1 == e->feed_pages)
			log_warnx(
			    SRC
			    ": feed: still no filing seen before after %d pages; older filings are "
			    "not read (raise scraper.edgar_feed_pages to read further "
			    "back)",
			    e->feed_pages);
	}
out:
	filing_list_free(&all);
	return rc;
}

/* ---- documents ---- */

enum s_doc {
	S_DOC_DONE,  /* parsed: never fetched again */
	S_DOC_BAD,   /* unreadable for good */
	S_DOC_RETRY, /* failed for now: a later cycle tries again */
	S_DOC_ABORT, /* the cycle must end (network, refusal, stop) */
};

/* "<base>/Archives/edgar/data/<cik without zeros>/<acc without dashes>/" */
static void s_folder(const struct edgar_src *e, const struct fc_filing *f, char *buf, size_t len)
{
	const char *cik = f->cik;
	char nodash[ACCESSION_LEN];
	size_t j = 0;

	while (cik[0] == '0' && cik[1] != '\0')
		cik++;
	for (const char *p = f->accession; *p != '\0' && j + 1 < sizeof(nodash); p++)
		if (*p != '-')
			nodash[j++] = *p;
	nodash[j] = '\0';
	snprintf(buf, len, "%s/Archives/edgar/data/%s/%s/", e->base, cik, nodash);
}

/* A file name from index.json that is safe to put in a URL. */
static bool s_safe_name(const char *s)
{
	if (s == NULL || s[0] == '\0' || s[0] == '.' || strlen(s) > 200)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

int edgar_index_json_xml(const char *body, size_t len, char *name, size_t namelen, char *err,
                         size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *items;
	int rc = -1;

	if (root == NULL) {
		snprintf(err, errlen, "index.json is not JSON (line %d: %s)", jerr.line, jerr.text);
		return -1;
	}
	items = json_object_get(json_object_get(root, "directory"), "item");
	if (!json_is_array(items)) {
		snprintf(err, errlen, "index.json has no directory.item list");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(items) && i < INDEX_MAX_ITEMS; i++) {
		json_t *it = json_array_get(items, i);
		const char *n = json_string_value(json_object_get(it, "name"));
		const char *type = json_string_value(json_object_get(it, "type"));
		size_t nl;

		if (!s_safe_name(n) || strncasecmp(n, "xsl", 3) == 0)
			continue;
		if (type != NULL && (strcasecmp(type, "dir") == 0 || strstr(type, "folder")))
			continue;
		nl = strlen(n);
		if (nl < 5 || strcasecmp(n + nl - 4, ".xml") != 0 || nl >= namelen)
			continue;
		memcpy(name, n, nl + 1);
		rc = 0;
		goto out;
	}
	snprintf(err, errlen, "index.json lists no raw .xml document");
out:
	json_decref(root);
	return rc;
}

/* How a failed fetch of one of a filing's files ends: logged and judged. */
static enum s_doc s_fetch_failed(struct edgar_src *e, enum src_got got, const char *what,
                                 const char *url, struct http_response *resp, struct src_stats *st)
{
	switch (got) {
	case SRC_GOT_STOPPED:
		return S_DOC_ABORT;
	case SRC_GOT_NETWORK:
		log_warnx(SRC ": network: %s; retrying next cycle", resp->error);
		st->unreachable = true;
		st->errors++;
		return S_DOC_ABORT;
	case SRC_GOT_REFUSED:
		log_warnx(SRC ": %s: %s", what, resp->error);
		st->errors++;
		return S_DOC_BAD;
	case SRC_GOT_HTTP_ERROR:
		return s_http_error(e, what, url, resp, st) ? S_DOC_ABORT : S_DOC_RETRY;
	case SRC_GOT_OK:
	case SRC_GOT_NOT_MODIFIED:
		break;
	}
	return S_DOC_RETRY;
}

/* Parse one document of a filing; logs, counts and judges the outcome. */
static enum s_doc s_parse_doc(const struct fc_filing *f, const char *doc_url, bool sgml,
                              const struct http_response *resp, const struct src_ctx *cx,
                              struct trade_list *out, struct src_stats *st)
{
	struct parse_result res;
	struct parse_ctx ctx;
	char err[512], sum[512];
	size_t mark = out->n;
	int rc;

	parse_ctx_init(&ctx);
	ctx.accession = f->accession;
	ctx.url = f->index_url[0] != '\0' ? f->index_url : doc_url;
	ctx.filed_at = f->accepted_at;
	ctx.now = cx->now;
	ctx.amendment = strcmp(f->form, "4/A") == 0;
	st->documents++;
	if (sgml)
		rc = sgml_parse(resp->body, resp->len, &ctx, out, &res, err, sizeof(err));
	else
		rc = form4_parse(resp->body, resp->len, &ctx, out, &res, err, sizeof(err));
	parse_result_summary(&res, sum, sizeof(sum));
	if (rc == 0) {
		st->trades_read += out->n - mark;
		log_debug(SRC ": %s (form %s): %s", f->accession, f->form, sum);
		return S_DOC_DONE;
	}
	st->errors++;
	/* SEC's error pages come back as HTML, sometimes with 200: that is
	 * SEC failing for now, not the filing being unreadable. */
	if (doc_sniff(resp->body, resp->len) == DOC_HTML ||
	    doc_sniff(resp->body, resp->len) == DOC_BLOCKED) {
		char title[120];
		hu_html_title(resp->body, resp->len, title, sizeof(title));
		log_warnx(SRC ": %s: expected the filing, got an HTML page '%s' from %s; "
		              "retrying next cycle",
		          f->accession, title, doc_url);
		return S_DOC_RETRY;
	}
	log_warnx("%s [filing %s, %s; %s]", err, f->accession, doc_url, sum);
	return S_DOC_BAD;
}

/* The fallback: index.json, then the raw XML it names. */
static enum s_doc s_fetch_via_index(struct edgar_src *e, const struct fc_filing *f,
                                    const char *folder, const struct src_ctx *cx,
                                    struct trade_list *out, struct src_stats *st)
{
	struct http_response resp;
	char url[1400], name[256], err[256];
	enum src_got got;
	enum s_doc d;

	snprintf(url, sizeof(url), "%sindex.json", folder);
	got = src_get(e->http, cx, url, false, &resp, st);
	if (got != SRC_GOT_OK) {
		d = s_fetch_failed(e, got, f->accession, url, &resp, st);
		http_response_free(&resp);
		return d;
	}
	if (edgar_index_json_xml(resp.body, resp.len, name, sizeof(name), err, sizeof(err)) != 0) {
		log_warnx(SRC ": %s: %s (%s)", f->accession, err, url);
		st->errors++;
		http_response_free(&resp);
		return S_DOC_BAD;
	}
	http_response_free(&resp);
	snprintf(url, sizeof(url), "%s%s", folder, name);
	got = src_get(e->http, cx, url, false, &resp, st);
	if (got != SRC_GOT_OK)
		d = s_fetch_failed(e, got, f->accession, url, &resp, st);
	else
		d = s_parse_doc(f, url, false, &resp, cx, out, st);
	http_response_free(&resp);
	return d;
}

/* Fetch and parse one filing: the .txt, or index.json + XML on a 404. */
static enum s_doc s_document(struct edgar_src *e, const struct fc_filing *f,
                             const struct src_ctx *cx, struct trade_list *out, struct src_stats *st)
{
	struct http_response resp;
	char folder[1100], url[1400];
	enum src_got got;
	enum s_doc d;

	s_folder(e, f, folder, sizeof(folder));
	snprintf(url, sizeof(url), "%s%s.txt", folder, f->accession);
	got = src_get(e->http, cx, url, false, &resp, st);
	if (got == SRC_GOT_HTTP_ERROR && resp.status == 404) {
		log_info(SRC ": %s: no full submission at %s (404); reading index.json",
		         f->accession, url);
		http_response_free(&resp);
		return s_fetch_via_index(e, f, folder, cx, out, st);
	}
	if (got != SRC_GOT_OK)
		d = s_fetch_failed(e, got, f->accession, url, &resp, st);
	else
		d = s_parse_doc(f, url, true, &resp, cx, out, st);
	http_response_free(&resp);
	return d;
}

static int s_documents(struct edgar_src *e, const struct src_ctx *cx, struct trade_list *out,
                       struct src_stats *st)
{
	struct fc_filing *fs;
	size_t n, i;
	int rc = 0;

	/* One more than this cycle takes, to know whether some are left. */
	if (fetch_cache_pending_filings(cx->cache, cx->since, e->max_docs + 1, &fs, &n) != 0) {
		st->errors++;
		return -1;
	}
	for (i = 0; i < n && i < e->max_docs; i++) {
		enum s_doc d;
		int state;

		if (cx->stop != NULL && *cx->stop)
			break;
		d = s_document(e, &fs[i], cx, out, st);
		if (d == S_DOC_ABORT) {
			if (!(cx->stop != NULL && *cx->stop))
				rc = -1;
			break;
		}
		state = fetch_cache_filing_result(cx->cache, fs[i].accession,
		                                  d == S_DOC_DONE  ? FC_DONE
		                                  : d == S_DOC_BAD ? FC_BAD
		                                                   : FC_PENDING,
		                                  NULL, cx->now);
		if (d != S_DOC_DONE)
			rc = -1;
		if (state == FC_GAVE_UP)
			log_warnx(SRC ": %s: given up after %d failed attempts", fs[i].accession,
			          FC_MAX_ATTEMPTS);
	}
	st->pending = (unsigned)(n - i);
	free(fs);
	return rc;
}

int edgar_src_cycle(struct edgar_src *e, const struct src_ctx *cx, struct trade_list *out,
                    struct src_stats *st)
{
	int rc = s_feed(e, cx, st);

	/* A failed feed page does not stop the documents of filings seen
	 * before; a network failure or a refusal does. */
	if (st->unreachable || st->hold_s > 0 || (cx->stop != NULL && *cx->stop))
		return -1;
	if (s_documents(e, cx, out, st) != 0)
		rc = -1;
	return rc;
}
