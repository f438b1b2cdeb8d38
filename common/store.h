/*
 * store.h - SQLite files in the state directory.
 *
 * Every stage keeps its state in its own SQLite file, opened in WAL mode with
 * a busy timeout, foreign keys on, and a schema version in PRAGMA
 * user_version that migrations move forward one step at a time, each in a
 * transaction.
 */
#ifndef COATTAIL_STORE_H
#define COATTAIL_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Open (creating if needed) state_dir/name, creating state_dir with mode
 * 0700 when missing.  migrations[i] is the SQL that brings the schema from
 * version i to i+1; the array is NULL-terminated.  synchronous_full: FULL
 * (the executor's journal: an answer is on disk before the next broker call)
 * instead of NORMAL.  A file with a newer schema than the binary knows is
 * refused.  Returns the handle, or NULL with err filled.
 */
sqlite3 *store_open(const char *state_dir, const char *name, const char *const *migrations,
                    bool synchronous_full, char *err, size_t errlen);
void store_close(sqlite3 **db);

/* Run SQL with no result rows; 0, or -1 with err filled ("SQL: message"). */
int store_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

/* The schema version (PRAGMA user_version), or -1. */
int store_version(sqlite3 *db);

/* mkdir -p with the given mode for each missing component; 0 or -1. */
int store_mkdirs(const char *path, unsigned mode);

#endif
