#!/bin/sh
# deploy/install.sh - what `make install` does (run it through make, which
# builds first and passes the directories):
#
#   make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=...] [UNITDIR=...]
#
# Lays out, under $DESTDIR:
#   $PREFIX/bin/coattail-{scraper,mapper,decider,executor,tap,inject}   0755
#   $SYSCONFDIR/coattail/coattail.conf     0640 (group coattail when the
#       user exists); an existing one is kept and the new one is written
#       beside it as coattail.conf.new
#   $UNITDIR/coattail*.service, coattail.target, coattail-scraper-once.timer
#       with @BINDIR@ = $PREFIX/bin and @SYSCONFDIR@ = $SYSCONFDIR
#   $SYSUSERSDIR/coattail.conf             the coattail user (systemd-sysusers)
#   $MANDIR/man1/coattail-*.1              man pages made from each --help
#   $DOCDIR/supervisord.conf, coattail.conf   examples
# UNITDIR defaults to $PREFIX/lib/systemd/system and SYSUSERSDIR to
# $PREFIX/lib/sysusers.d: systemd reads both for /usr and for /usr/local.
#
# Without DESTDIR, as root, on a systemd host it also creates the coattail
# user (systemd-sysusers) and runs `systemctl daemon-reload`; it enables and
# starts nothing.
set -eu

: "${PREFIX:?}" "${SYSCONFDIR:?}" "${UNITDIR:?}" "${SYSUSERSDIR:?}" "${MANDIR:?}" "${DOCDIR:?}"
: "${BINS:?}"
DESTDIR=${DESTDIR:-}
VERSION=${VERSION:-}
cd "$(dirname "$0")/.."

d() { printf '%s%s' "$DESTDIR" "$1"; }

install -d "$(d "$PREFIX/bin")" "$(d "$SYSCONFDIR/coattail")" "$(d "$UNITDIR")" \
	"$(d "$SYSUSERSDIR")" "$(d "$MANDIR/man1")" "$(d "$DOCDIR")"

# shellcheck disable=SC2086
install -m 0755 $BINS "$(d "$PREFIX/bin")/"

conf=$(d "$SYSCONFDIR/coattail/coattail.conf")
if [ -e "$conf" ]; then
	install -m 0640 deploy/coattail.conf "$conf.new"
	echo "install: kept $conf; the shipped one is $conf.new" >&2
else
	install -m 0640 deploy/coattail.conf "$conf"
fi

for f in deploy/systemd/*.service deploy/systemd/*.target deploy/systemd/*.timer; do
	sed -e "s|@BINDIR@|$PREFIX/bin|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" "$f" \
		>"$(d "$UNITDIR")/$(basename "$f")"
	chmod 0644 "$(d "$UNITDIR")/$(basename "$f")"
done
install -m 0644 deploy/systemd/coattail.sysusers "$(d "$SYSUSERSDIR")/coattail.conf"

for b in $BINS; do
	sh deploy/help2man.sh "$b" "$VERSION" >"$(d "$MANDIR/man1")/$(basename "$b").1"
	chmod 0644 "$(d "$MANDIR/man1")/$(basename "$b").1"
done

install -m 0644 deploy/supervisord.conf deploy/coattail.conf "$(d "$DOCDIR")/"

if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers "$SYSUSERSDIR/coattail.conf" || true
fi
# The stages run as coattail and must read the config; nobody else may.
# (Under DESTDIR the packager sets owners.)
if [ -z "$DESTDIR" ]; then
	if getent group coattail >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		chgrp coattail "$conf" || true
	else
		echo "install: the config is 0640; once the coattail user exists:" \
			"chgrp coattail $SYSCONFDIR/coattail/coattail.conf" >&2
	fi
fi
if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && [ "$(id -u)" = 0 ]; then
	systemctl daemon-reload || true
fi
