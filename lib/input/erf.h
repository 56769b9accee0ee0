/* erf.h — Endace DAG ERF helpers shared by the reader (erf.c), the format detection (format.c)
 * and the tests. ERF: Endace "Extensible Record Format" (EDM11-01). */
#ifndef VMDELAY_ERF_H
#define VMDELAY_ERF_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/vdtime.h"

/* ERF's 64-bit little-endian fixed point time (seconds in the upper 32 bits, a binary fraction
 * of a second in the lower 32) to ns, exactly, the fraction rounded to the nearest ns (ties up),
 * as tshark shows it. */
vd_ns vd_erf_ts_to_ns(uint64_t ts);

/* Does b (the first n bytes of a file) start with a plausible ERF record? ERF has no magic
 * number, so this checks the first record header (and the second one when n reaches it). */
int vd_erf_looks_like(const uint8_t *b, size_t n);

#endif
