/* tcm_pull.c — the levels of a tcpmon record file pulled in time order (tcm_pull.h): one reading
 * of the records (the calibration pairs read first) puts the echoes of the levels opened on it
 * back in time order (then record order: the order vantage_tcm.c sorts them in) through a
 * bounded merge (tcm_merge.h), and hands each to the queue of every level it is an event of. */
#include "tcm_pull.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcm_loss.h"
#include "tcm_merge.h"
#include "vmdelay/core/mem.h"
#include "vmdelay/core/progress.h"
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

/* The next echo record with a valid time, as the whole reader keeps it: 1 (its layer and CPU in
 * *layer, *cpu), end: 0, -1 naming the file (damage, lost records, out of memory). */
static int scan_next(struct scan *s, struct vd_echo *e, unsigned *layer, uint32_t *cpu,
		     struct vd_err *err)
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
		*cpu = r.cpu;
		return 1;
	}
	return got;
}

/* ---- the files split for one analysis ---- */
struct reading;

struct split_file {
	char *path;
	int own[VD_TCM_LEVELS]; /* whether a level has events at its own layers */
	struct reading *rd;	/* the reading levels opened now share */
};

struct vd_tcm_split {
	struct split_file *files;
	size_t n, cap;
};

static void reading_unref(struct reading *rd);

struct vd_tcm_split *vd_tcm_split_new(void)
{
	return calloc(1, sizeof(struct vd_tcm_split));
}

void vd_tcm_split_free(struct vd_tcm_split *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		reading_unref(s->files[i].rd);
		free(s->files[i].path);
	}
	free(s->files);
	free(s);
}

static struct split_file *split_find(struct vd_tcm_split *s, const char *path)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (strcmp(s->files[i].path, path) == 0)
			return &s->files[i];
	return NULL;
}

int vd_tcm_split_holds(struct vd_tcm_split *s, const char *path)
{
	return split_find(s, path) != NULL;
}

/* Which levels have events of their own (has[l]), reading the records until every level has
 * or the end: 0, 1 when the file is to be read whole (lost records, damage). Damage or a gap in
 * the seqnos after the records read here fails the reading of the levels later, which gives
 * way to reading whole as well. */
static int levels_of(const char *path, int has[VD_TCM_LEVELS])
{
	struct vd_err why;
	struct scan s;
	struct vd_echo e;
	unsigned layer;
	uint32_t cpu;
	size_t found = 0;
	int r = 0;
	memset(has, 0, VD_TCM_LEVELS * sizeof(*has));
	if (scan_open(&s, path, &why) != 0)
		return 1;
	while (found < VD_TCM_LEVELS && (r = scan_next(&s, &e, &layer, &cpu, &why)) > 0)
		for (size_t l = 0; l < VD_TCM_LEVELS; l++)
			if (!has[l] && vd_tcm_level_has(l, layer) && vd_tcm_level_own(l, layer)) {
				has[l] = 1;
				found++;
			}
	scan_close(&s);
	return found < VD_TCM_LEVELS && r < 0;
}

int vd_tcm_pull_split(struct vd_tcm_split *split, const struct vd_vantage_spec *spec,
		      struct vd_vantage_spec *out, struct vd_err *err)
{
	int want[VD_TCM_LEVELS], all, own[VD_TCM_LEVELS];
	struct vd_err why;
	if (strcmp(spec->select, "*") == 0 || vd_tcm_select(spec, want, &all, &why) < 0)
		return 0;
	struct split_file *sf = split_find(split, spec->path);
	if (sf) {
		memcpy(own, sf->own, sizeof(own));
	} else {
		if (levels_of(spec->path, own))
			return 0;
		if (split) { /* the next spec of the file, and the readers, find it here */
			char *path = strdup(spec->path);
			if (!path || vd_mem_reserve((void **)&split->files, &split->cap,
						    split->n + 1, sizeof(*split->files))) {
				free(path);
				return vd_err_set(err, "out of memory");
			}
			sf = &split->files[split->n++];
			*sf = (struct split_file){.path = path};
			memcpy(sf->own, own, sizeof(own));
		}
	}
	size_t nwant = 0, nchosen = 0;
	for (size_t l = 0; l < VD_TCM_LEVELS; l++) {
		if (!all && !want[l])
			own[l] = 0;
		else if (want[l] && !own[l])
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

/* ---- one reading of a file, feeding the levels opened on it ---- */
struct reading {
	struct scan s;
	char *path;
	struct vd_tcm_merge merge;
	struct vd_tcm_pull *level[VD_TCM_LEVELS]; /* the levels fed, NULL: not fed */
	uint32_t layers;			  /* bit per layer of the levels fed */
	size_t waiting;				  /* events in the levels' queues */
	int refs, taken, end, failed;
	struct vd_err err; /* the reading's failure */
	struct vd_progress prog;
	uint64_t size;
};

struct vd_tcm_pull {
	struct reading *rd;
	const struct vd_vantage_spec *spec;
	size_t level;
	struct vd_echo *q; /* the level's events in time order, taken from head */
	size_t head, n, cap;
	int handed;	     /* an event went out, last is it */
	struct vd_echo last; /* a reading taken over later skips up to it */
	uint64_t own;	     /* events at the level's own layers */
	int progress;
};

/* 0, 1 when the file lost records (read whole), -1 naming it. */
static int reading_open(const char *path, int progress, struct reading **out, struct vd_err *err)
{
	struct reading *rd = calloc(1, sizeof(*rd));
	*out = NULL;
	if (!rd || !(rd->path = strdup(path))) {
		free(rd);
		return vd_err_set(err, "%s: out of memory", path);
	}
	int r = scan_open(&rd->s, rd->path, err);
	if (r != 0) {
		free(rd->path);
		free(rd);
		return r;
	}
	vd_tcm_merge_init(&rd->merge, vd_tcmrec_info(rd->s.meta)->ncpus,
			  vd_tcm_pull_hold(vd_tcmrec_info(rd->s.meta)->ncpus));
	rd->size = vd_progress_file_size(rd->path);
	vd_progress_init(&rd->prog, rd->path, progress == VD_PROGRESS_FORCED, progress == 0,
			 rd->size);
	rd->refs = 1;
	*out = rd;
	return 0;
}

static void reading_unref(struct reading *rd)
{
	if (!rd || --rd->refs > 0)
		return;
	scan_close(&rd->s);
	vd_tcm_merge_free(&rd->merge);
	free(rd->path);
	free(rd);
}

static void attach(struct reading *rd, struct vd_tcm_pull *t)
{
	rd->level[t->level] = t;
	rd->layers |= 1u << vd_tcm_level_tx(t->level) | 1u << vd_tcm_level_rx(t->level);
	rd->refs++;
	t->rd = rd;
}

/* The level leaves its reading (its waiting events dropped). */
static void detach(struct vd_tcm_pull *t)
{
	struct reading *rd = t->rd;
	if (!rd)
		return;
	rd->level[t->level] = NULL;
	rd->waiting -= t->n - t->head;
	t->head = t->n = 0;
	t->rd = NULL;
	reading_unref(rd);
}

/* The reading failed (err): every level fed gets it at its next pull. -1. */
static int reading_failed(struct reading *rd, const struct vd_err *err)
{
	rd->failed = 1;
	rd->err = *err;
	return -1;
}

/* e to level t's queue, unless it went out before (a reading taken over skips those). */
static int queue(struct reading *rd, struct vd_tcm_pull *t, const struct vd_echo *e, unsigned layer)
{
	if (t->handed && (e->ts < t->last.ts || (e->ts == t->last.ts && e->index <= t->last.index)))
		return 0;
	if (t->head == t->n) {
		t->head = t->n = 0;
	} else if (t->head > t->cap / 2) { /* the taken half makes room */
		memmove(t->q, t->q + t->head, (t->n - t->head) * sizeof(*t->q));
		t->n -= t->head;
		t->head = 0;
	}
	if (vd_mem_reserve((void **)&t->q, &t->cap, t->n + 1, sizeof(*t->q)))
		return -1;
	t->q[t->n++] = *e;
	rd->waiting++;
	t->own += (uint64_t)vd_tcm_level_own(t->level, layer);
	return 0;
}

/* Reads on until the earliest waiting event may go out, then hands it to the queues of the
 * levels it is an event of: 1, end of the file: 0, -1 (the reading failed). */
static int reading_step(struct reading *rd)
{
	struct vd_err err;
	struct vd_echo e;
	unsigned layer;
	uint32_t cpu;
	rd->taken = 1; /* records read from now on: a level opened later would miss them */
	while (!rd->end && !vd_tcm_merge_full(&rd->merge)) {
		int r = scan_next(&rd->s, &e, &layer, &cpu, &err);
		if (r < 0)
			return reading_failed(rd, &err);
		if (vd_progress_due(&rd->prog, rd->s.index))
			vd_progress_update(&rd->prog, rd->s.index,
					   rd->s.index * sizeof(struct tcpmon_record));
		if (r == 0) {
			rd->end = 1;
			vd_progress_done(&rd->prog, rd->s.index, rd->size);
			break;
		}
		if (layer >= 32 || !(rd->layers >> layer & 1))
			continue;
		e.phase = (int8_t)layer; /* kept with the event till it goes out (no phase here) */
		int p = vd_tcm_merge_push(&rd->merge, cpu, &e);
		if (p < 0) {
			vd_err_set(&err, "%s: out of memory", rd->path);
			return reading_failed(rd, &err);
		}
		if (p > 0) {
			vd_err_set(&err,
				   "%s: record %" PRIu64
				   " is earlier than events already put in time order (more out "
				   "of order than the %zu events held): the file is read whole",
				   rd->path, e.index, rd->merge.hold);
			return reading_failed(rd, &err);
		}
	}
	if (!vd_tcm_merge_pop(&rd->merge, &e))
		return 0;
	layer = (unsigned)e.phase;
	e.phase = -1;
	for (size_t l = 0; l < VD_TCM_LEVELS; l++)
		if (rd->level[l] && vd_tcm_level_has(l, layer) &&
		    queue(rd, rd->level[l], &e, layer) < 0) {
			vd_err_set(&err, "%s: out of memory", rd->path);
			return reading_failed(rd, &err);
		}
	return 1;
}

/* Whether t, its queue empty, should leave its reading for one of its own: the other levels'
 * queues hold more than the merge does while t's next event is still to come (a level whose
 * events stop or pause while the others' go on). */
static int left_behind_by(const struct vd_tcm_pull *t)
{
	return t->rd->waiting > t->rd->merge.hold;
}

int vd_tcm_pull_open(struct vd_tcm_split *s, const struct vd_vantage_spec *spec, int level,
		     int progress, struct vd_tcm_pull **out, struct vd_err *err)
{
	struct vd_tcm_pull *t = calloc(1, sizeof(*t));
	*out = NULL;
	if (!t)
		return vd_err_set(err, "%s: out of memory", spec->path);
	t->spec = spec;
	t->level = (size_t)level;
	t->progress = progress;
	struct split_file *sf = split_find(s, spec->path);
	struct reading *rd = NULL;
	if (sf && sf->rd && !sf->rd->taken && !sf->rd->level[level]) {
		rd = sf->rd;
		rd->refs++;
	} else {
		int r = reading_open(spec->path, progress, &rd, err);
		if (r != 0) {
			free(t);
			return r;
		}
		if (sf) { /* the levels opened from now on share it */
			reading_unref(sf->rd);
			sf->rd = rd;
			rd->refs++;
		}
	}
	attach(rd, t);
	reading_unref(rd);
	*out = t;
	return 0;
}

/* t reads the file alone from now on, skipping what went out. 0, or -1 (err). */
static int read_alone(struct vd_tcm_pull *t, struct vd_err *err)
{
	struct reading *rd;
	int r = reading_open(t->spec->path, t->progress, &rd, err);
	if (r != 0) /* lost records now: the file changed under the analysis */
		return r < 0 ? -1 : vd_err_set(err, "%s: changed while read", t->spec->path);
	detach(t);
	attach(rd, t);
	reading_unref(rd);
	return 0;
}

int vd_tcm_pull_next(struct vd_tcm_pull *t, struct vd_echo *e, struct vd_err *err)
{
	for (;;) {
		if (t->head < t->n) {
			*e = t->q[t->head++];
			t->rd->waiting--;
			t->last = *e;
			t->handed = 1;
			return 1;
		}
		struct reading *rd = t->rd;
		if (rd->failed) {
			*err = rd->err;
			return -1;
		}
		if (left_behind_by(t) && read_alone(t, err) < 0)
			return -1;
		int r = reading_step(t->rd);
		if (r < 0) {
			*err = t->rd->err;
			return -1;
		}
		if (r == 0 && t->head == t->n)
			return 0;
	}
}

int vd_tcm_pull_finish(struct vd_tcm_pull *t, struct vd_echo_point *pt, struct vd_err *err)
{
	const struct vd_vantage_spec *spec = t->spec;
	const struct scan *s = &t->rd->s;
	const char *level = vd_tcm_level_name(t->level);
	struct vd_tcm_loss none = {0};
	snprintf(pt->name, sizeof(pt->name), "%s", spec->name[0] ? spec->name : level);
	snprintf(pt->clock, sizeof(pt->clock), "%s", spec->clock);
	snprintf(pt->format, sizeof(pt->format), "%s", VD_VANTAGE_TCM_FORMAT);
	snprintf(pt->select, sizeof(pt->select), "%s", level);
	pt->path = spec->path;
	vd_tcm_clock_notes(s->meta, s->use_tsc, s->fallbacks, &none, 0, 0, pt->notes,
			   sizeof(pt->notes));
	pt->records = s->index;
	if (!t->own)
		return vd_err_set(err,
				  "%s: no ICMP echo records at level %s (%" PRIu64 " records read)",
				  spec->path, level, s->index);
	return 0;
}

void vd_tcm_pull_free(struct vd_tcm_pull *t)
{
	if (!t)
		return;
	detach(t);
	free(t->q);
	free(t);
}
