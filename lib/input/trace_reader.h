/* trace_reader.h — what a trace reader (pcapsrc.c, pcapng.c, erf.c) is made of, private to
 * lib/input: the small ops table each reader fills, the state behind struct vd_trace, and the
 * bounded file reads and "file: offset N: ..." error messages every reader shares
 * (trace_reader.c). The dispatcher (trace.c) sits above the readers and picks one by format. */
#ifndef VMDELAY_TRACE_READER_H
#define VMDELAY_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/packet.h"

struct vd_trace;

struct vd_trace_ops {
	const char *format;
	/* Reads and checks the file header; f is positioned at offset 0. */
	int (*open)(struct vd_trace *tr, struct vd_err *err);
	int (*next)(struct vd_trace *tr, struct vd_pkt *pkt, struct vd_err *err);
	/* Optional (vd_trace_next_batch): up to max packets, each given its index (npkts). */
	int (*next_batch)(struct vd_trace *tr, struct vd_pkt *pkts, int max, struct vd_err *err);
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
	uint64_t off;	  /* file offset of the next unread byte, buf[wpos] (block readers) */
	uint64_t npkts;	  /* packets returned so far */
	uint64_t skipped; /* records read but not returned */
	uint8_t *buf;	  /* the read window: buf[wpos..wlen) is read but not consumed */
	size_t bufcap, wpos, wlen;
	int eof;
	void *priv;	      /* the reader's own state */
	struct vd_zstream *z; /* f decompresses a gzip / zstd file (zstream.h), else NULL */
};

extern const struct vd_trace_ops vd_pcapsrc_ops, vd_pcapng_ops, vd_erf_ops;

/* The block readers read through a window of the file, refilled in large chunks, so a
 * record is parsed where it lies: vd_trace_peek makes the next n bytes (at tr->off) readable at
 * *p and returns how many there are (n, fewer only at the end of the file), -1 on a read error;
 * *p stays valid until the next peek. vd_trace_consume moves past n of them. */
#define VD_TRACE_CHUNK (256u << 10)
ssize_t vd_trace_peek(struct vd_trace *tr, size_t n, const uint8_t **p, struct vd_err *err);
void vd_trace_consume(struct vd_trace *tr, size_t n);

/* "name: offset N: message". Returns -1. */
int vd_trace_fail(const struct vd_trace *tr, struct vd_err *err, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
