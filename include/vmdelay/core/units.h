/* units.h — parsing of the numbers the tools take on their command lines: counts and ports
 * ("5001"), rates and sizes ("100Mbit", "1Gbit", "100KB", "1000x100KB"). */
#ifndef VMDELAY_UNITS_H
#define VMDELAY_UNITS_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"

/* A whole decimal number in [min, max]: an optional '-' then digits, nothing else (no blank,
 * no '+', no suffix). Returns 0 and the value in *out, or -1 (malformed, out of range). */
int vd_units_parse_int(const char *text, long long min, long long max, long long *out);

/* A bit rate: a number with an optional SI prefix (k, M, G, T; powers of 1000) and an optional
 * "bit", "bps", "bit/s" or "b" suffix: "100Mbit", "1G", "2.5Gbps", "64000". Returns 0 and
 * bits/s in *bps (at least 1, so that vd_units_tx_time stays in range), or -1. */
int vd_units_parse_rate(const char *text, double *bps);

/* A size in bytes: a whole number with an optional K, M, G (powers of 1024, also written KB,
 * KiB, MB, ...): "100KB" = 102400. Returns 0, or -1 on a malformed, zero or huge value. */
int vd_units_parse_bytes(const char *text, uint64_t *bytes);

/* "COUNTxSIZE", e.g. "1000x100KB". Returns 0, or -1. */
int vd_units_parse_repeat(const char *text, uint64_t *count, uint64_t *size);

/* Time to put frame_bytes on a link of bps bits/s, rounded to the nearest ns. */
vd_ns vd_units_tx_time(uint64_t frame_bytes, double bps);

#endif
