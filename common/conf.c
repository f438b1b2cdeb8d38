/*
 * conf.c - load a libconfig file and validate it against the settings tables.
 *
 * The file is parsed by libconfig, then its whole tree is walked once: every
 * setting is looked up in the tables (common/settings_*.c), type- and
 * range-checked, and copied into a flat array of values; every problem is
 * collected, with the file and line libconfig recorded, so an operator fixes
 * them all in one go.  The libconfig tree is then destroyed: getters read only
 * the copied values.
 *
 * Table conventions: for CONF_STRING, CONF_SECRET and the items of
 * CONF_STRLIST, min/max are lengths in bytes and max <= 0 means no upper
 * bound.  An environment variable set to the empty string counts as unset, so
 * an EnvironmentFile= line "COATTAIL_X=" does not wipe a setting.
 *
 * libconfig 1.5 (Debian 12) has one include directory for the whole parse,
 * which we set to the main file's directory: "@include" paths are relative to
 * it (for an included file in the same directory, that is its own directory),
 * and absolute include paths do not work.  It also wraps decimal integers that
 * overflow 32 bits without an "L" suffix, silently; s_int_literal_ok() catches
 * that by re-reading the literal from the source line.
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

#define CONF_PATH_MAX        256   /* longest dotted setting path we look up */
#define CONF_SECRET_FILE_MAX 65536 /* largest secret file we read */
#define CONF_QUOTE_MAX       64    /* bytes of a bad value quoted in a message */

static const struct conf_setting *const s_tables[] = {
	conf_settings_common,
	conf_settings_scraper,
	conf_settings_mapper,
	conf_settings_decider,
	conf_settings_executor,
	conf_settings_tap,
	NULL,
};

/* The value of one setting, from its default, the file or the environment. */
struct conf_value {
	const struct conf_setting *s; /* its table entry */
	bool b;                       /* CONF_BOOL */
	int64_t i;                    /* CONF_INT */
	double d;                     /* CONF_DOUBLE */
	char *str;                    /* CONF_STRING, CONF_SECRET (inline value) */
	char **items;                 /* CONF_STRLIST, items[nitems] == NULL */
	size_t nitems;
};

struct conf {
	char *file;           /* the file loaded, or NULL */
	size_t n;             /* number of settings */
	struct conf_value *v; /* one per table entry, in table order */
};

/* Problems found while loading, one per line, counted. */
struct s_errs {
	char *buf; /* lines, each ending in '\n' */
	size_t len, cap;
	int n;    /* problems reported */
	bool oom; /* some could not be stored */
};

/* State of one conf_load(). */
struct s_load {
	conf_t *c;
	const char *path; /* the main file */
	char *dir;        /* its directory: libconfig's include dir */
	struct s_errs errs;
};

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

static void s_err(struct s_errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_err(struct s_errs *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	e->n++;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (e->len + (size_t)n + 2 > e->cap) {
		size_t cap = (e->cap == 0 ? 1024 : e->cap * 2) + (size_t)n + 2;
		char *p = realloc(e->buf, cap);

		if (p == NULL) {
			e->oom = true;
			return;
		}
		e->buf = p;
		e->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(e->buf + e->len, e->cap - e->len, fmt, ap);
	va_end(ap);
	e->len += (size_t)n;
	e->buf[e->len++] = '\n';
	e->buf[e->len] = '\0';
}

/*
 * Copy the collected lines into the caller's buffer, each ending in '\n' (so
 * fputs(errs, stderr) prints them).  Lines that do not fit are summarised by a
 * last line "(N more errors)", so a small buffer still says how bad things are.
 */
static void s_errs_out(const struct s_errs *e, char *errs, size_t errlen)
{
	const char *p = e->buf;
	size_t pos = 0;
	int shown = 0;

	if (errs == NULL || errlen == 0)
		return;
	errs[0] = '\0';
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t l = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		size_t reserve = shown + 1 < e->n ? 48 : 0;

		if (pos + l + reserve + 1 > errlen) {
			if (shown == 0) { /* a truncated first line beats none */
				snprintf(errs, errlen, "%.*s", (int)l, p);
				pos = strlen(errs);
				shown = 1;
			}
			break;
		}
		memcpy(errs + pos, p, l);
		pos += l;
		errs[pos] = '\0';
		shown++;
		p = nl != NULL ? nl + 1 : NULL;
	}
	if (shown < e->n)
		snprintf(errs + pos, errlen - pos, "%s(%d more error%s%s)\n",
		         pos > 0 && errs[pos - 1] != '\n' ? "\n" : "", e->n - shown,
		         e->n - shown == 1 ? "" : "s", e->oom ? ", some lost: out of memory" : "");
}

/*
 * A bad value, quoted for a message: at most CONF_QUOTE_MAX bytes, control
 * characters replaced so a value cannot forge lines.  Never used for secrets.
 */
static const char *s_quote(const char *v, char *buf, size_t len)
{
	size_t i, j = 0;

	for (i = 0; v[i] != '\0' && j + 4 < len && i < CONF_QUOTE_MAX; i++)
		buf[j++] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
	if (v[i] != '\0' && j + 4 < len) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = '\0';
	return buf;
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */

static size_t s_count(void)
{
	size_t n = 0;

	for (size_t t = 0; s_tables[t] != NULL; t++)
		for (const struct conf_setting *s = s_tables[t]; s->type != CONF_END; s++)
			n++;
	return n;
}

static struct conf_value *s_value(const conf_t *c, const char *path)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].s->path, path) == 0)
			return &c->v[i];
	return NULL;
}

/* True when some setting lives below `path` ("wire" for "wire.hwm"). */
static bool s_is_group(const conf_t *c, const char *path)
{
	size_t l = strlen(path);

	for (size_t i = 0; i < c->n; i++)
		if (strncmp(c->v[i].s->path, path, l) == 0 && c->v[i].s->path[l] == '.')
			return true;
	return false;
}

static const char *s_type_expected(enum conf_type t)
{
	switch (t) {
	case CONF_BOOL:
		return "a boolean (true or false)";
	case CONF_INT:
		return "an integer";
	case CONF_DOUBLE:
		return "a number";
	case CONF_STRING:
	case CONF_SECRET:
		return "a string";
	case CONF_STRLIST:
		return "a list of strings";
	case CONF_END:
		break;
	}
	return "nothing";
}

static const char *s_type_found(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "nothing";
}

/* ------------------------------------------------------------------------ */
/* Checks shared by the default, the file and the environment               */

/* Each fills msg ("out of range ...", without the setting's name) on error. */

static int s_check_int(const struct conf_setting *s, int64_t v, char *msg, size_t len)
{
	if ((double)v < s->min || (double)v > s->max) {
		snprintf(msg, len, "%lld is out of range %.0f..%.0f", (long long)v, s->min, s->max);
		return -1;
	}
	return 0;
}

static int s_check_double(const struct conf_setting *s, double v, char *msg, size_t len)
{
	if (!isfinite(v) || v < s->min || v > s->max) {
		snprintf(msg, len, "%g is out of range %g..%g", v, s->min, s->max);
		return -1;
	}
	return 0;
}

/* A string, or one item of a list: length and choices.  The value of a
 * CONF_SECRET never reaches msg. */
static int s_check_string(const struct conf_setting *s, const char *v, char *msg, size_t len)
{
	size_t l = strlen(v);
	char q[CONF_QUOTE_MAX + 8];

	if (l == 0 && s->min >= 1) {
		snprintf(msg, len, "must not be empty");
		return -1;
	}
	if ((double)l < s->min || (s->max > 0 && (double)l > s->max)) {
		snprintf(msg, len, "length %zu is out of range %.0f..%.0f", l, s->min, s->max);
		return -1;
	}
	if (s->choices != NULL && s->type != CONF_SECRET) {
		size_t at;

		for (size_t i = 0; s->choices[i] != NULL; i++)
			if (strcmp(v, s->choices[i]) == 0)
				return 0;
		at = (size_t)snprintf(msg, len, "'%s' is not one of", s_quote(v, q, sizeof(q)));
		for (size_t i = 0; s->choices[i] != NULL && at < len; i++)
			at += (size_t)snprintf(msg + at, len - at, "%s %s", i > 0 ? "," : "",
			                       s->choices[i]);
		return -1;
	}
	return 0;
}

static void s_value_clear(struct conf_value *v)
{
	if (v->str != NULL) {
		if (v->s->type == CONF_SECRET)
			explicit_bzero(v->str, strlen(v->str));
		free(v->str);
		v->str = NULL;
	}
	if (v->items != NULL) {
		for (size_t i = 0; i < v->nitems; i++)
			free(v->items[i]);
		free(v->items);
		v->items = NULL;
	}
	v->nitems = 0;
}

/* Trim surrounding whitespace in place; returns the start. */
static char *s_trim(char *p)
{
	char *e;

	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return p;
}

/*
 * Parse a setting's value from text (a table default or an environment
 * variable) into v, replacing what v held only on success.  Booleans are
 * 1/0/true/false/yes/no (any case); a string list is comma-separated, items
 * trimmed, "" being the empty list.  Not for CONF_SECRET.
 */
static int s_parse_text(struct conf_value *v, const char *text, char *msg, size_t len)
{
	const struct conf_setting *s = v->s;
	char q[CONF_QUOTE_MAX + 8];
	char *copy, *t, *end;
	struct conf_value nv = { .s = s };
	int rc = -1;

	if ((copy = strdup(text)) == NULL) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	t = s->type == CONF_STRING ? copy : s_trim(copy);
	switch (s->type) {
	case CONF_BOOL:
		if (strcmp(t, "1") == 0 || strcasecmp(t, "true") == 0 ||
		    strcasecmp(t, "yes") == 0) {
			nv.b = true;
		} else if (strcmp(t, "0") == 0 || strcasecmp(t, "false") == 0 ||
		           strcasecmp(t, "no") == 0) {
			nv.b = false;
		} else {
			snprintf(msg, len, "expected 1/0/true/false/yes/no, got '%s'",
			         s_quote(t, q, sizeof(q)));
			goto out;
		}
		break;
	case CONF_INT: {
		long long ll;

		errno = 0;
		ll = strtoll(t, &end, 10);
		if (*t == '\0' || *end != '\0' || errno == ERANGE) {
			snprintf(msg, len, "expected an integer, got '%s'",
			         s_quote(t, q, sizeof(q)));
			goto out;
		}
		if (s_check_int(s, ll, msg, len) != 0)
			goto out;
		nv.i = ll;
		break;
	}
	case CONF_DOUBLE:
		errno = 0;
		nv.d = strtod(t, &end);
		if (*t == '\0' || *end != '\0' || errno == ERANGE) {
			snprintf(msg, len, "expected a number, got '%s'", s_quote(t, q, sizeof(q)));
			goto out;
		}
		if (s_check_double(s, nv.d, msg, len) != 0)
			goto out;
		break;
	case CONF_STRING:
		if (s_check_string(s, t, msg, len) != 0)
			goto out;
		if ((nv.str = strdup(t)) == NULL) {
			snprintf(msg, len, "out of memory");
			goto out;
		}
		break;
	case CONF_STRLIST: {
		size_t cap = 1, k = 0;
		char *save = NULL, *item;

		for (char *p = t; *p != '\0'; p++)
			cap += *p == ',';
		if ((nv.items = calloc(cap + 1, sizeof(*nv.items))) == NULL) {
			snprintf(msg, len, "out of memory");
			goto out;
		}
		if (*t == '\0')
			break;
		/* strsep, not strtok: "a,,b" must be an error, not two items. */
		save = t;
		while ((item = strsep(&save, ",")) != NULL) {
			char m[200];

			item = s_trim(item);
			if (s_check_string(s, item, m, sizeof(m)) != 0) {
				snprintf(msg, len, "item %zu: %s", k + 1, m);
				goto out;
			}
			if ((nv.items[k] = strdup(item)) == NULL) {
				snprintf(msg, len, "out of memory");
				goto out;
			}
			nv.nitems = ++k;
		}
		break;
	}
	case CONF_SECRET:
	case CONF_END:
		snprintf(msg, len, "cannot be given as text");
		goto out;
	}
	s_value_clear(v);
	*v = nv;
	nv.str = NULL;
	nv.items = NULL;
	nv.nitems = 0;
	rc = 0;
out:
	s_value_clear(&nv);
	free(copy);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The file                                                                 */

/*
 * The path of a file libconfig read, usable from our working directory:
 * libconfig names the main file as we gave it, and an included file as its
 * @include path, relative to the include directory.
 */
static const char *s_source_path(const struct s_load *ld, const char *file, char *buf, size_t len)
{
	if (file == NULL)
		return ld->path;
	if (strcmp(file, ld->path) == 0 || file[0] == '/')
		return file;
	snprintf(buf, len, "%s/%s", ld->dir, file);
	return buf;
}

static void s_err_at(struct s_load *ld, const config_setting_t *cs, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Report a problem as "FILE:LINE: message" at setting cs. */
static void s_err_at(struct s_load *ld, const config_setting_t *cs, const char *fmt, ...)
{
	char path[PATH_MAX], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s_err(&ld->errs, "%s:%u: %s",
	      s_source_path(ld, config_setting_source_file(cs), path, sizeof(path)),
	      config_setting_source_line(cs), msg);
}

/*
 * libconfig 1.5 reads a decimal or hex integer without the "L" suffix with
 * atoi()/strtoul() into an int, so 4294977296 silently becomes 10000.  Find the
 * literal after "name =" (or "name:") on the setting's source line and check
 * it reads as the value libconfig stored.  Returns false only when the literal
 * was found and differs; a layout we cannot follow is given the benefit of
 * the doubt.
 */
static bool s_int_literal_ok(struct s_load *ld, const config_setting_t *cs, long long value)
{
	char pbuf[PATH_MAX];
	const char *file, *name = config_setting_name(cs);
	unsigned int want = config_setting_source_line(cs), line = 0;
	char *text = NULL, *p;
	size_t cap = 0, nl = strlen(name);
	bool ok = true;
	FILE *f;

	file = s_source_path(ld, config_setting_source_file(cs), pbuf, sizeof(pbuf));
	if ((f = fopen(file, "re")) == NULL)
		return true;
	while (line < want && getline(&text, &cap, f) != -1)
		line++;
	if (line != want || text == NULL)
		goto out;
	for (p = strstr(text, name); p != NULL; p = strstr(p + 1, name)) {
		char *q = p + nl, *end;
		long long ll;
		int base = 10;

		if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '-'))
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=' && *q != ':')
			continue;
		q++;
		while (*q == ' ' || *q == '\t')
			q++;
		if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
			base = 16;
		else if (!isdigit((unsigned char)*q) && *q != '-' && *q != '+')
			continue;
		errno = 0;
		ll = strtoll(q, &end, base);
		if (end == q)
			continue;
		ok = errno != ERANGE && ll == value;
		break;
	}
out:
	free(text);
	fclose(f);
	return ok;
}

/* Take one setting from the file into v; report what is wrong with it. */
static void s_take(struct s_load *ld, struct conf_value *v, config_setting_t *cs)
{
	const struct conf_setting *s = v->s;
	int t = config_setting_type(cs);
	char msg[512];

	switch (s->type) {
	case CONF_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			goto wrong_type;
		s_value_clear(v);
		v->b = config_setting_get_bool(cs) != 0;
		return;
	case CONF_INT: {
		long long ll;

		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			goto wrong_type;
		ll = config_setting_get_int64(cs);
		if (!s_int_literal_ok(ld, cs, ll)) {
			s_err_at(ld, cs,
			         "%s: integer too large (libconfig needs an L suffix "
			         "beyond 32 bits)",
			         s->path);
			return;
		}
		if (s_check_int(s, ll, msg, sizeof(msg)) != 0) {
			s_err_at(ld, cs, "%s: %s", s->path, msg);
			return;
		}
		s_value_clear(v);
		v->i = ll;
		return;
	}
	case CONF_DOUBLE: {
		double d;

		if (t == CONFIG_TYPE_FLOAT)
			d = config_setting_get_float(cs);
		else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
			d = (double)config_setting_get_int64(cs);
		else
			goto wrong_type;
		if (s_check_double(s, d, msg, sizeof(msg)) != 0) {
			s_err_at(ld, cs, "%s: %s", s->path, msg);
			return;
		}
		s_value_clear(v);
		v->d = d;
		return;
	}
	case CONF_STRING:
	case CONF_SECRET: {
		const char *str;
		char *copy;

		if (t != CONFIG_TYPE_STRING)
			goto wrong_type;
		str = config_setting_get_string(cs);
		if (s_check_string(s, str, msg, sizeof(msg)) != 0) {
			s_err_at(ld, cs, "%s: %s", s->path, msg);
			return;
		}
		if (s->type == CONF_SECRET) {
			char pbuf[PATH_MAX];
			const char *file =
			    s_source_path(ld, config_setting_source_file(cs), pbuf, sizeof(pbuf));
			const char *base = strrchr(s->path, '.');
			struct stat st;

			base = base != NULL ? base + 1 : s->path;
			if (stat(file, &st) != 0) {
				s_err_at(ld, cs, "%s: cannot check the permissions of %s: %s",
				         s->path, file, strerror(errno));
				return;
			}
			if ((st.st_mode & 077) != 0) {
				s_err_at(ld, cs,
				         "%s: inline secret in a file others can read (mode "
				         "%04o); chmod 600 it or use %s_file",
				         s->path, (unsigned)(st.st_mode & 07777), base);
				return;
			}
		}
		if ((copy = strdup(str)) == NULL) {
			s_err_at(ld, cs, "%s: out of memory", s->path);
			return;
		}
		s_value_clear(v);
		v->str = copy;
		return;
	}
	case CONF_STRLIST: {
		int n;
		char **items;
		bool bad = false;

		if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
			goto wrong_type;
		n = config_setting_length(cs);
		if ((items = calloc((size_t)n + 1, sizeof(*items))) == NULL) {
			s_err_at(ld, cs, "%s: out of memory", s->path);
			return;
		}
		for (int i = 0; i < n; i++) {
			config_setting_t *e = config_setting_get_elem(cs, (unsigned)i);

			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				s_err_at(ld, e, "%s: item %d: expected a string, got %s", s->path,
				         i + 1, s_type_found(config_setting_type(e)));
				bad = true;
				continue;
			}
			if (s_check_string(s, config_setting_get_string(e), msg, sizeof(msg)) !=
			    0) {
				s_err_at(ld, e, "%s: item %d: %s", s->path, i + 1, msg);
				bad = true;
				continue;
			}
			if (!bad && (items[i] = strdup(config_setting_get_string(e))) == NULL) {
				s_err_at(ld, e, "%s: out of memory", s->path);
				bad = true;
			}
		}
		if (bad) {
			for (int i = 0; i < n; i++)
				free(items[i]);
			free(items);
			return;
		}
		s_value_clear(v);
		v->items = items;
		v->nitems = (size_t)n;
		return;
	}
	case CONF_END:
		break;
	}
wrong_type:
	s_err_at(ld, cs, "%s: expected %s, got %s", s->path, s_type_expected(s->type),
	         s_type_found(t));
}

/*
 * Walk a group of the file: every member must be a setting of the tables or a
 * group that holds some.  An unknown group is reported once, at its own line,
 * not once per member.
 */
static void s_walk(struct s_load *ld, config_setting_t *grp, const char *prefix)
{
	int n = config_setting_length(grp);

	for (int i = 0; i < n; i++) {
		config_setting_t *cs = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(cs);
		char path[CONF_PATH_MAX];
		struct conf_value *v;
		int l;

		if (name == NULL)
			continue; /* groups only have named members */
		l = snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
		if (l < 0 || (size_t)l >= sizeof(path)) {
			s_err_at(ld, cs, "unknown setting '%s%s%.64s...'", prefix,
			         *prefix ? "." : "", name);
			continue;
		}
		if ((v = s_value(ld->c, path)) != NULL) {
			s_take(ld, v, cs);
		} else if (s_is_group(ld->c, path)) {
			if (config_setting_is_group(cs))
				s_walk(ld, cs, path);
			else
				s_err_at(ld, cs, "%s: expected a group ({ ... }), got %s", path,
				         s_type_found(config_setting_type(cs)));
		} else {
			s_err_at(ld, cs, "unknown setting '%s'", path);
		}
	}
}

/*
 * Overwrite every string libconfig holds for a secret setting before the tree
 * is freed, so the key does not linger in freed heap memory.
 */
static void s_wipe_secrets(const conf_t *c, config_t *cfg)
{
	for (size_t i = 0; i < c->n; i++) {
		config_setting_t *cs;

		if (c->v[i].s->type != CONF_SECRET)
			continue;
		cs = config_lookup(cfg, c->v[i].s->path);
		if (cs != NULL && config_setting_type(cs) == CONFIG_TYPE_STRING &&
		    cs->value.sval != NULL)
			explicit_bzero(cs->value.sval, strlen(cs->value.sval));
	}
}

/*
 * libconfig 1.5's scanner calls exit() when it cannot read an included file
 * (an "@include" naming a directory, or the empty name, which is the
 * include directory itself: "input in flex scanner failed").  Before
 * libconfig sees the file, check every @include it (and what it includes)
 * names: it must be a regular file.  Returns 0, or -1 with the errors
 * reported as FILE:LINE.
 */
#define CONF_MAX_FILE_BYTES    (1024 * 1024)
#define CONF_MAX_INCLUDE_DEPTH 10

static int s_check_includes(struct s_load *ld, const char *path, int depth)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;
	FILE *f;

	if (depth > CONF_MAX_INCLUDE_DEPTH) {
		s_err(&ld->errs, "%s: @include nested more than %d deep", path,
		      CONF_MAX_INCLUDE_DEPTH);
		return -1;
	}
	if ((f = fopen(path, "re")) == NULL)
		return 0; /* libconfig reports a missing include with its line */
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *p = line, *name, *end, target[PATH_MAX];
		struct stat st;

		lineno++;
		/* A NUL would end an @include name early for libconfig, which
		 * then opens the directory and exit()s on the read error (found
		 * by fuzz_conf).  A text file has none. */
		if (memchr(line, '\0', (size_t)len) != NULL) {
			s_err(&ld->errs, "%s:%d: a NUL byte (not a text file)", path, lineno);
			rc = -1;
			break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "@include", 8) != 0)
			continue;
		p += 8;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '"')
			continue; /* a syntax error libconfig reports */
		name = p + 1;
		if ((end = strchr(name, '"')) == NULL)
			continue;
		*end = '\0';
		if (name[0] == '/' || snprintf(target, sizeof(target), "%s/%s", ld->dir, name) >=
		                          (int)sizeof(target)) {
			s_err(&ld->errs,
			      "%s:%d: @include \"%.64s\": an absolute or too long path "
			      "(paths are relative to %s)",
			      path, lineno, name, ld->dir);
			rc = -1;
			continue;
		}
		if (stat(target, &st) != 0)
			continue; /* missing: libconfig says so, with the line */
		if (!S_ISREG(st.st_mode) || st.st_size > CONF_MAX_FILE_BYTES) {
			s_err(&ld->errs, "%s:%d: @include \"%.64s\": %s", path, lineno, name,
			      S_ISREG(st.st_mode) ? "larger than 1 MiB" : "not a regular file");
			rc = -1;
			continue;
		}
		if (s_check_includes(ld, target, depth + 1) != 0)
			rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

static void s_read_file(struct s_load *ld)
{
	config_t cfg;
	struct stat st;
	char *tmp;
	FILE *f;

	/* libconfig says only "file I/O error" and no file name: open it
	 * ourselves first to give the reason. */
	if ((f = fopen(ld->path, "re")) == NULL) {
		s_err(&ld->errs, "%s: %s", ld->path, strerror(errno));
		return;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		s_err(&ld->errs, "%s: not a regular file", ld->path);
		fclose(f);
		return;
	}
	fclose(f);
	if (st.st_size > CONF_MAX_FILE_BYTES) {
		s_err(&ld->errs, "%s: larger than 1 MiB", ld->path);
		return;
	}
	if ((tmp = strdup(ld->path)) == NULL || (ld->dir = strdup(dirname(tmp))) == NULL) {
		free(tmp);
		s_err(&ld->errs, "%s: out of memory", ld->path);
		return;
	}
	free(tmp);
	if (s_check_includes(ld, ld->path, 0) != 0)
		return;

	config_init(&cfg);
	config_set_include_dir(&cfg, ld->dir);
	if (config_read_file(&cfg, ld->path) != CONFIG_TRUE) {
		char pbuf[PATH_MAX];
		const char *text = config_error_text(&cfg);

		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO) {
			s_err(&ld->errs, "%s: %s", ld->path, text != NULL ? text : "I/O error");
		} else {
			bool inc = text != NULL && strstr(text, "include") != NULL;

			s_err(&ld->errs, "%s:%d: %s%s%s%s",
			      s_source_path(ld, config_error_file(&cfg), pbuf, sizeof(pbuf)),
			      config_error_line(&cfg), text != NULL ? text : "syntax error",
			      inc ? " (@include paths are relative to " : "", inc ? ld->dir : "",
			      inc ? ")" : "");
		}
	} else {
		s_walk(ld, config_root_setting(&cfg), "");
		s_wipe_secrets(ld->c, &cfg);
	}
	config_destroy(&cfg);
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */

const char *conf_default_path(void)
{
	const char *p = getenv("COATTAIL_CONF");

	return p != NULL && *p != '\0' ? p : SYSCONFDIR "/coattail/coattail.conf";
}

conf_t *conf_load(const char *path, char *errs, size_t errlen)
{
	struct s_load ld = { .path = path };
	char msg[512];
	conf_t *c;

	if (errs != NULL && errlen > 0)
		errs[0] = '\0';
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->v = calloc(s_count(), sizeof(*c->v))) == NULL) {
		free(c);
		if (errs != NULL && errlen > 0)
			snprintf(errs, errlen, "out of memory");
		return NULL;
	}
	ld.c = c;
	c->n = s_count();
	for (size_t t = 0, k = 0; s_tables[t] != NULL; t++)
		for (const struct conf_setting *s = s_tables[t]; s->type != CONF_END; s++)
			c->v[k++].s = s;

	/* A default that does not parse is a bug in a table, found by test_conf;
	 * reported rather than fatal so -n still shows it. */
	for (size_t i = 0; i < c->n; i++) {
		struct conf_value *v = &c->v[i];

		if (v->s->def == NULL || v->s->type == CONF_SECRET)
			continue;
		if (s_parse_text(v, v->s->def, msg, sizeof(msg)) != 0)
			s_err(&ld.errs, "internal: default of %s: %s", v->s->path, msg);
	}

	if (path != NULL) {
		if ((c->file = strdup(path)) == NULL)
			s_err(&ld.errs, "%s: out of memory", path);
		else
			s_read_file(&ld);
	}

	/* Secrets from the environment are read by conf_secret() when needed,
	 * never copied here. */
	for (size_t i = 0; i < c->n; i++) {
		struct conf_value *v = &c->v[i];
		const char *e;

		if (v->s->env == NULL || v->s->type == CONF_SECRET)
			continue;
		if ((e = getenv(v->s->env)) == NULL || *e == '\0')
			continue;
		if (s_parse_text(v, e, msg, sizeof(msg)) != 0)
			s_err(&ld.errs, "%s: %s: %s", v->s->env, v->s->path, msg);
	}

	free(ld.dir);
	if (ld.errs.n > 0) {
		s_errs_out(&ld.errs, errs, errlen);
		free(ld.errs.buf);
		conf_free(&c);
		return NULL;
	}
	free(ld.errs.buf);
	return c;
}

void conf_free(conf_t **cp)
{
	conf_t *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		s_value_clear(&c->v[i]);
	free(c->v);
	free(c->file);
	free(c);
	*cp = NULL;
}

const char *conf_file(const conf_t *c)
{
	return c != NULL ? c->file : NULL;
}

/* ------------------------------------------------------------------------ */
/* Getters                                                                  */

static const struct conf_value *s_get(const conf_t *c, const char *path, enum conf_type type)
{
	const struct conf_value *v = s_value(c, path);

	if (v == NULL)
		fatalx("conf: no setting %s in the tables", path);
	if (v->s->type != type)
		fatalx("conf: %s is %s, not %s", path, s_type_expected(v->s->type),
		       s_type_expected(type));
	return v;
}

bool conf_bool(const conf_t *c, const char *path)
{
	return s_get(c, path, CONF_BOOL)->b;
}

int64_t conf_int(const conf_t *c, const char *path)
{
	return s_get(c, path, CONF_INT)->i;
}

double conf_double(const conf_t *c, const char *path)
{
	return s_get(c, path, CONF_DOUBLE)->d;
}

const char *conf_str(const conf_t *c, const char *path)
{
	return s_get(c, path, CONF_STRING)->str;
}

size_t conf_strlist(const conf_t *c, const char *path, const char *const **items)
{
	const struct conf_value *v = s_get(c, path, CONF_STRLIST);
	static const char *const none[] = { NULL };

	if (items != NULL)
		*items = v->items != NULL ? (const char *const *)v->items : none;
	return v->nitems;
}

/* ------------------------------------------------------------------------ */
/* Secrets                                                                  */

/*
 * Copy a secret, trimmed, into buf.  The messages name where the secret came
 * from (`what`), never its value.
 */
static int s_secret_copy(const char *what, const char *value, size_t vlen, char *buf, size_t len,
                         char *err, size_t errlen)
{
	const char *b = value, *e = value + vlen;

	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (b == e) {
		snprintf(err, errlen, "%s: empty", what);
		return -1;
	}
	if (memchr(b, '\0', (size_t)(e - b)) != NULL) {
		snprintf(err, errlen, "%s: contains a NUL byte", what);
		return -1;
	}
	if ((size_t)(e - b) >= len) {
		snprintf(err, errlen, "%s: secret longer than %zu bytes", what,
		         len > 0 ? len - 1 : 0);
		return -1;
	}
	memcpy(buf, b, (size_t)(e - b));
	buf[e - b] = '\0';
	return 1;
}

/*
 * Read a secret file: a regular file (a FIFO would hang us), at most
 * CONF_SECRET_FILE_MAX bytes.  Returns 1 found, 0 absent (only when
 * missing_ok), -1 error.  A file others can read is used, with a warning:
 * refusing would turn a permissions slip into an outage, and the key is out
 * already.
 */
static int s_secret_file(const char *file, bool missing_ok, char *buf, size_t len, char *err,
                         size_t errlen)
{
	char *data = NULL;
	struct stat st;
	size_t got = 0;
	int fd, rc = -1;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", file);
		goto out;
	}
	if (st.st_size > CONF_SECRET_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", file, CONF_SECRET_FILE_MAX);
		goto out;
	}
	if ((st.st_mode & 077) != 0)
		log_warnx("%s: secret file readable by others (mode %04o); chmod 600 it", file,
		          (unsigned)(st.st_mode & 07777));
	if ((data = malloc(CONF_SECRET_FILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", file);
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, data + got, CONF_SECRET_FILE_MAX + 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s: %s", file, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got > CONF_SECRET_FILE_MAX) {
			snprintf(err, errlen, "%s: larger than %d bytes", file,
			         CONF_SECRET_FILE_MAX);
			goto out;
		}
	}
	rc = s_secret_copy(file, data, got, buf, len, err, errlen);
out:
	if (data != NULL) {
		explicit_bzero(data, got);
		free(data);
	}
	close(fd);
	return rc;
}

int conf_secret(const conf_t *c, const char *path, char *buf, size_t len, char *err, size_t errlen)
{
	const struct conf_value *v = s_get(c, path, CONF_SECRET);
	const struct conf_value *fv;
	const char *e, *base;
	char fpath[CONF_PATH_MAX + 8], scratch[1];
	int rc;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	err[0] = '\0';
	if (buf == NULL || len == 0) {
		snprintf(err, errlen, "%s: no buffer", path);
		return -1;
	}
	buf[0] = '\0';

	if (v->s->env != NULL && (e = getenv(v->s->env)) != NULL && *e != '\0')
		return s_secret_copy(v->s->env, e, strlen(e), buf, len, err, errlen);

	base = strrchr(path, '.');
	base = base != NULL ? base + 1 : path;
	if ((e = getenv("CREDENTIALS_DIRECTORY")) != NULL && *e != '\0') {
		char *cred;

		if (asprintf(&cred, "%s/%s", e, base) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
		rc = s_secret_file(cred, true, buf, len, err, errlen);
		free(cred);
		if (rc != 0)
			return rc;
	}

	snprintf(fpath, sizeof(fpath), "%s_file", path);
	fv = s_value(c, fpath);
	if (fv != NULL && fv->s->type == CONF_STRING && fv->str != NULL && *fv->str != '\0')
		return s_secret_file(fv->str, false, buf, len, err, errlen);

	if (v->str != NULL && *v->str != '\0')
		return s_secret_copy(path, v->str, strlen(v->str), buf, len, err, errlen);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Reference                                                                */

/* A table cell: '|' escaped, so a doc string cannot break the table. */
static void s_cell(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static const char *s_type_name(enum conf_type t)
{
	switch (t) {
	case CONF_BOOL:
		return "bool";
	case CONF_INT:
		return "int";
	case CONF_DOUBLE:
		return "double";
	case CONF_STRING:
		return "string";
	case CONF_STRLIST:
		return "string list";
	case CONF_SECRET:
		return "secret";
	case CONF_END:
		break;
	}
	return "?";
}

void conf_write_reference(FILE *f)
{
	fprintf(f, "| setting | type | default | range/choices | env | meaning |\n");
	fprintf(f, "|---|---|---|---|---|---|\n");
	for (size_t t = 0; s_tables[t] != NULL; t++) {
		for (const struct conf_setting *s = s_tables[t]; s->type != CONF_END; s++) {
			fprintf(f, "| `%s` | %s | ", s->path, s_type_name(s->type));
			if (s->def == NULL)
				fputs("(none)", f);
			else if (*s->def == '\0')
				fputs("(empty)", f);
			else {
				fputc('`', f);
				s_cell(f, s->def);
				fputc('`', f);
			}
			fputs(" | ", f);
			if (s->choices != NULL) {
				for (size_t i = 0; s->choices[i] != NULL; i++)
					fprintf(f, "%s`%s`", i > 0 ? ", " : "", s->choices[i]);
			} else if (s->type == CONF_INT) {
				fprintf(f, "%.0f..%.0f", s->min, s->max);
			} else if (s->type == CONF_DOUBLE) {
				fprintf(f, "%g..%g", s->min, s->max);
			} else if (s->max > 0) {
				fprintf(f, "%s%.0f..%.0f bytes",
				        s->type == CONF_STRLIST ? "items " : "", s->min, s->max);
			}
			fputs(" | ", f);
			if (s->env != NULL)
				fprintf(f, "`%s`", s->env);
			fputs(" | ", f);
			s_cell(f, s->doc != NULL ? s->doc : "");
			fputs(" |\n", f);
		}
	}
}
