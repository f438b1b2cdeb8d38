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
	.help_extra =
	    "sources (scraper.*_enabled in the config; --source NAME runs that one only,\n"
	    "enabled or not):\n"
	    "  edgar        SEC EDGAR: the getcurrent Form 4 feed, then each new filing's\n"
	    "               full submission, fetched once (needs scraper.sec_user_agent)\n"
	    "  openinsider  OpenInsider listing and screener pages (scraper.openinsider_pages)\n"
	    "  finviz       FinViz insider-trading and quote pages, once a day\n"
	    "Without --once the scraper runs each source on its schedule (US Eastern,\n"
	    "NYSE trading days, scraper.window_start/window_end, finviz_time) and every\n"
	    "cycle emits again every trade filed within scraper.lookback_days.  --once runs\n"
	    "one cycle of each source now, whatever the calendar says, and exits 1 when a\n"
	    "source failed.  State: state_dir/scraper.sqlite.\n"
	    "\n"
	    "--file parses saved documents instead: Form 4 XML, EDGAR full submissions\n"
	    "(.txt, .nc), OpenInsider and FinViz pages (--source names the parser when the\n"
	    "content does not), an EDGAR Atom feed (its filings are listed in the log, no\n"
	    "trades), or JSON lines of trade records (a file starting with '{': replayed).\n"
	    "--now is the capture time that year-less FinViz dates are read against; in the\n"
	    "loop it is where the clock starts.\n",
};

int main(int argc, char **argv)
{
	return stage_main(&s_def, argc, argv, scraper_run);
}
