/* Unit tests: every shared real capture read end to end. Packet counts equal MANIFEST's capinfos
 * counts; per-interface counts, names and link types of the multi-interface pcapng files (three
 * sections of different byte order in test202, big-endian complex.pcapng); the same 100 packets
 * in ERF, pcap, ns pcap and pcapng decode to the same TCP fields and times; every broken file
 * ([e] in MANIFEST) gives an error naming the file (and the offset) or a documented result. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "realdata.h"
#include "vmdelay/input/decode.h"
#include "vmdelay/input/trace.h"

struct result {
	int open_rc, read_rc;
	uint64_t n, skipped;
	uint64_t per_if[16];
	char msg[512];
};

/* Reads (and decodes, so a sanitizer sees every byte the decoder touches) a whole file. */
static void read_all(const char *name, struct result *r)
{
	char path[1200];
	realdata_path(path, sizeof(path), name);
	memset(r, 0, sizeof(*r));
	struct vd_trace *tr;
	struct vd_err err = {0};
	r->open_rc = vd_trace_open(path, &tr, &err);
	if (r->open_rc < 0) {
		snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
		return;
	}
	struct vd_pkt pkt;
	while ((r->read_rc = vd_trace_next(tr, &pkt, &err)) == 1) {
		r->n++;
		assert_int_equal(pkt.index, r->n);
		if (pkt.iface < 16)
			r->per_if[pkt.iface]++;
		struct vd_decoded d;
		struct vd_err derr;
		vd_decode(&pkt, &d, &derr);
	}
	if (r->read_rc < 0)
		snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
	r->skipped = vd_trace_skipped(tr);
	vd_trace_close(tr);
}

/* Broken files and what we promise for each: an error at open, an error after n good packets,
 * or a clean read of n packets (documented in docs/formats/analyze.md). */
static const struct broken {
	const char *file;
	int open_err;
	int read_err;
	uint64_t n;
	const char *says; /* part of the message */
} broken[] = {
    {"provenance.erf", 0, 0, 0, NULL}, /* 100 META records, skipped */
    {"icmp-payload-trunc.pcap", 0, 0, 4, NULL},
    {"suricata-verify_http-mime-truncated_input.pcap", 0, 1, 2696, "truncated"},
    {"truncated_dns_2.pcap", 0, 1, 1, "truncated"},
    {"shb-option-too-long.pcapng", 1, 0, 0, "offset 0"},
    {"pcap-invalid-version-1.pcap", 1, 0, 0, "archaic"},
    {"pcapng-invalid-vers-1.pcapng", 1, 0, 0, "version 0.1"},
    {"linktype-reserved-field-not-zero.pcap", 1, 0, 0, "reserved"},
    {"timestamp_invalid_nano.pcap", 0, 1, 1, "fraction 1000000000 out of range"},
    {"timestamp_invalid_micro.pcap", 0, 1, 1, "fraction 1000000 out of range"},
    {"icmp-icmp_print-oobr-2.pcap", 0, 0, 3, NULL},
    {"empty.pcapng", 0, 0, 0, NULL},
    {"test202.pcapng", 0, 0, 8, NULL},
    {"icmp-length-zero.pcapng", 0, 0, 1, NULL},
};

static const struct broken *find_broken(const char *file)
{
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++)
		if (strcmp(broken[i].file, file) == 0)
			return &broken[i];
	return NULL;
}

static void counts_equal_manifest(void **state)
{
	if (!realdata_dir())
		skip();
	char path[1200];
	FILE *f = fopen(realdata_path(path, sizeof(path), "MANIFEST.tsv"), "r");
	assert_non_null(f);
	static char line[65536];
	int files = 0, broken_seen = 0;
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t');
		if (!tab || strncmp(line, "file\t", 5) == 0)
			continue;
		*tab = 0;
		const char *name = line, *rest = tab + 1;
		const char *cp = strstr(rest, "capinfos:");
		const char *pk = cp ? strstr(cp, "packets=") : NULL;
		long long want = pk ? atoll(pk + 8) : -1;
		struct result r;
		read_all(name, &r);
		print_message("%s: open %d read %d packets %" PRIu64 " (capinfos %lld) %s\n", name,
			      r.open_rc, r.read_rc, r.n, want, r.msg);
		const struct broken *b = find_broken(name);
		if (strstr(rest, "[e]")) {
			broken_seen++;
			if (!b)
				fail_msg("%s is marked broken but has no expectation here", name);
		}
		if (b) {
			assert_int_equal(r.open_rc, b->open_err ? -1 : 0);
			assert_int_equal(r.read_rc, b->read_err ? -1 : 0);
			assert_int_equal(r.n, b->n);
			if (b->open_err || b->read_err) {
				assert_non_null(
				    strstr(r.msg, name)); /* the message names the file */
				assert_non_null(strstr(r.msg, b->says));
			}
			if (b->read_err)
				assert_non_null(strstr(r.msg, "offset"));
		} else {
			assert_int_equal(r.open_rc, 0);
			assert_int_equal(r.read_rc, 0);
			assert_true(want >= 0);
			assert_int_equal(r.n, (uint64_t)want);
		}
		files++;
	}
	fclose(f);
	assert_true(files >= 44);
	assert_true(broken_seen >= 13);
}

static void provenance_skips_meta_records(void **state)
{
	if (!realdata_dir())
		skip();
	struct result r;
	read_all("provenance.erf", &r);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.skipped, 100);
}

struct ifexp {
	const char *name;
	int linktype;
	uint64_t n;
};

static void check_interfaces(const char *file, const struct ifexp *want, size_t nwant)
{
	char path[1200];
	realdata_path(path, sizeof(path), file);
	struct vd_trace *tr;
	struct vd_err err;
	assert_int_equal(vd_trace_open(path, &tr, &err), 0);
	assert_string_equal(vd_trace_format(tr), "pcapng");
	struct result r;
	read_all(file, &r);
	assert_int_equal(r.read_rc, 0);
	struct vd_pkt pkt;
	while (vd_trace_next(tr, &pkt, &err) == 1)
		assert_int_equal(pkt.linktype, vd_trace_interface_linktype(tr, pkt.iface));
	assert_int_equal(vd_trace_interface_count(tr), nwant);
	for (size_t i = 0; i < nwant; i++) {
		const char *nm = vd_trace_interface_name(tr, (uint32_t)i);
		if (want[i].name)
			assert_string_equal(nm, want[i].name);
		else
			assert_null(nm);
		assert_int_equal(vd_trace_interface_linktype(tr, (uint32_t)i), want[i].linktype);
		assert_int_equal(r.per_if[i], want[i].n);
	}
	assert_int_equal(vd_trace_interface_linktype(tr, (uint32_t)nwant), -1);
	vd_trace_close(tr);
}

static void multi_interface_pcapng(void **state)
{
	if (!realdata_dir())
		skip();
	const struct ifexp many[] = {{"en0", 1, 62},	 {"awdl0", 1, 0}, {"bridge0", 1, 0},
				     {"vboxnet0", 1, 0}, {"utun0", 0, 0}, {"en1", 1, 0},
				     {"vboxnet1", 1, 0}, {"en2", 1, 0},	  {"p2p0", 12, 0},
				     {"vboxnet2", 1, 0}, {"lo0", 0, 2}};
	check_interfaces("many_interfaces-1.pcapng", many, 11);
	const struct ifexp example[] = {{"lo", 1, 59}, {NULL, 113, 100}};
	check_interfaces("pcapng-example.pcapng", example, 2);
	const struct ifexp viber[] = {{NULL, 1, 451}, {"wlx08beac0b176e", 1, 15}};
	check_interfaces("viber.pcap", viber, 2);
	/* Three sections: big-endian (2 interfaces), little-endian (1), big-endian (2); ids restart
	 * at 0 in each section and are renumbered file-wide. */
	const struct ifexp t202[] = {{"eth0", 1, 2},
				     {"null1", 0, 1},
				     {"silly ethernet interface 2", 1, 4},
				     {"eth0", 1, 0},
				     {"null1", 0, 1}};
	check_interfaces("test202.pcapng", t202, 5);
	/* Big-endian; 4 EPBs and one Simple Packet Block (interface 0, no timestamp). */
	const struct ifexp complex[] = {
	    {"eth0", 1, 3}, {"null1", 0, 1}, {"silly!\r\nethernet interface 2", 1, 1}};
	check_interfaces("complex.pcapng", complex, 3);
	const struct ifexp multi[] = {
	    {"eth0", 1, 2}, {"\\Device\\NPF_{5AE6EDB4-EFF9-46B3-A3C2-EE50C688A9E6}", 1, 4}};
	check_interfaces("pcapng-multi-interface.pcapng", multi, 2);
}

/* A Simple Packet Block carries no time: VD_NS_NONE, on the section's first interface. */
static void simple_packet_block_has_no_time(void **state)
{
	if (!realdata_dir())
		skip();
	char path[1200];
	struct vd_trace *tr;
	struct vd_err err;
	assert_int_equal(
	    vd_trace_open(realdata_path(path, sizeof(path), "complex.pcapng"), &tr, &err), 0);
	struct vd_pkt pkt;
	int spb = 0;
	while (vd_trace_next(tr, &pkt, &err) == 1) {
		if (pkt.ts == VD_NS_NONE) {
			spb++;
			assert_int_equal(pkt.iface, 0);
			assert_true(pkt.caplen > 0);
		}
	}
	assert_int_equal(spb, 1);
	vd_trace_close(tr);
}

#define N100 100

struct p100 {
	vd_ns ts;
	uint32_t iface;
	struct vd_decoded d;
};

static void read_100(const char *file, const char *format, struct p100 *out)
{
	char path[1200];
	struct vd_trace *tr;
	struct vd_err err;
	assert_int_equal(vd_trace_open(realdata_path(path, sizeof(path), file), &tr, &err), 0);
	assert_string_equal(vd_trace_format(tr), format);
	struct vd_pkt pkt;
	int n = 0, rc;
	while ((rc = vd_trace_next(tr, &pkt, &err)) == 1) {
		assert_true(n < N100);
		out[n].ts = pkt.ts;
		out[n].iface = pkt.iface;
		struct vd_err derr;
		assert_int_equal(vd_decode(&pkt, &out[n].d, &derr), 0);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, N100);
	vd_trace_close(tr);
}

/* The converted files are not byte for byte the ERF packets: every 0x0d byte of the ERF frames
 * is 0x0a in them (checked on the raw bytes: it is the only difference, in all 100 packets, most
 * in MAC addresses, one in a TCP port). Fields are equal up to that substitution. */
static uint64_t vd_be32_of(const uint8_t *p)
{
	return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
}

static int eq_cr(uint64_t erf, uint64_t other, int bytes)
{
	for (int i = 0; i < bytes; i++, erf >>= 8, other >>= 8) {
		uint8_t a = erf & 0xff, b = other & 0xff;
		if (a != b && !(a == 0x0d && b == 0x0a))
			return 0;
	}
	return 1;
}

static void same_100_packets_in_four_formats(void **state)
{
	if (!realdata_dir())
		skip();
	static struct p100 erf[N100], pcap[N100], ns[N100], ng[N100];
	read_100("100_packets.erf", "erf", erf);
	read_100("100_packets.pcap", "pcap", pcap);
	read_100("100_packetsns.pcap", "pcap", ns);
	read_100("100_packets.pcapng", "pcapng", ng);
	int tcp = 0, ports[2] = {0, 0}, exact = 0, same_time = 0;
	for (int i = 0; i < N100; i++) {
		const struct p100 *o[3] = {&pcap[i], &ns[i], &ng[i]};
		ports[erf[i].iface & 1]++;
		assert_true(erf[i].iface < 2);
		for (int k = 0; k < 3; k++) {
			const struct vd_decoded *a = &erf[i].d, *b = &o[k]->d;
			/* The converted files kept the time rounded to the µs, in pcap's seconds
			 * and microseconds fields (where the 0x0d substitution happened too). */
			vd_ns us = (erf[i].ts + 500) / 1000;
			assert_true(eq_cr((uint64_t)(us / 1000000),
					  (uint64_t)(o[k]->ts / VD_NS_PER_SEC), 4));
			assert_true(eq_cr((uint64_t)(us % 1000000),
					  (uint64_t)(o[k]->ts % VD_NS_PER_SEC / 1000), 4));
			same_time += us * 1000 == o[k]->ts;
			assert_int_equal(o[k]->ts % 1000, 0);
			assert_int_equal(a->ip_proto, b->ip_proto);
			assert_true(eq_cr(vd_be32_of(a->src.bytes), vd_be32_of(b->src.bytes), 4));
			assert_true(eq_cr(vd_be32_of(a->dst.bytes), vd_be32_of(b->dst.bytes), 4));
			assert_true(eq_cr(a->ip_id, b->ip_id, 2));
			assert_int_equal(a->l4, b->l4);
			assert_true(eq_cr(a->sport, b->sport, 2));
			assert_true(eq_cr(a->dport, b->dport, 2));
			assert_true(eq_cr(a->tcp_seq, b->tcp_seq, 4));
			assert_true(eq_cr(a->tcp_ack, b->tcp_ack, 4));
			assert_int_equal(a->tcp_flags, b->tcp_flags);
			assert_true(eq_cr(a->tcp_win, b->tcp_win, 2));
			assert_int_equal(a->tcp_payload_len, b->tcp_payload_len);
		}
		tcp += erf[i].d.l4 == VD_L4_TCP;
		exact += erf[i].d.sport == pcap[i].d.sport && erf[i].d.tcp_seq == pcap[i].d.tcp_seq;
	}
	assert_int_equal(tcp, 92);
	assert_true(exact >= 95); /* the substitution is rare in these fields */
	assert_true(same_time >= 3 * 95);
	assert_int_equal(ports[0], 46);
	assert_int_equal(ports[1], 54);
}

/* Through a pipe (not seekable): the same packets as from the file, in every format. */
static void pipes_read_like_files(void **state)
{
	if (!realdata_dir())
		skip();
	const char *files[] = {"5-pings.pcap", "many_interfaces-1.pcapng", "5_packets.erf",
			       "truncated_dns_2.pcap"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[1200];
		realdata_path(path, sizeof(path), files[i]);
		int fd[2];
		assert_int_equal(pipe(fd), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fd[0]);
			FILE *in = fopen(path, "rb");
			char b[4096];
			size_t n;
			while (in && (n = fread(b, 1, sizeof(b), in)) > 0)
				if (write(fd[1], b, n) != (ssize_t)n)
					_exit(1);
			_exit(0);
		}
		close(fd[1]);
		struct vd_trace *a, *b;
		struct vd_err err;
		assert_int_equal(vd_trace_open(path, &a, &err), 0);
		if (vd_trace_open_file(fdopen(fd[0], "rb"), "pipe", NULL, &b, &err) < 0)
			fail_msg("%s", err.msg);
		assert_string_equal(vd_trace_format(a), vd_trace_format(b));
		struct vd_pkt pa, pb;
		int ra, rb;
		do {
			ra = vd_trace_next(a, &pa, &err);
			rb = vd_trace_next(b, &pb, &err);
			assert_int_equal(ra, rb);
			if (ra == 1) {
				assert_int_equal(pa.ts, pb.ts);
				assert_int_equal(pa.iface, pb.iface);
				assert_int_equal(pa.caplen, pb.caplen);
				assert_memory_equal(pa.data, pb.data, pa.caplen);
			}
		} while (ra == 1);
		assert_true(strstr(err.msg, "pipe") || ra == 0);
		vd_trace_close(a);
		vd_trace_close(b);
		int st;
		waitpid(pid, &st, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counts_equal_manifest),
	    cmocka_unit_test(provenance_skips_meta_records),
	    cmocka_unit_test(multi_interface_pcapng),
	    cmocka_unit_test(simple_packet_block_has_no_time),
	    cmocka_unit_test(same_100_packets_in_four_formats),
	    cmocka_unit_test(pipes_read_like_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
