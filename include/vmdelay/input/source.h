/* source.h — every input of the analyzer behind one pull iterator: open what a vantage spec
 * names (NAME[:CLOCK]=PATH[#SELECT]), then ask for the next item, in file order, until the end.
 * The format is detected once, from the content (format.h). Items:
 *  - packet traces (pcap, pcapng, ERF): packets; #SELECT naming one interface (name, N or ifN,
 *    vd_iface_selected) drops the others' packets here; "*" keeps all (the consumer splits).
 *    Memory: one read window (trace_reader.h), whatever the file size.
 *  - tcpmon record files: records (the file is held in memory by lib/input/tcmrec.c).
 *  - tping CSV / JSON lines / SQLite: probe rows, one line or row at a time; #SELECT's run=N
 *    picks the SQLite run (default: the last run holding probes).
 * Used by the echo readers of the delay analysis (echo_read.h) and the tcp command. */
#ifndef VMDELAY_INPUT_SOURCE_H
#define VMDELAY_INPUT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/format.h"
#include "vmdelay/input/packet.h"
#include "vmdelay/input/probe.h"
#include "vmdelay/input/vantage_spec.h"

struct tcpmon_record;
struct tcmrec;
struct vd_trace;

enum vd_item_kind { VD_ITEM_PACKET, VD_ITEM_TCPMON, VD_ITEM_PROBE };

struct vd_item {
	enum vd_item_kind kind;
	uint64_t index;	   /* 1-based: packet number in the file, record number, or data row */
	struct vd_pkt pkt; /* VD_ITEM_PACKET; pkt.data valid until the next call */
	const struct tcpmon_record *rec; /* VD_ITEM_TCPMON; valid until vd_source_close */
	struct vd_probe probe;		 /* VD_ITEM_PROBE; phase -1 when the file has none */
};

struct vd_source;

/* The kinds of items a consumer reads (vd_source_open's want). */
enum {
	VD_SOURCE_PACKETS = 1 << VD_ITEM_PACKET,
	VD_SOURCE_TCPMON = 1 << VD_ITEM_TCPMON,
	VD_SOURCE_PROBES = 1 << VD_ITEM_PROBE,
	VD_SOURCE_ANY = VD_SOURCE_PACKETS | VD_SOURCE_TCPMON | VD_SOURCE_PROBES,
};

/* Opens spec->path, a file giving one of the kinds in want (a mask of VD_SOURCE_*). 0, or -1
 * with a message naming the file (not readable, a damaged header, or not a format giving
 * those items: then the message of the trace readers, "not a pcap, pcapng or ERF file"). */
int vd_source_open(const struct vd_vantage_spec *spec, unsigned want, struct vd_source **out,
		   struct vd_err *err);

/* The next item: 1, end of input: 0, damaged input: -1 with a message naming the file and the
 * offset or line (the items before the damage were returned normally). */
int vd_source_next(struct vd_source *s, struct vd_item *it, struct vd_err *err);

void vd_source_close(struct vd_source *s);

struct vd_filter;
/* Drops the packets of a trace that f (filter.h, a pcap-filter expression) rejects, as they are
 * read; they still count in vd_source_records. f is not owned and must outlive s. Records of
 * tcpmon files and tping rows are not packets: a filter does not apply to them. */
void vd_source_set_filter(struct vd_source *s, struct vd_filter *f);

enum vd_format vd_source_format(const struct vd_source *s);
/* Items read from the file, including packets #SELECT dropped. */
uint64_t vd_source_records(const struct vd_source *s);
/* The trace behind a packet source (interface names, format), else NULL. */
struct vd_trace *vd_source_trace(const struct vd_source *s);
/* The record file behind a tcpmon source (calibration, statistics), else NULL. */
struct tcmrec *vd_source_tcmrec(const struct vd_source *s);
/* The label of a packet source's interface (vd_iface_label with the trace's name for it). */
void vd_source_iface_label(const struct vd_source *s, uint32_t iface, char *buf, size_t len);

#endif
