/*
 * sdnotify.h - systemd's readiness and watchdog protocol, without libsystemd.
 *
 * A Type=notify unit learns that a stage is up, and that it is still alive,
 * from datagrams the stage sends to the AF_UNIX socket named by
 * $NOTIFY_SOCKET ("READY=1", "WATCHDOG=1").  The protocol is one sendto() of
 * a text datagram; systemd documents it as stable and meant to be spoken
 * directly (sd_notify(3), "Notes").  Speaking it here keeps libsystemd and
 * its compression and crypto libraries out of every stage's start-up, and
 * means a stage built anywhere always signals readiness to its unit.
 *
 * Outside systemd (no $NOTIFY_SOCKET) every call does nothing and says so.
 */
#ifndef COATTAIL_SDNOTIFY_H
#define COATTAIL_SDNOTIFY_H

#include <stdint.h>

/*
 * Send state (e.g. "READY=1") to $NOTIFY_SOCKET: a path, or an abstract
 * socket written "@name".  Returns 1 when sent, 0 when the process runs
 * outside systemd, -1 on an error (errno set: an unusable $NOTIFY_SOCKET is
 * EINVAL).  The environment is left as it is, so a restarted child of the
 * same unit notifies too.
 */
int sdnotify_send(const char *state);

/*
 * Whether the unit's watchdog expects pings from this process: returns 1 and
 * *usec = the interval ($WATCHDOG_USEC) when it does, 0 when it does not (no
 * watchdog, or $WATCHDOG_PID names another process), -1 when the variables
 * are malformed.  Ping at half the interval.
 */
int sdnotify_watchdog_usec(uint64_t *usec);

#endif
