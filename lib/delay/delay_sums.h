/* delay_sums.h — the per-layer summaries of a streamed analysis (delay_stream.h), fed one probe
 * at a time as probes leave the matching window, in probe order: the values are kept while the
 * probes are at most exact_max, so that medians and percentiles are exact as vd_delay_summary_*
 * gives them; past it they go into bounded sketches (vd_qhist), as vd_delay_summary_* does.
 * Internal to lib/delay. */
#ifndef VMDELAY_LIB_DELAY_SUMS_H
#define VMDELAY_LIB_DELAY_SUMS_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/delay/delay.h"

struct vd_delay_sums;

/* Summaries for d's vantage points and clocks (d->nvp, clock_id, aligned, exact_max), with
 * --rest N (0: the probes' own phases). NULL when out of memory. d must outlive them. */
struct vd_delay_sums *vd_delay_sums_new(const struct vd_delay *d, size_t rest);
/* Receives each probe once its phase is final (at once, or with --rest N when N probes came
 * after it, or at the end): its number, the payload given with it to vd_delay_sums_add and the
 * phase. 0, or -1 to stop (a write error, out of memory). */
typedef int (*vd_delay_sums_each_fn)(void *ctx, size_t probe, const void *payload, int8_t phase);
/* Before the first probe: each probe comes with size bytes of payload handed to fn (the last
 * N held with their times under --rest N). 0, or -1 out of memory. */
int vd_delay_sums_each(struct vd_delay_sums *s, size_t size, vd_delay_sums_each_fn fn, void *ctx);
/* The next probe: t[v] for every vantage point, its phase (enum vd_phase or -1), and the
 * payload for vd_delay_sums_each's fn (NULL without one). 0 or -1. */
int vd_delay_sums_add(struct vd_delay_sums *s, const struct vd_delay_times *t, int8_t phase,
		      const void *payload);
/* The next n probes, as vd_delay_sums_add each in turn: probe i's times t[i * nvp + v], its
 * phase[i] and its payload at payload + i * the size given vd_delay_sums_each (payload NULL
 * without one). 0 or -1. */
int vd_delay_sums_add_run(struct vd_delay_sums *s, const struct vd_delay_times *t,
			  const int8_t *phase, const void *payload, size_t n);
/* Has fn called once, when more than exact_max probes come and before any value is computed
 * (the sketches take them as they come, with d's clocks as they are then): fn may fit the
 * clocks then; nonzero from fn stops the summaries (vd_delay_sums_add, _close and _finish fail).
 * Without it the values are computed when the summaries are (vd_delay_sums_finish), while the
 * probes are at most exact_max. */
void vd_delay_sums_before_sketch(struct vd_delay_sums *s, int (*fn)(void *ctx), void *ctx);
/* After the last probe: gives every probe held its phase (the last N under --rest N) and hands
 * them on. 0, or -1 (as vd_delay_sums_add). */
int vd_delay_sums_close(struct vd_delay_sums *s);
/* The probes taken so far. */
size_t vd_delay_sums_count(const struct vd_delay_sums *s);
/* Probe p's times at every point, while exact (NULL past exact_max, or p not yet closed). */
const struct vd_delay_times *vd_delay_sums_times(const struct vd_delay_sums *s, size_t p);
/* After the last probe (vd_delay_sums_close, if not called yet): computes every summary (of each
 * series, over all probes and over each phase some probe has) into d->sums (vd_delay_sum_index),
 * d->sums_have and d->phase_seen, and the probe count into d->map.n. 0, or -1 out of memory. */
int vd_delay_sums_finish(struct vd_delay_sums *s, struct vd_delay *d);
/* Probes whose values are held (at most max(exact_max, rest N) + rest N), for tests. */
size_t vd_delay_sums_held(const struct vd_delay_sums *s);
void vd_delay_sums_free(struct vd_delay_sums *s);

#endif
