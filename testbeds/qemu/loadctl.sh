#!/usr/bin/env bash
# loadctl.sh — run by `busybox nc -ll -e` on the host side of the qemu testbed for each
# connection from tping's --load command in the measurement VM: starts the load in the busy
# background VMs, waits until the connection closes (tping stopped its load command), stops them.
# Environment: QEMU_LOADCTL_NS, QEMU_LOADCTL_GUESTS, QEMU_LOADCTL_TYPE, VDQ_RUN, and
# QEMU_LOADCTL_LOG (the run directory's loadctl.log: when each load started and stopped).
log() { printf '%s %s\n' "$(date +%T.%N)" "$*" >>"${QEMU_LOADCTL_LOG:-/dev/null}"; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
export VDQ_OWNER=0
vdq_env_use "$QEMU_LOADCTL_NS" || exit 1
for g in $QEMU_LOADCTL_GUESTS; do
	if vdq_load_start "$g" "$QEMU_LOADCTL_TYPE" >&2; then
		log "started $QEMU_LOADCTL_TYPE in $g"
	else
		log "failed to start $QEMU_LOADCTL_TYPE in $g"
	fi
done
cat >/dev/null
for g in $QEMU_LOADCTL_GUESTS; do
	vdq_load_stop "$g" all >&2 && log "stopped the load in $g"
done
