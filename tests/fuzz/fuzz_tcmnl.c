/* Fuzz harness: the kernel's tcpmon netlink replies (lib/input/tcmnl.c) — a buffer of netlink
 * messages as recv() returns it, each parsed and its records and calibration pairs decoded. */
#include <stddef.h>
#include <stdint.h>

#include "vmdelay/input/tcmnl.h"
#include "vmdelay/input/tcmrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct vd_tcmnl_msg m;
		struct vd_err err;
		size_t used;

		if (vd_tcmnl_parse(data + off, size - off, &m, &used, &err))
			break;
		for (size_t i = 0; i < m.nrecords; i++) {
			struct tcpmon_record r;
			vd_tcmrec_decode_record(m.records + i * m.record_size, m.record_size, &r);
		}
		for (size_t i = 0; i < m.ncalib; i++) {
			struct tcpmon_calib c;
			vd_tcmrec_decode_calib(m.calib + i * sizeof(c), sizeof(c), &c);
		}
		if (m.has_stats && m.stats.has_cost)
			(void)vd_tcmnl_cost_quantile(m.stats.cost[1], 0.99);
		off += used;
	}
	return 0;
}
