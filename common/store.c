/*
 * store.c - SQLite files in the state directory (see store.h).
 *
 * The settings every state file shares: WAL (readers never block the one
 * writer), a busy timeout so a second process waits instead of failing,
 * foreign keys enforced, and the schema moved forward by numbered migrations
 * recorded in PRAGMA user_version.
 */
#include "store.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_BUSY_TIMEOUT_MS 5000

int store_mkdirs(const char *path, unsigned mode)
{
	char buf[4096];
	struct stat st;
	size_t len;

	if (path == NULL || path[0] == '\0') {
		errno = EINVAL;
		return -1;
	}
	len = strlen(path);
	if (len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	/* Each prefix ending before a '/', then the whole path. */
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			char saved = *p;

			*p = '\0';
			if (mkdir(buf, (mode_t)mode) != 0) {
				int e = errno;

				if (e != EEXIST || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
					errno = e == EEXIST ? ENOTDIR : e;
					return -1;
				}
			}
			*p = saved;
		}
		if (*p == '\0')
			break;
	}
	return 0;
}

int store_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	if (err != NULL && errlen > 0) {
		/* Quote the start of the statement: enough to find it. */
		int n = (int)strcspn(sql, "\n");

		snprintf(err, errlen, "%.*s%s: %s", n > 60 ? 60 : n, sql,
		         n > 60 || sql[n] != '\0' ? "..." : "",
		         msg != NULL ? msg : sqlite3_errmsg(db));
	}
	sqlite3_free(msg);
	return -1;
}

int store_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (db == NULL)
		return -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

void store_close(sqlite3 **db)
{
	if (db == NULL || *db == NULL)
		return;
	if (sqlite3_close(*db) != SQLITE_OK) {
		/* A statement left unfinalized by a caller: close once it is. */
		log_warnx("store: closing %s: %s", sqlite3_db_filename(*db, "main"),
		          sqlite3_errmsg(*db));
		sqlite3_close_v2(*db);
	}
	*db = NULL;
}

/* The first column of a one-row PRAGMA, as text, into buf; 0 or -1. */
static int s_pragma_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Bring the schema from its version to n, one migration per transaction.
 * BEGIN IMMEDIATE takes the write lock before the version is read again, so
 * two processes opening the same new file do not both run migration i.
 */
static int s_migrate(sqlite3 *db, const char *path, const char *const *migrations, int n, char *err,
                     size_t errlen)
{
	char why[512];

	for (;;) {
		int v;

		if (store_exec(db, "BEGIN IMMEDIATE", why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", path, why);
			return -1;
		}
		v = store_version(db);
		if (v < 0 || v > n) {
			store_exec(db, "ROLLBACK", NULL, 0);
			snprintf(err, errlen,
			         "%s: schema version %d is newer than this program knows (%d)",
			         path, v, n);
			return -1;
		}
		if (v == n) {
			store_exec(db, "COMMIT", NULL, 0);
			return 0;
		}
		if (store_exec(db, migrations[v], why, sizeof(why)) < 0) {
			store_exec(db, "ROLLBACK", NULL, 0);
			snprintf(err, errlen, "%s: migration %d -> %d: %s", path, v, v + 1, why);
			return -1;
		}
		{
			char sql[64];

			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
			if (store_exec(db, sql, why, sizeof(why)) < 0 ||
			    store_exec(db, "COMMIT", why, sizeof(why)) < 0) {
				store_exec(db, "ROLLBACK", NULL, 0);
				snprintf(err, errlen, "%s: migration %d -> %d: %s", path, v, v + 1,
				         why);
				return -1;
			}
		}
		log_debug("store: %s: schema migrated to version %d", path, v + 1);
	}
}

sqlite3 *store_open(const char *state_dir, const char *name, const char *const *migrations,
                    bool synchronous_full, char *err, size_t errlen)
{
	char path[4096], why[512], mode[32];
	sqlite3 *db = NULL;
	int n = 0, fd, rc;

	if (err == NULL || errlen == 0) {
		err = why;
		errlen = sizeof(why);
	}
	err[0] = '\0';
	if (state_dir == NULL || state_dir[0] == '\0' || name == NULL || name[0] == '\0' ||
	    strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		snprintf(err, errlen, "store: need a state directory and a plain file name");
		return NULL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", state_dir, name) >= sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", state_dir);
		return NULL;
	}
	while (migrations != NULL && migrations[n] != NULL)
		n++;
	if (store_mkdirs(state_dir, 0700) < 0) {
		snprintf(err, errlen, "%s: cannot create the state directory: %s", state_dir,
		         strerror(errno));
		return NULL;
	}
	/* Create the file ourselves: SQLite would make it 0644 & ~umask, and
	 * it gives its -wal and -shm files the database file's mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);

	/* Before SQLite's first use in the process (later it refuses,
	 * harmlessly): no allocation statistics, which took a global mutex
	 * on every malloc and free of SQLite's. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	/* No mutex per connection: each stage uses a connection from one
	 * thread (the CURVE handler's thread opens none).  SQLite took and
	 * dropped its connection mutex on every call: ~5% of the decider's
	 * instructions with every trade a candidate. */
	rc = sqlite3_open_v2(
	    path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
		         db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	if (s_pragma_text(db, "PRAGMA journal_mode = WAL", mode, sizeof(mode)) < 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		snprintf(err, errlen, "%s: cannot use WAL mode (journal mode is %s)", path, mode);
		goto fail;
	}
	if (store_exec(
	        db, synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	        why, sizeof(why)) < 0 ||
	    store_exec(db, "PRAGMA foreign_keys = ON", why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	if (s_migrate(db, path, migrations, n, err, errlen) < 0)
		goto fail;
	return db;
fail:
	store_close(&db);
	return NULL;
}
