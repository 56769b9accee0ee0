/* vdtime.c — clock reads (durations from command lines are read by units.c). */
#include "vmdelay/core/vdtime.h"

vd_ns vd_now(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return vd_ns_from_timespec(&ts);
}
