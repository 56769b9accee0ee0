/* tping_pull.c — a tping file's point pulled in time order through a heap (tping_pull.h). */
#include "tping_pull.h"

#include <inttypes.h>
#include <stdlib.h>

#include "tping_read.h"
#include "vmdelay/core/mem.h"

/* An event waiting: its time, the order reading the whole file gives it (ties of time keep
 * it), and where it is kept. The heap moves these keys only, not the events. */
struct held {
	vd_ns ts;
	uint64_t order;
	size_t slot;
};

struct vd_tping_pull {
	int point;
	uint64_t rows;
	int has_phase;
	struct held *heap; /* a min-heap on (time, order) */
	size_t n, cap;
	struct vd_echo *ev; /* the events waiting, by slot */
	size_t *free_slots, nfree, nslots, evcap, freecap;
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
	return a->ts != b->ts ? a->ts < b->ts : a->order < b->order;
}

static int push(struct vd_tping_pull *t, const struct vd_echo *e)
{
	if (vd_mem_reserve((void **)&t->heap, &t->cap, t->n + 1, sizeof(*t->heap)) < 0)
		return -1;
	size_t slot;
	if (t->nfree)
		slot = t->free_slots[--t->nfree];
	else if (vd_mem_reserve((void **)&t->ev, &t->evcap, t->nslots + 1, sizeof(*t->ev)) < 0 ||
		 vd_mem_reserve((void **)&t->free_slots, &t->freecap, t->nslots + 1,
				sizeof(*t->free_slots)) < 0)
		return -1;
	else
		slot = t->nslots++;
	t->ev[slot] = *e;
	size_t i = t->n++;
	struct held h = {e->ts, t->order++, slot};
	while (i && before(&h, &t->heap[(i - 1) / 2])) {
		t->heap[i] = t->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	t->heap[i] = h;
	return 0;
}

static struct vd_echo pop(struct vd_tping_pull *t)
{
	size_t top = t->heap[0].slot;
	struct held last = t->heap[--t->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= t->n)
			break;
		if (c + 1 < t->n && before(&t->heap[c + 1], &t->heap[c]))
			c++;
		if (!before(&t->heap[c], &last))
			break;
		t->heap[i] = t->heap[c];
		i = c;
	}
	if (t->n)
		t->heap[i] = last;
	t->free_slots[t->nfree++] = top; /* room made by push: one per slot */
	return t->ev[top];
}

/* The row's events at the point into the heap; -1 when one is earlier than an event given. */
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
			return vd_err_set(err, "%s: out of memory", path);
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
		if (t->n && (t->end || t->heap[0].ts < t->newest - VD_TPING_PULL_HOLD)) {
			*e = pop(t);
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
		free(t->heap);
		free(t->ev);
		free(t->free_slots);
		free(t);
	}
}
