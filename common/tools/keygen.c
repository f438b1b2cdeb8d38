/*
 * coattail-keygen - make a CURVE key pair for tcp:// links between hosts.
 *
 *   coattail-keygen [--force] SECRET_FILE
 *
 * Writes the secret key (40 characters of Z85 and a newline) to SECRET_FILE,
 * created with mode 0600 and never over an existing file unless --force,
 * and prints the public key on stdout, alone, so a script can capture it:
 *
 *   PUB=$(coattail-keygen /etc/coattail/curve.key)
 *
 * The secret file is what wire.curve_secret_key_file (or the systemd
 * credential "curve_secret_key") names; the public key goes into the peers'
 * wire.curve_allow (a client's key) or wire.curve_servers (a server's).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "zmq_load.h"

static void s_usage(FILE *f)
{
	fprintf(f, "usage: coattail-keygen [--force] SECRET_FILE\n"
	           "  Make a CURVE key pair: the secret key goes to SECRET_FILE (mode 0600),\n"
	           "  the public key is printed on stdout.  Put the public key in the peers'\n"
	           "  wire.curve_allow (this is a client) or wire.curve_servers (a server).\n"
	           "  --force  replace an existing SECRET_FILE\n");
}

/* Write all of buf to fd; 0 or -1 with errno. */
static int s_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char pub[41], sec[41], line[42], err[512];
	bool force = false;
	const char *path;
	int ch, fd;

	while ((ch = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			force = true;
			break;
		case 'h':
			s_usage(stdout);
			return 0;
		default:
			s_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		s_usage(stderr);
		return 2;
	}
	path = argv[optind];
	if (zmq_load(err, sizeof(err)) != 0) {
		fprintf(stderr, "coattail-keygen: %s\n", err);
		return 1;
	}
	if (!zmq_has("curve")) {
		fprintf(stderr, "coattail-keygen: this libzmq has no CURVE support\n");
		return 1;
	}
	if (zmq_curve_keypair(pub, sec) != 0) {
		fprintf(stderr, "coattail-keygen: zmq_curve_keypair: %s\n", zmq_strerror(errno));
		return 1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL),
	          0600);
	if (fd < 0) {
		fprintf(stderr, "coattail-keygen: %s: %s%s\n", path, strerror(errno),
		        errno == EEXIST ? " (use --force to replace it)" : "");
		explicit_bzero(sec, sizeof(sec));
		return 1;
	}
	snprintf(line, sizeof(line), "%s\n", sec);
	explicit_bzero(sec, sizeof(sec));
	/* --force over an older, looser file: the key must still be 0600. */
	if (fchmod(fd, 0600) != 0 || s_write_all(fd, line, strlen(line)) != 0 || fsync(fd) != 0) {
		fprintf(stderr, "coattail-keygen: %s: %s\n", path, strerror(errno));
		explicit_bzero(line, sizeof(line));
		close(fd);
		unlink(path);
		return 1;
	}
	explicit_bzero(line, sizeof(line));
	if (close(fd) != 0) {
		fprintf(stderr, "coattail-keygen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%s\n", pub);
	return 0;
}
