#!/usr/bin/env bash
# on_exit.sh — sourced (bash) by the testbeds and the tests that build namespaces, taps, guests,
# temporary directories or servers: `vd_on_exit CMD` runs CMD (a function, or a command line as
# for trap) once when the script ends, however it ends: at its end, by exit, Ctrl-C (INT), TERM
# (tests/run.sh's timeout, kill) or HUP. Several calls run their commands in order.
#
# Why not a bare `trap CMD EXIT`:
#  - bash runs the EXIT trap when TERM or HUP kills it, but does not wait for the command in the
#    foreground (testbeds/run, a tping in a namespace, a guest): cut loose, that command would
#    go on using what CMD deletes, and tear down nothing of its own. So the children still
#    running get TERM first and a few seconds to tear down their part.
#  - Ctrl-C: when the foreground child catches INT and exits (testbeds/run exits 130), bash goes
#    on with the next command; here INT ends the script.
#  - a second signal (the timeout's TERM to the process group, then a parent's own) must not cut
#    the cleanup short: INT, TERM and HUP are ignored while it runs.
# TERM and HUP keep bash's own handling (the EXIT trap at once): a trap on them would run only
# once the foreground command returned, minutes for a guest run.

VD_ON_EXIT_CMDS=()
# Seconds the children get to end after TERM before CMD runs anyway (tests/run.sh sends KILL 10 s
# after its TERM).
VD_ON_EXIT_GRACE=${VD_ON_EXIT_GRACE:-6}

vd_on_exit() { # CMD
	VD_ON_EXIT_CMDS+=("$1")
	trap vd__on_exit_run EXIT
	trap 'exit 130' INT
}

vd__on_exit_run() { # the shell's exit status stays that of the script (or of the signal)
	local kids c i
	trap '' INT TERM HUP
	trap - EXIT
	set +eu # under set -e or -u, a failing step here would change the exit status or stop here
	kids=$(pgrep -P $$ | paste -sd,)
	if [ -n "$kids" ]; then
		local -a pids
		IFS=, read -ra pids <<<"$kids"
		kill -TERM "${pids[@]}" 2>/dev/null
		# until none is left but zombies (bash reaps them after the trap)
		for ((i = 0; i < VD_ON_EXIT_GRACE * 10; i++)); do
			ps -o stat= -p "$kids" | grep -qv '^Z' || break
			sleep 0.1
		done
	fi
	for c in "${VD_ON_EXIT_CMDS[@]}"; do
		eval "$c" || true
	done
}
