/* bpf_load.h — tcpmon's BPF programs (tcpmon/bpf/tcpmon.bpf.c) into the running kernel: the
 * layers they can hook, whether this machine can run them, and loading (CO-RE against the
 * kernel's BTF) and attaching those of the chosen layers. Both `record` and `start` load through
 * here; the programs stay until unloaded, or while bpffs pins hold them (bpf_pin.h). */
#ifndef TCPMON_BPF_LOAD_H
#define TCPMON_BPF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "bpf_maps.h"
#include "bpf_netns.h"
#include "vmdelay/core/err.h"
#include "vmdelay/input/tcmnl.h"

/* The layers hooked by a tracepoint (the others by netfilter, bpf_netns.h). */
#define TCPMON_BPF_NTRACEPOINTS 6

struct tcpmon_bpf;
struct bpf_link;

/* The programs one process loaded and attached. */
struct tcpmon_bpf_loaded {
	int map_fd[TCPMON_NMAPS]; /* the skeleton's: open until unloaded */
	uint32_t layers;	  /* those asked for, less the tracepoints this kernel lacks */
	unsigned families;	  /* of the netfilter links: TCPMON_NF_IPV4 | TCPMON_NF_IPV6 */
	uint32_t slot_bits;	  /* each CPU's ring holds 1 << slot_bits records */
	unsigned ncpu;		  /* possible CPUs: one ring each */
	struct tcpmon_nf_links nf;
	struct bpf_link *tp_link[TCPMON_BPF_NTRACEPOINTS];
	struct tcpmon_bpf *skel;
};

/* Layers the bpf backend can hook (1 << enum tcpmon_layer). */
uint32_t tcpmon_bpf_layers(void);
/* 0 when this kernel and this process can run the bpf backend; else -1 and why. */
int tcpmon_bpf_usable(struct vd_err *err);
/* Narrows *want to the layers this backend has; 0 when it can load them here, else the exit
 * code after saying why not (usage: none of the layers; runtime: not usable). */
int tcpmon_bpf_can_load(uint32_t *want);

/* The layers to load for filter f (f may be NULL: no filter): its layers (all when it names
 * none), less those whose programs could only reject what f lets through (every attach point
 * costs each packet passing it, matched or not): the layers that see TCP only when f takes ICMP
 * only. *families gets the address families the IP layers' netfilter links are needed for
 * (TCPMON_NF_*). */
uint32_t tcpmon_bpf_wanted(const struct vd_tcmnl_filter *f, unsigned *families);

/* Loads and attaches the programs of the wanted layers (netfilter links for the families given,
 * TCPMON_NF_*), a tracepoint this kernel lacks warned about and left out, rings of ring_bytes
 * over all CPUs. They return at once until the configuration map says running (bpf_maps.h). 0,
 * or -1 and why (unload l all the same). */
int tcpmon_bpf_load(struct tcpmon_bpf_loaded *l, uint32_t want, unsigned families,
		    uint32_t ring_bytes, struct vd_err *err);
/* The fds of the links that hold the programs attached (to pin them): malloc'ed, *n of them;
 * NULL when out of memory. */
int *tcpmon_bpf_link_fds(const struct tcpmon_bpf_loaded *l, size_t *n);
/* Detaches and frees what this process holds (pinned objects stay); l zeroed. */
void tcpmon_bpf_unload(struct tcpmon_bpf_loaded *l);

#endif
