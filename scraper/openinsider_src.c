/*
 * openinsider_src.c - the fetch side of OpenInsider: the configured pages
 * (scraper.openinsider_pages, under scraper.openinsider_url) read every
 * scraper.openinsider_interval_s with conditional requests, a browser-like
 * User-Agent and its own request rate.  The pages are parsed by
 * openinsider.c; everything else is the generic page source (source.c).
 *
 * OpenInsider listings show the newest rows first and nothing older than
 * the page holds, so a page read every 10 minutes misses rows only when
 * more than a page of filings arrives in between; a screener URL with a
 * larger cnt= reads more per request.
 */
#include "source.h"

struct page_src *openinsider_src_new(const conf_t *c, volatile sig_atomic_t *stop, char *err,
                                     size_t errlen)
{
	const char *const *pages;
	size_t n = conf_strlist(c, "scraper.openinsider_pages", &pages);

	return page_src_new(c, "openinsider", conf_str(c, "scraper.openinsider_url"), pages, n,
	                    conf_str(c, "scraper.browser_user_agent"),
	                    conf_double(c, "scraper.aggregator_requests_per_s"), stop, err, errlen);
}
