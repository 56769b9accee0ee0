/* delay.h — per-layer delay from matched probes: RTT per probe at every vantage point,
 * ΔRTT between adjacent vantage points (Whiteaker et al. Table 1: ΔKern = kernel RTT - wire RTT,
 * ...), and with aligned clocks the one-way send and receive delay of every layer (Figure 5). */
#ifndef VMDELAY_DELAY_H
#define VMDELAY_DELAY_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/delay/align.h"
#include "vmdelay/core/err.h"
#include "vmdelay/match/match.h"
#include "vmdelay/match/probes.h"
#include "vmdelay/input/probe.h"
#include "vmdelay/core/stats.h"
#include "vmdelay/match/vantage.h"

struct vd_delay_opts {
	enum vd_align_method align;
	size_t rest;	  /* --rest N: the first and last N probes are at rest; 0: tping's phase
			   * column when present, else every probe calibrates */
	vd_ns window;	  /* vd_match_opts.window */
	size_t exact_max; /* summaries of more probes than this come from a bounded sketch
			   * (vd_qhist); 0: VD_DELAY_EXACT_MAX */
};

/* Up to this many probes, medians and percentiles are exact (8 bytes per probe, one summary at
 * a time); past it, from vd_qhist: bounded memory, exact below 8192 ns, within 2^-12 of the
 * value above. Far beyond every test, golden file and real capture. */
#define VD_DELAY_EXACT_MAX ((size_t)1 << 20)

/* The fit that brought vantage point `vantage`'s clock onto the reference (the outermost
 * vantage point's clock), against the nearest outer vantage point already aligned. */
struct vd_delay_align {
	size_t vantage, against;
	struct vd_clock_fit fit;
};

enum vd_delay_dir { VD_DIR_RTT, VD_DIR_SEND, VD_DIR_RECV, VD_DIR__COUNT };

/* Phase filter for summaries: a value of enum vd_phase, or VD_PHASE_ALL. */
#define VD_PHASE_ALL (-1)

struct vd_delay {
	struct vd_vantage *const *vps;
	size_t nvp;
	struct vd_probe_map map; /* n probes */
	int8_t *phase;		 /* per probe, -1 when unknown */
	int have_phases;
	int *aligned;	  /* per vantage point: times comparable with the reference clock */
	size_t *clock_id; /* per vantage point: the first vantage point on its clock */
	int *fit_of;	  /* per vantage point: -1 on the reference clock, -2 not aligned, else the
			   * index in aligns of the fit that brings it there (vd_delay_req_ref) */
	struct vd_delay_align *aligns;
	size_t naligns;
	size_t rest_probes; /* probes that calibrated the clocks */
	size_t exact_max;   /* vd_delay_opts.exact_max, resolved */
	/* Streamed (delay_stream.h): every summary, computed as the probes went by, indexed by
	 * vd_delay_sum_index; map holds only the count (map.n) and no probe can be asked for
	 * (phase and cells are NULL). NULL after reading. */
	struct vd_summary *sums;
	uint8_t *sums_have; /* which sums were computed */
	uint8_t phase_seen[VD_PHASE__COUNT];
};

/* A probe's request and reply time at one vantage point, VD_NS_NONE when it missed it. */
struct vd_delay_times {
	vd_ns req, rep;
};

/* The value of layer `layer` (as vd_delay_layer) from a probe's times at the layer's outer and
 * inner vantage point. */
vd_ns vd_delay_layer_from(const struct vd_delay *d, size_t layer, enum vd_delay_dir dir,
			  const struct vd_delay_times *o, const struct vd_delay_times *i);

/* A time of vantage point v on the reference clock (VD_NS_NONE when not aligned). Inline, as
 * vd_delay_layer_value: the streamed summaries take them for every probe and series, where a
 * call or two cost as much as the value. */
static inline __attribute__((always_inline)) vd_ns vd_delay_on_ref(const struct vd_delay *d,
								   size_t v, vd_ns t)
{
	if (!d->aligned[v])
		return VD_NS_NONE;
	return d->fit_of[v] >= 0 ? vd_align_apply(&d->aligns[d->fit_of[v]].fit, t) : t;
}

/* vd_delay_layer_from for the layer between outer point ov and inner point iv. */
static inline __attribute__((always_inline)) vd_ns
vd_delay_layer_value(const struct vd_delay *d, size_t ov, size_t iv, enum vd_delay_dir dir,
		     const struct vd_delay_times *o, const struct vd_delay_times *i)
{
	if (dir == VD_DIR_RTT)
		return vd_ns_diff(vd_ns_valid(i->req) ? i->rep - i->req : VD_NS_NONE,
				  vd_ns_valid(o->req) ? o->rep - o->req : VD_NS_NONE);
	if (!vd_ns_valid(o->req) || !vd_ns_valid(i->req))
		return VD_NS_NONE;
	vd_ns oreq = o->req, orep = o->rep, ireq = i->req, irep = i->rep;
	if (d->clock_id[ov] != d->clock_id[iv]) {
		/* on one clock no alignment is needed, even when it is not the reference */
		oreq = vd_delay_on_ref(d, ov, oreq);
		orep = vd_delay_on_ref(d, ov, orep);
		ireq = vd_delay_on_ref(d, iv, ireq);
		irep = vd_delay_on_ref(d, iv, irep);
	}
	return dir == VD_DIR_SEND ? vd_ns_diff(oreq, ireq) : vd_ns_diff(irep, orep);
}

/* Where a streamed summary is in d->sums: series are the RTT at each vantage point v (v), then
 * each layer's directions (nvp + layer * VD_DIR__COUNT + dir); each has a slot for
 * VD_PHASE_ALL and one per phase. */
#define VD_DELAY_SUM_SLOTS (1 + VD_PHASE__COUNT)
static inline size_t vd_delay_sum_index(size_t series, int phase)
{
	return series * VD_DELAY_SUM_SLOTS + (phase == VD_PHASE_ALL ? 0 : (size_t)phase + 1);
}

/* Matches (vd_match_pairs on every vantage point, then vd_match_probes), labels phases, aligns
 * clocks. Warnings (a clock that could not be aligned) go to err->msg with return 0 and
 * warn set. Returns 0, or -1 on error. */
int vd_delay_analyze(struct vd_vantage *const *vps, size_t nvp, const struct vd_delay_opts *opts,
		     struct vd_delay *d, int *warn, struct vd_err *err);
void vd_delay_free(struct vd_delay *d);

/* Layers: 1..nvp-1 lie between vantage point L-1 (outer) and L (inner); layer 0 is the total,
 * from the outermost (0) to the innermost (nvp-1). For a probe: RTT difference (inner - outer),
 * send delay (outer request - inner request) or receive delay (inner reply - outer reply),
 * VD_NS_NONE when a vantage point missed the probe or (send, receive) the clocks are not
 * comparable: different labels without alignment. */
vd_ns vd_delay_layer(const struct vd_delay *d, size_t probe, size_t layer, enum vd_delay_dir dir);
vd_ns vd_delay_rtt(const struct vd_delay *d, size_t probe, size_t v);
/* The request (reply) time of a probe at vantage point v on the reference clock, VD_NS_NONE
 * when v missed it or its clock is not aligned. Computed when asked from the pair and the fit:
 * kept for every probe they took 16 bytes per probe and vantage point. */
vd_ns vd_delay_req_ref(const struct vd_delay *d, size_t probe, size_t v);
vd_ns vd_delay_rep_ref(const struct vd_delay *d, size_t probe, size_t v);

/* Summaries over the probes of a phase (or VD_PHASE_ALL). Return 0 or -1 (out of memory). */
int vd_delay_summary_rtt(const struct vd_delay *d, size_t v, int phase, struct vd_summary *s);
int vd_delay_summary_layer(const struct vd_delay *d, size_t layer, enum vd_delay_dir dir, int phase,
			   struct vd_summary *s);
/* Phases to report: VD_PHASE_ALL first, then each phase some probe has. Returns the count. */
size_t vd_delay_phases(const struct vd_delay *d, int out[VD_PHASE__COUNT + 1]);
const char *vd_delay_phase_name(int phase);	      /* "all", "rest-pre", "load", "rest-post" */
const char *vd_delay_dir_name(enum vd_delay_dir dir); /* "rtt", "send", "recv" */

#endif
