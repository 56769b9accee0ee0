/* align_acc.h — the clock fit of align.h from samples handed one at a time, in memory that does
 * not grow with their number: what vd_align_fit needs of every sample is kept as the lower
 * convex hulls of each direction's one-way points (a few dozen vertices on real captures, all
 * that the hull estimator and its offset bounds can touch), the least squares line as sums, and
 * the counts and means. docs/methodology.md, "Clock fit in two passes". */
#ifndef VMDELAY_ALIGN_ACC_H
#define VMDELAY_ALIGN_ACC_H

#include <stddef.h>

#include "vmdelay/delay/align.h"

struct vd_align_acc;

struct vd_align_acc *vd_align_acc_new(void); /* NULL when out of memory */
/* Adds a sample (any order). 0, or -1 out of memory. */
int vd_align_acc_add(struct vd_align_acc *a, const struct vd_align_sample *s);
/* The fit vd_align_fit gives for the samples added (method lsq or hull), up to floating point
 * rounding (docs/methodology.md says where). 0, or -1 when none was added or out of memory. */
int vd_align_acc_fit(struct vd_align_acc *a, enum vd_align_method method, struct vd_clock_fit *out);
/* After a hull fit: the replies' bound on theta less the requests' (align.c), i.e. the least
 * send plus receive delay the line leaves over the samples; under the line, every sample's
 * one-way delays are at least half of it. Negative: the bounds cross (no line leaves every
 * one-way delay >= 0). */
double vd_align_acc_hull_gap(const struct vd_align_acc *a);
/* Samples added, and points held for the hulls now (the memory: 16 bytes a point). */
size_t vd_align_acc_count(const struct vd_align_acc *a);
size_t vd_align_acc_held(const struct vd_align_acc *a);
void vd_align_acc_free(struct vd_align_acc *a);

#endif
