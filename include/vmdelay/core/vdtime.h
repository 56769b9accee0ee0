/* vdtime.h — time has a type: nanoseconds in int64_t, TSC ticks kept apart (HACKING.md,
 * "Time"). */
#ifndef VMDELAY_VDTIME_H
#define VMDELAY_VDTIME_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds since an epoch (CLOCK_REALTIME unless a name says otherwise), or a duration. */
typedef int64_t vd_ns;

/* "No value": a timestamp the kernel or hardware did not give. Printed empty / null. */
#define VD_NS_NONE INT64_MIN
#define VD_NS_PER_US INT64_C(1000)
#define VD_NS_PER_MS INT64_C(1000000)
#define VD_NS_PER_SEC INT64_C(1000000000)

/* Raw time-stamp-counter ticks; a struct so they cannot be mixed with vd_ns by accident. */
typedef struct {
	uint64_t ticks;
} vd_tsc;

static inline int vd_ns_valid(vd_ns t)
{
	return t != VD_NS_NONE;
}

static inline vd_ns vd_ns_from_timespec(const struct timespec *ts)
{
	return (vd_ns)ts->tv_sec * VD_NS_PER_SEC + ts->tv_nsec;
}

static inline struct timespec vd_ns_to_timespec(vd_ns t)
{
	struct timespec ts = {.tv_sec = t / VD_NS_PER_SEC, .tv_nsec = t % VD_NS_PER_SEC};
	if (ts.tv_nsec < 0) {
		ts.tv_sec -= 1;
		ts.tv_nsec += VD_NS_PER_SEC;
	}
	return ts;
}

/* Times an analysis can compute with: present and within ±(2^62 - 1) ns of the epoch (years
 * 1824 to 2116), so the difference of any two fits in vd_ns. A capture's missing time (a pcapng
 * Simple Packet Block) or a corrupt one is not. */
#define VD_NS_TIMED_MAX ((INT64_C(1) << 62) - 1)
static inline int vd_ns_timed(vd_ns t)
{
	return t >= -VD_NS_TIMED_MAX && t <= VD_NS_TIMED_MAX;
}

/* a + b and a - b clamped to the vd_ns range (never VD_NS_NONE), for bounds and horizons
 * derived from timestamps. */
static inline vd_ns vd_ns_add_sat(vd_ns a, vd_ns b)
{
	vd_ns r;
	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN + 1;
	return r == VD_NS_NONE ? INT64_MIN + 1 : r;
}

static inline vd_ns vd_ns_sub_sat(vd_ns a, vd_ns b)
{
	vd_ns r;
	if (__builtin_sub_overflow(a, b, &r))
		return b < 0 ? INT64_MAX : INT64_MIN + 1;
	return r == VD_NS_NONE ? INT64_MIN + 1 : r;
}

/* b - a, or VD_NS_NONE when either is missing. */
static inline vd_ns vd_ns_diff(vd_ns b, vd_ns a)
{
	return (vd_ns_valid(a) && vd_ns_valid(b)) ? b - a : VD_NS_NONE;
}

/* clock_gettime() wrappers. */
vd_ns vd_now(clockid_t clock);

#endif
