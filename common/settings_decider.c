/*
 * settings_decider.c - the decider's settings: its sockets.
 */
#include "conf.h"

const struct conf_setting conf_settings_decider[] = {
	{ .path = "decider.in",
	  .type = CONF_STRING,
	  .def = "ipc://decider.in",
	  .min = 1,
	  .max = 1024,
	  .doc = "endpoint the input PULL socket binds" },
	{ .path = "decider.out",
	  .type = CONF_STRLIST,
	  .def = "ipc://executor.in",
	  .min = 1,
	  .max = 1024,
	  .doc = "endpoints the output PUSH socket connects to" },
	{ .path = "decider.tap",
	  .type = CONF_STRING,
	  .def = "ipc://decider.tap",
	  .min = 1,
	  .max = 1024,
	  .doc = "endpoint the tap PUB socket binds" },
	{ .type = CONF_END },
};
