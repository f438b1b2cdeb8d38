/*
 * test_conf.c - configuration: defaults, the file, the environment, every
 * error with its FILE:LINE, @include, and secrets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "support/testutil.h"

#define SECRET_VALUE "s3cr3t-DO-NOT-LEAK-4f9a"

extern char **environ;

static const struct conf_setting *const s_tables[] = {
	conf_settings_common,
	conf_settings_scraper,
	conf_settings_mapper,
	conf_settings_decider,
	conf_settings_executor,
	conf_settings_tap,
	NULL,
};

/* Every test starts from an environment without coattail's variables, so a
 * developer's shell cannot change the outcome. */
static int s_clean_env(void **state)
{
	char *names[256];
	size_t n = 0;

	(void)state;
	for (char **e = environ; *e != NULL && n < 256; e++) {
		if (strncmp(*e, "COATTAIL_", 9) == 0 ||
		    strncmp(*e, "CREDENTIALS_DIRECTORY=", 22) == 0) {
			const char *eq = strchr(*e, '=');

			names[n++] = strndup(*e, (size_t)(eq - *e));
		}
	}
	for (size_t i = 0; i < n; i++) {
		unsetenv(names[i]);
		free(names[i]);
	}
	return 0;
}

static char *s_fixture(const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/conf/%s", test_fixtures(), name) > 0);
	return p;
}

/* Write `text` to dir/name with `mode`; returns the path (malloc'd). */
static char *s_write(const char *dir, const char *name, mode_t mode, const char *text)
{
	char *p;
	FILE *f;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

/* Number of lines: each line of an error report ends in '\n'. */
static size_t s_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* ------------------------------------------------------------------------ */

static void test_defaults_without_a_file(void **state)
{
	char errs[4096];
	const char *const *items;
	conf_t *c;

	(void)state;
	c = conf_load(NULL, errs, sizeof(errs));
	assert_non_null(c);
	assert_string_equal(errs, "");
	assert_null(conf_file(c));
	assert_string_equal(conf_str(c, "state_dir"), "/var/lib/coattail");
	assert_string_equal(conf_str(c, "run_dir"), "/run/coattail");
	assert_string_equal(conf_str(c, "log_level"), "info");
	assert_int_equal(conf_int(c, "wire.hwm"), 1000);
	assert_int_equal(conf_int(c, "wire.max_msg_bytes"), 65536);
	assert_int_equal(conf_int(c, "wire.drain_ms"), 3000);
	assert_int_equal(conf_int(c, "wire.stats_interval_ms"), 5000);
	assert_false(conf_bool(c, "executor.dry_run"));
	assert_string_equal(conf_str(c, "executor.broker"), "paper");
	assert_string_equal(conf_str(c, "mapper.openfigi_url"), "https://api.openfigi.com");
	assert_null(conf_str(c, "scraper.sec_user_agent"));
	assert_null(conf_str(c, "mapper.openfigi_key_file"));
	assert_int_equal(conf_strlist(c, "mapper.out", &items), 1);
	assert_string_equal(items[0], "ipc://decider.in");
	assert_null(items[1]);
	conf_free(&c);
	assert_null(c);
	conf_free(&c); /* idempotent */
}

static void test_empty_strlist_default_is_the_empty_list(void **state)
{
	char errs[1024];
	const char *const *items = NULL;
	conf_t *c;

	(void)state;
	c = conf_load(NULL, errs, sizeof(errs));
	assert_non_null(c);
	assert_int_equal(conf_strlist(c, "executor.out", &items), 0);
	assert_non_null(items);
	assert_null(items[0]);
	assert_int_equal(conf_strlist(c, "tap.endpoints", &items), 0);
	conf_free(&c);
}

static void test_file_values_and_include_relative_to_the_file(void **state)
{
	char *path = s_fixture("good.conf");
	char errs[4096];
	const char *const *items;
	conf_t *c;

	(void)state;
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	assert_string_equal(conf_file(c), path);
	assert_string_equal(conf_str(c, "state_dir"), "/srv/coattail/state");
	assert_string_equal(conf_str(c, "log_level"), "debug");
	/* from include/wire.conf, found beside good.conf, not in the cwd */
	assert_int_equal(conf_int(c, "wire.hwm"), 20000);
	assert_int_equal(conf_int(c, "wire.drain_ms"), 0);
	assert_int_equal(conf_int(c, "wire.max_msg_bytes"), 2048); /* int64 literal */
	assert_int_equal(conf_int(c, "wire.linger_ms"), 1000);     /* default kept */
	assert_int_equal(conf_strlist(c, "scraper.out", &items), 2);
	assert_string_equal(items[0], "ipc://mapper1.in");
	assert_string_equal(items[1], "tcp://10.0.0.2:5555");
	assert_int_equal(conf_strlist(c, "mapper.out", &items), 1); /* a list ( ) */
	assert_string_equal(items[0], "ipc://decider.in");
	assert_int_equal(conf_strlist(c, "executor.out", &items), 0);
	assert_int_equal(conf_strlist(c, "tap.endpoints", &items), 1);
	assert_string_equal(items[0], "tcp://10.0.0.3:6001");
	assert_string_equal(conf_str(c, "scraper.sec_user_agent"), "Test Corp test@example.com");
	assert_string_equal(conf_str(c, "executor.broker"), "alpaca");
	assert_true(conf_bool(c, "executor.dry_run"));
	conf_free(&c);
	free(path);
}

static void test_environment_beats_the_file(void **state)
{
	char *path = s_fixture("good.conf");
	char errs[4096];
	conf_t *c;

	(void)state;
	setenv("COATTAIL_STATE_DIR", "/env/state", 1);
	setenv("COATTAIL_BROKER", "lemon", 1);
	setenv("COATTAIL_DRY_RUN", "no", 1);
	setenv("COATTAIL_SEC_USER_AGENT", "Env Agent env@example.com", 1);
	setenv("COATTAIL_RUN_DIR", "", 1); /* empty counts as unset */
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	assert_string_equal(conf_str(c, "state_dir"), "/env/state");
	assert_string_equal(conf_str(c, "executor.broker"), "lemon");
	assert_false(conf_bool(c, "executor.dry_run"));
	assert_string_equal(conf_str(c, "scraper.sec_user_agent"), "Env Agent env@example.com");
	assert_string_equal(conf_str(c, "run_dir"), "/run/coattail");
	conf_free(&c);
	free(path);
}

static void test_environment_booleans(void **state)
{
	static const struct {
		const char *text;
		bool want;
	} cases[] = {
		{ "1", true },   { "0", false },  { "true", true },   { "FALSE", false },
		{ "yes", true }, { "No", false }, { " yes\n", true },
	};
	char errs[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_t *c;

		setenv("COATTAIL_DRY_RUN", cases[i].text, 1);
		c = conf_load(NULL, errs, sizeof(errs));
		if (c == NULL)
			fail_msg("'%s': %s", cases[i].text, errs);
		assert_int_equal(conf_bool(c, "executor.dry_run"), cases[i].want);
		conf_free(&c);
	}
}

static void test_bad_environment_values_name_the_variable(void **state)
{
	char errs[4096];
	conf_t *c;

	(void)state;
	setenv("COATTAIL_DRY_RUN", "maybe", 1);
	setenv("COATTAIL_BROKER", "robinhood", 1);
	c = conf_load(NULL, errs, sizeof(errs));
	assert_null(c);
	assert_string_equal(errs, "COATTAIL_BROKER: executor.broker: 'robinhood' is not one of "
	                          "paper, alpaca, lemon\n"
	                          "COATTAIL_DRY_RUN: executor.dry_run: expected "
	                          "1/0/true/false/yes/no, got 'maybe'\n");
}

static void test_every_error_in_a_file_is_reported_with_its_line(void **state)
{
	char *path = s_fixture("errors.conf");
	char errs[8192], *want;
	conf_t *c;

	(void)state;
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(asprintf(&want,
	                     "%1$s:2: state_dir: expected a string, got an integer\n"
	                     "%1$s:3: log_level: 'verbose' is not one of error, warn, info, debug\n"
	                     "%1$s:4: unknown setting 'bogus'\n"
	                     "%1$s:6: wire.hwm: 0 is out of range 1..10000000\n"
	                     "%1$s:7: wire.linger_ms: expected an integer, got a float\n"
	                     "%1$s:8: wire.drain_ms: expected an integer, got a string\n"
	                     "%1$s:9: unknown setting 'wire.unknown_knob'\n"
	                     "%1$s:10: wire.max_msg_bytes: integer too large (libconfig needs an L "
	                     "suffix beyond 32 bits)\n"
	                     "%1$s:12: unknown setting 'nothere'\n"
	                     "%1$s:16: mapper.out: item 2: must not be empty\n"
	                     "%1$s:17: mapper.in: must not be empty\n"
	                     "%1$s:21: decider.out: item 2: expected a string, got an integer\n"
	                     "%1$s:24: executor.dry_run: expected a boolean (true or false), got a "
	                     "string\n"
	                     "%1$s:25: executor.broker: 'robinhood' is not one of paper, alpaca, "
	                     "lemon\n"
	                     "%1$s:26: executor.out: expected a list of strings, got a string\n"
	                     "%1$s:28: tap: expected a group ({ ... }), got an integer\n",
	                     path) > 0);
	assert_string_equal(errs, want);
	free(want);
	free(path);
}

static void test_file_and_environment_errors_are_reported_together(void **state)
{
	char *path = s_fixture("errors.conf");
	char errs[8192];
	conf_t *c;

	(void)state;
	setenv("COATTAIL_DRY_RUN", "perhaps", 1);
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_int_equal(s_lines(errs), 17);
	assert_non_null(strstr(errs, "\nCOATTAIL_DRY_RUN: executor.dry_run: expected"));
	free(path);
}

static void test_small_error_buffer_says_how_many_more(void **state)
{
	char *path = s_fixture("errors.conf");
	char errs[300];
	const char *last;
	conf_t *c;

	(void)state;
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(strlen(errs) < sizeof(errs));
	assert_true(strlen(errs) > 0 && errs[strlen(errs) - 1] == '\n');
	errs[strlen(errs) - 1] = '\0';
	last = strrchr(errs, '\n');
	assert_non_null(last);
	assert_true(strncmp(last, "\n(", 2) == 0);
	assert_non_null(strstr(last, " more errors)"));
	/* the lines shown plus the number announced make all 16 */
	assert_int_equal((int)s_lines(errs) + atoi(last + 2), 16);
	free(path);
}

static void test_error_in_an_included_file_names_that_file(void **state)
{
	char *path = s_fixture("include_error.conf");
	char *inc = s_fixture("include/bad.conf");
	char errs[4096], *want;
	conf_t *c;

	(void)state;
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(asprintf(&want, "%s:2: wire.hwm: -5 is out of range 1..10000000\n", inc) > 0);
	assert_string_equal(errs, want);
	free(want);
	free(inc);
	free(path);
}

static void test_syntax_error_has_its_line(void **state)
{
	char *path = s_fixture("syntax.conf");
	char errs[4096], *want;
	conf_t *c;

	(void)state;
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(asprintf(&want, "%s:3: syntax error\n", path) > 0);
	assert_string_equal(errs, want);
	free(want);
	free(path);
}

static void test_syntax_error_in_an_included_file_names_that_file(void **state)
{
	char *path = s_fixture("include_syntax.conf");
	char *inc = s_fixture("include/syntax.conf");
	char errs[4096], *want;
	conf_t *c;

	(void)state;
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(asprintf(&want, "%s:3: syntax error\n", inc) > 0);
	assert_string_equal(errs, want);
	free(want);
	free(inc);
	free(path);
}

static void test_missing_include_is_reported_at_the_include_line(void **state)
{
	char *path = s_fixture("include_missing.conf");
	char errs[4096], *want;
	conf_t *c;

	(void)state;
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(asprintf(&want, "%s:3: cannot open include file", path) > 0);
	assert_true(strncmp(errs, want, strlen(want)) == 0);
	free(want);
	free(path);
}

static void test_missing_file_is_an_error(void **state)
{
	char errs[4096];
	conf_t *c;

	(void)state;
	c = conf_load("tests/fixtures/conf/no-such.conf", errs, sizeof(errs));
	assert_null(c);
	assert_string_equal(errs, "tests/fixtures/conf/no-such.conf: No such file or directory\n");
	c = conf_load("tests/fixtures/conf", errs, sizeof(errs));
	assert_null(c);
	assert_string_equal(errs, "tests/fixtures/conf: not a regular file\n");
}

static void test_integer_beyond_32_bits_with_L_suffix_is_range_checked(void **state)
{
	char *dir = test_tmpdir();
	char *path, errs[4096], *want;
	conf_t *c;

	(void)state;
	path = s_write(dir, "big.conf", 0600, "wire: {\n  hwm = 4294977296L;\n};\n");
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(
	    asprintf(&want, "%s:2: wire.hwm: 4294977296 is out of range 1..10000000\n", path) > 0);
	assert_string_equal(errs, want);
	free(want);
	unlink(path);
	free(path);
	/* and the same number without the L, which libconfig 1.5 wraps to 10000 */
	path = s_write(dir, "wrap.conf", 0600, "wire: { hwm = 4294977296; };\n");
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_non_null(strstr(errs, ":1: wire.hwm: integer too large"));
	unlink(path);
	free(path);
	rmdir(dir);
	free(dir);
}

/* libconfig's scanner exits the process when an @include names a
 * directory (the empty name is the include directory itself): such includes
 * are refused first, with their line (found by the config fuzz target). */
static void test_include_of_a_directory_is_an_error_not_an_exit(void **state)
{
	char *dir = test_tmpdir();
	char *path, *sub, errs[4096], *want;
	conf_t *c;

	(void)state;
	assert_true(asprintf(&sub, "%s/sub", dir) > 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	path = s_write(dir, "c.conf", 0600,
	               "log_level = \"info\";\n@include \"\"\n  @include \"sub\"\n");
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(asprintf(&want,
	                     "%s:2: @include \"\": not a regular file\n"
	                     "%s:3: @include \"sub\": not a regular file\n",
	                     path, path) > 0);
	assert_string_equal(errs, want);
	free(want);
	unlink(path);
	free(path);
	rmdir(sub);
	free(sub);
	rmdir(dir);
	free(dir);
}

/* ------------------------------------------------------------------------ */
/* Secrets                                                                  */

static void test_inline_secret_in_a_readable_file_is_refused(void **state)
{
	char *dir = test_tmpdir();
	char *path, errs[4096], *want;
	conf_t *c;

	(void)state;
	path = s_write(dir, "c.conf", 0644,
	               "log_level = \"info\";\nmapper: {\n  openfigi_key = \"" SECRET_VALUE
	               "\";\n};\n");
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(asprintf(&want,
	                     "%s:3: mapper.openfigi_key: inline secret in a file others can read "
	                     "(mode 0644); chmod 600 it or use openfigi_key_file\n",
	                     path) > 0);
	assert_string_equal(errs, want);
	assert_null(strstr(errs, SECRET_VALUE));
	free(want);

	assert_int_equal(chmod(path, 0640), 0); /* group-readable is refused too */
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_non_null(strstr(errs, "(mode 0640)"));
	unlink(path);
	free(path);
	rmdir(dir);
	free(dir);
}

static void test_inline_secret_in_a_private_file_is_accepted(void **state)
{
	char *dir = test_tmpdir();
	char *path, errs[4096], buf[128], err[256];
	conf_t *c;

	(void)state;
	path = s_write(dir, "c.conf", 0600,
	               "mapper: {\n  openfigi_key = \"  " SECRET_VALUE "\n\";\n};\n");
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	assert_int_equal(conf_secret(c, "mapper.openfigi_key", buf, sizeof(buf), err, sizeof(err)),
	                 1);
	assert_string_equal(buf, SECRET_VALUE); /* trimmed */
	conf_free(&c);
	unlink(path);
	free(path);
	rmdir(dir);
	free(dir);
}

static void test_inline_secret_in_a_readable_included_file_names_it(void **state)
{
	char *dir = test_tmpdir();
	char *path, *inc, errs[4096], *want;
	conf_t *c;

	(void)state;
	inc = s_write(dir, "keys.conf", 0644,
	              "executor: {\n  broker = \"lemon\";\n  lemon_key = \"" SECRET_VALUE
	              "\";\n};\n");
	path = s_write(dir, "main.conf", 0600, "log_level = \"info\";\n@include \"keys.conf\"\n");
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_true(asprintf(&want,
	                     "%s:3: executor.lemon_key: inline secret in a file others can read "
	                     "(mode 0644); chmod 600 it or use lemon_key_file\n",
	                     inc) > 0);
	assert_string_equal(errs, want);
	free(want);

	/* the included file private and the main file public: fine */
	assert_int_equal(chmod(inc, 0600), 0);
	assert_int_equal(chmod(path, 0644), 0);
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	conf_free(&c);
	unlink(inc);
	unlink(path);
	free(inc);
	free(path);
	rmdir(dir);
	free(dir);
}

static void test_secret_never_appears_in_errors(void **state)
{
	char *dir = test_tmpdir();
	char *path, errs[8192], big[1200];
	conf_t *c;

	(void)state;
	/* a secret too long, of the wrong type inside a list, in an unknown key
	 * and in a readable file: no message may quote it */
	memset(big, 'k', sizeof(big) - 1);
	memcpy(big, SECRET_VALUE, strlen(SECRET_VALUE));
	big[sizeof(big) - 1] = '\0';
	{
		char *text;

		assert_true(asprintf(&text,
		                     "executor: {\n"
		                     "  alpaca_secret = \"%s\";\n"
		                     "  alpaca_key_id = [ \"" SECRET_VALUE "\" ];\n"
		                     "  lemon_kee = \"" SECRET_VALUE "\";\n"
		                     "};\n"
		                     "mapper: { openfigi_key = \"" SECRET_VALUE "\"; };\n",
		                     big) > 0);
		path = s_write(dir, "c.conf", 0604, text);
		free(text);
	}
	c = conf_load(path, errs, sizeof(errs));
	assert_null(c);
	assert_int_equal(s_lines(errs), 4);
	assert_null(strstr(errs, SECRET_VALUE));
	assert_null(strstr(errs, "kkkk"));
	unlink(path);
	free(path);
	rmdir(dir);
	free(dir);
}

/* Set up every source of mapper.openfigi_key, each with its own value, then
 * remove them one by one: the order of conf_secret() shows. */
static void test_secret_sources_in_order(void **state)
{
	char *dir = test_tmpdir();
	char *creddir, *keyfile, *credfile, *path, *text;
	char errs[4096], buf[128], err[256];
	conf_t *c;

	(void)state;
	assert_true(asprintf(&creddir, "%s/creds", dir) > 0);
	assert_int_equal(mkdir(creddir, 0700), 0);
	credfile = s_write(creddir, "openfigi_key", 0600, "from-credentials\n");
	keyfile = s_write(dir, "figi.key", 0600, "  from-key-file\n\n");
	assert_true(asprintf(&text,
	                     "mapper: {\n  openfigi_key = \"from-inline\";\n"
	                     "  openfigi_key_file = \"%s\";\n};\n",
	                     keyfile) > 0);
	path = s_write(dir, "c.conf", 0600, text);
	free(text);
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);

	setenv("COATTAIL_OPENFIGI_KEY", " from-env ", 1);
	setenv("CREDENTIALS_DIRECTORY", creddir, 1);
	assert_int_equal(conf_secret(c, "mapper.openfigi_key", buf, sizeof(buf), err, sizeof(err)),
	                 1);
	assert_string_equal(buf, "from-env");

	unsetenv("COATTAIL_OPENFIGI_KEY");
	assert_int_equal(conf_secret(c, "mapper.openfigi_key", buf, sizeof(buf), err, sizeof(err)),
	                 1);
	assert_string_equal(buf, "from-credentials");

	/* a credentials directory without this key falls through */
	unlink(credfile);
	assert_int_equal(conf_secret(c, "mapper.openfigi_key", buf, sizeof(buf), err, sizeof(err)),
	                 1);
	assert_string_equal(buf, "from-key-file");

	unsetenv("CREDENTIALS_DIRECTORY");
	assert_int_equal(chmod(keyfile, 0644), 0); /* readable by others: a warning only */
	assert_int_equal(conf_secret(c, "mapper.openfigi_key", buf, sizeof(buf), err, sizeof(err)),
	                 1);
	assert_string_equal(buf, "from-key-file");
	conf_free(&c);

	/* without the _file setting the inline value is left */
	unlink(path);
	free(path);
	path = s_write(dir, "c.conf", 0600, "mapper: { openfigi_key = \"from-inline\"; };\n");
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	assert_int_equal(conf_secret(c, "mapper.openfigi_key", buf, sizeof(buf), err, sizeof(err)),
	                 1);
	assert_string_equal(buf, "from-inline");
	conf_free(&c);

	unlink(keyfile);
	unlink(path);
	rmdir(creddir);
	rmdir(dir);
	free(keyfile);
	free(credfile);
	free(creddir);
	free(path);
	free(dir);
}

static void test_secret_unset_everywhere_is_zero(void **state)
{
	char errs[1024], buf[64], err[256];
	conf_t *c;

	(void)state;
	c = conf_load(NULL, errs, sizeof(errs));
	assert_non_null(c);
	strcpy(buf, "junk");
	assert_int_equal(
	    conf_secret(c, "executor.alpaca_secret", buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "");
	assert_string_equal(err, "");
	conf_free(&c);
}

static void test_secret_errors_do_not_quote_the_secret(void **state)
{
	char *dir = test_tmpdir();
	char *keyfile, *path, *text, *want;
	char errs[1024], buf[8], err[512];
	conf_t *c;

	(void)state;
	/* a key file named but missing */
	assert_true(asprintf(&keyfile, "%s/missing.key", dir) > 0);
	assert_true(asprintf(&text, "executor: { lemon_key_file = \"%s\"; };\n", keyfile) > 0);
	path = s_write(dir, "c.conf", 0644, text);
	free(text);
	c = conf_load(path, errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	assert_int_equal(conf_secret(c, "executor.lemon_key", buf, sizeof(buf), err, sizeof(err)),
	                 -1);
	assert_true(asprintf(&want, "%s: No such file or directory", keyfile) > 0);
	assert_string_equal(err, want);
	free(want);

	/* a secret longer than the caller's buffer */
	setenv("COATTAIL_LEMON_KEY", SECRET_VALUE, 1);
	assert_int_equal(conf_secret(c, "executor.lemon_key", buf, sizeof(buf), err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "COATTAIL_LEMON_KEY: secret longer than 7 bytes");
	unsetenv("COATTAIL_LEMON_KEY");
	free(keyfile);
	keyfile = s_write(dir, "missing.key", 0600, SECRET_VALUE "\n");
	assert_int_equal(conf_secret(c, "executor.lemon_key", buf, sizeof(buf), err, sizeof(err)),
	                 -1);
	assert_null(strstr(err, SECRET_VALUE));
	assert_non_null(strstr(err, "secret longer than 7 bytes"));
	/* NULL err is allowed */
	assert_int_equal(conf_secret(c, "executor.lemon_key", buf, sizeof(buf), NULL, 0), -1);
	conf_free(&c);
	unlink(keyfile);
	unlink(path);
	free(keyfile);
	free(path);
	rmdir(dir);
	free(dir);
}

/* ------------------------------------------------------------------------ */
/* Tables, the deployed file, the reference                                 */

static void test_tables_are_consistent(void **state)
{
	(void)state;
	for (size_t t = 0; s_tables[t] != NULL; t++) {
		for (const struct conf_setting *s = s_tables[t]; s->type != CONF_END; s++) {
			assert_non_null(s->path);
			assert_non_null(s->doc);
			assert_true(s->min <= s->max || s->max <= 0);
			if (s->type == CONF_INT || s->type == CONF_DOUBLE)
				assert_true(s->min < s->max);
			/* unique across all tables */
			for (size_t u = 0; s_tables[u] != NULL; u++)
				for (const struct conf_setting *o = s_tables[u];
				     o->type != CONF_END; o++)
					if (o != s && strcmp(o->path, s->path) == 0)
						fail_msg("%s declared twice", s->path);
			if (s->type == CONF_SECRET) {
				/* each secret has its <path>_file companion */
				char want[256];
				bool found = false;

				assert_null(s->def); /* no secret is compiled in */
				snprintf(want, sizeof(want), "%s_file", s->path);
				for (size_t u = 0; s_tables[u] != NULL; u++)
					for (const struct conf_setting *o = s_tables[u];
					     o->type != CONF_END; o++)
						found |= strcmp(o->path, want) == 0 &&
						         o->type == CONF_STRING;
				if (!found)
					fail_msg("%s has no %s", s->path, want);
			}
		}
	}
}

static void test_deploy_conf_loads_clean_and_matches_the_defaults(void **state)
{
	char errs[4096];
	conf_t *d, *c;

	(void)state;
	c = conf_load("deploy/coattail.conf", errs, sizeof(errs));
	if (c == NULL)
		fail_msg("%s", errs);
	d = conf_load(NULL, errs, sizeof(errs));
	assert_non_null(d);
	for (size_t t = 0; s_tables[t] != NULL; t++) {
		for (const struct conf_setting *s = s_tables[t]; s->type != CONF_END; s++) {
			const char *const *a, *const *b;
			size_t n;

			switch (s->type) {
			case CONF_BOOL:
				assert_int_equal(conf_bool(c, s->path), conf_bool(d, s->path));
				break;
			case CONF_INT:
				assert_int_equal(conf_int(c, s->path), conf_int(d, s->path));
				break;
			case CONF_DOUBLE:
				assert_true(conf_double(c, s->path) == conf_double(d, s->path));
				break;
			case CONF_STRING:
				if (conf_str(d, s->path) == NULL)
					assert_null(conf_str(c, s->path));
				else
					assert_string_equal(conf_str(c, s->path),
					                    conf_str(d, s->path));
				break;
			case CONF_STRLIST:
				n = conf_strlist(c, s->path, &a);
				assert_int_equal(n, conf_strlist(d, s->path, &b));
				for (size_t i = 0; i < n; i++)
					assert_string_equal(a[i], b[i]);
				break;
			case CONF_SECRET:
			case CONF_END:
				break;
			}
		}
	}
	conf_free(&c);
	conf_free(&d);
}

static void test_deploy_conf_documents_every_setting(void **state)
{
	char *text = test_read_file("deploy/coattail.conf", NULL);

	(void)state;
	assert_non_null(text);
	for (size_t t = 0; s_tables[t] != NULL; t++) {
		for (const struct conf_setting *s = s_tables[t]; s->type != CONF_END; s++) {
			const char *dot = strrchr(s->path, '.');
			char want[128];

			snprintf(want, sizeof(want), "%s = ", dot != NULL ? dot + 1 : s->path);
			if (strstr(text, want) == NULL)
				fail_msg("deploy/coattail.conf does not mention %s", s->path);
			if (s->env != NULL && strstr(text, s->env) == NULL)
				fail_msg("deploy/coattail.conf does not name %s", s->env);
		}
	}
	free(text);
}

static void test_reference_has_a_row_per_setting(void **state)
{
	char *text = NULL;
	size_t len = 0, n = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	conf_write_reference(f);
	fclose(f);
	for (size_t t = 0; s_tables[t] != NULL; t++)
		for (const struct conf_setting *s = s_tables[t]; s->type != CONF_END; s++)
			n++;
	assert_int_equal(s_lines(text), n + 2); /* header, rule, rows */
	assert_true(strncmp(text, "| setting | type | default | range/choices | env | meaning |\n",
	                    61) == 0);
	assert_non_null(strstr(text, "| `wire.hwm` | int | `1000` | 1..10000000 |  | "));
	assert_non_null(strstr(text, "| `executor.broker` | string | `paper` | `paper`, `alpaca`, "
	                             "`lemon` | `COATTAIL_BROKER` | "));
	assert_non_null(strstr(text, "| `executor.out` | string list | (empty) |"));
	assert_non_null(strstr(text, "| `mapper.openfigi_key` | secret | (none) |"));
	free(text);
}

static void test_default_path_honours_COATTAIL_CONF(void **state)
{
	const char *tail = "/coattail/coattail.conf";
	const char *p;

	(void)state;
	setenv("COATTAIL_CONF", "/tmp/x.conf", 1);
	assert_string_equal(conf_default_path(), "/tmp/x.conf");
	unsetenv("COATTAIL_CONF");
	p = conf_default_path();
	assert_true(p[0] == '/');
	assert_true(strlen(p) > strlen(tail));
	assert_string_equal(p + strlen(p) - strlen(tail), tail);
}

/* A getter asked for a setting not in the tables is a programming error:
 * the process exits 1 rather than run on a made-up value. */
static void test_getter_of_an_unknown_setting_exits(void **state)
{
	char errs[1024];
	conf_t *c;
	pid_t pid;
	int st;

	(void)state;
	c = conf_load(NULL, errs, sizeof(errs));
	assert_non_null(c);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		(void)conf_int(c, "wire.nope");
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		(void)conf_str(c, "wire.hwm"); /* wrong type */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	conf_free(&c);
}

#define T(f) cmocka_unit_test_setup(f, s_clean_env)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults_without_a_file),
		T(test_empty_strlist_default_is_the_empty_list),
		T(test_file_values_and_include_relative_to_the_file),
		T(test_environment_beats_the_file),
		T(test_environment_booleans),
		T(test_bad_environment_values_name_the_variable),
		T(test_every_error_in_a_file_is_reported_with_its_line),
		T(test_file_and_environment_errors_are_reported_together),
		T(test_small_error_buffer_says_how_many_more),
		T(test_error_in_an_included_file_names_that_file),
		T(test_syntax_error_has_its_line),
		T(test_syntax_error_in_an_included_file_names_that_file),
		T(test_missing_include_is_reported_at_the_include_line),
		T(test_include_of_a_directory_is_an_error_not_an_exit),
		T(test_missing_file_is_an_error),
		T(test_integer_beyond_32_bits_with_L_suffix_is_range_checked),
		T(test_inline_secret_in_a_readable_file_is_refused),
		T(test_inline_secret_in_a_private_file_is_accepted),
		T(test_inline_secret_in_a_readable_included_file_names_it),
		T(test_secret_never_appears_in_errors),
		T(test_secret_sources_in_order),
		T(test_secret_unset_everywhere_is_zero),
		T(test_secret_errors_do_not_quote_the_secret),
		T(test_tables_are_consistent),
		T(test_deploy_conf_loads_clean_and_matches_the_defaults),
		T(test_deploy_conf_documents_every_setting),
		T(test_reference_has_a_row_per_setting),
		T(test_default_path_honours_COATTAIL_CONF),
		T(test_getter_of_an_unknown_setting_exits),
	};

	log_init("test_conf", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
