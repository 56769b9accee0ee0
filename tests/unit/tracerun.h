/* tracerun.h — the reader tests' common step: open an in-memory trace through vd_trace_open_file,
 * read it to the end or the first error and keep what came out. Header only; include after
 * <cmocka.h>. */
#ifndef VMDELAY_TEST_TRACERUN_H
#define VMDELAY_TEST_TRACERUN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/trace.h"

#define TRACERUN_MAX_PKTS 16
#define TRACERUN_MAX_IFS 8

struct tracerun {
	int open_rc, rc, n;
	struct vd_pkt pkt[TRACERUN_MAX_PKTS];
	char data[TRACERUN_MAX_PKTS][32]; /* each packet's bytes as a string */
	char names[TRACERUN_MAX_IFS][32]; /* interface names, "-" when it has none */
	uint64_t skipped;
	size_t nifs;
	char msg[512]; /* the open or read error */
};

/* Reads b[0..len) named name with the reader for format (NULL: chosen by content) and asserts
 * that reader is `expect`. The packets' data point into the closed trace: compare r->data. */
static inline void tracerun(const void *b, size_t len, const char *name, const char *format,
			    const char *expect, struct tracerun *r)
{
	memset(r, 0, sizeof(*r));
	FILE *f = fmemopen((void *)b, len, "rb");
	assert_non_null(f);
	struct vd_trace *tr;
	struct vd_err err = {0};
	r->open_rc = vd_trace_open_file(f, name, format, &tr, &err);
	if (r->open_rc < 0) {
		snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
		return;
	}
	assert_string_equal(vd_trace_format(tr), expect);
	struct vd_pkt p;
	while ((r->rc = vd_trace_next(tr, &p, &err)) == 1) {
		assert_true(r->n < TRACERUN_MAX_PKTS);
		r->pkt[r->n] = p;
		snprintf(r->data[r->n], sizeof(r->data[0]), "%.*s", (int)p.caplen,
			 (const char *)p.data);
		r->n++;
	}
	if (r->rc < 0)
		snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
	r->skipped = vd_trace_skipped(tr);
	r->nifs = vd_trace_interface_count(tr);
	for (size_t i = 0; i < r->nifs && i < TRACERUN_MAX_IFS; i++) {
		const char *nm = vd_trace_interface_name(tr, (uint32_t)i);
		snprintf(r->names[i], sizeof(r->names[0]), "%s", nm ? nm : "-");
	}
	vd_trace_close(tr);
}

#endif
