/* tcpmon_bpf.h — what tcpmon's BPF programs (tcpmon.bpf.c) and their loader (tcpmon/bpf_backend.c)
 * share: the configuration the loader writes into a one-entry array map, and the per-CPU counters
 * the programs keep. The records themselves are struct tcpmon_record (vmdelay/record.h). */
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
};

/* Per-CPU counters (a BPF_MAP_TYPE_PERCPU_ARRAY, one entry per index). */
enum tcpmon_bpf_counter {
	TCPMON_BPF_C_SEQNO,    /* records offered on this CPU, kept or lost: the record's seqno;
				* the records written into the ring buffer are SEQNO - LOST */
	TCPMON_BPF_C_LOST,     /* records dropped: the ring buffer was full (reservation failed) */
	TCPMON_BPF_C_FILTERED, /* TCP/ICMP packets seen that did not match the filter */
	__TCPMON_BPF_C_MAX
};

/* NF_ACCEPT: a netfilter program never changes the verdict. */
#define TCPMON_BPF_NF_ACCEPT 1

#endif
