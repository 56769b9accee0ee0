/* Unit tests: the pcapng block reader on files built in memory in both byte orders — several
 * sections, interfaces renumbered file-wide, if_tsresol in 10^-n and 2^-n, if_tsoffset, EPB, OPB,
 * SPB, skipped blocks — exact timestamp conversion, and every kind of damaged block giving an
 * error that names the file and the byte offset of the block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tracerun.h"
#include "input/pcapng.h"
#include "vmdelay/input/trace.h"

struct img {
	uint8_t b[8192];
	size_t n;
	int big;
	size_t block; /* start of the open block */
};

static void put(struct img *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void put16(struct img *m, uint16_t v)
{
	uint8_t b[2] = {m->big ? v >> 8 : v & 0xff, m->big ? v & 0xff : v >> 8};
	put(m, b, 2);
}

static void put32(struct img *m, uint32_t v)
{
	if (m->big) {
		put16(m, v >> 16);
		put16(m, v & 0xffff);
	} else {
		put16(m, v & 0xffff);
		put16(m, v >> 16);
	}
}

static void put64(struct img *m, uint64_t v)
{
	if (m->big) {
		put32(m, v >> 32);
		put32(m, (uint32_t)v);
	} else {
		put32(m, (uint32_t)v);
		put32(m, v >> 32);
	}
}

static void pad4(struct img *m)
{
	while (m->n % 4)
		put(m, "", 1);
}

static void begin(struct img *m, uint32_t type)
{
	m->block = m->n;
	put32(m, type);
	put32(m, 0); /* patched by end() */
}

static void end(struct img *m)
{
	uint32_t len = (uint32_t)(m->n + 4 - m->block);
	size_t at = m->n;
	m->n = m->block + 4;
	put32(m, len);
	m->n = at;
	put32(m, len);
}

static void opt(struct img *m, uint16_t code, const void *v, uint16_t len)
{
	put16(m, code);
	put16(m, len);
	put(m, v, len);
	pad4(m);
}

static void shb(struct img *m, int big)
{
	m->big = big;
	begin(m, 0x0a0d0d0a);
	put32(m, 0x1a2b3c4d);
	put16(m, 1);
	put16(m, 0);
	put64(m, UINT64_MAX);
	opt(m, 4, "test", 4); /* shb_userappl */
	put32(m, 0);	      /* opt_endofopt */
	end(m);
}

static void idb(struct img *m, uint16_t linktype, const char *name, int tsresol, int64_t tsoffset)
{
	begin(m, 1);
	put16(m, linktype);
	put16(m, 0);
	put32(m, 0);
	if (name)
		opt(m, 2, name, (uint16_t)strlen(name));
	if (tsresol >= 0) {
		uint8_t r = (uint8_t)tsresol;
		opt(m, 9, &r, 1);
	}
	if (tsoffset) {
		struct img t = {.big = m->big};
		put64(&t, (uint64_t)tsoffset);
		opt(m, 14, t.b, 8);
	}
	put32(m, 0);
	end(m);
}

static void epb(struct img *m, uint32_t iface, uint64_t ts, const char *data)
{
	uint32_t n = (uint32_t)strlen(data);
	begin(m, 6);
	put32(m, iface);
	put32(m, ts >> 32);
	put32(m, (uint32_t)ts);
	put32(m, n);
	put32(m, n + 10);
	put(m, data, n);
	pad4(m);
	opt(m, 1, "comment", 7);
	put32(m, 0);
	end(m);
}

static void skipped_block(struct img *m, uint32_t type)
{
	begin(m, type);
	put32(m, 0xdeadbeef);
	end(m);
}

/* Opens the image; returns the packets read before the end or the error. */
static void run(struct img *m, struct tracerun *r)
{
	tracerun(m->b, m->n, "mem.pcapng", NULL, "pcapng", r);
}

static void timestamps_convert_exactly(void **state)
{
	vd_ns t;
	assert_int_equal(vd_pcapng_ts_to_ns(1700000000123456ULL, 6, 0, &t), 0); /* default µs */
	assert_int_equal(t, 1700000000123456000LL);
	assert_int_equal(vd_pcapng_ts_to_ns(1700000000123456789ULL, 9, 0, &t), 0);
	assert_int_equal(t, 1700000000123456789LL);
	assert_int_equal(vd_pcapng_ts_to_ns(17, 0, 0, &t), 0); /* seconds */
	assert_int_equal(t, 17000000000LL);
	/* Picoseconds: rounded to the nearest ns, ties up. */
	assert_int_equal(vd_pcapng_ts_to_ns(1500, 12, 0, &t), 0);
	assert_int_equal(t, 2);
	assert_int_equal(vd_pcapng_ts_to_ns(1499, 12, 0, &t), 0);
	assert_int_equal(t, 1);
	/* 2^-20 s: 3 s + 1/1048576 s = 3 s + 953.674... ns. */
	assert_int_equal(vd_pcapng_ts_to_ns((3ULL << 20) | 1, 0x80 | 20, 0, &t), 0);
	assert_int_equal(t, 3000000954LL);
	/* 2^-32 s, like ERF: 0x80000000 is exactly half a second. */
	assert_int_equal(vd_pcapng_ts_to_ns((5ULL << 32) | 0x80000000u, 0x80 | 32, 0, &t), 0);
	assert_int_equal(t, 5500000000LL);
	/* if_tsoffset is in seconds, added exactly. */
	assert_int_equal(vd_pcapng_ts_to_ns(250, 3, 1700000000, &t), 0);
	assert_int_equal(t, 1700000000250000000LL);
	assert_int_equal(vd_pcapng_ts_to_ns(0, 6, -5, &t), 0);
	assert_int_equal(t, -5000000000LL);
	/* A count that does not fit unsigned is read as a signed (pre-1970) one. */
	assert_int_equal(vd_pcapng_ts_to_ns(UINT64_MAX, 6, 0, &t), 0);
	assert_int_equal(t, -1000);
	assert_int_equal(vd_pcapng_ts_to_ns(UINT64_MAX - 1, 0x80 | 1, 0, &t), 0); /* -1 s */
	assert_int_equal(t, -1000000000LL);
	/* Unsupported resolution, or out of range either way. */
	assert_int_equal(vd_pcapng_ts_to_ns(1, 39, 0, &t), -1);
	assert_int_equal(vd_pcapng_ts_to_ns(1ULL << 62, 0, 0, &t), -1);
	assert_int_equal(vd_pcapng_ts_to_ns(1, 9, INT64_MAX / 2, &t), -1);
}

static void sections_interfaces_and_packet_blocks(void **state)
{
	for (int big = 0; big <= 1; big++) {
		struct img m = {.n = 0};
		shb(&m, big);
		idb(&m, 1, "eth0", 9, 0);
		idb(&m, 113, NULL, 0x80 | 10, 1000); /* 2^-10 s, +1000 s */
		skipped_block(&m, 4);		     /* NRB */
		epb(&m, 1, 1024 * 5 + 512, "one");   /* 5.5 s + 1000 s */
		epb(&m, 0, 1700000000000000001ULL, "two");
		skipped_block(&m, 5);	       /* ISB */
		skipped_block(&m, 0x40000bad); /* custom */
		/* Obsolete Packet Block: 16-bit interface id and drops count. */
		begin(&m, 2);
		put16(&m, 0);
		put16(&m, 0);
		put32(&m, 0);
		put32(&m, 7);
		put32(&m, 5);
		put32(&m, 5);
		put(&m, "three", 5);
		pad4(&m);
		end(&m);
		/* Simple Packet Block: no interface id (the first), no time. */
		begin(&m, 3);
		put32(&m, 4);
		put(&m, "four", 4);
		end(&m);
		shb(&m, !big); /* the next section in the other byte order */
		idb(&m, 101, "raw", -1, 0);
		epb(&m, 0, 2000000, "five");
		struct tracerun r;
		run(&m, &r);
		assert_int_equal(r.open_rc, 0);
		if (r.rc != 0)
			fail_msg("%s", r.msg);
		assert_int_equal(r.n, 5);
		assert_int_equal(r.nifs, 3);
		assert_string_equal(r.names[0], "eth0");
		assert_string_equal(r.names[1], "-");
		assert_string_equal(r.names[2], "raw");
		const char *data[5] = {"one", "two", "three", "four", "five"};
		const uint32_t iface[5] = {1, 0, 0, 0, 2};
		const int lt[5] = {113, 1, 1, 1, 101};
		const vd_ns ts[5] = {1005500000000LL, 1700000000000000001LL, 7, /* eth0 counts ns */
				     VD_NS_NONE, 2000000000LL};
		for (int i = 0; i < 5; i++) {
			assert_string_equal(r.data[i], data[i]);
			assert_int_equal(r.pkt[i].iface, iface[i]);
			assert_int_equal(r.pkt[i].linktype, lt[i]);
			assert_int_equal(r.pkt[i].ts, ts[i]);
			assert_int_equal(r.pkt[i].index, i + 1);
		}
		assert_int_equal(r.pkt[0].wirelen, 13);
		assert_int_equal(r.pkt[3].wirelen, 4);
	}
}

/* Builds a good file, damages it with `how`, and checks the error names the file and `at`. */
static void expect_damage(struct img *m, int packets_before, const char *says, size_t at)
{
	struct tracerun r;
	run(m, &r);
	assert_true(r.open_rc < 0 || r.rc < 0);
	assert_int_equal(r.n, packets_before);
	char off[64];
	snprintf(off, sizeof(off), "offset %zu:", at);
	if (!strstr(r.msg, "mem.pcapng") || !strstr(r.msg, off) || !strstr(r.msg, says))
		fail_msg("want '%s' and '%s' in: %s", off, says, r.msg);
}

static void base(struct img *m, int big)
{
	memset(m, 0, sizeof(*m));
	shb(m, big);
	idb(m, 1, "eth0", 6, 0);
	epb(m, 0, 1, "good");
}

static void damaged_blocks_name_file_and_offset(void **state)
{
	for (int big = 0; big <= 1; big++) {
		struct img m;
		size_t at;

		base(&m, big); /* trailing length differs */
		at = m.n;
		epb(&m, 0, 2, "bad");
		m.b[m.n - (big ? 1 : 4)] ^= 4;
		expect_damage(&m, 1, "at the start but", at);

		base(&m, big); /* total length not a multiple of 4 */
		at = m.n;
		epb(&m, 0, 2, "bad");
		m.b[at + (big ? 7 : 4)] += 1;
		expect_damage(&m, 1, "bad block total length", at);

		base(&m, big); /* total length below 12 */
		at = m.n;
		begin(&m, 6);
		put32(&m, 0);
		m.b[at + (big ? 7 : 4)] = 8;
		m.b[at + (big ? 6 : 5)] = 0;
		expect_damage(&m, 1, "bad block total length 8", at);

		base(&m, big); /* block runs past the end of the file */
		at = m.n;
		epb(&m, 0, 2, "cut");
		m.n -= 8;
		expect_damage(&m, 1, "runs past the end of the file", at);

		base(&m, big); /* captured length larger than the block */
		at = m.n;
		begin(&m, 6);
		put32(&m, 0);
		put64(&m, 0);
		put32(&m, 400);
		put32(&m, 400);
		put(&m, "tiny", 4);
		end(&m);
		expect_damage(&m, 1, "captured length 400 runs past the block", at);

		base(&m, big); /* option length past the block */
		at = m.n;
		begin(&m, 6);
		put32(&m, 0);
		put64(&m, 0);
		put32(&m, 4);
		put32(&m, 4);
		put(&m, "data", 4);
		put16(&m, 1);
		put16(&m, 12336);
		put32(&m, 0);
		end(&m);
		expect_damage(&m, 1, "option of length 12336 runs past the block", at + 8 + 24);

		base(&m, big); /* interface not described in this section */
		at = m.n;
		epb(&m, 3, 0, "who");
		expect_damage(&m, 1, "interface 3", at);

		base(&m, big); /* packet block too short */
		at = m.n;
		begin(&m, 6);
		put32(&m, 0);
		end(&m);
		expect_damage(&m, 1, "too short", at);

		base(&m, big); /* a second SHB with a bad byte-order magic */
		at = m.n;
		shb(&m, big);
		m.b[at + 8] ^= 0xff;
		expect_damage(&m, 1, "byte-order magic", at + 8);

		base(&m, big); /* unsupported if_tsresol */
		at = m.n;
		idb(&m, 1, NULL, 77, 0);
		expect_damage(&m, 1, "if_tsresol", at);

		memset(&m, 0, sizeof(m)); /* version 2.0 refused at open */
		shb(&m, big);
		m.b[big ? 13 : 12] = 2;
		expect_damage(&m, 0, "unsupported pcapng version 2.0", 0);

		base(&m, big); /* file ends inside a block header */
		at = m.n;
		put32(&m, 6);
		expect_damage(&m, 1, "cut short", at);
	}
}

static void forced_format_needs_a_section_header(void **state)
{
	uint8_t junk[32] = {6, 0, 0, 0, 32, 0, 0, 0};
	FILE *f = fmemopen(junk, sizeof(junk), "rb");
	struct vd_trace *tr;
	struct vd_err err;
	assert_int_equal(vd_trace_open_file(f, "junk", "pcapng", &tr, &err), -1);
	assert_non_null(
	    strstr(err.msg, "junk: offset 0: first block is not a Section Header Block"));
	f = fmemopen(junk, sizeof(junk), "rb");
	assert_int_equal(vd_trace_open_file(f, "junk", "nope", &tr, &err), -1);
	assert_non_null(strstr(err.msg, "unknown trace format"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(timestamps_convert_exactly),
	    cmocka_unit_test(sections_interfaces_and_packet_blocks),
	    cmocka_unit_test(damaged_blocks_name_file_and_offset),
	    cmocka_unit_test(forced_format_needs_a_section_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
