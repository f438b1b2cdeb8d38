/*
 * docbuf.h - one buffer that --file reads document after document into.
 *
 * A buffer per document was a malloc and a free of the document's size
 * each time (a page is ~90 KB): large chunks that made glibc consolidate
 * its free lists and hand memory back to the kernel between documents.
 * The buffer is kept instead, grown when a document needs more, and given
 * back by doc_buf_trim() when one document made it large.
 */
#ifndef COATTAIL_DOCBUF_H
#define COATTAIL_DOCBUF_H

#include <stdbool.h>
#include <stddef.h>

/* Zero it (or doc_buf_init) before the first read. */
struct doc_buf {
	char *buf;  /* NULL until the first read */
	size_t cap; /* bytes allocated, the NUL's included */
};

void doc_buf_init(struct doc_buf *b);
/* Free the buffer; b is then as after doc_buf_init.  Idempotent. */
void doc_buf_free(struct doc_buf *b);
/* Free the buffer if it is over keep bytes. */
void doc_buf_trim(struct doc_buf *b, size_t keep);

/*
 * Read the whole file at path, of at most max bytes, into b: returns
 * b->buf, NUL-terminated, with *len its length; the text stays valid until
 * the next call on b.  NULL with err when the file cannot be read or is
 * larger than max ("larger than N bytes").  NULL with *jsonl set, and err
 * untouched, when the first non-blank byte of its first DOC_BUF_JSONL_HEAD
 * bytes is '{': JSON lines, which the caller streams with no size cap
 * (those bytes are read alone first, so a JSON-lines file is never read
 * into b whole).
 *
 * One open, one fstat and plain read(2)s: into the buffer as it is when it
 * holds the file's size (fstat) and its NUL, else into one of exactly that
 * size; a file longer than fstat said (or not a regular file) grows it by
 * doubling.
 */
char *doc_buf_read(struct doc_buf *b, const char *path, size_t max, size_t *len, bool *jsonl,
                   char *err, size_t errlen);

/* How much of a file doc_buf_read looks at to tell JSON lines. */
#define DOC_BUF_JSONL_HEAD 4096

#endif
