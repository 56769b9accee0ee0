/* trace_ops.h — the small ops table behind struct vd_trace (private to lib/): each reader
 * (pcapsrc.c, pcapng.c, erf.c) fills one, trace.c dispatches, and the helpers here give every
 * reader the same bounded file reads and the same "file: offset N: ..." error messages. */
#ifndef VMDELAY_TRACE_OPS_H
#define VMDELAY_TRACE_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmdelay/trace.h"

struct vd_trace_ops {
	const char *format;
	/* Reads and checks the file header; f is positioned at offset 0. */
	int (*open)(struct vd_trace *tr, struct vd_err *err);
	int (*next)(struct vd_trace *tr, struct vd_pkt *pkt, struct vd_err *err);
	void (*close)(struct vd_trace *tr);
	size_t (*iface_count)(const struct vd_trace *tr);
	const char *(*iface_name)(const struct vd_trace *tr, uint32_t iface);
	int (*iface_linktype)(const struct vd_trace *tr, uint32_t iface);
};

struct vd_trace {
	const struct vd_trace_ops *ops;
	char *name;	  /* for messages */
	FILE *f;	  /* NULL once handed to libpcap */
	int64_t size;	  /* file size when seekable, else -1 */
	uint64_t off;	  /* offset of the next unread byte (readers that use vd_trace_read) */
	uint64_t npkts;	  /* packets returned so far */
	uint64_t skipped; /* records read but not returned */
	uint8_t *buf;	  /* record buffer of the block readers */
	size_t bufcap;
	void *priv; /* the reader's own state */
};

extern const struct vd_trace_ops vd_pcapsrc_ops, vd_pcapng_ops, vd_erf_ops;

/* Reads exactly n bytes at tr->off: 1 read, 0 clean end of file (nothing left), -1 short read
 * or I/O error (message names the file, the offset and what was being read). */
int vd_trace_read(struct vd_trace *tr, void *dst, size_t n, const char *what, struct vd_err *err);

/* Makes tr->buf hold at least n bytes. -1 on allocation failure. */
int vd_trace_reserve(struct vd_trace *tr, size_t n, struct vd_err *err);

/* "name: offset N: message". Returns -1. */
int vd_trace_fail(const struct vd_trace *tr, struct vd_err *err, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
