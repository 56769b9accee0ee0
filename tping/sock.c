/* sock.c — opening tping's ICMP socket (ICMP datagram socket where net.ipv4.ping_group_range
 * allows, else raw), configuring SO_TIMESTAMPING, and dropping privileges afterwards. */
#define _GNU_SOURCE
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/net_tstamp.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmdelay/net/tstamp.h"

static int resolve(const struct tping_opts *o, struct tping_sock *s, struct vd_err *err)
{
	struct addrinfo hints = {.ai_family = o->family, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(o->target, NULL, &hints, &res);
	if (rc)
		return vd_err_set(err, "%s: %s", o->target,
				  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	struct addrinfo *a = res;
	while (a && a->ai_family != AF_INET && a->ai_family != AF_INET6)
		a = a->ai_next;
	if (!a) {
		freeaddrinfo(res);
		return vd_err_set(err, "%s: no IPv4 or IPv6 address", o->target);
	}
	memcpy(&s->dst, a->ai_addr, a->ai_addrlen);
	s->dst_len = a->ai_addrlen;
	s->family = a->ai_family;
	freeaddrinfo(res);
	getnameinfo((struct sockaddr *)&s->dst, s->dst_len, s->dst_str, sizeof(s->dst_str), NULL, 0,
		    NI_NUMERICHOST);
	return 0;
}

/* Raw sockets see every ICMP packet of the host: let through only replies and errors. */
static int set_raw_filter(struct tping_sock *s, struct vd_err *err)
{
	if (s->family == AF_INET) {
		struct icmp_filter f = {
		    .data = ~((1u << ICMP_ECHOREPLY) | (1u << ICMP_DEST_UNREACH) |
			      (1u << ICMP_SOURCE_QUENCH) | (1u << ICMP_REDIRECT) |
			      (1u << ICMP_TIME_EXCEEDED) | (1u << ICMP_PARAMETERPROB))};
		if (setsockopt(s->fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f)) < 0)
			return vd_err_set(err, "ICMP_FILTER: %s", strerror(errno));
	} else {
		struct icmp6_filter f;
		memset(&f, 0xff, sizeof(f)); /* a set bit blocks */
		const int pass[] = {ICMPV6_ECHO_REPLY, ICMPV6_DEST_UNREACH, ICMPV6_PKT_TOOBIG,
				    ICMPV6_TIME_EXCEED, ICMPV6_PARAMPROB};
		for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
			f.data[pass[i] >> 5] &= ~(1u << (pass[i] & 31));
		if (setsockopt(s->fd, IPPROTO_ICMPV6, ICMPV6_FILTER, &f, sizeof(f)) < 0)
			return vd_err_set(err, "ICMPV6_FILTER: %s", strerror(errno));
	}
	return 0;
}

static int setopt_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v));
}

/* -I: a source address to bind to, or an interface name. */
static int bind_source(const struct tping_opts *o, struct tping_sock *s, struct vd_err *err)
{
	struct sockaddr_storage src;
	memset(&src, 0, sizeof(src));
	socklen_t len;
	int is_addr = 0;
	if (s->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&src;
		in->sin_family = AF_INET;
		len = sizeof(*in);
		is_addr = o->iface && inet_pton(AF_INET, o->iface, &in->sin_addr) == 1;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&src;
		in6->sin6_family = AF_INET6;
		len = sizeof(*in6);
		is_addr = o->iface && inet_pton(AF_INET6, o->iface, &in6->sin6_addr) == 1;
	}
	if (o->iface && !is_addr) {
		if (strlen(o->iface) >= IF_NAMESIZE || !if_nametoindex(o->iface))
			return vd_err_set(err, "option '-I': no interface or address '%s'",
					  o->iface);
		if (setsockopt(s->fd, SOL_SOCKET, SO_BINDTODEVICE, o->iface,
			       (socklen_t)strlen(o->iface)) < 0)
			return vd_err_set(err, "option '-I': %s: %s", o->iface, strerror(errno));
		snprintf(s->ifname, sizeof(s->ifname), "%s", o->iface);
	}
	/* A datagram socket is bound (port 0: the kernel picks) so its echo id is known now. */
	if (is_addr || !s->raw) {
		if (bind(s->fd, (struct sockaddr *)&src, len) < 0)
			return vd_err_set(err, "%s%s: bind: %s", is_addr ? "option '-I': " : "",
					  is_addr ? o->iface : "ICMP socket", strerror(errno));
	}
	if (!s->raw) {
		len = sizeof(src);
		if (getsockname(s->fd, (struct sockaddr *)&src, &len) < 0)
			return vd_err_set(err, "getsockname: %s", strerror(errno));
		s->id = ntohs(s->family == AF_INET ? ((struct sockaddr_in *)&src)->sin_port
						   : ((struct sockaddr_in6 *)&src)->sin6_port);
	}
	return 0;
}

/* The interface a packet to dst leaves by: the route's source address, found among the
 * interfaces' addresses. */
static void find_ifname(struct tping_sock *s)
{
	if (s->ifname[0])
		return;
	int fd = socket(s->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	struct sockaddr_storage d = s->dst, local;
	socklen_t len = sizeof(local);
	if (s->family == AF_INET)
		((struct sockaddr_in *)&d)->sin_port = htons(9);
	else
		((struct sockaddr_in6 *)&d)->sin6_port = htons(9);
	if (connect(fd, (struct sockaddr *)&d, s->dst_len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&local, &len) == 0) {
		struct ifaddrs *ifa = NULL;
		if (getifaddrs(&ifa) == 0) {
			for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
				if (!i->ifa_addr || i->ifa_addr->sa_family != s->family)
					continue;
				int same =
				    s->family == AF_INET
					? ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
					      ((struct sockaddr_in *)&local)->sin_addr.s_addr
					: memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
						 &((struct sockaddr_in6 *)&local)->sin6_addr,
						 16) == 0;
				if (same) {
					snprintf(s->ifname, sizeof(s->ifname), "%s", i->ifa_name);
					break;
				}
			}
			freeifaddrs(ifa);
		}
	}
	close(fd);
}

static int setup_tstamp(const struct tping_opts *o, struct tping_sock *s, struct vd_err *err)
{
	unsigned hw = vd_tstamp_hw_flags();
	s->ts_asked = vd_tstamp_sw_flags();
	s->phc_index = -1;
	int hw_ok = 0;
	struct vd_err e2;
	find_ifname(s);
	if (!s->ifname[0]) {
		snprintf(s->hw_note, sizeof(s->hw_note), "outgoing interface unknown");
	} else if (vd_tstamp_if_caps(s->ifname, &s->if_caps, &s->phc_index, &e2)) {
		snprintf(s->hw_note, sizeof(s->hw_note), "%s", e2.msg);
	} else if ((s->if_caps & (SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE)) !=
		   (SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE)) {
		snprintf(s->hw_note, sizeof(s->hw_note), "%s: no hardware timestamping", s->ifname);
	} else {
		s->ts_asked |= hw;
		if (vd_tstamp_if_hw_enable(s->ifname, &e2))
			snprintf(s->hw_note, sizeof(s->hw_note), "%s", e2.msg);
		else {
			hw_ok = 1;
			snprintf(s->hw_note, sizeof(s->hw_note),
				 "%s: hardware timestamping on (phc %d)", s->ifname, s->phc_index);
		}
	}
	if (vd_tstamp_enable(s->fd, s->ts_asked, &s->ts_granted, err))
		return -1;
	if (!hw_ok)
		s->ts_granted &= ~hw;
	s->hw = hw_ok && (s->ts_granted & SOF_TIMESTAMPING_TX_HARDWARE);
	s->tstamp = 1;
	s->rx_ready = vd_tstamp_wait_rx_ready(200 * VD_NS_PER_MS);
	(void)o;
	return 0;
}

int tping_sock_open(const struct tping_opts *o, struct tping_sock *s, struct vd_err *err)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (resolve(o, s, err))
		return -1;
	int proto = s->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	s->fd = socket(s->family, SOCK_DGRAM | SOCK_CLOEXEC, proto);
	int dgram_errno = errno;
	if (s->fd < 0) {
		s->raw = 1;
		s->fd = socket(s->family, SOCK_RAW | SOCK_CLOEXEC, proto);
		if (s->fd < 0)
			return vd_err_set(
			    err,
			    "cannot open an ICMP socket: datagram socket: %s (gid %u not in "
			    "net.ipv4.ping_group_range?), raw socket: %s (needs CAP_NET_RAW)",
			    strerror(dgram_errno), (unsigned)getgid(), strerror(errno));
	}
	if (getrandom(&s->cookie, sizeof(s->cookie), 0) != sizeof(s->cookie))
		s->cookie =
		    (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ (uint64_t)vd_now(CLOCK_MONOTONIC);
	if (s->raw)
		s->id = (uint16_t)(s->cookie >> 48);
	int v4 = s->family == AF_INET;
	if (s->raw && set_raw_filter(s, err))
		goto fail;
	/* Errors of a datagram socket arrive on its error queue; a raw socket reads them as
	 * packets (with IP_RECVERR it would get each twice). */
	if (!s->raw &&
	    setopt_int(s->fd, v4 ? SOL_IP : SOL_IPV6, v4 ? IP_RECVERR : IPV6_RECVERR, 1)) {
		vd_err_set(err, "IP_RECVERR: %s", strerror(errno));
		goto fail;
	}
	if (setopt_int(s->fd, v4 ? SOL_IP : SOL_IPV6, v4 ? IP_RECVTTL : IPV6_RECVHOPLIMIT, 1)) {
		vd_err_set(err, "IP_RECVTTL: %s", strerror(errno));
		goto fail;
	}
	/* Room for replies and two TX records per probe at high rates. */
	int buf = 4 << 20;
	if (setopt_int(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, buf))
		setopt_int(s->fd, SOL_SOCKET, SO_RCVBUF, buf);
	if (bind_source(o, s, err))
		goto fail;
	if (o->no_tstamp)
		snprintf(s->hw_note, sizeof(s->hw_note), "timestamping off (--no-timestamps)");
	else if (setup_tstamp(o, s, err))
		goto fail;
	return 0;
fail:
	tping_sock_close(s);
	return -1;
}

void tping_sock_close(struct tping_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int tping_setid_install(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg))
		return 1;
	return ru != eu || ru != su || rg != eg || rg != sg;
}

int tping_drop_privileges(struct vd_err *err)
{
	uid_t uid = getuid(), ru, eu, su;
	gid_t gid = getgid(), rg, eg, sg;
	/* Groups first, while a setuid-root tping may still change them: the caller's own
	 * supplementary groups are replaced by none (root's would be kept otherwise). */
	if (geteuid() == 0 && uid != 0 && setgroups(0, NULL) < 0)
		return vd_err_set(err, "setgroups: %s", strerror(errno));
	/* All three IDs, the saved one included: it would let the process take them back. */
	if (setresgid(gid, gid, gid) < 0)
		return vd_err_set(err, "setresgid: %s", strerror(errno));
	if (setresuid(uid, uid, uid) < 0)
		return vd_err_set(err, "setresuid: %s", strerror(errno));
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) < 0)
		return vd_err_set(err, "capset: %s", strerror(errno));
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg) || eu != uid || su != uid ||
	    eg != gid || sg != gid)
		return vd_err_set(err, "privileges still held after dropping them");
	return 0;
}
