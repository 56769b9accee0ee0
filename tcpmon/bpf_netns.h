/* bpf_netns.h — netfilter BPF links (kernel >= 6.4) for tcpmon's IP-layer programs. A netfilter
 * link belongs to one network namespace: they are attached in every namespace that exists when
 * recording starts (those of running processes, and the named ones of `ip netns`); namespaces
 * created later are not seen (docs/formats/tcpmon.md says so). Closing a link's fd detaches it. */
#ifndef TCPMON_BPF_NETNS_H
#define TCPMON_BPF_NETNS_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"

/* Newer than Debian's UAPI headers and libbpf 1.1: the netfilter program type and attach type. */
#define VD_BPF_PROG_TYPE_NETFILTER 32
#define VD_BPF_NETFILTER 45
enum { VD_NF_PRE_ROUTING, VD_NF_LOCAL_IN, VD_NF_FORWARD, VD_NF_LOCAL_OUT, VD_NF_POST_ROUTING };

/* Address families a hook is attached for (bits). */
#define TCPMON_NF_IPV4 1u
#define TCPMON_NF_IPV6 2u
#define TCPMON_NF_BOTH (TCPMON_NF_IPV4 | TCPMON_NF_IPV6)

/* One program at one hook, attached for IPv4, IPv6 or both. */
struct tcpmon_nf_hook {
	int prog_fd;
	unsigned families; /* TCPMON_NF_IPV4 | TCPMON_NF_IPV6 */
	uint32_t hook;	   /* VD_NF_* */
	int32_t priority;  /* NF_IP_PRI_FIRST/LAST themselves are refused to BPF */
	const char *name;  /* for messages */
};

/* Where tcpmon's IP layers are hooked: first priority on the way in and out of the host's IP
 * code, last after routing on output. The bench's empty program attaches at the same places. */
struct tcpmon_nf_place {
	uint8_t layer; /* enum tcpmon_layer */
	uint32_t hook; /* VD_NF_* */
	int32_t priority;
};
#define TCPMON_NF_NPLACES 4
extern const struct tcpmon_nf_place tcpmon_nf_places[TCPMON_NF_NPLACES];

/* Fills hooks with the places whose layer is in layers (1 << enum tcpmon_layer), each with the
 * program prog_fd[its index in tcpmon_nf_places], for the families given (TCPMON_NF_*).
 * Returns how many. */
size_t tcpmon_nf_hooks(uint32_t layers, unsigned families, const int prog_fd[TCPMON_NF_NPLACES],
		       struct tcpmon_nf_hook hooks[TCPMON_NF_NPLACES]);

struct bpf_program;
/* Before loading: p is a netfilter program (libbpf 1.1 knows no section name for the type). */
void tcpmon_nf_set_prog_type(struct bpf_program *p);

struct tcpmon_nf_links {
	int *fd;
	size_t n, cap;
	size_t netns; /* namespaces attached in */
};

/* 0, or -1 with the namespace and hook in err (the links made so far stay in l: detach them). */
int tcpmon_nf_attach_all(const struct tcpmon_nf_hook *hooks, size_t nhooks,
			 struct tcpmon_nf_links *l, struct vd_err *err);
void tcpmon_nf_detach_all(struct tcpmon_nf_links *l);

#endif
