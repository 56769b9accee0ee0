/* tping_pull.c — a tping file read once, each row's events handed to the sorted runs of every
 * point fed, each point pulled from its runs in time order (tping_pull.h). */
#include "tping_pull.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/mem.h"

/* An event waiting: what a tping row's event holds (no addresses, no id) in 24 bytes, and the
 * order reading the whole file gives it (ties of time keep it). */
struct held {
	vd_ns ts;
	uint64_t order; /* row * 2 + the event's place in its row */
	uint32_t seq;
	uint8_t kind;
	int8_t phase;
};

/* A run of waiting events in time order: rows come nearly in time order (requests a round trip
 * behind their replies, lost probes' requests a timeout behind), so a few runs hold them all,
 * each appended at its end and taken from its head; the earliest head goes out first. */
struct run {
	struct held *ev;
	size_t head, n, cap;
};
#define MAX_RUNS 64 /* rows more disordered than that give way */

/* A point of the feed: off (not fed: not asked for, closed, or left behind), fed and waiting to
 * be attached, or attached to its pull reader. */
enum { PT_OFF, PT_FED, PT_ATTACHED };

struct vd_tping_pull {
	struct vd_tping_feed *feed;
	int point, state;
	int has_phase;
	int failed; /* err is given at the point's next pull */
	struct vd_err err;
	struct run runs[MAX_RUNS];
	/* each run's head and tail times side by side, so that choosing a run reads a few cache
	 * lines, not every run's events: an empty run's head is INT64_MAX, its tail INT64_MIN */
	vd_ns head_ts[MAX_RUNS], tail_ts[MAX_RUNS];
	size_t nruns, waiting;
	vd_ns first;  /* the time of the first event fed */
	vd_ns newest; /* the latest time fed */
	vd_ns given;  /* the time of the last event given */
	/* every point's newest time when this one was last fed (INT64_MIN: none yet), so that its
	 * silence is measured on the clocks of the points still timed */
	vd_ns mark[VD_TPING_POINTS];
	int done; /* silent longer than VD_TPING_PULL_HOLD: taken as finished */
};

struct vd_tping_feed {
	struct vd_source *src;
	const char *path;
	struct vd_tping_pull pt[VD_TPING_POINTS];
	int fed[VD_TPING_POINTS];  /* the points asked for */
	int seen[VD_TPING_POINTS]; /* the points timed in the rows read */
	int strict;		   /* a row timed at a point not asked for fails */
	int refs, end, failed, taken;
	struct vd_err err; /* the reading's failure (failed) */
	uint64_t rows;
	vd_ns oldest, newest; /* over every event read */
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

static void runs_free(struct vd_tping_pull *t)
{
	for (size_t i = 0; i < t->nruns; i++)
		free(t->runs[i].ev);
	memset(t->runs, 0, sizeof(t->runs));
	t->nruns = t->waiting = 0;
}

struct vd_tping_feed *vd_tping_feed_new(struct vd_source *src, const char *path,
					const int feed[VD_TPING_POINTS])
{
	struct vd_tping_feed *f = calloc(1, sizeof(*f));
	if (!f) {
		vd_source_close(src);
		return NULL;
	}
	f->src = src;
	f->path = path;
	f->refs = 1;
	f->oldest = INT64_MAX;
	f->newest = INT64_MIN;
	for (int k = 0; k < VD_TPING_POINTS; k++) {
		f->fed[k] = feed[k] != 0;
		f->pt[k] = (struct vd_tping_pull){.feed = f,
						  .point = k,
						  .state = f->fed[k] ? PT_FED : PT_OFF,
						  .has_phase = 1,
						  .first = INT64_MIN,
						  .newest = INT64_MIN,
						  .given = INT64_MIN};
		for (int j = 0; j < VD_TPING_POINTS; j++)
			f->pt[k].mark[j] = INT64_MIN;
	}
	return f;
}

static int before(const struct held *a, const struct held *b)
{
	return a->ts != b->ts ? a->ts < b->ts : a->order < b->order;
}

/* h at the end of the run whose last time is the latest not after h's (an empty run, else a
 * new one when none): 0, or -1 out of memory or past MAX_RUNS runs. */
static int push(struct vd_tping_pull *t, const struct held *h)
{
	size_t b = SIZE_MAX;
	for (size_t i = 0; i < t->nruns; i++)
		if (t->tail_ts[i] <= h->ts && (b == SIZE_MAX || t->tail_ts[i] > t->tail_ts[b]))
			b = i;
	if (b == SIZE_MAX && t->nruns == MAX_RUNS)
		return -1;
	if (b == SIZE_MAX)
		b = t->nruns++;
	struct run *r = &t->runs[b];
	if (r->head == r->n) {
		r->head = r->n = 0;
		t->head_ts[b] = h->ts;
	} else if (r->head > r->cap / 2) { /* the taken half makes room */
		memmove(r->ev, r->ev + r->head, (r->n - r->head) * sizeof(*r->ev));
		r->n -= r->head;
		r->head = 0;
	}
	if (vd_mem_reserve((void **)&r->ev, &r->cap, r->n + 1, sizeof(*r->ev)) < 0)
		return -1;
	r->ev[r->n++] = *h;
	t->tail_ts[b] = h->ts;
	t->waiting++;
	return 0;
}

/* The run whose head is the earliest (something waits). */
static size_t earliest(const struct vd_tping_pull *t)
{
	size_t m = 0;
	for (size_t i = 1; i < t->nruns; i++)
		if (t->head_ts[i] < t->head_ts[m] ||
		    (t->head_ts[i] == t->head_ts[m] && t->head_ts[i] != INT64_MAX &&
		     before(&t->runs[i].ev[t->runs[i].head], &t->runs[m].ev[t->runs[m].head])))
			m = i;
	return m;
}

/* The head of run m out (it waits). */
static struct held take_head(struct vd_tping_pull *t, size_t m)
{
	struct run *r = &t->runs[m];
	struct held h = r->ev[r->head++];
	t->waiting--;
	if (r->head == r->n) {
		t->head_ts[m] = INT64_MAX;
		t->tail_ts[m] = INT64_MIN;
	} else {
		t->head_ts[m] = r->ev[r->head].ts;
	}
	return h;
}

/* A row's events at point t into its runs. An event earlier than one given, or no room, is
 * the point's failure, given at its next pull (the other points read on). */
static void take(struct vd_tping_pull *t, uint64_t row, const struct vd_echo *e, size_t n)
{
	const char *path = t->feed->path;
	if (t->done) {
		/* its end was given: the merge went on without it */
		t->feed->failed = 1;
		vd_err_set(&t->feed->err,
			   "%s: row %" PRIu64 ": %s timestamps again after none for more than %d "
			   "s, when the point was taken as finished",
			   path, row, vd_tping_point_name(t->point),
			   (int)(VD_TPING_PULL_HOLD / VD_NS_PER_SEC));
		return;
	}
	if (t->first == INT64_MIN && n)
		t->first = e[0].ts;
	for (size_t i = 0; i < n && !t->failed; i++) {
		if (e[i].ts < t->given) {
			t->failed = 1;
			vd_err_set(&t->err,
				   "%s: row %" PRIu64 ": a %s time more than %d s before a later "
				   "row's",
				   path, row, vd_tping_point_name(t->point),
				   (int)(VD_TPING_PULL_HOLD / VD_NS_PER_SEC));
			return;
		}
		if (e[i].kind == VD_ECHO_REQUEST && e[i].phase < 0)
			t->has_phase = 0;
		struct held h = {e[i].ts, row * 2 + i, e[i].seq, e[i].kind, e[i].phase};
		if (push(t, &h) < 0) {
			t->failed = 1;
			vd_err_set(&t->err,
				   "%s: row %" PRIu64 ": out of memory, or rows more out of time "
				   "order than %d runs hold",
				   path, row, MAX_RUNS);
			return;
		}
		if (e[i].ts > t->newest)
			t->newest = e[i].ts;
	}
}

/* The next row's events into the runs of the points fed: 1, the end: 0, -1 (f->err). */
static int feed_row(struct vd_tping_feed *f)
{
	if (f->failed)
		return -1;
	if (f->end)
		return 0;
	struct vd_item it;
	int r = vd_source_next(f->src, &it, &f->err);
	if (r <= 0) {
		f->failed = r < 0;
		f->end = r == 0;
		return r;
	}
	f->rows++;
	int timed = 0; /* the points fed in this row, a bit each */
	for (int k = 0; k < VD_TPING_POINTS; k++) {
		struct vd_echo e[2];
		size_t n = vd_tping_row_events(&it.probe, k, f->rows, e);
		if (!n)
			continue;
		if (f->strict && !f->fed[k]) {
			f->failed = 1;
			return vd_err_set(
			    &f->err,
			    "%s: row %" PRIu64 ": the first %s timestamps, after the "
			    "first %d s of the file from which its points were chosen",
			    f->path, f->rows, vd_tping_point_name(k),
			    (int)(VD_TPING_PULL_HOLD / VD_NS_PER_SEC));
		}
		f->seen[k] = 1;
		for (size_t i = 0; i < n; i++) {
			f->oldest = e[i].ts < f->oldest ? e[i].ts : f->oldest;
			f->newest = e[i].ts > f->newest ? e[i].ts : f->newest;
		}
		if (f->pt[k].state == PT_OFF)
			continue;
		take(&f->pt[k], f->rows, e, n);
		if (f->failed)
			return -1;
		timed |= 1 << k;
	}
	for (int k = 0; timed >> k; k++)
		if (timed >> k & 1)
			for (int j = 0; j < VD_TPING_POINTS; j++)
				f->pt[k].mark[j] = f->pt[j].newest;
	return 1;
}

/* Whether t has had no event while another point attached moved more than VD_TPING_PULL_HOLD on
 * (its clock's time): a point whose timestamps stop early in the file, taken as finished, so
 * that the others' events do not wait for the end of the file behind it. */
static int silent(const struct vd_tping_pull *t)
{
	const struct vd_tping_feed *f = t->feed;
	for (int j = 0; j < VD_TPING_POINTS; j++) {
		const struct vd_tping_pull *o = &f->pt[j];
		if (j == t->point || o->state != PT_ATTACHED || o->newest == INT64_MIN)
			continue;
		vd_ns since = t->mark[j] != INT64_MIN ? t->mark[j] : o->first;
		/* as unsigned: any times a file holds, without overflow */
		if (o->newest > since && (uint64_t)o->newest - (uint64_t)since > VD_TPING_PULL_HOLD)
			return 1;
	}
	return 0;
}

/* The first failure among the points fed, as err: -1; else 0. */
static int points_failed(const struct vd_tping_feed *f, struct vd_err *err)
{
	for (int k = 0; k < VD_TPING_POINTS; k++)
		if (f->pt[k].state != PT_OFF && f->pt[k].failed) {
			*err = f->pt[k].err;
			return -1;
		}
	return 0;
}

int vd_tping_feed_first(struct vd_tping_feed *f, int seen[VD_TPING_POINTS], struct vd_err *err)
{
	for (;;) {
		int all = 1;
		for (int k = 0; k < VD_TPING_POINTS; k++)
			all &= !f->fed[k] || f->seen[k];
		if (all || f->end ||
		    (f->newest > f->oldest && f->newest - f->oldest > VD_TPING_PULL_HOLD))
			break;
		if (feed_row(f) < 0) {
			*err = f->err;
			return -1;
		}
	}
	memcpy(seen, f->seen, sizeof(f->seen));
	return points_failed(f, err);
}

static void point_off(struct vd_tping_pull *t)
{
	runs_free(t);
	t->state = PT_OFF;
}

void vd_tping_feed_keep(struct vd_tping_feed *f, const int keep[VD_TPING_POINTS], int strict)
{
	for (int k = 0; k < VD_TPING_POINTS; k++)
		if (!keep[k]) {
			f->fed[k] = 0;
			point_off(&f->pt[k]);
		}
	f->strict = strict;
}

struct vd_tping_pull *vd_tping_feed_attach(struct vd_tping_feed *f, int k)
{
	struct vd_tping_pull *t = &f->pt[k];
	if (t->state != PT_FED)
		return NULL;
	t->state = PT_ATTACHED;
	f->refs++;
	return t;
}

void vd_tping_feed_unref(struct vd_tping_feed *f)
{
	if (!f || --f->refs > 0)
		return;
	for (int k = 0; k < VD_TPING_POINTS; k++)
		runs_free(&f->pt[k]);
	vd_source_close(f->src);
	free(f);
}

struct vd_tping_pull *vd_tping_pull_open(struct vd_source *src, const char *path, int k)
{
	int one[VD_TPING_POINTS] = {0};
	one[k] = 1;
	struct vd_tping_feed *f = vd_tping_feed_new(src, path, one);
	struct vd_tping_pull *t = f ? vd_tping_feed_attach(f, k) : NULL;
	vd_tping_feed_unref(f); /* the point's reference keeps it */
	return t;
}

int vd_tping_pull_next(struct vd_tping_pull *t, struct vd_echo *e, struct vd_err *err)
{
	struct vd_tping_feed *f = t->feed;
	for (;;) {
		if (t->failed) {
			*err = t->err;
			return -1;
		}
		/* no row to come reaches back before newest - HOLD: what is older goes out */
		size_t first = t->waiting ? earliest(t) : 0;
		int over = f->end || t->done;
		if (t->waiting && (over || t->head_ts[first] < t->newest - VD_TPING_PULL_HOLD)) {
			struct held h = take_head(t, first);
			t->given = h.ts;
			*e = (struct vd_echo){.ts = h.ts,
					      .kind = h.kind,
					      .seq = h.seq,
					      .phase = h.phase,
					      .index = h.order / 2};
			if (!f->taken) {
				/* a point not attached by now would hold the whole file */
				f->taken = 1;
				for (int k = 0; k < VD_TPING_POINTS; k++)
					if (f->pt[k].state == PT_FED)
						point_off(&f->pt[k]);
			}
			return 1;
		}
		if (over)
			return 0;
		if (silent(t)) {
			t->done = 1;
			continue;
		}
		if (feed_row(f) < 0) {
			*err = f->err;
			return -1;
		}
	}
}

enum vd_format vd_tping_pull_format(const struct vd_tping_pull *t)
{
	return vd_source_format(t->feed->src);
}

uint64_t vd_tping_pull_rows(const struct vd_tping_pull *t)
{
	return t->feed->rows;
}

int vd_tping_pull_has_phase(const struct vd_tping_pull *t)
{
	return t->has_phase;
}

void vd_tping_pull_close(struct vd_tping_pull *t)
{
	if (t) {
		point_off(t);
		vd_tping_feed_unref(t->feed);
	}
}
