/* tping_pull.c — a tping file's point pulled in time order through sorted runs
 * (tping_pull.h). */
#include "tping_pull.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tping_read.h"
#include "vmdelay/core/mem.h"

/* An event waiting, and the order reading the whole file gives it (ties of time keep it). */
struct held {
	struct vd_echo e;
	uint64_t order;
};

/* A run of waiting events in time order: rows come nearly in time order (requests a round trip
 * behind their replies, lost probes' requests a timeout behind), so a few runs hold them all,
 * each appended at its end and taken from its head; the earliest head goes out first. */
struct run {
	struct held *ev;
	size_t head, n, cap;
};
#define MAX_RUNS 64 /* rows more disordered than that give way */

struct vd_tping_pull {
	int point;
	uint64_t rows;
	int has_phase;
	struct run runs[MAX_RUNS];
	size_t nruns, waiting;
	uint64_t order;
	vd_ns newest; /* the latest time read */
	vd_ns given;  /* the time of the last event given */
	int end;
};

int vd_tping_pull_point(const struct vd_vantage_spec *spec)
{
	int want[VD_TPING_POINTS];
	if (vd_tping_select(spec, want, NULL) != 1)
		return -1;
	for (int k = 0; k < VD_TPING_POINTS; k++)
		if (want[k])
			return k;
	return -1;
}

struct vd_tping_pull *vd_tping_pull_new(int point)
{
	struct vd_tping_pull *t = calloc(1, sizeof(*t));
	if (t) {
		t->point = point;
		t->has_phase = 1;
		t->newest = t->given = INT64_MIN;
	}
	return t;
}

static int before(const struct held *a, const struct held *b)
{
	return a->e.ts != b->e.ts ? a->e.ts < b->e.ts : a->order < b->order;
}

/* e at the end of the run whose last time is the latest not after e's (an empty run, else a new
 * one when none): 0, or -1 out of memory or past MAX_RUNS runs. */
static int push(struct vd_tping_pull *t, const struct vd_echo *e)
{
	struct run *best = NULL, *empty = NULL;
	for (size_t i = 0; i < t->nruns; i++) {
		struct run *r = &t->runs[i];
		if (r->head == r->n)
			empty = empty ? empty : r;
		else if (r->ev[r->n - 1].e.ts <= e->ts &&
			 (!best || r->ev[r->n - 1].e.ts > best->ev[best->n - 1].e.ts))
			best = r;
	}
	if (!best)
		best = empty ? empty : t->nruns < MAX_RUNS ? &t->runs[t->nruns++] : NULL;
	if (!best)
		return -1;
	if (best->head == best->n)
		best->head = best->n = 0;
	else if (best->head > best->cap / 2) { /* the taken half makes room */
		memmove(best->ev, best->ev + best->head,
			(best->n - best->head) * sizeof(*best->ev));
		best->n -= best->head;
		best->head = 0;
	}
	if (vd_mem_reserve((void **)&best->ev, &best->cap, best->n + 1, sizeof(*best->ev)) < 0)
		return -1;
	best->ev[best->n++] = (struct held){*e, t->order++};
	t->waiting++;
	return 0;
}

/* The run whose head is the earliest (something waits). */
static struct run *earliest(struct vd_tping_pull *t)
{
	struct run *m = NULL;
	for (size_t i = 0; i < t->nruns; i++) {
		struct run *r = &t->runs[i];
		if (r->head < r->n && (!m || before(&r->ev[r->head], &m->ev[m->head])))
			m = r;
	}
	return m;
}

/* The row's events at the point into the runs; -1 when one is earlier than an event given. */
static int take_row(struct vd_tping_pull *t, const struct vd_probe *p, const char *path,
		    struct vd_err *err)
{
	struct vd_echo e[2];
	size_t n = vd_tping_row_events(p, t->point, ++t->rows, e);
	for (size_t i = 0; i < n; i++) {
		if (e[i].ts < t->given)
			return vd_err_set(err,
					  "%s: row %" PRIu64 ": a %s time more than %d s before "
					  "a later row's",
					  path, t->rows, vd_tping_point_name(t->point),
					  (int)(VD_TPING_PULL_HOLD / VD_NS_PER_SEC));
		if (e[i].kind == VD_ECHO_REQUEST && e[i].phase < 0)
			t->has_phase = 0;
		if (push(t, &e[i]) < 0)
			return vd_err_set(err,
					  "%s: row %" PRIu64 ": out of memory, or rows more out of "
					  "time order than %d runs hold",
					  path, t->rows, MAX_RUNS);
		if (e[i].ts > t->newest)
			t->newest = e[i].ts;
	}
	return 0;
}

int vd_tping_pull_next(struct vd_tping_pull *t, struct vd_source *src, const char *path,
		       struct vd_echo *e, struct vd_err *err)
{
	for (;;) {
		/* no row to come reaches back before newest - HOLD: what is older goes out */
		struct run *first = t->waiting ? earliest(t) : NULL;
		if (first &&
		    (t->end || first->ev[first->head].e.ts < t->newest - VD_TPING_PULL_HOLD)) {
			*e = first->ev[first->head++].e;
			t->waiting--;
			t->given = e->ts;
			return 1;
		}
		if (t->end)
			return 0;
		struct vd_item it;
		int r = vd_source_next(src, &it, err);
		if (r < 0)
			return -1;
		if (r == 0)
			t->end = 1;
		else if (take_row(t, &it.probe, path, err) < 0)
			return -1;
	}
}

uint64_t vd_tping_pull_rows(const struct vd_tping_pull *t)
{
	return t->rows;
}

int vd_tping_pull_has_phase(const struct vd_tping_pull *t)
{
	return t->has_phase;
}

void vd_tping_pull_free(struct vd_tping_pull *t)
{
	if (t) {
		for (size_t i = 0; i < t->nruns; i++)
			free(t->runs[i].ev);
		free(t);
	}
}
