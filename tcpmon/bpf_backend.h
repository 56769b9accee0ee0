/* bpf_backend.h — tcpmon's eBPF backend (tcpmon/bpf/tcpmon.bpf.c): loads the programs into the
 * running kernel, attaches them for the chosen layers, writes their records to a .tcm file and
 * detaches everything when recording ends; or, after `start`, reads programs pinned in bpffs
 * until `stop` removes them. A recording's own programs die with its process, however it exits. */
#ifndef TCPMON_BPF_BACKEND_H
#define TCPMON_BPF_BACKEND_H

#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/tcmnl.h"
#include "vmdelay/core/vdtime.h"
#include "vmdelay/out/output.h"

/* Layers the bpf backend can hook (1 << enum tcpmon_layer). */
uint32_t tcpmon_bpf_layers(void);

/* 0 when this kernel and this process can run the bpf backend; else -1 and why. */
int tcpmon_bpf_usable(struct vd_err *err);

struct tcpmon_bpf_opts {
	const char *path; /* the .tcm file */
	uint64_t count;	  /* stop after this many records (0: no limit) */
	vd_ns duration;	  /* stop after this long (VD_NS_NONE: no limit) */
	const struct vd_tcmnl_filter *filter;
	uint32_t ring_bytes; /* memory of all CPUs' rings */
	vd_ns stats_every;   /* print per-layer delay percentiles this often (VD_NS_NONE: never) */
	enum vd_out_mode mode;	/* of those rows, on standard output */
	const char *prometheus; /* [ADDR:]PORT to serve metrics on while recording (NULL: none) */
};

/* Records until opts' limits, SIGINT or SIGTERM, or `stop` when attached. With programs a
 * `start` left running (bpf_pin.h) it reads theirs (opts' filter and ring size are theirs), else
 * it loads its own and removes them when it ends. Returns an exit code. */
int tcpmon_bpf_record(const struct tcpmon_bpf_opts *opts);

/* `tcpmon --backend bpf start [FILTER]`: loads and attaches the programs, pins them and their
 * maps in bpffs and returns; an earlier start's are removed first. Returns an exit code. */
int tcpmon_bpf_start(const struct vd_tcmnl_filter *filter, uint32_t ring_bytes);
/* 1 when a start's programs are pinned. */
int tcpmon_bpf_started(void);
/* `tcpmon --backend bpf stop`: stops the pinned programs, says what they recorded and lost,
 * removes the pins (the kernel frees everything once no reader holds it). */
int tcpmon_bpf_stop(void);

#endif
