/* record.h — the tcpmon contract between tcpmon.ko and user space (Rajasekaran et al.,
 * "tcpmon", extended to every layer of the stack): the generic netlink family, its commands and
 * attributes, the per-packet record, the per-CPU TSC/ktime calibration pair, and the record file
 * header. Included by kmod/ and by user space; fixed-width types only; every enum runs from
 * _UNSPEC to __..._MAX and is append-only (never renumber, never reuse). */
#ifndef VMDELAY_RECORD_H
#define VMDELAY_RECORD_H

#include <linux/types.h>

/* ---- generic netlink family ---------------------------------------------------------------- */
#define TCPMON_GENL_NAME "vd_tcpmon"
#define TCPMON_GENL_VERSION 1

enum tcpmon_cmd {
	TCPMON_CMD_UNSPEC,
	TCPMON_CMD_START, /* [LAYERS] [FILTER]: clear the rings and counters, start recording */
	TCPMON_CMD_STOP,  /* stop recording (records already buffered stay readable) */
	TCPMON_CMD_SET_FILTER, /* FILTER (empty nest: match every TCP/ICMP packet) */
	TCPMON_CMD_SET_LAYERS, /* LAYERS */
	TCPMON_CMD_GET_STATS,  /* reply: STATS */
	TCPMON_CMD_READ,       /* dump: drains the per-CPU rings; each message CPU + RECORDS */
	TCPMON_CMD_CALIBRATE,  /* reply: CALIB, one struct tcpmon_calib per online CPU */
	__TCPMON_CMD_MAX
};
#define TCPMON_CMD_MAX (__TCPMON_CMD_MAX - 1)

enum tcpmon_attr {
	TCPMON_A_UNSPEC,
	TCPMON_A_LAYERS,      /* u32: bitmask of 1 << enum tcpmon_layer */
	TCPMON_A_FILTER,      /* nested: enum tcpmon_filter_attr */
	TCPMON_A_CPU,	      /* u32 */
	TCPMON_A_RECORDS,     /* binary: N * struct tcpmon_record (N >= 1) */
	TCPMON_A_CALIB,	      /* binary: N * struct tcpmon_calib */
	TCPMON_A_STATS,	      /* nested: enum tcpmon_stats_attr */
	TCPMON_A_RECORD_SIZE, /* u32: sizeof(struct tcpmon_record) in the kernel that replied */
	TCPMON_A_PAD,
	__TCPMON_A_MAX
};
#define TCPMON_A_MAX (__TCPMON_A_MAX - 1)

/* A packet matches when every attribute present matches; addresses and ports match either side
 * (source or destination), so one filter sees both directions of a connection. */
enum tcpmon_filter_attr {
	TCPMON_FA_UNSPEC,
	TCPMON_FA_PROTO,  /* u8: IPPROTO_TCP, IPPROTO_ICMP or IPPROTO_ICMPV6 */
	TCPMON_FA_FAMILY, /* u8: AF_INET (2) or AF_INET6 (10) */
	TCPMON_FA_ADDR,	  /* binary, 4 or 16 bytes: one side of the packet is this address */
	TCPMON_FA_ADDR2,  /* binary, 4 or 16 bytes: and the other side is this one */
	TCPMON_FA_PORT,	  /* u16 host order: one side's port */
	TCPMON_FA_PORT2,  /* u16 host order: and the other side's port */
	__TCPMON_FA_MAX
};
#define TCPMON_FA_MAX (__TCPMON_FA_MAX - 1)

enum tcpmon_stats_attr {
	TCPMON_SA_UNSPEC,
	TCPMON_SA_RUNNING,	 /* u8 */
	TCPMON_SA_LAYERS,	 /* u32 */
	TCPMON_SA_RING_RECORDS,	 /* u32: capacity of each per-CPU ring, in records */
	TCPMON_SA_NCPUS,	 /* u32: possible CPUs (one ring each) */
	TCPMON_SA_RECORDED,	 /* u64: records written into the rings since START */
	TCPMON_SA_LOST,		 /* u64: records dropped because a ring was full */
	TCPMON_SA_READ,		 /* u64: records handed to user space */
	TCPMON_SA_FILTERED,	 /* u64: TCP/ICMP packets seen but not matching the filter */
	TCPMON_SA_TSC_KHZ,	 /* u32 */
	TCPMON_SA_CLOCK_FLAGS,	 /* u32: enum tcpmon_clock_flags */
	TCPMON_SA_HOOKS_MISSING, /* u32: bitmask of enum tcpmon_hook that could not be attached */
	TCPMON_SA_COST,		 /* binary: u32[__TCPMON_L_MAX][TCPMON_COST_BUCKETS], hook cycles */
	TCPMON_SA_PAD,
	__TCPMON_SA_MAX
};
#define TCPMON_SA_MAX (__TCPMON_SA_MAX - 1)

/* ---- layers ---------------------------------------------------------------------------------- */
/* Receive layers are numbered in the order a packet climbs the stack, transmit layers in the order
 * it descends (docs/formats/tcpmon.md says where each is hooked). */
enum tcpmon_layer {
	TCPMON_L_UNSPEC,
	TCPMON_L_DEV_RX,      /* tracepoint net:netif_receive_skb */
	TCPMON_L_IP_PRE,      /* netfilter NF_INET_PRE_ROUTING, first priority */
	TCPMON_L_IP_LOCAL_IN, /* netfilter NF_INET_LOCAL_IN, first priority */
	TCPMON_L_TRANS_RX,    /* ftrace entry: tcp_v4_rcv, tcp_v6_rcv, icmp_rcv, icmpv6_rcv */
	TCPMON_L_SOCK_QUEUE,  /* ftrace entry: tcp_data_ready, sock_queue_rcv_skb_reason (raw/ping)
			       */
	TCPMON_L_SOCK_COPY,   /* tracepoint skb:skb_copy_datagram_iovec (copy to user space) */
	TCPMON_L_TRANS_TX,    /* ftrace entry: ip_queue_xmit, ip_build_and_send_pkt, ip6_xmit (TCP),
			       * ip_push_pending_frames, ip6_push_pending_frames (ICMP) */
	TCPMON_L_IP_LOCAL_OUT, /* netfilter NF_INET_LOCAL_OUT, first priority */
	TCPMON_L_IP_POST,      /* netfilter NF_INET_POST_ROUTING, last priority */
	TCPMON_L_DEV_TX,       /* tracepoint net:net_dev_start_xmit */
	/* Appended later, so out of stack order (tcmrec_layer_rank() gives the order): */
	TCPMON_L_DEV_QUEUE, /* tracepoint net:net_dev_queue (dev_queue_xmit, before the qdisc);
			     * bpf backend only */
	TCPMON_L_SOCK_SEND, /* tracepoint tcp:tcp_sendmsg_locked (data handed to TCP, from the
			     * socket: no header yet); bpf backend only */
	__TCPMON_L_MAX
};
#define TCPMON_L_MAX (__TCPMON_L_MAX - 1)
#define TCPMON_LAYERS_ALL (((1u << __TCPMON_L_MAX) - 1) & ~1u)

enum tcpmon_dir { TCPMON_DIR_UNSPEC, TCPMON_DIR_RX, TCPMON_DIR_TX, __TCPMON_DIR_MAX };

/* The module's attachment points; a function the running kernel inlined cannot be hooked. */
enum tcpmon_hook {
	TCPMON_H_TP_RX,
	TCPMON_H_TP_TX,
	TCPMON_H_TP_COPY,
	TCPMON_H_NF,
	TCPMON_H_TCP_V4_RCV,
	TCPMON_H_TCP_V6_RCV,
	TCPMON_H_ICMP_RCV,
	TCPMON_H_ICMPV6_RCV,
	TCPMON_H_TCP_DATA_READY,
	TCPMON_H_SOCK_QUEUE_RCV,
	TCPMON_H_IP_QUEUE_XMIT,
	TCPMON_H_IP_BUILD_AND_SEND,
	TCPMON_H_IP6_XMIT,
	TCPMON_H_IP_PUSH_PENDING,
	TCPMON_H_IP6_PUSH_PENDING,
	__TCPMON_H_MAX
};

/* Clock reliability, as the guest kernel sees it when the flags are read. */
enum tcpmon_clock_flags {
	TCPMON_CLK_TSC_UNSTABLE = 1u << 0,    /* the kernel marked the TSC unstable */
	TCPMON_CLK_CONSTANT_TSC = 1u << 1,    /* CPUID: TSC rate does not follow P-states */
	TCPMON_CLK_NONSTOP_TSC = 1u << 2,     /* CPUID: TSC runs in deep C-states */
	TCPMON_CLK_TSC_RELIABLE = 1u << 3,    /* X86_FEATURE_TSC_RELIABLE (no watchdog needed) */
	TCPMON_CLK_TSC_KNOWN_FREQ = 1u << 4,  /* frequency from CPUID/MSR, not calibrated */
	TCPMON_CLK_HYPERVISOR = 1u << 5,      /* running as a guest */
	TCPMON_CLK_CLOCKSOURCE_TSC = 1u << 6, /* current clocksource is "tsc" (set by user space) */
	TCPMON_CLK_KTIME_ONLY = 1u << 7,      /* records carry no TSC (tsc = 0; the bpf backend):
					       * their times are mono_ns/real_ns only */
};

/* Hook cost histogram: log-linear buckets (8 per power of two, 12.5 % wide). */
#define TCPMON_COST_BUCKETS 240

/* ---- one record per packet per layer -------------------------------------------------------- */
/* Little-endian, 112 bytes, no implicit padding. Network fields are converted to host order. */
struct tcpmon_record {
	__u64 tsc;     /* rdtsc_ordered() at hook entry */
	__s64 real_ns; /* CLOCK_REALTIME of mono_ns (ktime_mono_to_real) */
	__s64 mono_ns; /* ktime_get_ns(), read after the headers are parsed */
	__u32 cpu;
	__u8 layer;	/* enum tcpmon_layer */
	__u8 dir;	/* enum tcpmon_dir */
	__u8 family;	/* AF_INET or AF_INET6 */
	__u8 proto;	/* IPPROTO_TCP, IPPROTO_ICMP, IPPROTO_ICMPV6 */
	__u32 ifindex;	/* 0 when the layer has no device yet */
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport; /* TCP only */
	__u16 dport;
	__u32 seq;	/* TCP */
	__u32 ack;	/* TCP */
	__u16 window;	/* TCP, unscaled */
	__u8 tcp_flags; /* TCP: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ... */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 rflags;   /* enum tcpmon_record_flags */
	__u16 icmp_id; /* echo request/reply */
	__u16 icmp_seq;
	__u16 gso_segs;	   /* skb_shinfo(skb)->gso_segs (0 or 1: not a super-packet) */
	__u32 payload_len; /* bytes after the TCP/ICMP header */
	__u32 skb_len;	   /* skb->len at the hook */
	__u32 seqno;	   /* per-CPU record number since START: gaps are lost records */
	__u32 reserved[2];
};

enum tcpmon_record_flags {
	TCPMON_RF_ADDR_FROM_SOCK = 1u << 0, /* addresses from the socket (no IP header yet) */
	TCPMON_RF_COALESCED = 1u << 1,	    /* socket-queue skb may hold several segments */
};

/* A TSC/ktime pair taken on one CPU with interrupts off: mono_ns is the midpoint of two
 * ktime_get_ns() reads around rdtsc_ordered(); err_ns their distance. */
struct tcpmon_calib {
	__u32 cpu;
	__u32 err_ns;
	__u64 tsc;
	__s64 mono_ns;
	__s64 real_ns;
};

/* ---- record file (docs/formats/tcpmon.md) -----------------------------------------------------
 */
#define TCPMON_FILE_MAGIC "VDTCPMON"
#define TCPMON_FILE_VERSION 1

/* 256 bytes at offset 0, little-endian. */
struct tcpmon_file_header {
	char magic[8];	   /* "VDTCPMON" */
	__u16 version;	   /* TCPMON_FILE_VERSION */
	__u16 header_len;  /* sizeof(struct tcpmon_file_header) */
	__u32 record_size; /* sizeof(struct tcpmon_record) when written */
	__u32 tsc_khz;
	__u32 clock_flags;	  /* enum tcpmon_clock_flags */
	__s64 realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC when recording started */
	__s64 start_real_ns;
	__u32 ncpus;
	__u32 layers;
	char kernel_release[65]; /* uname -r, NUL-terminated */
	char hostname[65];
	char clocksource[32];
	__u8 reserved[46];
};

/* After the header: blocks, each a struct tcpmon_block followed by len bytes. Unknown types are
 * skipped by readers, so new block types can be appended. */
struct tcpmon_block {
	__u32 type; /* enum tcpmon_block_type */
	__u32 len;  /* payload bytes that follow */
};

enum tcpmon_block_type {
	TCPMON_B_UNSPEC,
	TCPMON_B_RECORDS, /* N * record_size bytes */
	TCPMON_B_CALIB,	  /* N * struct tcpmon_calib */
	TCPMON_B_STATS,	  /* struct tcpmon_file_stats, written when recording ends */
	TCPMON_B_LOSS,	  /* N * struct tcpmon_file_loss */
	__TCPMON_B_MAX
};

struct tcpmon_file_stats {
	__u64 recorded;
	__u64 lost;
	__u64 read;
	__u64 filtered;
};

/* TCPMON_B_LOSS: where records were lost, so a reader can flag the time windows with loss. One
 * entry per gap in a CPU's record seqnos: how many records are missing there, the mono_ns of
 * the last record kept before the gap and of the first one after it (0: the gap is at the start
 * or the end of the recording). Written when recording ends. */
struct tcpmon_file_loss {
	__u32 cpu;
	__u32 pad;
	__u64 lost;
	__s64 after_mono_ns;
	__s64 before_mono_ns;
};

#endif
