/* selftest.c — `tcpmon selftest-netlink`: sends malformed requests to the module and checks each
 * is refused with an error (and that the module still answers afterwards). Used by the qemu
 * end-to-end test, where dmesg is then checked for warnings. */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "nl.h"
#include "vmdelay/input/tcmnl.h"

struct mb {
	uint8_t b[512];
	size_t len;
};

static void mb_start(struct mb *m, const struct tcpmon_nl *nl, uint8_t cmd)
{
	int n = vd_tcmnl_build(m->b, sizeof(m->b), tcpmon_nl_family(nl), cmd, NLM_F_ACK, 0, NULL);
	m->len = n > 0 ? (size_t)n : 0;
}

static void mb_fix(struct mb *m)
{
	uint32_t l = (uint32_t)m->len;
	memcpy(m->b, &l, 4);
}

static void mb_raw(struct mb *m, const void *d, size_t n)
{
	memcpy(m->b + m->len, d, n);
	m->len += (n + 3) & ~(size_t)3;
	mb_fix(m);
}

static void mb_attr(struct mb *m, uint16_t type, const void *d, uint16_t n)
{
	uint16_t l = (uint16_t)(NLA_HDRLEN + n);
	uint8_t a[256] = {0};

	memcpy(a, &l, 2);
	memcpy(a + 2, &type, 2);
	memcpy(a + NLA_HDRLEN, d, n);
	mb_raw(m, a, NLA_HDRLEN + n);
}

/* A FILTER nest holding one attribute. */
static void mb_filter(struct mb *m, uint16_t type, const void *d, uint16_t n, int nested_flag)
{
	uint8_t inner[64] = {0};
	uint16_t l = (uint16_t)(NLA_HDRLEN + n);

	memcpy(inner, &l, 2);
	memcpy(inner + 2, &type, 2);
	memcpy(inner + NLA_HDRLEN, d, n);
	mb_attr(m, (uint16_t)(TCPMON_A_FILTER | (nested_flag ? NLA_F_NESTED : 0)), inner,
		(uint16_t)((NLA_HDRLEN + n + 3) & ~3u));
}

static int expect_error(struct tcpmon_nl *nl, const char *name, struct mb *m)
{
	struct vd_err err;
	int kerr = 0;
	int rc = tcpmon_nl_call_raw(nl, m->b, m->len, NULL, NULL, &kerr, &err);

	if (rc == 0 || kerr == 0) {
		printf("FAIL %s: %s\n", name, rc ? err.msg : "accepted");
		return 1;
	}
	printf("ok   %s: refused: %s\n", name, err.msg);
	return 0;
}

int tcpmon_cmd_selftest_netlink(void)
{
	struct tcpmon_nl *nl;
	struct vd_err err;
	struct mb m;
	int bad = 0;
	uint32_t u32;
	uint16_t u16 = 5;
	uint8_t u8, addr5[5] = {10, 0, 0, 1, 9};

	if (tcpmon_nl_open(&nl, &err)) {
		fprintf(stderr, "tcpmon: %s\n", err.msg);
		return VD_EXIT_RUNTIME;
	}
	mb_start(&m, nl, TCPMON_CMD_SET_LAYERS);
	mb_attr(&m, TCPMON_A_LAYERS, &u16, 2);
	bad += expect_error(nl, "layers attribute of 2 bytes", &m);

	mb_start(&m, nl, TCPMON_CMD_SET_LAYERS);
	u32 = 1u << 30;
	mb_attr(&m, TCPMON_A_LAYERS, &u32, 4);
	bad += expect_error(nl, "layers outside the mask", &m);

	mb_start(&m, nl, TCPMON_CMD_SET_LAYERS);
	u32 = 0;
	mb_attr(&m, TCPMON_A_LAYERS, &u32, 4);
	bad += expect_error(nl, "no layer", &m);

	mb_start(&m, nl, TCPMON_CMD_SET_LAYERS);
	bad += expect_error(nl, "set-layers without LAYERS", &m);

	mb_start(&m, nl, TCPMON_CMD_SET_FILTER);
	mb_filter(&m, TCPMON_FA_ADDR, addr5, sizeof(addr5), 1);
	bad += expect_error(nl, "address of 5 bytes", &m);

	mb_start(&m, nl, TCPMON_CMD_SET_FILTER);
	u8 = 17;
	mb_filter(&m, TCPMON_FA_PROTO, &u8, 1, 1);
	bad += expect_error(nl, "filter protocol UDP", &m);

	mb_start(&m, nl, TCPMON_CMD_SET_FILTER);
	u8 = 6;
	mb_filter(&m, TCPMON_FA_PROTO, &u8, 1, 0);
	bad += expect_error(nl, "nest without NLA_F_NESTED", &m);

	mb_start(&m, nl, TCPMON_CMD_SET_FILTER);
	mb_filter(&m, TCPMON_FA_PORT2, &u16, 2, 1);
	bad += expect_error(nl, "PORT2 without PORT", &m);

	mb_start(&m, nl, TCPMON_CMD_SET_FILTER);
	mb_filter(&m, TCPMON_FA_MAX + 3, &u16, 2, 1);
	bad += expect_error(nl, "unknown filter attribute", &m);

	mb_start(&m, nl, TCPMON_CMD_START);
	u32 = 1;
	mb_attr(&m, TCPMON_A_MAX + 7, &u32, 4);
	bad += expect_error(nl, "unknown attribute", &m);

	mb_start(&m, nl, TCPMON_CMD_START);
	{
		uint8_t rec[sizeof(struct tcpmon_record)] = {0};
		mb_attr(&m, TCPMON_A_RECORDS, rec, sizeof(rec));
	}
	bad += expect_error(nl, "kernel-only attribute from user space", &m);

	mb_start(&m, nl, TCPMON_CMD_START);
	{
		uint8_t a[8] = {200, 0, TCPMON_A_LAYERS, 0, 1, 0, 0, 0}; /* length past the end */
		mb_raw(&m, a, sizeof(a));
	}
	bad += expect_error(nl, "attribute longer than the message", &m);

	mb_start(&m, nl, 200);
	bad += expect_error(nl, "unknown command", &m);

	mb_start(&m, nl, TCPMON_CMD_GET_STATS);
	m.b[NLMSG_HDRLEN + 2] = 0x55; /* genetlink reserved field */
	bad += expect_error(nl, "reserved header bits set", &m);

	mb_start(&m, nl, TCPMON_CMD_GET_STATS);
	m.len = NLMSG_HDRLEN + 2; /* shorter than the genetlink header */
	mb_fix(&m);
	bad += expect_error(nl, "truncated genetlink header", &m);

	/* still alive and unchanged */
	mb_start(&m, nl, TCPMON_CMD_GET_STATS);
	if (tcpmon_nl_call_raw(nl, m.b, m.len, NULL, NULL, NULL, &err)) {
		printf("FAIL module answers a valid request afterwards: %s\n", err.msg);
		bad++;
	} else {
		printf("ok   module answers a valid request afterwards\n");
	}
	tcpmon_nl_close(nl);
	printf("selftest-netlink: %d failed\n", bad);
	return bad ? VD_EXIT_RUNTIME : 0;
}
