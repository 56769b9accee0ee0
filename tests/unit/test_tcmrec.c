/* Unit tests of lib/input/tcmrec.c: record file round trip, TSC -> ns from calibration pairs,
 * truncated and damaged files, the dump CSV. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "vmdelay/input/tcmrec.h"

static char path[64];

static struct tcpmon_record tcp_rec(void)
{
	struct tcpmon_record r;
	memset(&r, 0, sizeof(r));
	r.tsc = 2000;
	r.real_ns = 1700000000000001500;
	r.mono_ns = 1500;
	r.cpu = 0;
	r.layer = TCPMON_L_DEV_TX;
	r.dir = TCPMON_DIR_TX;
	r.family = AF_INET;
	r.proto = IPPROTO_TCP;
	r.ifindex = 2;
	memcpy(r.saddr, "\x0a\x00\x02\x0a", 4);
	memcpy(r.daddr, "\x0a\x00\x02\x01", 4);
	r.sport = 38558;
	r.dport = 5001;
	r.seq = 3280754807u;
	r.ack = 933247139;
	r.window = 502;
	r.tcp_flags = 0x18; /* PSH ACK */
	r.payload_len = 1448;
	r.skb_len = 1514;
	r.gso_segs = 1;
	r.seqno = 7;
	return r;
}

static struct tcpmon_record icmp_rec(void)
{
	struct tcpmon_record r;
	memset(&r, 0, sizeof(r));
	r.tsc = 4000;
	r.real_ns = 1700000000000002500;
	r.mono_ns = 2500;
	r.cpu = 1;
	r.layer = TCPMON_L_SOCK_COPY;
	r.dir = TCPMON_DIR_RX;
	r.family = AF_INET6;
	r.proto = IPPROTO_ICMPV6;
	r.saddr[0] = 0xfd;
	r.saddr[15] = 1;
	r.daddr[0] = 0xfd;
	r.daddr[15] = 0x10;
	r.icmp_type = 129;
	r.icmp_id = 146;
	r.icmp_seq = 3;
	r.payload_len = 56;
	r.skb_len = 104;
	return r;
}

static struct vd_tcmrec_info test_info(void)
{
	struct vd_tcmrec_info in;
	memset(&in, 0, sizeof(in));
	in.tsc_khz = 2000000; /* 2 ticks per ns */
	in.clock_flags = TCPMON_CLK_HYPERVISOR | TCPMON_CLK_CLOCKSOURCE_TSC;
	in.realtime_offset_ns = 1700000000000000000;
	in.start_real_ns = 1700000000000000000;
	in.ncpus = 2;
	in.layers = TCPMON_LAYERS_ALL;
	strcpy(in.kernel_release, "6.1.0-56-amd64");
	strcpy(in.hostname, "m1");
	strcpy(in.clocksource, "tsc");
	return in;
}

/* Writes the reference file: calibration, two records, more calibration, stats. */
static void write_ref(void)
{
	struct vd_tcmrec_info in = test_info();
	struct vd_tcmrec_writer *w;
	struct vd_err err;
	struct tcpmon_record r[2] = {tcp_rec(), icmp_rec()};
	/* cpu 0: 1000 ticks per 500 ns; cpu 1: the same rate, 100 ns later */
	struct tcpmon_calib c1[2] = {{0, 10, 1000, 1000, 1700000000000001000},
				     {1, 10, 1000, 1100, 1700000000000001100}};
	struct tcpmon_calib c2[2] = {{0, 10, 3000, 2000, 1700000000000002000},
				     {1, 10, 5000, 3100, 1700000000000003100}};
	struct tcpmon_file_stats st = {2, 5, 2, 1};

	assert_int_equal(vd_tcmrec_writer_open(path, &in, &w, &err), 0);
	assert_int_equal(vd_tcmrec_write_calib(w, c1, 2, &err), 0);
	assert_int_equal(vd_tcmrec_write_records(w, r, 2, &err), 0);
	assert_int_equal(vd_tcmrec_write_calib(w, c2, 2, &err), 0);
	assert_int_equal(vd_tcmrec_write_stats(w, &st, &err), 0);
	assert_int_equal(vd_tcmrec_writer_close(w, &err), 0);
}

static uint8_t *slurp(size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 16);
	assert_non_null(f);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	snprintf(path, sizeof(path), "/tmp/test_tcmrec.%d", (int)getpid());
	write_ref();
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static void round_trip(void **state)
{
	struct tcmrec *rd;
	struct vd_err err;
	struct tcpmon_record a = tcp_rec(), b = icmp_rec();

	assert_int_equal(vd_tcmrec_open(path, &rd, &err), 0);
	const struct vd_tcmrec_info *in = vd_tcmrec_info(rd);
	assert_int_equal(in->version, TCPMON_FILE_VERSION);
	assert_int_equal(in->record_size, sizeof(struct tcpmon_record));
	assert_int_equal(in->tsc_khz, 2000000);
	assert_string_equal(in->kernel_release, "6.1.0-56-amd64");
	assert_string_equal(in->hostname, "m1");
	assert_string_equal(in->clocksource, "tsc");
	assert_true(in->has_stats);
	assert_int_equal(in->stats.lost, 5);
	assert_int_equal(in->stats.filtered, 1);
	assert_int_equal(vd_tcmrec_count(rd), 2);
	assert_int_equal(vd_tcmrec_calib_count(rd), 4);
	assert_memory_equal(vd_tcmrec_get(rd, 0), &a, sizeof(a));
	assert_memory_equal(vd_tcmrec_get(rd, 1), &b, sizeof(b));
	assert_null(vd_tcmrec_get(rd, 2));
	vd_tcmrec_free(rd);
}

static void tsc_conversion(void **state)
{
	struct tcmrec *rd;
	struct vd_err err;

	assert_int_equal(vd_tcmrec_open(path, &rd, &err), 0);
	/* cpu 0: interpolated between (1000, 1000 ns) and (3000, 2000 ns) */
	assert_int_equal(vd_tcmrec_tsc_to_mono(rd, 0, 2000), 1500);
	assert_int_equal(vd_tcmrec_tsc_to_mono(rd, 0, 1000), 1000);
	/* outside the pairs: the slope of the nearest two */
	assert_int_equal(vd_tcmrec_tsc_to_mono(rd, 0, 5000), 3000);
	assert_int_equal(vd_tcmrec_tsc_to_mono(rd, 0, 0), 500);
	/* cpu 1 has its own pairs */
	assert_int_equal(vd_tcmrec_tsc_to_mono(rd, 1, 3000), 2100);
	/* realtime: mono + the pair's offset */
	assert_int_equal(vd_tcmrec_tsc_to_real(rd, 0, 2000), 1700000000000001500);
	/* a CPU without pairs: nearest pair of another CPU, with tsc_khz (2 ticks/ns) */
	assert_int_equal(vd_tcmrec_tsc_to_mono(rd, 7, 3200), 2100);
	vd_tcmrec_free(rd);
}

static void truncated(void **state)
{
	size_t len;
	uint8_t *buf = slurp(&len);
	struct tcmrec *rd;
	struct vd_err err;
	/* inside the header, inside a block header, inside the records block, inside stats */
	size_t cuts[] = {0, 7, 100, 255, 258, 256 + 8 + 64 + 3, 256 + 8 + 64 + 8 + 150, len - 1};

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		err.msg[0] = 0;
		assert_int_equal(vd_tcmrec_parse(buf, cuts[i], "f", &rd, &err), -1);
		assert_non_null(strstr(err.msg, "f: "));
	}
	assert_non_null(strstr(err.msg, "offset"));
	/* at a block boundary the shorter file is valid */
	assert_int_equal(vd_tcmrec_parse(buf, 256 + 8 + 64, "f", &rd, &err), 0);
	assert_int_equal(vd_tcmrec_count(rd), 0);
	vd_tcmrec_free(rd);
	free(buf);
}

static void bad_version_magic_size(void **state)
{
	size_t len;
	uint8_t *buf = slurp(&len);
	struct tcmrec *rd;
	struct vd_err err;

	buf[offsetof(struct tcpmon_file_header, version)] = 2;
	assert_int_equal(vd_tcmrec_parse(buf, len, "f", &rd, &err), -1);
	assert_non_null(strstr(err.msg, "unsupported version 2"));
	buf[offsetof(struct tcpmon_file_header, version)] = 1;

	buf[0] = 'X';
	assert_int_equal(vd_tcmrec_parse(buf, len, "f", &rd, &err), -1);
	assert_non_null(strstr(err.msg, "bad magic"));
	buf[0] = 'V';

	buf[offsetof(struct tcpmon_file_header, record_size)] = 100;
	assert_int_equal(vd_tcmrec_parse(buf, len, "f", &rd, &err), -1);
	assert_non_null(strstr(err.msg, "record size"));
	buf[offsetof(struct tcpmon_file_header, record_size)] = sizeof(struct tcpmon_record);

	/* a block claiming more bytes than the file has */
	buf[256 + 4 + 3] = 0x7f;
	assert_int_equal(vd_tcmrec_parse(buf, len, "f", &rd, &err), -1);
	assert_non_null(strstr(err.msg, "runs past the end"));
	buf[256 + 4 + 3] = 0;

	assert_int_equal(vd_tcmrec_parse(buf, len, "f", &rd, &err), 0);
	vd_tcmrec_free(rd);
	free(buf);
}

static void unknown_block_skipped(void **state)
{
	size_t len;
	uint8_t *buf = slurp(&len);
	uint8_t *big = malloc(len + 12);
	struct tcmrec *rd;
	struct vd_err err;
	uint32_t blk[3] = {99, 4, 0xdeadbeef};

	memcpy(big, buf, 256);
	memcpy(big + 256, blk, 12);
	memcpy(big + 268, buf + 256, len - 256);
	assert_int_equal(vd_tcmrec_parse(big, len + 12, "f", &rd, &err), 0);
	assert_int_equal(vd_tcmrec_count(rd), 2);
	vd_tcmrec_free(rd);
	free(big);
	free(buf);
}

static void dump_csv(void **state)
{
	struct tcmrec *rd;
	struct vd_err err;
	char *out = NULL;
	size_t olen = 0;
	FILE *f = open_memstream(&out, &olen);
	struct vd_out *o = vd_out_create(f, VD_OUT_CSV);

	assert_int_equal(vd_tcmrec_open(path, &rd, &err), 0);
	vd_tcmrec_dump(rd, o);
	assert_int_equal(vd_out_destroy(o), 0);
	fclose(f);
	assert_string_equal(
	    out,
	    "tsc,tsc_ns,real_ns,mono_ns,cpu,layer,dir,proto,src,dst,sport,dport,seq,ack,flags,win,"
	    "icmp_type,icmp_code,icmp_id,icmp_seq,len,skb_len,gso_segs,ifindex,seqno\n"
	    "2000,1700000000000001500,1700000000000001500,1500,0,dev-tx,tx,tcp,10.0.2.10,10.0.2.1,"
	    "38558,5001,3280754807,933247139,PA,502,,,,,1448,1514,1,2,7\n"
	    "4000,1700000000000002600,1700000000000002500,2500,1,sock-copy,rx,icmp6,fd00::1,fd00::"
	    "10,"
	    ",,,,,,129,0,146,3,56,104,0,0,0\n");
	free(out);
	vd_tcmrec_free(rd);
}

static void names(void **state)
{
	char buf[160];

	assert_string_equal(vd_tcmrec_layer_name(TCPMON_L_IP_LOCAL_IN), "ip-local-in");
	assert_string_equal(vd_tcmrec_layer_name(200), "?");
	assert_int_equal(vd_tcmrec_layer_parse("dev-tx"), TCPMON_L_DEV_TX);
	assert_int_equal(vd_tcmrec_layer_parse("nope"), -1);
	vd_tcmrec_tcp_flags(0x12, buf);
	assert_string_equal(buf, "SA");
	vd_tcmrec_tcp_flags(0, buf);
	assert_string_equal(buf, ".");
	vd_tcmrec_clock_flags(TCPMON_CLK_TSC_UNSTABLE | TCPMON_CLK_HYPERVISOR, buf, sizeof(buf));
	assert_string_equal(buf, "tsc-unstable+hypervisor");
	vd_tcmrec_clock_flags(TCPMON_CLK_KTIME_ONLY, buf, sizeof(buf));
	assert_string_equal(buf, "ktime-only");
	assert_string_equal(vd_tcmrec_layer_name(TCPMON_L_DEV_QUEUE), "dev-queue");
	assert_int_equal(vd_tcmrec_layer_parse("sock-send"), TCPMON_L_SOCK_SEND);
}

/* The bpf backend's files: ktime-only records (no TSC to trust, whatever the calibration) and
 * loss windows, read back as written; a loss block that is not whole entries is an error
 * naming its offset. */
static void ktime_only_and_loss(void **state)
{
	char p2[96];
	struct vd_tcmrec_info in = test_info();
	struct vd_tcmrec_writer *w;
	struct vd_err err;
	struct tcpmon_record r = icmp_rec();
	struct tcpmon_calib c = {0, 10, 1000, 1000, 1700000000000001000};
	struct tcpmon_file_loss l[2] = {{0, 0, 7, 1000, 2000}, {1, 0, 3, 5000, 0}};
	struct tcmrec *rd;

	snprintf(p2, sizeof(p2), "%s.ktime", path);
	in.clock_flags |= TCPMON_CLK_KTIME_ONLY;
	assert_int_equal(vd_tcmrec_writer_open(p2, &in, &w, &err), 0);
	assert_int_equal(vd_tcmrec_write_calib(w, &c, 1, &err), 0);
	assert_int_equal(vd_tcmrec_write_records(w, &r, 1, &err), 0);
	assert_int_equal(vd_tcmrec_write_loss(w, l, 2, &err), 0);
	assert_int_equal(vd_tcmrec_writer_close(w, &err), 0);
	assert_int_equal(vd_tcmrec_open(p2, &rd, &err), 0);
	assert_false(vd_tcmrec_use_tsc(rd));
	assert_int_equal(vd_tcmrec_loss_count(rd), 2);
	assert_memory_equal(vd_tcmrec_loss_get(rd, 0), &l[0], sizeof(l[0]));
	assert_memory_equal(vd_tcmrec_loss_get(rd, 1), &l[1], sizeof(l[1]));
	assert_null(vd_tcmrec_loss_get(rd, 2));
	vd_tcmrec_free(rd);

	FILE *f = fopen(p2, "r+b"); /* the loss block's length, less one byte */
	uint32_t len = 2 * sizeof(l[0]) - 1;
	long at = (long)(sizeof(struct tcpmon_file_header) + 8 + sizeof(c) + 8 + sizeof(r) + 4);
	assert_non_null(f);
	assert_int_equal(fseek(f, at, SEEK_SET), 0);
	assert_int_equal(fwrite(&len, 4, 1, f), 1);
	fclose(f);
	assert_int_equal(vd_tcmrec_open(p2, &rd, &err), -1);
	assert_non_null(strstr(err.msg, "loss block of 63 bytes is not a multiple of 32"));
	unlink(p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(ktime_only_and_loss),
	    cmocka_unit_test(tsc_conversion),
	    cmocka_unit_test(truncated),
	    cmocka_unit_test(bad_version_magic_size),
	    cmocka_unit_test(unknown_block_skipped),
	    cmocka_unit_test(dump_csv),
	    cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
