/* tcm_merge.c — a tcpmon file's echo events back in time order: per-CPU runs and a heap for the
 * misfits (tcm_merge.h). */
#include "tcm_merge.h"

#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/mem.h"

void vd_tcm_merge_init(struct vd_tcm_merge *m, uint32_t ncpus, size_t hold)
{
	memset(m, 0, sizeof(*m));
	m->nruns = ncpus < 1 ? 1 : ncpus > VD_TCM_MERGE_RUNS ? VD_TCM_MERGE_RUNS : ncpus;
	m->hold = hold;
	for (size_t i = 0; i <= VD_TCM_MERGE_RUNS; i++)
		m->head_ts[i] = INT64_MAX;
	for (size_t i = 0; i < VD_TCM_MERGE_RUNS; i++)
		m->tail_ts[i] = INT64_MIN;
}

static void chunks_free(struct vd_tcm_chunk *c)
{
	while (c) {
		struct vd_tcm_chunk *next = c->next;
		free(c);
		c = next;
	}
}

void vd_tcm_merge_free(struct vd_tcm_merge *m)
{
	for (size_t i = 0; i < VD_TCM_MERGE_RUNS; i++)
		chunks_free(m->runs[i].head);
	chunks_free(m->spare);
	free(m->heap);
	memset(m, 0, sizeof(*m));
}

static int earlier(const struct vd_echo *a, const struct vd_echo *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->index < b->index);
}

/* ---- the misfits' heap ---- */
static void heap_top_is_head(struct vd_tcm_merge *m)
{
	m->head_ts[m->nruns] = m->heap_n ? m->heap[0].ts : INT64_MAX;
	m->head_ix[m->nruns] = m->heap_n ? m->heap[0].index : 0;
}

static int heap_push(struct vd_tcm_merge *m, const struct vd_echo *e)
{
	if (vd_mem_reserve((void **)&m->heap, &m->heap_cap, m->heap_n + 1, sizeof(*m->heap)))
		return -1;
	size_t i = m->heap_n++;
	while (i > 0 && earlier(e, &m->heap[(i - 1) / 2])) {
		m->heap[i] = m->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	m->heap[i] = *e;
	heap_top_is_head(m);
	return 0;
}

static void heap_pop(struct vd_tcm_merge *m, struct vd_echo *e)
{
	*e = m->heap[0];
	struct vd_echo x = m->heap[--m->heap_n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m->heap_n)
			break;
		if (c + 1 < m->heap_n && earlier(&m->heap[c + 1], &m->heap[c]))
			c++;
		if (!earlier(&m->heap[c], &x))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (m->heap_n)
		m->heap[i] = x;
	heap_top_is_head(m);
}

/* ---- the runs ---- */
static int run_append(struct vd_tcm_merge *m, size_t k, const struct vd_echo *e)
{
	struct vd_tcm_run *r = &m->runs[k];
	if (!r->tail || r->end == VD_TCM_CHUNK) {
		struct vd_tcm_chunk *c = m->spare;
		if (c)
			m->spare = c->next;
		else if (!(c = malloc(sizeof(*c))))
			return -1;
		c->next = NULL;
		if (r->tail) {
			r->tail->next = c;
		} else {
			r->head = c;
			r->at = 0;
		}
		r->tail = c;
		r->end = 0;
	}
	r->tail->ev[r->end++] = *e;
	if (r->head == r->tail && r->end - r->at == 1) {
		m->head_ts[k] = e->ts;
		m->head_ix[k] = e->index;
	}
	m->tail_ts[k] = e->ts;
	return 0;
}

static void spare(struct vd_tcm_merge *m, struct vd_tcm_chunk *c)
{
	c->next = m->spare;
	m->spare = c;
}

static void run_take(struct vd_tcm_merge *m, size_t k, struct vd_echo *e)
{
	struct vd_tcm_run *r = &m->runs[k];
	*e = r->head->ev[r->at++];
	if (r->head == r->tail && r->at == r->end) { /* empty */
		spare(m, r->head);
		r->head = r->tail = NULL;
		r->at = r->end = 0;
		m->head_ts[k] = INT64_MAX;
		return;
	}
	if (r->at == VD_TCM_CHUNK) {
		struct vd_tcm_chunk *c = r->head;
		r->head = c->next;
		r->at = 0;
		spare(m, c);
	}
	m->head_ts[k] = r->head->ev[r->at].ts;
	m->head_ix[k] = r->head->ev[r->at].index;
}

int vd_tcm_merge_push(struct vd_tcm_merge *m, uint32_t cpu, const struct vd_echo *e)
{
	if (m->handed && earlier(e, &m->last))
		return 1;
	/* the file's indices grow, so an event no earlier than its run's last keeps it sorted */
	size_t k = cpu % m->nruns;
	int fits = !m->runs[k].head || e->ts >= m->tail_ts[k];
	int r = fits ? run_append(m, k, e) : heap_push(m, e);
	if (r < 0)
		return -1;
	m->held++;
	return 0;
}

int vd_tcm_merge_pop(struct vd_tcm_merge *m, struct vd_echo *e)
{
	if (!m->held)
		return 0;
	size_t best = 0;
	for (size_t k = 1; k <= m->nruns; k++)
		if (m->head_ts[k] < m->head_ts[best] ||
		    (m->head_ts[k] == m->head_ts[best] && m->head_ix[k] < m->head_ix[best]))
			best = k;
	if (best == m->nruns)
		heap_pop(m, e);
	else
		run_take(m, best, e);
	m->held--;
	m->last = *e;
	m->handed = 1;
	return 1;
}
