/* fuzz_tping_rx — what tping reads from its socket, arbitrary: the first byte picks family and
 * framing, then two length bytes split the rest into control data (parsed by vd_tstamp_parse as
 * if the kernel wrote it) and packet bytes (parsed by vd_icmp_echo_parse). Neither may read past
 * its buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vmdelay/net/icmp_echo.h"
#include "vmdelay/net/tstamp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	int family = (data[0] & 1) ? AF_INET6 : AF_INET;
	int with_ip = (data[0] >> 1) & 1;
	size_t clen = (size_t)(data[1] << 8 | data[2]);
	data += 3;
	size -= 3;
	if (clen > size)
		clen = size;
	/* Exact-size heap copies so ASan sees any overread. The control buffer is aligned as
	 * the kernel's is (malloc alignment). */
	uint8_t *ctl = malloc(clen ? clen : 1);
	uint8_t *pkt = malloc(size - clen ? size - clen : 1);
	if (!ctl || !pkt) {
		free(ctl);
		free(pkt);
		return 0;
	}
	memcpy(ctl, data, clen);
	memcpy(pkt, data + clen, size - clen);
	struct msghdr msg = {.msg_control = clen ? ctl : NULL, .msg_controllen = clen};
	struct vd_tstamp_cmsgs c;
	if (vd_tstamp_parse(&msg, &c, NULL) == 0) {
		enum vd_tstamp_kind k;
		uint32_t key;
		vd_tstamp_tx_record(&c, &k, &key);
	}
	struct vd_icmp_msg m;
	if (vd_icmp_echo_parse(pkt, size - clen, family, with_ip, 0x1122334455667788ull, &m) == 0) {
		char b[80];
		vd_icmp_error_str(family, m.type, m.code, b, sizeof(b));
	}
	free(ctl);
	free(pkt);
	return 0;
}
