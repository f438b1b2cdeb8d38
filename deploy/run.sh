#!/bin/sh
# deploy/run.sh - `make run`: the four coattail stages and a tap under
# supervisord, in the foreground, on live sources and the paper broker.
#
#   COATTAIL_SEC_USER_AGENT="Jane Doe jane@example.org" make run
#
# - configuration: deploy/coattail.conf (or $COATTAIL_CONF);
# - state in ./var/state, ipc sockets and supervisord's socket in ./var/run
#   (COATTAIL_VAR_DIR names another directory than ./var);
# - the broker: paper (a local ledger in var/state/paper.sqlite), unless
#   COATTAIL_BROKER names another;
# - every stage's log and the tap's lines (coattail-tap --human, or
#   $COATTAIL_TAP_ARGS) go to this terminal; Ctrl-C stops everything: each
#   stage drains its output and exits 0, then supervisord exits.
#
# SEC refuses automated clients that do not name a contact, so the edgar
# source needs scraper.sec_user_agent: "Company-or-name contact@e-mail".
# run.sh never makes one up.  It takes, in this order: the environment
# (COATTAIL_SEC_USER_AGENT), a sec_user_agent set in the config file, the
# one saved in var/sec_user_agent by an earlier run; else, at a terminal, it
# asks once and saves the answer in var/sec_user_agent; else it stops with
# a one-line message saying how to set it.
#
# Only the offline demo (`make demo`) runs without the network.
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)

die() {
	echo "make run: $*" >&2
	exit 1
}

command -v supervisord >/dev/null 2>&1 ||
	die "supervisord is not installed; as root run:  sh deploy/deps.sh   (or: apt-get install supervisor)"

for b in scraper mapper decider executor tap; do
	[ -x "$ROOT/bin/coattail-$b" ] || die "bin/coattail-$b is missing; run:  make"
done

COATTAIL_CONF=${COATTAIL_CONF:-$ROOT/deploy/coattail.conf}
[ -r "$COATTAIL_CONF" ] || die "cannot read the config $COATTAIL_CONF"

VAR=${COATTAIL_VAR_DIR:-$ROOT/var}
mkdir -p "$VAR/state" "$VAR/run"
chmod 700 "$VAR/state" "$VAR/run"
VAR=$(cd "$VAR" && pwd)

# A stage's own setting wins over nothing but the environment: look for an
# uncommented sec_user_agent in the config before asking.
conf_has_agent() {
	grep -Eq '^[[:space:]]*sec_user_agent[[:space:]]*=' "$COATTAIL_CONF"
}

valid_agent() {
	case "$1" in
	*[!\ ]*\ *@*.*) return 0 ;;
	*) return 1 ;;
	esac
}

SAVED="$VAR/sec_user_agent"
HOW='COATTAIL_SEC_USER_AGENT="Your Name you@your-domain.example" make run'
if [ -z "${COATTAIL_SEC_USER_AGENT:-}" ] && ! conf_has_agent; then
	if [ -s "$SAVED" ]; then
		COATTAIL_SEC_USER_AGENT=$(cat "$SAVED")
		echo "make run: SEC User-Agent from $SAVED: $COATTAIL_SEC_USER_AGENT" >&2
	elif [ -t 0 ] && [ -t 2 ]; then
		echo "SEC EDGAR requires every automated client to name a contact (https://www.sec.gov/os/accessing-edgar-data)." >&2
		printf 'Your name or company and a contact e-mail, e.g. "Jane Doe jane@example.org": ' >&2
		read -r COATTAIL_SEC_USER_AGENT || COATTAIL_SEC_USER_AGENT=
		valid_agent "$COATTAIL_SEC_USER_AGENT" ||
			die "that is not a name and an e-mail address; set it with:  $HOW"
		printf '%s\n' "$COATTAIL_SEC_USER_AGENT" >"$SAVED"
		echo "make run: saved in $SAVED (delete the file to change it)" >&2
	else
		die "SEC needs a contact in the User-Agent; set it with:  $HOW   (or try the offline demo: make demo)"
	fi
fi
if [ -n "${COATTAIL_SEC_USER_AGENT:-}" ]; then
	valid_agent "$COATTAIL_SEC_USER_AGENT" ||
		die "COATTAIL_SEC_USER_AGENT \"$COATTAIL_SEC_USER_AGENT\" must be a name and an e-mail address, e.g.  $HOW"
	export COATTAIL_SEC_USER_AGENT
fi

# A supervisord killed with SIGKILL leaves its socket and pid file behind;
# a live one must not be started twice on the same ./var.
if [ -f "$VAR/run/supervisord.pid" ] &&
	kill -0 "$(cat "$VAR/run/supervisord.pid")" 2>/dev/null; then
	die "already running (supervisord pid $(cat "$VAR/run/supervisord.pid")); stop it with Ctrl-C in its terminal"
fi
rm -f "$VAR/run/supervisor.sock" "$VAR/run/supervisord.pid"

export COATTAIL_BIN="$ROOT/bin"
export COATTAIL_CONF
export COATTAIL_STATE_DIR="$VAR/state"
export COATTAIL_RUN_DIR="$VAR/run"
export COATTAIL_BROKER="${COATTAIL_BROKER:-paper}"
# supervisord hands the tap a pipe, not the terminal: ask for human lines;
# the stages' own "last minute" log lines stand in for the stats records.
export COATTAIL_TAP_ARGS="${COATTAIL_TAP_ARGS:---human --type trade,intent,order,drop}"

echo "make run: scraper, mapper, decider, executor and a tap under supervisord;" \
	"broker $COATTAIL_BROKER; state in $VAR/state; Ctrl-C stops everything" >&2
echo "make run: status from another shell:" \
	"supervisorctl -s unix://$COATTAIL_RUN_DIR/supervisor.sock status" >&2
exec supervisord -c "$ROOT/deploy/supervisord.conf"
