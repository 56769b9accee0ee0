/* vdtime.c — clock reads and duration parsing. */
#include "vmdelay/core/vdtime.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

vd_ns vd_now(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return vd_ns_from_timespec(&ts);
}

int vd_ns_parse_duration(const char *text, vd_ns *out)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = { { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "", 1e9 } };
	if (!text || !*text)
		return -1;
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || !isfinite(v) || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			double ns = v * units[i].scale;
			if (ns > 9.2e18)
				return -1;
			*out = (vd_ns)llround(ns);
			return 0;
		}
	}
	return -1;
}
