/* ns_round.h — floor() and llround() of a double to whole ns, the same values as libm's, inline:
 * the clock maps and fits call them for every event and every probe, and without SSE4.1 the
 * compiler calls libm for them. Internal to lib/delay. */
#ifndef VMDELAY_LIB_DELAY_NS_ROUND_H
#define VMDELAY_LIB_DELAY_NS_ROUND_H

#include "vmdelay/core/vdtime.h"

/* (vd_ns)floor(x), for |x| < 2^63: the cast truncates toward zero, and (double)i is exact (x
 * is whole past 2^53). */
static inline vd_ns vd_ns_floor(double x)
{
	vd_ns i = (vd_ns)x;
	return (double)i > x ? i - 1 : i;
}

/* (vd_ns)llround(x) (halves away from zero), for |x| < 2^63: x - trunc(x) is exact. */
static inline vd_ns vd_ns_round(double x)
{
	vd_ns i = (vd_ns)x;
	double f = x - (double)i;
	return f >= 0.5 ? i + 1 : f <= -0.5 ? i - 1 : i;
}

#endif
