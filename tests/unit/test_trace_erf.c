/* Unit tests: the ERF reader — the 32.32 fixed-point timestamp converted exactly (values from
 * expected/fragtest.erf.txt's raw records), records built in memory (ETH with an extension
 * header chain, raw IPv4 / IPv6, padding past wlen, ports, META and PAD skipped), detection
 * without a magic number, and damaged records naming the file and the offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tracerun.h"
#include "input/erf.h"
#include "vmdelay/input/trace.h"

static void timestamps_convert_exactly(void **state)
{
	/* fragtest.erf frames 3384, 4021, 6817, 8192: tshark's epochs (nearest ns). */
	assert_int_equal(vd_erf_ts_to_ns(0x4b4d0d0131b5d500ULL), 1263340801194180787LL);
	assert_int_equal(vd_erf_ts_to_ns(0x4b4d0d013a49ed00ULL), 1263340801227690518LL);
	assert_int_equal(vd_erf_ts_to_ns(0x4b4d0d0166c29500ULL), 1263340801401406586LL);
	assert_int_equal(vd_erf_ts_to_ns(0x4b4d0d017af3be00ULL), 1263340801480281711LL);
	assert_int_equal(vd_erf_ts_to_ns(0x0000000180000000ULL), 1500000000LL); /* exactly 1.5 s */
	assert_int_equal(vd_erf_ts_to_ns(0x0000000000000001ULL), 0);		/* 0.23 ns */
	assert_int_equal(vd_erf_ts_to_ns(0x0000000000000003ULL), 1);		/* 0.70 ns */
	assert_int_equal(vd_erf_ts_to_ns(0x00000001ffffffffULL), 2000000000LL); /* rounds up */
	assert_int_equal(vd_erf_ts_to_ns(0xffffffffffffffffULL), 4294967296000000000LL);
}

struct img {
	uint8_t b[4096];
	size_t n;
};

static void put(struct img *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* One record: header, `next` extension headers, 2 pad bytes for Ethernet types, data, padding
 * up to rlen (a multiple of 8). */
static size_t rec(struct img *m, uint64_t ts, uint8_t type, uint8_t flags, int next,
		  const void *data, uint16_t len, uint16_t wlen)
{
	size_t at = m->n;
	int eth = (type & 0x7f) == 2 || (type & 0x7f) == 11;
	size_t rlen = (16 + 8 * (size_t)next + (eth ? 2 : 0) + len + 7) & ~(size_t)7;
	uint8_t h[16];
	for (int i = 0; i < 8; i++)
		h[i] = (uint8_t)(ts >> (8 * i));
	h[8] = (uint8_t)(type | (next ? 0x80 : 0));
	h[9] = flags;
	h[10] = (uint8_t)(rlen >> 8);
	h[11] = (uint8_t)rlen;
	h[12] = h[13] = 0;
	h[14] = (uint8_t)(wlen >> 8);
	h[15] = (uint8_t)wlen;
	put(m, h, 16);
	for (int i = 0; i < next; i++) {
		uint8_t e[8] = {(uint8_t)(4 | (i + 1 < next ? 0x80 : 0)), 1, 2, 3, 4, 5, 6, 7};
		put(m, e, 8);
	}
	if (eth)
		put(m, "\0\0", 2);
	put(m, data, len);
	while (m->n < at + rlen)
		put(m, "\xee", 1);
	return at;
}

static void run(struct img *m, const char *format, struct tracerun *r)
{
	tracerun(m->b, m->n, "mem.erf", format, "erf", r);
}

static void records_of_every_kind(void **state)
{
	struct img m = {.n = 0};
	rec(&m, 0x0000000580000000ULL, 2, 0, 2, "ethernet", 8, 8); /* 2 extension headers */
	rec(&m, 0x0000000600000000ULL, 27, 0, 0, "meta", 4, 0);	   /* META: skipped */
	rec(&m, 0x0000000700000000ULL, 22, 1, 0, "ipv4", 4, 4);	   /* port 1 */
	rec(&m, 0x0000000800000000ULL, 48, 0, 0, "pad", 3, 0);	   /* PAD: skipped */
	rec(&m, 0x0000000900000000ULL, 23, 2, 0, "ipv6", 4, 4);	   /* port 2 */
	rec(&m, 0x0000000a00000000ULL, 2, 3, 0, "snapped!123456", 14, 1500); /* snapped */
	rec(&m, 0x0000000b00000000ULL, 11, 0, 0, "colorethXX", 10, 8);	     /* padding past wlen */
	struct tracerun r;
	run(&m, NULL, &r); /* detected without a magic number */
	assert_int_equal(r.open_rc, 0);
	if (r.rc != 0)
		fail_msg("%s", r.msg);
	assert_int_equal(r.n, 5);
	assert_int_equal(r.skipped, 2);
	assert_int_equal(r.nifs, 4);
	const char *data[5] = {"ethernet", "ipv4", "ipv6", "snapped!123456", "coloreth"};
	const int lt[5] = {VD_LINK_ETHERNET, VD_LINK_IPV4, VD_LINK_IPV6, VD_LINK_ETHERNET,
			   VD_LINK_ETHERNET};
	const uint32_t port[5] = {0, 1, 2, 3, 0};
	const vd_ns ts[5] = {5500000000LL, 7000000000LL, 9000000000LL, 10000000000LL,
			     11000000000LL};
	const size_t at[5] = {0, 72, 120, 144, 176};
	for (int i = 0; i < 5; i++) {
		assert_string_equal(r.data[i], data[i]);
		assert_int_equal(r.pkt[i].linktype, lt[i]);
		assert_int_equal(r.pkt[i].iface, port[i]);
		assert_int_equal(r.pkt[i].ts, ts[i]);
		assert_int_equal(r.pkt[i].offset, at[i]);
		assert_int_equal(r.pkt[i].index, i + 1);
	}
	assert_int_equal(r.pkt[3].wirelen, 1500);
	assert_int_equal(r.pkt[3].caplen, 14);
}

static void expect_damage(struct img *m, int before, const char *says, size_t at)
{
	struct tracerun r;
	run(m, "erf", &r);
	assert_int_equal(r.open_rc, 0);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.n, before);
	char off[64];
	snprintf(off, sizeof(off), "mem.erf: offset %zu:", at);
	if (!strstr(r.msg, off) || !strstr(r.msg, says))
		fail_msg("want '%s' and '%s' in: %s", off, says, r.msg);
}

static void damaged_records_name_file_and_offset(void **state)
{
	struct img m = {.n = 0};
	size_t at;
	rec(&m, 1ULL << 32, 2, 0, 0, "good", 4, 4);
	size_t good = m.n;

	at = rec(&m, 2ULL << 32, 2, 0, 0, "bad", 3, 3); /* rlen below the header */
	m.b[at + 10] = 0;
	m.b[at + 11] = 8;
	expect_damage(&m, 1, "ERF record length 8 below", at);

	m.n = good; /* rlen past the end of the file */
	at = rec(&m, 2ULL << 32, 2, 0, 0, "bad", 3, 3);
	m.b[at + 10] = 0xff;
	expect_damage(&m, 1, "runs past the end of the file", at);

	m.n = good; /* unknown record type */
	at = rec(&m, 2ULL << 32, 60, 0, 0, "bad", 3, 3);
	expect_damage(&m, 1, "unknown ERF record type 60", at);

	m.n = good; /* extension header chain that never ends */
	at = rec(&m, 2ULL << 32, 22, 0, 1, "bad", 3, 3);
	m.b[at + 16] |= 0x80;
	m.b[at + 24] |= 0x80;
	expect_damage(&m, 1, "extension headers run past", at);

	m.n = good; /* Ethernet record without room for its 2 pad bytes */
	at = rec(&m, 2ULL << 32, 22, 0, 0, "", 0, 0);
	m.b[at + 8] = 2;
	expect_damage(&m, 1, "too short", at);

	m.n = good; /* variable-length record with more than alignment padding past wlen */
	at = rec(&m, 2ULL << 32, 22, 0x04, 0, "abcdefghijklmnop", 16, 4);
	expect_damage(&m, 1, "holds 12 bytes past its wire length 4", at);

	m.n = good; /* file ends inside a record header */
	put(&m, "\1\2\3\4\5", 5);
	expect_damage(&m, 1, "cut short", good);
}

static void detection_is_by_content(void **state)
{
	/* Not a capture at all, whatever it is called. */
	uint8_t text[64];
	memset(text, 'x', sizeof(text));
	FILE *f = fmemopen(text, sizeof(text), "rb");
	struct vd_trace *tr;
	struct vd_err err;
	assert_int_equal(vd_trace_open_file(f, "trace.erf", NULL, &tr, &err), -1);
	assert_non_null(strstr(err.msg, "trace.erf: not a pcap, pcapng or ERF file"));
	/* An empty file. */
	f = fmemopen(text, 0, "rb");
	if (f) {
		assert_int_equal(vd_trace_open_file(f, "empty.erf", NULL, &tr, &err), -1);
		assert_non_null(strstr(err.msg, "empty.erf: empty file"));
	}
	/* A missing one. */
	assert_int_equal(vd_trace_open("/nonexistent/x.pcap", &tr, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/x.pcap: No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(timestamps_convert_exactly),
	    cmocka_unit_test(records_of_every_kind),
	    cmocka_unit_test(damaged_records_name_file_and_offset),
	    cmocka_unit_test(detection_is_by_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
