// SPDX-License-Identifier: GPL-2.0
/* tcpmon_ring.c — per-CPU record rings. A hook writes into the ring of the CPU it runs on with
 * interrupts off (a softirq may preempt a process-context hook on the same CPU); the netlink
 * reader drains any CPU's ring under the same lock. A full ring drops the new record and counts
 * it, so user space learns exactly how many records it lost. */
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/timekeeping.h>
#include <asm/msr.h>

#include "tcpmon.h"

struct tcpmon_ring {
	spinlock_t lock;
	u32 head;	/* next slot to write (free-running) */
	u32 tail;	/* next slot to read (free-running) */
	u32 seqno;	/* records offered since reset, kept or lost */
	u64 recorded, lost, read, filtered;
	struct tcpmon_record *buf;
	u32 cost[__TCPMON_L_MAX][TCPMON_COST_BUCKETS];
};

static struct tcpmon_ring **tcpmon_rings;
static u32 tcpmon_ring_mask;

/* Log-linear bucket: exact below 16, then 8 buckets per power of two. */
static unsigned int tcpmon_cost_bucket(u64 v)
{
	unsigned int e;

	if (v < 16)
		return v;
	e = fls64(v) - 1;	/* >= 4 */
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
	for_each_possible_cpu(cpu) {
		struct tcpmon_ring *r = kvzalloc(sizeof(*r), GFP_KERNEL);

		if (!r)
			goto nomem;
		tcpmon_rings[cpu] = r;
		spin_lock_init(&r->lock);
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
	for_each_possible_cpu(cpu) {
		if (!tcpmon_rings[cpu])
			continue;
		vfree(tcpmon_rings[cpu]->buf);
		kvfree(tcpmon_rings[cpu]);
	}
	kfree(tcpmon_rings);
	tcpmon_rings = NULL;
}

void tcpmon_ring_reset(void)
{
	unsigned int cpu;
	unsigned long flags;

	for_each_possible_cpu(cpu) {
		struct tcpmon_ring *r = tcpmon_rings[cpu];

		spin_lock_irqsave(&r->lock, flags);
		r->head = r->tail = r->seqno = 0;
		r->recorded = r->lost = r->read = r->filtered = 0;
		memset(r->cost, 0, sizeof(r->cost));
		spin_unlock_irqrestore(&r->lock, flags);
	}
}

void tcpmon_ring_put(struct tcpmon_record *rec, u64 t_entry)
{
	struct tcpmon_ring *r;
	unsigned long flags;
	unsigned int cpu;
	u64 t_end;

	local_irq_save(flags);	/* the hooks have them off already: nests for free */
	/* one clock read: real time is the monotonic time plus the realtime offset */
	rec->tsc = t_entry;
	rec->mono_ns = ktime_get_ns();
	rec->real_ns = ktime_to_ns(ktime_mono_to_real(ns_to_ktime(rec->mono_ns)));
	cpu = smp_processor_id();
	r = tcpmon_rings[cpu];
	rec->cpu = cpu;
	spin_lock(&r->lock);
	rec->seqno = r->seqno++;
	if (r->head - r->tail > tcpmon_ring_mask) {
		r->lost++;
	} else {
		r->buf[r->head & tcpmon_ring_mask] = *rec;
		r->head++;
		r->recorded++;
	}
	t_end = rdtsc_ordered();
	if (rec->layer < __TCPMON_L_MAX)
		r->cost[rec->layer][tcpmon_cost_bucket(t_end - t_entry)]++;
	spin_unlock(&r->lock);
	local_irq_restore(flags);
}

void tcpmon_ring_count_filtered(void)
{
	unsigned long flags;
	struct tcpmon_ring *r;

	local_irq_save(flags);
	r = tcpmon_rings[smp_processor_id()];
	spin_lock(&r->lock);
	r->filtered++;
	spin_unlock(&r->lock);
	local_irq_restore(flags);
}

unsigned int tcpmon_ring_take(unsigned int cpu, struct tcpmon_record *dst, unsigned int max)
{
	struct tcpmon_ring *r = tcpmon_rings[cpu];
	unsigned long flags;
	unsigned int n = 0;

	spin_lock_irqsave(&r->lock, flags);
	while (n < max && r->tail != r->head) {
		dst[n++] = r->buf[r->tail & tcpmon_ring_mask];
		r->tail++;
	}
	r->read += n;
	spin_unlock_irqrestore(&r->lock, flags);
	return n;
}

unsigned int tcpmon_ring_pending(unsigned int cpu)
{
	struct tcpmon_ring *r = tcpmon_rings[cpu];

	return READ_ONCE(r->head) - READ_ONCE(r->tail);
}

void tcpmon_ring_totals(struct tcpmon_totals *t)
{
	unsigned int cpu;
	unsigned long flags;

	memset(t, 0, sizeof(*t));
	for_each_possible_cpu(cpu) {
		struct tcpmon_ring *r = tcpmon_rings[cpu];

		spin_lock_irqsave(&r->lock, flags);
		t->recorded += r->recorded;
		t->lost += r->lost;
		t->read += r->read;
		t->filtered += r->filtered;
		spin_unlock_irqrestore(&r->lock, flags);
	}
}

void tcpmon_ring_cost(u32 *out)
{
	unsigned int cpu, i;
	unsigned long flags;

	memset(out, 0, sizeof(u32) * __TCPMON_L_MAX * TCPMON_COST_BUCKETS);
	for_each_possible_cpu(cpu) {
		struct tcpmon_ring *r = tcpmon_rings[cpu];

		spin_lock_irqsave(&r->lock, flags);
		for (i = 0; i < __TCPMON_L_MAX * TCPMON_COST_BUCKETS; i++)
			out[i] += (&r->cost[0][0])[i];
		spin_unlock_irqrestore(&r->lock, flags);
	}
}
