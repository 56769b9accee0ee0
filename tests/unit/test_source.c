/* Unit tests: every input behind one pull iterator (lib/input/source.c) — packets of a trace in
 * file order with #SELECT applied, tcpmon records, tping rows, and what a consumer refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../golden/tcm_synth.h"
#include "realdata.h"
#include "testutil.h"
#include "vmdelay/input/source.h"
#include "vmdelay/input/trace.h"

/* Items of arg (NAME=PATH#SELECT) read through the source: count, kinds seen, last index. */
struct tally {
	size_t n, kind[3];
	uint64_t last_index, records;
	uint32_t ifaces; /* bit per packet interface seen */
	enum vd_format format;
};

static int read_all(const char *arg, unsigned want, struct tally *t, struct vd_err *err)
{
	struct vd_vantage_spec spec;
	memset(t, 0, sizeof(*t));
	if (vd_vantage_spec_parse(arg, &spec, err) < 0)
		return -1;
	struct vd_source *s;
	int rc = vd_source_open(&spec, want, &s, err);
	if (rc == 0) {
		struct vd_item it;
		while ((rc = vd_source_next(s, &it, err)) > 0) {
			t->n++;
			t->kind[it.kind]++;
			assert_true(it.index > t->last_index); /* file order */
			t->last_index = it.index;
			if (it.kind == VD_ITEM_PACKET)
				t->ifaces |= 1u << (it.pkt.iface & 31);
		}
		t->records = vd_source_records(s);
		t->format = vd_source_format(s);
		vd_source_close(s);
	}
	vd_vantage_spec_free(&spec);
	return rc;
}

/* pcapng-multi-interface.pcapng: interface 0 "eth0" has 2 packets, interface 1 has 4. */
static void trace_packets_and_select(void **state)
{
	if (!realdata_dir())
		skip();
	char p[1024], arg[1100];
	realdata_path(p, sizeof(p), "pcapng-multi-interface.pcapng");
	struct tally t;
	struct vd_err err;
	assert_int_equal(read_all(p, VD_SOURCE_ANY, &t, &err), 0);
	assert_int_equal(t.n, 6);
	assert_int_equal(t.kind[VD_ITEM_PACKET], 6);
	assert_int_equal(t.ifaces, 3);
	assert_int_equal(t.format, VD_FORMAT_PCAPNG);
	static const struct {
		const char *select;
		size_t n;
		uint32_t ifaces;
	} cases[] = {{"1", 4, 2}, {"if1", 4, 2}, {"eth0", 2, 1},
		     {"0", 2, 1}, {"*", 6, 3},	 {"7", 0, 0}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(arg, sizeof(arg), "x=%s#%s", p, cases[i].select);
		assert_int_equal(read_all(arg, VD_SOURCE_PACKETS, &t, &err), 0);
		assert_int_equal(t.n, cases[i].n);
		assert_int_equal(t.ifaces, cases[i].ifaces);
		assert_int_equal(t.records, 6); /* every packet read, kept or not */
	}
}

static void tcpmon_records(void **state)
{
	const char *path = testutil_tmp("guest.bin");
	struct tcm_synth_opts o = {.nprobes = 5};
	assert_int_equal(tcm_synth_write(path, &o, NULL), 0);
	struct tally t;
	struct vd_err err;
	char arg[300];
	snprintf(arg, sizeof(arg), "%s", path);
	assert_int_equal(read_all(arg, VD_SOURCE_ANY, &t, &err), 0);
	assert_int_equal(t.format, VD_FORMAT_TCPMON);
	assert_true(t.n > 0);
	assert_int_equal(t.kind[VD_ITEM_TCPMON], t.n);
	assert_int_equal(t.records, t.n);
	/* a consumer of packets only: the trace readers' message */
	assert_int_equal(read_all(arg, VD_SOURCE_PACKETS, &t, &err), -1);
	assert_non_null(strstr(err.msg, "not a pcap, pcapng or ERF file"));
}

static void tping_rows(void **state)
{
	const char *path = testutil_tmp("run.csv");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("seq,phase,status,user_tx_ns,user_rx_ns\n1,load,ok,10,20\n2,load,lost,30,\n"
	      "3,load,ok,x,40\n",
	      f);
	fclose(f);
	struct tally t;
	struct vd_err err;
	char arg[300];
	snprintf(arg, sizeof(arg), "%s", path);
	/* two good rows, then the damaged one named by its line */
	assert_int_equal(read_all(arg, VD_SOURCE_ANY, &t, &err), -1);
	assert_non_null(strstr(err.msg, "run.csv: line 4: bad value 'x' in column user_tx_ns"));
	f = fopen(path, "w");
	fputs("seq,phase,status,user_tx_ns,user_rx_ns\n1,load,ok,10,20\n2,load,lost,30,\n", f);
	fclose(f);
	assert_int_equal(read_all(arg, VD_SOURCE_ANY, &t, &err), 0);
	assert_int_equal(t.kind[VD_ITEM_PROBE], 2);
	assert_int_equal(t.format, VD_FORMAT_TPING_CSV);
	assert_int_equal(read_all(arg, VD_SOURCE_PACKETS, &t, &err), -1);
	assert_non_null(strstr(err.msg, "run.csv: not a pcap, pcapng or ERF file"));
}

static void unreadable_or_unknown(void **state)
{
	struct tally t;
	struct vd_err err;
	char arg[300];
	snprintf(arg, sizeof(arg), "%s", testutil_tmp("missing.pcap"));
	assert_int_equal(read_all(arg, VD_SOURCE_ANY, &t, &err), -1);
	assert_non_null(strstr(err.msg, "missing.pcap"));
	FILE *f = fopen(testutil_tmp("notes.txt"), "w");
	fputs("hello\n", f);
	fclose(f);
	snprintf(arg, sizeof(arg), "%s", testutil_tmp("notes.txt"));
	assert_int_equal(read_all(arg, VD_SOURCE_ANY, &t, &err), -1);
	assert_non_null(strstr(err.msg, "notes.txt: not a pcap, pcapng or ERF file"));
}

/* v in the file's byte order, n bytes */
static void put_ord(FILE *f, uint32_t v, int n, int big)
{
	for (int k = 0; k < n; k++)
		fputc((int)(uint8_t)(big ? v >> (8 * (n - 1 - k)) : v >> (8 * k)), f);
}

/* A classic pcap of n records (random sizes, some near the reader's 256 KiB window; byte order
 * big or little, ns or µs) at path; the records' file offsets in offs[0..n] (offs[n]: the end). */
static void write_pcap(const char *path, int n, int big, int nano, long *offs)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	put_ord(f, nano ? 0xa1b23c4d : 0xa1b2c3d4, 4, big);
	put_ord(f, 2, 2, big);
	put_ord(f, 4, 2, big);
	put_ord(f, 0, 4, big);
	put_ord(f, 0, 4, big);
	put_ord(f, 262144, 4, big);
	put_ord(f, 1, 4, big);
	static uint8_t data[202000];
	for (size_t k = 0; k < sizeof(data); k++)
		data[k] = (uint8_t)(k * 7 + 3);
	for (int i = 0; i < n; i++) {
		offs[i] = ftell(f);
		uint32_t caplen = rand() % 50 ? (uint32_t)rand() % 1600 : (uint32_t)rand() % 200000;
		put_ord(f, (uint32_t)(1700000000 + i), 4, big);
		put_ord(f, (uint32_t)rand() % (nano ? 1000000000 : 1000000), 4, big);
		put_ord(f, caplen, 4, big);
		put_ord(f, caplen + (uint32_t)rand() % 3, 4, big);
		fwrite(data + i % 1000, 1, caplen, f);
	}
	offs[n] = ftell(f);
	fclose(f);
}

/* Every packet of path through the source (which reads classic pcap in batches) and through
 * vd_trace_next one at a time, side by side: the same packets, and the same end: 0, or -1 with
 * the same message. Returns that end. */
static int same_both_ways(const char *path, int *npkts)
{
	char arg[300];
	snprintf(arg, sizeof(arg), "%s", path);
	struct vd_vantage_spec spec;
	struct vd_err e1, e2;
	assert_int_equal(vd_vantage_spec_parse(arg, &spec, &e1), 0);
	struct vd_source *s;
	struct vd_trace *tr;
	assert_int_equal(vd_source_open(&spec, VD_SOURCE_PACKETS, &s, &e1), 0);
	assert_int_equal(vd_trace_open(path, &tr, &e2), 0);
	struct vd_item it;
	struct vd_pkt p;
	int r1, r2;
	*npkts = 0;
	while ((r1 = vd_source_next(s, &it, &e1)) > 0) {
		assert_int_equal(vd_trace_next(tr, &p, &e2), 1);
		assert_int_equal(it.kind, VD_ITEM_PACKET);
		assert_int_equal(it.index, p.index);
		assert_true(it.pkt.ts == p.ts);
		assert_int_equal(it.pkt.iface, p.iface);
		assert_int_equal(it.pkt.linktype, p.linktype);
		assert_int_equal(it.pkt.caplen, p.caplen);
		assert_int_equal(it.pkt.wirelen, p.wirelen);
		assert_int_equal(it.pkt.index, p.index);
		assert_int_equal(it.pkt.offset, p.offset);
		assert_memory_equal(it.pkt.data, p.data, p.caplen);
		(*npkts)++;
	}
	r2 = vd_trace_next(tr, &p, &e2);
	assert_int_equal(r1, r2);
	if (r1 < 0)
		assert_string_equal(e1.msg, e2.msg);
	assert_int_equal(vd_source_records(s), (uint64_t)*npkts);
	vd_source_close(s);
	vd_trace_close(tr);
	vd_vantage_spec_free(&spec);
	return r1;
}

/* A classic pcap read in batches hands out what reading one packet at a time does, in both byte
 * orders and resolutions, and a file cut short or damaged anywhere ends the same way: the
 * packets before the damage, then the same message. */
static void batched_pcap_as_one_by_one(void **state)
{
	(void)state;
	srand(11);
	enum { N = 3000 };
	static long offs[N + 1];
	const char *path = testutil_tmp("batch.pcap");
	char cut[300];
	snprintf(cut, sizeof(cut), "%s", testutil_tmp("cut.pcap"));
	for (int v = 0; v < 4; v++) {
		int big = v & 1, nano = v >> 1, n;
		write_pcap(path, N, big, nano, offs);
		assert_int_equal(same_both_ways(path, &n), 0);
		assert_int_equal(n, N);
		FILE *f = fopen(path, "rb");
		static uint8_t whole[N * 6000];
		size_t size = fread(whole, 1, sizeof(whole), f);
		fclose(f);
		assert_int_equal(size, (size_t)offs[N]);
		for (int k = 0; k < 24; k++) {
			int rec = rand() % N;
			/* cut inside record rec's header or data; or damage its capture length or
			 * its time fraction */
			size_t len = size;
			uint8_t saved[16];
			memcpy(saved, whole + offs[rec], 16);
			int how = k % 4;
			if (how == 0)
				len = (size_t)offs[rec] + 1 + (size_t)rand() % 15;
			else if (how == 1)
				len = (size_t)offs[rec] + 16 +
				      (size_t)rand() % (offs[rec + 1] - offs[rec] - 15);
			else /* a capture length past the maximum, a fraction of a whole second */
				for (int b = 0; b < 4; b++)
					whole[offs[rec] + (how == 2 ? 8 : 4) + b] =
					    (uint8_t)((how == 2 ? 262145u
						       : nano	? 1000000000u
								: 1000000u) >>
						      (big ? 24 - 8 * b : 8 * b));
			if (how == 1 && len == (size_t)offs[rec + 1])
				len--; /* inside the record, not at its end */
			f = fopen(cut, "wb");
			fwrite(whole, 1, len, f);
			fclose(f);
			memcpy(whole + offs[rec], saved, 16);
			assert_int_equal(same_both_ways(cut, &n), -1);
			assert_int_equal(n, rec);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(trace_packets_and_select),
	    cmocka_unit_test(tcpmon_records),
	    cmocka_unit_test(tping_rows),
	    cmocka_unit_test(unreadable_or_unknown),
	    cmocka_unit_test(batched_pcap_as_one_by_one),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
