/* tstamp.c — SO_TIMESTAMPING setup and control-message parsing (kernel
 * Documentation/networking/timestamping.rst, sections 1.3 "Timestamp Reporting" and 2). */
#include "vmdelay/net/tstamp.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

unsigned vd_tstamp_sw_flags(void)
{
	return SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_TX_SOFTWARE |
	       SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
	       SOF_TIMESTAMPING_OPT_TSONLY;
}

unsigned vd_tstamp_hw_flags(void)
{
	return SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE |
	       SOF_TIMESTAMPING_RAW_HARDWARE;
}

int vd_tstamp_enable(int fd, unsigned asked, unsigned *granted, struct vd_err *err)
{
	int v = (int)asked;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &v, sizeof(v)) < 0)
		return vd_err_set(err, "SO_TIMESTAMPING 0x%x: %s", asked, strerror(errno));
	socklen_t len = sizeof(v);
	v = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &v, &len) < 0)
		return vd_err_set(err, "SO_TIMESTAMPING (read back): %s", strerror(errno));
	*granted = (unsigned)v;
	return 0;
}

const char *vd_tstamp_flags_str(unsigned flags, char *buf, size_t n)
{
	static const char *const names[] = {
	    "tx_hardware",  "tx_software", "rx_hardware", "rx_software", "software", "sys_hardware",
	    "raw_hardware", "opt_id",	   "tx_sched",	  "tx_ack",	 "opt_cmsg", "opt_tsonly",
	    "opt_stats",    "opt_pktinfo", "opt_tx_swhw", "bind_phc",
	};
	size_t off = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < 32; i++) {
		if (!(flags & (1u << i)))
			continue;
		char unknown[16];
		const char *name = names[0];
		if (i < sizeof(names) / sizeof(names[0])) {
			name = names[i];
		} else {
			snprintf(unknown, sizeof(unknown), "bit%u", i);
			name = unknown;
		}
		int w = snprintf(buf + off, n - off, "%s%s", off ? "|" : "", name);
		if (w < 0 || (size_t)w >= n - off)
			break;
		off += (size_t)w;
	}
	if (!off)
		snprintf(buf, n, "none");
	return buf;
}

static int if_ioctl(const char *ifname, unsigned long req, void *data, struct vd_err *err,
		    const char *what)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return vd_err_set(err, "%s: interface name too long", ifname);
	strcpy(ifr.ifr_name, ifname);
	ifr.ifr_data = data;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vd_err_set(err, "%s: socket: %s", what, strerror(errno));
	int rc = ioctl(fd, req, &ifr);
	int e = errno;
	close(fd);
	if (rc < 0)
		return vd_err_set(err, "%s: %s: %s", ifname, what, strerror(e));
	return 0;
}

int vd_tstamp_if_caps(const char *ifname, unsigned *caps, int *phc_index, struct vd_err *err)
{
	struct ethtool_ts_info info;
	memset(&info, 0, sizeof(info));
	info.cmd = ETHTOOL_GET_TS_INFO;
	if (if_ioctl(ifname, SIOCETHTOOL, &info, err, "ETHTOOL_GET_TS_INFO"))
		return -1;
	*caps = info.so_timestamping;
	*phc_index = info.phc_index;
	return 0;
}

int vd_tstamp_if_hw_enable(const char *ifname, struct vd_err *err)
{
	struct hwtstamp_config cfg = {
	    .flags = 0, .tx_type = HWTSTAMP_TX_ON, .rx_filter = HWTSTAMP_FILTER_ALL};
	return if_ioctl(ifname, SIOCSHWTSTAMP, &cfg, err, "SIOCSHWTSTAMP");
}

/* A zero timespec means "not stamped"; anything a kernel cannot produce (negative, a
 * nanosecond field out of range, or a second count whose ns overflow int64) is an error. */
static int ts_or_none(int64_t sec, int64_t nsec, vd_ns *out, struct vd_err *err)
{
	if (sec == 0 && nsec == 0) {
		*out = VD_NS_NONE;
		return 0;
	}
	if (sec < 0 || sec >= INT64_MAX / VD_NS_PER_SEC || nsec < 0 || nsec >= VD_NS_PER_SEC)
		return vd_err_set(err, "SCM_TIMESTAMPING: timestamp out of range (%lld s, %lld ns)",
				  (long long)sec, (long long)nsec);
	*out = sec * VD_NS_PER_SEC + nsec;
	return 0;
}

/* struct scm_timestamping (time_t timespecs) and scm_timestamping64 (__kernel_timespec): on
 * 64-bit both are three pairs of 64-bit integers, which is all this reads. */
static int parse_timestamping(const struct cmsghdr *c, size_t dlen, struct vd_tstamp_cmsgs *out,
			      struct vd_err *err)
{
	int64_t v[6];
	if (sizeof(struct timespec) != 2 * sizeof(int64_t))
		return vd_err_set(err, "SCM_TIMESTAMPING: unsupported timespec layout");
	if (dlen < sizeof(v))
		return vd_err_set(err, "SCM_TIMESTAMPING: %zu bytes, need %zu", dlen, sizeof(v));
	memcpy(v, CMSG_DATA(c), sizeof(v));
	if (ts_or_none(v[0], v[1], &out->sw, err) || ts_or_none(v[4], v[5], &out->hw, err))
		return -1;
	out->have_ts = 1;
	return 0;
}

static int parse_ee(const struct cmsghdr *c, size_t dlen, struct vd_tstamp_cmsgs *out,
		    struct vd_err *err)
{
	struct sock_extended_err ee;
	if (dlen < sizeof(ee))
		return vd_err_set(err, "extended error: %zu bytes, need %zu", dlen, sizeof(ee));
	memcpy(&ee, CMSG_DATA(c), sizeof(ee));
	out->have_ee = 1;
	out->ee_errno = ee.ee_errno;
	out->ee_origin = ee.ee_origin;
	out->ee_type = ee.ee_type;
	out->ee_code = ee.ee_code;
	out->ee_info = ee.ee_info;
	out->ee_data = ee.ee_data;
	/* The offender address follows the structure; copy what is there, bounded. */
	size_t rest = dlen - sizeof(ee);
	if (rest >= sizeof(sa_family_t)) {
		if (rest > sizeof(out->offender))
			rest = sizeof(out->offender);
		memcpy(&out->offender, CMSG_DATA(c) + sizeof(ee), rest);
		if (out->offender.ss_family != AF_INET && out->offender.ss_family != AF_INET6)
			out->offender.ss_family = 0;
	}
	return 0;
}

int vd_tstamp_parse(const struct msghdr *msg, struct vd_tstamp_cmsgs *out, struct vd_err *err)
{
	memset(out, 0, sizeof(*out));
	out->sw = out->hw = VD_NS_NONE;
	out->ttl = -1;
	if (msg->msg_flags & MSG_CTRUNC)
		return vd_err_set(err, "control data truncated (MSG_CTRUNC): timestamps lost");
	if (!msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return 0;
	const uint8_t *base = msg->msg_control, *end = base + msg->msg_controllen;
	/* Walk by hand rather than with CMSG_NXTHDR so a cmsg_len that lies is an error. */
	for (const uint8_t *p = base; p + sizeof(struct cmsghdr) <= end;) {
		const struct cmsghdr *c = (const struct cmsghdr *)p;
		if (c->cmsg_len < CMSG_LEN(0) || c->cmsg_len > (size_t)(end - p))
			return vd_err_set(err, "control message at offset %zu: bad length %zu",
					  (size_t)(p - base), (size_t)c->cmsg_len);
		size_t dlen = c->cmsg_len - CMSG_LEN(0);
		int rc = 0;
		if (c->cmsg_level == SOL_SOCKET && (c->cmsg_type == SO_TIMESTAMPING_OLD
#ifdef SO_TIMESTAMPING_NEW
						    || c->cmsg_type == SO_TIMESTAMPING_NEW
#endif
						    )) {
			rc = parse_timestamping(c, dlen, out, err);
		} else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
			   (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
			rc = parse_ee(c, dlen, out, err);
		} else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_TTL) ||
			   (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
			int ttl;
			if (dlen < sizeof(ttl))
				return vd_err_set(err, "TTL control message: %zu bytes", dlen);
			memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
			out->ttl = ttl;
		}
		if (rc)
			return -1;
		p += CMSG_ALIGN(c->cmsg_len);
	}
	return 0;
}

int vd_tstamp_tx_record(const struct vd_tstamp_cmsgs *c, enum vd_tstamp_kind *kind, uint32_t *key)
{
	if (!c->have_ee || c->ee_origin != SO_EE_ORIGIN_TIMESTAMPING || c->ee_errno != ENOMSG)
		return 0;
	switch (c->ee_info) {
	case SCM_TSTAMP_SND:
		*kind = VD_TSTAMP_SND;
		break;
	case SCM_TSTAMP_SCHED:
		*kind = VD_TSTAMP_SCHED;
		break;
	case SCM_TSTAMP_ACK:
		*kind = VD_TSTAMP_ACK;
		break;
	default:
		return 0;
	}
	*key = c->ee_data;
	return 1;
}

int vd_tstamp_wait_rx_ready(vd_ns max_wait)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
	socklen_t alen = sizeof(a);
	int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	int ready = 0;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) < 0)
		goto out;
	vd_ns end = vd_now(CLOCK_MONOTONIC) + max_wait;
	while (!ready && vd_now(CLOCK_MONOTONIC) < end) {
		if (sendto(fd, "t", 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1)
			break; /* loopback down: nothing to learn here */
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10) <= 0)
			continue;
		char data[8];
		union {
			char buf[256];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf)};
		struct vd_tstamp_cmsgs c;
		if (recvmsg(fd, &msg, MSG_DONTWAIT) >= 0 && vd_tstamp_parse(&msg, &c, NULL) == 0 &&
		    vd_ns_valid(c.sw)) {
			ready = 1;
		} else {
			struct timespec ts = {0, 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
out:
	close(fd);
	return ready;
}
