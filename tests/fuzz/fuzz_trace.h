/* fuzz_trace.h — the body shared by the reader harnesses (header only: each harness is built
 * from its single .c file): the input as a file through fmemopen, read to the end, every packet
 * decoded, the reader's accessors called. */
#ifndef VMDELAY_FUZZ_TRACE_H
#define VMDELAY_FUZZ_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/input/trace.h"

static inline int fuzz_trace(const uint8_t *data, size_t size, const char *format)
{
	if (size == 0)
		return 0;
	void *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	FILE *f = fmemopen(copy, size, "rb");
	if (!f) {
		free(copy);
		return 0;
	}
	struct vd_trace *tr;
	struct vd_err err;
	if (vd_trace_open_file(f, "fuzz", format, &tr, &err) == 0) {
		struct vd_pkt pkt;
		for (int n = 0; n < 100000 && vd_trace_next(tr, &pkt, &err) == 1; n++) {
			struct vd_decoded d;
			vd_decode(&pkt, &d, &err);
			(void)vd_trace_interface_name(tr, pkt.iface);
			(void)vd_trace_interface_linktype(tr, pkt.iface);
		}
		(void)vd_trace_interface_count(tr);
		vd_trace_close(tr);
	}
	free(copy);
	return 0;
}

#endif
