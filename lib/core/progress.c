/* progress.c — the progress line on stderr (see progress.h). */
#include "vmdelay/core/progress.h"

#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

/* Inputs read faster than this print nothing: the line is for waits a user notices. */
#define PROGRESS_DELAY (VD_NS_PER_SEC / 2)
#define PROGRESS_EVERY (VD_NS_PER_SEC / 2)

void vd_progress_init(struct vd_progress *p, const char *what, int forced, int quiet,
		      uint64_t total_bytes)
{
	*p = (struct vd_progress){.out = stderr, .what = what, .total_bytes = total_bytes};
	p->tty = isatty(fileno(stderr));
	p->forced = forced;
	p->on = forced || (p->tty && !quiet);
	if (p->on)
		p->start = p->last = vd_now(CLOCK_MONOTONIC);
}

static void print_line(struct vd_progress *p, uint64_t records, uint64_t bytes, vd_ns now,
		       const char *end)
{
	double s = (double)(now - p->start) / VD_NS_PER_SEC;
	fprintf(p->out, "%s%s: %" PRIu64 " records", p->tty ? "\r" : "", p->what, records);
	if (p->total_bytes && bytes <= p->total_bytes)
		fprintf(p->out, ", %.0f%% of %.1f MB",
			100.0 * (double)bytes / (double)p->total_bytes,
			(double)p->total_bytes / 1e6);
	fprintf(p->out, ", %.1f s%s", s, end);
	fflush(p->out);
	p->shown = 1;
}

void vd_progress_update(struct vd_progress *p, uint64_t records, uint64_t bytes)
{
	if (!p->on)
		return;
	vd_ns now = vd_now(CLOCK_MONOTONIC);
	if (now - p->start < PROGRESS_DELAY || now - p->last < PROGRESS_EVERY)
		return;
	p->last = now;
	/* on a terminal the line is redrawn in place; elsewhere one line per update */
	print_line(p, records, bytes, now, p->tty ? "" : "\n");
}

void vd_progress_done(struct vd_progress *p, uint64_t records, uint64_t bytes)
{
	if (!p->on || !(p->shown || p->forced))
		return;
	print_line(p, records, bytes, vd_now(CLOCK_MONOTONIC), ", done\n");
	p->on = 0;
}

uint64_t vd_progress_file_size(const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size;
}
