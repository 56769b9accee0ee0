# qemu.sh — the qemu testbed of testbeds/run (issue 6) on top of the guest harness in
# testbeds/qemu/ (lib.sh, README.md there; one implementation shared with the kernel module's
# tests). Sourced by testbeds/run after scenario.sh; uses its RUN[], say, need_tool, db, label
# and testbed_db.
#
# Layout: namespace vdtb-ID holds bridge vdbr0 with the peer address 10.213.1.1 (the host side);
# guest "m" (the measurement VM, 10.213.1.10 on vdtap0) and background guests b1..bN. Vantage
# points, outermost to innermost: the bridge (host stack = the peer), m's tap, and tping's kernel
# and user stamps in the guest (clock "vm": the guest's clock is aligned on the at-rest probes).
# With tcpmon (scenario key, default yes) the guest kernel's stack levels from tcpmon.ko's
# records (tcpmon.tcm) come between tping's kernel and user stamps, on the same clock.
#
# Load phase: tping's --load command in the guest connects to a control port on the host; a
# listener there starts the loads in the busy guests and stops them when the connection closes.

QEMU_SUBNET=10.213.1
QEMU_LOADCTL_PORT=7000

qemu_harness() { echo "$here/qemu/lib.sh"; }

# Checks what the qemu testbed needs before anything is made; prints the reason on failure.
qemu_preflight() {
	if [ ! -f "$(qemu_harness)" ]; then
		echo "testbeds/run: the qemu testbed needs the qemu guest harness (testbeds/qemu/lib.sh)," \
			"which is not in this checkout; run the scenario on the netns testbed with" \
			"--set testbed=netns" >&2
		return 1
	fi
	if ! command -v qemu-system-x86_64 >/dev/null; then
		echo "testbeds/run: qemu-system-x86_64 is not installed: run 'make deps'" >&2
		return 1
	fi
	local kernel=${VMDELAY_KERNEL:-${VDQ_KERNEL:-}}
	if [ -n "$kernel" ]; then
		if [ ! -r "$kernel" ]; then
			echo "testbeds/run: kernel image '$kernel' not found or not readable" \
				"(VMDELAY_KERNEL); install linux-image-amd64 ('make deps') or point" \
				"VMDELAY_KERNEL at a bzImage" >&2
			return 1
		fi
	elif ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
		echo "testbeds/run: no kernel image in /boot: install linux-image-amd64 ('make deps')" \
			"or set VMDELAY_KERNEL" >&2
		return 1
	fi
	return 0
}

qemu_testbed_down() {
	declare -F vdq_cleanup >/dev/null && vdq_cleanup
	return 0
}

# The busy guests (the measurement guest itself when there are no background guests).
qemu_busy_guests() {
	local k
	[[ ${RUN[load]} == none ]] && return 0
	if ((RUN[background_vms] == 0)); then
		echo m
		return 0
	fi
	for ((k = 1; k <= RUN[busy_vms]; k++)); do echo "b$k"; done
}

qemu_loads() { # start|stop
	local g
	for g in $(qemu_busy_guests); do
		if [[ $1 == start ]]; then
			vdq_load_start "$g" "${RUN[load]}" || return 1
		else
			vdq_load_stop "$g" all
		fi
	done
	return 0
}

qemu_capture_start() { # DIR
	local dir=$1 tap tag ifn log t
	tap=$(vdq_guest_info m tap) || return 1
	for tag in bridge tap; do
		ifn=$tap
		[[ $tag == bridge ]] && ifn=$(vdq_bridge)
		# -B 8192 (KiB) as the harness' own captures: immediate mode uses fixed-size ring
		# slots, and the default 2 MiB ring overflowed (silent gaps of ~100 ms in a 500 Mbit/s
		# transfer) when busy guests kept tcpdump off the CPU.
		vdq_host_bg "cap-$tag" tcpdump -n -i "$ifn" -s 256 -B 8192 -U --immediate-mode \
			--time-stamp-precision=nano -w "$dir/$tag.pcap" "$NB_CAPTURE_FILTER" || return 1
	done
	for tag in bridge tap; do
		log=$VDQ_RUN/$VDQ_NETNS/bg/cap-$tag.log
		for ((t = 0; t < 100; t++)); do
			grep -q 'listening on' "$log" 2>/dev/null && break
			sleep 0.1
		done
		((t < 100)) || { echo "testbeds/run: the $tag capture did not start: $(tail -n 2 "$log")" >&2; return 1; }
	done
	say "capturing on $(vdq_bridge) (bridge) and $tap (measurement VM's tap)"
}

# Stops the captures and keeps tcpdump's closing statistics in DIR/TAG.tcpdump.log (as the netns
# testbed does); packets the kernel dropped are said, since the analysis cannot see them.
qemu_capture_stop() { # DIR
	local dir=$1 tag log drops
	for tag in bridge tap; do
		vdq_host_bg_stop "cap-$tag"
		log=$VDQ_RUN/$VDQ_NETNS/bg/cap-$tag.log
		[ -f "$log" ] || continue
		cp "$log" "$dir/$tag.tcpdump.log" 2>/dev/null
		drops=$(sed -n 's/^\([0-9][0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$log")
		if [ -n "$drops" ] && ((drops > 0)); then
			say "warning: the $tag capture lost $drops packet(s) (dropped by kernel): its trace has gaps"
		fi
	done
}

# tcpmon.ko built against the guest kernel, once per testbeds/run (empty: not built, said why).
QEMU_TCPMON_KO=
QEMU_TCPMON_TRIED=0
qemu_tcpmon_build() { # DIR: sets QEMU_TCPMON_KO
	local kernel kver rc
	((QEMU_TCPMON_TRIED)) && return 0
	QEMU_TCPMON_TRIED=1
	kernel=${VDQ_KERNEL:-$(vdq__kernel)} || return 1
	kver=${kernel##*/vmlinuz-}
	QEMU_TCPMON_KO=$(vdq_build_tcpmon "$kver" "$1")
	rc=$?
	if ((rc == 77)); then
		say "note: no headers for the guest kernel '$kver' (/lib/modules/$kver/build; linux-headers-amd64): running without tcpmon"
	elif ((rc)); then
		echo "testbeds/run: building tcpmon.ko against $kver failed: $(tail -n 3 "$1/kbuild.log")" >&2
		return 1
	else
		say "built tcpmon.ko against $kver"
	fi
	return 0
}

qemu_tcpmon_on() { [ -n "$QEMU_TCPMON_KO" ] && [[ ${RUN[tcpmon]} == yes ]]; }

qemu_tcpmon_start() { # records ICMP to and from the peer at every layer, in the background
	local ko=/lib/modules/vmdelay/${QEMU_TCPMON_KO##*/}
	qemu_tcpmon_on || return 0
	vdq_exec m -- "insmod $ko && tcpmon start icmp host $(vdq_peer_ip) layers all" &&
		vdq_exec m -- "setsid tcpmon record -w /tmp/tcpmon.tcm </dev/null >/tmp/tcpmon.log 2>&1 &" || {
		echo "testbeds/run: loading tcpmon in the measurement VM failed" >&2
		return 1
	}
	say "tcpmon recording ICMP at every layer in VM m"
}

qemu_tcpmon_stop() { # DIR: stops the recording and copies the record file out
	qemu_tcpmon_on || return 0
	vdq_exec m -- "kill -INT \$(pidof tcpmon) 2>/dev/null; for i in \$(seq 50); do pidof tcpmon >/dev/null || break; sleep 0.2; done; tcpmon stop"
	vdq_copy_out m /tmp/tcpmon.log "$1/tcpmon.log" 2>/dev/null
	vdq_copy_out m /tmp/tcpmon.tcm "$1/tcpmon.tcm" || {
		echo "testbeds/run: no tcpmon record file from the measurement VM: $(tail -n 3 "$1/tcpmon.log" 2>/dev/null)" >&2
		return 1
	}
}

qemu_run_probes() { # DIR LABEL
	local dir=$1 lab=$2 peer total limit loadcmd=
	peer=$(vdq_peer_ip)
	total=$((RUN[probe_count] + 2 * RUN[rest]))
	limit=$(awk -v n="$total" -v i="${RUN[probe_interval]}" 'BEGIN { printf "%d", n * i + 120 }')
	if [[ ${RUN[load]} != none ]] && ((RUN[background_vms] == 0)); then
		# The load runs in the measurement VM itself (the guest's command channel is busy with
		# tping, so the host cannot start it): started and stopped by the load command.
		# (No single quotes: the command travels inside --load '...'.)
		loadcmd="vd-load start ${RUN[load]}; trap \"vd-load stop all; exit 0\" TERM INT; while :; do sleep 1; done"
	elif [[ ${RUN[load]} != none ]]; then
		# The host-side listener starts the loads on connect and stops them at EOF. In the guest
		# the connection's stdin is a FIFO held open by a sleeper, so it ends only when tping
		# stops the load command (exec: the command is nc itself).
		vdq_host_bg loadctl env QEMU_LOADCTL_NS="$VDQ_NETNS" QEMU_LOADCTL_GUESTS="$(qemu_busy_guests | tr '\n' ' ')" \
			QEMU_LOADCTL_TYPE="${RUN[load]}" VDQ_RUN="$VDQ_RUN" QEMU_LOADCTL_LOG="$dir/loadctl.log" \
			busybox nc -ll -p "$QEMU_LOADCTL_PORT" -e "$here/lib/qemu-loadctl.sh" || return 1
		vdq_exec m -- "mkfifo /run/vd-hold && (setsid sleep 1000000 >/run/vd-hold </dev/null 2>/dev/null &)" ||
			return 1
		loadcmd="exec nc $peer $QEMU_LOADCTL_PORT </run/vd-hold >/dev/null"
	fi
	say "phase: ${RUN[rest]} probes at rest, ${RUN[probe_count]} under load '${RUN[load]}' ($(qemu_busy_guests | wc -l) VM(s) busy), ${RUN[rest]} at rest; every ${RUN[probe_interval]} s (~${limit}s at most)"
	local cmd="tping -c ${RUN[probe_count]} -i ${RUN[probe_interval]} -s ${RUN[probe_size]} --rest ${RUN[rest]} -q --csv -o /tmp/tping.csv"
	[ -n "$loadcmd" ] && cmd+=" --load '$loadcmd'"
	cmd+=" $peer >/tmp/tping.out 2>/tmp/tping.err"
	qemu_tcpmon_start || return 1
	vdq_exec m -t "$limit" -- "$cmd"
	local rc=$?
	qemu_tcpmon_stop "$dir" || rc=1
	vdq_copy_out m /tmp/tping.err "$dir/tping.err" 2>/dev/null
	vdq_copy_out m /tmp/tping.out "$dir/tping.out" 2>/dev/null
	[[ ${RUN[load]} != none ]] && ((RUN[background_vms] > 0)) && vdq_host_bg_stop loadctl
	if ((rc != 0)); then
		echo "testbeds/run: tping in the measurement VM failed (exit $rc):" >&2
		tail -n 5 "$dir/tping.err" >&2 2>/dev/null
		return 1
	fi
	vdq_copy_out m /tmp/tping.csv "$dir/tping.csv" || return 1
	say "probes done: $(csv_rows "$dir/tping.csv")/$total"
}

qemu_run_transfers() { # DIR LABEL
	local dir=$1 lab=$2 tperf count size msg peer guest_ip what
	[[ ${RUN[transfer]} == none ]] && return 0
	tperf=$(need_tool tperf "the transfer workload") || return 1
	read -r count size <<<"$(transfer_count_size)"
	msg=$(scn_size_bytes "${RUN[message_size]}")
	what="-r ${count}x${size}"
	((count == 1)) && what="-n $size"
	peer=$(vdq_peer_ip)
	guest_ip=$(vdq_guest_info m ip)
	qemu_loads start || return 1
	say "phase: transfers ($count x $size bytes, messages of $msg bytes, guest ${RUN[transfer_dir]}s) under load '${RUN[load]}'"
	local rc=0
	if [[ ${RUN[transfer_dir]} == send ]]; then
		vdq_host_bg tperf-sink "$tperf" sink -p 5201 -t 900 || rc=1
		sleep 0.5
		((rc)) || vdq_exec m -t 900 -- "tperf send $peer -p 5201 $what -m $msg -t 600 --csv -o /tmp/transfers.csv >/tmp/tperf.out 2>/tmp/tperf.err" ||
			rc=1
		vdq_copy_out m /tmp/tperf.err "$dir/tperf.err" 2>/dev/null
		((rc)) || vdq_copy_out m /tmp/transfers.csv "$dir/transfers.csv" || rc=1
		vdq_host_bg_stop tperf-sink
	else
		vdq_exec m -- "setsid tperf sink -p 5201 -t 900 </dev/null >/dev/null 2>&1 &" || rc=1
		sleep 1
		((rc)) || vdq_netns_exec "$tperf" send "$guest_ip" -p 5201 $what -m "$msg" -t 600 --csv \
			-o "$dir/transfers.csv" --db "$db" --testbed "$testbed_db" --label "$lab" \
			>"$dir/tperf.out" 2>"$dir/tperf.err" || rc=1
	fi
	qemu_loads stop
	if ((rc)); then
		echo "testbeds/run: the transfers failed:" >&2
		tail -n 5 "$dir/tperf.err" >&2 2>/dev/null
		return 1
	fi
	say "transfers done: $(csv_rows "$dir/transfers.csv")/$count"
}

qemu_testbed_run() { # DIR LABEL
	local dir=$1 lab=$2 tping= tperf= k
	qemu_preflight || return 1
	((RUN[probe_count] > 0)) && { tping=$(need_tool tping "the prober, run in the guest") || return 1; }
	[[ ${RUN[transfer]} != none ]] && { tperf=$(need_tool tperf "the transfer workload") || return 1; }
	((RUN[probe_count] > 0)) && { need_tool vmdelay-analyze "the per-layer analysis" >/dev/null || return 1; }
	# shellcheck source=../qemu/lib.sh
	. "$(qemu_harness)"
	[ -n "${VMDELAY_KERNEL:-}" ] && export VDQ_KERNEL=$VMDELAY_KERNEL
	export VDQ_OWNER=$$
	CUR_KIND=qemu
	local files=() tcpmon=
	if [ -n "$tping" ] && [[ ${RUN[tcpmon]} == yes ]]; then
		tcpmon=$(need_tool tcpmon "the guest kernel's recorder (or tcpmon = no)") || return 1
		qemu_tcpmon_build "$dir" || return 1
		if [ -n "$QEMU_TCPMON_KO" ]; then
			files+=(-f "$tcpmon" -f "$QEMU_TCPMON_KO")
		else
			tcpmon=
		fi
	fi
	say "building the guest initramfs (busybox, ${tping:+tping }${tperf:+tperf }${tcpmon:+tcpmon tcpmon.ko})"
	[ -n "$tping" ] && files+=(-f "$tping")
	[ -n "$tperf" ] && files+=(-f "$tperf")
	"$here/qemu/mkinitramfs.sh" -o "$dir/initrd.gz" "${files[@]}" >"$dir/initramfs.log" 2>&1 || {
		echo "testbeds/run: building the initramfs failed: $(tail -n 3 "$dir/initramfs.log")" >&2
		return 1
	}
	say "testbed qemu $CUR_RUNID: namespace vdtb-$CUR_RUNID, bridge $(vdq_bridge), ${RUN[background_vms]} background VM(s), MTU ${RUN[mtu]}"
	vdq_env_create "vdtb-$CUR_RUNID" "$QEMU_SUBNET" || return 1
	local disk=() pin=()
	[[ ${RUN[load]} == hd || ${RUN[load]} == io ]] && disk=(--disk 64)
	# Pinning (Dantas' CPU reservation): the measurement VM alone on CPU 0, the others on CPU 1+.
	[[ ${RUN[pinning]} == yes ]] && pin=(--cpu 0)
	local common=(--nic "${RUN[nic]}" --mem "${RUN[guest_memory]}M" --mtu "${RUN[mtu]}"
		--boot-timeout "${RUN[boot_timeout]}" --initrd "$dir/initrd.gz")
	say "booting VM m (measurement, nic ${RUN[nic]}, accel $(vdq_accel))"
	local mdisk=()
	((RUN[background_vms] == 0)) && mdisk=("${disk[@]}")
	vdq_guest_start m "${common[@]}" "${pin[@]}" "${mdisk[@]}" || return 1
	say "VM m up in $(vdq_guest_info m boot_ms) ms at $(vdq_guest_info m ip)"
	for ((k = 1; k <= RUN[background_vms]; k++)); do
		local bpin=()
		[[ ${RUN[pinning]} == yes ]] && (($(nproc) > 1)) && bpin=(--cpu $((1 + (k - 1) % ($(nproc) - 1))))
		say "booting background VM b$k ($k of ${RUN[background_vms]})"
		vdq_guest_start "b$k" "${common[@]}" "${bpin[@]}" "${disk[@]}" || return 1
	done
	qemu_capture_start "$dir" || return 1
	if [ -n "$tping" ]; then
		qemu_run_probes "$dir" "$lab" || return 1
	fi
	qemu_run_transfers "$dir" "$lab" || return 1
	qemu_capture_stop "$dir"
	if [ -n "$tping" ]; then
		local tcm=()
		# Every level but sock-queue: for ICMP sockets it comes before trans-rx (tcpmon.md's
		# order quirks), so it is no level between trans and sock-copy (its records stay in
		# tcpmon.tcm).
		qemu_tcpmon_on && tcm=("guest.tcpmon:vm=$dir/tcpmon.tcm#dev,ip-route,ip-local,trans,sock-copy")
		analyze_run "$dir" "$lab" "bridge=$dir/bridge.pcap" "tap=$dir/tap.pcap" \
			"guest.kernel:vm=$dir/tping.csv#kernel" "${tcm[@]}" "guest.user:vm=$dir/tping.csv#user" || return 1
	fi
	if [[ ${RUN[transfer]} != none ]]; then
		analyze_tcp "$dir" "$lab" "bridge=$dir/bridge.pcap" "tap=$dir/tap.pcap" || return 1
	fi
	local t id
	for t in vmdelay-analyze tperf; do
		id=$(annotate_run "$t" "$dir") && say "stored $t run(s) $id in $db (testbed '$testbed_db')"
	done
	return 0
}
