/* frames.h — frames built byte by byte for the decoder's unit tests (test_decode.c,
 * test_decap.c): Ethernet, IPv4, IPv6, ICMP echo, TCP, and every prefix of a frame decoded in a
 * buffer of exactly that size (ASan sees any read past the end). Include after cmocka.h. */
#ifndef VMDELAY_TEST_FRAMES_H
#define VMDELAY_TEST_FRAMES_H

#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/decode.h"

struct frame {
	uint8_t b[512];
	uint32_t n;
};

static inline void put(struct frame *f, const void *p, size_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += (uint32_t)n;
}

static inline void put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static inline void put16(struct frame *f, uint16_t v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static inline void put32(struct frame *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static inline void eth(struct frame *f, uint16_t type)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	put(f, macs, 12);
	put16(f, type);
}

/* IPv4 header with `opt` bytes of options; total length covers l4len bytes after it. */
static inline void ipv4(struct frame *f, uint8_t proto, uint16_t l4len, int opt, uint16_t frag)
{
	put8(f, 0x45 + opt / 4);
	put8(f, 0);
	put16(f, (uint16_t)(20 + opt + l4len));
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, 0x0a000001);
	put32(f, 0x0a000002);
	for (int i = 0; i < opt; i++)
		put8(f, 1); /* NOP */
}

static inline void ipv6(struct frame *f, uint8_t nh, uint16_t plen)
{
	put32(f, 0x60000000);
	put16(f, plen);
	put8(f, nh);
	put8(f, 63);
	for (int i = 0; i < 16; i++)
		put8(f, i == 0 ? 0xfd : i == 15 ? 1 : 0);
	for (int i = 0; i < 16; i++)
		put8(f, i == 0 ? 0xfd : i == 15 ? 2 : 0);
}

static inline void echo(struct frame *f, uint8_t type, uint16_t id, uint16_t seq, int payload)
{
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put16(f, id);
	put16(f, seq);
	for (int i = 0; i < payload; i++)
		put8(f, (uint8_t)i);
}

static inline void tcp(struct frame *f, int opt, int payload)
{
	put16(f, 40000);
	put16(f, 80);
	put32(f, 0x01020304);
	put32(f, 0xa0b0c0d0);
	put8(f, (uint8_t)((5 + opt / 4) << 4));
	put8(f, 0x18); /* PSH ACK */
	put16(f, 29200);
	put32(f, 0);
	for (int i = 0; i < opt + payload; i++)
		put8(f, 1);
}

static inline int dec(const struct frame *f, int linktype, uint32_t caplen, struct vd_decoded *d)
{
	struct vd_pkt pkt = {.linktype = linktype, .data = f->b, .caplen = caplen, .wirelen = f->n};
	struct vd_err err;
	return vd_decode(&pkt, d, &err);
}

/* Every prefix of the frame in a heap buffer of exactly its size: no crash, no read past it. */
static inline void cut_everywhere(const struct frame *f, int linktype)
{
	for (uint32_t len = 0; len <= f->n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, f->b, len);
		struct vd_pkt pkt = {
		    .linktype = linktype, .data = copy, .caplen = len, .wirelen = f->n};
		struct vd_decoded d;
		struct vd_err err;
		int rc = vd_decode(&pkt, &d, &err);
		assert_true(rc == 0 || rc == -1);
		if (rc == 0 && len < f->n && d.l4 != VD_L4_OTHER)
			assert_int_equal(d.l4_truncated, 0);
		free(copy);
	}
}

#endif
