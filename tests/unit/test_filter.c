/* Unit tests: pcap-filter expressions over traces (lib/input/filter.c). On the shared real
 * captures the packets that pass must be the ones tcpdump -r FILE EXPR prints (when tcpdump is
 * installed), whatever the format: pcap, pcapng, ERF; a bad expression is an error quoting it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <unistd.h>

#include "realdata.h"
#include "vmdelay/input/filter.h"

/* Packets of path that pass expr, by our reader and filter; -1 on an error. */
static long count_ours(const char *path, const char *expr)
{
	struct vd_filter *f;
	struct vd_trace *tr;
	struct vd_err err;
	assert_int_equal(vd_filter_new(expr, &f, &err), 0);
	if (vd_trace_open(path, &tr, &err) < 0)
		fail_msg("%s", err.msg);
	struct vd_pkt pkt;
	long n = 0;
	int r;
	while ((r = vd_trace_next(tr, &pkt, &err)) == 1) {
		int m = vd_filter_match(f, &pkt, &err);
		if (m < 0) {
			n = -1;
			break;
		}
		n += m;
	}
	vd_trace_close(tr);
	vd_filter_free(f);
	return n;
}

/* How many packets tcpdump keeps (written with -w and counted with libpcap: its text output
 * may take several lines a packet), or -1 when tcpdump is not installed or cannot read the file
 * (Debian's libpcap has no ERF reader: formats_agree covers ERF). */
static long count_tcpdump(const char *path, const char *expr)
{
	char out[] = "/tmp/vd-test-filter.XXXXXX", cmd[2048], eb[PCAP_ERRBUF_SIZE];
	int fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "tcpdump -r '%s' -w '%s' '%s' >/dev/null 2>&1", path, out, expr);
	long n = -1;
	pcap_t *p;
	if (system(cmd) == 0 && (p = pcap_open_offline(out, eb))) {
		struct pcap_pkthdr *h;
		const u_char *d;
		for (n = 0; pcap_next_ex(p, &h, &d) == 1;)
			n++;
		pcap_close(p);
	}
	unlink(out);
	return n;
}

static void same_as_tcpdump(void **state)
{
	if (!realdata_dir())
		skip();
	static const char *files[] = {"100_packets.pcap", "100_packets.pcapng",
				      "100_packets.erf",  "dns_icmp.pcap",
				      "icmp6-ping.pcap",  "VlanPackets.pcap",
				      "icmp_dot1q.pcap",  "linux_dlt_sll2.pcap",
				      "sll.pcap",	  "pcapng-multi-interface.pcapng"};
	static const char *exprs[] = {"tcp",
				      "icmp",
				      "icmp6",
				      "udp port 53",
				      "ip6",
				      "vlan and icmp",
				      "tcp[tcpflags] & tcp-syn != 0",
				      "len > 100",
				      "not arp"};
	int compared = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		for (size_t j = 0; j < sizeof(exprs) / sizeof(exprs[0]); j++) {
			char path[1200];
			realdata_path(path, sizeof(path), files[i]);
			long want = count_tcpdump(path, exprs[j]);
			if (want < 0)
				continue;
			long got = count_ours(path, exprs[j]);
			if (got != want)
				fail_msg("%s '%s': %ld packets pass, tcpdump prints %ld", files[i],
					 exprs[j], got, want);
			compared++;
		}
	if (!compared)
		skip(); /* no tcpdump */
}

/* The same 100 packets in three formats: the same ones pass. */
static void formats_agree(void **state)
{
	if (!realdata_dir())
		skip();
	char a[1200], b[1200], c[1200];
	realdata_path(a, sizeof(a), "100_packets.pcap");
	realdata_path(b, sizeof(b), "100_packets.pcapng");
	realdata_path(c, sizeof(c), "100_packets.erf");
	long n = count_ours(a, "tcp");
	assert_true(n > 0 && n < 100);
	assert_int_equal(count_ours(b, "tcp"), n);
	assert_int_equal(count_ours(c, "tcp"), n);
}

static void bad_expression(void **state)
{
	struct vd_filter *f = (struct vd_filter *)1;
	struct vd_err err;
	assert_int_equal(vd_filter_new("tcp and and port", &f, &err), -1);
	assert_null(f);
	assert_non_null(strstr(err.msg, "tcp and and port"));
	assert_int_equal(vd_filter_new("portt 80", &f, &err), -1);
	assert_non_null(strstr(err.msg, "portt 80"));
}

/* An expression that compiles for Ethernet but not for raw IP fails on the first raw packet,
 * naming the link type, instead of passing or dropping everything silently. */
static void wrong_link_type(void **state)
{
	struct vd_filter *f;
	struct vd_err err;
	assert_int_equal(vd_filter_new("ether host 02:00:00:00:00:01", &f, &err), 0);
	uint8_t ip[20] = {0x45};
	struct vd_pkt pkt = {
	    .linktype = VD_LINK_RAW, .data = ip, .caplen = 20, .wirelen = 20, .index = 7};
	assert_int_equal(vd_filter_match(f, &pkt, &err), -1);
	assert_non_null(strstr(err.msg, "link type 101"));
	assert_non_null(strstr(err.msg, "packet 7"));
	uint8_t eth[60] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00};
	struct vd_pkt e = {.linktype = VD_LINK_ETHERNET, .data = eth, .caplen = 60, .wirelen = 60};
	assert_int_equal(vd_filter_match(f, &e, &err), 1);
	eth[5] = 3;
	assert_int_equal(vd_filter_match(f, &e, &err), 0);
	vd_filter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_as_tcpdump),
	    cmocka_unit_test(formats_agree),
	    cmocka_unit_test(bad_expression),
	    cmocka_unit_test(wrong_link_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
