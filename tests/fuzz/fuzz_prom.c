/* Fuzz harness: tcpmon's Prometheus endpoint parsers (tcpmon/prom.c, compiled in here: fuzz
 * harnesses link only the library) — the request line router and the [ADDR:]PORT spec. */
#include "../../tcpmon/prom.c" /* first: it defines _GNU_SOURCE */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char spec[80];
	struct sockaddr_storage sa;
	socklen_t len;
	struct vd_err err;
	size_t n = size < sizeof(spec) - 1 ? size : sizeof(spec) - 1;

	(void)tcpmon_prom_route((const char *)data, size);
	memcpy(spec, data, n);
	spec[n] = '\0';
	(void)tcpmon_prom_parse(spec, &sa, &len, &err);
	return 0;
}
