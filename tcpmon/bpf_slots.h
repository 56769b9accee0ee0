/* bpf_slots.h — the reader's side of the per-CPU rings of slots that tcpmon's BPF programs write
 * (the protocol is in tcpmon/bpf/tcpmon_bpf.h): both arrays mapped into this process, each CPU's
 * committed records handed over in order, and the CPU's tail published for the programs. */
#ifndef TCPMON_BPF_SLOTS_H
#define TCPMON_BPF_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/record.h"

struct tcpmon_bpf_tail;

struct tcpmon_slots {
	const struct tcpmon_record *rec; /* ncpu << bits slots */
	size_t rec_len;
	struct tcpmon_bpf_tail *tails; /* ncpu */
	size_t tails_len;
	unsigned ncpu;
	uint32_t bits;
	uint64_t *next; /* per CPU: the slot to read next */
};

/* slot_bits for rings that share `bytes` of memory over ncpu CPUs: a power of two of records
 * each, 1024 at least. */
uint32_t tcpmon_slots_bits(uint64_t bytes, unsigned ncpu);
/* Maps the arrays (their fds: ncpu << bits records, ncpu tails) and starts reading where the
 * tails say. 0, or -1 and why. */
int tcpmon_slots_open(struct tcpmon_slots *s, int slots_fd, int tails_fd, unsigned ncpu,
		      uint32_t bits, struct vd_err *err);
/* Gives each committed record to fn, CPU by CPU in slot order, then frees their slots. Returns
 * the number of records, or fn's negative result. */
int tcpmon_slots_drain(struct tcpmon_slots *s, int (*fn)(void *ctx, void *rec, size_t size),
		       void *ctx);
/* 1 and the record's seqno when CPU cpu's next slot holds a committed record, else 0. */
int tcpmon_slots_peek(const struct tcpmon_slots *s, unsigned cpu, uint32_t *seqno);
void tcpmon_slots_close(struct tcpmon_slots *s);

#endif
