/* Unit tests: tcpmon's Prometheus endpoint parsers (tcpmon/prom.c): the [ADDR:]PORT spec, loopback
 * by default, and the status each request line gets. The endpoint itself is scraped by
 * tests/e2e/tcpmon_bpf_live.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "../../tcpmon/prom.h"

static void spec(void **state)
{
	struct sockaddr_storage sa;
	socklen_t len;
	struct vd_err err;
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)&sa;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&sa;

	assert_int_equal(tcpmon_prom_parse("9464", &sa, &len, &err), 0);
	assert_int_equal(v4->sin_family, AF_INET);
	assert_int_equal(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(ntohs(v4->sin_port), 9464);
	assert_int_equal(tcpmon_prom_parse("0.0.0.0:80", &sa, &len, &err), 0);
	assert_int_equal(v4->sin_addr.s_addr, 0);
	assert_int_equal(tcpmon_prom_parse("[::1]:9000", &sa, &len, &err), 0);
	assert_int_equal(v6->sin6_family, AF_INET6);
	assert_int_equal(len, sizeof(*v6));
	assert_int_equal(tcpmon_prom_parse("::1:9000", &sa, &len, &err), 0); /* last colon */
	assert_int_equal(ntohs(v6->sin6_port), 9000);
	const char *bad[] = {"", "0", "65536", "x", "1.2.3.4:", ":80", "[]:80", "host:80", "80x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tcpmon_prom_parse(bad[i], &sa, &len, &err), -1);
		assert_non_null(strstr(err.msg, "--prometheus"));
	}
}

static int route(const char *s)
{
	return tcpmon_prom_route(s, strlen(s));
}

static void routes(void **state)
{
	assert_int_equal(route("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	assert_int_equal(route("GET /metrics?x=1 HTTP/1.0\n\n"), 200);
	assert_int_equal(route("GET /metricsx HTTP/1.1\r\n"), 404);
	assert_int_equal(route("GET / HTTP/1.1\r\n"), 404);
	assert_int_equal(route("POST /metrics HTTP/1.1\r\n"), 405);
	assert_int_equal(route("GET /metrics\r\n"), 400);
	assert_int_equal(route("GET /metrics HTTP/1.1"), 400); /* no end of line */
	assert_int_equal(route(""), 400);
	assert_int_equal(route("\n"), 400);
	assert_int_equal(route("GET  HTTP/1.1\r\n"), 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spec),
	    cmocka_unit_test(routes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
