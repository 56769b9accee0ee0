/* tcm_loss.h — the stretches of time in which tcpmon lost records, so that a missing record is
 * never read as a lost packet (lib/input/vantage_tcm.c). Internal to the library. */
#ifndef VMDELAY_TCM_LOSS_H
#define VMDELAY_TCM_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/vdtime.h"
#include "vmdelay/input/tcmrec.h"

/* Windows of CLOCK_MONOTONIC ns, merged and sorted; INT64_MIN / INT64_MAX for a window open to
 * the start or the end of the recording. */
struct vd_tcm_loss {
	vd_ns *lo, *hi;
	size_t n;
	uint64_t lost; /* records lost in all */
};

/* From the file's loss block (bpf backend) or, without one (tcpmon.ko), from the gaps in each
 * CPU's record seqnos, plus a window to the end for losses the gaps do not explain (the STATS
 * block's count). -1 when out of memory. */
int vd_tcm_loss_init(struct vd_tcm_loss *l, const struct tcmrec *rd, struct vd_err *err);
/* 1 when mono lies strictly inside a loss window (its ends are kept records). */
int vd_tcm_loss_covers(const struct vd_tcm_loss *l, vd_ns mono);
/* The end of the last window: no record was lost after it (INT64_MIN: none lost). */
vd_ns vd_tcm_loss_end(const struct vd_tcm_loss *l);
void vd_tcm_loss_free(struct vd_tcm_loss *l);

/* Whether the file's loss block or stats say records were lost (a reader of the first pass,
 * vd_tcmrec_open_meta, which holds no record: its seqno gaps are the caller's to find). */
int vd_tcm_loss_possible(const struct tcmrec *rd);

/* The gaps in each CPU's record seqnos, fed one record at a time in file order. */
struct vd_tcm_seqnos {
	struct cpu_state *cs;
	size_t n, cap;
};
/* 1 when records of r's CPU were lost just before r (their count added to *lost, the mono_ns of
 * the CPU's record before them in *before), 0 when not, -1 out of memory. */
int vd_tcm_seqnos_gap(struct vd_tcm_seqnos *s, const struct tcpmon_record *r, uint64_t *lost,
		      vd_ns *before);
void vd_tcm_seqnos_free(struct vd_tcm_seqnos *s);

#endif
