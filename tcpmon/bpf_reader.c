/* bpf_reader.c — what tcpmon's bpf backend does with each record it takes from the rings
 * (see bpf_reader.h). */
#include "bpf_reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcpmon_bpf.h"

vd_ns tcpmon_realtime_offset(void)
{
	/* the two reads closest together of three tries */
	vd_ns best = 0, span = INT64_MAX;

	for (int i = 0; i < 3; i++) {
		vd_ns m0 = vd_now(CLOCK_MONOTONIC), r = vd_now(CLOCK_REALTIME),
		      m1 = vd_now(CLOCK_MONOTONIC);
		if (m1 - m0 < span) {
			span = m1 - m0;
			best = r - (m0 + (m1 - m0) / 2);
		}
	}
	return best;
}

struct tcpmon_reader *tcpmon_reader_new(unsigned ncpu, uint64_t limit, int live)
{
	struct tcpmon_reader *rd = calloc(1, sizeof(*rd));

	if (!rd)
		return NULL;
	rd->ncpu = ncpu;
	rd->limit = limit;
	rd->cpu = calloc(ncpu, sizeof(*rd->cpu));
	rd->cpu_lost = calloc(ncpu, sizeof(*rd->cpu_lost));
	if (live)
		rd->live = tcpmon_live_new();
	if (!rd->cpu || !rd->cpu_lost || (live && !rd->live)) {
		tcpmon_reader_free(rd);
		return NULL;
	}
	rd->real_offset = tcpmon_realtime_offset();
	return rd;
}

void tcpmon_reader_free(struct tcpmon_reader *rd)
{
	if (!rd)
		return;
	tcpmon_live_free(rd->live);
	free(rd->loss);
	free(rd->cpu);
	free(rd->cpu_lost);
	free(rd);
}

static int add_loss(struct tcpmon_reader *rd, uint32_t cpu, uint64_t lost, vd_ns after,
		    vd_ns before)
{
	if (rd->nloss == rd->caploss) {
		size_t cap = rd->caploss ? rd->caploss * 2 : 16;
		struct tcpmon_file_loss *n = realloc(rd->loss, cap * sizeof(*n));
		if (!n)
			return -1;
		rd->loss = n;
		rd->caploss = cap;
	}
	rd->loss[rd->nloss++] = (struct tcpmon_file_loss){
	    .cpu = cpu, .lost = lost, .after_mono_ns = after, .before_mono_ns = before};
	return 0;
}

/* Programs that interrupt each other on one CPU may commit their records out of seqno order: a
 * record older than the next expected one fills the latest gap of its CPU instead. */
static void track_seqno(struct tcpmon_reader *rd, const struct tcpmon_record *r)
{
	struct tcpmon_cpu_seq *c;

	if (r->cpu >= rd->ncpu)
		return;
	c = &rd->cpu[r->cpu];
	if (!c->seen) {
		c->seen = 1;
		if (r->seqno && add_loss(rd, r->cpu, r->seqno, 0, r->mono_ns))
			rd->failed = 1;
	} else if ((int32_t)(r->seqno - c->next) > 0) {
		if (add_loss(rd, r->cpu, r->seqno - c->next, c->last_mono, r->mono_ns))
			rd->failed = 1;
	} else if ((int32_t)(r->seqno - c->next) < 0) {
		for (size_t i = rd->nloss; i-- > 0;)
			if (rd->loss[i].cpu == r->cpu && rd->loss[i].lost) {
				rd->loss[i].lost--;
				break;
			}
		return;
	}
	c->next = r->seqno + 1;
	c->last_mono = r->mono_ns;
}

int tcpmon_reader_flush(struct tcpmon_reader *rd)
{
	if (rd->nbatch && vd_tcmrec_write_records(rd->w, rd->batch, rd->nbatch, &rd->err))
		rd->failed = 1;
	rd->nbatch = 0;
	return rd->failed ? -1 : 0;
}

int tcpmon_reader_on_record(void *ctx, void *data, size_t size)
{
	struct tcpmon_reader *rd = ctx;
	struct tcpmon_record *r;

	if (rd->failed || (rd->limit && rd->count >= rd->limit))
		return 0;
	if (size < sizeof(*r)) {
		vd_err_set(&rd->err, "ring record of %zu bytes, expected %zu", size, sizeof(*r));
		rd->failed = 1;
		return -1;
	}
	r = &rd->batch[rd->nbatch++];
	memcpy(r, data, sizeof(*r));
	TCPMON_BPF_COMMIT(r) = 0; /* the rings' commit word, not part of the file's record */
	r->real_ns = r->mono_ns + rd->real_offset;
	track_seqno(rd, r);
	if (rd->live)
		tcpmon_live_add(rd->live, r);
	rd->count++;
	if (rd->nbatch == TCPMON_READER_BATCH)
		return tcpmon_reader_flush(rd);
	return 0;
}

/* A CPU's losses after its last record leave no gap in the seqnos: the per-CPU counter says how
 * many, the window runs from that record to the end. */
int tcpmon_reader_write_end(struct tcpmon_reader *rd, uint64_t recorded, uint64_t lost,
			    uint64_t filtered, const uint64_t *cpu_lost)
{
	struct tcpmon_file_stats fs = {
	    .recorded = recorded,
	    .lost = lost,
	    .read = rd->count,
	    .filtered = filtered,
	};
	size_t n = 0, ngaps;

	for (size_t i = 0; i < rd->nloss; i++) /* gaps that late records filled */
		if (rd->loss[i].lost)
			rd->loss[n++] = rd->loss[i];
	rd->nloss = ngaps = n;
	for (unsigned cpu = 0; cpu < rd->ncpu; cpu++) {
		uint64_t in_gaps = 0;
		for (size_t i = 0; i < ngaps; i++)
			if (rd->loss[i].cpu == cpu)
				in_gaps += rd->loss[i].lost;
		if (cpu_lost[cpu] > in_gaps &&
		    add_loss(rd, cpu, cpu_lost[cpu] - in_gaps, rd->cpu[cpu].last_mono, 0))
			return vd_err_set(&rd->err, "out of memory");
	}
	if (vd_tcmrec_write_loss(rd->w, rd->loss, rd->nloss, &rd->err) ||
	    vd_tcmrec_write_stats(rd->w, &fs, &rd->err))
		return -1;
	return 0;
}
