#!/usr/bin/env python3
"""tshark_oracle.py CAPTURE ANALYZE_CSV TCP_JSON [TSHARK_ARG...]

Runs tshark (the oracle; never a dependency of the tools) on CAPTURE and checks what
vmdelay-analyze found in it:
  - ANALYZE_CSV (`vmdelay-analyze --csv CAPTURE`): the ICMP / ICMPv6 echo pairs, by family, id,
    seq and frame numbers, and each RTT to 1 us;
  - TCP_JSON (`vmdelay-analyze tcp --json CAPTURE`, may be empty when the tool found no flow):
    per flow the data sender, the pure ACK count and the 10 us ACK gap histogram.
The definitions are the ones docs/methodology.md states ("Differences from tshark"): the
innermost IP header before the first ICMP / TCP header of a frame (tunnels decoded by tshark's
own dissectors), a reply paired with the earliest unmatched earlier request with the same
family, id, seq and swapped addresses, a pure ACK = ACK set, tcp.len 0, no SYN/FIN/RST, data
sender = the endpoint that sent the most bytes. IP fragments are not reassembled (vmdelay reads
each frame on its own). Prints a line per capture; exit 1 on any difference."""
import csv
import json
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal

FIELDS = ["frame.number", "frame.time_epoch", "frame.protocols", "ip.src", "ip.dst", "ipv6.src",
          "ipv6.dst", "icmp.type", "icmp.ident", "icmp.seq", "icmpv6.type",
          "icmpv6.echo.identifier", "icmpv6.echo.sequence_number", "tcp.srcport", "tcp.dstport",
          "tcp.len", "tcp.flags", "ip.frag_offset", "ipv6.fraghdr.offset"]
BIN_NS = 10_000
OVERFLOW_NS = 100_000_000


def tshark_rows(path, extra):
    cmd = ["tshark", "-n", "-r", path, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd + list(extra), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, check=False).stdout
    for line in out.splitlines():
        vals = line.split("\t")
        vals += [""] * (len(FIELDS) - len(vals))
        yield {k: v.split("|") if v else [] for k, v in zip(FIELDS, vals)}


def innermost(r):
    """(l4, family, src, dst) of the first ICMP / ICMPv6 / TCP layer and the IP header before it."""
    protos = r["frame.protocols"][0].split(":") if r["frame.protocols"] else []
    n4 = n6 = last = 0
    for p in protos:
        if p == "ip":
            n4 += 1
            last = 4
        elif p == "ipv6":
            n6 += 1
            last = 6
        elif p in ("icmp", "icmpv6", "tcp"):
            if p == "icmp" and last != 4 or p == "icmpv6" and last != 6:
                return None
            if last == 4:
                return p, "icmpv4", r["ip.src"][n4 - 1], r["ip.dst"][n4 - 1], n4 - 1
            return p, "icmpv6", r["ipv6.src"][n6 - 1], r["ipv6.dst"][n6 - 1], n6 - 1
        elif p in ("ipcomp", "esp"):
            return None
    return None


def first(r, k):
    return r[k][0] if r[k] else ""


def ns(epoch):
    return int(Decimal(epoch) * 1_000_000_000)


def later_fragment(r, fam_idx, family):
    if family == "icmpv6":  # fragment headers are not one per IPv6 header: any later one
        return any(o not in ("", "0") for o in r["ipv6.fraghdr.offset"])
    off = r["ip.frag_offset"]
    return fam_idx < len(off) and off[fam_idx] not in ("", "0")


def oracle(path, extra):
    pending = defaultdict(list)  # (family, id, seq, src, dst) -> [(frame, ns)]
    pairs = {}
    flows = {}
    for r in tshark_rows(path, extra):
        inn = innermost(r)
        if not inn:
            continue
        l4, fam, src, dst, idx = inn
        if later_fragment(r, idx, fam if l4 != "tcp" else ("icmpv6" if ":" in src else "icmpv4")):
            continue
        frame, t = int(first(r, "frame.number")), ns(first(r, "frame.time_epoch"))
        if l4 in ("icmp", "icmpv6"):
            typ = first(r, "icmp.type" if l4 == "icmp" else "icmpv6.type")
            idf = first(r, "icmp.ident" if l4 == "icmp" else "icmpv6.echo.identifier")
            sq = first(r, "icmp.seq" if l4 == "icmp" else "icmpv6.echo.sequence_number")
            if not idf or not sq:
                continue
            req = typ in ("8", "128")
            rep = typ in ("0", "129")
            if req:
                pending[(fam, int(idf, 0), int(sq, 0), src, dst)].append((frame, t))
            elif rep:
                q = pending.get((fam, int(idf, 0), int(sq, 0), dst, src))
                if q:
                    f0, t0 = q.pop(0)
                    pairs[(fam, int(idf, 0), int(sq, 0), f0, frame)] = t - t0
            continue
        sp, dp = int(first(r, "tcp.srcport")), int(first(r, "tcp.dstport"))
        a, b = (src, sp), (dst, dp)
        key = tuple(sorted([a, b]))
        fl = flows.setdefault(key, {"bytes": defaultdict(int), "acks": defaultdict(list)})
        ln = int(first(r, "tcp.len") or 0)
        flags = int(first(r, "tcp.flags"), 16)
        fl["bytes"][a] += ln
        if ln == 0 and flags & 0x10 and not flags & 0x07:
            fl["acks"][a].append(t)
    return pairs, flows


def ep_name(ep):
    addr, port = ep
    return ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, port)


def check(path, an_csv, tcp_json, extra):
    pairs, flows = oracle(path, extra)
    bad = []
    got = {}
    if an_csv:
        with open(an_csv) as f:
            for row in csv.DictReader(f):
                k = (row["family"], int(row["id"]), int(row["seq"]), int(row["req_index"]),
                     int(row["rep_index"]))
                got[k] = int(row["rtt_ns"])
    for k, rtt in pairs.items():
        if k not in got:
            bad.append("pair %s: tshark has it, vmdelay does not" % (k,))
        elif abs(got[k] - rtt) >= 1000:
            bad.append("pair %s: rtt %d ns, tshark %d ns" % (k, got[k], rtt))
    for k in got:
        if k not in pairs:
            bad.append("pair %s: vmdelay has it, tshark does not" % (k,))
    ours = {}
    if tcp_json:
        with open(tcp_json) as f:
            for line in f:
                if not line.startswith("{"):
                    continue
                o = json.loads(line)
                if o.get("type") == "flow":
                    ours[frozenset([o["data_sender"], o["data_receiver"]])] = o
    nflows = 0
    for key, fl in flows.items():
        a, b = key
        ba, bb = fl["bytes"][a], fl["bytes"][b]
        if ba == bb:  # no data, or as much each way: no sender to compare
            continue
        snd, rcv = (a, b) if ba > bb else (b, a)
        o = ours.get(frozenset([ep_name(a), ep_name(b)]))
        name = "flow %s>%s" % (ep_name(snd), ep_name(rcv))
        if not o:
            bad.append("%s: tshark has it, vmdelay does not" % name)
            continue
        nflows += 1
        if o["data_sender"] != ep_name(snd):
            bad.append("%s: vmdelay's data sender is %s" % (name, o["data_sender"]))
            continue
        acks = fl["acks"][rcv]
        ai = o["ack_interarrival"]
        if ai["acks"] != len(acks):
            bad.append("%s: %d pure ACKs, tshark %d" % (name, ai["acks"], len(acks)))
        hist, over, neg = defaultdict(int), 0, 0
        for t0, t1 in zip(acks, acks[1:]):
            g = t1 - t0
            if g < 0:
                neg += 1
            elif g >= OVERFLOW_NS:
                over += 1
            else:
                hist[g // BIN_NS * BIN_NS] += 1
        mine = {b_["lo_ns"]: b_["count"] for b_ in ai["bins"]}
        if ai["bin_ns"] != BIN_NS or mine != dict(hist) or ai["overflow"] != over or ai["negative"] != neg:
            bad.append("%s: ACK gap histogram %s (overflow %d, negative %d), tshark %s (%d, %d)" %
                       (name, sorted(mine.items())[:8], ai["overflow"], ai["negative"],
                        sorted(hist.items())[:8], over, neg))
    for m in bad[:20]:
        print("%s: %s" % (path, m))
    print("%s: %d pairs, %d flows with data compared with tshark, %d differences" %
          (path, len(pairs), nflows, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
