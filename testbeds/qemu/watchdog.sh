#!/usr/bin/env bash
# Backstop of the qemu testbed: started (in its own session) by vdq_env_create, it tears the
# environment down when the process that created it is gone without having done so (killed
# by SIGKILL, its traps never ran). It exits by itself once the environment is destroyed.
#   watchdog.sh OWNER_PID NETNS RUN_DIR
owner=$1 ns=$2
export VDQ_RUN=$3
while [ -d "$VDQ_RUN/$ns" ]; do
	if ! kill -0 "$owner" 2>/dev/null; then
		# shellcheck source-path=SCRIPTDIR source=lib.sh
		. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
		VDQ_WATCHDOG_SELF=$$ vdq_env_destroy "$ns"
		exit 0
	fi
	sleep 1
done
