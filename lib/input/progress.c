/* progress.c — progress of a long read on stderr (progress.h). */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

void vd_progress_tick(struct vd_progress *p, uint64_t records)
{
	if (!p->on || (records & 0xffff))
		return;
	vd_ns now = vd_now(CLOCK_MONOTONIC);
	if (now - p->last < VD_NS_PER_SEC / 2)
		return;
	p->last = now;
	fprintf(stderr, "\r%s: %" PRIu64 " records", p->path, records);
	fflush(stderr);
}

void vd_progress_done(struct vd_progress *p, uint64_t records)
{
	if (p->on && p->last)
		fprintf(stderr, "\r%s: %" PRIu64 " records\n", p->path, records);
}
