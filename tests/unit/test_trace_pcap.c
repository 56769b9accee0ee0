/* Unit tests: classic pcap through libpcap, on files built in memory — µs and ns magic in both
 * byte orders give exact ns times, the file's own LINKTYPE_ value (101 stays 101, not DLT_RAW),
 * a record cut short and out-of-range fractions give errors naming the file and the offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tracerun.h"
#include "vmdelay/input/trace.h"

struct img {
	uint8_t b[1024];
	size_t n;
	int big;
};

static void put32(struct img *m, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		m->b[m->n + (size_t)i] = (uint8_t)(v >> (m->big ? 24 - 8 * i : 8 * i));
	m->n += 4;
}

static void header(struct img *m, int big, int nano, uint32_t linktype)
{
	memset(m, 0, sizeof(*m));
	m->big = big;
	put32(m, nano ? 0xa1b23c4d : 0xa1b2c3d4);
	put32(m, big ? 0x00020004 : 0x00040002); /* version 2.4: two 16-bit fields, major first */
	put32(m, 0);
	put32(m, 0);
	put32(m, 65535);
	put32(m, linktype);
}

static void record(struct img *m, uint32_t sec, uint32_t frac, const char *data)
{
	uint32_t n = (uint32_t)strlen(data);
	put32(m, sec);
	put32(m, frac);
	put32(m, n);
	put32(m, n + 100);
	memcpy(m->b + m->n, data, n);
	m->n += n;
}

static void run(struct img *m, struct tracerun *r)
{
	tracerun(m->b, m->n, "mem.pcap", NULL, "pcap", r);
}

static void both_magics_both_orders(void **state)
{
	for (int big = 0; big <= 1; big++) {
		for (int nano = 0; nano <= 1; nano++) {
			struct img m;
			header(&m, big, nano, 101);
			record(&m, 1700000000, nano ? 123456789 : 123456, "first");
			record(&m, 1700000001, nano ? 999999999 : 999999, "second");
			struct tracerun r;
			run(&m, &r);
			assert_int_equal(r.open_rc, 0);
			if (r.rc != 0)
				fail_msg("%s", r.msg);
			assert_int_equal(r.n, 2);
			assert_int_equal(r.pkt[0].ts,
					 nano ? 1700000000123456789LL : 1700000000123456000LL);
			assert_int_equal(r.pkt[1].ts,
					 nano ? 1700000001999999999LL : 1700000001999999000LL);
			assert_string_equal(r.data[0], "first");
			assert_string_equal(r.data[1], "second");
			assert_int_equal(r.pkt[0].linktype, 101);
			assert_int_equal(r.pkt[0].wirelen, 105);
			assert_int_equal(r.pkt[0].offset, 24);
			assert_int_equal(r.pkt[1].offset, 24 + 16 + 5);
			assert_int_equal(r.pkt[1].index, 2);
		}
	}
}

static void errors_name_file_and_offset(void **state)
{
	for (int big = 0; big <= 1; big++) {
		struct img m;
		struct tracerun r;
		header(&m, big, 0, 1);
		record(&m, 1, 0, "good");
		record(&m, 2, 0, "cut in the middle");
		m.n -= 5;
		run(&m, &r);
		assert_int_equal(r.n, 1);
		assert_int_equal(r.rc, -1);
		assert_non_null(
		    strstr(r.msg, "mem.pcap: offset 44: packet 2: truncated dump file"));

		header(&m, big, 0, 1);
		record(&m, 1, 0, "good");
		record(&m, 2, 0x80000000u, "2^31 us");
		run(&m, &r);
		assert_int_equal(r.n, 1);
		assert_non_null(strstr(r.msg, "mem.pcap: offset 44: packet 2: timestamp fraction "
					      "2147483648 out of range for a microsecond pcap"));

		header(&m, big, 1, 1);
		record(&m, 2, 1000000000u, "1 s of ns");
		run(&m, &r);
		assert_int_equal(r.n, 0);
		assert_non_null(strstr(r.msg, "mem.pcap: offset 24: packet 1: timestamp fraction "
					      "1000000000 out of range for a nanosecond pcap"));

		header(&m, big, 0, 0x00300001);
		run(&m, &r);
		assert_int_equal(r.open_rc, -1);
		assert_non_null(strstr(
		    r.msg, "mem.pcap: offset 20: pcap link-type field has reserved bits set"));

		header(&m, big, 0, 1);
		m.n = 20; /* header cut short */
		run(&m, &r);
		assert_int_equal(r.open_rc, -1);
		assert_non_null(strstr(
		    r.msg,
		    "mem.pcap: offset 0: file cut short in the middle of the pcap file header"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(both_magics_both_orders),
	    cmocka_unit_test(errors_name_file_and_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
