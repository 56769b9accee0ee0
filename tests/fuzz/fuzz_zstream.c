/* fuzz_zstream.c — libFuzzer harness for the decompression wrapper (lib/input/zstream.c): the
 * input is read as a capture through vd_trace_open_file, so gzip and zstd data (the corpus holds
 * small compressed captures) go through the decompressor into the trace readers and the
 * decoder; the input with its first 4 bytes replaced by the gzip or the zstd magic is read too,
 * so that mutations of any input reach both decompressors. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/input/trace.h"
#include "vmdelay/input/zstream.h"

static void read_capture(const uint8_t *data, size_t size)
{
	void *copy = malloc(size ? size : 1);
	if (!copy)
		return;
	memcpy(copy, data, size);
	FILE *f = fmemopen(copy, size, "rb");
	struct vd_trace *tr;
	struct vd_err err;
	if (f && vd_trace_open_file(f, "fuzz", NULL, &tr, &err) == 0) {
		struct vd_pkt pkt;
		struct vd_decoded d;
		for (int n = 0; n < 20000 && vd_trace_next(tr, &pkt, &err) == 1; n++)
			vd_decode(&pkt, &d, &err);
		vd_trace_close(tr);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4 || size > 1 << 20)
		return 0;
	read_capture(data, size);
	if (vd_zstream_detect(data, size) != VD_Z_NONE)
		return 0;
	static const uint8_t magic[2][4] = {{0x1f, 0x8b, 8, 0}, {0x28, 0xb5, 0x2f, 0xfd}};
	uint8_t *m = malloc(size);
	if (!m)
		return 0;
	memcpy(m, data, size);
	memcpy(m, magic[data[0] & 1], data[0] & 1 ? 4 : 3);
	read_capture(m, size);
	free(m);
	return 0;
}
