/* bpf_maps.h — user space's side of the maps tcpmon's BPF programs share with it
 * (tcpmon/bpf/tcpmon_bpf.h): which maps a reader needs, the configuration the programs obey and
 * the per-CPU counters they keep. The same calls serve a recording's own programs and those a
 * `start` left pinned, so both are read alike. */
#ifndef TCPMON_BPF_MAPS_H
#define TCPMON_BPF_MAPS_H

#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/tcmnl.h"

#include <linux/types.h> /* the __u32 of tcpmon_bpf.h */

#include "tcpmon_bpf.h"

/* The maps a reader needs, in this order in every array of their fds (loaded or pinned). */
enum tcpmon_map { TCPMON_MAP_CONFIG, TCPMON_MAP_COUNTERS, TCPMON_MAP_SLOTS, TCPMON_MAP_TAILS };
#define TCPMON_NMAPS 4

/* Writes the configuration that sets the programs going: filter (may be NULL: everything) and
 * layers, the rings' slot_bits, running = 1; cfg gets what was written. 0, or -1 and why. */
int tcpmon_config_run(int config_fd, const struct vd_tcmnl_filter *filter, uint32_t layers,
		      uint32_t slot_bits, struct tcpmon_bpf_config *cfg, struct vd_err *err);
/* Sets running = 0: the programs return at once, and a reader of pinned programs ends. */
int tcpmon_config_stop(int config_fd, struct vd_err *err);
int tcpmon_config_get(int config_fd, struct tcpmon_bpf_config *cfg, struct vd_err *err);

/* Each CPU's counters as the kernel keeps them: v[cpu * __TCPMON_BPF_C_MAX + counter], one row
 * per possible CPU. */
int tcpmon_counters_read(int counters_fd, uint64_t *v, struct vd_err *err);
/* The counters summed over ncpu CPUs into sum, less base (rows as tcpmon_counters_read's; NULL:
 * from zero, else the counters when a recording began); cpu_lost (may be NULL): each CPU's
 * records lost since base. */
int tcpmon_counters_sum(int counters_fd, unsigned ncpu, const uint64_t *base,
			uint64_t sum[__TCPMON_BPF_C_MAX], uint64_t *cpu_lost, struct vd_err *err);
/* Records the programs put in a ring: those offered less those lost. */
static inline uint64_t tcpmon_counters_recorded(const uint64_t sum[__TCPMON_BPF_C_MAX])
{
	return sum[TCPMON_BPF_C_SEQNO] - sum[TCPMON_BPF_C_LOST];
}

#endif
