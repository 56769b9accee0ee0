/* tcm_merge.h — the echo events of a tcpmon record file put back in time order (then record
 * order) in bounded memory (lib/input/tcm_merge.c), for the pull reader (tcm_pull.c). tcpmon
 * writes each CPU's records in the order its hooks committed them, a ring's batch at a time, CPU
 * after CPU: a CPU's records are in time order but for a hook that interrupts another, and the
 * CPUs' batches overlap in time. So each CPU's events wait in a run of their own, appended at its
 * end, and the earliest run head goes out first: a few comparisons an event where a heap over
 * the events took a sift through 16 levels. An event earlier than its run's last one (an
 * interrupted hook, a time from another clock) waits in a heap of its own beside the runs. */
#ifndef VMDELAY_INPUT_TCM_MERGE_H
#define VMDELAY_INPUT_TCM_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/input/echo.h"

#define VD_TCM_MERGE_RUNS 64 /* CPUs beyond share runs (cpu % runs): the heap takes the misfits */

/* A run is a list of chunks, taken from its head and appended at its tail; emptied chunks wait
 * in a spare list for the next append of any run: the runs take the events waiting and a chunk
 * or two each, where arrays grown each for its run's most took three times the events held. */
#define VD_TCM_CHUNK 1024
struct vd_tcm_chunk {
	struct vd_tcm_chunk *next;
	struct vd_echo ev[VD_TCM_CHUNK];
};

struct vd_tcm_run {
	struct vd_tcm_chunk *head, *tail; /* NULL: empty */
	size_t at, end;			  /* the next taken from head, appended in tail */
};

struct vd_tcm_merge {
	struct vd_tcm_run runs[VD_TCM_MERGE_RUNS];
	/* each run's head (and, last, the heap's top) side by side: choosing the earliest reads one
	 * or two cache lines; an empty run's head time is INT64_MAX */
	vd_ns head_ts[VD_TCM_MERGE_RUNS + 1];
	uint64_t head_ix[VD_TCM_MERGE_RUNS + 1];
	vd_ns tail_ts[VD_TCM_MERGE_RUNS]; /* the time of each run's last event */
	struct vd_tcm_chunk *spare;
	struct vd_echo *heap; /* min-heap on (ts, index): the misfits */
	size_t heap_n, heap_cap;
	size_t nruns, held, hold;
	int handed;	     /* an event went out: last is it */
	struct vd_echo last; /* nothing earlier may come in */
};

/* Events of a file of ncpus CPUs, hold of them waiting before the earliest goes out. */
void vd_tcm_merge_init(struct vd_tcm_merge *m, uint32_t ncpus, size_t hold);
void vd_tcm_merge_free(struct vd_tcm_merge *m);

/* e (recorded on cpu; index increasing from call to call) waits: 0; 1 when it is earlier than an
 * event already gone out (more out of order than hold: not taken); -1 out of memory. */
int vd_tcm_merge_push(struct vd_tcm_merge *m, uint32_t cpu, const struct vd_echo *e);

/* Whether hold events wait: the earliest may go out. */
static inline int vd_tcm_merge_full(const struct vd_tcm_merge *m)
{
	return m->held >= m->hold;
}

/* The earliest waiting event into *e: 1, or 0 when none waits. */
int vd_tcm_merge_pop(struct vd_tcm_merge *m, struct vd_echo *e);

#endif
