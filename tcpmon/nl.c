/* nl.c — tcpmon's generic netlink session (see nl.h). */
#include "nl.h"

#include <errno.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct tcpmon_nl {
	struct nl_sock *sk;
	int family;
	uint32_t seq;
};

int tcpmon_nl_open(struct tcpmon_nl **out, struct vd_err *err)
{
	struct tcpmon_nl *nl = calloc(1, sizeof(*nl));
	int one = 1, rc;

	if (!nl || !(nl->sk = nl_socket_alloc())) {
		free(nl);
		return vd_err_set(err, "out of memory");
	}
	rc = genl_connect(nl->sk);
	if (rc < 0) {
		vd_err_set(err, "generic netlink socket: %s", nl_geterror(rc));
		goto fail;
	}
	nl_socket_enable_msg_peek(nl->sk);
	nl_socket_set_buffer_size(nl->sk, 4 << 20, 0);
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, TCPMON_GENL_NAME);
	if (nl->family < 0) {
		vd_err_set(
		    err,
		    "the tcpmon kernel module is not loaded (no generic netlink family '%s'): "
		    "load it with 'insmod tcpmon.ko' or 'modprobe tcpmon'",
		    TCPMON_GENL_NAME);
		goto fail;
	}
	nl->seq = 1;
	*out = nl;
	return 0;
fail:
	nl_socket_free(nl->sk);
	free(nl);
	return -1;
}

void tcpmon_nl_close(struct tcpmon_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

uint16_t tcpmon_nl_family(const struct tcpmon_nl *nl)
{
	return (uint16_t)nl->family;
}

static int kernel_error(int e, const char *extack, struct vd_err *err)
{
	if (e == EPERM || e == EACCES)
		return vd_err_set(err,
				  "permission denied: tcpmon needs CAP_NET_ADMIN (run it as root)");
	if (e == EPROTONOSUPPORT) /* the family went away after we resolved it */
		return vd_err_set(
		    err,
		    "the tcpmon kernel module is not loaded any more (unloaded while tcpmon ran)");
	return vd_err_set(err, "kernel: %s%s%s", strerror(e), *extack ? ": " : "", extack);
}

int tcpmon_nl_call_raw(struct tcpmon_nl *nl, uint8_t *req, size_t len, tcpmon_nl_cb cb, void *ctx,
		       int *kerr, struct vd_err *err)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(void *)req;
	uint32_t seq = ++nl->seq;
	int dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;

	if (kerr)
		*kerr = 0;
	h->nlmsg_type = (uint16_t)nl->family;
	h->nlmsg_seq = seq;
	if (nl_sendto(nl->sk, req, len) < 0)
		return vd_err_set(err, "netlink send: %s", strerror(errno));
	for (;;) {
		struct sockaddr_nl peer;
		unsigned char *buf = NULL;
		int n = nl_recv(nl->sk, &peer, &buf, NULL);
		size_t off = 0;

		if (n <= 0) {
			free(buf);
			return vd_err_set(err, "netlink receive: %s",
					  n < 0 ? nl_geterror(n) : "closed");
		}
		while (off < (size_t)n) {
			struct vd_tcmnl_msg m;
			size_t used;

			if (vd_tcmnl_parse(buf + off, (size_t)n - off, &m, &used, err)) {
				free(buf);
				return vd_err_prefix(err, "bad reply from the kernel");
			}
			off += used;
			if (m.seq != seq)
				continue; /* a late reply to an earlier request */
			switch (m.kind) {
			case VD_TCMNL_ERROR:
				free(buf);
				if (kerr)
					*kerr = -m.error;
				return kernel_error(-m.error, m.extack, err);
			case VD_TCMNL_ACK:
				if (!dump) {
					free(buf);
					return 0;
				}
				break;
			case VD_TCMNL_DONE:
				free(buf);
				return 0;
			case VD_TCMNL_DATA:
				if (cb && cb(&m, ctx, err)) {
					free(buf);
					return -1;
				}
				break;
			case VD_TCMNL_OTHER:
				break;
			}
		}
		free(buf);
	}
}

int tcpmon_nl_call(struct tcpmon_nl *nl, uint8_t cmd, int dump, const struct vd_tcmnl_filter *f,
		   tcpmon_nl_cb cb, void *ctx, int *kerr, struct vd_err *err)
{
	uint8_t req[512];
	int len = vd_tcmnl_build(req, sizeof(req), (uint16_t)nl->family, cmd,
				 dump ? NLM_F_DUMP : NLM_F_ACK, 0, f);

	if (len < 0)
		return vd_err_set(err, "request too large");
	return tcpmon_nl_call_raw(nl, req, (size_t)len, cb, ctx, kerr, err);
}
