/* hostinfo.c — clocksource from sysfs and steal time from /proc/stat (proc(5): the 8th value of
 * the "cpu" line, in USER_HZ ticks). */
#include "vmdelay/core/hostinfo.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *vd_host_clocksource(char *buf, size_t n)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (!f || !fgets(buf, (int)n, f)) {
		snprintf(buf, n, "unknown");
	} else {
		buf[strcspn(buf, "\n")] = 0;
	}
	if (f)
		fclose(f);
	return buf;
}

vd_ns vd_host_steal_ns(const char *path)
{
	FILE *f = fopen(path ? path : "/proc/stat", "r");
	if (!f)
		return VD_NS_NONE;
	char line[512];
	vd_ns out = VD_NS_NONE;
	while (fgets(line, sizeof(line), f)) {
		uint64_t v[8];
		if (strncmp(line, "cpu ", 4) != 0)
			continue;
		int k = sscanf(line + 4,
			       "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
			       " %" SCNu64 " %" SCNu64 " %" SCNu64,
			       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		long hz = sysconf(_SC_CLK_TCK);
		if (k == 8 && hz > 0)
			out = (vd_ns)(v[7] * (uint64_t)(VD_NS_PER_SEC / hz));
		break;
	}
	fclose(f);
	return out;
}
