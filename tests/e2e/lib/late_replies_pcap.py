#!/usr/bin/env python3
"""Writes one vantage point's ICMP echo capture (classic pcap, nanosecond times, Ethernet / IPv4
/ ICMP) whose replies do not all come promptly, for tests/e2e/analyze_stream.sh:

  late_replies_pcap.py OUT PROBES HOSTS GAP_US LATE_EVERY LATE_MS LOST_EVERY

PROBES requests of HOSTS hosts (10.0.H.1 to 10.200.0.2) in round robin, GAP_US apart; replies
after 100 us to 3 ms (fixed seed: they overtake one another); every LATE_EVERY-th reply
LATE_MS later instead; every LOST_EVERY-th request never answered (0: none)."""
import random
import struct
import sys


def frame(host, seq, reply):
    ident = 100 + host % 16
    a = bytes([10, 0, host & 0xFF, 1])
    b = bytes([10, 200, 0, 2])
    src, dst = (b, a) if reply else (a, b)
    icmp = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq & 0xFFFF) + bytes(56)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1, 0, src, dst)
    eth = bytes([2, 0, 0, 0, 0, 2 if reply else 1, 2, 0, 0, 0, 0, 1 if reply else 2]) + b"\x08\x00"
    return eth + ip + icmp


def main():
    out, probes, hosts, gap_us, late_every, late_ms, lost_every = sys.argv[1:8]
    probes, hosts, late_every, lost_every = int(probes), int(hosts), int(late_every), int(lost_every)
    gap, late = int(float(gap_us) * 1000), int(float(late_ms) * 1000000)
    rnd = random.Random(7)
    t0 = 1700000000 * 10**9
    seqs = [0] * hosts
    events = []
    for p in range(probes):
        host = p % hosts
        seq = seqs[host]
        seqs[host] += 1
        t = t0 + p * gap
        events.append((t, p, 0, host, seq))
        if lost_every and p % lost_every == lost_every - 1:
            continue
        rtt = 100000 + rnd.randrange(2900) * 1000
        if late_every and p % late_every == late_every - 1:
            rtt += late
        events.append((t + rtt, p, 1, host, seq))
    events.sort()
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
        for t, _, reply, host, seq in events:
            data = frame(host, seq, reply)
            f.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(data), len(data)))
            f.write(data)


main()
