/*
 * test_sdnotify.c - systemd's notify protocol over a real AF_UNIX datagram
 * socket standing in for systemd: path and abstract addresses, nothing sent
 * outside systemd, bad addresses refused, the watchdog variables read as
 * sd_watchdog_enabled(3) reads them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdnotify.h"

/* A datagram socket bound at addr ("@name" for abstract), as systemd's. */
static int s_listen(const char *addr)
{
	struct sockaddr_un sa;
	socklen_t len;
	size_t n = strlen(addr);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(n < sizeof(sa.sun_path));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, addr, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	if (addr[0] == '@') {
		sa.sun_path[0] = '\0';
		len--;
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void s_expect(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_ready_reaches_a_socket_named_by_path(void **state)
{
	char dir[] = "/tmp/coattail-sdnotify-XXXXXX", path[128];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = s_listen(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(sdnotify_send("READY=1"), 1);
	s_expect(fd, "READY=1");
	assert_int_equal(sdnotify_send("WATCHDOG=1"), 1);
	s_expect(fd, "WATCHDOG=1");
	/* The variable stays for children of the same unit. */
	assert_string_equal(getenv("NOTIFY_SOCKET"), path);
	close(fd);
	unlink(path);
	rmdir(dir);
	/* Nobody listening any more: an error, not a silent success. */
	assert_int_equal(sdnotify_send("READY=1"), -1);
	unsetenv("NOTIFY_SOCKET");
}

static void test_ready_reaches_an_abstract_socket(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@coattail-sdnotify-%ld", (long)getpid());
	fd = s_listen(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(sdnotify_send("READY=1"), 1);
	s_expect(fd, "READY=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_outside_systemd_nothing_is_sent(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(sdnotify_send("READY=1"), 0);
	unsetenv("NOTIFY_SOCKET");
}

static void test_unusable_addresses_are_refused(void **state)
{
	char longp[200];

	(void)state;
	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	errno = 0;
	assert_int_equal(sdnotify_send("READY=1"), -1);
	assert_int_equal(errno, EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(sdnotify_send("READY=1"), -1);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longp, 1);
	errno = 0;
	assert_int_equal(sdnotify_send("READY=1"), -1);
	assert_int_equal(errno, EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_variables(void **state)
{
	uint64_t usec = 7;
	char pid[32];

	(void)state;
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(sdnotify_watchdog_usec(&usec), 0);
	assert_int_equal(usec, 7);

	setenv("WATCHDOG_USEC", "60000000", 1);
	assert_int_equal(sdnotify_watchdog_usec(&usec), 1);
	assert_int_equal(usec, 60000000);

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(sdnotify_watchdog_usec(&usec), 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1); /* meant for another process */
	assert_int_equal(sdnotify_watchdog_usec(&usec), 0);
	setenv("WATCHDOG_PID", "12x", 1);
	assert_int_equal(sdnotify_watchdog_usec(&usec), -1);
	unsetenv("WATCHDOG_PID");

	setenv("WATCHDOG_USEC", "0", 1);
	assert_int_equal(sdnotify_watchdog_usec(&usec), -1);
	setenv("WATCHDOG_USEC", "-5", 1);
	assert_int_equal(sdnotify_watchdog_usec(&usec), -1);
	setenv("WATCHDOG_USEC", "99999999999999999999999", 1);
	assert_int_equal(sdnotify_watchdog_usec(&usec), -1);
	setenv("WATCHDOG_USEC", "30s", 1);
	assert_int_equal(sdnotify_watchdog_usec(&usec), -1);
	unsetenv("WATCHDOG_USEC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_reaches_a_socket_named_by_path),
		cmocka_unit_test(test_ready_reaches_an_abstract_socket),
		cmocka_unit_test(test_outside_systemd_nothing_is_sent),
		cmocka_unit_test(test_unusable_addresses_are_refused),
		cmocka_unit_test(test_watchdog_variables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
