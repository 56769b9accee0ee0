/* icmp_echo.h — building ICMP / ICMPv6 echo requests and parsing what comes back: echo replies
 * and ICMP errors that quote one of our requests (RFC 792, RFC 4443). Bounds-checked: a short
 * or foreign packet is refused, never read past its end. */
#ifndef VMDELAY_ICMP_ECHO_H
#define VMDELAY_ICMP_ECHO_H

#include <stddef.h>
#include <stdint.h>

#define VD_ICMP_HDR_LEN 8
/* Largest echo payload that fits in one IPv4 datagram (65535 - 20 - 8). */
#define VD_ICMP_MAX_PAYLOAD 65507

/* First bytes of our payload: a per-run cookie so a raw socket can tell our replies from
 * another pinger's that happens to use the same identifier. */
#define VD_ICMP_COOKIE_LEN 8

enum vd_icmp_kind {
	VD_ICMP_ECHO_REPLY,
	VD_ICMP_ECHO_REQUEST, /* e.g. our own request, quoted back from a ping socket's error queue
			       */
	VD_ICMP_ERROR,	      /* an error quoting one of our echo requests */
};

struct vd_icmp_msg {
	enum vd_icmp_kind kind;
	uint8_t type, code; /* of the outer message */
	uint16_t id, seq;   /* of the echo (for errors: of the quoted request) */
	size_t icmp_len;    /* ICMP header + data bytes of the outer message */
	int ttl;	    /* from the IPv4 header when present, else -1 */
	int cookie_ok;	    /* 1 payload starts with the cookie, 0 it does not, -1 too short */
};

/* Writes an echo request (type 8 or 128) with payload_len bytes of payload into buf: the
 * cookie, then a byte pattern. IPv4 gets its checksum; ICMPv6's is the kernel's (it covers the
 * pseudo-header). Returns the bytes written, or 0 if cap is too small. */
size_t vd_icmp_echo_build(uint8_t *buf, size_t cap, int family, uint16_t id, uint16_t seq,
			  size_t payload_len, uint64_t cookie);

/* Parses buf as received on an ICMP socket of family (AF_INET / AF_INET6). with_ip_header:
 * the buffer starts with the IPv4 header (raw IPv4 sockets). cookie is compared with the
 * payload of echo replies. Returns 0 and fills out, or -1 if it is not an echo or an error
 * about an echo (type/code still filled in when the ICMP header was readable). */
int vd_icmp_echo_parse(const uint8_t *buf, size_t len, int family, int with_ip_header,
		       uint64_t cookie, struct vd_icmp_msg *out);

/* RFC 1071 Internet checksum. */
uint16_t vd_icmp_checksum(const void *data, size_t len);

/* "Destination Host Unreachable", "Time to live exceeded", ... ("ICMP type T code C" when
 * unknown) — the wording of iputils ping. */
const char *vd_icmp_error_str(int family, int type, int code, char *buf, size_t n);

/* Is type an error message (as opposed to informational) for family? */
int vd_icmp_is_error(int family, int type);

#endif
