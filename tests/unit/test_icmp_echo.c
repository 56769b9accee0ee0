/* Unit tests: ICMP / ICMPv6 echo building and parsing — replies with and without the IPv4
 * header, errors quoting our request, short and foreign packets. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "vmdelay/net/icmp_echo.h"

#define COOKIE UINT64_C(0x1122334455667788)

static void ip4_header(uint8_t *h, size_t total, uint8_t ttl)
{
	memset(h, 0, 20);
	h[0] = 0x45;
	h[2] = (uint8_t)(total >> 8);
	h[3] = (uint8_t)total;
	h[8] = ttl;
	h[9] = IPPROTO_ICMP;
}

static void build_v4_has_valid_checksum(void **state)
{
	uint8_t b[200];
	size_t n = vd_icmp_echo_build(b, sizeof(b), AF_INET, 0x1234, 7, 100, COOKIE);
	assert_int_equal(n, 108);
	assert_int_equal(b[0], 8);
	assert_int_equal(vd_icmp_checksum(b, n), 0); /* a correct checksum sums to zero */
	assert_int_equal(vd_icmp_echo_build(b, 50, AF_INET, 1, 1, 100, COOKIE), 0);
	assert_int_equal(vd_icmp_echo_build(b, sizeof(b), AF_INET6, 1, 1, 0, COOKIE), 8);
	assert_int_equal(b[0], 128);
	/* RFC 1071 example: 0x0001 f203 f4f5 f6f7 sums to 0xddf2, checksum 0x220d. */
	const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	assert_int_equal(vd_icmp_checksum(ex, sizeof(ex)), 0x220d);
}

static void reply_roundtrip(void **state)
{
	uint8_t b[300];
	size_t n = vd_icmp_echo_build(b + 20, sizeof(b) - 20, AF_INET, 0xbeef, 513, 56, COOKIE);
	b[20] = 0; /* make it a reply */
	ip4_header(b, n + 20, 61);
	struct vd_icmp_msg m;
	assert_int_equal(vd_icmp_echo_parse(b, n + 20, AF_INET, 1, COOKIE, &m), 0);
	assert_int_equal(m.kind, VD_ICMP_ECHO_REPLY);
	assert_int_equal(m.id, 0xbeef);
	assert_int_equal(m.seq, 513);
	assert_int_equal(m.ttl, 61);
	assert_int_equal(m.icmp_len, 64);
	assert_int_equal(m.cookie_ok, 1);
	/* Another pinger's reply with the same id: the cookie differs. */
	assert_int_equal(vd_icmp_echo_parse(b, n + 20, AF_INET, 1, COOKIE + 1, &m), 0);
	assert_int_equal(m.cookie_ok, 0);
	/* Datagram sockets give no IP header. */
	assert_int_equal(vd_icmp_echo_parse(b + 20, n, AF_INET, 0, COOKIE, &m), 0);
	assert_int_equal(m.ttl, -1);
	/* Too short to hold the cookie: cannot tell. */
	assert_int_equal(vd_icmp_echo_parse(b + 20, 12, AF_INET, 0, COOKIE, &m), 0);
	assert_int_equal(m.cookie_ok, -1);
	/* v6 reply. */
	n = vd_icmp_echo_build(b, sizeof(b), AF_INET6, 9, 65535, 100, COOKIE);
	b[0] = 129;
	assert_int_equal(vd_icmp_echo_parse(b, n, AF_INET6, 0, COOKIE, &m), 0);
	assert_int_equal(m.kind, VD_ICMP_ECHO_REPLY);
	assert_int_equal(m.seq, 65535);
}

static void errors_quote_the_request(void **state)
{
	/* IPv4: outer IP, ICMP 3/1, quoted IP header (with options: IHL 6), quoted echo. */
	uint8_t b[200];
	memset(b, 0, sizeof(b));
	ip4_header(b, 20 + 8 + 24 + 8, 64);
	b[20] = 3;
	b[21] = 1;
	uint8_t *q = b + 28;
	ip4_header(q, 60, 1);
	q[0] = 0x46;
	vd_icmp_echo_build(q + 24, 8, AF_INET, 0x4242, 99, 0, COOKIE);
	struct vd_icmp_msg m;
	assert_int_equal(vd_icmp_echo_parse(b, 20 + 8 + 24 + 8, AF_INET, 1, COOKIE, &m), 0);
	assert_int_equal(m.kind, VD_ICMP_ERROR);
	assert_int_equal(m.type, 3);
	assert_int_equal(m.code, 1);
	assert_int_equal(m.id, 0x4242);
	assert_int_equal(m.seq, 99);
	/* Cut inside the quoted ICMP header: refused, no read past the end. */
	for (size_t cut = 0; cut < 20 + 8 + 24 + 8; cut++)
		assert_int_equal(vd_icmp_echo_parse(b, cut, AF_INET, 1, COOKIE, &m), -1);
	/* IPv6: 1/3 quoting an IPv6 header and the echo request. */
	uint8_t c[8 + 40 + 8];
	memset(c, 0, sizeof(c));
	c[0] = 1;
	c[1] = 3;
	c[8] = 0x60;
	c[8 + 6] = IPPROTO_ICMPV6;
	vd_icmp_echo_build(c + 48, 8, AF_INET6, 7, 300, 0, COOKIE);
	assert_int_equal(vd_icmp_echo_parse(c, sizeof(c), AF_INET6, 0, COOKIE, &m), 0);
	assert_int_equal(m.kind, VD_ICMP_ERROR);
	assert_int_equal(m.seq, 300);
	char s[80];
	assert_string_equal(vd_icmp_error_str(AF_INET6, 1, 3, s, sizeof(s)), "Address unreachable");
	assert_string_equal(vd_icmp_error_str(AF_INET, 3, 1, s, sizeof(s)),
			    "Destination Host Unreachable");
	assert_string_equal(vd_icmp_error_str(AF_INET, 42, 9, s, sizeof(s)), "ICMP type 42 code 9");
}

static void foreign_packets_are_refused(void **state)
{
	uint8_t b[64];
	memset(b, 0, sizeof(b));
	struct vd_icmp_msg m;
	b[0] = 13; /* timestamp request: not ours */
	assert_int_equal(vd_icmp_echo_parse(b, 20, AF_INET, 0, COOKIE, &m), -1);
	b[0] = 135; /* neighbour solicitation */
	assert_int_equal(vd_icmp_echo_parse(b, 24, AF_INET6, 0, COOKIE, &m), -1);
	/* An error quoting a UDP datagram. */
	b[0] = 3;
	ip4_header(b + 8, 28, 1);
	b[8 + 9] = IPPROTO_UDP;
	assert_int_equal(vd_icmp_echo_parse(b, 36, AF_INET, 0, COOKIE, &m), -1);
	/* A bad IPv4 header length in front. */
	ip4_header(b, 40, 1);
	b[0] = 0x41;
	assert_int_equal(vd_icmp_echo_parse(b, 40, AF_INET, 1, COOKIE, &m), -1);
	assert_int_equal(vd_icmp_echo_parse(b, 3, AF_INET, 0, COOKIE, &m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(build_v4_has_valid_checksum),
	    cmocka_unit_test(reply_roundtrip),
	    cmocka_unit_test(errors_quote_the_request),
	    cmocka_unit_test(foreign_packets_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
