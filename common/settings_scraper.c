/*
 * settings_scraper.c - the scraper's settings: its sockets and the sources'
 * base URLs (configurable so tests point them at local fake servers).
 */
#include "conf.h"

const struct conf_setting conf_settings_scraper[] = {
	{ .path = "scraper.out",
	  .type = CONF_STRLIST,
	  .def = "ipc://mapper.in",
	  .min = 1,
	  .max = 1024,
	  .doc = "endpoints the trade PUSH socket connects to (one per mapper)" },
	{ .path = "scraper.tap",
	  .type = CONF_STRING,
	  .def = "ipc://scraper.tap",
	  .min = 1,
	  .max = 1024,
	  .doc = "endpoint the tap PUB socket binds" },
	{ .path = "scraper.edgar_url",
	  .type = CONF_STRING,
	  .def = "https://www.sec.gov",
	  .min = 1,
	  .max = 1024,
	  .env = "COATTAIL_EDGAR_URL",
	  .doc = "base URL of SEC EDGAR (Form 4 feeds and filings)" },
	{ .path = "scraper.openinsider_url",
	  .type = CONF_STRING,
	  .def = "http://openinsider.com",
	  .min = 1,
	  .max = 1024,
	  .env = "COATTAIL_OPENINSIDER_URL",
	  .doc = "base URL of OpenInsider" },
	{ .path = "scraper.finviz_url",
	  .type = CONF_STRING,
	  .def = "https://finviz.com",
	  .min = 1,
	  .max = 1024,
	  .env = "COATTAIL_FINVIZ_URL",
	  .doc = "base URL of FinViz" },
	{ .path = "scraper.sec_user_agent",
	  .type = CONF_STRING,
	  .min = 1,
	  .max = 512,
	  .env = "COATTAIL_SEC_USER_AGENT",
	  .doc = "User-Agent declared to SEC, with a contact (\"name email\"); required to "
	         "fetch from EDGAR" },
	{ .type = CONF_END },
};
