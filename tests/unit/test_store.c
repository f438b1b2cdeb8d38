/*
 * test_store.c - SQLite state files: creation, settings and migrations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "support/testutil.h"

static const char *const s_v2[] = {
	"CREATE TABLE fetch (url TEXT PRIMARY KEY, etag TEXT);",
	"CREATE TABLE cursor (name TEXT PRIMARY KEY, value TEXT);"
	"INSERT INTO cursor VALUES ('edgar', 'start');",
	NULL,
};

static const char *const s_v3[] = {
	"CREATE TABLE fetch (url TEXT PRIMARY KEY, etag TEXT);",
	"CREATE TABLE cursor (name TEXT PRIMARY KEY, value TEXT);"
	"INSERT INTO cursor VALUES ('edgar', 'start');",
	"ALTER TABLE fetch ADD COLUMN last_modified TEXT;",
	NULL,
};

static char *s_dir;

static int s_setup(void **state)
{
	(void)state;
	s_dir = test_tmpdir();
	return s_dir != NULL ? 0 : -1;
}

static int s_teardown(void **state)
{
	(void)state;
	free(s_dir);
	s_dir = NULL;
	return 0;
}

/* One integer from a query; -1 when it fails. */
static long s_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void s_path(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", s_dir, rel);
}

static void test_open_creates_the_directory_0700_and_the_file_0600(void **state)
{
	char dir[512], file[600], err[256];
	struct stat st;
	sqlite3 *db;
	mode_t old = umask(022);

	(void)state;
	s_path(dir, sizeof(dir), "var/lib/coattail");
	snprintf(file, sizeof(file), "%s/scraper.db", dir);
	db = store_open(dir, "scraper.db", s_v2, false, err, sizeof(err));
	umask(old);
	assert_non_null(db);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	s_path(dir, sizeof(dir), "var/lib");
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(file, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	store_close(&db);
	assert_null(db);
	store_close(&db); /* idempotent */
}

static void test_open_sets_wal_busy_timeout_and_foreign_keys(void **state)
{
	char err[256];
	sqlite3 *db;
	char *mode = NULL;
	sqlite3_stmt *st = NULL;

	(void)state;
	db = store_open(s_dir, "mapper.db", s_v2, false, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	mode = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(s_int(db, "PRAGMA busy_timeout"), 5000);
	assert_int_equal(s_int(db, "PRAGMA foreign_keys"), 1);
	store_close(&db);
}

static void test_synchronous_is_full_or_normal_as_asked(void **state)
{
	char err[256];
	sqlite3 *db;

	(void)state;
	db = store_open(s_dir, "journal.db", s_v2, true, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(s_int(db, "PRAGMA synchronous"), 2); /* FULL */
	store_close(&db);
	db = store_open(s_dir, "journal.db", s_v2, false, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(s_int(db, "PRAGMA synchronous"), 1); /* NORMAL */
	store_close(&db);
}

static void test_migrations_run_once_and_not_again_on_reopen(void **state)
{
	char err[256];
	sqlite3 *db;

	(void)state;
	db = store_open(s_dir, "s.db", s_v2, false, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(store_version(db), 2);
	assert_int_equal(s_int(db, "SELECT count(*) FROM cursor"), 1);
	store_close(&db);

	/* A second run of migration 0 would fail (the table exists) and of
	 * migration 1 would add a second row. */
	db = store_open(s_dir, "s.db", s_v2, false, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(store_version(db), 2);
	assert_int_equal(s_int(db, "SELECT count(*) FROM cursor"), 1);
	store_close(&db);
}

static void test_a_new_migration_moves_an_old_file_forward(void **state)
{
	char err[256];
	sqlite3 *db;

	(void)state;
	db = store_open(s_dir, "s.db", s_v2, false, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(store_exec(db, "INSERT INTO fetch VALUES ('u', 'e')", err, sizeof(err)),
	                 0);
	store_close(&db);
	db = store_open(s_dir, "s.db", s_v3, false, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(store_version(db), 3);
	assert_int_equal(s_int(db, "SELECT count(*) FROM fetch WHERE last_modified IS NULL"), 1);
	store_close(&db);
}

static void test_a_newer_schema_is_refused(void **state)
{
	char err[256];
	sqlite3 *db;

	(void)state;
	db = store_open(s_dir, "s.db", s_v3, false, err, sizeof(err));
	assert_non_null(db);
	store_close(&db);
	db = store_open(s_dir, "s.db", s_v2, false, err, sizeof(err));
	assert_null(db);
	assert_non_null(strstr(err, "schema version 3 is newer"));
	assert_non_null(strstr(err, "s.db"));
}

static void test_a_failing_migration_is_rolled_back(void **state)
{
	static const char *const bad[] = {
		"CREATE TABLE a (x INTEGER);",
		"CREATE TABLE b (y INTEGER); INSERT INTO no_such_table VALUES (1);",
		NULL,
	};
	char err[256];
	sqlite3 *db;

	(void)state;
	db = store_open(s_dir, "bad.db", bad, false, err, sizeof(err));
	assert_null(db);
	assert_non_null(strstr(err, "migration 1 -> 2"));
	assert_non_null(strstr(err, "no_such_table"));
	/* Version 1 was committed; nothing of migration 2 remains. */
	db = store_open(s_dir, "bad.db", (const char *const[]){ bad[0], NULL }, false, err,
	                sizeof(err));
	assert_non_null(db);
	assert_int_equal(store_version(db), 1);
	assert_int_equal(s_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'b'"), 0);
	assert_int_equal(s_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'a'"), 1);
	store_close(&db);
}

static void test_no_migrations_opens_an_empty_schema(void **state)
{
	char err[256];
	sqlite3 *db;

	(void)state;
	db = store_open(s_dir, "empty.db", NULL, false, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(store_version(db), 0);
	store_close(&db);
}

static void test_foreign_keys_are_enforced(void **state)
{
	static const char *const fk[] = {
		"CREATE TABLE parent (id INTEGER PRIMARY KEY);"
		"CREATE TABLE child (pid INTEGER REFERENCES parent(id));",
		NULL,
	};
	char err[256];
	sqlite3 *db;

	(void)state;
	db = store_open(s_dir, "fk.db", fk, false, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(store_exec(db, "INSERT INTO child VALUES (7)", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "FOREIGN KEY"));
	store_close(&db);
}

static void test_exec_error_names_the_statement(void **state)
{
	char err[256];
	sqlite3 *db;

	(void)state;
	db = store_open(s_dir, "e.db", NULL, false, err, sizeof(err));
	assert_non_null(db);
	assert_int_equal(store_exec(db, "SELEC oops", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SELEC oops: "));
	assert_non_null(strstr(err, "syntax error"));
	assert_int_equal(
	    store_exec(db, "CREATE TABLE t (a); INSERT INTO t VALUES (1)", err, sizeof(err)), 0);
	store_close(&db);
}

static void test_bad_names_and_unusable_directories_are_refused(void **state)
{
	char err[256], file[512];
	FILE *f;

	(void)state;
	assert_null(store_open(s_dir, "../escape.db", NULL, false, err, sizeof(err)));
	assert_null(store_open(s_dir, "", NULL, false, err, sizeof(err)));
	assert_null(store_open(NULL, "x.db", NULL, false, err, sizeof(err)));
	/* A file where the state directory should be. */
	s_path(file, sizeof(file), "plainfile");
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_null(store_open(file, "x.db", NULL, false, err, sizeof(err)));
	assert_non_null(strstr(err, "plainfile"));
	s_path(file, sizeof(file), "plainfile/sub");
	assert_int_equal(store_mkdirs(file, 0700), -1);
}

static void test_mkdirs_accepts_existing_and_repeated_slashes(void **state)
{
	char dir[512];
	struct stat st;

	(void)state;
	s_path(dir, sizeof(dir), "x//y/z/");
	assert_int_equal(store_mkdirs(dir, 0700), 0);
	assert_int_equal(store_mkdirs(dir, 0700), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void test_two_handles_share_one_file(void **state)
{
	char err[256];
	sqlite3 *a, *b;

	(void)state;
	a = store_open(s_dir, "shared.db", s_v2, false, err, sizeof(err));
	b = store_open(s_dir, "shared.db", s_v2, false, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(store_exec(a, "INSERT INTO fetch VALUES ('x', 'y')", err, sizeof(err)), 0);
	assert_int_equal(s_int(b, "SELECT count(*) FROM fetch"), 1);
	store_close(&a);
	store_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
		T(test_open_creates_the_directory_0700_and_the_file_0600),
		T(test_open_sets_wal_busy_timeout_and_foreign_keys),
		T(test_synchronous_is_full_or_normal_as_asked),
		T(test_migrations_run_once_and_not_again_on_reopen),
		T(test_a_new_migration_moves_an_old_file_forward),
		T(test_a_newer_schema_is_refused),
		T(test_a_failing_migration_is_rolled_back),
		T(test_no_migrations_opens_an_empty_schema),
		T(test_foreign_keys_are_enforced),
		T(test_exec_error_names_the_statement),
		T(test_bad_names_and_unusable_directories_are_refused),
		T(test_mkdirs_accepts_existing_and_repeated_slashes),
		T(test_two_handles_share_one_file),
#undef T
	};

	log_init("test_store", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
