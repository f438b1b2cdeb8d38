/*
 * scraper.c - the scraper stage: documents in, trade records out.
 *
 * SCAFFOLDING: until the scraper's issue lands, --file accepts JSON lines of
 * trade records (emitted after validation) and live fetching is absent.
 */
#include "scraper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Emit every trade of a JSON-lines file; a bad line costs that line. */
static int s_replay_jsonl(wire_t *w, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		log_warn("%s", path);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) >= 0 && !wire_stopping(w)) {
		char err[256];
		record_t r;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (record_from_json(line, (size_t)n, &r, err, sizeof(err)) != 0) {
			wire_drop(w, NULL, "%s:%ld: %s", path, lineno, err);
			continue;
		}
		if (r.type != REC_TRADE)
			wire_drop(w, record_key(&r), "%s:%ld: a %s record, not a trade", path,
			          lineno, record_type_name(r.type));
		else
			wire_emit(w, &r);
		record_free(&r);
	}
	free(line);
	fclose(f);
	return 0;
}

int scraper_run(conf_t *c, const struct stage_args *a, wire_t *w)
{
	int rc = 0;

	(void)c;
	if (a->n_files > 0) {
		for (size_t i = 0; i < a->n_files && !wire_stopping(w); i++)
			if (s_replay_jsonl(w, a->files[i]) != 0)
				rc = 1;
		return rc;
	}
	log_warnx("no sources are implemented yet (scaffolding): use --file");
	return 1;
}
