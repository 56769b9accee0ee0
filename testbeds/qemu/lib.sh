#!/usr/bin/env bash
# lib.sh — the qemu library, sourced from bash. Two parts:
#   vdq_*            the guest harness: Debian's kernel booted in qemu with the initramfs of
#                    mkinitramfs.sh, NIC (e1000 or virtio-net) on a tap in a bridge inside a
#                    network namespace, a command channel on a virtio-serial port, background
#                    loads, and a teardown that leaves nothing behind (README.md next to it);
#                    used by testbeds/run and the kernel module's tests and benchmarks.
#   qemu_testbed_*   the qemu testbed of testbeds/run (at the end of this file).
# The functions work under the caller's set -euo pipefail: a failure they expect is handled
# where it happens, and a function's status says whether it did its job.
#
# State lives in $VDQ_RUN/<netns>/ (default /tmp/vdq): one directory per environment (netns,
# bridge, peer address) with one directory per guest (pid, FIFOs, console log, share).

VDQ_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VDQ_RUN=${VDQ_RUN:-${TMPDIR:-/tmp}/vdq}
VDQ_NETNS=${VDQ_NETNS:-}
VDQ_ENVS=()
VDQ_BRIDGE=vdbr0

vdq_log() { printf 'vdq: %s\n' "$*" >&2; }
vdq_error() { vdq_log "error: $*"; }

# Monotonic-enough wall time in milliseconds, for timing boots and deadlines.
vdq__ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

vdq__env() { # -> directory of the current environment
	[ -n "$VDQ_NETNS" ] || { vdq_error "no environment: call vdq_env_create NETNS first"; return 1; }
	[ -d "$VDQ_RUN/$VDQ_NETNS" ] || { vdq_error "no environment '$VDQ_NETNS' (no $VDQ_RUN/$VDQ_NETNS)"; return 1; }
	echo "$VDQ_RUN/$VDQ_NETNS"
}

vdq__gdir() { # NAME -> directory of that guest
	local e
	e=$(vdq__env) || return 1
	[ -d "$e/guests/$1" ] || { vdq_error "no guest '$1' in $VDQ_NETNS"; return 1; }
	echo "$e/guests/$1"
}

# A pid is ours and alive: it runs and its command line names our state directory (so a
# recycled pid is never killed).
vdq__alive() { # PID: exists and is not a zombie
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

vdq__ours() { # PID DIR
	local pid=$1 dir=$2
	vdq__alive "$pid" || return 1
	local cmdline
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *"$dir"* ]]
}

vdq__kill() { # PID DIR [GRACE_SECONDS]: TERM, wait, KILL
	local pid=$1 dir=$2 grace=${3:-3} i
	vdq__ours "$pid" "$dir" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		vdq__ours "$pid" "$dir" || break
		sleep 0.1
	done
	if vdq__ours "$pid" "$dir"; then kill -KILL "$pid" 2>/dev/null || true; fi
	return 0
}

# Prints why the harness cannot run here (and returns 1), for tests to skip with exit 77.
vdq_require() {
	local t
	[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, taps)"; return 1; }
	for t in qemu-system-x86_64 ip busybox cpio gzip flock taskset base64; do
		command -v "$t" >/dev/null || { echo "$t not installed"; return 1; }
	done
	vdq__kernel >/dev/null 2>&1 || { echo "no /boot/vmlinuz-* (install linux-image-amd64)"; return 1; }
	[ -c /dev/net/tun ] || { echo "no /dev/net/tun"; return 1; }
	return 0
}

# ---------------------------------------------------------------------------------------------
# Acceleration: KVM when a guest really boots under it (a short, time-limited probe boot),
# otherwise TCG. VDQ_ACCEL=kvm|tcg forces it. The answer is cached per host boot.

vdq_accel() {
	case ${VDQ_ACCEL:-auto} in
	kvm | tcg) echo "$VDQ_ACCEL"; return 0 ;;
	auto) ;;
	*) vdq_error "VDQ_ACCEL must be kvm, tcg or auto (got '$VDQ_ACCEL')"; return 1 ;;
	esac
	local boot cache
	boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	cache=$VDQ_RUN/accel.$boot
	if [ -s "$cache" ] && [ "$(wc -l <"$cache")" = 2 ]; then
		head -n 1 "$cache"
		return 0
	fi
	mkdir -p "$VDQ_RUN"
	local accel=tcg why
	if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
		why="no usable /dev/kvm"
	elif why=$(vdq__probe_kvm); then
		accel=kvm
	fi
	vdq_log "acceleration: $accel ($why)"
	printf '%s\n%s\n' "$accel" "$why" >"$cache.$$" && mv "$cache.$$" "$cache"
	echo "$accel"
}

# Why vdq_accel chose what it chose (the probe's finding), for logs.
vdq_accel_reason() {
	vdq_accel >/dev/null || return 1
	tail -n +2 "$VDQ_RUN/accel.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)" 2>/dev/null || true
}

vdq__probe_kvm() { # boots the default initramfs under KVM without a NIC; ready in time = works
	# Prints what it saw (one line).
	local limit=${VDQ_KVM_PROBE_SECONDS:-10} d pid rfd line t0 ok=1
	d=$(mktemp -d "$VDQ_RUN/kvmprobe.XXXXXX") || return 1
	if ! vdq__default_initrd "$d/initrd.gz" || ! mkfifo "$d/cmd.in" "$d/cmd.out"; then
		rm -rf "$d"
		return 1
	fi
	t0=$(vdq__ms)
	qemu-system-x86_64 -accel kvm -m 256M -smp 1 -nodefaults -display none -no-reboot \
		-kernel "$(vdq__boot_image "${VDQ_KERNEL:-$(vdq__kernel)}")" -initrd "$d/initrd.gz" \
		-append "console=ttyS0 panic=-1 vd.name=kvmprobe" -serial "file:$d/console.log" \
		-chardev "pipe,id=vdcmd,path=$d/cmd" -device virtio-serial-pci \
		-device "virtserialport,chardev=vdcmd,name=vd.cmd" </dev/null >"$d/qemu.log" 2>&1 &
	pid=$!
	exec {rfd}<>"$d/cmd.out"
	if read -r -t "$limit" line <&"$rfd" && [[ $line == VD-READY* ]]; then
		ok=0
		echo "KVM probe: guest ready in $(($(vdq__ms) - t0)) ms"
	elif [ -s "$d/console.log" ]; then
		echo "KVM probe: guest not ready within ${limit}s, console: $(tail -n 1 "$d/console.log" | tr -d '\r')"
	else
		echo "KVM probe: guest not ready within ${limit}s, no console output at all"
	fi
	exec {rfd}<&-
	vdq__kill "$pid" "$d" 1
	rm -rf "$d"
	return $ok
}

vdq__kernel() { # the guests' default kernel image (kernel.sh says which)
	local v
	v=$("$VDQ_HOME/kernel.sh") || return 1
	echo "/boot/vmlinuz-$v"
}

# The image qemu boots: the ELF vmlinux inside the bzImage, extracted once and cached, so qemu
# enters it through its PVH note and skips the real-mode setup and the in-guest decompression
# (under TCG that takes 10-15 s of a 25-30 s boot). Falls back to the bzImage itself when the
# payload cannot be extracted or VDQ_PVH=0.
vdq__boot_image() { # KERNEL -> path
	local k=$1 out magic off tool
	if [ "${VDQ_PVH:-1}" = 0 ]; then
		echo "$k"
		return 0
	fi
	out=$VDQ_RUN/vmlinux.$(basename "$k").$(stat -c '%s.%Y' "$k" 2>/dev/null || true)
	if [ -s "$out" ]; then
		echo "$out"
		return 0
	fi
	mkdir -p "$VDQ_RUN"
	for magic in '\xfd7zXZ\x00:xz' '\x28\xb5\x2f\xfd:zstd' '\x1f\x8b\x08\x00:gzip'; do
		tool=${magic##*:}
		command -v "$tool" >/dev/null || continue
		while read -r off; do
			# The payload is followed by other data: the decompressor's complaint is expected.
			tail -c +$((off + 1)) "$k" | "$tool" -dc 2>/dev/null >"$out.$$" || true
			if [ "$(head -c 4 "$out.$$" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				mv "$out.$$" "$out"
				echo "$out"
				return 0
			fi
		done < <(LC_ALL=C grep -m 4 -obUaP "${magic%:*}" "$k" 2>/dev/null | cut -d: -f1)
	done
	rm -f "$out.$$"
	echo "$k"
}

vdq__default_initrd() { # OUT: the default initramfs, built once per content of its sources
	local out=$1 key cache
	# Keyed by the builder's and the guest files' content and the kernels installed, so worktrees
	# with different guest files sharing $VDQ_RUN never boot each other's initramfs.
	key=$(cat "$VDQ_HOME/mkinitramfs.sh" "$VDQ_HOME"/guest/* <(ls /lib/modules) \
		<("$VDQ_HOME/kernel.sh" 2>&1) | md5sum | cut -c1-12)
	cache=$VDQ_RUN/default-initrd.$key.gz
	if [ ! -s "$cache" ]; then
		mkdir -p "$VDQ_RUN"
		"$VDQ_HOME/mkinitramfs.sh" -o "$cache.$$" && mv "$cache.$$" "$cache" || return 1
	fi
	cp "$cache" "$out"
}

# ---------------------------------------------------------------------------------------------
# Environment: a network namespace with bridge vdbr0 and the host peer address SUBNET.1/24.

vdq_netns_exists() { # NETNS (exact name)
	# No `| grep -q`: it may end the pipe early, a failure for callers with pipefail set.
	local names
	names=$(ip netns list | awk '{print $1}')
	[[ $'\n'$names$'\n' == *$'\n'"$1"$'\n'* ]]
}

vdq_env_create() { # NETNS [SUBNET (three octets, default 10.0.2)]
	local ns=$1 subnet=${2:-10.0.2} e
	[ -n "$ns" ] || { vdq_error "vdq_env_create: missing NETNS"; return 1; }
	[[ $subnet =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { vdq_error "vdq_env_create: SUBNET '$subnet' is not three octets"; return 1; }
	if vdq_netns_exists "$ns"; then
		vdq_error "network namespace '$ns' exists already"
		return 1
	fi
	e=$VDQ_RUN/$ns
	rm -rf "$e"
	mkdir -p "$e/guests"
	echo "$subnet" >"$e/subnet"
	# IPv6 beside it: fd00:0:0:C::/64, C being the third octet written as is (10.0.2 -> fd00:0:0:2).
	echo "fd00:0:0:${subnet##*.}" >"$e/subnet6"
	VDQ_NETNS=$ns
	VDQ_ENVS+=("$ns")
	ip netns add "$ns" || { rm -rf "$e"; vdq_error "ip netns add $ns failed"; return 1; }
	touch "$e/netns"
	if ! { ip -n "$ns" link set lo up &&
		ip -n "$ns" link add "$VDQ_BRIDGE" type bridge forward_delay 0 stp_state 0 &&
		ip -n "$ns" addr add "$subnet.1/24" dev "$VDQ_BRIDGE" &&
		ip -n "$ns" -6 addr add "fd00:0:0:${subnet##*.}::1/64" dev "$VDQ_BRIDGE" nodad &&
		ip -n "$ns" link set "$VDQ_BRIDGE" up; }; then
		vdq_env_destroy "$ns"
		vdq_error "cannot set up bridge in $ns"
		return 1
	fi
	# Backstop for a caller killed without running its traps: tear down when it is gone.
	if [ "${VDQ_OWNER:-$$}" != 0 ]; then
		(setsid bash "$VDQ_HOME/watchdog.sh" "${VDQ_OWNER:-$$}" "$ns" "$VDQ_RUN" </dev/null >/dev/null 2>&1 &
			echo $! >"$e/watchdog.pid")
	fi
}

vdq_env_use() { # NETNS: make an existing environment current (e.g. from another process)
	VDQ_NETNS=$1
	vdq__env >/dev/null
}

vdq_peer_ip() { local e; e=$(vdq__env) || return 1; echo "$(cat "$e/subnet").1"; }
vdq_peer_ip6() { local e; e=$(vdq__env) || return 1; echo "$(cat "$e/subnet6")::1"; }
vdq_bridge() { echo "$VDQ_BRIDGE"; }

# Runs a command inside the environment's namespace (host side: tcpdump, sinks...).
vdq_netns_exec() { ip netns exec "$VDQ_NETNS" "$@"; }

# Host-side background process in the namespace, killed by vdq_host_bg_stop or at teardown.
vdq_host_bg() { # TAG CMD...
	local tag=$1 e
	shift
	e=$(vdq__env) || return 1
	mkdir -p "$e/bg"
	(ip netns exec "$VDQ_NETNS" setsid "$@" </dev/null >"$e/bg/$tag.log" 2>&1 &
		echo $! >"$e/bg/$tag.pid")
	# Its start time, so that stop never signals a recycled pid.
	vdq__starttime "$(cat "$e/bg/$tag.pid")" >"$e/bg/$tag.start"
}

vdq__starttime() { # PID -> start time in clock ticks since boot (empty if gone)
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	echo "$st" | awk '{print $20}'
}

vdq_host_bg_stop() { # TAG: TERM (tcpdump flushes its file), then KILL after 3 s
	local tag=$1 e pid i
	e=$(vdq__env) || return 1
	[ -f "$e/bg/$tag.pid" ] || return 0
	pid=$(cat "$e/bg/$tag.pid")
	if vdq__alive "$pid" && [ "$(vdq__starttime "$pid")" = "$(cat "$e/bg/$tag.start" 2>/dev/null)" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 30; i++)); do
			vdq__alive "$pid" || break
			sleep 0.1
		done
		if vdq__alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
	fi
	rm -f "$e/bg/$tag.pid" "$e/bg/$tag.start"
}

# Packet capture in the namespace (a host vantage point: a tap, the bridge). Returns when
# tcpdump is listening; stop lets it drain what the kernel already handed it, then stops it.
vdq_capture_start() { # TAG IFACE FILE [FILTER...]
	local tag=$1 ifc=$2 file=$3 e i
	shift 3
	e=$(vdq__env) || return 1
	vdq_host_bg "$tag" tcpdump -i "$ifc" --immediate-mode -B 8192 -s "${VDQ_SNAPLEN:-256}" -U -n -w "$file" "$@" || return 1
	for ((i = 0; i < 100; i++)); do
		grep -qs 'listening on' "$e/bg/$tag.log" && return 0
		sleep 0.1
	done
	vdq_error "tcpdump on $ifc did not start: $(cat "$e/bg/$tag.log" 2>/dev/null)"
	vdq_host_bg_stop "$tag"
	return 1
}

vdq_capture_stop() { # TAG: prints tcpdump's closing statistics on stderr
	local tag=$1 e
	e=$(vdq__env) || return 1
	sleep "${VDQ_CAPTURE_SETTLE:-1}"
	vdq_host_bg_stop "$tag"
	grep -E 'captured|received|dropped' "$e/bg/$tag.log" | sed "s/^/vdq: $tag: /" >&2 || true
}

vdq_env_destroy() { # [NETNS]: stop every guest and host process, delete namespace and state
	local ns=${1:-$VDQ_NETNS} e g t p
	[ -n "$ns" ] || return 0
	e=$VDQ_RUN/$ns
	if [ -d "$e" ]; then
		local VDQ_NETNS=$ns
		for g in "$e"/guests/*; do
			if [ -d "$g" ]; then vdq_guest_stop "${g##*/}"; fi
		done
		for p in "$e"/bg/*.pid; do
			[ -f "$p" ] || continue
			t=${p##*/}
			vdq_host_bg_stop "${t%.pid}"
		done
	fi
	if vdq_netns_exists "$ns"; then
		# Anything still running in the namespace was started by us (through it).
		for p in $(ip netns pids "$ns" 2>/dev/null || true); do
			kill -KILL "$p" 2>/dev/null || true
		done
		ip -n "$ns" link del "$VDQ_BRIDGE" 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	fi
	if [ -f "$e/watchdog.pid" ]; then
		p=$(cat "$e/watchdog.pid")
		if [ "$p" != "${VDQ_WATCHDOG_SELF:-}" ]; then kill -TERM "$p" 2>/dev/null || true; fi
	fi
	rm -rf "$e"
}

# Destroys every environment this shell created: use it in the caller's EXIT trap.
vdq_cleanup() {
	local ns
	for ns in "${VDQ_ENVS[@]}"; do
		vdq_env_destroy "$ns"
	done
	VDQ_ENVS=()
}

# ---------------------------------------------------------------------------------------------
# Guests.

vdq_guest_start() { # NAME [options], see README.md
	local name=$1
	shift
	local nic=virtio initrd='' kernel=${VDQ_KERNEL:-} mem=512M cpu='' limit='' disk=0 share=1 smp=1
	local wait=1 append='' mtu='' hostpart='' mac='' nicopts='' qargs=() e g
	while (($#)); do
		case $1 in
		--no-share | --no-wait) ;;
		-*) (($# >= 2)) || { vdq_error "vdq_guest_start: $1 needs a value"; return 2; } ;;
		esac
		case $1 in
		--nic) nic=$2; shift ;;
		--initrd) initrd=$2; shift ;;
		--kernel) kernel=$2; shift ;;
		--mem) mem=$2; shift ;;
		--cpu) cpu=$2; shift ;;
		--smp) smp=$2; shift ;;
		--boot-timeout) limit=$2; shift ;;
		--disk) disk=$2; shift ;;
		--no-share) share=0 ;;
		--no-wait) wait=0 ;;
		--append) append=$2; shift ;;
		--mtu) mtu=$2; shift ;;
		--host) hostpart=$2; shift ;;
		--mac) mac=$2; shift ;;
		--nic-opts) nicopts=$2; shift ;;
		--qemu-arg) qargs+=("$2"); shift ;;
		*) vdq_error "vdq_guest_start: unknown option '$1'"; return 2 ;;
		esac
		shift
	done
	[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || { vdq_error "vdq_guest_start: bad guest name '$name'"; return 2; }
	[[ $smp =~ ^[1-9][0-9]*$ ]] || { vdq_error "vdq_guest_start: --smp must be a number of vCPUs (got '$smp')"; return 2; }
	case $nic in
	e1000) nic=e1000 ;;
	virtio | virtio-net | virtio-net-pci) nic=virtio-net-pci ;;
	*) vdq_error "vdq_guest_start: --nic must be e1000 or virtio (got '$nic')"; return 2 ;;
	esac
	e=$(vdq__env) || return 1
	g=$e/guests/$name
	[ -e "$g" ] && { vdq_error "guest '$name' exists already in $VDQ_NETNS"; return 1; }
	kernel=${kernel:-$(vdq__kernel)} || return 1
	[ -r "$kernel" ] || { vdq_error "kernel image '$kernel' not found or not readable"; return 1; }
	if [ -n "$initrd" ] && [ ! -r "$initrd" ]; then
		vdq_error "initramfs '$initrd' not found or not readable"
		return 1
	fi
	local accel
	accel=$(vdq_accel) || return 1
	[ -n "$limit" ] || { [ "$accel" = kvm ] && limit=60 || limit=180; }

	# Index: the guest's tap number, host part of its address and MAC.
	local idx=0
	# mkdir is atomic: guests started at once from several processes get distinct indexes.
	while ! mkdir "$e/idx.$idx" 2>/dev/null; do
		idx=$((idx + 1))
		((idx < 200)) || { vdq_error "no free guest index in $VDQ_NETNS"; return 1; }
	done
	mkdir -p "$g/share/.xfer"
	hostpart=${hostpart:-$((10 + idx))}
	mac=${mac:-$(printf '52:54:00:12:%02x:%02x' "$idx" "$hostpart")}
	local subnet tap=vdtap$idx ip ip6
	subnet=$(cat "$e/subnet")
	ip=$subnet.$hostpart
	ip6=$(cat "$e/subnet6")::$hostpart
	{
		echo "name=$name"
		echo "ip=$ip"
		echo "ip6=$ip6"
		echo "mac=$mac"
		echo "tap=$tap"
		echo "nic=$nic"
		echo "accel=$accel"
		echo "cpu=$cpu"
		echo "idx=$idx"
		echo "console=$g/console.log"
	} >"$g/info"
	if [ -z "$initrd" ]; then
		vdq__default_initrd "$g/initrd.gz" || { vdq_error "cannot build the initramfs"; return 1; }
		initrd=$g/initrd.gz
	fi

	if ! { ip -n "$VDQ_NETNS" tuntap add dev "$tap" mode tap &&
		ip -n "$VDQ_NETNS" link set "$tap" master "$VDQ_BRIDGE" &&
		ip -n "$VDQ_NETNS" link set "$tap" up; }; then
		vdq_error "cannot create tap $tap in $VDQ_NETNS"
		vdq_guest_stop "$name"
		return 1
	fi
	if [ -n "$mtu" ] && ! ip -n "$VDQ_NETNS" link set "$tap" mtu "$mtu"; then
		vdq_error "cannot set MTU $mtu on $tap"
		vdq_guest_stop "$name"
		return 1
	fi
	mkfifo "$g/cmd.in" "$g/cmd.out" || { vdq_guest_stop "$name"; return 1; }

	local qc=() image
	image=$(vdq__boot_image "$kernel")
	if [ "$image" = "$kernel" ]; then
		echo "boot=bzimage" >>"$g/info"
	else
		echo "boot=pvh" >>"$g/info"
	fi
	[ -n "$cpu" ] && qc+=(taskset -c "$cpu")
	# Several vCPUs under TCG run in one host thread: with a thread per vCPU (MTTCG), qemu 7.2
	# sometimes went on executing its translation of kernel text another vCPU had just patched
	# (ftrace or static keys loading or unloading a module under traffic): the int3 of the patch,
	# gone from memory, trapped forever and the guest locked up.
	local accel_opt=$accel
	if [ "$accel" = tcg ] && ((smp > 1)); then accel_opt=tcg,thread=single; fi
	qc+=(qemu-system-x86_64 -name "vdq-$name" -accel "$accel_opt" -m "$mem" -smp "$smp"
		-nodefaults -display none -no-reboot -pidfile "$g/qemu.pid"
		-kernel "$image" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 vd.name=$name vd.ip=$ip/24 vd.ip6=$ip6/64 vd.peer=$subnet.1 ${mtu:+vd.mtu=$mtu }$append"
		-serial "file:$g/console.log"
		-chardev "pipe,id=vdcmd,path=$g/cmd" -device virtio-serial-pci
		-device "virtserialport,chardev=vdcmd,name=vd.cmd"
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
		-device "$nic,netdev=n0,mac=$mac${nicopts:+,$nicopts}")
	if ((share)); then
		qc+=(-virtfs "local,path=$g/share,mount_tag=vdshare,security_model=none,id=vdshare")
	fi
	if [ "$disk" != 0 ]; then
		truncate -s "${disk}M" "$g/disk.img"
		qc+=(-drive "file=$g/disk.img,format=raw,if=virtio,cache=none,aio=threads")
	fi
	qc+=("${qargs[@]}")
	vdq__ms >"$g/t0"
	echo "${qc[*]}" >"$g/qemu.cmdline"
	# Launched from a subshell: qemu (like every process the harness starts) is no child of the
	# caller's shell, so a bare `wait` there does not wait for it.
	(ip netns exec "$VDQ_NETNS" "${qc[@]}" </dev/null >"$g/qemu.log" 2>&1 &
		echo $! >"$g/pid")
	echo "$limit" >"$g/boot_timeout"
	((wait)) || return 0
	vdq_guest_wait "$name"
}

vdq_guest_wait() { # NAME: until the agent says ready; on failure the guest is stopped
	local name=$1 g limit pid t0 rfd line partial='' now deadline
	g=$(vdq__gdir "$name") || return 1
	limit=$(cat "$g/boot_timeout")
	pid=$(cat "$g/pid")
	t0=$(cat "$g/t0")
	deadline=$((t0 + limit * 1000))
	exec {rfd}<>"$g/cmd.out"
	while :; do
		if read -r -t 1 line <&"$rfd"; then
			line=$partial$line
			partial=''
			if [[ $line == VD-READY* ]]; then
				now=$(vdq__ms)
				echo "boot_ms=$((now - t0))" >>"$g/info"
				echo "net=${line##*net=}" >>"$g/info"
				[[ $line == *net=up* ]] || vdq_log "warning: guest $name: network not up (${line##* })"
				vdq_log "guest $name ready in $(((now - t0) / 1000)).$(((now - t0) % 1000 / 100)) s" \
					"($(vdq_guest_info "$name" accel), $(vdq_guest_info "$name" nic), $(vdq_guest_info "$name" ip))"
				exec {rfd}<&-
				return 0
			fi
		else
			partial+=$line
		fi
		if ! vdq__ours "$pid" "$g"; then
			exec {rfd}<&-
			vdq_log "error: guest $name: qemu exited during boot; last console lines:"
			vdq__tail "$g"
			vdq_guest_stop "$name"
			return 1
		fi
		if (($(vdq__ms) > deadline)); then
			exec {rfd}<&-
			vdq_log "error: guest $name not ready within ${limit}s ($(vdq_guest_info "$name" accel)); last console lines:"
			vdq__tail "$g"
			vdq_guest_stop "$name"
			return 1
		fi
	done
}

vdq__tail() { # GDIR: the console's telling lines and its last ones, qemu's last, for errors
	{
		grep -a -m 4 -E 'Kernel panic|Initramfs unpacking failed|Failed to execute|No working init|vd-init:.*(fail|no )' \
			"$1/console.log" 2>/dev/null | tr -d '\r'
		echo '...'
		tail -n 12 "$1/console.log" 2>/dev/null
		tail -n 5 "$1/qemu.log" 2>/dev/null
	} | sed 's/^/    | /' >&2 || true
}

vdq_guest_info() { # NAME KEY: ip mac tap nic accel cpu console boot_ms pid
	local g
	g=$(vdq__gdir "$1") || return 1
	case $2 in
	pid) cat "$g/pid" ;;
	*) sed -n "s/^$2=//p" "$g/info" | tail -n 1 ;;
	esac
}

vdq_guests() { # names of the current environment's guests
	local e g
	e=$(vdq__env) || return 1
	for g in "$e"/guests/*; do [ -d "$g" ] && echo "${g##*/}"; done
	return 0
}

vdq_guest_stop() { # NAME: kill qemu, delete its tap, keep nothing
	local name=$1 e g tap pid
	e=$(vdq__env) || return 1
	g=$e/guests/$name
	[ -d "$g" ] || return 0
	# A guest that failed half way has some of these files only.
	pid=$(cat "$g/pid" 2>/dev/null || true)
	if [ -n "$pid" ]; then vdq__kill "$pid" "$g" 3; fi
	tap=$(sed -n 's/^tap=//p' "$g/info" 2>/dev/null || true)
	if [ -n "$tap" ]; then ip -n "$VDQ_NETNS" link del "$tap" 2>/dev/null || true; fi
	vdq_host_bg_stop "sink-$name"
	local idx
	idx=$(sed -n 's/^idx=//p' "$g/info" 2>/dev/null || true)
	if [ -n "$idx" ]; then rm -rf "$e/idx.$idx"; fi
	if [ -n "${VDQ_KEEP_LOGS:-}" ]; then
		mkdir -p "$VDQ_KEEP_LOGS"
		cp "$g/console.log" "$VDQ_KEEP_LOGS/$VDQ_NETNS-$name.console.log" 2>/dev/null || true
	fi
	rm -rf "$g"
}

# ---------------------------------------------------------------------------------------------
# Command channel. vdq_exec NAME [-t SECONDS] [--] COMMAND...: runs COMMAND (one sh command
# line, the words joined by spaces) in the guest; its stdout and stderr come out on ours; the
# return code is the command's (137 when the guest-side time limit killed it), 124 when no
# answer came in time, 125 when the guest or the channel failed.

vdq_exec() {
	local name=$1 limit=${VDQ_EXEC_TIMEOUT:-60}
	shift
	[ "${1:-}" = -t ] && { limit=$2; shift 2; }
	[ "${1:-}" = -- ] && shift
	local cmd="$*" g pid lk wfd rfd id line partial='' state=skip rc='' deadline
	g=$(vdq__gdir "$name") || return 125
	pid=$(cat "$g/pid")
	vdq__ours "$pid" "$g" || { vdq_error "guest $name is not running"; return 125; }
	exec {lk}>"$g/lock"
	flock -w "$limit" "$lk" || { exec {lk}>&-; vdq_error "guest $name: channel busy for ${limit}s"; return 124; }
	id=$$.$RANDOM.$RANDOM
	: >"$g/exec.out"
	: >"$g/exec.err"
	exec {wfd}<>"$g/cmd.in" {rfd}<>"$g/cmd.out"
	printf '%s %s %s\n' "$id" "$limit" "$(printf '%s' "$cmd" | base64 -w0)" >&"$wfd"
	deadline=$(($(vdq__ms) + limit * 1000 + 10000))
	while [ -z "$rc" ]; do
		if read -r -t 1 line <&"$rfd"; then
			line=$partial$line
			partial=''
			case $state:$line in
			*:"VD-BEGIN $id") state=out ;;
			out:"VD-STDERR $id") state=err ;;
			err:"VD-END $id "*) rc=${line##* } ;;
			out:*) echo "$line" >>"$g/exec.out" ;;
			err:*) echo "$line" >>"$g/exec.err" ;;
			esac
			continue
		fi
		partial+=$line
		if ! vdq__ours "$pid" "$g"; then
			rc=125
			vdq_log "error: guest $name: qemu exited while running: $cmd"
			vdq__tail "$g"
		elif (($(vdq__ms) > deadline)); then
			rc=124
			vdq_log "error: guest $name: no answer within ${limit}s to: $cmd"
		fi
	done
	exec {wfd}>&- {rfd}<&-
	base64 -d <"$g/exec.out" || true
	base64 -d <"$g/exec.err" >&2 || true
	exec {lk}>&-
	[[ $rc =~ ^[0-9]+$ ]] || rc=125
	return "$rc"
}

# Copies a guest file to the host: through the 9p share when the guest mounted it, else as
# base64 over the command channel. Fails (and leaves no partial HOST_PATH) if the file is absent.
vdq_copy_out() { # NAME GUEST_PATH HOST_PATH
	local name=$1 src=$2 dst=$3 g tmp
	g=$(vdq__gdir "$name") || return 1
	tmp=$(mktemp "$g/share/.xfer/out.XXXXXX")
	if [ "${VDQ_COPY:-auto}" != channel ] &&
		vdq_exec "$name" -t 120 "grep -qs ' /mnt/host ' /proc/mounts" 2>/dev/null; then
		rm -f "$tmp"
		vdq_exec "$name" -t 120 "cp '$src' '/mnt/host/.xfer/${tmp##*/}'" || {
			vdq_error "copy-out of $name:$src failed"
			return 1
		}
	else
		vdq_exec "$name" -t 300 "cat '$src'" >"$tmp" || {
			rm -f "$tmp"
			vdq_error "copy-out of $name:$src failed"
			return 1
		}
	fi
	mv "$tmp" "$dst"
}

# Builds kmod/tcpmon.ko against KVER's headers in a private copy of the source under DIR (never
# racing another build in kmod/), log in DIR/kbuild.log; prints the module's path. Exit 77 (no
# build) when /lib/modules/KVER/build is missing, 1 when the build fails.
vdq_build_tcpmon() { # KVER DIR
	local kver=$1 d=$2/kmod src
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	[ -d "/lib/modules/$kver/build" ] || return 77
	mkdir -p "$d/include/vmdelay" &&
		cp "$src"/kmod/Kbuild "$src"/kmod/Makefile "$src"/kmod/*.c "$src"/kmod/*.h "$d/" &&
		cp "$src/include/vmdelay/record.h" "$d/include/vmdelay/" || return 1
	make -s -C "$d" KDIR="/lib/modules/$kver/build" >"$2/kbuild.log" 2>&1 || return 1
	echo "$d/tcpmon.ko"
}

vdq_copy_in() { # NAME HOST_PATH GUEST_PATH
	local name=$1 src=$2 dst=$3 g tmp
	g=$(vdq__gdir "$name") || return 1
	[ -r "$src" ] || { vdq_error "copy-in: cannot read $src"; return 1; }
	tmp=$(mktemp "$g/share/.xfer/in.XXXXXX")
	local rc=0
	cp "$src" "$tmp" || rc=1
	if ((rc)); then
		:
	elif [ "${VDQ_COPY:-auto}" != channel ] &&
		vdq_exec "$name" -t 120 "grep -qs ' /mnt/host ' /proc/mounts" 2>/dev/null; then
		vdq_exec "$name" -t 120 "cp '/mnt/host/.xfer/${tmp##*/}' '$dst'" || rc=$?
	else
		vdq_exec "$name" -t 300 "printf %s '$(base64 -w0 <"$src")' | base64 -d >'$dst'" || rc=$?
	fi
	rm -f "$tmp"
	((rc == 0)) || vdq_error "copy-in of $src to $name:$dst failed"
	return $rc
}

# ---------------------------------------------------------------------------------------------
# Background loads (inside a guest, see guest/vd-load). The network load sends TCP bulk to a
# sink on the peer address, port 5000 + guest index.

vdq_load_start() { # NAME TYPE [ARGS]
	local name=$1 type=$2 port idx peer
	shift 2
	if [ "$type" = network ]; then
		idx=$(vdq_guest_info "$name" idx) || return 1
		port=$((5000 + idx))
		peer=$(vdq_peer_ip) || return 1
		vdq_host_bg "sink-$name" busybox nc -ll -p "$port" -e sh -c 'exec cat >/dev/null' || return 1
		set -- "$peer" "$port"
	fi
	vdq_exec "$name" -t 30 "vd-load start $type $*" >/dev/null
}

vdq_load_stop() { # NAME [TYPE|all]
	local name=$1 type=${2:-all}
	vdq_exec "$name" -t 30 "vd-load stop $type" >/dev/null || return 1
	if [ "$type" = network ] || [ "$type" = all ]; then
		vdq_host_bg_stop "sink-$name"
	fi
}

# =============================================================================================
# The qemu testbed of testbeds/run, on top of the harness above. Uses testbeds/run's RUN[]
# (one run of a scenario), say, need_tool, analyze_run, analyze_tcp, csv_rows, store_args,
# CUR_RUNID, CUR_KIND and db.
#
# Layout: namespace vdtb-ID holds bridge vdbr0 with the peer address 10.213.1.1 (the host side);
# guest "m" (the measurement VM, 10.213.1.10 on vdtap0) and background guests b1..bN. Vantage
# points, outermost to innermost: the bridge (host stack = the peer), m's tap, and tping's kernel
# and user stamps in the guest (clock "vm": the guest's clock is aligned on the at-rest probes).
# With tcpmon (scenario key, default yes) the guest kernel's stack levels from tcpmon.ko's
# records (tcpmon.tcm) come between tping's kernel and user stamps, on the same clock.
#
# Load phase: tping's --load command in the guest connects to a control port on the host; a
# listener there (loadctl.sh) starts the loads in the busy guests and stops them when the
# connection closes.

declare -gA RUN # set by testbeds/run
QEMU_SUBNET=10.213.1
QEMU_LOADCTL_PORT=7000

# Checks what the qemu testbed needs before anything is made; prints the reason on failure.
qemu_testbed_preflight() {
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
	vdq_cleanup
}

# The busy guests: background guests only. The measurement guest is never loaded, so a run
# with 0 background guests is the idle baseline (Dantas et al.'s Table 2, Rajasekaran et al.'s
# no-VM run).
qemu_testbed_busy_guests() {
	local k
	[[ ${RUN[load]} == none ]] && return 0
	for ((k = 1; k <= RUN[busy_vms]; k++)); do echo "b$k"; done
}

qemu_testbed_loads() { # start|stop
	local g
	for g in $(qemu_testbed_busy_guests); do
		if [[ $1 == start ]]; then
			vdq_load_start "$g" "${RUN[load]}" || return 1
		else
			vdq_load_stop "$g" all
		fi
	done
	return 0
}

# GRO of the measurement guest's NIC as the scenario says (Oi and Nakajima: LRO on/off); the
# NIC's offloads as the guest sees them go to DIR/offloads.txt.
qemu_testbed_offloads() { # DIR
	if [[ ${RUN[gro]} == off ]]; then
		vdq_exec m -- "ethtool -K eth0 gro off" || {
			echo "testbeds/run: cannot switch GRO off in VM m" >&2
			return 1
		}
		say "GRO off on eth0 of VM m"
	fi
	vdq_exec m -- "ethtool -k eth0" >"$1/offloads.txt" 2>&1 || true
}

qemu_testbed_capture_start() { # DIR
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
		log=$(vdq__env)/bg/cap-$tag.log
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
qemu_testbed_capture_stop() { # DIR
	local dir=$1 tag log drops
	for tag in bridge tap; do
		vdq_host_bg_stop "cap-$tag"
		log=$(vdq__env)/bg/cap-$tag.log
		[ -f "$log" ] || continue
		cp "$log" "$dir/$tag.tcpdump.log" 2>/dev/null || true
		drops=$(sed -n 's/^\([0-9][0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$log")
		if [ -n "$drops" ] && ((drops > 0)); then
			say "warning: the $tag capture lost $drops packet(s) (dropped by kernel): its trace has gaps"
		fi
	done
}

# tcpmon.ko built against the guest kernel, once per testbeds/run (empty: not built, said why).
QEMU_TCPMON_KO=
QEMU_TCPMON_TRIED=0
qemu_testbed_tcpmon_build() { # DIR: sets QEMU_TCPMON_KO
	local kernel kver rc=0
	((QEMU_TCPMON_TRIED)) && return 0
	QEMU_TCPMON_TRIED=1
	kernel=${VDQ_KERNEL:-$(vdq__kernel)} || return 1
	kver=${kernel##*/vmlinuz-}
	QEMU_TCPMON_KO=$(vdq_build_tcpmon "$kver" "$1") || rc=$?
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

qemu_testbed_tcpmon_on() { [ -n "$QEMU_TCPMON_KO" ] && [[ ${RUN[tcpmon]} == yes ]]; }

qemu_testbed_tcpmon_start() { # records ICMP to and from the peer at every layer, in the background
	local ko=/lib/modules/vmdelay/${QEMU_TCPMON_KO##*/}
	qemu_testbed_tcpmon_on || return 0
	vdq_exec m -- "insmod $ko && tcpmon start icmp host $(vdq_peer_ip) layers all" &&
		vdq_exec m -- "setsid tcpmon record -w /tmp/tcpmon.tcm </dev/null >/tmp/tcpmon.log 2>&1 &" || {
		echo "testbeds/run: loading tcpmon in the measurement VM failed" >&2
		return 1
	}
	say "tcpmon recording ICMP at every layer in VM m"
}

# TCP around the transfers (Rajasekaran et al.'s tcpmon in vm1): the receive layers of the
# transfer's connections, port 5201, into tcpmon-tcp.tcm. `vmdelay-analyze tcp` reads its
# trans-rx records as the vantage point "delivered at the guest's TCP layer": the ACKs the
# sending guest's TCP sees, or the (GRO-merged) data segments a receiving guest's TCP sees.
qemu_testbed_tcpmon_tcp_start() {
	local ko=/lib/modules/vmdelay/${QEMU_TCPMON_KO##*/}
	qemu_testbed_tcpmon_on || return 0
	vdq_exec m -- "grep -q '^tcpmon ' /proc/modules || insmod $ko; tcpmon start tcp port 5201 layers dev-rx,trans-rx,sock-queue" &&
		vdq_exec m -- "setsid tcpmon record -w /tmp/tcpmon-tcp.tcm </dev/null >/tmp/tcpmon-tcp.log 2>&1 &" || {
		echo "testbeds/run: starting tcpmon (TCP) in the measurement VM failed" >&2
		return 1
	}
	say "tcpmon recording TCP port 5201 (dev-rx, trans-rx, sock-queue) in VM m"
}

qemu_testbed_tcpmon_stop() { # DIR [NAME]: stops the recording, copies NAME.tcm (default tcpmon) out
	local name=${2:-tcpmon}
	qemu_testbed_tcpmon_on || return 0
	vdq_exec m -- "kill -INT \$(pidof tcpmon) 2>/dev/null; for i in \$(seq 50); do pidof tcpmon >/dev/null || break; sleep 0.2; done; tcpmon stop" || true
	vdq_copy_out m "/tmp/$name.log" "$1/$name.log" 2>/dev/null || true
	vdq_copy_out m "/tmp/$name.tcm" "$1/$name.tcm" || {
		echo "testbeds/run: no tcpmon record file $name.tcm from the measurement VM: $(tail -n 3 "$1/$name.log" 2>/dev/null)" >&2
		return 1
	}
	local summary
	summary=$(grep -m 1 'records written' "$1/$name.log" 2>/dev/null)
	[ -n "$summary" ] && say "${summary/#tcpmon: /tcpmon: }"
	return 0
}

qemu_testbed_probes() { # DIR LABEL
	local dir=$1 lab=$2 peer total limit loadcmd=
	peer=$(vdq_peer_ip)
	total=$((RUN[probe_count] + 2 * RUN[rest]))
	limit=$(awk -v n="$total" -v i="${RUN[probe_interval]}" 'BEGIN { printf "%d", n * i + 120 }')
	if [ -n "$(qemu_testbed_busy_guests)" ]; then
		# The host-side listener starts the loads on connect and stops them at EOF. In the guest
		# the connection's stdin is a FIFO held open by a sleeper, so it ends only when tping
		# stops the load command (exec: the command is nc itself).
		vdq_host_bg loadctl env QEMU_LOADCTL_NS="$VDQ_NETNS" QEMU_LOADCTL_GUESTS="$(qemu_testbed_busy_guests | tr '\n' ' ')" \
			QEMU_LOADCTL_TYPE="${RUN[load]}" VDQ_RUN="$VDQ_RUN" QEMU_LOADCTL_LOG="$dir/loadctl.log" \
			busybox nc -ll -p "$QEMU_LOADCTL_PORT" -e "$VDQ_HOME/loadctl.sh" || return 1
		vdq_exec m -- "mkfifo /run/vd-hold && (setsid sleep 1000000 >/run/vd-hold </dev/null 2>/dev/null &)" ||
			return 1
		loadcmd="exec nc $peer $QEMU_LOADCTL_PORT </run/vd-hold >/dev/null"
	fi
	say "phase: ${RUN[rest]} probes at rest, ${RUN[probe_count]} under load '${RUN[load]}' ($(qemu_testbed_busy_guests | wc -l) VM(s) busy), ${RUN[rest]} at rest; every ${RUN[probe_interval]} s (~${limit}s at most)"
	local cmd="tping -c ${RUN[probe_count]} -i ${RUN[probe_interval]} -s ${RUN[probe_size]} --rest ${RUN[rest]} -q --csv -o /tmp/tping.csv"
	[ -n "$loadcmd" ] && cmd+=" --load '$loadcmd'"
	cmd+=" $peer >/tmp/tping.out 2>/tmp/tping.err"
	qemu_testbed_tcpmon_start || return 1
	local rc=0
	vdq_exec m -t "$limit" -- "$cmd" || rc=$?
	qemu_testbed_tcpmon_stop "$dir" || rc=1
	vdq_copy_out m /tmp/tping.err "$dir/tping.err" 2>/dev/null || true
	vdq_copy_out m /tmp/tping.out "$dir/tping.out" 2>/dev/null || true
	if [ -n "$(qemu_testbed_busy_guests)" ]; then vdq_host_bg_stop loadctl; fi
	if ((rc != 0)); then
		echo "testbeds/run: tping in the measurement VM failed (exit $rc):" >&2
		tail -n 5 "$dir/tping.err" >&2 2>/dev/null
		return 1
	fi
	vdq_copy_out m /tmp/tping.csv "$dir/tping.csv" || return 1
	say "probes done: $(csv_rows "$dir/tping.csv")/$total"
}

qemu_testbed_transfers() { # DIR LABEL
	local dir=$1 lab=$2 tperf count size msg peer guest_ip what
	[[ ${RUN[transfer]} == none ]] && return 0
	tperf=$(need_tool tperf "the transfer workload") || return 1
	count=${RUN[transfer_count]} size=${RUN[transfer_bytes]} msg=${RUN[message_bytes]}
	what="-r ${count}x${size}"
	((count == 1)) && what="-n $size"
	peer=$(vdq_peer_ip)
	guest_ip=$(vdq_guest_info m ip)
	qemu_testbed_loads start || return 1
	qemu_testbed_tcpmon_tcp_start || return 1
	say "phase: transfers ($count x $size bytes, messages of $msg bytes, guest ${RUN[transfer_dir]}s) under load '${RUN[load]}'"
	local rc=0
	if [[ ${RUN[transfer_dir]} == send ]]; then
		vdq_host_bg tperf-sink "$tperf" sink -p 5201 -t 900 || rc=1
		sleep 0.5
		((rc)) || vdq_exec m -t 900 -- "tperf send $peer -p 5201 $what -m $msg -t 600 --csv -o /tmp/transfers.csv >/tmp/tperf.out 2>/tmp/tperf.err" ||
			rc=1
		vdq_copy_out m /tmp/tperf.err "$dir/tperf.err" 2>/dev/null || true
		((rc)) || vdq_copy_out m /tmp/transfers.csv "$dir/transfers.csv" || rc=1
		vdq_host_bg_stop tperf-sink
	else
		vdq_exec m -- "setsid tperf sink -p 5201 -t 900 </dev/null >/dev/null 2>&1 &" || rc=1
		sleep 1
		store_args "$lab"
		# $what is two words (an option and its value).
		# shellcheck disable=SC2086
		((rc)) || vdq_netns_exec "$tperf" send "$guest_ip" -p 5201 $what -m "$msg" -t 600 --csv \
			-o "$dir/transfers.csv" "${STORE_ARGS[@]}" >"$dir/tperf.out" 2>"$dir/tperf.err" || rc=1
	fi
	qemu_testbed_tcpmon_stop "$dir" tcpmon-tcp || rc=1
	qemu_testbed_loads stop || true
	if ((rc)); then
		echo "testbeds/run: the transfers failed:" >&2
		tail -n 5 "$dir/tperf.err" >&2 2>/dev/null
		return 1
	fi
	say "transfers done: $(csv_rows "$dir/transfers.csv")/$count"
}

qemu_testbed_run() { # DIR LABEL
	local dir=$1 lab=$2 tping='' tperf='' k
	qemu_testbed_preflight || return 1
	((RUN[probe_count] > 0)) && { tping=$(need_tool tping "the prober, run in the guest") || return 1; }
	[[ ${RUN[transfer]} != none ]] && { tperf=$(need_tool tperf "the transfer workload") || return 1; }
	((RUN[probe_count] > 0)) && { need_tool vmdelay-analyze "the per-layer analysis" >/dev/null || return 1; }
	if [ -n "${VMDELAY_KERNEL:-}" ]; then export VDQ_KERNEL=$VMDELAY_KERNEL; fi
	export VDQ_OWNER=$$
	local files=() tcpmon=
	if [[ -n $tping || -n $tperf ]] && [[ ${RUN[tcpmon]} == yes ]]; then
		tcpmon=$(need_tool tcpmon "the guest kernel's recorder (or tcpmon = no)") || return 1
		qemu_testbed_tcpmon_build "$dir" || return 1
		if [ -n "$QEMU_TCPMON_KO" ]; then
			files+=(-f "$tcpmon" -f "$QEMU_TCPMON_KO")
		else
			tcpmon=
		fi
	fi
	say "building the guest initramfs (busybox, ${tping:+tping }${tperf:+tperf }${tcpmon:+tcpmon tcpmon.ko})"
	[ -n "$tping" ] && files+=(-f "$tping")
	[ -n "$tperf" ] && files+=(-f "$tperf")
	# ethtool switches GRO off (scenario key gro) and says what the NIC offloads.
	local ethtool
	ethtool=$(command -v ethtool || true)
	if [ -n "$ethtool" ]; then
		files+=(-f "$ethtool")
	elif [[ ${RUN[gro]} == off ]]; then
		echo "testbeds/run: gro = off needs ethtool in the guest: install ethtool ('make deps')" >&2
		return 1
	fi
	"$VDQ_HOME/mkinitramfs.sh" -o "$dir/initrd.gz" "${files[@]}" >"$dir/initramfs.log" 2>&1 || {
		echo "testbeds/run: building the initramfs failed: $(tail -n 3 "$dir/initramfs.log")" >&2
		return 1
	}
	say "testbed qemu $CUR_RUNID: namespace vdtb-$CUR_RUNID, bridge $(vdq_bridge), ${RUN[background_vms]} background VM(s), MTU ${RUN[mtu]}"
	vdq_env_create "vdtb-$CUR_RUNID" "$QEMU_SUBNET" || return 1
	local disk=() pin=()
	[[ ${RUN[load]} == hd || ${RUN[load]} == io ]] && disk=(--disk 64)
	# Pinning (Dantas' CPU reservation): the measurement VM alone on CPU 0, the others on CPU 1+.
	# colocate (vSnoop: VMs sharing one core): every guest on CPU 0.
	[[ ${RUN[pinning]} == yes || ${RUN[colocate]} == yes ]] && pin=(--cpu 0)
	local common=(--nic "${RUN[nic]}" --mem "${RUN[guest_memory]}M" --mtu "${RUN[mtu]}"
		--boot-timeout "${RUN[boot_timeout]}" --initrd "$dir/initrd.gz")
	# guest_tso = off: qemu makes the host segment to the MTU before the guest's virtio-net
	# receives (as a physical NIC receives wire frames), so GRO in the guest is the only
	# aggregation between the tap and the guest's TCP (Oi and Nakajima).
	local mopts=()
	[[ ${RUN[guest_tso]} == off && ${RUN[nic]} == virtio ]] &&
		mopts=(--nic-opts "guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off")
	say "booting VM m (measurement, nic ${RUN[nic]}, accel $(vdq_accel))"
	vdq_guest_start m "${common[@]}" "${pin[@]}" "${mopts[@]}" || return 1
	say "VM m up in $(vdq_guest_info m boot_ms) ms at $(vdq_guest_info m ip)"
	qemu_testbed_offloads "$dir" || return 1
	for ((k = 1; k <= RUN[background_vms]; k++)); do
		local bpin=()
		[[ ${RUN[pinning]} == yes ]] && (($(nproc) > 1)) && bpin=(--cpu $((1 + (k - 1) % ($(nproc) - 1))))
		[[ ${RUN[colocate]} == yes ]] && bpin=(--cpu 0)
		say "booting background VM b$k ($k of ${RUN[background_vms]})"
		vdq_guest_start "b$k" "${common[@]}" "${bpin[@]}" "${disk[@]}" || return 1
	done
	qemu_testbed_capture_start "$dir" || return 1
	if [ -n "$tping" ]; then
		qemu_testbed_probes "$dir" "$lab" || return 1
	fi
	qemu_testbed_transfers "$dir" "$lab" || return 1
	qemu_testbed_capture_stop "$dir"
	if [ -n "$tping" ]; then
		local tcm_vantage=()
		# Every level but sock-queue: for ICMP sockets it comes before trans-rx (tcpmon.md's
		# order quirks), so it is no level between trans and sock-copy (its records stay in
		# tcpmon.tcm).
		qemu_testbed_tcpmon_on && tcm_vantage=("guest.tcpmon:vm=$dir/tcpmon.tcm#dev,ip-route,ip-local,trans,sock-copy")
		analyze_run "$dir" "$lab" "bridge=$dir/bridge.pcap" "tap=$dir/tap.pcap" \
			"guest.kernel:vm=$dir/tping.csv#kernel" "${tcm_vantage[@]}" "guest.user:vm=$dir/tping.csv#user" || return 1
	fi
	if [[ ${RUN[transfer]} != none ]]; then
		local tcm_tcp=()
		[ -s "$dir/tcpmon-tcp.tcm" ] && tcm_tcp=("guest.tcp:vm=$dir/tcpmon-tcp.tcm")
		# The reference is the first: the tap when the guest receives (wire-size frames when the
		# host segments; the bridge sees the sender's GSO packets), else the bridge.
		local hostvp=("bridge=$dir/bridge.pcap" "tap=$dir/tap.pcap")
		[[ ${RUN[transfer_dir]} == recv ]] && hostvp=("tap=$dir/tap.pcap" "bridge=$dir/bridge.pcap")
		analyze_tcp "$dir" "$lab" "${hostvp[@]}" "${tcm_tcp[@]}" || return 1
		# Received data: the per-packet delay from the tap to the guest's driver and socket
		# (vSnoop's Figure 1b), which analyze tcp does not match for tcpmon records.
		if [[ ${RUN[transfer_dir]} == recv ]] && ((${#tcm_tcp[@]})); then
			if "$VDQ_HOME/../rxdelay.py" --tap "$dir/tap.pcap" --tcm "$dir/tcpmon-tcp.tcm" \
				--tcpmon "$(tool tcpmon)" --csv "$dir/plots/rx_delay_cdf.csv" \
				--svg "$dir/plots/rx_delay_cdf.svg" >"$dir/rxdelay.txt" 2>&1; then
				cat "$dir/rxdelay.txt"
			else
				say "note: no per-packet delay tap -> guest: $(tail -n 1 "$dir/rxdelay.txt")"
			fi
		fi
	fi
	return 0
}
