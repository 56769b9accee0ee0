/* Unit tests: SO_TIMESTAMPING control messages built here as the kernel lays them out — RX
 * stamps, error-queue TX records keyed by OPT_ID, ICMP errors — and the malformed cases
 * (MSG_CTRUNC, lying cmsg_len, short payloads). */
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "vmdelay/net/tstamp.h"

struct ctl {
	union {
		char buf[512];
		struct cmsghdr align;
	} u;
	struct msghdr msg;
	struct cmsghdr *last;
};

static void ctl_init(struct ctl *c)
{
	memset(c, 0, sizeof(*c));
	c->msg.msg_control = c->u.buf;
	c->msg.msg_controllen = 0;
}

static void *ctl_add(struct ctl *c, int level, int type, size_t len)
{
	struct cmsghdr *h = (struct cmsghdr *)(c->u.buf + c->msg.msg_controllen);
	h->cmsg_level = level;
	h->cmsg_type = type;
	h->cmsg_len = CMSG_LEN(len);
	c->msg.msg_controllen += CMSG_SPACE(len);
	c->last = h;
	return CMSG_DATA(h);
}

static void add_ts(struct ctl *c, int64_t sw_sec, int64_t sw_nsec, int64_t hw_sec, int64_t hw_nsec)
{
	struct timespec ts[3];
	memset(ts, 0, sizeof(ts));
	ts[0].tv_sec = sw_sec;
	ts[0].tv_nsec = sw_nsec;
	ts[2].tv_sec = hw_sec;
	ts[2].tv_nsec = hw_nsec;
	memcpy(ctl_add(c, SOL_SOCKET, SO_TIMESTAMPING, sizeof(ts)), ts, sizeof(ts));
}

static void add_ee(struct ctl *c, int level, uint8_t origin, uint32_t eerrno, uint32_t info,
		   uint32_t data, const struct sockaddr_in *offender)
{
	struct sock_extended_err ee = {.ee_errno = eerrno,
				       .ee_origin = origin,
				       .ee_type = 3,
				       .ee_code = 1,
				       .ee_info = info,
				       .ee_data = data};
	size_t len = sizeof(ee) + (offender ? sizeof(*offender) : 0);
	uint8_t *d = ctl_add(c, level, level == SOL_IP ? IP_RECVERR : IPV6_RECVERR, len);
	memcpy(d, &ee, sizeof(ee));
	if (offender)
		memcpy(d + sizeof(ee), offender, sizeof(*offender));
}

static void rx_timestamp_and_ttl(void **state)
{
	struct ctl c;
	ctl_init(&c);
	add_ts(&c, 1700000000, 123456789, 0, 0);
	int ttl = 63;
	memcpy(ctl_add(&c, SOL_IP, IP_TTL, sizeof(ttl)), &ttl, sizeof(ttl));
	struct vd_tstamp_cmsgs out;
	struct vd_err err;
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), 0);
	assert_true(out.have_ts);
	assert_int_equal(out.sw, INT64_C(1700000000123456789));
	assert_int_equal(out.hw, VD_NS_NONE); /* zero means absent */
	assert_int_equal(out.ttl, 63);
	assert_false(out.have_ee);
	enum vd_tstamp_kind k;
	uint32_t key;
	assert_int_equal(vd_tstamp_tx_record(&out, &k, &key), 0);
}

static void tx_records_carry_kind_and_key(void **state)
{
	static const struct {
		uint32_t info;
		enum vd_tstamp_kind kind;
	} kinds[] = {{SCM_TSTAMP_SCHED, VD_TSTAMP_SCHED},
		     {SCM_TSTAMP_SND, VD_TSTAMP_SND},
		     {SCM_TSTAMP_ACK, VD_TSTAMP_ACK}};
	for (size_t i = 0; i < 3; i++) {
		struct ctl c;
		ctl_init(&c);
		/* The kernel puts the stamp before the extended error; order must not matter. */
		if (i % 2)
			add_ts(&c, 5, 1, 0, 0);
		add_ee(&c, i == 2 ? SOL_IPV6 : SOL_IP, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG,
		       kinds[i].info, 40 + (uint32_t)i, NULL);
		if (!(i % 2))
			add_ts(&c, 5, 1, 6, 2);
		struct vd_tstamp_cmsgs out;
		struct vd_err err;
		assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), 0);
		enum vd_tstamp_kind k;
		uint32_t key;
		assert_int_equal(vd_tstamp_tx_record(&out, &k, &key), 1);
		assert_int_equal(k, kinds[i].kind);
		assert_int_equal(key, 40 + i);
		assert_int_equal(out.sw, 5 * VD_NS_PER_SEC + 1);
		if (!(i % 2))
			assert_int_equal(out.hw, 6 * VD_NS_PER_SEC + 2);
	}
}

static void icmp_error_is_not_a_tx_record(void **state)
{
	struct ctl c;
	ctl_init(&c);
	struct sockaddr_in off = {.sin_family = AF_INET};
	inet_pton(AF_INET, "10.1.2.3", &off.sin_addr);
	add_ee(&c, SOL_IP, SO_EE_ORIGIN_ICMP, EHOSTUNREACH, 0, 0, &off);
	add_ts(&c, 9, 9, 0, 0);
	struct vd_tstamp_cmsgs out;
	struct vd_err err;
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), 0);
	assert_true(out.have_ee);
	assert_int_equal(out.ee_origin, SO_EE_ORIGIN_ICMP);
	assert_int_equal(out.ee_type, 3);
	assert_int_equal(out.ee_code, 1);
	assert_int_equal(out.offender.ss_family, AF_INET);
	assert_memory_equal(&((struct sockaddr_in *)&out.offender)->sin_addr, &off.sin_addr, 4);
	enum vd_tstamp_kind k;
	uint32_t key;
	assert_int_equal(vd_tstamp_tx_record(&out, &k, &key), 0);
	/* A timestamping origin with another errno is not a TX record either. */
	ctl_init(&c);
	add_ee(&c, SOL_IP, SO_EE_ORIGIN_TIMESTAMPING, EIO, SCM_TSTAMP_SND, 1, NULL);
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), 0);
	assert_int_equal(vd_tstamp_tx_record(&out, &k, &key), 0);
}

static void unknown_messages_are_skipped(void **state)
{
	struct ctl c;
	ctl_init(&c);
	memset(ctl_add(&c, SOL_SOCKET, SCM_TIMESTAMPING_OPT_STATS, 24), 0xab, 24);
	add_ts(&c, 1, 2, 0, 0);
	struct vd_tstamp_cmsgs out;
	struct vd_err err;
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), 0);
	assert_int_equal(out.sw, VD_NS_PER_SEC + 2);
	/* No control data at all is fine too. */
	ctl_init(&c);
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), 0);
	assert_false(out.have_ts);
}

static void ctrunc_is_an_error(void **state)
{
	struct ctl c;
	ctl_init(&c);
	add_ts(&c, 1, 2, 0, 0);
	c.msg.msg_flags = MSG_CTRUNC;
	struct vd_tstamp_cmsgs out;
	struct vd_err err;
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), -1);
	assert_non_null(strstr(err.msg, "MSG_CTRUNC"));
}

static void malformed_messages_are_errors(void **state)
{
	struct vd_tstamp_cmsgs out;
	struct vd_err err;
	struct ctl c;
	/* cmsg_len pointing past the buffer. */
	ctl_init(&c);
	add_ts(&c, 1, 2, 0, 0);
	c.last->cmsg_len = c.msg.msg_controllen + 64;
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), -1);
	assert_non_null(strstr(err.msg, "bad length"));
	/* cmsg_len smaller than its own header. */
	ctl_init(&c);
	add_ts(&c, 1, 2, 0, 0);
	c.last->cmsg_len = 4;
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), -1);
	/* A timestamp message too short for three timespecs. */
	ctl_init(&c);
	memset(ctl_add(&c, SOL_SOCKET, SO_TIMESTAMPING, 16), 0, 16);
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), -1);
	assert_non_null(strstr(err.msg, "SCM_TIMESTAMPING"));
	/* An extended error too short for sock_extended_err. */
	ctl_init(&c);
	memset(ctl_add(&c, SOL_IP, IP_RECVERR, 8), 0, 8);
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), -1);
	/* Timestamps no kernel makes (found by fuzz_tping_rx): they overflowed int64 ns. */
	ctl_init(&c);
	add_ts(&c, INT64_MAX / 4, 0, 0, 0);
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), -1);
	assert_non_null(strstr(err.msg, "out of range"));
	ctl_init(&c);
	add_ts(&c, 1, 0, 1, 1000000000);
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), -1);
	/* A TTL message without its int. */
	ctl_init(&c);
	ctl_add(&c, SOL_IPV6, IPV6_HOPLIMIT, 0);
	assert_int_equal(vd_tstamp_parse(&c.msg, &out, &err), -1);
}

static void flag_names(void **state)
{
	char b[256];
	assert_string_equal(vd_tstamp_flags_str(0, b, sizeof(b)), "none");
	assert_string_equal(vd_tstamp_flags_str(vd_tstamp_sw_flags(), b, sizeof(b)),
			    "tx_software|rx_software|software|opt_id|tx_sched|opt_tsonly");
	assert_string_equal(vd_tstamp_flags_str(vd_tstamp_hw_flags() | (1u << 30), b, sizeof(b)),
			    "tx_hardware|rx_hardware|raw_hardware|bit30");
	char small[8];
	vd_tstamp_flags_str(vd_tstamp_sw_flags(), small,
			    sizeof(small)); /* truncates, no overflow */
	assert_true(strlen(small) < sizeof(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rx_timestamp_and_ttl),
	    cmocka_unit_test(tx_records_carry_kind_and_key),
	    cmocka_unit_test(icmp_error_is_not_a_tx_record),
	    cmocka_unit_test(unknown_messages_are_skipped),
	    cmocka_unit_test(ctrunc_is_an_error),
	    cmocka_unit_test(malformed_messages_are_errors),
	    cmocka_unit_test(flag_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
