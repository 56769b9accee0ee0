/* fuzz_trace.h — the body shared by the reader harnesses (header only: each harness is built
 * from its single .c file): the input as a file through fmemopen, read to the end, every packet
 * decoded, the reader's accessors called; then read again in batches beside one packet at a time.
 */
#ifndef VMDELAY_FUZZ_TRACE_H
#define VMDELAY_FUZZ_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/input/trace.h"

static inline FILE *fuzz_file(const uint8_t *data, size_t size, void **copy)
{
	*copy = malloc(size);
	if (!*copy)
		return NULL;
	memcpy(*copy, data, size);
	FILE *f = fmemopen(*copy, size, "rb");
	if (!f)
		free(*copy);
	return f;
}

/* The same input read in batches (vd_trace_next_batch, up to max packets a call) and one packet
 * at a time, side by side: the same packets, bytes and end (the same message on damage), or
 * abort. */
static inline void fuzz_trace_batches(const uint8_t *data, size_t size, const char *format, int max)
{
	void *c1, *c2;
	FILE *f1 = fuzz_file(data, size, &c1), *f2 = f1 ? fuzz_file(data, size, &c2) : NULL;
	if (!f2) {
		if (f1)
			fclose(f1), free(c1);
		return;
	}
	struct vd_trace *one, *many;
	struct vd_err e1, e2;
	int r1 = vd_trace_open_file(f1, "fuzz", format, &one, &e1);
	int r2 = vd_trace_open_file(f2, "fuzz", format, &many, &e2);
	if ((r1 == 0) != (r2 == 0))
		abort();
	for (int total = 0; r1 == 0 && total < 100000;) {
		struct vd_pkt batch[64], pkt;
		int n = vd_trace_next_batch(many, batch, max, &e2);
		if (n > max)
			abort();
		for (int i = 0; i < n; i++, total++) {
			const struct vd_pkt *b = &batch[i];
			if (vd_trace_next(one, &pkt, &e1) != 1 || pkt.ts != b->ts ||
			    pkt.iface != b->iface || pkt.linktype != b->linktype ||
			    pkt.caplen != b->caplen || pkt.wirelen != b->wirelen ||
			    pkt.index != b->index || pkt.offset != b->offset ||
			    memcmp(pkt.data, b->data, pkt.caplen) != 0)
				abort();
		}
		if (n <= 0) {
			if (vd_trace_next(one, &pkt, &e1) != n ||
			    (n < 0 && strcmp(e1.msg, e2.msg) != 0))
				abort();
			break;
		}
	}
	if (r1 == 0) {
		vd_trace_close(one);
		vd_trace_close(many);
	}
	free(c1);
	free(c2);
}

static inline int fuzz_trace(const uint8_t *data, size_t size, const char *format)
{
	if (size == 0)
		return 0;
	void *copy;
	FILE *f = fuzz_file(data, size, &copy);
	if (!f)
		return 0;
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
	fuzz_trace_batches(data, size, format, 1 + data[size - 1] % 64);
	return 0;
}

#endif
