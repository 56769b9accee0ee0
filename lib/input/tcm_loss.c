/* tcm_loss.c — loss windows of a tcpmon record file (see tcm_loss.h). */
#include "tcm_loss.h"

#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/mem.h"

struct win {
	vd_ns lo, hi;
};

struct wins {
	struct win *w;
	size_t n, cap;
};

static int add(struct wins *ws, vd_ns lo, vd_ns hi)
{
	if (vd_mem_reserve((void **)&ws->w, &ws->cap, ws->n + 1, sizeof(*ws->w)))
		return -1;
	ws->w[ws->n++] = (struct win){lo, hi};
	return 0;
}

static int cmp_win(const void *a, const void *b)
{
	const struct win *x = a, *y = b;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

/* The file's own windows: 0 in a bound means open to the start or the end. */
static int from_block(struct wins *ws, const struct tcmrec *rd, uint64_t *lost)
{
	for (size_t i = 0; i < vd_tcmrec_loss_count(rd); i++) {
		const struct tcpmon_file_loss *f = vd_tcmrec_loss_get(rd, i);
		if (!f->lost)
			continue;
		*lost += f->lost;
		if (add(ws, f->after_mono_ns ? f->after_mono_ns : INT64_MIN,
			f->before_mono_ns ? f->before_mono_ns : INT64_MAX))
			return -1;
	}
	return 0;
}

/* A CPU's records in file order carry consecutive seqnos (the module's rings keep them in
 * order); a jump is a gap of lost records between the two records around it. */
struct cpu_state {
	uint32_t cpu, next;
	vd_ns last;
};

int vd_tcm_seqnos_gap(struct vd_tcm_seqnos *s, const struct tcpmon_record *r, uint64_t *lost,
		      vd_ns *before)
{
	size_t c;
	int gap = 0;

	for (c = 0; c < s->n && s->cs[c].cpu != r->cpu; c++)
		;
	if (c == s->n) {
		if (vd_mem_reserve((void **)&s->cs, &s->cap, s->n + 1, sizeof(*s->cs)))
			return -1;
		s->cs[s->n++] = (struct cpu_state){r->cpu, 0, INT64_MIN};
	}
	if ((int32_t)(r->seqno - s->cs[c].next) > 0) {
		*lost += r->seqno - s->cs[c].next;
		*before = s->cs[c].last;
		gap = 1;
	}
	if ((int32_t)(r->seqno - s->cs[c].next) >= 0) {
		s->cs[c].next = r->seqno + 1;
		s->cs[c].last = r->mono_ns;
	}
	return gap;
}

void vd_tcm_seqnos_free(struct vd_tcm_seqnos *s)
{
	free(s->cs);
	memset(s, 0, sizeof(*s));
}

static int from_seqnos(struct wins *ws, const struct tcmrec *rd, uint64_t *lost, vd_ns *first_last)
{
	struct vd_tcm_seqnos s = {0};
	int rc = 0;

	*first_last = INT64_MAX;
	for (size_t i = 0; i < vd_tcmrec_count(rd) && !rc; i++) {
		const struct tcpmon_record *r = vd_tcmrec_get(rd, i);
		vd_ns before;
		int gap = vd_tcm_seqnos_gap(&s, r, lost, &before);
		rc = gap < 0 ? -1 : gap ? add(ws, before, r->mono_ns) : 0;
	}
	for (size_t c = 0; c < s.n; c++)
		if (s.cs[c].last < *first_last)
			*first_last = s.cs[c].last;
	vd_tcm_seqnos_free(&s);
	return rc;
}

int vd_tcm_loss_possible(const struct tcmrec *rd)
{
	const struct vd_tcmrec_info *in = vd_tcmrec_info(rd);
	for (size_t i = 0; i < vd_tcmrec_loss_count(rd); i++)
		if (vd_tcmrec_loss_get(rd, i)->lost)
			return 1;
	return in->has_stats && in->stats.lost > 0;
}

int vd_tcm_loss_init(struct vd_tcm_loss *l, const struct tcmrec *rd, struct vd_err *err)
{
	const struct vd_tcmrec_info *in = vd_tcmrec_info(rd);
	struct wins ws = {0};
	vd_ns first_last = INT64_MIN;
	int rc;

	memset(l, 0, sizeof(*l));
	if (vd_tcmrec_loss_count(rd))
		rc = from_block(&ws, rd, &l->lost);
	else
		rc = from_seqnos(&ws, rd, &l->lost, &first_last);
	/* lost records no gap explains: after the last record of some CPU, which one unknown */
	if (!rc && in->has_stats && in->stats.lost > l->lost) {
		l->lost = in->stats.lost;
		rc = add(&ws, first_last == INT64_MAX ? INT64_MIN : first_last, INT64_MAX);
	}
	if (!rc && ws.n) {
		qsort(ws.w, ws.n, sizeof(*ws.w), cmp_win);
		l->lo = malloc(ws.n * sizeof(*l->lo));
		l->hi = malloc(ws.n * sizeof(*l->hi));
		rc = l->lo && l->hi ? 0 : -1;
		for (size_t i = 0; !rc && i < ws.n; i++) {
			if (l->n && ws.w[i].lo <= l->hi[l->n - 1]) { /* overlaps the previous one */
				if (ws.w[i].hi > l->hi[l->n - 1])
					l->hi[l->n - 1] = ws.w[i].hi;
				continue;
			}
			l->lo[l->n] = ws.w[i].lo;
			l->hi[l->n++] = ws.w[i].hi;
		}
	}
	free(ws.w);
	if (rc) {
		vd_tcm_loss_free(l);
		return vd_err_set(err, "out of memory");
	}
	return 0;
}

int vd_tcm_loss_covers(const struct vd_tcm_loss *l, vd_ns mono)
{
	size_t a = 0, b = l->n;

	while (a < b) { /* the first window starting at or after mono */
		size_t m = a + (b - a) / 2;
		if (l->lo[m] < mono)
			a = m + 1;
		else
			b = m;
	}
	/* the records at a window's ends were kept: only what lies strictly inside is suspect */
	return a > 0 && mono > l->lo[a - 1] && mono < l->hi[a - 1];
}

vd_ns vd_tcm_loss_end(const struct vd_tcm_loss *l)
{
	return l->n ? l->hi[l->n - 1] : INT64_MIN;
}

void vd_tcm_loss_free(struct vd_tcm_loss *l)
{
	free(l->lo);
	free(l->hi);
	memset(l, 0, sizeof(*l));
}
