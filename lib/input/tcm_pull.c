/* tcm_pull.c — one level of a tcpmon record file pulled in time order (tcm_pull.h): the records
 * read from the file in order (the calibration pairs read first), each echo of the level put in
 * a min-heap on (time, record number), the order vantage_tcm.c sorts them in, and the earliest
 * handed on once the heap holds vd_tcm_pull_hold events. */
#include "tcm_pull.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcm_loss.h"
#include "vmdelay/core/mem.h"
#include "vmdelay/input/tcmrec.h"

#define RING_RECORDS 4096 /* tcpmon.ko's default ring_records */
#define HOLD_MIN 65536
#define HOLD_MAX (1u << 20)

size_t vd_tcm_pull_hold(uint32_t ncpus)
{
	uint64_t n = 2 * (uint64_t)ncpus * RING_RECORDS;
	return n < HOLD_MIN ? HOLD_MIN : n > HOLD_MAX ? HOLD_MAX : (size_t)n;
}

int vd_tcm_pull_level(const struct vd_vantage_spec *spec)
{
	int want[VD_TCM_LEVELS], all, level = -1;
	struct vd_err err;
	if (vd_tcm_select(spec, want, &all, &err) < 0 || all)
		return -1;
	for (int l = 0; l < VD_TCM_LEVELS; l++) {
		if (want[l] && level >= 0)
			return -1;
		if (want[l])
			level = l;
	}
	return level;
}

/* ---- the records of a file, as the whole reader sees them ---- */
struct scan {
	const char *path;
	struct tcmrec *meta; /* header, calibration pairs, loss block, stats: no record */
	uint64_t nrecords;
	struct vd_tcmrec_cursor *cur;
	int use_tsc;
	uint64_t fallbacks; /* echo records without a TSC conversion */
	int find_gaps;	    /* no loss block: lost records show as seqno gaps */
	struct vd_tcm_seqnos seqnos;
	uint64_t index; /* records read */
};

static void scan_close(struct scan *s)
{
	vd_tcmrec_cursor_close(s->cur);
	vd_tcmrec_free(s->meta);
	vd_tcm_seqnos_free(&s->seqnos);
	memset(s, 0, sizeof(*s));
}

/* 0, 1 when the file says records were lost (read whole), -1 naming the file. */
static int scan_open(struct scan *s, const char *path, struct vd_err *err)
{
	memset(s, 0, sizeof(*s));
	s->path = path;
	if (vd_tcmrec_open_meta(path, &s->meta, &s->nrecords, err) < 0)
		return -1;
	if (vd_tcm_loss_possible(s->meta)) {
		scan_close(s);
		return 1;
	}
	if (vd_tcmrec_cursor_open(path, &s->cur, err) < 0) {
		scan_close(s);
		return -1;
	}
	s->use_tsc = vd_tcmrec_use_tsc(s->meta);
	s->find_gaps = vd_tcmrec_loss_count(s->meta) == 0;
	return 0;
}

/* The next echo record with a valid time, as the whole reader keeps it: 1 (its layer in
 * *layer), end: 0, -1 naming the file (damage, lost records, out of memory). */
static int scan_next(struct scan *s, struct vd_echo *e, unsigned *layer, struct vd_err *err)
{
	struct tcpmon_record r;
	int got;
	while ((got = vd_tcmrec_cursor_next(s->cur, &r, err)) > 0) {
		s->index++;
		if (s->find_gaps) {
			uint64_t lost = 0;
			vd_ns before;
			int gap = vd_tcm_seqnos_gap(&s->seqnos, &r, &lost, &before);
			if (gap < 0)
				return vd_err_set(err, "%s: out of memory", s->path);
			if (gap)
				return vd_err_set(err,
						  "%s: record %" PRIu64 ": %" PRIu64
						  " records of CPU %u lost by tcpmon before it: "
						  "the file is read whole",
						  s->path, s->index, lost, r.cpu);
		}
		if (!vd_tcm_echo(&r, 0, s->index, e))
			continue;
		e->ts = vd_tcmrec_record_time(s->meta, &r, s->use_tsc, &s->fallbacks);
		if (!vd_echo_ts_ok(e->ts))
			continue;
		*layer = r.layer;
		return 1;
	}
	return got;
}

/* ---- splitting a file into its levels ---- */
int vd_tcm_pull_split(const struct vd_vantage_spec *spec, struct vd_vantage_spec *out,
		      struct vd_err *err)
{
	int want[VD_TCM_LEVELS], all;
	uint64_t own[VD_TCM_LEVELS] = {0};
	struct vd_err why;
	struct scan s;
	struct vd_echo e;
	unsigned layer;
	int r;
	if (strcmp(spec->select, "*") == 0 || vd_tcm_select(spec, want, &all, &why) < 0 ||
	    scan_open(&s, spec->path, &why) != 0)
		return 0;
	while ((r = scan_next(&s, &e, &layer, &why)) > 0)
		for (size_t l = 0; l < VD_TCM_LEVELS; l++)
			if ((all || want[l]) && vd_tcm_level_has(l, layer))
				own[l] += (uint64_t)vd_tcm_level_own(l, layer);
	scan_close(&s);
	if (r < 0)
		return 0;
	size_t nwant = 0, nchosen = 0;
	for (size_t l = 0; l < VD_TCM_LEVELS; l++) {
		if (want[l] && !own[l])
			return 0;
		nwant += (size_t)want[l];
		nchosen += own[l] > 0;
	}
	int n = 0;
	for (size_t l = 0; l < VD_TCM_LEVELS; l++) {
		if (!own[l])
			continue;
		struct vd_vantage_spec *o = &out[n++];
		*o = (struct vd_vantage_spec){.path = strdup(spec->path)};
		memcpy(o->clock, spec->clock, sizeof(o->clock));
		/* vd_echo_read's names: NAME for one level, NAME.LEVEL for several, else LEVEL */
		if (spec->name[0] && (nwant == 1 || nchosen == 1))
			snprintf(o->name, sizeof(o->name), "%s", spec->name);
		else if (spec->name[0])
			snprintf(o->name, sizeof(o->name), "%.70s.%s", spec->name,
				 vd_tcm_level_name(l));
		else
			snprintf(o->name, sizeof(o->name), "%s", vd_tcm_level_name(l));
		snprintf(o->select, sizeof(o->select), "%s", vd_tcm_level_name(l));
		if (!o->path) {
			for (int j = 0; j < n; j++)
				vd_vantage_spec_free(&out[j]);
			return vd_err_set(err, "out of memory");
		}
	}
	return n;
}

/* ---- one level pulled ---- */
struct vd_tcm_pull {
	struct scan s;
	const struct vd_vantage_spec *spec;
	size_t level;
	struct vd_echo *heap; /* min-heap on (ts, index) */
	size_t n, cap, hold;
	int end, handed;     /* handed: an event went out, last is it */
	struct vd_echo last; /* what went out last: nothing earlier may come */
	uint64_t own;	     /* events at the level's own layers */
};

static int earlier(const struct vd_echo *a, const struct vd_echo *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->index < b->index);
}

static int heap_push(struct vd_tcm_pull *t, const struct vd_echo *e)
{
	if (vd_mem_reserve((void **)&t->heap, &t->cap, t->n + 1, sizeof(*t->heap)))
		return -1;
	size_t i = t->n++;
	while (i > 0 && earlier(e, &t->heap[(i - 1) / 2])) {
		t->heap[i] = t->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	t->heap[i] = *e;
	return 0;
}

static void heap_pop(struct vd_tcm_pull *t, struct vd_echo *e)
{
	*e = t->heap[0];
	struct vd_echo x = t->heap[--t->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= t->n)
			break;
		if (c + 1 < t->n && earlier(&t->heap[c + 1], &t->heap[c]))
			c++;
		if (!earlier(&t->heap[c], &x))
			break;
		t->heap[i] = t->heap[c];
		i = c;
	}
	if (t->n)
		t->heap[i] = x;
}

int vd_tcm_pull_open(const struct vd_vantage_spec *spec, int level, struct vd_tcm_pull **out,
		     struct vd_err *err)
{
	struct vd_tcm_pull *t = calloc(1, sizeof(*t));
	*out = NULL;
	if (!t)
		return vd_err_set(err, "%s: out of memory", spec->path);
	int r = scan_open(&t->s, spec->path, err);
	if (r != 0) {
		free(t);
		return r;
	}
	t->spec = spec;
	t->level = (size_t)level;
	t->hold = vd_tcm_pull_hold(vd_tcmrec_info(t->s.meta)->ncpus);
	*out = t;
	return 0;
}

int vd_tcm_pull_next(struct vd_tcm_pull *t, struct vd_echo *e, struct vd_err *err)
{
	for (;;) {
		if (t->n && (t->end || t->n >= t->hold)) {
			heap_pop(t, e);
			t->last = *e;
			t->handed = 1;
			return 1;
		}
		if (t->end)
			return 0;
		struct vd_echo ev;
		unsigned layer;
		int r = scan_next(&t->s, &ev, &layer, err);
		if (r < 0)
			return -1;
		if (r == 0) {
			t->end = 1;
			continue;
		}
		if (!vd_tcm_level_has(t->level, layer))
			continue;
		t->own += (uint64_t)vd_tcm_level_own(t->level, layer);
		if (t->handed && earlier(&ev, &t->last))
			return vd_err_set(err,
					  "%s: record %" PRIu64
					  " is earlier than level %s's events already put in time "
					  "order (more out of order than the %zu events held): the "
					  "file is read whole",
					  t->s.path, ev.index, vd_tcm_level_name(t->level),
					  t->hold);
		if (heap_push(t, &ev) < 0)
			return vd_err_set(err, "%s: out of memory", t->s.path);
	}
}

int vd_tcm_pull_finish(struct vd_tcm_pull *t, struct vd_echo_point *pt, struct vd_err *err)
{
	const struct vd_vantage_spec *spec = t->spec;
	const char *level = vd_tcm_level_name(t->level);
	struct vd_tcm_loss none = {0};
	snprintf(pt->name, sizeof(pt->name), "%s", spec->name[0] ? spec->name : level);
	snprintf(pt->clock, sizeof(pt->clock), "%s", spec->clock);
	snprintf(pt->format, sizeof(pt->format), "%s", VD_VANTAGE_TCM_FORMAT);
	snprintf(pt->select, sizeof(pt->select), "%s", level);
	pt->path = spec->path;
	vd_tcm_clock_notes(t->s.meta, t->s.use_tsc, t->s.fallbacks, &none, 0, 0, pt->notes,
			   sizeof(pt->notes));
	pt->records = t->s.index;
	if (!t->own)
		return vd_err_set(err,
				  "%s: no ICMP echo records at level %s (%" PRIu64 " records read)",
				  spec->path, level, t->s.index);
	return 0;
}

void vd_tcm_pull_free(struct vd_tcm_pull *t)
{
	if (!t)
		return;
	scan_close(&t->s);
	free(t->heap);
	free(t);
}
