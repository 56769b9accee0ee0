/* bpf_record.h — `tcpmon record` with the bpf backend: the records of tcpmon's BPF programs
 * written to a .tcm file, from programs it loads itself (and removes when it ends, however it
 * exits) or from those a `start` left pinned in bpffs (bpf_startstop.h). */
#ifndef TCPMON_BPF_RECORD_H
#define TCPMON_BPF_RECORD_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"
#include "vmdelay/input/tcmnl.h"
#include "vmdelay/out/output.h"

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

/* Records until opts' limits, SIGINT or SIGTERM, or `stop` when reading pinned programs. With
 * programs a `start` left running it reads theirs (opts' filter and ring size are theirs), else
 * it loads its own and removes them when it ends. Returns an exit code. */
int tcpmon_bpf_record(const struct tcpmon_bpf_opts *opts);

#endif
