#!/bin/sh
# deploy/deps.sh - install the Debian 12 packages coattail needs to build and test.
#
# Run as root: installs what is missing with apt-get and exits 0.
# Run as anyone else: prints the exact apt-get line to run and exits 1.
# With --check: installs nothing, prints what is missing, exits 1 if anything is.
#
# The Makefile runs this script when pkg-config cannot find a dependency, so a
# fresh Debian 12 machine needs no step before `make test`.
set -eu

# Build and test dependencies (pkg-config names in parentheses):
#   libzmq3-dev (libzmq)  libcurl4-openssl-dev (libcurl)  libxml2-dev (libxml-2.0)
#   libmsgpack-dev (msgpack)  libconfig-dev (libconfig)  libsqlite3-dev (sqlite3)
#   libjansson-dev (jansson)  libcmocka-dev (cmocka)
#   (libcurl and libzmq are compiled against and loaded at run time by
#   common/curl_load.c and common/zmq_load.c: libcurl4 and libzmq5 come with
#   the -dev packages;
#   systemd's notify protocol is spoken by common/sdnotify.c, no libsystemd)
#   clang, libclang-rt-14-dev: libFuzzer for `make fuzz`
#   zlib1g-dev: fuzz_http_headers inflates gzip bodies as libcurl would
#   python3-bs4, python3-pandas: the original Python method `make bench` compares with
#   supervisor: `make run` and its test
PKGS="build-essential pkg-config libzmq3-dev libcurl4-openssl-dev libxml2-dev \
libmsgpack-dev libconfig-dev libsqlite3-dev libjansson-dev libcmocka-dev \
sqlite3 python3 procps clang libclang-rt-14-dev zlib1g-dev python3-bs4 python3-pandas supervisor"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "${1:-}" = "--check" ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	exit 1
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
