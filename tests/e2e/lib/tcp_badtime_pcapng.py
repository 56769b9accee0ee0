#!/usr/bin/env python3
"""Writes a pcapng of one TCP flow (handshake, 40 data segments each ACKed, FIN) whose packet
times are missing or extreme, for tests/e2e/tcp_timestamps.sh. Usage: MODE > FILE, MODE one of
  spb       every packet a Simple Packet Block (no time at all)
  mixed     one packet in three a Simple Packet Block, the others ordinary times
  extreme   nanosecond times jumping between 0 and 2^63 - 1
  negative  times jumping between -(2^63 - 1) and 2^63 - 1
  edge      times jumping between -(2^62 - 1) and 2^62 - 1 (the largest computable span)
"""
import struct
import sys

M64 = (1 << 64) - 1


def block(kind, body):
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", kind, total) + body + struct.pack("<I", total)


def section():
    return block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def interface(ns):
    opts = b""
    if ns:  # if_tsresol 9: nanoseconds
        opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
    return block(1, struct.pack("<HHI", 1, 0, 65535) + opts)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                     bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp


def enhanced(ts, f):
    ts &= M64
    return block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(f), len(f)) + f)


def simple(f):
    return block(3, struct.pack("<I", len(f)) + f)


def flow():
    a, b = [10, 0, 0, 1], [10, 0, 0, 2]
    out = [frame(a, b, 40000, 5001, 1000, 0, 0x02), frame(b, a, 5001, 40000, 5000, 1001, 0x12),
           frame(a, b, 40000, 5001, 1001, 5001, 0x10)]
    seq = 1001
    for _ in range(40):
        out.append(frame(a, b, 40000, 5001, seq, 5001, 0x18, b"x" * 1000))
        seq += 1000
        out.append(frame(b, a, 5001, 40000, 5001, seq, 0x10))
    out += [frame(a, b, 40000, 5001, seq, 5001, 0x11), frame(b, a, 5001, 40000, 5001, seq + 1, 0x11)]
    return out


TIMES = {
    "extreme": [0, (1 << 63) - 1, 1, (1 << 63) - 1000, 5, (1 << 63) - 2],
    "negative": [(1 << 63) - 1, -(1 << 63) + 1, 0, (1 << 63) - 5, -(1 << 63) + 7, 3],
    "edge": [(1 << 62) - 1, -(1 << 62) + 1, 0, (1 << 62) - 2, -(1 << 62) + 2, 1 << 61, -(1 << 61)],
}


def main(mode):
    frames = flow()
    out = section() + interface(mode != "spb")
    for i, f in enumerate(frames):
        if mode == "spb" or (mode == "mixed" and i % 3 == 0):
            out += simple(f)
        elif mode == "mixed":
            out += enhanced(1_700_000_000_000_000_000 + i * 1000, f)
        else:
            out += enhanced(TIMES[mode][i % len(TIMES[mode])], f)
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main(sys.argv[1])
