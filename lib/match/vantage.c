/* vantage.c — vantage points filled from any input: the sink lib/input's echo readers hand
 * their events to, each event paired as it comes (pairing.h), and sets of points. */
#include "vmdelay/match/vantage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/mem.h"
#include "vmdelay/match/pairing.h"

struct vd_vantage *vd_vantage_new(const char *name, const char *clock, const char *path,
				  const char *format)
{
	struct vd_vantage *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	snprintf(v->name, sizeof(v->name), "%s", name ? name : "");
	snprintf(v->clock, sizeof(v->clock), "%s", clock ? clock : "");
	snprintf(v->format, sizeof(v->format), "%s", format ? format : "");
	v->path = strdup(path ? path : "");
	if (!v->path) {
		free(v);
		return NULL;
	}
	return v;
}

int vd_vantage_add(struct vd_vantage *v, const struct vd_echo *e)
{
	if (e->index >= VD_VANTAGE_INDEX_LIMIT ||
	    (e->kind == VD_ECHO_REQUEST && v->n >= VD_VANTAGE_REQ_LIMIT))
		return -1; /* (beyond any memory: see the limits) */
	if (e->kind == VD_ECHO_REQUEST) {
		if (v->n == v->cap &&
		    vd_mem_reserve((void **)&v->ev, &v->cap, v->n + 1, sizeof(*v->ev)) < 0)
			return -1;
		/* the flow is filled in by matching, which finds it */
		v->ev[v->n++] = (struct vd_echo_req){
		    .ts = e->ts, .index = e->index, .seq = e->seq, .phase = e->phase};
	}
	if (vd_match_add(v, e) < 0) {
		v->n -= e->kind == VD_ECHO_REQUEST;
		return -1;
	}
	v->echoes++;
	return 0;
}

void vd_vantage_echo(const struct vd_vantage *v, size_t i, struct vd_echo *e)
{
	vd_vantage_req_echo(v, &v->ev[i], e);
}

void vd_vantage_req_echo(const struct vd_vantage *v, const struct vd_echo_req *q, struct vd_echo *e)
{
	const struct vd_echo_flow *f = &v->flows[q->flow];
	*e = (struct vd_echo){.ts = q->ts,
			      .src = f->src,
			      .dst = f->dst,
			      .seq = q->seq,
			      .id = f->id,
			      .kind = VD_ECHO_REQUEST,
			      .has_id = f->has_id,
			      .phase = q->phase,
			      .index = q->index};
}

static int cmp_far_req(const void *a, const void *b)
{
	const struct vd_far_rep *x = a, *y = b;
	return (x->req > y->req) - (x->req < y->req);
}

uint64_t vd_pair_rep_index(const struct vd_vantage *v, const struct vd_echo_pair *p)
{
	if (p->rep_after != VD_PAIR_FAR)
		return (uint64_t)((int64_t)v->ev[p->req].index + p->rep_after);
	const struct vd_far_rep key = {.req = p->req};
	const struct vd_far_rep *f =
	    v->nfar ? bsearch(&key, v->far_reps, v->nfar, sizeof(*v->far_reps), cmp_far_req) : NULL;
	return f ? f->rep_index : 0;
}

void vd_vantage_far_sort(struct vd_vantage *v)
{
	if (v->nfar > 1)
		qsort(v->far_reps, v->nfar, sizeof(*v->far_reps), cmp_far_req);
}

void vd_vantage_free(struct vd_vantage *v)
{
	if (!v)
		return;
	free(v->path);
	free(v->ev);
	free(v->flows);
	free(v->far_reps);
	free(v->pairs);
	vd_match_state_free(v->pending);
	free(v);
}

int vd_vantage_set_append(struct vd_vantage_set *set, struct vd_vantage *v)
{
	struct vd_vantage **a = realloc(set->v, (set->n + 1) * sizeof(*a));
	if (!a)
		return -1;
	set->v = a;
	set->v[set->n++] = v;
	return 0;
}

void vd_vantage_set_unique_names(struct vd_vantage_set *set)
{
	for (size_t i = 1; i < set->n; i++) {
		char base[VD_VANTAGE_NAME_MAX];
		snprintf(base, sizeof(base), "%s", set->v[i]->name);
		for (int k = 2;; k++) {
			int clash = 0;
			for (size_t j = 0; j < i && !clash; j++)
				clash = strcmp(set->v[j]->name, set->v[i]->name) == 0;
			if (!clash)
				break;
			snprintf(set->v[i]->name, sizeof(set->v[i]->name), "%.80s-%d", base, k);
		}
	}
}

void vd_vantage_set_free(struct vd_vantage_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		vd_vantage_free(set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/* ---- the sink of the echo readers ---- */

struct reading {
	struct vd_vantage_set *set;
};

static int on_open(void *ctx, struct vd_echo_point *p)
{
	p->user = vd_vantage_new(p->name, p->clock, p->path, p->format);
	return p->user ? 0 : -1;
}

static int on_echo(void *ctx, struct vd_echo_point *p, const struct vd_echo *e)
{
	return vd_vantage_add(p->user, e);
}

/* A kept point takes the reader's final word on its name, selector, notes and counts. */
static int on_close(void *ctx, struct vd_echo_point *p, int keep)
{
	struct reading *r = ctx;
	struct vd_vantage *v = p->user;
	if (!keep) {
		vd_vantage_free(v);
		return 0;
	}
	if (vd_match_flush(v) < 0) {
		vd_vantage_free(v);
		return -1;
	}
	snprintf(v->name, sizeof(v->name), "%s", p->name);
	snprintf(v->select, sizeof(v->select), "%s", p->select);
	snprintf(v->notes, sizeof(v->notes), "%s", p->notes);
	v->encap = p->encap;
	v->records = p->records;
	v->has_phase = p->has_phase;
	if (vd_vantage_set_append(r->set, v) < 0) {
		vd_vantage_free(v);
		return -1;
	}
	return 0;
}

int vd_vantage_read(const struct vd_vantage_spec *spec, struct vd_vantage_set *set,
		    const struct vd_echo_read_opts *opts, struct vd_err *err)
{
	struct reading r = {.set = set};
	const struct vd_echo_sink sink = {
	    .ctx = &r, .open = on_open, .echo = on_echo, .close = on_close};
	return vd_echo_read(spec, &sink, opts, err);
}
