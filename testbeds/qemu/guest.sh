#!/usr/bin/env bash
# Command-line face of lib.sh, for callers that are not bash (the C scenario runner) or that
# want one command per step. Every subcommand works on the environment named by --netns.
#
#   guest.sh --netns NS env-create [SUBNET] [--owner PID]
#   guest.sh --netns NS start NAME [vdq_guest_start options]
#   guest.sh --netns NS exec NAME [-t SECONDS] COMMAND...
#   guest.sh --netns NS copy-out NAME GUEST_PATH HOST_PATH
#   guest.sh --netns NS copy-in NAME HOST_PATH GUEST_PATH
#   guest.sh --netns NS load-start NAME TYPE [ARGS] | load-stop NAME [TYPE]
#   guest.sh --netns NS info NAME KEY | guests | peer-ip
#   guest.sh --netns NS stop NAME
#   guest.sh --netns NS destroy
#   guest.sh accel
#
# env-create with --owner PID tears the environment down when that process is gone.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	if [ "${1:-2}" = 0 ]; then
		sed -n '2,17s/^# \{0,1\}//p' "$0"
	else
		sed -n '2,17s/^# \{0,1\}//p' "$0" >&2
	fi
	exit "${1:-2}"
}

if [ "${1:-}" = --netns ]; then
	VDQ_NETNS=${2:-}
	shift 2 || usage
fi
[ $# -ge 1 ] || usage
sub=$1
shift
case $sub in
-h | --help) usage 0 ;;
accel) vdq_accel ;;
env-create)
	subnet=10.0.2
	[ $# -ge 1 ] && [ "$1" != --owner ] && { subnet=$1; shift; }
	# Without --owner no watchdog: this process exits right away.
	VDQ_OWNER=0
	[ "${1:-}" = --owner ] && VDQ_OWNER=${2:?--owner needs a PID}
	export VDQ_OWNER
	vdq_env_create "$VDQ_NETNS" "$subnet" ;;
destroy) vdq_env_destroy "$VDQ_NETNS" ;;
start) vdq_guest_start "$@" ;;
exec)
	name=${1:?exec needs NAME}
	shift
	vdq_exec "$name" "$@" ;;
copy-out) vdq_copy_out "$@" ;;
copy-in) vdq_copy_in "$@" ;;
load-start) vdq_load_start "$@" ;;
load-stop) vdq_load_stop "$@" ;;
info) vdq_guest_info "$@" ;;
guests) vdq_guests ;;
peer-ip) vdq_peer_ip ;;
stop) vdq_guest_stop "$@" ;;
*) echo "guest.sh: unknown subcommand '$sub'" >&2; usage 2 ;;
esac
