/*
 * stage.h - what every stage's main.c shares: the command line of DESIGN.md,
 * loading the config, and the wire options a stage gets from it.
 *
 *   coattail-STAGE [-c FILE] [-n] [-v] [--in EP|-] [--out EP[,EP...]|-]
 *                  [--tap EP] [--once] [--source NAME] [--file PATH...]
 *                  [--now TIME]
 *
 * Exit status: 0 done, 1 runtime failure, 2 bad usage or config.
 */
#ifndef COATTAIL_STAGE_H
#define COATTAIL_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "wire.h"

/* Which optional arguments a stage accepts. */
enum stage_flag {
	STAGE_ARG_IN = 1 << 0,
	STAGE_ARG_ONCE = 1 << 1,
	STAGE_ARG_SOURCE = 1 << 2,
	STAGE_ARG_FILE = 1 << 3,
	STAGE_ARG_NOW = 1 << 4,
};

struct stage_def {
	const char *name;       /* "mapper" */
	unsigned flags;         /* enum stage_flag */
	const char *summary;    /* one line: what the stage does */
	const char *help_extra; /* more --help text (sources, rules), or NULL */
};

struct stage_args {
	const char *conf_path; /* -c, else conf_default_path() */
	bool check_only;       /* -n */
	int verbose;           /* count of -v */
	const char *in;        /* --in, or NULL */
	const char *out;       /* --out (comma-separated), or NULL */
	const char *tap;       /* --tap, or NULL */
	bool once;             /* --once */
	const char *source;    /* --source */
	char **files;          /* --file PATH... (and further operands) */
	size_t n_files;
	int64_t now; /* --now, or TIME_UNSET */
};

/* Parse argv.  -h/--help and --version print and exit 0; bad usage prints
 * the reason and a hint and exits 2. */
void stage_parse_args(const struct stage_def *def, int argc, char **argv, struct stage_args *a);

/*
 * Load and check the config; set up logging (log_level, raised by -v).  With
 * -n prints "configuration OK" and exits 0.  Any config error prints every
 * "FILE:LINE: message" and exits 2.
 */
conf_t *stage_load_conf(const struct stage_def *def, const struct stage_args *a);

/* Storage for wire options built from the config and the command line. */
struct stage_wire {
	struct wire_opts opts;
	const char *out[16];
	char outbuf[4096];
};

/*
 * Fill sw->opts for stage `name` from "<name>.in", "<name>.out",
 * "<name>.tap", "run_dir" and "wire.*", with --in/--out/--tap overriding.
 * Returns 0, or -1 (printed) when --out lists more than 16 endpoints.
 */
int stage_wire_opts(const conf_t *c, const struct stage_def *def, const struct stage_args *a,
                    struct stage_wire *sw);

/* Log the settings a stage starts with (endpoints, directories); never
 * secrets. */
void stage_log_startup(const conf_t *c, const struct stage_def *def, const struct wire_opts *o);

/*
 * The whole main() of a stage: parse arguments, load the config (-n exits
 * here), build the wire, log the startup settings, call run(), tear down.
 * run() returns the exit status.  Returns the process exit status.
 */
typedef int (*stage_run_fn)(conf_t *c, const struct stage_args *a, wire_t *w);
int stage_main(const struct stage_def *def, int argc, char **argv, stage_run_fn run);

#endif
