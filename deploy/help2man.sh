#!/bin/sh
# deploy/help2man.sh - write a man page (troff, section 1) from a program's
# --help text, so `man coattail-mapper` shows exactly what `--help` says and
# the two cannot drift.  Used by `make install`.
#
#   sh deploy/help2man.sh BINARY VERSION > coattail-mapper.1
#
# The NAME line is the first line of --help when it reads "PROG VERSION -
# summary" (the stages), else a fixed summary (the tools).  The rest is set
# verbatim (.nf) in DESCRIPTION; a backslash or a leading dot or quote in the
# text is escaped so troff prints it as written.
set -eu

bin=$1
version=${2:-}
name=$(basename "$bin")
help=$("$bin" --help 2>&1) || true
[ -n "$help" ] || {
	echo "help2man.sh: $bin printed no --help text" >&2
	exit 1
}

first=$(printf '%s\n' "$help" | sed -n 1p)
case "$first" in
"$name "*" - "*)
	summary=${first#* - }
	body=$(printf '%s\n' "$help" | sed 1d)
	;;
*)
	case "$name" in
	coattail-tap) summary="watch the coattail pipeline: what each stage emits, drops and counts" ;;
	coattail-inject) summary="send JSON-lines records into a coattail stage's input socket" ;;
	coattail-keygen) summary="make a CURVE key pair for coattail's tcp:// links between hosts" ;;
	*) summary="part of coattail, which follows SEC Form 4 insider trades" ;;
	esac
	body=$help
	;;
esac

esc() {
	sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

date=$(date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} +%Y-%m-%d)
printf '.TH %s 1 "%s" "coattail %s" "coattail manual"\n' \
	"$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')" "$date" "$version"
printf '.SH NAME\n%s \\- %s\n' "$name" "$(printf '%s' "$summary" | esc)"
printf '.SH DESCRIPTION\n.nf\n'
printf '%s\n' "$body" | esc
printf '.fi\n.SH SEE ALSO\n'
printf 'The README of coattail (the user'"'"'s manual) and /etc/coattail/coattail.conf or\n'
printf 'PREFIX/etc/coattail/coattail.conf, where every setting is described.\n'
