/* Unit tests of lib/input/tcmnl.c: parsing the kernel's tcpmon netlink messages (records, stats,
 * calibration, errors with extended ack), rejecting malformed ones, building requests, filter
 * words, and the hook cost quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "vmdelay/input/tcmnl.h"
#include "vmdelay/input/tcmrec.h"

struct msg {
	uint8_t b[16384];
	size_t len;
};

static void m_start(struct msg *m, uint16_t type, uint8_t cmd)
{
	memset(m, 0, sizeof(*m));
	struct nlmsghdr h = {.nlmsg_type = type, .nlmsg_seq = 42};
	memcpy(m->b, &h, sizeof(h));
	m->b[NLMSG_HDRLEN] = cmd;
	m->b[NLMSG_HDRLEN + 1] = 1;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

static void m_end(struct msg *m)
{
	uint32_t l = (uint32_t)m->len;
	memcpy(m->b, &l, 4);
}

static size_t m_attr(struct msg *m, uint16_t type, const void *d, size_t n)
{
	size_t at = m->len;
	uint16_t l = (uint16_t)(NLA_HDRLEN + n);
	memcpy(m->b + m->len, &l, 2);
	memcpy(m->b + m->len + 2, &type, 2);
	if (n)
		memcpy(m->b + m->len + NLA_HDRLEN, d, n);
	m->len += (NLA_HDRLEN + n + 3) & ~(size_t)3;
	m_end(m);
	return at;
}

static void m_nest_end(struct msg *m, size_t at)
{
	uint16_t l = (uint16_t)(m->len - at);
	memcpy(m->b + at, &l, 2);
}

static void read_records(void **state)
{
	struct msg m;
	struct tcpmon_record r[2], back;
	struct vd_tcmnl_msg out;
	struct vd_err err;
	size_t used;
	uint32_t cpu = 1;

	memset(r, 0, sizeof(r));
	r[0].tsc = 111;
	r[0].layer = TCPMON_L_DEV_RX;
	r[0].proto = IPPROTO_TCP;
	r[0].seq = 0xdeadbeef;
	r[1].tsc = 222;
	r[1].icmp_seq = 9;
	m_start(&m, 0x20, TCPMON_CMD_READ);
	m_attr(&m, TCPMON_A_CPU, &cpu, 4);
	m_attr(&m, TCPMON_A_RECORDS, r, sizeof(r));
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), 0);
	assert_int_equal(used, m.len);
	assert_int_equal(out.kind, VD_TCMNL_DATA);
	assert_int_equal(out.cmd, TCPMON_CMD_READ);
	assert_int_equal(out.seq, 42);
	assert_true(out.has_cpu);
	assert_int_equal(out.cpu, 1);
	assert_int_equal(out.nrecords, 2);
	assert_int_equal(
	    vd_tcmrec_decode_record(out.records + out.record_size, out.record_size, &back), 0);
	assert_int_equal(back.tsc, 222);
	assert_int_equal(back.icmp_seq, 9);
	vd_tcmrec_decode_record(out.records, out.record_size, &back);
	assert_int_equal(back.seq, 0xdeadbeef);

	/* records that are not a whole number */
	m_start(&m, 0x20, TCPMON_CMD_READ);
	m_attr(&m, TCPMON_A_RECORDS, r, sizeof(r) - 4);
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), -1);
	assert_non_null(strstr(err.msg, "not a multiple"));
}

static void stats(void **state)
{
	struct msg m;
	struct vd_tcmnl_msg out;
	struct vd_err err;
	size_t used, nest;
	uint8_t running = 1;
	uint32_t khz = 2000000, rs = sizeof(struct tcpmon_record);
	uint64_t lost = 84;
	static uint32_t cost[__TCPMON_L_MAX][TCPMON_COST_BUCKETS];

	cost[TCPMON_L_DEV_RX][100] = 3;
	m_start(&m, 0x20, TCPMON_CMD_GET_STATS);
	nest = m_attr(&m, TCPMON_A_STATS | NLA_F_NESTED, NULL, 0);
	m_attr(&m, TCPMON_SA_RUNNING, &running, 1);
	m_attr(&m, TCPMON_SA_TSC_KHZ, &khz, 4);
	m_attr(&m, TCPMON_SA_LOST, &lost, 8);
	m_attr(&m, TCPMON_SA_MAX + 5, &lost, 8); /* newer kernel: skipped */
	m_attr(&m, TCPMON_SA_COST, cost, sizeof(cost));
	m_nest_end(&m, nest);
	m_attr(&m, TCPMON_A_RECORD_SIZE, &rs, 4);
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), 0);
	assert_true(out.has_stats);
	assert_int_equal(out.stats.running, 1);
	assert_int_equal(out.stats.tsc_khz, 2000000);
	assert_int_equal(out.stats.lost, 84);
	assert_true(out.stats.has_cost);
	assert_int_equal(out.stats.cost[TCPMON_L_DEV_RX][100], 3);

	/* a u64 counter of 4 bytes */
	m_start(&m, 0x20, TCPMON_CMD_GET_STATS);
	nest = m_attr(&m, TCPMON_A_STATS | NLA_F_NESTED, NULL, 0);
	m_attr(&m, TCPMON_SA_LOST, &khz, 4);
	m_nest_end(&m, nest);
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), -1);
	assert_non_null(strstr(err.msg, "expected 8"));
}

static void errors_and_done(void **state)
{
	struct msg m;
	struct vd_tcmnl_msg out;
	struct vd_err err;
	size_t used;
	struct nlmsghdr h = {.nlmsg_len = sizeof(h) + 4 + sizeof(struct nlmsghdr),
			     .nlmsg_type = NLMSG_ERROR,
			     .nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS,
			     .nlmsg_seq = 5};
	int32_t e = -22;
	struct nlmsghdr orig = {.nlmsg_len = 100, .nlmsg_type = 0x20};
	const char text[] = "no layer selected";

	memset(&m, 0, sizeof(m));
	memcpy(m.b, &h, sizeof(h));
	memcpy(m.b + NLMSG_HDRLEN, &e, 4);
	memcpy(m.b + NLMSG_HDRLEN + 4, &orig, sizeof(orig));
	m.len = NLMSG_HDRLEN + 4 + sizeof(orig);
	m_attr(&m, NLMSGERR_ATTR_MSG, text, sizeof(text));
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), 0);
	assert_int_equal(out.kind, VD_TCMNL_ERROR);
	assert_int_equal(out.error, -22);
	assert_string_equal(out.extack, text);

	/* an ACK is an error message with 0 */
	e = 0;
	memcpy(m.b + NLMSG_HDRLEN, &e, 4);
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), 0);
	assert_int_equal(out.kind, VD_TCMNL_ACK);

	struct nlmsghdr done = {.nlmsg_len = NLMSG_HDRLEN + 4, .nlmsg_type = NLMSG_DONE};
	uint8_t db[20] = {0};
	memcpy(db, &done, sizeof(done));
	assert_int_equal(vd_tcmnl_parse(db, sizeof(db), &out, &used, &err), 0);
	assert_int_equal(out.kind, VD_TCMNL_DONE);
	assert_int_equal(used, 20);
}

static void malformed(void **state)
{
	static struct msg m;
	struct vd_tcmnl_msg out;
	struct vd_err err;
	size_t used;
	uint32_t cpu = 0;

	/* shorter than a header; length field past the buffer; below the header size */
	assert_int_equal(vd_tcmnl_parse(m.b, 10, &out, &used, &err), -1);
	m_start(&m, 0x20, TCPMON_CMD_READ);
	m_attr(&m, TCPMON_A_CPU, &cpu, 4);
	assert_int_equal(vd_tcmnl_parse(m.b, m.len - 1, &out, &used, &err), -1);
	assert_non_null(strstr(err.msg, "out of bounds"));
	m.b[0] = 3;
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), -1);

	/* an attribute longer than what is left */
	m_start(&m, 0x20, TCPMON_CMD_READ);
	m_attr(&m, TCPMON_A_CPU, &cpu, 4);
	m.b[NLMSG_HDRLEN + GENL_HDRLEN] = 200;
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), -1);
	assert_non_null(strstr(err.msg, "attribute length"));

	/* a u32 of 2 bytes */
	m_start(&m, 0x20, TCPMON_CMD_READ);
	m_attr(&m, TCPMON_A_CPU, &cpu, 2);
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), -1);

	/* no genetlink header */
	m_start(&m, 0x20, TCPMON_CMD_READ);
	m.len = NLMSG_HDRLEN + 2;
	m_end(&m);
	assert_int_equal(vd_tcmnl_parse(m.b, m.len, &out, &used, &err), -1);
	assert_non_null(strstr(err.msg, "genetlink header"));
}

static void build_request(void **state)
{
	struct vd_tcmnl_filter f;
	struct vd_err err;
	uint8_t buf[256];
	char *words[] = {"tcp", "host", "10.0.2.1", "port", "5001", "layers", "dev-rx,dev-tx"};
	int n;

	assert_int_equal(vd_tcmnl_filter_parse(7, words, &f, &err), 0);
	assert_int_equal(f.proto, IPPROTO_TCP);
	assert_int_equal(f.addr_len, 4);
	assert_true(f.has_port);
	assert_int_equal(f.port, 5001);
	assert_true(f.has_layers);
	assert_int_equal(f.layers, (1u << TCPMON_L_DEV_RX) | (1u << TCPMON_L_DEV_TX));
	n = vd_tcmnl_build(buf, sizeof(buf), 0x20, TCPMON_CMD_START, NLM_F_ACK, 9, &f);
	/* nlmsghdr 16 + genl 4 + LAYERS 8 + FILTER(4 + PROTO 8 + ADDR 8 + PORT 8) */
	assert_int_equal(n, 16 + 4 + 8 + 4 + 8 + 8 + 8);
	assert_int_equal(buf[NLMSG_HDRLEN], TCPMON_CMD_START);
	uint16_t t;
	memcpy(&t, buf + 20 + 8 + 2, 2);
	assert_int_equal(t, TCPMON_A_FILTER | NLA_F_NESTED);
	assert_int_equal(vd_tcmnl_build(buf, 30, 0x20, TCPMON_CMD_START, 0, 9, &f), -1);
}

static void filter_words(void **state)
{
	struct vd_tcmnl_filter f;
	struct vd_err err;
	char *bad1[] = {"udp"};
	char *bad2[] = {"port", "70000"};
	char *bad3[] = {"host", "10.0.0.1", "host", "fd00::1"};
	char *bad4[] = {"layers", "dev-rx,bogus"};
	char *bad5[] = {"host"};
	char *ok6[] = {"icmp6", "host", "fd00::1", "host", "fd00::2"};

	assert_int_equal(vd_tcmnl_filter_parse(1, bad1, &f, &err), -1);
	assert_non_null(strstr(err.msg, "unknown word 'udp'"));
	assert_int_equal(vd_tcmnl_filter_parse(2, bad2, &f, &err), -1);
	assert_int_equal(vd_tcmnl_filter_parse(4, bad3, &f, &err), -1);
	assert_int_equal(vd_tcmnl_filter_parse(2, bad4, &f, &err), -1);
	assert_non_null(strstr(err.msg, "bogus"));
	/* the message lists every layer a user may write, the first to the last */
	assert_non_null(strstr(err.msg,
			       "(dev-rx, ip-pre, ip-local-in, trans-rx, sock-queue, "
			       "sock-copy, trans-tx, ip-local-out, ip-post, dev-tx, dev-queue, "
			       "sock-send, all)"));
	assert_int_equal(vd_tcmnl_filter_parse(1, bad5, &f, &err), -1);
	assert_int_equal(vd_tcmnl_filter_parse(5, ok6, &f, &err), 0);
	assert_int_equal(f.proto, IPPROTO_ICMPV6);
	assert_int_equal(f.addr2_len, 16);
	assert_int_equal(vd_tcmnl_filter_parse(0, NULL, &f, &err), 0);
	assert_false(f.has_filter);
}

static void cost_quantiles(void **state)
{
	static uint32_t h[TCPMON_COST_BUCKETS];

	assert_true(vd_tcmnl_cost_quantile(h, 0.5) < 0);
	h[10] = 50; /* exactly 10 cycles */
	h[16] = 50; /* [16, 18) */
	assert_int_equal(vd_tcmnl_cost_count(h), 100);
	assert_true(vd_tcmnl_cost_quantile(h, 0.25) >= 10 && vd_tcmnl_cost_quantile(h, 0.25) <= 11);
	assert_true(vd_tcmnl_cost_quantile(h, 0.99) >= 16 && vd_tcmnl_cost_quantile(h, 0.99) <= 18);
	h[16 + 8 * 3] = 1; /* 2^7 = 128 cycles */
	assert_true(vd_tcmnl_cost_quantile(h, 1.0) >= 128 && vd_tcmnl_cost_quantile(h, 1.0) <= 144);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(read_records),    cmocka_unit_test(stats),
	    cmocka_unit_test(errors_and_done), cmocka_unit_test(malformed),
	    cmocka_unit_test(build_request),   cmocka_unit_test(filter_words),
	    cmocka_unit_test(cost_quantiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
