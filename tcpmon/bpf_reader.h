/* bpf_reader.h — the consumer side of tcpmon's bpf backend: records from the rings are
 * given their CLOCK_REALTIME, written to the .tcm file in batches, fed to the live statistics,
 * and their per-CPU seqnos checked, so the file's loss block says where records were lost. */
#ifndef TCPMON_BPF_READER_H
#define TCPMON_BPF_READER_H

#include <stddef.h>
#include <stdint.h>

#include "live.h"
#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"
#include "vmdelay/input/tcmrec.h"
#include "vmdelay/record.h"

#define TCPMON_READER_BATCH 4096 /* records per block written */

/* Where a CPU's seqnos are: a jump past next is a gap (records lost, kept in loss). */
struct tcpmon_cpu_seq {
	int seen;	 /* a record of this CPU came (or a reader of pinned programs set next) */
	uint32_t next;	 /* the seqno expected */
	vd_ns last_mono; /* of the CPU's last record: where its next gap begins */
};

/* Made by tcpmon_reader_new; the caller opens w and refreshes real_offset. */
struct tcpmon_reader {
	struct vd_tcmrec_writer *w;
	struct tcpmon_record batch[TCPMON_READER_BATCH];
	size_t nbatch;
	uint64_t count, limit;
	vd_ns real_offset; /* CLOCK_REALTIME - CLOCK_MONOTONIC, refreshed while reading */
	struct tcpmon_cpu_seq *cpu;
	uint64_t *cpu_lost; /* per CPU: lost as the counters last said (metrics, write_end) */
	unsigned ncpu;
	struct tcpmon_file_loss *loss; /* the gaps, for the file's LOSS block */
	size_t nloss, caploss;
	struct tcpmon_live *live; /* NULL: no live statistics asked for */
	int failed;
	struct vd_err err;
};

/* A reader of ncpu CPUs' records that stops taking them at limit (0: no limit), with live
 * statistics when live is set; real_offset already read. NULL when out of memory. */
struct tcpmon_reader *tcpmon_reader_new(unsigned ncpu, uint64_t limit, int live);
/* Frees rd and what it holds but its writer (closed by the caller, who opened it). */
void tcpmon_reader_free(struct tcpmon_reader *rd);
/* CLOCK_REALTIME - CLOCK_MONOTONIC, from the closest of three read pairs. */
vd_ns tcpmon_realtime_offset(void);
/* Called for each record read (ctx: the reader): tcpmon_slots_drain's callback. 0, or -1 (and
 * rd->failed) on a record of the wrong size or a write error. */
int tcpmon_reader_on_record(void *ctx, void *data, size_t size);
/* Writes the batched records. -1 (rd->err) on a write error. */
int tcpmon_reader_flush(struct tcpmon_reader *rd);
/* The LOSS and STATS blocks from the programs' counters: records put in the ring, lost,
 * filtered out, and each CPU's losses. */
int tcpmon_reader_write_end(struct tcpmon_reader *rd, uint64_t recorded, uint64_t lost,
			    uint64_t filtered, const uint64_t *cpu_lost);

#endif
