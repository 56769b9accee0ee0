#!/usr/bin/env python3
"""gen_tunnels.py DIR — writes crafted captures (nanosecond pcap, Ethernet) for the decapsulation
tests: ICMP echo pairs and a TCP transfer (data one way, pure ACKs back) inside every tunnel
vmdelay decodes, bogus IP lengths, and damaged tunnels. Deterministic (fixed seed).

Each good file holds 5 IPv4 echo pairs, 3 IPv6 echo pairs (where the tunnel can carry an Ethernet
frame or IPv6) and one TCP flow of 30 data segments acknowledged every 2 segments; the requests
and replies, data and ACKs are spaced irregularly so that RTTs and ACK gaps differ."""
import os
import random
import struct
import sys

T0 = 1_700_000_000_000_000_000


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(payload, etype=0x0800, vlan=None):
    h = bytes.fromhex("020000000002020000000001")
    if vlan is not None:
        h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", etype) + payload


def ip4(src, dst, proto, payload, total=None, ident=1):
    tl = 20 + len(payload) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tl, ident, 0, 64, proto, 0, bytes(src), bytes(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ip6(src, dst, nh, payload, plen=None):
    pl = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 0x60000000, pl, nh, 64, bytes(src), bytes(dst)) + payload


def udp(sport, dport, payload, length=None):
    ln = 8 + len(payload) if length is None else length
    return struct.pack("!HHHH", sport, dport, ln, 0) + payload


def icmp_echo(v6, reply, ident, seq, n=32):
    t = (129 if reply else 128) if v6 else (0 if reply else 8)
    body = struct.pack("!HH", ident, seq) + bytes(range(n))
    c = 0 if v6 else csum(struct.pack("!BBH", t, 0, 0) + body)
    return struct.pack("!BBH", t, 0, c) + body


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 512, 0, 0) + payload


A4, B4 = [10, 1, 0, 1], [10, 1, 0, 2]
A6 = [0xFD] + [0] * 14 + [1]
B6 = [0xFD] + [0] * 14 + [2]
O4S, O4D = [192, 0, 2, 1], [192, 0, 2, 2]
O6S = [0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [1]
O6D = [0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [2]


def inner_ip(v6, l4proto, payload, fwd):
    if v6:
        return ip6(A6 if fwd else B6, B6 if fwd else A6, l4proto, payload)
    return ip4(A4 if fwd else B4, B4 if fwd else A4, l4proto, payload)


# ---- tunnels: each takes the inner IP packet (and its family) and returns the whole frame ----

def outer4(proto, payload):
    return eth(ip4(O4S, O4D, proto, payload))


def outer6(nh, payload):
    return eth(ip6(O6S, O6D, nh, payload), 0x86DD)


def vxlan(vni, port=4789, vlan=None):
    def w(pkt, v6):
        inner = eth(pkt, 0x86DD if v6 else 0x0800, vlan)
        return outer4(17, udp(49152 + vni, port, struct.pack("!II", 0x08000000, vni << 8) + inner))
    return w


def geneve(vni):
    def w(pkt, v6):
        opt = struct.pack("!HBB", 0x0102, 0x03, 1) + b"\xde\xad\xbe\xef"  # one 4-byte option
        hdr = struct.pack("!BBHI", len(opt) // 4, 0, 0x6558, vni << 8) + opt
        return outer4(17, udp(50000, 6081, hdr + eth(pkt, 0x86DD if v6 else 0x0800)))
    return w


def gre_hdr(proto, key=None, seq=None, cs=False):
    flags = (0x8000 if cs else 0) | (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    h = struct.pack("!HH", flags, proto)
    if cs:
        h += struct.pack("!HH", 0, 0)
    if key is not None:
        h += struct.pack("!I", key)
    if seq is not None:
        h += struct.pack("!I", seq)
    return h


def gre(key, cs=True):
    n = [0]

    def w(pkt, v6):
        n[0] += 1
        return outer4(47, gre_hdr(0x86DD if v6 else 0x0800, key, n[0], cs) + pkt)
    return w


def gre_in_gre(pkt, v6):
    mid = ip4([172, 16, 0, 1], [172, 16, 0, 2], 47, gre_hdr(0x86DD if v6 else 0x0800, key=7) + pkt)
    return outer4(47, gre_hdr(0x0800, key=1000) + mid)


def gre_teb_mpls(pkt, v6):
    inner = eth(struct.pack("!I", (16 << 12) | (1 << 8) | 64) + pkt, 0x8847)
    return outer4(47, gre_hdr(0x6558, key=9) + inner)


def erspan1(pkt, v6):
    return outer4(47, gre_hdr(0x88BE) + eth(pkt, 0x86DD if v6 else 0x0800))


def erspan2(pkt, v6):
    h = struct.pack("!HHI", 0x1000 | 10, 0x0800 | 5, 0)  # version 1, VLAN 10, session 5
    return outer4(47, gre_hdr(0x88BE, seq=1) + h + eth(pkt, 0x86DD if v6 else 0x0800))


def erspan3(pkt, v6):
    h = struct.pack("!HHIHBB", 0x2000, 9, 0x11223344, 0, 0, 0x01) + bytes(8)  # session 9, O
    return outer4(47, gre_hdr(0x22EB, seq=1) + h + eth(pkt, 0x86DD if v6 else 0x0800))


def ipip(outer_v6):
    def w(pkt, v6):
        proto = 41 if v6 else 4
        return outer6(proto, pkt) if outer_v6 else outer4(proto, pkt)
    return w


def gtpu(teid):
    def w(pkt, v6):
        ext = struct.pack("!BBBB", 1, 0, 9, 0)  # PDU session container, 4 bytes, no next
        opt = struct.pack("!HBB", 0, 0, 0x85) + ext
        hdr = struct.pack("!BBHI", 0x34, 0xFF, len(opt) + len(pkt), teid)
        return outer4(17, udp(2152, 2152, hdr + opt + pkt))
    return w


def plain(pkt, v6):
    return eth(pkt, 0x86DD if v6 else 0x0800)


# ---- traffic ----

def traffic(wrap, rng, v6_pings=True, start=0, ping_id=0x100, ports=(40000, 5001)):
    """(ts, frame) list: echo pairs in both families, then a TCP flow."""
    pkts = []
    t = T0 + start
    for fam in ([False, True] if v6_pings else [False]):
        for seq in range(1, (4 if fam else 6)):
            rtt = 80_000 + rng.randrange(0, 400_000)
            pkts.append((t, wrap(inner_ip(fam, 58 if fam else 1, icmp_echo(fam, False, ping_id, seq), True), fam)))
            pkts.append((t + rtt, wrap(inner_ip(fam, 58 if fam else 1, icmp_echo(fam, True, ping_id, seq), False), fam)))
            t += 1_000_000 + rng.randrange(0, 1000)
    # TCP: handshake, 30 segments of 1000 bytes, a pure ACK every 2 segments, FIN.
    sp, dp = ports
    iss, irs = 1000, 5000
    pkts.append((t, wrap(inner_ip(False, 6, tcp(sp, dp, iss, 0, 0x02), True), False)))
    t += 50_000
    pkts.append((t, wrap(inner_ip(False, 6, tcp(dp, sp, irs, iss + 1, 0x12), False), False)))
    t += 50_000
    pkts.append((t, wrap(inner_ip(False, 6, tcp(sp, dp, iss + 1, irs + 1, 0x10), True), False)))
    seq = iss + 1
    for i in range(30):
        t += 5_000 + rng.randrange(0, 30_000)
        pkts.append((t, wrap(inner_ip(False, 6, tcp(sp, dp, seq, irs + 1, 0x18, bytes(1000)), True), False)))
        seq += 1000
        if i % 2 == 1:
            t += 1_000 + rng.randrange(0, 60_000)
            pkts.append((t, wrap(inner_ip(False, 6, tcp(dp, sp, irs + 1, seq, 0x10), False), False)))
    t += 20_000
    pkts.append((t, wrap(inner_ip(False, 6, tcp(sp, dp, seq, irs + 1, 0x11), True), False)))
    return pkts


def write_pcap(path, pkts, wirelen=None):
    pkts = sorted(pkts, key=lambda p: p[0])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        for i, (ts, fr) in enumerate(pkts):
            wl = wirelen(i, fr) if wirelen else len(fr)
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(fr), wl) + fr)


def bogus_lengths(rng):
    """Plain Ethernet TCP: the receiver's pure ACKs claim 100 bytes more than their frames hold
    (so they would count as data, and the data sender would flip); the sender sends 3 small
    segments. Plus 2 ping pairs so that the delay analysis has something to match."""
    pkts = traffic(plain, rng, v6_pings=False)
    out = []
    for ts, fr in pkts:
        ipb = fr[14:]
        if ipb[9] == 6 and len(ipb) == 40 and ipb[12:16] == bytes(B4):  # B's pure ACKs
            tl = struct.unpack("!H", ipb[2:4])[0] + 1200
            ipb = ip4(B4, A4, 6, ipb[20:], total=tl)
            fr = fr[:14] + ipb
        elif ipb[9] == 6 and len(ipb) > 40:  # A's data segments: keep 3 of 10 bytes
            continue
        out.append((ts, fr))
    t = pkts[-1][0] + 1_000_000
    for i in range(3):
        out.append((t + i * 100_000, plain(inner_ip(False, 6, tcp(40000, 5001, 31001 + 10 * i, 5001, 0x18, bytes(10)), True), False)))
    return out


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    rng = random.Random(16)
    good = {
        "vxlan": vxlan(42),
        "vxlan_vlan": vxlan(43, vlan=100),
        "vxlan8472": vxlan(44, port=8472),
        "geneve": geneve(0x123456),
        "gre": gre(7),
        "gre_in_gre": gre_in_gre,
        "gre_teb_mpls": gre_teb_mpls,
        "erspan1": erspan1,
        "erspan2": erspan2,
        "erspan3": erspan3,
        "ipip4": ipip(False),
        "ipip6": ipip(True),
        "gtpu": gtpu(0x10),
    }
    for name, w in good.items():
        write_pcap(os.path.join(d, name + ".pcap"), traffic(w, rng))
    # Two VNIs carrying the same pings (the overlay of two tenants): --tunnel picks one.
    write_pcap(os.path.join(d, "two_vnis.pcap"),
               traffic(vxlan(42), rng) + traffic(vxlan(43), rng, start=500_000, ports=(40001, 5001)))
    write_pcap(os.path.join(d, "bogus_iplen.pcap"), bogus_lengths(rng))
    # Damaged: pings, then a VXLAN frame whose UDP length runs past its packet, then more pings.
    ok = traffic(vxlan(42), rng, v6_pings=False)[:10]
    inner = eth(inner_ip(False, 1, icmp_echo(False, False, 9, 9), True))
    bad = outer4(17, udp(50000, 4789, struct.pack("!II", 0x08000000, 42 << 8) + inner, length=4000))
    later = [(T0 + 10**10 + i, fr) for i, (_, fr) in enumerate(ok)]
    write_pcap(os.path.join(d, "bad_udp_len.pcap"), ok + [(T0 + 9 * 10**9, bad)] + later)
    # Damaged: pings, then 9 tunnels nested.
    pkt = inner_ip(False, 1, icmp_echo(False, False, 9, 9), True)
    for _ in range(9):
        pkt = ip4(O4S, O4D, 4, pkt)
    write_pcap(os.path.join(d, "too_deep.pcap"), ok + [(T0 + 9 * 10**9, eth(pkt))] + later)


if __name__ == "__main__":
    main()
