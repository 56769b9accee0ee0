/* clock_join.h — the samples of one clock fit of the two-pass streamed analysis
 * (vmdelay/delay/clock_pass.h): the probes two traces on different clocks both saw, joined as
 * they are read side by side, in memory that does not grow with the traces. Internal to
 * lib/delay. */
#ifndef VMDELAY_LIB_DELAY_CLOCK_JOIN_H
#define VMDELAY_LIB_DELAY_CLOCK_JOIN_H

#include "vmdelay/core/err.h"
#include "vmdelay/delay/align_acc.h"
#include "vmdelay/delay/delay.h"
#include "vmdelay/input/echo_read.h"
#include "vmdelay/input/vantage_spec.h"

/* Reads the traces of the outer point and of the inner one (on another clock) and adds to acc
 * a sample for every probe both saw, as vd_delay_analyze's alignment takes them: the outer
 * times put on the reference clock by outer_fit (NULL: the outer point is on it); the most
 * probes one of the two points made alone (its pairs but duplicates) into *point_probes. 0; 1 when
 * the usual way must say why (not a trace, no echo, damaged, no common probe among the first
 * pairs); -1 out of memory (err). */
int vd_clock_join(const struct vd_vantage_spec *outer, const struct vd_vantage_spec *inner,
		  const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		  const struct vd_clock_fit *outer_fit, struct vd_align_acc *acc,
		  size_t *point_probes, struct vd_err *err);

#endif
