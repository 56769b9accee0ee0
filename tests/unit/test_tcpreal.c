/* Unit test on a real capture: the ACK inter-arrival times vmdelay computes for the
 * server's pure ACKs of suricata-verify_mime-stream-depth_input.pcap (SMTP upload, server port
 * 2525) equal, to the microsecond, the differences of those ACKs' timestamps read here with
 * libpcap and parsed by hand — what tshark's tcp.time_delta gives on the ACK-only stream.
 * The capture is read from $VMDELAY_SHARED/testdata/real, never copied into the project. */
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/tcp/tcpan.h"
#include "vmdelay/input/trace.h"

#define SERVER_PORT 2525
#define MAX_GAP_US 5000000 /* the capture lasts 3.2 s */

static char path[1024];

static int setup(void **state)
{
	const char *shared = getenv("VMDELAY_SHARED");
	snprintf(path, sizeof(path),
		 "%s/testdata/real/suricata-verify_mime-stream-depth_input.pcap",
		 shared ? shared : "../shared");
	if (access(path, R_OK)) {
		/* run from the checkout without the environment: try the default layout */
		snprintf(path, sizeof(path),
			 "/work/shared/testdata/real/suricata-verify_mime-stream-depth_input.pcap");
	}
	return 0;
}

/* The reference: Ethernet / IPv4 / TCP parsed by hand from libpcap's records; a pure ACK is a
 * segment from the server with flags exactly ACK and no payload (IP total length minus the IP
 * and TCP headers). Returns the number of ACKs; fills ts_us. */
static size_t reference_acks(int64_t *ts_us, size_t max)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, eb);
	assert_non_null(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t n = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (h->caplen < 14 + 20 || d[12] != 0x08 || d[13] != 0x00)
			continue;
		const u_char *ip = d + 14;
		unsigned ihl = (ip[0] & 0x0f) * 4u;
		if (ip[9] != 6 || h->caplen < 14 + ihl + 20)
			continue;
		unsigned tot = (unsigned)ip[2] << 8 | ip[3];
		const u_char *tcp = ip + ihl;
		unsigned sport = (unsigned)tcp[0] << 8 | tcp[1];
		unsigned doff = (tcp[12] >> 4) * 4u;
		if (sport != SERVER_PORT || tcp[13] != 0x10 || tot != ihl + doff)
			continue;
		assert_true(n < max);
		ts_us[n++] = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
	}
	pcap_close(p);
	return n;
}

static void ack_gaps_equal_reference(void **state)
{
	static int64_t ts[4096];
	size_t n = reference_acks(ts, 4096);
	/* 1226 segments from port 2525 have flags ACK only and no payload (tcpdump agrees). */
	assert_int_equal(n, 1226);

	/* vmdelay's path: trace reader, decoder, flow analysis; 1 µs bins. */
	struct vd_tcpan_opts o = {.bin_ns = 1000,
				  .max_bins = MAX_GAP_US,
				  .ref_ns = 120000,
				  .min_run = 2,
				  .interval = 1000000000,
				  .max_flows = 16};
	struct vd_tcpan *an = vd_tcpan_create(&o);
	assert_non_null(an);
	struct vd_trace *tr;
	struct vd_err err;
	assert_int_equal(vd_trace_open(path, &tr, &err), 0);
	struct vd_pkt pkt;
	int rc;
	while ((rc = vd_trace_next(tr, &pkt, &err)) == 1) {
		struct vd_decoded dec;
		if (vd_decode(&pkt, &dec, &err) == 0 && dec.l4 == VD_L4_TCP)
			assert_int_equal(vd_tcpan_add(an, 0, pkt.ts, &dec), 0);
	}
	assert_int_equal(rc, 0);
	vd_trace_close(tr);
	assert_int_equal(vd_tcpan_flow_count(an), 1);
	struct vd_tcpan_flow *f = vd_tcpan_flow(an, 0);
	int server = f->key.port[0] == SERVER_PORT ? 0 : 1;
	assert_int_equal(vd_tcpan_data_dir(f), !server);
	struct vd_ackhist_stats st;
	vd_tcpan_ackgaps(an, &f->d[server], &st);
	assert_int_equal(f->d[server].pure.acks, n);
	assert_int_equal(st.gaps, n - 1);
	assert_int_equal(st.overflow + st.negative, 0);

	/* Same multiset of gaps to the µs: the 1 µs histograms match bin for bin. */
	uint32_t *want = calloc(MAX_GAP_US, sizeof(*want));
	assert_non_null(want);
	int64_t sum = 0, below = 0;
	for (size_t i = 1; i < n; i++) {
		int64_t g = ts[i] - ts[i - 1];
		assert_true(g >= 0 && g < MAX_GAP_US);
		want[g]++;
		sum += g;
		below += g < 120;
	}
	int64_t got_sum = 0;
	for (size_t b = 0; b < MAX_GAP_US; b++) {
		uint64_t got = vd_linhist_bin(st.h, b);
		if (got != want[b])
			fail_msg("gap %zu us: vmdelay %llu, reference %u", b,
				 (unsigned long long)got, want[b]);
		got_sum += (int64_t)got * (int64_t)b;
	}
	assert_int_equal(got_sum, sum);
	assert_int_equal(st.below_ref, below);
	free(want);
	vd_tcpan_destroy(an);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(ack_gaps_equal_reference, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
