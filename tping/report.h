/* report.h — what tping prints and stores: a ping-like line per record, CSV / JSON rows with
 * the documented columns (docs/formats/tping.md), the per-layer summary table and counters. */
#ifndef TPING_REPORT_H
#define TPING_REPORT_H

#include <stdio.h>

#include "options.h"
#include "run.h"
#include "sock.h"
#include "vmdelay/out/output.h"
#include "vmdelay/input/probe.h"
#include "vmdelay/core/qhist.h"
#include "vmdelay/core/stats.h"
#include "vmdelay/store/store.h"

/* The summary's layers (Whiteaker et al., table 2: user, kernel; plus hardware and the
 * differences between them). */
enum tping_layer {
	TPING_LAYER_USER,   /* user RTT */
	TPING_LAYER_KERNEL, /* kernel RTT: RX - SND */
	TPING_LAYER_HW,	    /* hardware RTT */
	TPING_LAYER_DUSER,  /* ΔUser = user RTT - kernel RTT */
	TPING_LAYER_DSCHED, /* ΔSched = SND - first SCHED */
	TPING_LAYER__COUNT
};
const char *tping_layer_name(enum tping_layer l); /* "user", "kernel", "hardware", ... */
vd_ns tping_layer_value(const struct vd_probe *p, enum tping_layer l);

struct tping_report {
	const struct tping_opts *o;
	const struct tping_sock *s;
	FILE *lines;	     /* one line per record; NULL: -q, or rows on stdout */
	struct vd_out *rows; /* --csv / --json; NULL otherwise */
	/* Summaries of every record emitted, in memory that does not grow with the run:
	 * [phase or VD_PHASE__COUNT for all][layer] over the OK records, the send lateness of
	 * the probes, RFC 3550 jitter per layer. */
	struct vd_qhist layer[VD_PHASE__COUNT + 1][TPING_LAYER__COUNT];
	struct vd_qhist late;
	struct vd_jitter jitter[TPING_LAYER__COUNT];
	int sums_ready;
	/* keep_recs (tests, replays): every record emitted is also kept, in order. */
	int keep_recs;
	struct vd_probe *recs;
	size_t n, cap;
	int oom;
	/* --db: each record is stored as it is emitted (the store commits about every second). */
	struct vd_store *st;
	int64_t run_id;
	int store_failed;
	struct vd_err store_err;
};

/* tping_emit_fn / tping_warn_fn for struct tping_run. */
void tping_report_emit(void *ctx, const struct vd_probe *p, const char *from);
void tping_report_warn(void *ctx, const char *msg);

/* One CSV / JSON row: the 15 columns in order, then sched_tx_last_ns, icmp_type,
 * icmp_code, cpu, timer_late_ns. */
void tping_report_row(struct vd_out *o, const struct vd_probe *p);

/* The run's summary of one layer over the OK records of phase ph (VD_PHASE__COUNT: all). */
void tping_report_layer_summary(const struct tping_report *rp, enum vd_phase ph, enum tping_layer l,
				struct vd_summary *out);
/* The run's RFC 3550 jitter of a layer (NAN before two values). */
double tping_report_layer_jitter(const struct tping_report *rp, enum tping_layer l);
/* The run's send lateness against the deadlines (probes, not extra records). */
void tping_report_lateness(const struct tping_report *rp, struct vd_summary *out);

/* The exact summary of one layer over the OK records recs[0..n) of phase ph (VD_PHASE__COUNT:
 * all phases): for kept records. */
int tping_report_layer(const struct vd_probe *recs, size_t n, enum vd_phase ph, enum tping_layer l,
		       struct vd_summary *out);

/* RFC 3550 jitter of a layer over the OK records, in the order they were emitted. */
double tping_report_jitter(const struct vd_probe *recs, size_t n, enum tping_layer l);

/* The closing statistics and per-layer table. */
void tping_report_summary(struct tping_report *rp, const struct tping_run *r, FILE *f,
			  const char *extra_lines);

void tping_report_free(struct tping_report *rp);

#endif
