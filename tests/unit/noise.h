/* noise.h — random delays for the clock-fit tests (test_align.c, test_align_acc.c): a
 * xorshift generator seeded through `rng`, uniform in (0, 1) and exponential delays. */
#ifndef VMDELAY_TESTS_NOISE_H
#define VMDELAY_TESTS_NOISE_H

#include <math.h>
#include <stdint.h>

#include "vmdelay/core/vdtime.h"

static uint64_t rng;

static inline double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

/* Exp(mean), rounded to a ns. */
static inline vd_ns expo(double mean)
{
	return (vd_ns)llround(-mean * log(uniform()));
}

#endif
