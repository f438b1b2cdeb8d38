/*
 * docbuf.c - reading --file documents into one buffer kept across them.
 */
#include "docbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* First size tried when fstat does not give one (a pipe, a device). */
#define DOC_BUF_FIRST 65536

void doc_buf_init(struct doc_buf *b)
{
	b->buf = NULL;
	b->cap = 0;
}

void doc_buf_free(struct doc_buf *b)
{
	free(b->buf);
	doc_buf_init(b);
}

void doc_buf_trim(struct doc_buf *b, size_t keep)
{
	if (b->cap > keep)
		doc_buf_free(b);
}

/* Whether the first non-blank byte of head is '{': JSON lines. */
static bool s_head_is_jsonl(const char *head, size_t n)
{
	size_t i = 0;

	while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
		i++;
	return i < n && head[i] == '{';
}

/* Make room for want bytes and a NUL; the contents need not survive. */
static int s_reserve(struct doc_buf *b, size_t want)
{
	char *t;

	if (b->buf != NULL && b->cap >= want + 1)
		return 0;
	free(b->buf);
	doc_buf_init(b);
	if ((t = malloc(want + 1)) == NULL)
		return -1;
	b->buf = t;
	b->cap = want + 1;
	return 0;
}

char *doc_buf_read(struct doc_buf *b, const char *path, size_t max, size_t *len, bool *jsonl,
                   char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = DOC_BUF_FIRST, n = 0;
	bool judged = false;
	struct stat st;

	*jsonl = false;
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    (uint64_t)st.st_size < max)
		cap = (size_t)st.st_size + 1;
	if (s_reserve(b, cap) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	cap = b->cap - 1; /* all of it: a kept buffer may be larger */
	for (;;) {
		ssize_t got;

		if (n == cap) {
			char *t;

			if (judged && n > max) {
				snprintf(err, errlen, "larger than %zu bytes", max);
				goto fail;
			}
			if ((t = realloc(b->buf, cap * 2 + 1)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			b->buf = t;
			b->cap = cap * 2 + 1;
			cap *= 2;
		}
		/* the head first, alone: JSON lines are then read by the caller,
		 * block by block, and never held here whole */
		got = read(fd, b->buf + n,
		           judged || cap - n < DOC_BUF_JSONL_HEAD - n ? cap - n
		                                                      : DOC_BUF_JSONL_HEAD - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "read error");
			goto fail;
		}
		n += (size_t)got;
		if (!judged && (got == 0 || n >= DOC_BUF_JSONL_HEAD)) {
			judged = true;
			if (s_head_is_jsonl(b->buf,
			                    n < DOC_BUF_JSONL_HEAD ? n : DOC_BUF_JSONL_HEAD)) {
				*jsonl = true;
				goto fail;
			}
		}
		if (got == 0)
			break;
	}
	close(fd);
	if (n > max) {
		snprintf(err, errlen, "larger than %zu bytes", max);
		return NULL;
	}
	b->buf[n] = '\0';
	*len = n;
	return b->buf;
fail:
	close(fd);
	return NULL;
}
