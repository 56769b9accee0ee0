/* trace.h — packet trace readers behind one small ops table: classic pcap (µs and ns), pcapng
 * (every interface its own vantage point, any if_tsresol / if_tsoffset), Endace DAG ERF.
 * The format is found from the file's magic number, never its name. */
#ifndef VMDELAY_TRACE_H
#define VMDELAY_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"
#include "vmdelay/input/packet.h"

struct vd_trace;

/* Opens path and detects the format. -1 with a message naming the file on failure. */
int vd_trace_open(const char *path, struct vd_trace **out, struct vd_err *err);

/* Next packet: 1, end of file: 0, damaged file: -1 with a message naming file and offset
 * (packets before the damage were returned normally). */
int vd_trace_next(struct vd_trace *tr, struct vd_pkt *pkt, struct vd_err *err);

void vd_trace_close(struct vd_trace *tr);

const char *vd_trace_format(const struct vd_trace *tr); /* "pcap", "pcapng", "erf" */
size_t vd_trace_interface_count(const struct vd_trace *tr);
/* Interface name (pcapng if_name, "port0" for ERF, NULL if none known). */
const char *vd_trace_interface_name(const struct vd_trace *tr, uint32_t iface);

/* Added by the readers (append-only). */

/* Like vd_trace_open on an open stream (fmemopen() for fuzzing, a pipe: need not seek): takes
 * ownership of f, which is closed by vd_trace_close() or on failure. name is used in messages.
 * format NULL detects it from the magic number; "pcap", "pcapng" or "erf" forces a reader. */
int vd_trace_open_file(FILE *f, const char *name, const char *format, struct vd_trace **out,
		       struct vd_err *err);

/* LINKTYPE_* of an interface, -1 if iface is not known (yet). */
int vd_trace_interface_linktype(const struct vd_trace *tr, uint32_t iface);

/* "gzip" or "zstd" when the file is compressed (read through zstream.h), else NULL. */
const char *vd_trace_compression(const struct vd_trace *tr);

/* Records read but not returned as packets (ERF META/PAD and other non-packet types). */
uint64_t vd_trace_skipped(const struct vd_trace *tr);

/* The next packets, up to max (>= 1), in file order: how many (>= 1), 0 at the end of the file,
 * -1 when the very next record is damaged (the packets before it are returned first, by this
 * call or an earlier one). Every packet's data stays valid until the next vd_trace_next or
 * vd_trace_next_batch. Equal to as many vd_trace_next calls; classic pcap files read through
 * the window (pcapsrc.c) are parsed many records to a call, other readers give one. */
int vd_trace_next_batch(struct vd_trace *tr, struct vd_pkt *pkts, int max, struct vd_err *err);

#endif
