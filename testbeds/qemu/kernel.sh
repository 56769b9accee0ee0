#!/usr/bin/env bash
# kernel.sh — prints the version of the kernel the qemu guests boot (/boot/vmlinuz-VERSION, its
# modules in /lib/modules/VERSION), the one choice shared by lib.sh, mkinitramfs.sh and the
# tests that build tcpmon.ko for the guest:
#   1. VDQ_KERNEL, when it is /boot/vmlinuz-VERSION with modules;
#   2. the kernel of Debian's linux-image-amd64 (what `make deps` installs), when installed;
#   3. else the newest installed image with modules.
# Several kernel flavours (cloud, rt, backports) may be installed beside it: picking the newest
# by name would boot one that the modules or tcpmon.ko were not built for.
#   --headers   only a kernel whose headers are installed (/lib/modules/VERSION/build)
# Exit 1 with a message when there is none.
set -euo pipefail
headers=0
[ "${1:-}" = --headers ] && headers=1

usable() { # VERSION
	[ -r "/boot/vmlinuz-$1" ] && [ -f "/lib/modules/$1/modules.dep" ] &&
		{ ((headers == 0)) || [ -d "/lib/modules/$1/build" ]; }
}

if [ -n "${VDQ_KERNEL:-}" ] && [[ $VDQ_KERNEL == */vmlinuz-* ]] && usable "${VDQ_KERNEL##*/vmlinuz-}"; then
	echo "${VDQ_KERNEL##*/vmlinuz-}"
	exit 0
fi
debian=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	sed -n 's/^linux-image-\([^ ,]*\).*/\1/p' || true)
if [ -n "$debian" ] && usable "$debian"; then
	echo "$debian"
	exit 0
fi
newest=''
for v in $(find /lib/modules -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V); do
	if usable "$v"; then newest=$v; fi
done
if [ -z "$newest" ]; then
	if ((headers)); then
		echo "kernel.sh: no kernel image /boot/vmlinuz-V with modules and headers in" \
			"/lib/modules/V (install linux-image-amd64 and linux-headers-amd64)" >&2
	else
		echo "kernel.sh: no kernel image /boot/vmlinuz-V with modules in /lib/modules/V" \
			"(install linux-image-amd64)" >&2
	fi
	exit 1
fi
echo "$newest"
