/*
 * openfigi.h - OpenFIGI v3 /v3/mapping: building requests, reading answers,
 * and choosing one row among several (APIS.md section 1).
 *
 * Nothing here talks to the network: mapper.c sends what this builds and
 * hands the answer back here.  Every answer is outside input: it is checked
 * shape by shape, and a bad element costs that job, a bad array the request.
 */
#ifndef COATTAIL_OPENFIGI_H
#define COATTAIL_OPENFIGI_H

#include <stddef.h>

/* The most jobs the API takes in one request (with a key). */
#define OPENFIGI_MAX_JOBS 100
/* Rows looked at per job; an answer with more is refused (with exchCode set
 * real answers have a handful). */
#define OPENFIGI_MAX_ROWS 10000
/* Longest text field kept from a row; longer ones read as null. */
#define OPENFIGI_MAX_FIELD 512
/* Longest job key (openfigi_job_key). */
#define OPENFIGI_KEY_LEN 160

/* One mapping job.  exch_code and mic_code are mutually exclusive. */
struct figi_job {
	const char *id_type;   /* "TICKER", "ID_BB_GLOBAL_SHARE_CLASS_LEVEL", ... */
	const char *id_value;  /* "AAPL" */
	const char *exch_code; /* "US", "GY", or NULL */
	const char *mic_code;  /* "XETR", or NULL */
};

/* One FIGI object of a `data` array.  Strings are owned; NULL = null. */
struct figi_row {
	char *figi; /* never NULL in a parsed row: 12 characters, [A-Z0-9] */
	char *name;
	char *ticker;
	char *exch_code;
	char *composite_figi;
	char *security_type;
	char *market_sector;
	char *share_class_figi;
	char *security_type2;
	char *security_description;
	char *block; /* NULL: each string is its own allocation; else every string
	                points into this one allocation (figi_row_free frees it) */
};

enum figi_answer {
	FIGI_FOUND = 1,     /* rows, at least one usable */
	FIGI_NOT_FOUND = 2, /* {"warning": ...} ("No identifier found.") or no usable row */
	FIGI_ERROR = 3,     /* {"error": ...}: the job itself was refused */
	FIGI_BAD = 4,       /* an element of none of those shapes; as a cached answer
	                       (figi_cache.h): the job refused when asked alone */
};

/* The answer to one job. */
struct figi_result {
	enum figi_answer kind;
	char *message;         /* warning or error text; for FIGI_BAD what was wrong */
	struct figi_row *rows; /* FIGI_FOUND: the usable rows */
	size_t n_rows;
};

/*
 * The cache key of a job: "TICKER|AAPL|exch=US" or "...|mic=XETR".
 * Returns 0, or -1 when it does not fit in len.
 */
int openfigi_job_key(const struct figi_job *job, char *buf, size_t len);

/*
 * The request body for n jobs (1..OPENFIGI_MAX_JOBS... any n >= 1): a JSON
 * array of job objects, compact.  *body is malloc'd.  0, or -1 with err.
 */
int openfigi_request_body(const struct figi_job *jobs, size_t n, char **body, size_t *len,
                          char *err, size_t errlen);

/*
 * Read a 200 answer to a request of n_jobs jobs: a JSON array of exactly
 * n_jobs elements, element i answering job i.  res must hold n_jobs results;
 * on success each is filled (free with openfigi_results_free).  Returns -1
 * with err when the body as a whole is unusable (not JSON, not an array,
 * the wrong length): then no result is filled and none is attributable.
 * Returns -2 with err "out of memory" when that is why: our failure, not
 * the answer's.  Rows without a well-formed figi are skipped; fields of the
 * wrong type or longer than OPENFIGI_MAX_FIELD read as null.
 */
int openfigi_parse(const char *body, size_t len, size_t n_jobs, struct figi_result *res, char *err,
                   size_t errlen);

void openfigi_results_free(struct figi_result *res, size_t n);
void figi_row_free(struct figi_row *row);
/* Deep copy; 0, or -1 when out of memory (dst then zeroed). */
int figi_row_copy(struct figi_row *dst, const struct figi_row *src);

/*
 * The choice rule: which of n rows answers the job.  Returns its index, or
 * -1 when n is 0.  See mapper.c's header comment for the rule; it depends
 * only on the rows' contents, never on their order.
 */
long openfigi_choose(const struct figi_row *rows, size_t n, const struct figi_job *job);

/* A FIGI is 12 characters of [A-Z0-9] (the third is 'G'). */
int openfigi_figi_valid(const char *s);

#endif
