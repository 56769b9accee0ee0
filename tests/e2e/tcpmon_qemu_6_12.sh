#!/usr/bin/env bash
# timeout: 900
# tcpmon.ko's qemu test (tcpmon_qemu.sh) on Debian's 6.12 kernel, the second column of the
# module's kernel matrix: the kernel linux-image-6.12-amd64 depends on, with its headers
# (linux-headers-6.12-amd64), given to the harness as VDQ_KERNEL.
v=$(dpkg-query -W -f='${Depends}' linux-image-6.12-amd64 2>/dev/null | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
if [ -z "$v" ] || [ ! -r "/boot/vmlinuz-$v" ] || [ ! -d "/lib/modules/$v/build" ]; then
	echo "tcpmon_qemu_6_12: SKIP: Debian's 6.12 kernel or its headers are not installed (linux-image-6.12-amd64, linux-headers-6.12-amd64)" >&2
	exit 77
fi
VDQ_KERNEL=/boot/vmlinuz-$v exec bash "$(dirname "$0")/tcpmon_qemu.sh"
