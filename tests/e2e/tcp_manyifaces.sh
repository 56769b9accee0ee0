#!/usr/bin/env bash
# timeout: 60
# vmdelay-analyze tcp on a pcapng with more interfaces than it caches (TCP_MAX_VANTAGE, 32):
# interfaces 35 and 40 are told apart, by SELECT (#eth40) and with '#*', instead of sharing
# the last cache slot (a packet of eth35 made eth40 "left out", or both one vantage point).
set -u
BIN=${VMDELAY_BIN:-build/asan/bin}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is not installed (writes the pcapng)" >&2; exit 77; }
TMP=$(mktemp -d /tmp/vd-tcp-ifs.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
A="$BIN/vmdelay-analyze"

# 41 Ethernet interfaces eth0..eth40; a SYN, SYN-ACK, ACK on eth35, then the same on eth40.
python3 - "$TMP/m.pcapng" <<'PY' || fail "writing the pcapng"
import struct, sys
def block(t, body):
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", t, n) + body + struct.pack("<I", n)
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(src, dst, sport, dport, seq, ack, flags):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp
out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
for i in range(41):
    name = b"eth%d" % i
    opt = struct.pack("<HH", 2, len(name)) + name + b"\0" * (-len(name) % 4)
    out += block(1, struct.pack("<HHI", 1, 0, 0) + opt + struct.pack("<HH", 0, 0))
a, b = [10, 0, 0, 1], [10, 0, 0, 2]
t = 1700000000 * 1000000
for k, ifc in enumerate((35, 40)):
    pk = [frame(a, b, 40000 + k, 5001, 1000, 0, 0x02), frame(b, a, 5001, 40000 + k, 5000, 1001, 0x12),
          frame(a, b, 40000 + k, 5001, 1001, 5001, 0x10)]
    for p in pk:
        t += 1000
        out += block(6, struct.pack("<IIIII", ifc, t >> 32, t & 0xffffffff, len(p), len(p)) + p)
open(sys.argv[1], "wb").write(out)
PY

"$A" tcp --csv "x=$TMP/m.pcapng#eth40" >"$TMP/sel.csv" 2>"$TMP/sel.err" ||
	fail "#eth40: exit $?: $(cat "$TMP/sel.err")"
grep -q '^x,.*:40001\b' "$TMP/sel.csv" || fail "#eth40: its flow is missing: $(cat "$TMP/sel.csv")"
grep -q ':40000\b' "$TMP/sel.csv" && fail "#eth40: eth35's flow is in: $(cat "$TMP/sel.csv")"

"$A" tcp --csv "x=$TMP/m.pcapng#*" >"$TMP/all.csv" 2>"$TMP/all.err" ||
	fail "#*: exit $?: $(cat "$TMP/all.err")"
grep -q '^x\.eth35,.*:40000\b' "$TMP/all.csv" || fail "#*: no x.eth35 flow: $(cat "$TMP/all.csv")"
grep -q '^x\.eth40,.*:40001\b' "$TMP/all.csv" || fail "#*: no x.eth40 flow: $(cat "$TMP/all.csv")"
exit 0
