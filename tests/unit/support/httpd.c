/*
 * httpd.c - the scripted HTTP/1.1 test server (see httpd.h).
 *
 * One thread accepts; each connection gets its own thread that reads
 * requests one after another (keep-alive) and answers each from the queue or
 * the handler.  Every blocking call also watches a "stop" pipe, written once
 * by httpd_stop and never drained, so stopping ends every wait at once.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HTTPD_MAX_HEAD (64 * 1024)        /* request line + headers */
#define HTTPD_MAX_BODY (64 * 1024 * 1024) /* request body */
#define HTTPD_URLS     16

/* A queued response: an owned copy of a struct httpd_response. */
struct s_canned {
	struct httpd_response r; /* r.headers and r.body point into owned memory */
	char *headers;
	char *body;
	struct s_canned *next;
};

struct s_conn {
	struct httpd *h;
	pthread_t tid;
	int fd;
	int id;
	struct s_conn *next;
};

struct httpd {
	int lfd; /* listening socket */
	int port;
	int stop_pipe[2]; /* [0] becomes readable when stopping */
	pthread_t acceptor;
	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;  /* a request was recorded */
	struct s_canned *qhead, *qtail;
	httpd_handler_fn fn;
	void *arg;
	pthread_mutex_t handler_mu; /* one handler call at a time */
	struct httpd_request **reqs;
	int nreqs, capreqs;
	struct s_conn *conns;
	int nconns;
	char urls[HTTPD_URLS][512];
	int urlslot;
};

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *s_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL) {
		fprintf(stderr, "httpd: out of memory\n");
		abort();
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- gzip --------------------------------------------------------------- */

static uint32_t s_crc32(const unsigned char *p, size_t n)
{
	uint32_t table[256], crc = 0xFFFFFFFFu;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	while (n-- > 0)
		crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFu;
}

static void s_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/*
 * RFC 1952 member around RFC 1951 "stored" blocks: each block is one header
 * byte (BFINAL in bit 0, BTYPE 00, then padding to the byte boundary), LEN
 * and its complement NLEN (little-endian), then LEN raw bytes.
 */
unsigned char *httpd_gzip(const void *data, size_t len, size_t *out_len)
{
	const unsigned char *in = data;
	size_t nblocks = len / 65535 + 1;
	unsigned char *out = malloc(10 + nblocks * 5 + len + 8), *o;
	static const unsigned char head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };

	if (out == NULL)
		return NULL;
	memcpy(out, head, sizeof(head));
	o = out + sizeof(head);
	for (size_t done = 0, b = 0; b < nblocks; b++) {
		size_t n = len - done > 65535 ? 65535 : len - done;

		*o++ = b + 1 == nblocks ? 1 : 0;
		*o++ = (unsigned char)n;
		*o++ = (unsigned char)(n >> 8);
		*o++ = (unsigned char)~n;
		*o++ = (unsigned char)(~n >> 8);
		memcpy(o, in + done, n);
		o += n;
		done += n;
	}
	s_le32(o, s_crc32(in, len));
	s_le32(o + 4, (uint32_t)len);
	o += 8;
	*out_len = (size_t)(o - out);
	return out;
}

/* ---- small helpers ------------------------------------------------------ */

int httpd_unused_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

const char *httpd_req_header(const struct httpd_request *req, const char *name)
{
	size_t nlen;

	if (req == NULL || name == NULL)
		return NULL;
	nlen = strlen(name);
	for (size_t i = 0; i < req->nheaders; i++) {
		const char *h = req->headers[i];

		if (strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
			h += nlen + 1;
			while (*h == ' ' || *h == '\t')
				h++;
			return h;
		}
	}
	return NULL;
}

static void s_request_free(struct httpd_request *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->method);
	free(r->path);
	free(r->body);
	free(r);
}

static void s_canned_free(struct s_canned *c)
{
	if (c == NULL)
		return;
	free(c->headers);
	free(c->body);
	free(c);
}

static struct s_canned *s_canned_copy(const struct httpd_response *r)
{
	struct s_canned *c = calloc(1, sizeof(*c));
	size_t blen = r->body == NULL ? 0 : r->body_len != 0 ? r->body_len : strlen(r->body);

	if (c == NULL) {
		fprintf(stderr, "httpd: out of memory\n");
		abort();
	}
	c->r = *r;
	if (r->headers != NULL)
		c->headers = s_strndup(r->headers, strlen(r->headers));
	if (r->body != NULL)
		c->body = s_strndup(r->body, blen);
	c->r.headers = c->headers;
	c->r.body = c->body;
	c->r.body_len = blen;
	return c;
}

/* Wait up to ms for fd to become readable, or for the stop pipe: 1 readable,
 * 0 timed out, -1 stopping or error.  ms < 0 waits without limit. */
static int s_wait(struct httpd *h, int fd, int ms)
{
	struct pollfd p[2] = { { .fd = h->stop_pipe[0], .events = POLLIN },
		               { .fd = fd, .events = POLLIN } };
	int n;

	for (;;) {
		n = poll(p, fd >= 0 ? 2 : 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (p[0].revents & POLLIN))
			return -1;
		return n == 0 ? 0 : 1;
	}
}

static int s_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *s_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 307:
		return "Temporary Redirect";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 413:
		return "Content Too Large";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

/* ---- answering ---------------------------------------------------------- */

struct s_buf {
	char *p;
	size_t len, cap;
};

static void s_buf_add(struct s_buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap == 0 ? 1024 : b->cap;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL) {
			fprintf(stderr, "httpd: out of memory\n");
			abort();
		}
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void s_buf_printf(struct s_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void s_buf_printf(struct s_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	s_buf_add(b, tmp, n < (int)sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Write r as the answer to a request with method; 0, or -1 when the
 * connection must close afterwards (or broke). */
static int s_answer(int fd, const char *method, const struct httpd_response *r, bool keep)
{
	int status = r->status != 0 ? r->status : 200;
	bool has_body = !(status < 200 || status == 204 || status == 304);
	bool own_length = false;
	const unsigned char *body = (const unsigned char *)r->body;
	unsigned char *gz = NULL;
	size_t blen = r->body != NULL ? r->body_len : 0;
	struct s_buf out = { 0 };
	int rc;

	s_buf_printf(&out, "HTTP/1.1 %d %s\r\n", status, s_reason(status));
	for (const char *p = r->headers; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, "\r\n");

		if (n > 0) {
			if (n > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
				own_length = true;
			s_buf_add(&out, p, n);
			s_buf_add(&out, "\r\n", 2);
		}
		p += n;
		while (*p == '\r' || *p == '\n')
			p++;
	}
	if (r->gzip && has_body) {
		gz = httpd_gzip(body != NULL ? body : (const unsigned char *)"", blen, &blen);
		if (gz == NULL)
			abort();
		body = gz;
		s_buf_printf(&out, "Content-Encoding: gzip\r\n");
	}
	if (r->no_length || !keep) {
		s_buf_printf(&out, "Connection: close\r\n");
		keep = false;
	}
	if (has_body && !r->no_length && !own_length)
		s_buf_printf(&out, "Content-Length: %zu\r\n", blen);
	s_buf_add(&out, "\r\n", 2);
	if (has_body && strcmp(method, "HEAD") != 0 && blen > 0)
		s_buf_add(&out, body, blen);
	rc = s_send_all(fd, out.p, out.len);
	free(out.p);
	free(gz);
	return rc < 0 || !keep ? -1 : 0;
}

/* The answer to req: the next queued response, else the handler's, else a
 * 500 that says the test forgot to script one.  Caller frees it. */
static struct s_canned *s_pick(struct httpd *h, const struct httpd_request *req)
{
	struct s_canned *c;
	httpd_handler_fn fn;
	void *arg;

	pthread_mutex_lock(&h->mu);
	c = h->qhead;
	if (c != NULL) {
		h->qhead = c->next;
		if (h->qhead == NULL)
			h->qtail = NULL;
	}
	fn = h->fn;
	arg = h->arg;
	pthread_mutex_unlock(&h->mu);
	if (c != NULL)
		return c;
	if (fn != NULL) {
		struct httpd_response r = { 0 };

		pthread_mutex_lock(&h->handler_mu);
		fn(req, &r, arg);
		c = s_canned_copy(&r);
		pthread_mutex_unlock(&h->handler_mu);
		return c;
	}
	return s_canned_copy(
	    &(struct httpd_response){ .status = 500, .body = "httpd: no scripted response\n" });
}

static void s_record(struct httpd *h, struct httpd_request *req)
{
	pthread_mutex_lock(&h->mu);
	if (h->nreqs == h->capreqs) {
		int cap = h->capreqs == 0 ? 16 : h->capreqs * 2;
		struct httpd_request **p = realloc(h->reqs, (size_t)cap * sizeof(*p));

		if (p == NULL) {
			fprintf(stderr, "httpd: out of memory\n");
			abort();
		}
		h->reqs = p;
		h->capreqs = cap;
	}
	h->reqs[h->nreqs++] = req;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

/* ---- reading requests --------------------------------------------------- */

/* Read more bytes into b; 1 got some, 0 peer closed, -1 stopping/error. */
static int s_read_more(struct httpd *h, int fd, struct s_buf *b)
{
	char tmp[16384];
	ssize_t n;

	if (s_wait(h, fd, -1) < 0)
		return -1;
	n = recv(fd, tmp, sizeof(tmp), 0);
	if (n < 0)
		return errno == EINTR ? 1 : -1;
	if (n == 0)
		return 0;
	s_buf_add(b, tmp, (size_t)n);
	return 1;
}

/*
 * Parse the head in b->p[0..head_len) into a new request.  Sets *clen,
 * *chunked, *expect_continue and *keep (HTTP/1.1 without "Connection: close").
 * NULL when the request line is malformed.
 */
static struct httpd_request *s_parse_head(const char *p, size_t head_len, size_t *clen,
                                          bool *chunked, bool *expect_continue, bool *keep)
{
	struct httpd_request *req = calloc(1, sizeof(*req));
	const char *end = p + head_len, *eol, *sp1, *sp2;
	size_t cap = 0;

	if (req == NULL)
		abort();
	*clen = 0;
	*chunked = *expect_continue = false;
	eol = memmem(p, head_len, "\r\n", 2);
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (sp1 == NULL || sp2 == NULL) {
		free(req);
		return NULL;
	}
	req->method = s_strndup(p, (size_t)(sp1 - p));
	req->path = s_strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	*keep = strncmp(sp2 + 1, "HTTP/1.1", 8) == 0;
	for (p = eol + 2;
	     p < end && (eol = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL && eol > p;
	     p = eol + 2) {
		char *line = s_strndup(p, (size_t)(eol - p));

		if (req->nheaders + 1 >= cap) {
			cap = cap == 0 ? 16 : cap * 2;
			req->headers = realloc(req->headers, cap * sizeof(char *));
			if (req->headers == NULL)
				abort();
		}
		req->headers[req->nheaders++] = line;
		req->headers[req->nheaders] = NULL;
	}
	if (req->headers == NULL) {
		req->headers = calloc(1, sizeof(char *));
		if (req->headers == NULL)
			abort();
	}
	{
		const char *v;

		if ((v = httpd_req_header(req, "Content-Length")) != NULL)
			*clen = (size_t)strtoull(v, NULL, 10);
		if ((v = httpd_req_header(req, "Transfer-Encoding")) != NULL &&
		    strcasestr(v, "chunked") != NULL)
			*chunked = true;
		if ((v = httpd_req_header(req, "Expect")) != NULL &&
		    strcasecmp(v, "100-continue") == 0)
			*expect_continue = true;
		if ((v = httpd_req_header(req, "Connection")) != NULL) {
			if (strcasestr(v, "close") != NULL)
				*keep = false;
			else if (strcasestr(v, "keep-alive") != NULL)
				*keep = true;
		}
	}
	return req;
}

static void *s_conn_main(void *arg)
{
	struct s_conn *cn = arg;
	struct httpd *h = cn->h;
	struct s_buf b = { 0 };
	struct timeval tv = { .tv_sec = 5 };

	/* A client that stops reading must not wedge httpd_stop. */
	setsockopt(cn->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (;;) {
		struct httpd_request *req;
		struct s_canned *c;
		char *hend;
		size_t head_len, clen;
		bool chunked, expect, keep;
		char method[32];
		int rc;

		while ((hend = b.p != NULL ? memmem(b.p, b.len, "\r\n\r\n", 4) : NULL) == NULL) {
			if (b.len > HTTPD_MAX_HEAD) {
				s_answer(cn->fd, "GET", &(struct httpd_response){ .status = 431 },
				         false);
				goto out;
			}
			if (s_read_more(h, cn->fd, &b) <= 0)
				goto out;
		}
		head_len = (size_t)(hend - b.p) + 4;
		req = s_parse_head(b.p, head_len, &clen, &chunked, &expect, &keep);
		if (req == NULL) {
			s_answer(cn->fd, "GET", &(struct httpd_response){ .status = 400 }, false);
			goto out;
		}
		if (chunked || clen > HTTPD_MAX_BODY) {
			s_answer(cn->fd, req->method,
			         &(struct httpd_response){ .status = chunked ? 501 : 413 }, false);
			s_request_free(req);
			goto out;
		}
		if (expect && b.len < head_len + clen &&
		    s_send_all(cn->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0) {
			s_request_free(req);
			goto out;
		}
		while (b.len < head_len + clen) {
			if (s_read_more(h, cn->fd, &b) <= 0) {
				s_request_free(req);
				goto out;
			}
		}
		req->body = s_strndup(b.p + head_len, clen);
		req->body_len = clen;
		req->conn = cn->id;
		req->at = s_now();
		memmove(b.p, b.p + head_len + clen, b.len - head_len - clen);
		b.len -= head_len + clen;
		b.p[b.len] = '\0';

		/* After s_record, req belongs to h (httpd_clear may free it). */
		snprintf(method, sizeof(method), "%s", req->method);
		s_record(h, req);
		c = s_pick(h, req);
		if (c->r.delay_ms > 0 && s_wait(h, -1, c->r.delay_ms) < 0) {
			s_canned_free(c);
			goto out;
		}
		if (c->r.close) {
			s_canned_free(c);
			goto out;
		}
		rc = s_answer(cn->fd, method, &c->r, keep);
		s_canned_free(c);
		if (rc < 0)
			goto out;
	}
out:
	free(b.p);
	close(cn->fd);
	return NULL;
}

static void *s_accept_main(void *arg)
{
	struct httpd *h = arg;

	for (;;) {
		struct s_conn *cn;
		int fd;

		if (s_wait(h, h->lfd, -1) < 0)
			return NULL;
		fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		cn = calloc(1, sizeof(*cn));
		if (cn == NULL)
			abort();
		cn->h = h;
		cn->fd = fd;
		pthread_mutex_lock(&h->mu);
		cn->id = h->nconns++;
		cn->next = h->conns;
		h->conns = cn;
		pthread_mutex_unlock(&h->mu);
		if (pthread_create(&cn->tid, NULL, s_conn_main, cn) != 0) {
			fprintf(stderr, "httpd: pthread_create failed\n");
			abort();
		}
	}
}

/* ---- public ------------------------------------------------------------- */

struct httpd *httpd_start(void)
{
	static const char *const proxies[] = { "http_proxy",  "HTTP_PROXY", "https_proxy",
		                               "HTTPS_PROXY", "all_proxy",  "ALL_PROXY" };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct httpd *h = calloc(1, sizeof(*h));
	int one = 1;

	if (h == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(proxies) / sizeof(proxies[0]); i++)
		unsetenv(proxies[i]);
	h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (h->lfd < 0 || setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(h->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(h->lfd, 64) < 0 ||
	    getsockname(h->lfd, (struct sockaddr *)&sa, &sl) < 0 ||
	    pipe2(h->stop_pipe, O_CLOEXEC) < 0) {
		fprintf(stderr, "httpd: cannot listen on 127.0.0.1: %s\n", strerror(errno));
		if (h->lfd >= 0)
			close(h->lfd);
		free(h);
		return NULL;
	}
	h->port = ntohs(sa.sin_port);
	pthread_mutex_init(&h->mu, NULL);
	pthread_mutex_init(&h->handler_mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (pthread_create(&h->acceptor, NULL, s_accept_main, h) != 0) {
		fprintf(stderr, "httpd: pthread_create failed\n");
		close(h->lfd);
		close(h->stop_pipe[0]);
		close(h->stop_pipe[1]);
		free(h);
		return NULL;
	}
	return h;
}

void httpd_stop(struct httpd **hp)
{
	struct httpd *h;

	if (hp == NULL || *hp == NULL)
		return;
	h = *hp;
	if (write(h->stop_pipe[1], "x", 1) != 1)
		fprintf(stderr, "httpd: cannot signal the server threads to stop\n");
	pthread_join(h->acceptor, NULL);
	/* The acceptor is gone, so h->conns no longer changes. */
	while (h->conns != NULL) {
		struct s_conn *cn = h->conns;

		h->conns = cn->next;
		pthread_join(cn->tid, NULL);
		free(cn);
	}
	httpd_clear(h);
	free(h->reqs);
	close(h->lfd);
	close(h->stop_pipe[0]);
	close(h->stop_pipe[1]);
	pthread_mutex_destroy(&h->mu);
	pthread_mutex_destroy(&h->handler_mu);
	pthread_cond_destroy(&h->cv);
	free(h);
	*hp = NULL;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

const char *httpd_url(struct httpd *h, const char *path)
{
	char *u;

	pthread_mutex_lock(&h->mu);
	u = h->urls[h->urlslot];
	h->urlslot = (h->urlslot + 1) % HTTPD_URLS;
	pthread_mutex_unlock(&h->mu);
	snprintf(u, sizeof(h->urls[0]), "http://127.0.0.1:%d%s", h->port,
	         path != NULL ? path : "/");
	return u;
}

void httpd_push(struct httpd *h, const struct httpd_response *resp)
{
	struct s_canned *c = s_canned_copy(resp);

	pthread_mutex_lock(&h->mu);
	if (h->qtail != NULL)
		h->qtail->next = c;
	else
		h->qhead = c;
	h->qtail = c;
	pthread_mutex_unlock(&h->mu);
}

void httpd_set_handler(struct httpd *h, httpd_handler_fn fn, void *arg)
{
	pthread_mutex_lock(&h->mu);
	h->fn = fn;
	h->arg = arg;
	pthread_mutex_unlock(&h->mu);
}

int httpd_request_count(struct httpd *h)
{
	int n;

	pthread_mutex_lock(&h->mu);
	n = h->nreqs;
	pthread_mutex_unlock(&h->mu);
	return n;
}

const struct httpd_request *httpd_request(struct httpd *h, int i)
{
	const struct httpd_request *r = NULL;

	pthread_mutex_lock(&h->mu);
	if (i >= 0 && i < h->nreqs)
		r = h->reqs[i];
	pthread_mutex_unlock(&h->mu);
	return r;
}

int httpd_wait_requests(struct httpd *h, int n, int timeout_ms)
{
	struct timespec until;
	int got;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->mu);
	while (h->nreqs < n && pthread_cond_timedwait(&h->cv, &h->mu, &until) == 0)
		;
	got = h->nreqs;
	pthread_mutex_unlock(&h->mu);
	return got;
}

void httpd_clear(struct httpd *h)
{
	pthread_mutex_lock(&h->mu);
	for (int i = 0; i < h->nreqs; i++)
		s_request_free(h->reqs[i]);
	h->nreqs = 0;
	while (h->qhead != NULL) {
		struct s_canned *c = h->qhead;

		h->qhead = c->next;
		s_canned_free(c);
	}
	h->qtail = NULL;
	pthread_mutex_unlock(&h->mu);
}

int httpd_setup(void **state)
{
	struct httpd *h = httpd_start();

	if (h == NULL)
		return -1;
	*state = h;
	return 0;
}

int httpd_teardown(void **state)
{
	struct httpd *h = *state;

	httpd_stop(&h);
	return 0;
}
