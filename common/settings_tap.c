/*
 * settings_tap.c - coattail-tap's settings.
 */
#include "conf.h"

const struct conf_setting conf_settings_tap[] = {
	{ .path = "tap.endpoints",
	  .type = CONF_STRLIST,
	  .def = "",
	  .min = 1,
	  .max = 1024,
	  .doc = "tap endpoints to subscribe to (empty: the four stage taps of this config)" },
	{ .type = CONF_END },
};
