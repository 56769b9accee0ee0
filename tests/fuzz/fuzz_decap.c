/* fuzz_decap.c — libFuzzer harness for the tunnel decoder (lib/input/decap.c through vd_decode).
 * The first byte picks an outer wrapping built with correct lengths around the rest of the input
 * (UDP to 4789 / 8472 / 6081 / 2152, GRE, IP protocol 4 / 41, over IPv4 or IPv6), so that
 * mutations land in the tunnel headers instead of dying in the outer ones; the second byte
 * picks the decode options and how much shorter the capture is than the original length.
 * Checks what the decoder promises: a result of 0 or -1, bad set only on -1 for damaged
 * tunnels, at most VD_DECAP_MAX_DEPTH layers, an L4 offset inside the capture, a TCP payload
 * within the frame. Frames are held in buffers of exactly their size. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/decode.h"

static size_t outer(uint8_t *b, int kind, size_t n)
{
	static const uint16_t ports[] = {4789, 8472, 6081, 2152};
	static const uint8_t protos[] = {17, 17, 17, 17, 47, 4, 41};
	int v6 = kind & 8;
	uint8_t proto = protos[(kind & 7) % 7];
	size_t udp = proto == 17 ? 8 : 0, l4 = udp + n, o = 14;
	memset(b, 0, 14 + 40 + 8);
	b[12] = v6 ? 0x86 : 0x08;
	b[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		b[o] = 0x60;
		b[o + 4] = (uint8_t)(l4 >> 8);
		b[o + 5] = (uint8_t)l4;
		b[o + 6] = proto;
		b[o + 7] = 64;
		o += 40;
	} else {
		b[o] = 0x45;
		b[o + 2] = (uint8_t)((20 + l4) >> 8);
		b[o + 3] = (uint8_t)(20 + l4);
		b[o + 8] = 64;
		b[o + 9] = proto;
		o += 20;
	}
	if (udp) {
		uint16_t port = ports[(kind & 7) % 4];
		b[o + 2] = (uint8_t)(port >> 8);
		b[o + 3] = (uint8_t)port;
		b[o + 4] = (uint8_t)(l4 >> 8);
		b[o + 5] = (uint8_t)l4;
		o += 8;
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 60000)
		return 0;
	int kind = data[0], mode = data[1];
	data += 2;
	size -= 2;
	uint8_t hdr[14 + 40 + 8];
	size_t h = kind & 0x80 ? 0 : outer(hdr, kind, size); /* bit 7: the input is the frame */
	size_t n = h + size;
	uint8_t *frame = malloc(n ? n : 1);
	if (!frame)
		return 0;
	memcpy(frame, hdr, h);
	memcpy(frame + h, data, size);
	uint32_t shorter = (uint32_t)(mode >> 3) * 7; /* snapped captures */
	uint32_t caplen = (uint32_t)n > shorter ? (uint32_t)n - shorter : 0;
	struct vd_pkt pkt = {
	    .linktype = VD_LINK_ETHERNET, .data = frame, .caplen = caplen, .wirelen = (uint32_t)n};
	struct vd_decode_opts o = {.outer = mode & 1};
	if (mode & 2) {
		o.tunnel.on = 1;
		o.tunnel.what = 1 + (mode >> 2) % 4;
		o.tunnel.id = 42;
	}
	struct vd_decoded d;
	struct vd_err err;
	int rc = vd_decode_with(&pkt, &o, &d, &err);
	if (rc != 0 && rc != -1)
		abort();
	if (d.bad >= VD_BAD_TUNNEL && rc != -1)
		abort();
	if (d.nencap < 0 || d.nencap > VD_DECAP_MAX_DEPTH || (o.outer && d.nencap))
		abort();
	if (rc == 0 && d.l4 != VD_L4_OTHER && d.l4_offset >= caplen)
		abort();
	if (rc == 0 && d.l4 == VD_L4_TCP && d.tcp_payload_len > n)
		abort();
	free(frame);
	return 0;
}
