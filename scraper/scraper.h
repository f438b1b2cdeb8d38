#ifndef COATTAIL_SCRAPER_H
#define COATTAIL_SCRAPER_H

#include "stage.h"

/* Run the scraper: parse --file documents, or fetch on the sources'
 * schedules until a signal (one cycle with --once).  Returns the exit status. */
int scraper_run(conf_t *c, const struct stage_args *a, wire_t *w);

#endif
