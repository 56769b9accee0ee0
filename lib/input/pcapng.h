/* pcapng.h — pcapng helpers shared by the reader (pcapng.c) and the tests. */
#ifndef VMDELAY_PCAPNG_H
#define VMDELAY_PCAPNG_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"

/* A pcapng timestamp (64-bit count of if_tsresol units: 10^-n s, or 2^-n s when bit 7 is set)
 * plus the interface's if_tsoffset (seconds) to epoch ns, exactly (integer arithmetic),
 * rounded to the nearest ns (ties up) when the unit is finer than 1 ns.
 * A count that does not fit as unsigned is read as a signed (pre-1970) one, as some writers
 * store it. -1 when the resolution is unsupported (finer than 10^-38 s or 2^-126 s) or the
 * result does not fit in vd_ns. */
int vd_pcapng_ts_to_ns(uint64_t units, uint8_t tsresol, int64_t tsoffset, vd_ns *out);

#endif
