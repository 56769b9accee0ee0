#!/usr/bin/env python3
"""tping_rows_gen.py — writes a tping CSV or JSON lines file of N probes as tping writes them:
each row when its probe finishes (its reply, or the timeout declaring it lost), so rows are in
completion order, not send order; late and duplicate replies get rows of their own.

usage: tping_rows_gen.py OUT csv|json N [TIMEOUT_MS] [PHASES] [KERNEL_GAP]
  probes 1 ms apart; RTTs 0.2-30 ms (kernel 20-60 us inside user); one probe in 97 lost (its
  row at the timeout, default 10000 ms), one in 89 duplicated, one in 101 answered after the
  timeout (a lost row, then a late one); PHASES 1 (default) labels the first and last 50 probes
  at rest, 0 writes an empty phase column. KERNEL_GAP FROM[-TO]: the probes from FROM (to TO,
  excluded; default the end) have no kernel timestamps, a point that stops early (and resumes).
"""
import heapq
import json
import sys

out, fmt, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
timeout = int(sys.argv[4]) * 1000000 if len(sys.argv) > 4 else 10 * 10**9
phases = sys.argv[5] != "0" if len(sys.argv) > 5 else True
gap = [int(x) for x in sys.argv[6].split("-")] if len(sys.argv) > 6 else [n]
gap_from, gap_to = gap[0], gap[1] if len(gap) > 1 else n
cols = ["seq", "phase", "status", "user_tx_ns", "kernel_tx_ns", "kernel_rx_ns", "user_rx_ns"]
t0 = 1_700_000_000 * 10**9
rows = []  # (finish time, order, row)


def phase(i):
    if not phases:
        return ""
    return "rest-pre" if i < 50 else "rest-post" if i >= n - 50 else "load"


for i in range(n):
    seq = i + 1
    utx = t0 + i * 1_000_000
    ktx = utx + 20_000 + (i * 7919) % 30_000
    rtt = 200_000 + (i * 104729) % 30_000_000
    krx = ktx + rtt
    urx = krx + 15_000 + (i * 31) % 40_000
    ph = phase(i)
    if i % 97 == 5:
        rows.append((utx + timeout, i, [seq, ph, "lost", utx, ktx, "", ""]))
        continue
    if i % 101 == 7:
        rows.append((utx + timeout, i, [seq, ph, "lost", utx, ktx, "", ""]))
        late = utx + timeout + 3_000_000
        rows.append((late, i, [seq, ph, "late", "", "", late - 20_000, late]))
        continue
    rows.append((urx, i, [seq, ph, "ok", utx, ktx, krx, urx]))
    if i % 89 == 3:
        rows.append((urx + 500_000, i, [seq, ph, "duplicate", "", "", krx + 480_000, urx + 500_000]))
if gap_from < gap_to:
    rows = [(t, i, [v if not (gap_from <= i < gap_to and c in (4, 5)) else "" for c, v in enumerate(r)])
            for t, i, r in rows]
heapq.heapify(rows)
with open(out, "w") as f:
    if fmt == "csv":
        f.write(",".join(cols) + "\n")
    while rows:
        _, _, r = heapq.heappop(rows)
        if fmt == "csv":
            f.write(",".join(str(v) for v in r) + "\n")
        else:
            f.write(json.dumps({c: (v if v != "" else None) for c, v in zip(cols, r)}) + "\n")
