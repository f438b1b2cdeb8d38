/*
 * coattail-scraper: collects insider trades and emits one trade record per
 * transaction.  Arguments and setup only; the work is in scraper.c.
 */
#include "scraper.h"
#include "stage.h"

static const struct stage_def s_def = {
	.name = "scraper",
	.flags = STAGE_ARG_ONCE | STAGE_ARG_SOURCE | STAGE_ARG_FILE | STAGE_ARG_NOW,
	.summary = "collects insider trades and emits one trade record per transaction",
	.help_extra = "--file accepts JSON lines of trade records (a tap capture, for replay).\n",
};

int main(int argc, char **argv)
{
	return stage_main(&s_def, argc, argv, scraper_run);
}
