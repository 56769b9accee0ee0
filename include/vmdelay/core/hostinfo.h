/* hostinfo.h — facts about the measuring host a run records beside its data: the kernel's
 * clocksource and the steal time (CPU time the hypervisor gave to others: a VM's tell-tale). */
#ifndef VMDELAY_HOSTINFO_H
#define VMDELAY_HOSTINFO_H

#include <stddef.h>

#include "vmdelay/core/vdtime.h"

/* Current clocksource ("tsc", "kvm-clock", ...) into buf; "unknown" if it cannot be read.
 * Returns buf. */
const char *vd_host_clocksource(char *buf, size_t n);

/* Steal time summed over all CPUs since boot, from the "cpu" line of /proc/stat (path may be
 * NULL for /proc/stat; tests pass their own file). VD_NS_NONE if unreadable or absent. */
vd_ns vd_host_steal_ns(const char *path);

#endif
