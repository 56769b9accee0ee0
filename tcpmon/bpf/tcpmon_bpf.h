/* tcpmon_bpf.h — what tcpmon's BPF programs (tcpmon.bpf.c) and user space (tcpmon/bpf_maps.c,
 * bpf_slots.c) share: the configuration tcpmon writes into a one-entry array map, and the per-CPU
 * counters the programs keep. The records themselves are struct tcpmon_record (vmdelay/record.h).
 */
#ifndef TCPMON_BPF_H
#define TCPMON_BPF_H

/* The filter of vmdelay/tcmnl.h's words, parsed once in user space: the programs only compare. */
struct tcpmon_bpf_config {
	__u32 running; /* 0: the programs return at once (set while attaching and detaching) */
	__u32 layers;  /* 1 << enum tcpmon_layer */
	__u8 proto, family;
	__u8 addr_len, addr2_len; /* 0, 4 or 16 */
	__u8 addr[16], addr2[16];
	__u8 has_port, has_port2;
	__u16 port, port2; /* host order */
	__u8 pad[2];
	__u32 slot_bits; /* each CPU's ring holds 1 << slot_bits records */
};

/* The records go into per-CPU rings of fixed slots that the programs write and tcpmon reads
 * through mmap (tcpmon/bpf_slots.c): no lock, no helper call. CPU c's ring is the slots
 * c << slot_bits ... of tcpmon_slots; a program takes slot number `head` (a per-CPU counter)
 * and, once the record is written, sets its commit word to head + 1; tcpmon reads slots in
 * order while the commit word is the one it expects, then publishes how far it read (the CPU's
 * tail, its own cache line) so the programs know which slots are free again. */
#define TCPMON_BPF_COMMIT(rec) ((rec)->reserved[0])
/* Slots kept free for programs that interrupt one between its check for room and its taking a
 * slot (process context, then softirq, then hardirq: a few at most). */
#define TCPMON_BPF_SLACK 64

struct tcpmon_bpf_tail {
	__u64 tail;   /* slots read by tcpmon on this CPU */
	__u64 pad[7]; /* a cache line each: the writers of other CPUs' tails do not disturb */
};

/* Per-CPU counters (a BPF_MAP_TYPE_PERCPU_ARRAY, one entry per index). */
enum tcpmon_bpf_counter {
	TCPMON_BPF_C_SEQNO,    /* records offered on this CPU, kept or lost: the record's seqno;
				* the records written into the ring are SEQNO - LOST */
	TCPMON_BPF_C_LOST,     /* records dropped: the CPU's ring was full */
	TCPMON_BPF_C_FILTERED, /* TCP/ICMP packets seen that did not match the filter */
	TCPMON_BPF_C_HEAD,     /* slots taken on this CPU's ring (records written) */
	__TCPMON_BPF_C_MAX
};

/* NF_ACCEPT: a netfilter program never changes the verdict. */
#define TCPMON_BPF_NF_ACCEPT 1

#endif
