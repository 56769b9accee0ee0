/* bpf_load.c — loading and attaching tcpmon's BPF programs (see bpf_load.h): the skeleton
 * generated at build time from tcpmon/bpf/tcpmon.bpf.c, loaded with libbpf. */
#include "bpf_load.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include "bpf_slots.h"
#include "vmdelay/input/tcmrec.h"
#include "vmdelay/record.h"

#include "tcpmon.skel.h"

/* The skeleton names each program by a field, not an index: a getter per program lets the
 * tables below say which program hooks which layer. */
#define PROG_GETTER(name)                                                                          \
	static struct bpf_program *get_##name(struct tcpmon_bpf *s)                                \
	{                                                                                          \
		return s->progs.name;                                                              \
	}
PROG_GETTER(tcpmon_dev_rx)
PROG_GETTER(tcpmon_dev_queue)
PROG_GETTER(tcpmon_dev_tx)
PROG_GETTER(tcpmon_trans_rx)
PROG_GETTER(tcpmon_sock_copy)
PROG_GETTER(tcpmon_sock_send)
PROG_GETTER(tcpmon_ip_pre)
PROG_GETTER(tcpmon_ip_local_in)
PROG_GETTER(tcpmon_ip_local_out)
PROG_GETTER(tcpmon_ip_post)

typedef struct bpf_program *(*prog_getter)(struct tcpmon_bpf *s);

/* One tracepoint program: the layer it records and the tracepoint it needs. */
static const struct tp_prog {
	uint8_t layer;
	const char *tracepoint;
	prog_getter prog;
} tp_progs[] = {
    {TCPMON_L_DEV_RX, "netif_receive_skb", get_tcpmon_dev_rx},
    {TCPMON_L_DEV_QUEUE, "net_dev_queue", get_tcpmon_dev_queue},
    {TCPMON_L_DEV_TX, "net_dev_start_xmit", get_tcpmon_dev_tx},
    {TCPMON_L_TRANS_RX, "tcp_probe", get_tcpmon_trans_rx},
    {TCPMON_L_SOCK_COPY, "skb_copy_datagram_iovec", get_tcpmon_sock_copy},
    {TCPMON_L_SOCK_SEND, "tcp_sendmsg_locked", get_tcpmon_sock_send},
};
_Static_assert(sizeof(tp_progs) / sizeof(tp_progs[0]) == TCPMON_BPF_NTRACEPOINTS,
	       "tp_link[] holds one link per tracepoint program");
#define NTP TCPMON_BPF_NTRACEPOINTS

/* The IP layers' programs, in the order of tcpmon_nf_places (bpf_netns.c). */
static const prog_getter nf_progs[TCPMON_NF_NPLACES] = {
    get_tcpmon_ip_pre,
    get_tcpmon_ip_local_in,
    get_tcpmon_ip_local_out,
    get_tcpmon_ip_post,
};

uint32_t tcpmon_bpf_layers(void)
{
	uint32_t m = 0;

	for (size_t i = 0; i < NTP; i++)
		m |= 1u << tp_progs[i].layer;
	for (size_t i = 0; i < TCPMON_NF_NPLACES; i++)
		m |= 1u << tcpmon_nf_places[i].layer;
	return m;
}

int tcpmon_bpf_usable(struct vd_err *err)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int fd;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return vd_err_set(
		    err, "the bpf backend needs the kernel's BTF (/sys/kernel/btf/vmlinux: %s)",
		    strerror(errno));
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vd_probe", 4, 4, 1, &o);
	if (fd < 0)
		return vd_err_set(
		    err, "the bpf backend cannot use the bpf() system call: %s%s", strerror(errno),
		    errno == EPERM ? " (needs CAP_BPF and CAP_PERFMON: run it as root)" : "");
	close(fd);
	return 0;
}

int tcpmon_bpf_can_load(uint32_t *want)
{
	struct vd_err err;

	*want &= tcpmon_bpf_layers();
	if (!*want) {
		fprintf(stderr, "tcpmon: none of the chosen layers exists in the bpf backend (or "
				"sees what the filter takes)\n");
		return VD_EXIT_USAGE;
	}
	if (tcpmon_bpf_usable(&err)) {
		fprintf(stderr, "tcpmon: %s\n", err.msg);
		return VD_EXIT_RUNTIME;
	}
	return 0;
}

/* The layers whose programs see TCP only (tcpmon.bpf.c): trans-rx (tcp_probe), sock-send
 * (tcp_sendmsg_locked). */
#define TCP_ONLY_LAYERS ((1u << TCPMON_L_TRANS_RX) | (1u << TCPMON_L_SOCK_SEND))

uint32_t tcpmon_bpf_wanted(const struct vd_tcmnl_filter *f, unsigned *families)
{
	uint32_t want = f && f->has_layers ? f->layers : TCPMON_LAYERS_ALL;

	*families = TCPMON_NF_BOTH;
	if (!f)
		return want;
	if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6)
		want &= ~TCP_ONLY_LAYERS;
	/* ICMP is IPv4's, ICMPv6 IPv6's; a host's address says its family */
	if (f->family == AF_INET || f->proto == IPPROTO_ICMP || f->addr_len == 4)
		*families &= TCPMON_NF_IPV4;
	if (f->family == AF_INET6 || f->proto == IPPROTO_ICMPV6 || f->addr_len == 16)
		*families &= TCPMON_NF_IPV6;
	return want;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* warnings carry the verifier's log when a load fails */
	if (level != LIBBPF_WARN)
		return 0;
	fprintf(stderr, "tcpmon: ");
	return vfprintf(stderr, fmt, ap);
}

static int kernel_has_tracepoint(const struct btf *vmlinux, const char *name)
{
	char t[128];

	snprintf(t, sizeof(t), "btf_trace_%s", name);
	return btf__find_by_name_kind(vmlinux, t, BTF_KIND_TYPEDEF) > 0;
}

/* Which programs the kernel gets: the wanted layers', less the tracepoints this kernel lacks
 * (said, and added to *missing). */
static void choose_programs(struct tcpmon_bpf *skel, const struct btf *vmlinux, uint32_t want,
			    uint32_t *missing)
{
	for (size_t i = 0; i < NTP; i++) {
		int on = (want >> tp_progs[i].layer) & 1;
		if (on && !kernel_has_tracepoint(vmlinux, tp_progs[i].tracepoint)) {
			fprintf(stderr,
				"tcpmon: warning: this kernel has no tracepoint %s: layer %s not "
				"recorded\n",
				tp_progs[i].tracepoint, vd_tcmrec_layer_name(tp_progs[i].layer));
			*missing |= 1u << tp_progs[i].layer;
			on = 0;
		}
		bpf_program__set_autoload(tp_progs[i].prog(skel), on);
	}
	for (size_t i = 0; i < TCPMON_NF_NPLACES; i++) {
		struct bpf_program *p = nf_progs[i](skel);
		bpf_program__set_autoload(p, (want >> tcpmon_nf_places[i].layer) & 1);
		tcpmon_nf_set_prog_type(p);
	}
}

/* Opens the skeleton, sizes the rings and chooses the programs: all that needs the kernel's BTF
 * before loading. */
static int open_skeleton(struct tcpmon_bpf_loaded *l, uint32_t want, uint32_t ring_bytes,
			 uint32_t *missing, struct vd_err *err)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int rc = 0;

	if (!vmlinux)
		return vd_err_set(err, "cannot read the kernel's BTF: %s", strerror(errno));
	l->skel = tcpmon_bpf__open();
	if (!l->skel) {
		rc = vd_err_set(err, "opening the BPF object: %s", strerror(errno));
		goto out;
	}
	l->ncpu = (unsigned)libbpf_num_possible_cpus();
	l->slot_bits = tcpmon_slots_bits(ring_bytes, l->ncpu);
	if (bpf_map__set_max_entries(l->skel->maps.tcpmon_slots, l->ncpu << l->slot_bits) ||
	    bpf_map__set_max_entries(l->skel->maps.tcpmon_tails, l->ncpu)) {
		rc = vd_err_set(err, "rings of %u records for %u CPUs refused", 1u << l->slot_bits,
				l->ncpu);
		goto out;
	}
	choose_programs(l->skel, vmlinux, want, missing);
out:
	btf__free(vmlinux);
	return rc;
}

static int attach_programs(struct tcpmon_bpf_loaded *l, struct vd_err *err)
{
	struct tcpmon_nf_hook hooks[TCPMON_NF_NPLACES];
	int prog_fd[TCPMON_NF_NPLACES];
	size_t nhooks;

	for (size_t i = 0; i < NTP; i++) {
		if (!((l->layers >> tp_progs[i].layer) & 1))
			continue;
		l->tp_link[i] = bpf_program__attach(tp_progs[i].prog(l->skel));
		if (!l->tp_link[i])
			return vd_err_set(err, "attaching to tracepoint %s: %s",
					  tp_progs[i].tracepoint, strerror(errno));
	}
	for (size_t i = 0; i < TCPMON_NF_NPLACES; i++)
		prog_fd[i] = bpf_program__fd(nf_progs[i](l->skel));
	nhooks = tcpmon_nf_hooks(l->layers, l->families, prog_fd, hooks);
	return tcpmon_nf_attach_all(hooks, nhooks, &l->nf, err);
}

int tcpmon_bpf_load(struct tcpmon_bpf_loaded *l, uint32_t want, unsigned families,
		    uint32_t ring_bytes, struct vd_err *err)
{
	uint32_t missing = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	libbpf_set_print(libbpf_quiet);
	if (open_skeleton(l, want, ring_bytes, &missing, err))
		return -1;
	rc = tcpmon_bpf__load(l->skel);
	if (rc)
		return vd_err_set(err, "loading the BPF programs: %s (libbpf's messages above)",
				  strerror(-rc));
	l->layers = want & ~missing;
	l->families = families;
	l->map_fd[TCPMON_MAP_CONFIG] = bpf_map__fd(l->skel->maps.tcpmon_config);
	l->map_fd[TCPMON_MAP_COUNTERS] = bpf_map__fd(l->skel->maps.tcpmon_counters);
	l->map_fd[TCPMON_MAP_SLOTS] = bpf_map__fd(l->skel->maps.tcpmon_slots);
	l->map_fd[TCPMON_MAP_TAILS] = bpf_map__fd(l->skel->maps.tcpmon_tails);
	return attach_programs(l, err);
}

int *tcpmon_bpf_link_fds(const struct tcpmon_bpf_loaded *l, size_t *n)
{
	int *fd = malloc((NTP + l->nf.n) * sizeof(*fd));

	*n = 0;
	if (!fd)
		return NULL;
	for (size_t i = 0; i < NTP; i++)
		if (l->tp_link[i])
			fd[(*n)++] = bpf_link__fd(l->tp_link[i]);
	for (size_t i = 0; i < l->nf.n; i++)
		fd[(*n)++] = l->nf.fd[i];
	return fd;
}

void tcpmon_bpf_unload(struct tcpmon_bpf_loaded *l)
{
	tcpmon_nf_detach_all(&l->nf);
	for (size_t i = 0; i < NTP; i++)
		bpf_link__destroy(l->tp_link[i]);
	tcpmon_bpf__destroy(l->skel);
	memset(l, 0, sizeof(*l));
}
