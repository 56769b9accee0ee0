/* transfer.h — one TCP transfer of the workload tool (tperf): bytes, start, end, throughput,
 * as printed (text / CSV / JSON, docs/formats/tcp.md) and stored (transfers table). The
 * per-transfer throughput CDF of Kangarlou et al. (vSnoop, 1000 x 100 KB) is built from these. */
#ifndef VMDELAY_TRANSFER_H
#define VMDELAY_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/out/output.h"
#include "vmdelay/core/vdtime.h"

enum vd_transfer_status {
	VD_XFER_OK,
	VD_XFER_REFUSED, /* connect() refused */
	VD_XFER_RESET,	 /* the peer reset the connection */
	VD_XFER_TIMEOUT, /* the time limit ran out */
	VD_XFER_ERROR,	 /* any other socket error */
	VD_XFER__COUNT
};

struct vd_transfer {
	uint64_t idx;	       /* 0-based, in the order run */
	uint64_t bytes;	       /* bytes the sender wrote and the peer read (ok), or sent so far */
	vd_ns start, end;      /* CLOCK_REALTIME: before connect(), after the peer closed */
	double throughput_bps; /* bytes * 8 / (end - start); NAN unless ok */
	enum vd_transfer_status status;
};

const char *vd_transfer_status_name(enum vd_transfer_status s); /* "ok", "refused", ... */
int vd_transfer_status_parse(const char *name, enum vd_transfer_status *s);

/* Sets throughput_bps from bytes, start and end (NAN when not ok or the duration is 0). */
void vd_transfer_finish(struct vd_transfer *t);

/* One output row: idx, bytes, start_ns, end_ns, duration_ns, throughput_bps, status. */
void vd_transfer_out_row(struct vd_out *o, const struct vd_transfer *t);

/* Reads the rows of a tperf --csv file (header row first; columns found by name).
 * Malformed rows: -1 naming the file and line. */
int vd_transfer_load_csv(const char *path, struct vd_transfer **out, size_t *n, struct vd_err *err);

#endif
