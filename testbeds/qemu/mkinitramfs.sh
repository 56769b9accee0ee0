#!/usr/bin/env bash
# Builds the guest initramfs (cpio.gz) of the qemu testbed: busybox-static, the /init and
# command agent of testbeds/qemu/guest/, the kernel modules the guest needs (with their
# dependencies read from modules.dep, in load order), and extra files: programs (their shared
# libraries found by ldd come along), kernel modules (e.g. kmod/tcpmon.ko) and data.
#
#   mkinitramfs.sh -o OUT.cpio.gz [-k KVER] [-M] [-m MODULE]... [-f SRC[:DEST]]...
#
# Default destinations of -f: *.ko -> /lib/modules/vmdelay/NAME, executables ->
# /usr/local/bin/NAME, anything else -> /data/NAME. Modules are loaded at boot: the defaults
# (virtio_pci virtio_console virtio_net e1000 9pnet_virtio 9p virtio_blk crc32c_generic ext4;
# -M drops them) and those given with -m (any module of the kernel, e.g. -m nf_conntrack).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out='' kver='' mods=() files=() defaults=1
default_mods=(virtio_pci virtio_console virtio_net e1000 9pnet_virtio 9p virtio_blk crc32c_generic ext4)

usage() {
	sed -n '2,13s/^# \{0,1\}//p' "$0"
	exit "${1:-2}"
}

while getopts 'o:k:m:f:Mh' opt; do
	case $opt in
	o) out=$OPTARG ;;
	k) kver=$OPTARG ;;
	m) mods+=("$OPTARG") ;;
	M) defaults=0 ;;
	f) files+=("$OPTARG") ;;
	h) usage 0 ;;
	*) usage 2 ;;
	esac
done
[ -n "$out" ] || { echo "mkinitramfs.sh: missing -o OUT.cpio.gz" >&2; exit 2; }
if [ -z "$kver" ]; then
	# The guests' kernel (the host's own kernel may have no modules at all).
	kver=$("$here/kernel.sh") || exit 1
fi
moddir=/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || { echo "mkinitramfs.sh: no $moddir/modules.dep (kernel '$kver')" >&2; exit 1; }
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "mkinitramfs.sh: busybox not found (install busybox-static)" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs.sh: $busybox is dynamically linked (install busybox-static)" >&2
	exit 1
fi
((defaults)) && mods=("${default_mods[@]}" "${mods[@]}")

root=$(mktemp -d "${TMPDIR:-/tmp}/vdq-initramfs.XXXXXX")
# mktemp -d makes the directory 0700: it becomes the guest's /, which every user must traverse.
chmod 0755 "$root"
. "$(dirname "${BASH_SOURCE[0]}")/../on_exit.sh"
vd_on_exit 'rm -rf "$root"'
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,mnt/host,mnt/disk,usr/bin,usr/sbin,usr/local/bin,data} \
	"$root/lib/modules/vmdelay"
cp "$busybox" "$root/bin/busybox"
for app in $("$busybox" --list-full); do
	[ -e "$root/$app" ] || ln -s /bin/busybox "$root/$app"
done
install -m 0755 "$here/guest/init" "$root/init"
install -m 0755 "$here/guest/vd-agent" "$root/sbin/vd-agent"
install -m 0755 "$here/guest/vd-load" "$root/sbin/vd-load"

# Modules: resolve every requested module and its dependencies (modules.dep lists them
# transitively) into load order, dependencies first; built-in modules need nothing.
declare -A dep_of=() path_of=() seen=()
while IFS= read -r line; do
	mpath=${line%%:*}
	base=${mpath##*/}
	base=${base%%.ko*}
	base=${base//-/_}
	path_of[$base]=$mpath
	dep_of[$base]=${line#*:}
done <"$moddir/modules.dep"
order=()
visit() { # module name
	local m=${1//-/_} d db
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	for d in ${dep_of[$m]}; do
		db=${d##*/}
		db=${db%%.ko*}
		visit "$db"
	done
	order+=("$m")
}
for m in "${mods[@]}"; do
	m=${m//-/_}
	if [ -z "${path_of[$m]:-}" ]; then
		if grep -q "/${m}\.ko" "$moddir/modules.builtin" 2>/dev/null ||
			grep -q "/${m//_/-}\.ko" "$moddir/modules.builtin" 2>/dev/null; then
			continue
		fi
		echo "mkinitramfs.sh: module '$m' is neither in $moddir/modules.dep nor built in" >&2
		exit 1
	fi
	visit "$m"
done
: >"$root/etc/vd-modules"
for m in "${order[@]}"; do
	src=$moddir/${path_of[$m]}
	dst=$root/lib/modules/$kver/${path_of[$m]%%.ko*}.ko
	mkdir -p "$(dirname "$dst")"
	case $src in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) echo "mkinitramfs.sh: unknown module format $src" >&2; exit 1 ;;
	esac
	echo "/lib/modules/$kver/${path_of[$m]%%.ko*}.ko" >>"$root/etc/vd-modules"
done

copy_libs() { # ELF file: copy the shared libraries and loader it needs, at their own paths
	local lib
	ldd "$1" 2>/dev/null | grep -oE '/[^ ]+' | while IFS= read -r lib; do
		[ -f "$lib" ] || continue
		mkdir -p "$root$(dirname "$lib")"
		[ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
	done
}
for spec in "${files[@]}"; do
	src=${spec%%:*}
	dst=''
	[ "$src" != "$spec" ] && dst=${spec#*:}
	[ -f "$src" ] || { echo "mkinitramfs.sh: -f $src: no such file" >&2; exit 1; }
	if [ -z "$dst" ]; then
		case $src in
		*.ko) dst=/lib/modules/vmdelay/${src##*/} ;;
		*) if [ -x "$src" ]; then dst=/usr/local/bin/${src##*/}; else dst=/data/${src##*/}; fi ;;
		esac
	fi
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
	if [ -x "$src" ] && [ "$(head -c 4 "$src" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
		copy_libs "$src"
	fi
done

echo "$kver" >"$root/etc/vd-kernel"
mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
