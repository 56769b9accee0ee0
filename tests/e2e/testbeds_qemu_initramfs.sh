#!/usr/bin/env bash
# timeout: 120
# mkinitramfs.sh (qemu testbed): modules come with their dependencies from modules.dep, each
# after what it needs; programs come with the shared libraries ldd lists; a module that does
# not exist, a missing extra file or a missing -o are clear errors. No guest is booted here.
set -u
root=${VMDELAY_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
mk=$root/testbeds/qemu/mkinitramfs.sh
for t in busybox cpio gzip; do
	command -v "$t" >/dev/null || { echo "skip: $t not installed" >&2; exit 77; }
done
# The guests' kernel (several flavours may be installed; their modules differ).
kver=$("$root/testbeds/qemu/kernel.sh" 2>/dev/null) ||
	{ echo "skip: no kernel image with modules (install linux-image-amd64)" >&2; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vdti.XXXXXX")
. "$root/testbeds/on_exit.sh"
vd_on_exit 'rm -rf "$work"'
fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'data\n' >"$work/note.txt"
"$mk" -o "$work/i.gz" -k "$kver" -m nf_conntrack -f "$(command -v tcpdump || command -v ip)" \
	-f "$work/note.txt" -f "$work/note.txt:/etc/renamed" 2>"$work/err" || fail "build: $(cat "$work/err")"
mkdir "$work/x"
(cd "$work/x" && gzip -dc "$work/i.gz" | cpio -id --quiet) || fail "not a gzip'd cpio archive"
x=$work/x

for f in init sbin/vd-agent sbin/vd-load bin/busybox bin/sh data/note.txt etc/renamed; do
	[ -e "$x/$f" ] || fail "no /$f in the archive"
done
[ -x "$x/init" ] || fail "/init is not executable"

# Load order: every module after each of its dependencies (modules.dep), and each module once.
order=$x/etc/vd-modules
[ "$(sort "$order" | uniq -d)" = '' ] || fail "modules listed twice: $(sort "$order" | uniq -d)"
pos() { grep -n "/$1\.ko\$" "$order" | head -n 1 | cut -d: -f1; }
mapfile -t listed <"$order"
for m in "${listed[@]}"; do
	[ -f "$x$m" ] || fail "$m listed but not in the archive"
	head -c 4 "$x$m" | grep -q ELF || fail "$m is not an ELF object (not decompressed?)"
	rel=${m#/lib/modules/"$kver"/}
	me=$(grep -nxF -- "$m" "$order" | cut -d: -f1)
	read -ra deps < <(grep "^${rel%.ko}\.ko[^:]*:" "/lib/modules/$kver/modules.dep" | cut -d: -f2)
	for d in "${deps[@]}"; do
		b=${d##*/}
		b=${b%%.ko*}
		[ -n "$(pos "$b")" ] || fail "$rel needs $b, which is not listed"
		[ "$(pos "$b")" -lt "$me" ] || fail "$b is loaded after $rel, which needs it"
	done
done
for m in nf_conntrack virtio_net e1000 virtio_console; do
	[ -n "$(pos "$m")" ] || fail "$m not in the load list"
done
echo "modules: $(wc -l <"$order") in load order"

# The program's shared libraries are there at their own paths.
prog=$(command -v tcpdump || command -v ip)
n=0
for lib in $(ldd "$prog" | grep -oE '/[^ ]+'); do
	[ -f "$lib" ] || continue
	[ -f "$x$lib" ] || fail "$lib (needed by $prog) missing"
	n=$((n + 1))
done
[ -x "$x/usr/local/bin/${prog##*/}" ] || fail "${prog##*/} not in /usr/local/bin"
echo "$prog: $n shared libraries packed"

# Errors.
"$mk" -o "$work/e.gz" -k "$kver" -m no_such_module_xyz 2>"$work/err"
rc=$?
{ [ "$rc" != 0 ] && grep -q "no_such_module_xyz" "$work/err"; } || fail "unknown module: rc=$rc, $(cat "$work/err")"
[ -e "$work/e.gz" ] && fail "an archive was left after an error"
"$mk" -o "$work/e.gz" -k "$kver" -f /nonexistent/file 2>"$work/err"
rc=$?
{ [ "$rc" != 0 ] && grep -q "/nonexistent/file" "$work/err"; } || fail "missing file: rc=$rc, $(cat "$work/err")"
"$mk" -k "$kver" 2>"$work/err"
rc=$?
{ [ "$rc" = 2 ] && grep -q -- "-o" "$work/err"; } || fail "missing -o: rc=$rc, $(cat "$work/err")"
"$mk" -o "$work/e.gz" -k 0.0.0-none 2>"$work/err"
rc=$?
{ [ "$rc" != 0 ] && grep -q "0.0.0-none" "$work/err"; } || fail "unknown kernel: rc=$rc, $(cat "$work/err")"
echo "PASS: mkinitramfs"
