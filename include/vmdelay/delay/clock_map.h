/* clock_map.h — the matching timeline of the streamed analysis on several clocks
 * (clock_pass.h): each point's times put on one clock, exactly invertible. */
#ifndef VMDELAY_CLOCK_MAP_H
#define VMDELAY_CLOCK_MAP_H

#include "vmdelay/core/vdtime.h"

/* A point's times on the matching timeline: t + floor(a * (t - b) + d), a >= 0. The timeline is
 * the reference clock stretched by (1 + s), s at least every fitted clock's skew, so that every
 * map is strictly increasing: a time on it gives back the point's own time exactly, and the
 * second pass hands the summaries the times each trace holds. */
struct vd_clock_map {
	double a, d;
	vd_ns b;
};

vd_ns vd_clock_map_to(const struct vd_clock_map *m, vd_ns t);
/* The time t with vd_clock_map_to(m, t) == c; VD_NS_NONE stays so. */
vd_ns vd_clock_map_from(const struct vd_clock_map *m, vd_ns c);

#endif
