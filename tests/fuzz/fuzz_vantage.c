/* fuzz_vantage.c — libFuzzer harness for vd_vantage_read (lib/match/vantage.c on
 * lib/input/echo_read.c): format detection, the tcpmon record reader (lib/input/vantage_tcm.c;
 * corpus guest.tcm, from tests/golden/gen_tcm.c), the tping readers (CSV, JSON lines; corpus in
 * fuzz_vantage.corpus) and the trace path (seeds: the shared ICMP captures), then matching, clock
 * alignment and the per-layer summaries on whatever was read. The input goes through a memfd, since
 * the readers open paths. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmdelay/delay/delay.h"
#include "vmdelay/match/vantage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_vantage", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct vd_vantage_spec spec;
	struct vd_err err;
	struct vd_vantage_set set = {0};
	if (vd_vantage_spec_parse(path, &spec, &err) == 0) {
		(void)vd_vantage_read(&spec, &set, NULL, &err);
		vd_vantage_spec_free(&spec);
	}
	if (set.n) {
		/* put the last point on its own clock so alignment runs too */
		set.v[set.n - 1]->clock[0] = 'x';
		set.v[set.n - 1]->clock[1] = '\0';
		struct vd_delay_opts o = {.align = (size & 1) ? VD_ALIGN_HULL : VD_ALIGN_LSQ};
		struct vd_delay d;
		int warn;
		if (vd_delay_analyze(set.v, set.n, &o, &d, &warn, &err) == 0) {
			int ph[VD_PHASE__COUNT + 1];
			size_t nph = vd_delay_phases(&d, ph);
			for (size_t l = 0; l < set.n; l++)
				for (size_t k = 0; k < nph; k++) {
					struct vd_summary s;
					(void)vd_delay_summary_layer(&d, l, VD_DIR_SEND, ph[k], &s);
					(void)vd_delay_summary_rtt(&d, l, ph[k], &s);
				}
			vd_delay_free(&d);
		}
	}
	vd_vantage_set_free(&set);
	close(fd);
	return 0;
}
