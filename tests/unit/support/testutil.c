#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>

const char *test_shared_fixtures(void)
{
	static int warned;
	const char *dir = getenv("COATTAIL_SHARED_FIXTURES");
	struct stat st;

	if (dir == NULL)
		dir = "../shared/fixtures";
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return dir;
	if (!warned) {
		fprintf(stderr, "SKIP: %s absent: tests of the shared fixtures skipped\n", dir);
		warned = 1;
	}
	return NULL;
}

const char *test_fixtures(void)
{
	const char *dir = getenv("COATTAIL_FIXTURES");

	return dir != NULL ? dir : "tests/fixtures";
}

char *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	char *d;

	snprintf(tmpl, sizeof(tmpl), "%s/coattail-test-XXXXXX", base != NULL ? base : "/tmp");
	d = mkdtemp(tmpl);
	return d != NULL ? strdup(d) : NULL;
}

int test_sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc = sqlite3_open(path, &db);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "test_sql_exec %s: %s\n", path,
		        msg != NULL  ? msg
		        : db != NULL ? sqlite3_errmsg(db)
		                     : "out of memory");
	sqlite3_free(msg);
	sqlite3_close(db);
	return rc;
}

int64_t test_sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		fprintf(stderr, "test_sql_int %s: %s\n", path,
		        db != NULL ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}
