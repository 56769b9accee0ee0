/* tcmrec.h — tcpmon record files (docs/formats/tcpmon.md): writing them while recording, reading
 * them back bounds-checked, converting each record's TSC to nanoseconds from the per-CPU
 * TSC/ktime calibration pairs, and printing them as text, CSV or JSON. */
#ifndef VMDELAY_TCMREC_H
#define VMDELAY_TCMREC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmdelay/core/err.h"
#include "vmdelay/out/output.h"
#include "vmdelay/record.h"
#include "vmdelay/core/vdtime.h"

/* The file header, decoded into host order. */
struct vd_tcmrec_info {
	uint16_t version;
	uint32_t record_size;
	uint32_t tsc_khz;
	uint32_t clock_flags;	  /* enum tcpmon_clock_flags */
	vd_ns realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC at start */
	vd_ns start_real_ns;
	uint32_t ncpus;
	uint32_t layers;
	char kernel_release[65];
	char hostname[65];
	char clocksource[32];
	int has_stats; /* a STATS block was read (the recording ended cleanly) */
	struct tcpmon_file_stats stats;
};

/* ---- writer ---- */
struct vd_tcmrec_writer;
int vd_tcmrec_writer_open(const char *path, const struct vd_tcmrec_info *info,
			  struct vd_tcmrec_writer **out, struct vd_err *err);
int vd_tcmrec_write_records(struct vd_tcmrec_writer *w, const struct tcpmon_record *r, size_t n,
			    struct vd_err *err);
int vd_tcmrec_write_calib(struct vd_tcmrec_writer *w, const struct tcpmon_calib *c, size_t n,
			  struct vd_err *err);
/* Where records were lost (TCPMON_B_LOSS), written when recording ends. */
int vd_tcmrec_write_loss(struct vd_tcmrec_writer *w, const struct tcpmon_file_loss *l, size_t n,
			 struct vd_err *err);
int vd_tcmrec_write_stats(struct vd_tcmrec_writer *w, const struct tcpmon_file_stats *s,
			  struct vd_err *err);
/* Flushes and closes; -1 if any write failed. */
int vd_tcmrec_writer_close(struct vd_tcmrec_writer *w, struct vd_err *err);

/* ---- reader ---- */
struct tcmrec;
/* Parses a whole file image; every offset is checked. The message names name and the offset. */
int vd_tcmrec_parse(const uint8_t *buf, size_t len, const char *name, struct tcmrec **out,
		    struct vd_err *err);
int vd_tcmrec_open(const char *path, struct tcmrec **out, struct vd_err *err);
/* 1 when the first n bytes of a file start like a record file (its magic): what the format
 * detector (format.h) asks, never the name. */
int vd_tcmrec_is(const unsigned char *b, size_t n);
void vd_tcmrec_free(struct tcmrec *rd);

/* Reading a regular file in two passes without holding its records (the streamed analysis):
 * vd_tcmrec_open_meta reads the header and every block but the records (calibration pairs, loss
 * block, stats), seeking past the records, which it counts in *nrecords; the reader it gives
 * holds no record (vd_tcmrec_count 0) but converts times and lists losses as the whole file's.
 * A cursor then hands the records one at a time in file order. Errors as vd_tcmrec_open's
 * (file and offset); a pipe, which cannot be read twice, is an error. */
int vd_tcmrec_open_meta(const char *path, struct tcmrec **out, uint64_t *nrecords,
			struct vd_err *err);
struct vd_tcmrec_cursor;
int vd_tcmrec_cursor_open(const char *path, struct vd_tcmrec_cursor **out, struct vd_err *err);
/* The next record: 1, end of file: 0, damaged: -1 naming the file and offset. */
int vd_tcmrec_cursor_next(struct vd_tcmrec_cursor *c, struct tcpmon_record *r, struct vd_err *err);
void vd_tcmrec_cursor_close(struct vd_tcmrec_cursor *c);

const struct vd_tcmrec_info *vd_tcmrec_info(const struct tcmrec *rd);
size_t vd_tcmrec_count(const struct tcmrec *rd);
const struct tcpmon_record *vd_tcmrec_get(const struct tcmrec *rd, size_t i);
size_t vd_tcmrec_calib_count(const struct tcmrec *rd);

/* CLOCK_MONOTONIC / CLOCK_REALTIME ns of a TSC value read on cpu: interpolated between that
 * CPU's calibration pairs (extrapolated with tsc_khz outside them). VD_NS_NONE without pairs. */
vd_ns vd_tcmrec_tsc_to_mono(const struct tcmrec *rd, uint32_t cpu, uint64_t tsc);
vd_ns vd_tcmrec_tsc_to_real(const struct tcmrec *rd, uint32_t cpu, uint64_t tsc);
/* Whether the records' TSCs give their times: not unstable, not ktime-only, calibration pairs. */
int vd_tcmrec_use_tsc(const struct tcmrec *rd);
/* The loss windows of the file (TCPMON_B_LOSS), in file order. */
size_t vd_tcmrec_loss_count(const struct tcmrec *rd);
const struct tcpmon_file_loss *vd_tcmrec_loss_get(const struct tcmrec *rd, size_t i);
/* A record's CLOCK_REALTIME ns: its TSC converted when use_tsc, else (or when that fails,
 * counted in *fallbacks) the ktime real_ns read in the hook. */
vd_ns vd_tcmrec_record_time(const struct tcmrec *rd, const struct tcpmon_record *r, int use_tsc,
			    uint64_t *fallbacks);

/* Decodes one little-endian record of size bytes (>= 112; extra bytes of newer versions are
 * ignored). -1 if size is too small. Shared with the netlink parser. */
int vd_tcmrec_decode_record(const uint8_t *p, size_t size, struct tcpmon_record *r);
int vd_tcmrec_decode_calib(const uint8_t *p, size_t size, struct tcpmon_calib *c);

/* ---- names ---- */
const char *vd_tcmrec_layer_name(unsigned layer); /* "dev-rx", ... ; "?" when unknown */
int vd_tcmrec_layer_parse(const char *name);	  /* enum value or -1 */
const char *vd_tcmrec_dir_name(unsigned dir);	  /* "rx", "tx" */
const char *vd_tcmrec_proto_name(unsigned proto); /* "tcp", "icmp", "icmp6" */
/* "SA" style TCP flags: F S R P A U E C in that order, "." when none. buf >= 9 bytes. */
void vd_tcmrec_tcp_flags(unsigned flags, char *buf);
/* Clock flag names joined by "+" into buf ("" when none). */
void vd_tcmrec_clock_flags(uint32_t flags, char *buf, size_t len);
/* Address of a record side as text (inet_ntop). buf >= 46 bytes. */
void vd_tcmrec_addr(const struct tcpmon_record *r, int dst, char *buf, size_t len);

/* One row per record: the columns of docs/formats/tcpmon.md. */
void vd_tcmrec_dump(const struct tcmrec *rd, struct vd_out *o);
/* The loss windows (TCPMON_B_LOSS), one row each: cpu, lost, after_mono_ns, before_mono_ns. */
void vd_tcmrec_dump_loss(const struct tcmrec *rd, struct vd_out *o);
/* The header as one row. */
void vd_tcmrec_dump_info(const struct tcmrec *rd, struct vd_out *o);

#endif
