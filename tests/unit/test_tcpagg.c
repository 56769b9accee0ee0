/* Unit tests: tcpmon TCP trans-rx records as delivered packets (lib/tcp/tcpagg.c) and the feed into
 * the per-flow analysis (lib/tcp/tcpan.c): only trans-rx TCP records, in time order across CPUs,
 * at their TSC-converted times, with the gso_segs and payload written; tcpan counts the wire
 * segments; a file without TCP gives none; detection by content (vd_format_detect_file).
 * The files are written by lib/tcmrec's writer (tests/golden/tcm_synth.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "../golden/tcm_synth.h"
#include "vmdelay/record.h"
#include "vmdelay/input/format.h"
#include "vmdelay/input/tcmrec.h"
#include "vmdelay/tcp/tcpagg.h"
#include "vmdelay/tcp/tcpan.h"

static const uint16_t segs[] = {0, 2, 4, 8, 5, 6, 4, 1, 3};
#define NPKTS ((int)(sizeof(segs) / sizeof(segs[0])))

/* The format detector's answer for path: 1 a tcpmon record file, 0 anything else, -1 unreadable. */
static int is_tcpmon(const char *path)
{
	enum vd_format f;
	struct vd_err err;
	if (vd_format_detect_file(path, &f, &err) < 0)
		return -1;
	return f == VD_FORMAT_TCPMON;
}

static void delivered(void **state)
{
	(void)state;
	assert_int_equal(tcm_synth_write_tcp(testutil_tmp("a.bin"), segs, NPKTS), 0);
	assert_int_equal(is_tcpmon(testutil_tmp("a.bin")), 1);
	struct vd_tcpagg *a;
	struct vd_err err;
	assert_int_equal(vd_tcpagg_open(testutil_tmp("a.bin"), &a, &err), 0);
	assert_int_equal(vd_tcpagg_records(a), (size_t)NPKTS * 7);
	assert_int_equal(vd_tcpagg_delivered(a), NPKTS);
	struct vd_tcpan_opts o = {.bin_ns = 10000,
				  .max_bins = 100,
				  .ref_ns = 120000,
				  .min_run = 2,
				  .xc_factor = 2,
				  .interval = 1000000000,
				  .max_flows = 16};
	struct vd_tcpan *an = vd_tcpan_create(&o);
	assert_non_null(an);
	uint32_t seq = TCM_SYNTH_TCP_ISN + 1;
	uint64_t wire = 0;
	vd_ns ts;
	struct vd_decoded d;
	for (int i = 0; i < NPKTS; i++) {
		assert_int_equal(vd_tcpagg_next(a, &ts, &d), 1);
		/* packet i, though the file holds CPU 0's records first */
		assert_int_equal(ts, tcm_synth_tcp_time(i, TCPMON_L_TRANS_RX));
		assert_int_equal(d.l4, VD_L4_TCP);
		assert_int_equal(d.sport, TCM_SYNTH_TCP_SPORT);
		assert_int_equal(d.dport, TCM_SYNTH_TCP_DPORT);
		assert_int_equal(d.src.bytes[3], 1);
		assert_int_equal(d.dst.bytes[3], 2);
		assert_int_equal(d.tcp_seq, seq);
		assert_int_equal(d.gso_segs, segs[i]);
		uint32_t n = segs[i] > 1 ? segs[i] : 1;
		assert_int_equal(d.tcp_payload_len, n * TCM_SYNTH_TCP_MSS);
		seq += n * TCM_SYNTH_TCP_MSS;
		wire += n;
		assert_int_equal(vd_tcpan_add(an, 0, ts, &d), 0);
	}
	assert_int_equal(vd_tcpagg_next(a, &ts, &d), 0);
	vd_tcpan_finish(an);
	assert_int_equal(vd_tcpan_flow_count(an), 1);
	struct vd_tcpan_flow *f = vd_tcpan_flow(an, 0);
	const struct vd_tcpan_dir *s = &f->d[vd_tcpan_data_dir(f)];
	assert_int_equal(s->data_pkts, NPKTS);
	assert_int_equal(s->wire_segs, wire);
	assert_int_equal(s->max_segs, 8);
	assert_int_equal(s->retrans, 0);
	vd_tcpan_destroy(an);
	vd_tcpagg_close(a);
}

static void no_tcp(void **state)
{
	(void)state;
	struct tcm_synth_opts o = {.nprobes = 4};
	assert_int_equal(tcm_synth_write(testutil_tmp("icmp.tcm"), &o, NULL), 0);
	struct vd_tcpagg *a;
	struct vd_err err;
	assert_int_equal(vd_tcpagg_open(testutil_tmp("icmp.tcm"), &a, &err), 0);
	/* its one TCP record is at dev-rx: nothing was delivered */
	assert_true(vd_tcpagg_records(a) > 0);
	assert_int_equal(vd_tcpagg_delivered(a), 0);
	vd_ns ts;
	struct vd_decoded d;
	assert_int_equal(vd_tcpagg_next(a, &ts, &d), 0);
	vd_tcpagg_close(a);
}

static void detection(void **state)
{
	(void)state;
	static const unsigned char pcap[] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
	assert_int_equal(vd_tcmrec_is((const unsigned char *)TCPMON_FILE_MAGIC, 8), 1);
	assert_int_equal(vd_tcmrec_is((const unsigned char *)TCPMON_FILE_MAGIC, 7), 0);
	assert_int_equal(vd_tcmrec_is(pcap, sizeof(pcap)), 0);
	FILE *f = fopen(testutil_tmp("x.tcm"), "wb");
	assert_non_null(f);
	fwrite(pcap, 1, sizeof(pcap), f);
	fclose(f);
	assert_int_equal(is_tcpmon(testutil_tmp("x.tcm")), 0); /* named .tcm, but not one */
	assert_int_equal(is_tcpmon(testutil_tmp("missing")), -1);
	/* damaged: the error names the file */
	assert_int_equal(tcm_synth_write_tcp(testutil_tmp("d.tcm"), segs, NPKTS), 0);
	assert_int_equal(truncate(testutil_tmp("d.tcm"), 300), 0);
	struct vd_tcpagg *a;
	struct vd_err err;
	assert_int_equal(vd_tcpagg_open(testutil_tmp("d.tcm"), &a, &err), -1);
	assert_non_null(strstr(err.msg, "d.tcm"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(delivered),
	    cmocka_unit_test(no_tcp),
	    cmocka_unit_test(detection),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
