/*
 * conf.h - configuration: one libconfig file, validated against one table.
 *
 * Every setting of every stage is declared once, in a table of
 * {path, type, default, min, max, env, doc} (common/settings_*.c), so every
 * binary validates the whole file the same way (`-n`), unknown keys are
 * refused, and the README's reference is generated from the same table.
 *
 * File shape (libconfig): top-level settings plus one group per area:
 *
 *     state_dir = "/var/lib/coattail";
 *     wire:    { hwm = 10000; };
 *     mapper:  { in = "ipc://mapper.in"; out = [ "ipc://decider.in" ]; };
 *
 * A setting's path is its dotted name ("mapper.in").  Precedence, lowest
 * first: the table's default, the file, the setting's environment variable.
 */
#ifndef COATTAIL_CONF_H
#define COATTAIL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum conf_type {
	CONF_END = 0, /* terminates a table */
	CONF_BOOL,
	CONF_INT,     /* int64, within [min, max] */
	CONF_DOUBLE,  /* within [min, max] */
	CONF_STRING,  /* length within [min, max] bytes; choices if given */
	CONF_STRLIST, /* libconfig list or array of strings; default is
	                 comma-separated ("a,b"); "" is the empty list */
	CONF_SECRET,  /* a string that must not be logged; see conf_secret() */
};

struct conf_setting {
	const char *path; /* "mapper.batch_ms" */
	enum conf_type type;
	const char *def; /* default, as text ("250", "true", "ipc://x"); NULL = unset */
	double min, max;
	const char *env;            /* overriding environment variable, or NULL */
	const char *const *choices; /* allowed strings, NULL-terminated, or NULL */
	const char *doc;            /* one line for the reference */
};

/* Tables, each ended by an entry of type CONF_END (settings_*.c). */
extern const struct conf_setting conf_settings_common[];
extern const struct conf_setting conf_settings_scraper[];
extern const struct conf_setting conf_settings_mapper[];
extern const struct conf_setting conf_settings_decider[];
extern const struct conf_setting conf_settings_executor[];
extern const struct conf_setting conf_settings_tap[];

typedef struct conf conf_t;

/* $COATTAIL_CONF, else the installed default (SYSCONFDIR/coattail/coattail.conf). */
const char *conf_default_path(void);

/*
 * Load and validate a config file (path NULL: defaults and environment only).
 * Every problem is reported, one per line, as "FILE:LINE: message" (or
 * "VARIABLE: message" for an environment override) into errs; all of them,
 * not only the first.  Unknown keys, wrong types, out-of-range values and a
 * group- or world-readable file holding an inline secret are errors.
 * "@include" paths are relative to the including file's directory.
 * Returns the config, or NULL with errs filled.
 */
conf_t *conf_load(const char *path, char *errs, size_t errlen);
void conf_free(conf_t **c);
/* The file loaded, or NULL. */
const char *conf_file(const conf_t *c);

/* Typed getters.  Asking for a path not in the tables, or with the wrong
 * type, is a programming error and aborts via fatalx. */
bool conf_bool(const conf_t *c, const char *path);
int64_t conf_int(const conf_t *c, const char *path);
double conf_double(const conf_t *c, const char *path);
/* NULL when unset and without default. */
const char *conf_str(const conf_t *c, const char *path);
/* Number of items; *items points at an array owned by c. */
size_t conf_strlist(const conf_t *c, const char *path, const char *const **items);

/*
 * Read a secret (CONF_SECRET setting at `path`, e.g. "mapper.openfigi_key").
 * Sources, first found wins:
 *   1. the setting's environment variable (COATTAIL_OPENFIGI_KEY);
 *   2. $CREDENTIALS_DIRECTORY/<last path component> (systemd LoadCredential=);
 *   3. the file named by the string setting "<path>_file";
 *   4. the inline value in the config file (refused at load time when the
 *      file is group- or world-readable).
 * Surrounding whitespace is trimmed.  Returns 1 and fills buf when found,
 * 0 when no source sets it, -1 on an error (unreadable file, too long) with
 * err filled; err never contains the secret.
 */
int conf_secret(const conf_t *c, const char *path, char *buf, size_t len, char *err, size_t errlen);

/* Write the reference of every setting as a Markdown table (README). */
void conf_write_reference(FILE *f);

#endif
