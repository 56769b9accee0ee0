/* format.h — the one place where an input's format is recognised, from its first bytes and
 * never from its name: packet traces (pcap, pcapng, ERF), tcpmon record files, tping files (CSV,
 * JSON lines, SQLite). Every reader and command asks here. */
#ifndef VMDELAY_INPUT_FORMAT_H
#define VMDELAY_INPUT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"

enum vd_format {
	VD_FORMAT_UNKNOWN = 0,
	VD_FORMAT_PCAP,
	VD_FORMAT_PCAPNG,
	VD_FORMAT_ERF,
	VD_FORMAT_TCPMON,
	VD_FORMAT_TPING_CSV,
	VD_FORMAT_TPING_JSON,
	VD_FORMAT_SQLITE, /* a tping run database, or a tperf transfer store */
};

/* How many leading bytes vd_format_detect wants to see (fewer at the end of a short file). */
#define VD_FORMAT_HEAD 512

/* The format of a file whose first n bytes are b. ERF has no magic number: it is the last
 * guess, when the first record header is plausible. */
enum vd_format vd_format_detect(const uint8_t *b, size_t n);

/* Reads the first bytes of path and detects its format: 0, or -1 with a message naming the
 * file when it cannot be read. A pipe, socket or character device (/dev/stdin fed by a pipe) is
 * not read: its bytes come only once, so it is VD_FORMAT_UNKNOWN here and left to the trace
 * reader (trace.h), which detects the format from the bytes it keeps. */
int vd_format_detect_file(const char *path, enum vd_format *out, struct vd_err *err);

/* Is path a pipe, socket or character device, whose bytes can be read only once? */
int vd_format_is_stream(const char *path);

/* The name the tools print: "pcap", "pcapng", "erf", "tcpmon", "tping-csv", "tping-json",
 * "tping-sqlite", "unknown". */
const char *vd_format_name(enum vd_format f);

/* Is f a packet trace (pcap, pcapng, ERF)? */
int vd_format_is_trace(enum vd_format f);

/* Is f a file of tping's probes (CSV, JSON lines, SQLite)? */
int vd_format_is_tping(enum vd_format f);

#endif
