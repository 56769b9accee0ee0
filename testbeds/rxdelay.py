#!/usr/bin/env python3
"""rxdelay.py — per-packet receive-path delay from the host's tap into the guest (vSnoop, Fig. 1b).

    testbeds/rxdelay.py --tap TAP.pcap --tcm TCPMON.tcm [--tcpmon BIN] [--port 5201]
                        [--csv FILE] [--svg FILE]

Matches every TCP data segment sent to PORT in the tap capture (the host's last vantage point)
with the guest's tcpmon records (`tcpmon dump --csv`) of the same flow whose sequence range
covers the segment (a GRO packet covers several): the first at layer dev-rx (the guest's NIC
driver saw it) and the first at sock-queue (queued to the receiving socket). vmdelay-analyze
tcp does not match tcpmon records with capture packets, so this script does.

The tap's clock is the host's and the records' real_ns the guest's (set from the emulated RTC
at boot), so the offset between them is unknown: the delays are shown above their minimum
(the fastest packet counts as 0), the part that scheduling and queueing add. Prints the
percentiles; --csv writes delay_ns,cum_fraction per layer, --svg the CDF.
Python 3 standard library only. Exit 1 when nothing matches or a file cannot be read.
"""

import bisect
import csv
import io
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summary  # noqa: E402  (the SVG chart)


def tap_segments(path, port):
    """(t_ns, sport, seq, len) of the TCP data segments to port in a classic pcap."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: not a pcap file (too short)")
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B23C4D:
        scale = 1
    elif magic == 0xA1B2C3D4:
        scale = 1000
    else:
        raise ValueError(f"{path}: not a little-endian classic pcap (magic {magic:#x})")
    linktype = struct.unpack("<I", data[20:24])[0]
    if linktype != 1:
        raise ValueError(f"{path}: link type {linktype}, expected Ethernet")
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if len(pkt) < 54 or pkt[12:14] != b"\x08\x00" or pkt[23] != 6:
            continue
        ihl = (pkt[14] & 15) * 4
        tot = struct.unpack(">H", pkt[16:18])[0]
        t = 14 + ihl
        if len(pkt) < t + 13:
            continue  # options longer than the snapshot: no TCP header to read
        sport, dport, seq = struct.unpack(">HHI", pkt[t:t + 8])
        doff = (pkt[t + 12] >> 4) * 4
        plen = tot - ihl - doff
        if dport == port and plen > 0:
            out.append((sec * 1000000000 + frac * scale, sport, seq, plen))
    return out


def guest_records(tcm, tcpmon, port):
    """{layer: {sport: sorted [(seq, end, t_ns)]}} of the tcpmon data records to port."""
    dump = subprocess.run([tcpmon, "dump", "--csv", tcm], capture_output=True, text=True)
    if dump.returncode != 0:
        raise ValueError(f"tcpmon dump {tcm}: {dump.stderr.strip()}")
    recs = {}
    for row in csv.DictReader(io.StringIO(dump.stdout)):
        if row["proto"] != "tcp" or row["dport"] != str(port) or not row["len"] or int(row["len"]) == 0:
            continue
        seq, ln = int(row["seq"]), int(row["len"])
        recs.setdefault(row["layer"], {}).setdefault(int(row["sport"]), []).append(
            (seq, seq + ln, int(row["real_ns"])))
    for flows in recs.values():
        for lst in flows.values():
            lst.sort()
    return recs


def delays(segs, flows):
    """Delay of each segment to the first record of its flow covering it (32-bit seq wrap
    ignored: a transfer here is far below 4 GB)."""
    out = []
    for t, sport, seq, ln in segs:
        lst = flows.get(sport)
        if not lst:
            continue
        i = bisect.bisect_right(lst, (seq, float("inf"), 0)) - 1
        # Records starting at or before seq; the one covering seq+len that came first.
        best = None
        while i >= 0 and lst[i][0] <= seq:
            if lst[i][1] >= seq + ln:
                best = lst[i][2] if best is None else min(best, lst[i][2])
            if seq - lst[i][0] > 1 << 20:
                break
            i -= 1
        if best is not None:
            out.append(best - t)
    return out


def pct(v, p):
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


def main(argv):
    opts = {"--tap": None, "--tcm": None, "--tcpmon": "tcpmon", "--port": "5201",
            "--csv": None, "--svg": None}
    it = iter(argv)
    for a in it:
        if a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return 0
        if a not in opts:
            sys.stderr.write(f"rxdelay.py: unknown option '{a}' (see --help)\n")
            return 2
        v = next(it, None)
        if v is None:
            sys.stderr.write(f"rxdelay.py: {a} needs a value\n")
            return 2
        opts[a] = v
    if not opts["--tap"] or not opts["--tcm"]:
        sys.stderr.write("rxdelay.py: --tap and --tcm are required\n")
        return 2
    port = int(opts["--port"])
    try:
        segs = tap_segments(opts["--tap"], port)
        recs = guest_records(opts["--tcm"], opts["--tcpmon"], port)
    except (OSError, ValueError) as e:
        sys.stderr.write(f"rxdelay.py: {e}\n")
        return 1
    series, rows = {}, []
    raw = {layer: delays(segs, recs.get(layer, {})) for layer in ("dev-rx", "sock-queue")}
    base = min((min(d) for d in raw.values() if d), default=None)
    if base is None:
        sys.stderr.write("rxdelay.py: no tap segment matched a tcpmon record\n")
        return 1
    print(f"per-packet delay tap -> guest, above the minimum ({len(segs)} segments at the tap), ms")
    print("layer       matched     p10     p50     p90     p99     max")
    for layer, d in raw.items():
        if not d:
            continue
        d = sorted(x - base for x in d)
        print(f"{layer:<10} {len(d):>8} " + " ".join(f"{pct(d, p) / 1e6:7.3f}" for p in (10, 50, 90, 99))
              + f" {d[-1] / 1e6:7.3f}")
        step = max(1, len(d) // 500)
        pts = [(d[i] / 1e6, (i + 1) / len(d)) for i in range(0, len(d), step)] + [(d[-1] / 1e6, 1.0)]
        series[f"tap -> guest {layer}"] = pts
        rows += [(layer, x, y) for x, y in pts]
    if opts["--csv"]:
        with open(opts["--csv"], "w") as f:
            f.write("layer,delay_ms,cum_fraction\n")
            f.writelines(f"{a},{b:.6f},{c:.6f}\n" for a, b, c in rows)
    if opts["--svg"]:
        svg = summary.svg_chart("per-packet delay, host tap to guest (above the minimum)",
                                "delay (ms)", "cumulative fraction", series, None)
        with open(opts["--svg"], "w") as f:
            f.write(svg)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
