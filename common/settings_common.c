/*
 * settings_common.c - settings every process reads: directories, logging and
 * the ZeroMQ socket options of common/wire.c.
 *
 * To add a setting: one line here (or in the stage's settings_*.c), then the
 * same setting, documented, in deploy/coattail.conf; test_conf checks both.
 */
#include "conf.h"

static const char *const s_log_levels[] = { "error", "warn", "info", "debug", NULL };

const struct conf_setting conf_settings_common[] = {
	{ .path = "state_dir",
	  .type = CONF_STRING,
	  .def = "/var/lib/coattail",
	  .min = 1,
	  .max = 4096,
	  .env = "COATTAIL_STATE_DIR",
	  .doc = "directory of the SQLite state files" },
	{ .path = "run_dir",
	  .type = CONF_STRING,
	  .def = "/run/coattail",
	  .min = 1,
	  .max = 4096,
	  .env = "COATTAIL_RUN_DIR",
	  .doc = "private runtime directory (0700) where relative ipc:// endpoints and their "
	         "locks live" },
	{ .path = "log_level",
	  .type = CONF_STRING,
	  .def = "info",
	  .choices = s_log_levels,
	  .doc = "lowest level logged (-v raises it to debug)" },
	{ .path = "wire.hwm",
	  .type = CONF_INT,
	  .def = "10000",
	  .min = 1,
	  .max = 10000000,
	  .doc = "send/receive high-water mark of pipeline sockets, in messages" },
	{ .path = "wire.tap_hwm",
	  .type = CONF_INT,
	  .def = "10000",
	  .min = 1,
	  .max = 10000000,
	  .doc = "high-water mark of the tap PUB socket; beyond it tap messages are dropped" },
	{ .path = "wire.max_msg_bytes",
	  .type = CONF_INT,
	  .def = "65536",
	  .min = 1024,
	  .max = 65536,
	  .doc = "largest message accepted (ZMQ_MAXMSGSIZE); bigger ones are refused" },
	{ .path = "wire.linger_ms",
	  .type = CONF_INT,
	  .def = "1000",
	  .min = 0,
	  .max = 60000,
	  .doc = "ZMQ_LINGER: how long closing a socket may wait for unsent messages" },
	{ .path = "wire.drain_ms",
	  .type = CONF_INT,
	  .def = "3000",
	  .min = 0,
	  .max = 60000,
	  .doc = "how long SIGTERM waits for queued output before the stage exits" },
	{ .path = "wire.stats_interval_ms",
	  .type = CONF_INT,
	  .def = "5000",
	  .min = 100,
	  .max = 3600000,
	  .doc = "interval between stats records on the tap" },
	{ .type = CONF_END },
};
