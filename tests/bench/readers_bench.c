/* readers_bench.c — the packet-reading benchmark behind tests/bench/readers.sh.
 *   readers_bench gen DIR N     writes the same N packets as DIR/bench.pcap, .pcapng and .erf
 *                               (Ethernet / IPv4, mostly TCP with some ICMP echo, 74 bytes kept
 *                               of up to 1514, 1 packet per 10 µs)
 *   readers_bench libpcap FILE  baseline: a bare pcap_next_ex loop
 *   readers_bench vd FILE       vd_trace_next + vd_decode
 *   readers_bench source FILE   vd_source_next + vd_decode (the analyzer's way: pcap in batches)
 * A run prints "packets seconds packets_per_second". Built by readers.sh with cc against
 * build/release/libvmdelay.a. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/input/source.h"
#include "vmdelay/input/trace.h"

#define SNAP 74

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void le32(uint8_t *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, v >> 16);
	be16(p + 2, v & 0xffff);
}

/* Packet i: its frame (SNAP bytes captured) and wire length. */
static uint32_t frame(uint64_t i, uint8_t *f)
{
	memset(f, 0, SNAP);
	memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
	int icmp = i % 50 == 0;
	uint16_t wire = icmp ? 98 : (i % 3 ? 1514 : 66);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	be16(ip + 2, (uint16_t)(wire - 14));
	be16(ip + 4, (uint16_t)i);
	ip[8] = 64;
	ip[9] = icmp ? 1 : 6;
	be32(ip + 12, 0x0a000001 + (uint32_t)(i % 7));
	be32(ip + 16, 0x0a000101);
	uint8_t *l4 = ip + 20;
	if (icmp) {
		l4[0] = i % 100 ? 0 : 8;
		be16(l4 + 4, 77);
		be16(l4 + 6, (uint16_t)(i / 100));
	} else {
		be16(l4, (uint16_t)(40000 + i % 7));
		be16(l4 + 2, 80);
		be32(l4 + 4, (uint32_t)(i * 1448));
		be32(l4 + 8, (uint32_t)(i * 7));
		l4[12] = 0x80; /* 32-byte header with options */
		l4[13] = 0x10;
		be16(l4 + 14, 502);
	}
	return wire;
}

static int gen(const char *dir, uint64_t n)
{
	char p1[1024], p2[1024], p3[1024];
	snprintf(p1, sizeof(p1), "%s/bench.pcap", dir);
	snprintf(p2, sizeof(p2), "%s/bench.pcapng", dir);
	snprintf(p3, sizeof(p3), "%s/bench.erf", dir);
	FILE *a = fopen(p1, "wb"), *b = fopen(p2, "wb"), *c = fopen(p3, "wb");
	if (!a || !b || !c) {
		perror(dir);
		return 1;
	}
	uint8_t h[64];
	/* pcap header: µs, Ethernet. */
	le32(h, 0xa1b2c3d4);
	le16(h + 4, 2);
	le16(h + 6, 4);
	le32(h + 8, 0);
	le32(h + 12, 0);
	le32(h + 16, 65535);
	le32(h + 20, 1);
	fwrite(h, 1, 24, a);
	/* pcapng SHB (28 bytes) and IDB (20 bytes, default µs). */
	static const uint8_t shb_idb[48] = {
	    0x0a, 0x0d, 0x0d, 0x0a, 28,	  0,	0,    0,    0x4d, 0x3c, 0x2b, 0x1a, 1,	0, 0, 0,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28,	  0,	0,    0,    1,	0, 0, 0,
	    20,	  0,	0,    0,    1,	  0,	0,    0,    0xff, 0xff, 0,    0,    20, 0, 0, 0};
	fwrite(shb_idb, 1, sizeof(shb_idb), b);
	uint8_t f[SNAP + 8];
	for (uint64_t i = 0; i < n; i++) {
		uint32_t wire = frame(i, f);
		uint64_t us = UINT64_C(1700000000000000) + i * 10;
		le32(h, (uint32_t)(us / 1000000));
		le32(h + 4, (uint32_t)(us % 1000000));
		le32(h + 8, SNAP);
		le32(h + 12, wire);
		fwrite(h, 1, 16, a);
		fwrite(f, 1, SNAP, a);
		uint32_t epb = 32 + ((SNAP + 3) & ~3u);
		le32(h, 6);
		le32(h + 4, epb);
		le32(h + 8, 0);
		le32(h + 12, (uint32_t)(us >> 32));
		le32(h + 16, (uint32_t)us);
		le32(h + 20, SNAP);
		le32(h + 24, wire);
		fwrite(h, 1, 28, b);
		memset(f + SNAP, 0, 8);
		fwrite(f, 1, (SNAP + 3) & ~3u, b);
		le32(h, epb);
		fwrite(h, 1, 4, b);
		/* ERF: 16-byte header, 2 pad bytes, frame, rlen a multiple of 8; a variable-length
		 * record pads only to the next 8 bytes past the frame, so a frame shorter than
		 * SNAP gets a shorter record. */
		uint64_t ts = (us / 1000000) << 32 | (((us % 1000000) << 32) / 1000000);
		uint32_t kept = wire < SNAP ? wire : SNAP;
		uint16_t rlen = (uint16_t)((16 + 2 + kept + 7) & ~7u);
		le32(h, (uint32_t)ts);
		le32(h + 4, (uint32_t)(ts >> 32));
		h[8] = 2;
		h[9] = 4; /* varying-length record, port 0 */
		be16(h + 10, rlen);
		be16(h + 12, 0);
		be16(h + 14, (uint16_t)(wire + 4));
		h[16] = h[17] = 0;
		fwrite(h, 1, 18, c);
		fwrite(f, 1, rlen - 18u, c);
	}
	return fclose(a) | fclose(b) | fclose(c);
}

static int run_libpcap(const char *file)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	double t0 = now();
	pcap_t *p = pcap_open_offline(file, ebuf);
	if (!p) {
		fprintf(stderr, "%s\n", ebuf);
		return 1;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, bytes = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		n++;
		bytes += d[13]; /* touch the data, as any reader would */
	}
	pcap_close(p);
	double s = now() - t0;
	printf("%" PRIu64 " %.3f %.0f\n", n, s, n / s);
	return bytes == 0;
}

/* via_source: through vd_source_next, as the analyzer reads (classic pcap in batches), else
 * vd_trace_next one packet at a time. */
static int run_vd(const char *file, int via_source)
{
	double t0 = now();
	struct vd_trace *tr = NULL;
	struct vd_source *src = NULL;
	struct vd_vantage_spec spec;
	struct vd_err err;
	int opened = via_source ? vd_vantage_spec_parse(file, &spec, &err) == 0 &&
				      vd_source_open(&spec, VD_SOURCE_PACKETS, &src, &err) == 0
				: vd_trace_open(file, &tr, &err) == 0;
	if (!opened) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	struct vd_item it;
	uint64_t n = 0, tcp = 0;
	int rc;
	while ((rc = src ? vd_source_next(src, &it, &err) : vd_trace_next(tr, &it.pkt, &err)) ==
	       1) {
		struct vd_decoded d;
		n++;
		if (vd_decode(&it.pkt, &d, &err) == 0 && d.l4 == VD_L4_TCP)
			tcp++;
	}
	vd_trace_close(tr);
	vd_source_close(src);
	if (src)
		vd_vantage_spec_free(&spec);
	double s = now() - t0;
	if (rc < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	printf("%" PRIu64 " %.3f %.0f\n", n, s, n / s);
	return tcp == 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2], strtoull(argv[3], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "libpcap") == 0)
		return run_libpcap(argv[2]);
	if (argc == 3 && strcmp(argv[1], "vd") == 0)
		return run_vd(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "source") == 0)
		return run_vd(argv[2], 1);
	fprintf(stderr, "usage: %s gen DIR N | libpcap FILE | vd FILE | source FILE\n", argv[0]);
	return 2;
}
