/* tcpmon.h — internals of tcpmon.ko shared by its files: the per-CPU rings, the packet parser,
 * the hooks and the generic netlink family. The user-visible contract is vmdelay/record.h. */
#ifndef TCPMON_H
#define TCPMON_H

#include <linux/skbuff.h>
#include <linux/types.h>

#include "vmdelay/record.h"

/* Module state read by the hooks without locks (READ_ONCE); written under tcpmon_ctl_lock. */
extern bool tcpmon_running;
extern u32 tcpmon_layers;
extern struct mutex tcpmon_ctl_lock;
extern unsigned int tcpmon_ring_records;
extern u32 tcpmon_hooks_missing;

/* ---- tcpmon_ring.c: one ring of records per possible CPU ---- */
struct tcpmon_totals {
	u64 recorded, lost, read, filtered;
};
int tcpmon_ring_init(unsigned int records);
void tcpmon_ring_exit(void);
void tcpmon_ring_reset(void);
/* Stamps r (tsc = t_entry, ktime, cpu, seqno) and stores it in this CPU's ring, or counts it
 * lost. Called with interrupts off; t_entry is the TSC read at hook entry on this CPU, and the
 * cycles from it to the record committed go to the layer's cost histogram. */
void tcpmon_ring_put(struct tcpmon_record *r, u64 t_entry);
void tcpmon_ring_count_filtered(void);
/* Moves up to max records of cpu's ring into dst; returns how many. */
unsigned int tcpmon_ring_take(unsigned int cpu, struct tcpmon_record *dst, unsigned int max);
unsigned int tcpmon_ring_pending(unsigned int cpu);
void tcpmon_ring_totals(struct tcpmon_totals *t);
/* Sums the per-CPU hook cost histograms into out[__TCPMON_L_MAX][TCPMON_COST_BUCKETS]. */
void tcpmon_ring_cost(u32 *out);

/* ---- tcpmon_parse.c: skb -> record, bounds-checked ---- */
struct tcpmon_filter {
	u8 proto, family;
	u8 addr_len, addr2_len;
	u8 addr[16], addr2[16];
	bool has_port, has_port2;
	u16 port, port2;
	struct rcu_head rcu;
};
/* Fills r from the IP header at nhoff (relative to skb->data, may be negative when the stack has
 * already pulled it). 0 for a TCP/ICMP/ICMPv6 packet with its transport header, else -1. */
int tcpmon_parse_ip(const struct sk_buff *skb, int nhoff, struct tcpmon_record *r);
/* Same from a transport header at thoff >= 0 (no IP header built yet); the caller fills the
 * addresses and family. l4len: bytes of transport header + payload. */
int tcpmon_parse_l4(const struct sk_buff *skb, int thoff, u8 proto, u32 l4len,
		    struct tcpmon_record *r);
bool tcpmon_filter_match(const struct tcpmon_filter *f, const struct tcpmon_record *r);
extern struct tcpmon_filter __rcu *tcpmon_filter;

/* ---- tcpmon_hooks.c ---- */
int tcpmon_hooks_init(void);
void tcpmon_hooks_exit(void);
u32 tcpmon_clock_flags(void);

/* ---- tcpmon_genl.c ---- */
int tcpmon_genl_init(void);
void tcpmon_genl_exit(void);

#endif
