# shellcheck shell=bash
# qemu testbed harness (issue 5 and 6): Debian's kernel booted in qemu with the initramfs of
# mkinitramfs.sh, NIC (e1000 or virtio-net) on a tap in a bridge inside a network namespace,
# a command channel on a virtio-serial port, background loads, and a teardown that leaves
# nothing behind. Source it from bash; the interface is documented in README.md next to it.
#
# State lives in $VDQ_RUN/<netns>/ (default /tmp/vdq): one directory per environment (netns,
# bridge, peer address) with one directory per guest (pid, FIFOs, console log, share).

VDQ_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VDQ_RUN=${VDQ_RUN:-${TMPDIR:-/tmp}/vdq}
VDQ_NETNS=${VDQ_NETNS:-}
VDQ_ENVS=()
VDQ_BRIDGE=vdbr0

vdq_log() { printf 'vdq: %s\n' "$*" >&2; }
vdq_die() { vdq_log "error: $*"; return 1; }

# Monotonic-enough wall time in milliseconds, for timing boots and deadlines.
vdq__ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

vdq__env() { # -> directory of the current environment
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	[ -n "$VDQ_NETNS" ] || { vdq_die "no environment: call vdq_env_create NETNS first"; return 1; }
	[ -d "$VDQ_RUN/$VDQ_NETNS" ] || { vdq_die "no environment '$VDQ_NETNS' (no $VDQ_RUN/$VDQ_NETNS)"; return 1; }
	echo "$VDQ_RUN/$VDQ_NETNS"
}

vdq__gdir() { # NAME -> directory of that guest
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local e
	e=$(vdq__env) || return 1
	[ -d "$e/guests/$1" ] || { vdq_die "no guest '$1' in $VDQ_NETNS"; return 1; }
	echo "$e/guests/$1"
}

# A pid is ours and alive: it runs and its command line names our state directory (so a
# recycled pid is never killed).
vdq__alive() { # PID: exists and is not a zombie
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

vdq__ours() { # PID DIR
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local pid=$1 dir=$2
	vdq__alive "$pid" || return 1
	local cmdline
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmdline == *"$dir"* ]]
}

vdq__kill() { # PID DIR [GRACE_SECONDS]: TERM, wait, KILL
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local pid=$1 dir=$2 grace=${3:-3} i
	vdq__ours "$pid" "$dir" || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do
		vdq__ours "$pid" "$dir" || break
		sleep 0.1
	done
	vdq__ours "$pid" "$dir" && kill -KILL "$pid" 2>/dev/null
	return 0
}

# Prints why the harness cannot run here (and returns 1), for tests to skip with exit 77.
vdq_require() {
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	case ${VDQ_ACCEL:-auto} in
	kvm | tcg) echo "$VDQ_ACCEL"; return 0 ;;
	auto) ;;
	*) vdq_die "VDQ_ACCEL must be kvm, tcg or auto (got '$VDQ_ACCEL')"; return 1 ;;
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	vdq_accel >/dev/null || return 1
	tail -n +2 "$VDQ_RUN/accel.$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)" 2>/dev/null
}

vdq__probe_kvm() { # boots the default initramfs under KVM without a NIC; ready in time = works
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	# Prints what it saw (one line).
	local limit=${VDQ_KVM_PROBE_SECONDS:-10} d pid rfd line t0 ok=1
	d=$(mktemp -d "$VDQ_RUN/kvmprobe.XXXXXX")
	vdq__default_initrd "$d/initrd.gz" || { rm -rf "$d"; return 1; }
	mkfifo "$d/cmd.in" "$d/cmd.out"
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

vdq__kernel() { # newest installed Debian kernel image
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local k
	k=$(find /boot -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | sort -V | tail -n 1)
	[ -n "$k" ] || { vdq_die "no kernel image in /boot (install linux-image-amd64)"; return 1; }
	echo "$k"
}

# The image qemu boots: the ELF vmlinux inside the bzImage, extracted once and cached, so qemu
# enters it through its PVH note and skips the real-mode setup and the in-guest decompression
# (under TCG that takes 10-15 s of a 25-30 s boot). Falls back to the bzImage itself when the
# payload cannot be extracted or VDQ_PVH=0.
vdq__boot_image() { # KERNEL -> path
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local k=$1 out magic off tool
	if [ "${VDQ_PVH:-1}" = 0 ]; then
		echo "$k"
		return 0
	fi
	out=$VDQ_RUN/vmlinux.$(basename "$k").$(stat -c '%s.%Y' "$k" 2>/dev/null)
	if [ -s "$out" ]; then
		echo "$out"
		return 0
	fi
	mkdir -p "$VDQ_RUN"
	for magic in '\xfd7zXZ\x00:xz' '\x28\xb5\x2f\xfd:zstd' '\x1f\x8b\x08\x00:gzip'; do
		tool=${magic##*:}
		command -v "$tool" >/dev/null || continue
		while read -r off; do
			tail -c +$((off + 1)) "$k" | "$tool" -dc 2>/dev/null >"$out.$$"
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local out=$1 key cache
	# Keyed by the builder's and the guest files' content and the kernels installed, so worktrees
	# with different guest files sharing $VDQ_RUN never boot each other's initramfs.
	key=$(cat "$VDQ_HOME/mkinitramfs.sh" "$VDQ_HOME"/guest/* <(ls /lib/modules) | md5sum | cut -c1-12)
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	# No `| grep -q`: it may end the pipe early, a failure for callers with pipefail set.
	local names
	names=$(ip netns list | awk '{print $1}')
	[[ $'\n'$names$'\n' == *$'\n'"$1"$'\n'* ]]
}

vdq_env_create() { # NETNS [SUBNET (three octets, default 10.0.2)]
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local ns=$1 subnet=${2:-10.0.2} e
	[ -n "$ns" ] || { vdq_die "vdq_env_create: missing NETNS"; return 1; }
	[[ $subnet =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { vdq_die "vdq_env_create: SUBNET '$subnet' is not three octets"; return 1; }
	if vdq_netns_exists "$ns"; then
		vdq_die "network namespace '$ns' exists already"
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
	ip netns add "$ns" || { rm -rf "$e"; vdq_die "ip netns add $ns failed"; return 1; }
	touch "$e/netns"
	if ! { ip -n "$ns" link set lo up &&
		ip -n "$ns" link add "$VDQ_BRIDGE" type bridge forward_delay 0 stp_state 0 &&
		ip -n "$ns" addr add "$subnet.1/24" dev "$VDQ_BRIDGE" &&
		ip -n "$ns" -6 addr add "fd00:0:0:${subnet##*.}::1/64" dev "$VDQ_BRIDGE" nodad &&
		ip -n "$ns" link set "$VDQ_BRIDGE" up; }; then
		vdq_env_destroy "$ns"
		vdq_die "cannot set up bridge in $ns"
		return 1
	fi
	# Backstop for a caller killed without running its traps: tear down when it is gone.
	if [ -n "${VDQ_OWNER:-$$}" ] && [ "${VDQ_OWNER:-$$}" != 0 ]; then
		(setsid bash "$VDQ_HOME/watchdog.sh" "${VDQ_OWNER:-$$}" "$ns" "$VDQ_RUN" </dev/null >/dev/null 2>&1 &
			echo $! >"$e/watchdog.pid")
	fi
}

vdq_env_use() { # NETNS: make an existing environment current (e.g. from another process)
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	st=${st##*) }
	echo "$st" | awk '{print $20}'
}

vdq_host_bg_stop() { # TAG: TERM (tcpdump flushes its file), then KILL after 3 s
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local tag=$1 e pid i
	e=$(vdq__env) || return 1
	[ -f "$e/bg/$tag.pid" ] || return 0
	pid=$(cat "$e/bg/$tag.pid")
	if vdq__alive "$pid" && [ "$(vdq__starttime "$pid")" = "$(cat "$e/bg/$tag.start" 2>/dev/null)" ]; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < 30; i++)); do
			vdq__alive "$pid" || break
			sleep 0.1
		done
		vdq__alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$e/bg/$tag.pid" "$e/bg/$tag.start"
}

# Packet capture in the namespace (a host vantage point: a tap, the bridge). Returns when
# tcpdump is listening; stop lets it drain what the kernel already handed it, then stops it.
vdq_capture_start() { # TAG IFACE FILE [FILTER...]
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local tag=$1 ifc=$2 file=$3 e i
	shift 3
	e=$(vdq__env) || return 1
	vdq_host_bg "$tag" tcpdump -i "$ifc" --immediate-mode -B 8192 -s "${VDQ_SNAPLEN:-256}" -U -n -w "$file" "$@" || return 1
	for ((i = 0; i < 100; i++)); do
		grep -qs 'listening on' "$e/bg/$tag.log" && return 0
		sleep 0.1
	done
	vdq_die "tcpdump on $ifc did not start: $(cat "$e/bg/$tag.log" 2>/dev/null)"
	vdq_host_bg_stop "$tag"
	return 1
}

vdq_capture_stop() { # TAG: prints tcpdump's closing statistics on stderr
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local tag=$1 e
	e=$(vdq__env) || return 1
	sleep "${VDQ_CAPTURE_SETTLE:-1}"
	vdq_host_bg_stop "$tag"
	grep -E 'captured|received|dropped' "$e/bg/$tag.log" | sed "s/^/vdq: $tag: /" >&2
}

vdq_env_destroy() { # [NETNS]: stop every guest and host process, delete namespace and state
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local ns=${1:-$VDQ_NETNS} e g t p
	[ -n "$ns" ] || return 0
	e=$VDQ_RUN/$ns
	if [ -d "$e" ]; then
		local VDQ_NETNS=$ns
		for g in "$e"/guests/*; do
			[ -d "$g" ] && vdq_guest_stop "${g##*/}"
		done
		for p in "$e"/bg/*.pid; do
			[ -f "$p" ] || continue
			t=${p##*/}
			vdq_host_bg_stop "${t%.pid}"
		done
	fi
	if vdq_netns_exists "$ns"; then
		# Anything still running in the namespace was started by us (through it).
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		ip -n "$ns" link del "$VDQ_BRIDGE" 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	fi
	if [ -f "$e/watchdog.pid" ]; then
		p=$(cat "$e/watchdog.pid")
		[ "$p" != "${VDQ_WATCHDOG_SELF:-}" ] && kill -TERM "$p" 2>/dev/null
	fi
	rm -rf "$e"
}

# Destroys every environment this shell created: use it in the caller's EXIT trap.
vdq_cleanup() {
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local ns
	for ns in "${VDQ_ENVS[@]}"; do
		vdq_env_destroy "$ns"
	done
	VDQ_ENVS=()
}

# ---------------------------------------------------------------------------------------------
# Guests.

vdq_guest_start() { # NAME [options], see README.md
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local name=$1
	shift
	local nic=virtio initrd='' kernel=${VDQ_KERNEL:-} mem=512M cpu='' limit='' disk=0 share=1
	local wait=1 append='' mtu='' hostpart='' mac='' qargs=() e g
	while (($#)); do
		case $1 in
		--nic) nic=$2; shift ;;
		--initrd) initrd=$2; shift ;;
		--kernel) kernel=$2; shift ;;
		--mem) mem=$2; shift ;;
		--cpu) cpu=$2; shift ;;
		--boot-timeout) limit=$2; shift ;;
		--disk) disk=$2; shift ;;
		--no-share) share=0 ;;
		--no-wait) wait=0 ;;
		--append) append=$2; shift ;;
		--mtu) mtu=$2; shift ;;
		--host) hostpart=$2; shift ;;
		--mac) mac=$2; shift ;;
		--qemu-arg) qargs+=("$2"); shift ;;
		*) vdq_die "vdq_guest_start: unknown option '$1'"; return 2 ;;
		esac
		shift
	done
	[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || { vdq_die "vdq_guest_start: bad guest name '$name'"; return 2; }
	case $nic in
	e1000) nic=e1000 ;;
	virtio | virtio-net | virtio-net-pci) nic=virtio-net-pci ;;
	*) vdq_die "vdq_guest_start: --nic must be e1000 or virtio (got '$nic')"; return 2 ;;
	esac
	e=$(vdq__env) || return 1
	g=$e/guests/$name
	[ -e "$g" ] && { vdq_die "guest '$name' exists already in $VDQ_NETNS"; return 1; }
	kernel=${kernel:-$(vdq__kernel)} || return 1
	[ -r "$kernel" ] || { vdq_die "kernel image '$kernel' not found or not readable"; return 1; }
	if [ -n "$initrd" ] && [ ! -r "$initrd" ]; then
		vdq_die "initramfs '$initrd' not found or not readable"
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
		((idx < 200)) || { vdq_die "no free guest index in $VDQ_NETNS"; return 1; }
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
		vdq__default_initrd "$g/initrd.gz" || { vdq_die "cannot build the initramfs"; return 1; }
		initrd=$g/initrd.gz
	fi

	if ! { ip -n "$VDQ_NETNS" tuntap add dev "$tap" mode tap &&
		ip -n "$VDQ_NETNS" link set "$tap" master "$VDQ_BRIDGE" &&
		ip -n "$VDQ_NETNS" link set "$tap" up; }; then
		vdq_die "cannot create tap $tap in $VDQ_NETNS"
		vdq_guest_stop "$name"
		return 1
	fi
	[ -n "$mtu" ] && ip -n "$VDQ_NETNS" link set "$tap" mtu "$mtu"
	mkfifo "$g/cmd.in" "$g/cmd.out"

	local qc=() image
	image=$(vdq__boot_image "$kernel")
	if [ "$image" = "$kernel" ]; then
		echo "boot=bzimage" >>"$g/info"
	else
		echo "boot=pvh" >>"$g/info"
	fi
	[ -n "$cpu" ] && qc+=(taskset -c "$cpu")
	qc+=(qemu-system-x86_64 -name "vdq-$name" -accel "$accel" -m "$mem" -smp 1
		-nodefaults -display none -no-reboot -pidfile "$g/qemu.pid"
		-kernel "$image" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 vd.name=$name vd.ip=$ip/24 vd.ip6=$ip6/64 vd.peer=$subnet.1 ${mtu:+vd.mtu=$mtu }$append"
		-serial "file:$g/console.log"
		-chardev "pipe,id=vdcmd,path=$g/cmd" -device virtio-serial-pci
		-device "virtserialport,chardev=vdcmd,name=vd.cmd"
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no"
		-device "$nic,netdev=n0,mac=$mac")
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	{
		grep -a -m 4 -E 'Kernel panic|Initramfs unpacking failed|Failed to execute|No working init|vd-init:.*(fail|no )' \
			"$1/console.log" 2>/dev/null | tr -d '\r'
		echo '...'
		tail -n 12 "$1/console.log" 2>/dev/null
		tail -n 5 "$1/qemu.log" 2>/dev/null
	} | sed 's/^/    | /' >&2
}

vdq_guest_info() { # NAME KEY: ip mac tap nic accel cpu console boot_ms pid
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local g
	g=$(vdq__gdir "$1") || return 1
	case $2 in
	pid) cat "$g/pid" ;;
	*) sed -n "s/^$2=//p" "$g/info" | tail -n 1 ;;
	esac
}

vdq_guests() { # names of the current environment's guests
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local e g
	e=$(vdq__env) || return 1
	for g in "$e"/guests/*; do [ -d "$g" ] && echo "${g##*/}"; done
	return 0
}

vdq_guest_stop() { # NAME: kill qemu, delete its tap, keep nothing
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local name=$1 e g tap pid
	e=$(vdq__env) || return 1
	g=$e/guests/$name
	[ -d "$g" ] || return 0
	pid=$(cat "$g/pid" 2>/dev/null)
	[ -n "$pid" ] && vdq__kill "$pid" "$g" 3
	tap=$(sed -n 's/^tap=//p' "$g/info" 2>/dev/null)
	[ -n "$tap" ] && ip -n "$VDQ_NETNS" link del "$tap" 2>/dev/null
	vdq_host_bg_stop "sink-$name"
	local idx
	idx=$(sed -n 's/^idx=//p' "$g/info" 2>/dev/null)
	[ -n "$idx" ] && rm -rf "$e/idx.$idx"
	if [ -n "${VDQ_KEEP_LOGS:-}" ]; then
		mkdir -p "$VDQ_KEEP_LOGS"
		cp "$g/console.log" "$VDQ_KEEP_LOGS/$VDQ_NETNS-$name.console.log" 2>/dev/null
	fi
	rm -rf "$g"
}

# ---------------------------------------------------------------------------------------------
# Command channel. vdq_exec NAME [-t SECONDS] [--] COMMAND...: runs COMMAND (one sh command
# line, the words joined by spaces) in the guest; its stdout and stderr come out on ours; the
# return code is the command's (137 when the guest-side time limit killed it), 124 when no
# answer came in time, 125 when the guest or the channel failed.

vdq_exec() {
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local name=$1 limit=${VDQ_EXEC_TIMEOUT:-60}
	shift
	[ "${1:-}" = -t ] && { limit=$2; shift 2; }
	[ "${1:-}" = -- ] && shift
	local cmd="$*" g pid lk wfd rfd id line partial='' state=skip rc='' deadline
	g=$(vdq__gdir "$name") || return 125
	pid=$(cat "$g/pid")
	vdq__ours "$pid" "$g" || { vdq_die "guest $name is not running"; return 125; }
	exec {lk}>"$g/lock"
	flock -w "$limit" "$lk" || { exec {lk}>&-; vdq_die "guest $name: channel busy for ${limit}s"; return 124; }
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
	base64 -d <"$g/exec.out"
	base64 -d <"$g/exec.err" >&2
	exec {lk}>&-
	[[ $rc =~ ^[0-9]+$ ]] || rc=125
	return "$rc"
}

# Copies a guest file to the host: through the 9p share when the guest mounted it, else as
# base64 over the command channel. Fails (and leaves no partial HOST_PATH) if the file is absent.
vdq_copy_out() { # NAME GUEST_PATH HOST_PATH
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local name=$1 src=$2 dst=$3 g tmp
	g=$(vdq__gdir "$name") || return 1
	tmp=$(mktemp "$g/share/.xfer/out.XXXXXX")
	if [ "${VDQ_COPY:-auto}" != channel ] &&
		vdq_exec "$name" -t 120 "grep -qs ' /mnt/host ' /proc/mounts" 2>/dev/null; then
		rm -f "$tmp"
		vdq_exec "$name" -t 120 "cp '$src' '/mnt/host/.xfer/${tmp##*/}'" || {
			vdq_die "copy-out of $name:$src failed"
			return 1
		}
	else
		vdq_exec "$name" -t 300 "cat '$src'" >"$tmp" || {
			rm -f "$tmp"
			vdq_die "copy-out of $name:$src failed"
			return 1
		}
	fi
	mv "$tmp" "$dst"
}

# Builds kmod/tcpmon.ko against KVER's headers in a private copy of the source under DIR (never
# racing another build in kmod/), log in DIR/kbuild.log; prints the module's path. Exit 77 (no
# build) when /lib/modules/KVER/build is missing, 1 when the build fails.
vdq_build_tcpmon() { # KVER DIR
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local name=$1 src=$2 dst=$3 g tmp
	g=$(vdq__gdir "$name") || return 1
	[ -r "$src" ] || { vdq_die "copy-in: cannot read $src"; return 1; }
	tmp=$(mktemp "$g/share/.xfer/in.XXXXXX")
	cp "$src" "$tmp"
	if [ "${VDQ_COPY:-auto}" != channel ] &&
		vdq_exec "$name" -t 120 "grep -qs ' /mnt/host ' /proc/mounts" 2>/dev/null; then
		vdq_exec "$name" -t 120 "cp '/mnt/host/.xfer/${tmp##*/}' '$dst'"
	else
		vdq_exec "$name" -t 300 "printf %s '$(base64 -w0 <"$src")' | base64 -d >'$dst'"
	fi
	local rc=$?
	rm -f "$tmp"
	((rc == 0)) || vdq_die "copy-in of $src to $name:$dst failed"
	return $rc
}

# ---------------------------------------------------------------------------------------------
# Background loads (inside a guest, see guest/vd-load). The network load sends TCP bulk to a
# sink on the peer address, port 5000 + guest index.

vdq_load_start() { # NAME TYPE [ARGS]
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
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
	local -; set +e +u +o pipefail # the caller's errexit/nounset/pipefail stay outside
	local name=$1 type=${2:-all}
	vdq_exec "$name" -t 30 "vd-load stop $type" >/dev/null || return 1
	if [ "$type" = network ] || [ "$type" = all ]; then
		vdq_host_bg_stop "sink-$name"
	fi
}
