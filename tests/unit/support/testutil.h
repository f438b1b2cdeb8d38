/*
 * testutil.h - helpers shared by the cmocka unit tests.
 */
#ifndef COATTAIL_TESTUTIL_H
#define COATTAIL_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Directory of the shared, read-only fixtures (../shared/fixtures beside the
 * checkout, or $COATTAIL_SHARED_FIXTURES).  Returns NULL, after printing
 * "SKIP: ../shared/fixtures absent" once, when it does not exist; a test
 * then calls skip().
 */
const char *test_shared_fixtures(void);

/* Directory of the project's own fixtures (tests/fixtures). */
const char *test_fixtures(void);

/* Read a whole file (NUL-terminated; *len excludes the NUL); NULL on error. */
char *test_read_file(const char *path, size_t *len);

/* A fresh private temporary directory (removed by the test runner's tmp). */
char *test_tmpdir(void);

/* Run sql (one or more statements) on the SQLite file at path through a
 * connection of its own, as a hand edit of the file would: SQLITE_OK, or
 * SQLite's code with the message printed. */
int test_sql_exec(const char *path, const char *sql);

/* The integer in the first column of the first row sql yields on the
 * SQLite file at path (a read-only connection of its own); -1 with a
 * message printed when it yields none or fails. */
int64_t test_sql_int(const char *path, const char *sql);

#endif
