/* units.h — the numbers the tools take on their command lines, read strictly: counts and ports
 * ("5001"), decimals ("2.5"), durations ("250ms"), rates ("100Mbit") and sizes ("100KB",
 * "1000x100KB"). A value is the whole text or an error: no blank, no '+', no hex ("0x1p-3"),
 * no "inf" or "nan", nothing after the number or its unit, nothing that overflows. */
#ifndef VMDELAY_UNITS_H
#define VMDELAY_UNITS_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"

/* A whole decimal number in [min, max]: an optional '-' then digits, nothing else (no blank,
 * no '+', no suffix). Returns 0 and the value in *out, or -1 (malformed, out of range). */
int vd_units_parse_int(const char *text, long long min, long long max, long long *out);

/* A plain decimal number: digits with an optional fraction and exponent ("2", "0.25", ".5",
 * "1e-3"). No sign: the tools take no negative decimals. Returns 0 and a finite value in *out,
 * or -1 (malformed, trailing characters, overflow or underflow). */
int vd_units_parse_decimal(const char *text, double *out);

/* A duration: a decimal with an optional unit ns, us, ms or s (a bare number is seconds):
 * "0.25", "250ms", "100us", "10ns", "2s". Returns 0 and the value rounded to the nearest ns,
 * or -1 (malformed, unknown unit, beyond what vd_ns holds). */
int vd_units_parse_duration(const char *text, vd_ns *out);

/* A bit rate: a decimal with an optional SI prefix (k, M, G, T; powers of 1000) and an optional
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
