#!/usr/bin/env python3
"""summary.py — one paper's result across the runs of its scenario, read back from the store.

    testbeds/summary.py --db FILE --scenario NAME [--svg FILE] [--md FILE] [--seconds N]
                        [--page FILE [--block NAME]]
    testbeds/summary.py --has NAME     exit 0 when NAME is a paper's scenario with a summary

Reads the analysis runs that testbeds/run stored for scenario NAME (the latest run of each
combination of swept values), prints the paper's headline quantity per run as a Markdown table
and, with --svg, draws it against the swept key (one line per other swept value). --md writes the
table (and the time the scenario took, --seconds) to FILE; --page replaces the block between
"<!-- results NAME -->" and "<!-- /results NAME -->" in FILE (docs/reproductions.md) with the
same text and a link to the SVG (--block: the markers' NAME instead of the scenario's). What is
shown depends on the paper, found from the scenario name:

  whiteaker*    ΔKern (tap to guest kernel) and ΔUser (guest kernel to user) p99 per load
  dantas*       RTT in guest user space, median and p99 of the load phase, per busy VMs
  rajasekaran*  fraction of ACK gaps under the reference (120 µs) and under 10 µs at the tap
                and at the guest's TCP layer (tcpmon), per busy VMs; throughput at the RTT
                timescale and at 1 s
  vsnoop*       per-transfer throughput p10/p50/p90 and the TCP RTT, per VMs sharing a core
  oi-msgsize    throughput against the message size, per MTU (netns)
  oi*           throughput, GRO segments per packet delivered at the guest's TCP, per MTU/GRO

Python 3 standard library only (sqlite3). Exit 1 when the store has no run of NAME, 2 on usage.
"""

import csv
import math
import os
import sqlite3
import sys
from collections import OrderedDict


def usage(msg):
    sys.stderr.write(f"summary.py: {msg}\nusage: testbeds/summary.py --db FILE --scenario NAME"
                     " [--svg FILE] [--md FILE] [--seconds N] [--page FILE [--block NAME]]\n")
    return 2


class Store:
    def __init__(self, path):
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def analysis_runs(self, scenario, kind):
        """(run id, meta dict) of the latest complete analysis run per label; kind 'delay' or
        'tcp' (a tcp run has ACK or throughput results)."""
        rows = self.db.execute(
            "SELECT id, label FROM runs WHERE tool = 'vmdelay-analyze' AND scenario = ?"
            " AND complete = 1 ORDER BY id", (scenario,)).fetchall()
        latest = OrderedDict()
        for rid, label in rows:
            is_tcp = self.db.execute(
                "SELECT 1 FROM results WHERE run_id = ? AND metric IN"
                " ('ack_interarrival', 'throughput', 'transfer_throughput', 'aggregation')"
                " LIMIT 1", (rid,)).fetchone() is not None
            if is_tcp == (kind == "tcp"):
                latest[label] = rid
        out = []
        for rid in latest.values():
            meta = dict(self.db.execute("SELECT key, value FROM run_meta WHERE run_id = ?",
                                        (rid,)).fetchall())
            out.append((rid, meta))
        return out

    def value(self, rid, vantage, metric, stat, phase=None, direction=None, like=False):
        q = "SELECT value FROM results WHERE run_id = ? AND metric = ? AND stat = ?"
        args = [rid, metric, stat]
        if vantage is not None:
            q += " AND vantage = ?" if not like else " AND vantage LIKE ?"
            args.append(vantage)
        if phase is not None:
            q += " AND phase = ?"
            args.append(phase)
        if direction is not None:
            q += " AND direction LIKE ?"
            args.append(direction)
        r = self.db.execute(q, args).fetchone()
        return None if r is None else r[0]

    def vantage_path(self, rid, name):
        r = self.db.execute("SELECT path FROM vantage_points WHERE run_id = ? AND name = ?",
                            (rid, name)).fetchone()
        return None if r is None else r[0]


# The transfers' flows (tperf on port 5201): the loads' and the load control's flows share the
# tap and the bridge.
XFER = "%:5201"


def ack_fraction_below(store, rid, vantage, limit_ns):
    """Fraction of the ACK gaps of the transfer's flow with the most ACKs under limit_ns, from
    the histogram the analysis wrote next to the run's traces (plots/ackhist_V.csv)."""
    path = store.vantage_path(rid, vantage)
    if not path:
        return None
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in vantage)
    f = os.path.join(os.path.dirname(path), "plots", f"ackhist_{name}.csv")
    if not os.path.exists(f):
        return None
    per_flow = {}
    with open(f, newline="") as fh:
        for row in csv.DictReader(fh):
            if not row["flow"].endswith(":5201"):
                continue
            tot, below = per_flow.get(row["flow"], (0, 0))
            n = int(row["count"])
            per_flow[row["flow"]] = (tot + n, below + (n if int(row["lo_ns"]) < limit_ns else 0))
    if not per_flow:
        return None
    tot, below = max(per_flow.values())
    return below / tot if tot else None


def num(meta, key, default=0):
    try:
        return float(meta.get(key, default))
    except ValueError:
        return default


def fmt(v, scale=1.0, digits=2):
    return "—" if v is None else f"{v / scale:.{digits}f}"


# --- one function per paper: (columns, rows, chart) -----------------------------------------
# chart: (x label, y label, {series name: [(x, y)]}, x tick labels or None)

def whiteaker(store, name):
    cols = ["load", "ΔKern median (µs)", "ΔKern p99 (µs)", "ΔUser median (µs)",
            "ΔUser p99 (µs)", "send p99 (µs)", "receive p99 (µs)"]
    rows, series, ticks = [], {"ΔUser p99": [], "ΔKern p99": [], "send p99": [],
                               "receive p99": []}, []
    for i, (rid, meta) in enumerate(store.analysis_runs(name, "delay")):
        def d(vantage, stat, direction="rtt", metric="delta"):
            return store.value(rid, vantage, metric, stat, "load", direction)
        kern = (d("guest.kernel", "median_ns"), d("guest.kernel", "p99_ns"))
        user = (d("guest.user", "median_ns"), d("guest.user", "p99_ns"))
        # The one-way split of the whole path (wire to user space), Figure 5.
        send, recv = d("total", "p99_ns", "send", "total"), d("total", "p99_ns", "recv", "total")
        rows.append([meta.get("load", "?"), fmt(kern[0], 1e3, 0), fmt(kern[1], 1e3, 0),
                     fmt(user[0], 1e3, 0), fmt(user[1], 1e3, 0), fmt(send, 1e3, 0),
                     fmt(recv, 1e3, 0)])
        ticks.append(meta.get("load", "?"))
        for key, v in (("ΔUser p99", user[1]), ("ΔKern p99", kern[1]), ("send p99", send),
                       ("receive p99", recv)):
            if v is not None:
                series[key].append((i, v / 1e3))
    return cols, rows, ("stress case (load phase)", "µs", series, ticks)


def dantas(store, name):
    cols = ["busy VMs", "nic", "reserved core", "RTT median (ms)", "RTT p99 (ms)",
            "at rest before: median (ms)"]
    rows, series = [], {}
    runs = store.analysis_runs(name, "delay")
    runs.sort(key=lambda r: (r[1].get("scenario.nic", ""), r[1].get("scenario.pinning", ""),
                             num(r[1], "scenario.busy_vms")))
    for rid, meta in runs:
        med = store.value(rid, "guest.user", "rtt", "median_ns", "load", "rtt")
        p99 = store.value(rid, "guest.user", "rtt", "p99_ns", "load", "rtt")
        rest = store.value(rid, "guest.user", "rtt", "median_ns", "rest-pre", "rtt")
        busy = int(num(meta, "scenario.busy_vms"))
        nic, pin = meta.get("scenario.nic", "?"), meta.get("scenario.pinning", "?")
        rows.append([str(busy), nic, pin, fmt(med, 1e6, 3), fmt(p99, 1e6, 3), fmt(rest, 1e6, 3)])
        if med is not None:
            series.setdefault(f"{nic}, reserved core {pin}", []).append((busy, med / 1e6))
    return cols, rows, ("CPU-busy background VMs (0 = idle baseline)",
                        "RTT median, guest user space (ms)", series, None)


def rajasekaran(store, name):
    cols = ["busy VMs", "ACKs (guest)", "gaps < 120 µs: tap", "guest TCP",
            "gaps < 10 µs: tap", "guest TCP", "compression events tap / guest",
            "Mbit/s", "SD at RTT (Mbit/s)", "SD at 1 s (Mbit/s)"]
    rows, series = [], {}
    runs = store.analysis_runs(name, "tcp")
    runs.sort(key=lambda r: num(r[1], "scenario.busy_vms"))
    for rid, meta in runs:
        busy = int(num(meta, "scenario.busy_vms"))
        g = "guest.tcp"
        acks = store.value(rid, g, "ack_interarrival", "gaps", direction=XFER)
        ref_tap = store.value(rid, "tap", "ack_interarrival", "fraction_below_ref", direction=XFER)
        ref_g = store.value(rid, g, "ack_interarrival", "fraction_below_ref", direction=XFER)
        b2b_tap = ack_fraction_below(store, rid, "tap", 10000)
        b2b_g = ack_fraction_below(store, rid, g, 10000)
        ev_tap = store.value(rid, "tap", "ack_compression", "events", direction=XFER)
        ev_g = store.value(rid, g, "ack_compression", "events", direction=XFER)
        bps = store.value(rid, "tap", "throughput", "mean_bps", direction=XFER)
        sd_rtt = store.value(rid, "tap", "throughput_rtt", "sd_bps", direction=XFER)
        sd_long = store.value(rid, "tap", "throughput_long", "sd_bps", direction=XFER)
        rows.append([str(busy), fmt(acks, 1, 0), fmt(ref_tap, 1, 3), fmt(ref_g, 1, 3),
                     fmt(b2b_tap, 1, 3), fmt(b2b_g, 1, 3),
                     f"{fmt(ev_tap, 1, 0)} / {fmt(ev_g, 1, 0)}", fmt(bps, 1e6, 0),
                     fmt(sd_rtt, 1e6, 0), fmt(sd_long, 1e6, 0)])
        for label, v in (("guest TCP, gaps < 10 µs", b2b_g), ("tap, gaps < 10 µs", b2b_tap),
                         ("guest TCP, gaps < 120 µs", ref_g), ("tap, gaps < 120 µs", ref_tap)):
            if v is not None:
                series.setdefault(label, []).append((busy, v))
    return cols, rows, ("busy background VMs", "fraction of ACK inter-arrival gaps", series, None)


def rx_delay(store, rid):
    """p50 / p90 of the tap -> guest socket delay that rxdelay.py wrote into the run's
    directory (rxdelay.txt), or a dash."""
    path = store.vantage_path(rid, "tap")
    f = os.path.join(os.path.dirname(path or ""), "rxdelay.txt")
    try:
        with open(f) as fh:
            for line in fh:
                w = line.split()
                if w and w[0] == "sock-queue" and len(w) >= 5:
                    return f"{w[3]} / {w[4]}"
    except OSError:
        pass
    return "—"


def vsnoop(store, name):
    cols = ["VMs on the core", "ping RTT median (ms)", "ping RTT p99 (ms)",
            "transfers p10 (Mbit/s)", "median (Mbit/s)", "p90 (Mbit/s)",
            "tap → guest socket p50 / p90 (ms above min)"]
    rows, series = [], {}
    rtt = {}
    for rid, meta in store.analysis_runs(name, "delay"):
        vms = int(num(meta, "scenario.background_vms")) + 1
        rtt[vms] = (store.value(rid, "guest.user", "rtt", "median_ns", "load", "rtt"),
                    store.value(rid, "guest.user", "rtt", "p99_ns", "load", "rtt"))
    runs = store.analysis_runs(name, "tcp")
    runs.sort(key=lambda r: num(r[1], "scenario.background_vms"))
    for rid, meta in runs:
        vms = int(num(meta, "scenario.background_vms")) + 1
        p = {s: store.value(rid, "", "transfer_throughput", f"{s}_bps") for s in ("p10", "p50", "p90")}
        med, p99 = rtt.get(vms, (None, None))
        rows.append([str(vms), fmt(med, 1e6, 3), fmt(p99, 1e6, 3), fmt(p["p10"], 1e6, 1),
                     fmt(p["p50"], 1e6, 1), fmt(p["p90"], 1e6, 1), rx_delay(store, rid)])
        if p["p50"] is not None:
            series.setdefault("median transfer throughput (Mbit/s)", []).append((vms, p["p50"] / 1e6))
        if med is not None:
            series.setdefault("ping RTT median (ms)", []).append((vms, med / 1e6))
    return cols, rows, ("VMs sharing one core (1 = the measurement VM alone)",
                        "Mbit/s, ms", series, None)


def oi(store, name):
    cols = ["MTU", "message", "GRO", "neighbour VMs", "Mbit/s",
            "aggregation rate (tap packets per packet at the guest's TCP)",
            "segments per packet (gso_segs)"]
    rows, series, ticks = [], {}, []
    runs = store.analysis_runs(name, "tcp")
    runs.sort(key=lambda r: (r[1].get("scenario.gro", "on"), num(r[1], "scenario.mtu")))
    for rid, meta in runs:
        mtu, msg = meta.get("scenario.mtu", "?"), meta.get("scenario.message_size", "?")
        gro = meta.get("scenario.gro", "on")
        bps = store.value(rid, "tap", "throughput", "mean_bps", direction=XFER)
        agg = store.value(rid, "guest.tcp", "aggregation", "rate", direction=XFER)
        segs = store.value(rid, "guest.tcp", "aggregation", "segs_per_pkt", direction=XFER)
        rows.append([mtu, msg, gro, meta.get("scenario.background_vms", "?"), fmt(bps, 1e6, 0),
                     fmt(agg, 1, 2), fmt(segs, 1, 2)])
        if segs is not None:
            series.setdefault(f"GRO {gro}, message {msg}", []).append((num(meta, "scenario.mtu"), segs))
    return cols, rows, ("MTU (bytes)", "segments per packet at the guest's TCP", series, None)


def oi_msgsize(store, name):
    cols = ["MTU", "message", "Mbit/s"]
    rows, series = [], {}
    runs = store.analysis_runs(name, "tcp")
    size = {}
    for rid, meta in runs:
        msg = meta.get("scenario.message_size", "?")
        b = msg.upper().rstrip("B")
        mult = {"K": 1 << 10, "M": 1 << 20}.get(b[-1:], 1)
        size[rid] = int(b.rstrip("KM") or 0) * mult
    runs.sort(key=lambda r: (num(r[1], "scenario.mtu"), size[r[0]]))
    for rid, meta in runs:
        mtu = meta.get("scenario.mtu", "?")
        bps = store.value(rid, "", "transfer_throughput", "p50_bps")
        rows.append([mtu, meta.get("scenario.message_size", "?"), fmt(bps, 1e6, 0)])
        if bps is not None and size[rid] > 0:
            series.setdefault(f"MTU {mtu}", []).append((math.log2(size[rid]), bps / 1e6))
    return cols, rows, ("log2 of the message size (bytes)", "throughput (Mbit/s)", series, None)


# First match wins: oi-msgsize before oi.
PAPERS = [("whiteaker", whiteaker), ("dantas", dantas), ("rajasekaran", rajasekaran),
          ("vsnoop", vsnoop), ("oi-msgsize", oi_msgsize), ("oi", oi)]


# --- a small SVG line chart -------------------------------------------------------------------

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]


def esc(t):
    return str(t).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg_chart(title, xlabel, ylabel, series, ticks):
    w, h, left, right, top, bottom = 640, 400, 70, 20, 40, 110
    pts = [p for s in series.values() for p in s]
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    y1 = max(ys) * 1.1 if max(ys) > 0 else 1
    pw, ph = w - left - right, h - top - bottom

    def X(x):
        return left + (x - x0) / (x1 - x0) * pw

    def Y(y):
        return top + ph - y / y1 * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">{esc(title)}</text>',
           f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="black"/>']
    for k in range(6):
        y = y1 * k / 5
        out.append(f'<text x="{left - 5}" y="{Y(y) + 4:.1f}" text-anchor="end">{y:.3g}</text>')
        out.append(f'<line x1="{left}" y1="{Y(y):.1f}" x2="{left + pw}" y2="{Y(y):.1f}" '
                   'stroke="#ddd"/>')
    xticks = sorted(set(xs))
    for x in xticks:
        lab = ticks[int(x)] if ticks and 0 <= int(x) < len(ticks) else f"{x:g}"
        out.append(f'<text x="{X(x):.1f}" y="{top + ph + 16}" text-anchor="middle">{esc(lab)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 34}" text-anchor="middle">{esc(xlabel)}</text>')
    out.append(f'<text x="15" y="{top + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 15 {top + ph / 2})">{esc(ylabel)}</text>')
    for i, (name, s) in enumerate(series.items()):
        c = COLOURS[i % len(COLOURS)]
        s = sorted(s)
        path = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in s)
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, y in s:
            out.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3" fill="{c}"/>')
        ly = top + ph + 52 + 14 * (i // 2)
        lx = left + (i % 2) * pw / 2
        out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 20}" y2="{ly - 4}" stroke="{c}" '
                   'stroke-width="2"/>')
        out.append(f'<text x="{lx + 25}" y="{ly}">{esc(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def markdown(cols, rows):
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def paper_summary(name):
    """The summary function of the paper whose scenario NAME is, or None."""
    return next((f for prefix, f in PAPERS if name.startswith(prefix)), None)


def main(argv):
    opts = {"--db": None, "--scenario": None, "--svg": None, "--md": None, "--seconds": None,
            "--page": None, "--block": None}
    if len(argv) == 2 and argv[0] == "--has":
        return 0 if paper_summary(argv[1]) else 1
    it = iter(argv)
    for a in it:
        if a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return 0
        if a not in opts:
            return usage(f"unknown option '{a}'")
        v = next(it, None)
        if v is None:
            return usage(f"{a} needs a value")
        opts[a] = v
    if not opts["--db"] or not opts["--scenario"]:
        return usage("--db and --scenario are required")
    if not os.path.exists(opts["--db"]):
        sys.stderr.write(f"summary.py: {opts['--db']}: no such store\n")
        return 1
    name = opts["--scenario"]
    fn = paper_summary(name)
    if fn is None:
        sys.stderr.write(f"summary.py: no summary for scenario '{name}' "
                         f"(known: {', '.join(p for p, _ in PAPERS)})\n")
        return 1
    try:
        cols, rows, (xl, yl, series, ticks) = fn(Store(opts["--db"]), name)
    except sqlite3.Error as e:
        sys.stderr.write(f"summary.py: {opts['--db']}: {e}\n")
        return 1
    if not rows:
        sys.stderr.write(f"summary.py: {opts['--db']}: no analysis run of scenario '{name}'\n")
        return 1
    table = markdown(cols, rows)
    sys.stdout.write(table)
    text = table
    if opts["--seconds"]:
        text = f"Scenario `{name}`: {len(rows)} run(s) in {opts['--seconds']} s.\n\n" + table
    svg = svg_chart(name, xl, yl, series, ticks) if opts["--svg"] else None
    for path, content in ((opts["--svg"], svg), (opts["--md"], text)):
        if path and content:
            try:
                with open(path, "w") as f:
                    f.write(content)
            except OSError as e:
                sys.stderr.write(f"summary.py: cannot write {path}: {e.strerror}\n")
                return 1
    if opts["--page"]:
        return replace_block(opts["--page"], opts["--block"] or name, text, opts["--svg"])
    return 0


def replace_block(page, name, text, svg):
    """Puts text (and a link to svg, relative to the page) between the page's markers."""
    begin, end = f"<!-- results {name} -->", f"<!-- /results {name} -->"
    try:
        with open(page) as f:
            doc = f.read()
    except OSError as e:
        sys.stderr.write(f"summary.py: {page}: {e.strerror}\n")
        return 1
    a, b = doc.find(begin), doc.find(end)
    if a < 0 or b < a:
        sys.stderr.write(f"summary.py: {page}: no '{begin}' ... '{end}' block\n")
        return 1
    if svg:
        rel = os.path.relpath(svg, os.path.dirname(os.path.abspath(page)))
        text += f"\n![{name}]({rel})\n"
    doc = doc[:a + len(begin)] + "\n" + text + doc[b:]
    tmp = page + ".tmp"
    with open(tmp, "w") as f:
        f.write(doc)
    os.replace(tmp, page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
