/* tping_split.h — tping files split into their vantage points for the pull readers
 * (vd_echo_pull_split, echo_pull.h): which points a file gives, found from its first rows, and
 * one reading of the file shared by the pull readers of all its points (tping_pull.h). */
#ifndef VMDELAY_INPUT_TPING_SPLIT_H
#define VMDELAY_INPUT_TPING_SPLIT_H

#include "tping_pull.h"

struct vd_tping_split;
struct vd_tping_split *vd_tping_split_new(void); /* NULL out of memory */
void vd_tping_split_free(struct vd_tping_split *s);

/* spec as one spec per point into out (paths malloc'd), the file's first rows read and kept
 * for them in s: how many; 0 when it is not a tping file to split (a trace, a pipe, a bad
 * selector, a file that cannot be read or is damaged in its first rows, a point selected that
 * its first rows do not time, no timestamps in them: read whole, which says why); -1 out of
 * memory. */
int vd_tping_split_file(struct vd_tping_split *s, const struct vd_vantage_spec *spec,
			struct vd_vantage_spec out[VD_TPING_POINTS], struct vd_err *err);

/* The point spec names, when it is one that s split: 0 with *out attached to the file's
 * reading (a new reading when the current one cannot give all of the point's events); 1 when s
 * did not split it; -1 naming the file when it cannot be opened again. */
int vd_tping_split_attach(struct vd_tping_split *s, const struct vd_vantage_spec *spec,
			  struct vd_tping_pull **out, struct vd_err *err);

#endif
