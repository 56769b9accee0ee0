// SPDX-License-Identifier: GPL-2.0
/* tcpmon_ring.c — per-CPU record rings, single producer / single consumer without a lock on
 * the hot path. The producer is whatever hook runs on the ring's CPU, always with interrupts off,
 * so only one at a time; the consumer is the netlink reader, serialized by tcpmon_read_lock.
 * head is written only by the producer, tail only by the consumer; each publishes with a
 * release store and reads the other's with an acquire load, so a record's bytes are complete
 * before the reader can see them and a slot is free before the producer reuses it. A full ring
 * drops the new record and counts it, so user space learns exactly how many records it lost. */
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/timekeeping.h>
#include <asm/msr.h>

#include "tcpmon.h"

struct tcpmon_ring {
	u32 head;		      /* next slot to write (free-running); producer */
	u32 seqno;		      /* records offered since reset, kept or lost; producer */
	u64 recorded, lost, filtered; /* producer; others read them with READ_ONCE */
	struct tcpmon_record *buf;
	u32 cost[__TCPMON_L_MAX][TCPMON_COST_BUCKETS]; /* producer */
	u32 tail ____cacheline_aligned; /* next slot to read (free-running); consumer */
	u64 read;			/* consumer */
};

static struct tcpmon_ring **tcpmon_rings;
static DEFINE_MUTEX(tcpmon_read_lock); /* one consumer at a time, and reset */
static u32 tcpmon_ring_mask;

/* Log-linear bucket: exact below 16, then 8 buckets per power of two. */
static unsigned int tcpmon_cost_bucket(u64 v)
{
	unsigned int e;

	if (v < 16)
		return v;
	e = fls64(v) - 1; /* >= 4 */
	if (e > 32)
		return TCPMON_COST_BUCKETS - 1;
	return min_t(unsigned int, 16 + (e - 4) * 8 + ((v >> (e - 3)) & 7),
		     TCPMON_COST_BUCKETS - 1);
}

int tcpmon_ring_init(unsigned int records)
{
	unsigned int cpu;

	records = roundup_pow_of_two(records);
	tcpmon_ring_records = records;
	tcpmon_ring_mask = records - 1;
	tcpmon_rings = kcalloc(nr_cpu_ids, sizeof(*tcpmon_rings), GFP_KERNEL);
	if (!tcpmon_rings)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
	{
		struct tcpmon_ring *r = kvzalloc(sizeof(*r), GFP_KERNEL);

		if (!r)
			goto nomem;
		tcpmon_rings[cpu] = r;
		r->buf = vmalloc_array(records, sizeof(*r->buf));
		if (!r->buf)
			goto nomem;
	}
	return 0;
nomem:
	tcpmon_ring_exit();
	return -ENOMEM;
}

void tcpmon_ring_exit(void)
{
	unsigned int cpu;

	if (!tcpmon_rings)
		return;
	for_each_possible_cpu(cpu)
	{
		if (!tcpmon_rings[cpu])
			continue;
		vfree(tcpmon_rings[cpu]->buf);
		kvfree(tcpmon_rings[cpu]);
	}
	kfree(tcpmon_rings);
	tcpmon_rings = NULL;
}

/* Called with no producer running (recording stopped and an RCU grace period passed). */
void tcpmon_ring_reset(void)
{
	unsigned int cpu;

	mutex_lock(&tcpmon_read_lock);
	for_each_possible_cpu(cpu)
	{
		struct tcpmon_ring *r = tcpmon_rings[cpu];

		r->seqno = 0;
		r->recorded = r->lost = r->read = r->filtered = 0;
		memset(r->cost, 0, sizeof(r->cost));
		smp_store_release(&r->tail, 0);
		smp_store_release(&r->head, 0);
	}
	mutex_unlock(&tcpmon_read_lock);
}

/* Interrupts are off (the hooks see to it): this CPU's ring has no other producer. */
void tcpmon_ring_put(struct tcpmon_record *rec, u64 t_entry)
{
	unsigned int cpu = smp_processor_id();
	struct tcpmon_ring *r = tcpmon_rings[cpu];
	u32 head = r->head;
	u64 t_end;

	/* one clock read: real time is the monotonic time plus the realtime offset */
	rec->tsc = t_entry;
	rec->mono_ns = ktime_get_ns();
	rec->real_ns = ktime_to_ns(ktime_mono_to_real(ns_to_ktime(rec->mono_ns)));
	rec->cpu = cpu;
	rec->seqno = r->seqno++;
	if (head - smp_load_acquire(&r->tail) > tcpmon_ring_mask) {
		WRITE_ONCE(r->lost, r->lost + 1);
	} else {
		r->buf[head & tcpmon_ring_mask] = *rec;
		smp_store_release(&r->head, head + 1);
		WRITE_ONCE(r->recorded, r->recorded + 1);
	}
	t_end = rdtsc_ordered();
	if (rec->layer < __TCPMON_L_MAX)
		r->cost[rec->layer][tcpmon_cost_bucket(t_end - t_entry)]++;
}

void tcpmon_ring_count_filtered(void)
{
	struct tcpmon_ring *r = tcpmon_rings[smp_processor_id()];

	WRITE_ONCE(r->filtered, r->filtered + 1);
}

unsigned int tcpmon_ring_take(unsigned int cpu, struct tcpmon_record *dst, unsigned int max)
{
	struct tcpmon_ring *r = tcpmon_rings[cpu];
	unsigned int n = 0;
	u32 tail, head;

	mutex_lock(&tcpmon_read_lock);
	tail = r->tail;
	head = smp_load_acquire(&r->head);
	while (n < max && tail != head) {
		dst[n++] = r->buf[tail & tcpmon_ring_mask];
		tail++;
	}
	smp_store_release(&r->tail, tail);
	r->read += n;
	mutex_unlock(&tcpmon_read_lock);
	return n;
}

unsigned int tcpmon_ring_pending(unsigned int cpu)
{
	struct tcpmon_ring *r = tcpmon_rings[cpu];

	return smp_load_acquire(&r->head) - READ_ONCE(r->tail);
}

void tcpmon_ring_totals(struct tcpmon_totals *t)
{
	unsigned int cpu;

	memset(t, 0, sizeof(*t));
	for_each_possible_cpu(cpu)
	{
		struct tcpmon_ring *r = tcpmon_rings[cpu];

		t->recorded += READ_ONCE(r->recorded);
		t->lost += READ_ONCE(r->lost);
		t->read += READ_ONCE(r->read);
		t->filtered += READ_ONCE(r->filtered);
	}
}

/* The counts are read while hooks may bump them: each is a plain aligned u32, a sample may be
 * one increment behind. */
void tcpmon_ring_cost(u32 *out)
{
	unsigned int cpu, i;

	memset(out, 0, sizeof(u32) * __TCPMON_L_MAX * TCPMON_COST_BUCKETS);
	for_each_possible_cpu(cpu)
	{
		const u32 *c = &tcpmon_rings[cpu]->cost[0][0];

		for (i = 0; i < __TCPMON_L_MAX * TCPMON_COST_BUCKETS; i++)
			out[i] += READ_ONCE(c[i]);
	}
}
