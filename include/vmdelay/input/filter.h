/* filter.h — a pcap-filter expression (tcpdump's syntax, pcap-filter(7)) applied to the packets
 * of any trace: pcap, pcapng and ERF alike. The expression is compiled with libpcap's
 * pcap_compile against a dead handle of each packet's link type (once per link type met: a
 * pcapng file may mix them) and run with pcap_offline_filter, so it selects exactly what
 * `tcpdump -r FILE EXPR` would. */
#ifndef VMDELAY_FILTER_H
#define VMDELAY_FILTER_H

#include "vmdelay/core/err.h"
#include "vmdelay/input/trace.h"

struct vd_filter;

/* Checks expr by compiling it for Ethernet (the usual case); -1 with libpcap's message, quoting
 * expr, when it does not compile. */
int vd_filter_new(const char *expr, struct vd_filter **out, struct vd_err *err);

/* 1 when pkt passes, 0 when not; -1 when expr cannot be compiled for pkt's link type (err names
 * the link type: e.g. "ether host" on a raw IP trace). */
int vd_filter_match(struct vd_filter *f, const struct vd_pkt *pkt, struct vd_err *err);

void vd_filter_free(struct vd_filter *f);

#endif
