/*
 * finviz_src.c - the fetch side of FinViz: the configured pages
 * (scraper.finviz_pages, under scraper.finviz_url: insidertrading.ashx
 * listings or quote pages) read once a day at scraper.finviz_time, with a
 * browser-like User-Agent (FinViz refuses anything else) and its own
 * request rate.  The pages are parsed by finviz.c.
 *
 * FinViz often answers with a 403 or a Cloudflare challenge; the page
 * source reports either as "blocked" (and finviz.c a page without insider
 * rows), never as a day without trades.  Year-less dates on the pages are
 * resolved against the cycle's start time (parse_ctx.now).
 */
#include "source.h"

struct page_src *finviz_src_new(const conf_t *c, volatile sig_atomic_t *stop, char *err,
                                size_t errlen)
{
	const char *const *pages;
	size_t n = conf_strlist(c, "scraper.finviz_pages", &pages);

	return page_src_new(c, "finviz", conf_str(c, "scraper.finviz_url"), pages, n,
	                    conf_str(c, "scraper.browser_user_agent"),
	                    conf_double(c, "scraper.aggregator_requests_per_s"), stop, err, errlen);
}
