#!/usr/bin/env bash
# timeout: 600
# kmod/dkms.conf works: `make -C kmod dkms-src` gives a source tree that dkms builds, for
# Debian's 6.1 and 6.12 kernels (the module's matrix), into a private dkms tree (nothing is
# installed: --sourcetree/--dkmstree under a temporary directory); each tcpmon.ko's vermagic names
# its kernel; dkms.conf's version is the module's (MODULE_VERSION) and the Makefile's default.
# Skips (77) without dkms or without any of the two kernels' headers.
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1
skip() { echo "tcpmon_dkms: SKIP: $*" >&2; exit 77; }
die() { echo "tcpmon_dkms: FAIL: $*" >&2; exit 1; }
command -v dkms >/dev/null || skip "dkms not installed"
[ "$(id -u)" = 0 ] || skip "dkms build needs root (its signing key)"

ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' kmod/dkms.conf)
[ -n "$ver" ] || die "no PACKAGE_VERSION in kmod/dkms.conf"
grep -q "MODULE_VERSION(\"$ver\")" kmod/tcpmon_main.c || die "dkms.conf version $ver is not tcpmon_main.c's MODULE_VERSION"
grep -q "^DEST ?= /usr/src/tcpmon-$ver\$" kmod/Makefile || die "kmod/Makefile's dkms-src DEST is not /usr/src/tcpmon-$ver"
grep -q '^BUILT_MODULE_NAME\[0\]="tcpmon"$' kmod/dkms.conf || die "dkms.conf BUILT_MODULE_NAME is not tcpmon"

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
make -s -C kmod dkms-src DEST="$work/src/tcpmon-$ver" || die "make -C kmod dkms-src"
built=0
for series in 6.1 6.12; do
	# the kernel Debian's meta package for the series depends on
	meta=linux-image-amd64
	[ "$series" = 6.12 ] && meta=linux-image-6.12-amd64
	kver=$(dpkg-query -W -f='${Depends}' "$meta" 2>/dev/null | sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
	if [ -z "$kver" ] || [ ! -d "/lib/modules/$kver/build" ]; then
		echo "no $meta with headers: not built for Debian $series"
		continue
	fi
	mkdir -p "$work/tree-$series"
	dkms build -m tcpmon -v "$ver" -k "$kver" --sourcetree "$work/src" --dkmstree "$work/tree-$series" \
		>"$work/dkms-$series.log" 2>&1 || { cat "$work/dkms-$series.log"; die "dkms build for $kver"; }
	ko=$(find "$work/tree-$series" -path "*/$kver/*" -name 'tcpmon.ko*' | head -n 1)
	[ -n "$ko" ] || { cat "$work/dkms-$series.log"; die "dkms built no tcpmon.ko for $kver"; }
	vm=$(modinfo -F vermagic "$ko")
	[[ $vm == "$kver "* ]] || die "$ko: vermagic '$vm' is not $kver's"
	[ "$(modinfo -F version "$ko")" = "$ver" ] || die "$ko: version $(modinfo -F version "$ko") != $ver"
	echo "dkms built tcpmon $ver for $kver: $vm"
	built=$((built + 1))
done
[ "$built" -gt 0 ] || skip "no headers of Debian's 6.1 or 6.12 kernel (linux-headers-amd64, linux-headers-6.12-amd64)"
echo "tcpmon_dkms: PASS ($built kernels)"
