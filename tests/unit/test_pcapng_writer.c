/* Unit tests: the pcapng writer (lib/out/pcapng_writer.c). What it writes reads back through our
 * pcapng reader (interfaces, ns times, data, wire lengths) and through libpcap; with tshark
 * installed, the packet comments come back as written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "vmdelay/input/trace.h"
#include "vmdelay/out/pcapng_writer.h"

#define T0 INT64_C(1700000000123456789)

static void write_sample(const char *path)
{
	struct vd_pcapng_writer *w;
	struct vd_err err;
	uint32_t a, b;
	assert_int_equal(vd_pcapng_writer_open(path, "test", &w, &err), 0);
	assert_int_equal(vd_pcapng_writer_interface(w, 1, 0, "wire", "outermost", &a, &err), 0);
	assert_int_equal(vd_pcapng_writer_interface(w, 1, 0, "tap", NULL, &b, &err), 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	uint8_t frame[61];
	for (int i = 0; i < 61; i++)
		frame[i] = (uint8_t)i;
	assert_int_equal(vd_pcapng_writer_packet(w, a, T0, frame, 61, 98, "first, on wire", &err),
			 0);
	assert_int_equal(vd_pcapng_writer_packet(w, b, T0 + 1001, frame, 60, 60, NULL, &err), 0);
	assert_int_equal(
	    vd_pcapng_writer_packet(w, b, T0 + 2002, frame, 3, 3, "ΔRTT +1.5 us", &err), 0);
	assert_int_equal(vd_pcapng_writer_packet(w, 2, T0, frame, 3, 3, NULL, &err), -1);
	assert_int_equal(vd_pcapng_writer_close(w, &err), 0);
}

static void reads_back(void **state)
{
	char path[] = "/tmp/vd-test-pcapng.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_sample(path);
	struct vd_trace *tr;
	struct vd_err err;
	assert_int_equal(vd_trace_open(path, &tr, &err), 0);
	assert_string_equal(vd_trace_format(tr), "pcapng");
	struct vd_pkt p;
	static const struct {
		uint32_t iface, caplen, wirelen;
		vd_ns ts;
	} want[] = {{0, 61, 98, T0}, {1, 60, 60, T0 + 1001}, {1, 3, 3, T0 + 2002}};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(vd_trace_next(tr, &p, &err), 1);
		assert_int_equal(p.iface, want[i].iface);
		assert_int_equal(p.caplen, want[i].caplen);
		assert_int_equal(p.wirelen, want[i].wirelen);
		assert_int_equal(p.ts, want[i].ts);
		assert_int_equal(p.linktype, 1);
		assert_int_equal(p.data[p.caplen - 1], p.caplen - 1);
	}
	assert_int_equal(vd_trace_next(tr, &p, &err), 0);
	assert_string_equal(vd_trace_interface_name(tr, 0), "wire");
	assert_string_equal(vd_trace_interface_name(tr, 1), "tap");
	vd_trace_close(tr);
	/* libpcap too (with nanosecond precision) */
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
	assert_non_null(pc);
	struct pcap_pkthdr *h;
	const u_char *d;
	int n = 0;
	while (pcap_next_ex(pc, &h, &d) == 1)
		n++;
	pcap_close(pc);
	assert_int_equal(n, 3);
	/* tshark reads the comments back */
	char cmd[512], line[256];
	snprintf(
	    cmd, sizeof(cmd),
	    "command -v tshark >/dev/null && tshark -r '%s' -T fields -e frame.comment 2>/dev/null",
	    path);
	FILE *t = popen(cmd, "r");
	assert_non_null(t);
	int got = 0;
	const char *comments[] = {"first, on wire", "", "ΔRTT +1.5 us"};
	while (fgets(line, sizeof(line), t) && got < 3) {
		line[strcspn(line, "\n")] = 0;
		assert_string_equal(line, comments[got]);
		got++;
	}
	int rc = pclose(t);
	if (rc == 0)
		assert_int_equal(got, 3);
	unlink(path);
}

static void unwritable(void **state)
{
	struct vd_pcapng_writer *w;
	struct vd_err err;
	assert_int_equal(vd_pcapng_writer_open("/nonexistent/dir/x.pcapng", "t", &w, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/dir/x.pcapng"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(reads_back),
	    cmocka_unit_test(unwritable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
