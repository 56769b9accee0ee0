/* fuzz_decode.c — libFuzzer harness for the packet decoder (lib/input/decode.c). An input that is a
 * capture (the seeds are) is read with the trace readers and each packet is decoded as every
 * link type; any other input is one frame whose first byte picks the link type. Frames are held
 * in buffers of exactly their size. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/input/trace.h"

static const int linktypes[] = {VD_LINK_ETHERNET,
				VD_LINK_NULL,
				VD_LINK_LOOP,
				VD_LINK_LINUX_SLL,
				VD_LINK_LINUX_SLL2,
				VD_LINK_RAW,
				VD_LINK_IPV4,
				VD_LINK_IPV6,
				12,
				107};
#define NLT (sizeof(linktypes) / sizeof(linktypes[0]))

static void decode_as(int linktype, const uint8_t *data, size_t n)
{
	uint8_t *frame = malloc(n ? n : 1);
	if (!frame)
		return;
	memcpy(frame, data, n);
	struct vd_pkt pkt = {
	    .linktype = linktype, .data = frame, .caplen = (uint32_t)n, .wirelen = (uint32_t)n};
	struct vd_decoded d;
	struct vd_err err;
	vd_decode(&pkt, &d, &err);
	free(frame);
}

static int as_capture(const uint8_t *data, size_t size)
{
	void *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	FILE *f = fmemopen(copy, size, "rb");
	struct vd_trace *tr;
	struct vd_err err;
	int ok = f && vd_trace_open_file(f, "fuzz", NULL, &tr, &err) == 0;
	if (ok) {
		struct vd_pkt pkt;
		for (int n = 0; n < 10000 && vd_trace_next(tr, &pkt, &err) == 1; n++)
			for (size_t i = 0; i < NLT; i++)
				decode_as(linktypes[i], pkt.data, pkt.caplen);
		vd_trace_close(tr);
	}
	free(copy);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint32_t magic = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
			 (size >= 4 ? (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24 : 0);
	if ((magic == 0x0a0d0d0a || magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1 ||
	     magic == 0xa1b23c4d || magic == 0x4d3cb2a1) &&
	    as_capture(data, size))
		return 0;
	decode_as(linktypes[data[0] % NLT], data + 1, size - 1);
	return 0;
}
