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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(trace_packets_and_select),
	    cmocka_unit_test(tcpmon_records),
	    cmocka_unit_test(tping_rows),
	    cmocka_unit_test(unreadable_or_unknown),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
