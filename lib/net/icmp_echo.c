/* icmp_echo.c — ICMP echo request building and reply / error parsing for IPv4 (RFC 792) and
 * IPv6 (RFC 4443), reading packet bytes only through bounds-checked helpers. */
#include "vmdelay/net/icmp_echo.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

enum {
	ICMP4_ECHO_REPLY = 0,
	ICMP4_UNREACH = 3,
	ICMP4_REDIRECT = 5,
	ICMP4_ECHO = 8,
	ICMP4_TIME_EXCEEDED = 11,
	ICMP4_PARAMPROB = 12,
	ICMP6_UNREACH = 1,
	ICMP6_TOO_BIG = 2,
	ICMP6_TIME_EXCEEDED = 3,
	ICMP6_PARAMPROB = 4,
	ICMP6_ECHO = 128,
	ICMP6_ECHO_REPLY = 129,
};

#define IP6_HDR_LEN 40

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t vd_icmp_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t vd_icmp_echo_build(uint8_t *buf, size_t cap, int family, uint16_t id, uint16_t seq,
			  size_t payload_len, uint64_t cookie)
{
	size_t len = VD_ICMP_HDR_LEN + payload_len;
	if (payload_len > VD_ICMP_MAX_PAYLOAD || cap < len)
		return 0;
	buf[0] = family == AF_INET6 ? ICMP6_ECHO : ICMP4_ECHO;
	buf[1] = 0;
	put16(buf + 2, 0);
	put16(buf + 4, id);
	put16(buf + 6, seq);
	uint8_t *pl = buf + VD_ICMP_HDR_LEN;
	for (size_t i = 0; i < payload_len; i++)
		pl[i] = i < VD_ICMP_COOKIE_LEN ? (uint8_t)(cookie >> (8 * i)) : (uint8_t)i;
	if (family != AF_INET6)
		put16(buf + 2, vd_icmp_checksum(buf, len));
	return len;
}

int vd_icmp_is_error(int family, int type)
{
	if (family == AF_INET6)
		return type < 128;
	return type == ICMP4_UNREACH || type == ICMP4_REDIRECT || type == ICMP4_TIME_EXCEEDED ||
	       type == ICMP4_PARAMPROB || type == 4 /* source quench */;
}

/* The echo request an error quotes: its IP header (v4: any IHL; v6: the fixed header, our
 * requests carry no extension headers) and at least the 8 ICMP header bytes. */
static int parse_quoted(const uint8_t *q, size_t len, int family, struct vd_icmp_msg *out)
{
	size_t hl;
	if (family == AF_INET6) {
		if (len < IP6_HDR_LEN || (q[0] >> 4) != 6 || q[6] != IPPROTO_ICMPV6)
			return -1;
		hl = IP6_HDR_LEN;
	} else {
		if (len < 20 || (q[0] >> 4) != 4 || q[9] != IPPROTO_ICMP)
			return -1;
		hl = (size_t)(q[0] & 0x0f) * 4;
		if (hl < 20)
			return -1;
	}
	if (len < hl + VD_ICMP_HDR_LEN)
		return -1;
	const uint8_t *ic = q + hl;
	if (ic[0] != (family == AF_INET6 ? ICMP6_ECHO : ICMP4_ECHO))
		return -1;
	out->id = get16(ic + 4);
	out->seq = get16(ic + 6);
	return 0;
}

int vd_icmp_echo_parse(const uint8_t *buf, size_t len, int family, int with_ip_header,
		       uint64_t cookie, struct vd_icmp_msg *out)
{
	memset(out, 0, sizeof(*out));
	out->ttl = -1;
	out->cookie_ok = -1;
	if (with_ip_header && family == AF_INET) {
		if (len < 20 || (buf[0] >> 4) != 4)
			return -1;
		size_t hl = (size_t)(buf[0] & 0x0f) * 4;
		if (hl < 20 || len < hl)
			return -1;
		out->ttl = buf[8];
		buf += hl;
		len -= hl;
	}
	if (len < VD_ICMP_HDR_LEN)
		return -1;
	out->type = buf[0];
	out->code = buf[1];
	out->icmp_len = len;
	int v6 = family == AF_INET6;
	if (out->type == (v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHO_REPLY) ||
	    out->type == (v6 ? ICMP6_ECHO : ICMP4_ECHO)) {
		out->kind = out->type == (v6 ? ICMP6_ECHO : ICMP4_ECHO) ? VD_ICMP_ECHO_REQUEST
									: VD_ICMP_ECHO_REPLY;
		out->id = get16(buf + 4);
		out->seq = get16(buf + 6);
		if (len >= VD_ICMP_HDR_LEN + VD_ICMP_COOKIE_LEN) {
			out->cookie_ok = 1;
			for (int i = 0; i < VD_ICMP_COOKIE_LEN; i++)
				if (buf[VD_ICMP_HDR_LEN + i] != (uint8_t)(cookie >> (8 * i)))
					out->cookie_ok = 0;
		}
		return 0;
	}
	if (!vd_icmp_is_error(family, out->type))
		return -1;
	out->kind = VD_ICMP_ERROR;
	return parse_quoted(buf + VD_ICMP_HDR_LEN, len - VD_ICMP_HDR_LEN, family, out);
}

const char *vd_icmp_error_str(int family, int type, int code, char *buf, size_t n)
{
	static const char *const unreach4[] = {
	    "Destination Net Unreachable",
	    "Destination Host Unreachable",
	    "Destination Protocol Unreachable",
	    "Destination Port Unreachable",
	    "Frag needed and DF set",
	    "Source Route Failed",
	    "Destination Net Unknown",
	    "Destination Host Unknown",
	    "Source Host Isolated",
	    "Destination Net Prohibited",
	    "Destination Host Prohibited",
	    "Destination Net Unreachable for Type of Service",
	    "Destination Host Unreachable for Type of Service",
	    "Packet filtered",
	    "Precedence Violation",
	    "Precedence Cutoff",
	};
	static const char *const unreach6[] = {
	    "No route",
	    "Administratively prohibited",
	    "Beyond scope of source address",
	    "Address unreachable",
	    "Port unreachable",
	    "Source address failed ingress/egress policy",
	    "Reject route to destination",
	};
	const char *s = NULL;
	if (family == AF_INET6) {
		if (type == ICMP6_UNREACH && code >= 0 &&
		    code < (int)(sizeof(unreach6) / sizeof(*unreach6)))
			s = unreach6[code];
		else if (type == ICMP6_TOO_BIG)
			s = "Packet too big";
		else if (type == ICMP6_TIME_EXCEEDED)
			s = code ? "Fragment reassembly time exceeded" : "Time to live exceeded";
		else if (type == ICMP6_PARAMPROB)
			s = "Parameter problem";
	} else {
		if (type == ICMP4_UNREACH && code >= 0 &&
		    code < (int)(sizeof(unreach4) / sizeof(*unreach4)))
			s = unreach4[code];
		else if (type == ICMP4_TIME_EXCEEDED)
			s = code ? "Frag reassembly time exceeded" : "Time to live exceeded";
		else if (type == ICMP4_REDIRECT)
			s = "Redirect";
		else if (type == ICMP4_PARAMPROB)
			s = "Parameter problem";
	}
	if (s)
		snprintf(buf, n, "%s", s);
	else
		snprintf(buf, n, "ICMP type %d code %d", type, code);
	return buf;
}
