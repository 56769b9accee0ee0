/* bpf_backend.c — tcpmon's eBPF backend (see bpf_backend.h): the skeleton generated at build time
 * from tcpmon/bpf/tcpmon.bpf.c, loaded with libbpf (CO-RE against the running kernel's BTF). */
#include "bpf_backend.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpf_netns.h"
#include "bpf_pin.h"
#include "bpf_reader.h"
#include "bpf_slots.h"
#include "cmds.h"
#include "live.h"
#include "prom.h"
#include "vmdelay/record.h"
#include "vmdelay/input/tcmrec.h"

#include "tcpmon_bpf.h"
#include "tcpmon.skel.h"

/* One tracepoint program: the layer it records and the tracepoint it needs. */
struct tp_prog {
	uint8_t layer;
	const char *tracepoint;
	struct bpf_program *(*prog)(struct tcpmon_bpf *s);
};

#define TP_GETTER(name)                                                                            \
	static struct bpf_program *get_##name(struct tcpmon_bpf *s)                                \
	{                                                                                          \
		return s->progs.name;                                                              \
	}
TP_GETTER(tcpmon_dev_rx)
TP_GETTER(tcpmon_dev_queue)
TP_GETTER(tcpmon_dev_tx)
TP_GETTER(tcpmon_trans_rx)
TP_GETTER(tcpmon_sock_copy)
TP_GETTER(tcpmon_sock_send)
TP_GETTER(tcpmon_ip_pre)
TP_GETTER(tcpmon_ip_local_in)
TP_GETTER(tcpmon_ip_local_out)
TP_GETTER(tcpmon_ip_post)

static const struct tp_prog tp_progs[] = {
    {TCPMON_L_DEV_RX, "netif_receive_skb", get_tcpmon_dev_rx},
    {TCPMON_L_DEV_QUEUE, "net_dev_queue", get_tcpmon_dev_queue},
    {TCPMON_L_DEV_TX, "net_dev_start_xmit", get_tcpmon_dev_tx},
    {TCPMON_L_TRANS_RX, "tcp_probe", get_tcpmon_trans_rx},
    {TCPMON_L_SOCK_COPY, "skb_copy_datagram_iovec", get_tcpmon_sock_copy},
    {TCPMON_L_SOCK_SEND, "tcp_sendmsg_locked", get_tcpmon_sock_send},
};

/* The IP layers: netfilter hooks, first priority on the way in and out of the host's IP code,
 * last after routing on output (NF_IP_PRI_FIRST/LAST themselves are refused for BPF links). */
static const struct nf_prog {
	uint8_t layer;
	uint32_t hook;
	int32_t priority;
	struct bpf_program *(*prog)(struct tcpmon_bpf *s);
} nf_progs[] = {
    {TCPMON_L_IP_PRE, VD_NF_PRE_ROUTING, INT_MIN + 1, get_tcpmon_ip_pre},
    {TCPMON_L_IP_LOCAL_IN, VD_NF_LOCAL_IN, INT_MIN + 1, get_tcpmon_ip_local_in},
    {TCPMON_L_IP_LOCAL_OUT, VD_NF_LOCAL_OUT, INT_MIN + 1, get_tcpmon_ip_local_out},
    {TCPMON_L_IP_POST, VD_NF_POST_ROUTING, INT_MAX - 1, get_tcpmon_ip_post},
};
#define NTP (sizeof(tp_progs) / sizeof(tp_progs[0]))
#define NNF (sizeof(nf_progs) / sizeof(nf_progs[0]))

uint32_t tcpmon_bpf_layers(void)
{
	uint32_t m = 0;

	for (size_t i = 0; i < NTP; i++)
		m |= 1u << tp_progs[i].layer;
	for (size_t i = 0; i < NNF; i++)
		m |= 1u << nf_progs[i].layer;
	return m;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* warnings carry the verifier's log when a load fails */
	if (level != LIBBPF_WARN)
		return 0;
	fprintf(stderr, "tcpmon: ");
	return vfprintf(stderr, fmt, ap);
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

/* ---- the tracepoints this kernel has ---- */
static int kernel_has_tracepoint(const struct btf *vmlinux, const char *name)
{
	char t[128];

	snprintf(t, sizeof(t), "btf_trace_%s", name);
	return btf__find_by_name_kind(vmlinux, t, BTF_KIND_TYPEDEF) > 0;
}

#define POLL_NS (5 * 1000 * 1000) /* an idle ring is looked at every 5 ms */

/* ---- counters ---- */
/* Each CPU's counters: v[cpu * __TCPMON_BPF_C_MAX + counter] (ncpu rows). */
static int read_percpu(int fd, uint64_t *v, struct vd_err *err)
{
	uint32_t k = 0;

	if (bpf_map_lookup_elem(fd, &k, v))
		return vd_err_set(err, "reading the counters: %s", strerror(errno));
	return 0;
}

/* Sums over the CPUs into out, less base (per CPU as read_percpu's, may be NULL: the counters
 * when this recording began); cpu_lost (may be NULL): each CPU's lost records. */
static int read_counters(int fd, unsigned ncpu, const uint64_t *base,
			 uint64_t out[__TCPMON_BPF_C_MAX], uint64_t *cpu_lost, struct vd_err *err)
{
	uint64_t *v = calloc(ncpu, sizeof(uint64_t) * __TCPMON_BPF_C_MAX);

	if (!v)
		return vd_err_set(err, "out of memory");
	if (read_percpu(fd, v, err)) {
		free(v);
		return -1;
	}
	memset(out, 0, sizeof(uint64_t) * __TCPMON_BPF_C_MAX);
	for (unsigned c = 0; c < ncpu; c++) {
		for (unsigned i = 0; i < __TCPMON_BPF_C_MAX; i++)
			out[i] += v[c * __TCPMON_BPF_C_MAX + i] -
				  (base ? base[c * __TCPMON_BPF_C_MAX + i] : 0);
		if (cpu_lost)
			cpu_lost[c] = v[c * __TCPMON_BPF_C_MAX + TCPMON_BPF_C_LOST] -
				      (base ? base[c * __TCPMON_BPF_C_MAX + TCPMON_BPF_C_LOST] : 0);
	}
	free(v);
	return 0;
}

static void config_from_filter(const struct vd_tcmnl_filter *f, uint32_t layers,
			       struct tcpmon_bpf_config *c)
{
	memset(c, 0, sizeof(*c));
	c->layers = layers;
	if (!f)
		return;
	c->proto = f->proto;
	c->family = f->family;
	c->addr_len = f->addr_len;
	c->addr2_len = f->addr2_len;
	memcpy(c->addr, f->addr, sizeof(c->addr));
	memcpy(c->addr2, f->addr2, sizeof(c->addr2));
	c->has_port = (uint8_t)f->has_port;
	c->has_port2 = (uint8_t)f->has_port2;
	c->port = f->port;
	c->port2 = f->port2;
}

static int set_config(int fd, const struct tcpmon_bpf_config *c, struct vd_err *err)
{
	uint32_t k = 0;

	if (bpf_map_update_elem(fd, &k, c, BPF_ANY))
		return vd_err_set(err, "writing the configuration map: %s", strerror(errno));
	return 0;
}

static int get_config(int fd, struct tcpmon_bpf_config *c, struct vd_err *err)
{
	uint32_t k = 0;

	if (bpf_map_lookup_elem(fd, &k, c))
		return vd_err_set(err, "reading the configuration map: %s", strerror(errno));
	return 0;
}

/* The layers of want this backend has (want narrowed to them), and whether it can load its
 * programs here: 0, or the exit code after saying why not. */
static int can_load(uint32_t *want)
{
	struct vd_err err;

	*want &= tcpmon_bpf_layers();
	if (!*want) {
		fprintf(stderr, "tcpmon: none of the chosen layers exists in the bpf backend\n");
		return VD_EXIT_USAGE;
	}
	if (tcpmon_bpf_usable(&err)) {
		fprintf(stderr, "tcpmon: %s\n", err.msg);
		return VD_EXIT_RUNTIME;
	}
	return 0;
}

/* ---- recording ---- */
/* The programs this process loaded (skel), or those a `start` left pinned (attached). */
struct session {
	struct tcpmon_bpf *skel;
	struct bpf_link *tp_link[NTP];
	struct tcpmon_nf_links nf;
	int map_fd[TCPMON_PIN_NMAPS]; /* the skeleton's, or opened from the pins (attached) */
	int attached;
	unsigned ncpu;
	struct tcpmon_slots rings;
	uint32_t slot_bits;
	uint32_t layers, missing;
};

static void session_close(struct session *se)
{
	tcpmon_slots_close(&se->rings);
	for (int i = 0; se->attached && i < TCPMON_PIN_NMAPS; i++)
		close(se->map_fd[i]);
	tcpmon_nf_detach_all(&se->nf);
	for (size_t i = 0; i < NTP; i++)
		bpf_link__destroy(se->tp_link[i]);
	tcpmon_bpf__destroy(se->skel);
	memset(se, 0, sizeof(*se));
}

/* Opens, loads and attaches the programs of the wanted layers (running = 0 until the caller
 * sets the configuration). */
static int session_open(struct session *se, uint32_t want, uint32_t ring_bytes, struct vd_err *err)
{
	struct btf *vmlinux;
	unsigned ncpu;
	int rc;

	memset(se, 0, sizeof(*se));
	libbpf_set_print(libbpf_quiet);
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return vd_err_set(err, "cannot read the kernel's BTF: %s", strerror(errno));
	se->skel = tcpmon_bpf__open();
	if (!se->skel) {
		btf__free(vmlinux);
		return vd_err_set(err, "opening the BPF object: %s", strerror(errno));
	}
	ncpu = se->ncpu = (unsigned)libbpf_num_possible_cpus();
	se->slot_bits = tcpmon_slots_bits(ring_bytes, ncpu);
	if (bpf_map__set_max_entries(se->skel->maps.tcpmon_slots, ncpu << se->slot_bits) ||
	    bpf_map__set_max_entries(se->skel->maps.tcpmon_tails, ncpu)) {
		btf__free(vmlinux);
		return vd_err_set(err, "rings of %u records for %u CPUs refused",
				  1u << se->slot_bits, ncpu);
	}
	for (size_t i = 0; i < NTP; i++) {
		int on = (want >> tp_progs[i].layer) & 1;
		if (on && !kernel_has_tracepoint(vmlinux, tp_progs[i].tracepoint)) {
			fprintf(stderr,
				"tcpmon: warning: this kernel has no tracepoint %s: layer %s not "
				"recorded\n",
				tp_progs[i].tracepoint, vd_tcmrec_layer_name(tp_progs[i].layer));
			se->missing |= 1u << tp_progs[i].layer;
			on = 0;
		}
		bpf_program__set_autoload(tp_progs[i].prog(se->skel), on);
	}
	btf__free(vmlinux);
	for (size_t i = 0; i < NNF; i++) {
		struct bpf_program *p = nf_progs[i].prog(se->skel);
		bpf_program__set_autoload(p, (want >> nf_progs[i].layer) & 1);
		bpf_program__set_type(p, VD_BPF_PROG_TYPE_NETFILTER);
		bpf_program__set_expected_attach_type(p, VD_BPF_NETFILTER);
	}
	rc = tcpmon_bpf__load(se->skel);
	if (rc)
		return vd_err_set(err, "loading the BPF programs: %s (libbpf's messages above)",
				  strerror(-rc));
	se->layers = want & ~se->missing;
	se->map_fd[TCPMON_PIN_CONFIG] = bpf_map__fd(se->skel->maps.tcpmon_config);
	se->map_fd[TCPMON_PIN_COUNTERS] = bpf_map__fd(se->skel->maps.tcpmon_counters);
	se->map_fd[TCPMON_PIN_SLOTS] = bpf_map__fd(se->skel->maps.tcpmon_slots);
	se->map_fd[TCPMON_PIN_TAILS] = bpf_map__fd(se->skel->maps.tcpmon_tails);
	for (size_t i = 0; i < NTP; i++) {
		if (!((se->layers >> tp_progs[i].layer) & 1))
			continue;
		se->tp_link[i] = bpf_program__attach(tp_progs[i].prog(se->skel));
		if (!se->tp_link[i])
			return vd_err_set(err, "attaching to tracepoint %s: %s",
					  tp_progs[i].tracepoint, strerror(errno));
	}
	struct tcpmon_nf_hook hooks[NNF];
	size_t nhooks = 0;
	for (size_t i = 0; i < NNF; i++)
		if ((se->layers >> nf_progs[i].layer) & 1)
			hooks[nhooks++] = (struct tcpmon_nf_hook){
			    .prog_fd = bpf_program__fd(nf_progs[i].prog(se->skel)),
			    .hook = nf_progs[i].hook,
			    .priority = nf_progs[i].priority,
			    .name = vd_tcmrec_layer_name(nf_progs[i].layer)};
	if (tcpmon_nf_attach_all(hooks, nhooks, &se->nf, err))
		return -1;
	return tcpmon_slots_open(&se->rings, se->map_fd[TCPMON_PIN_SLOTS],
				 se->map_fd[TCPMON_PIN_TAILS], ncpu, se->slot_bits, err);
}

/* The maps of the programs a `start` left running (cfg: their configuration). */
static int session_attach(struct session *se, struct tcpmon_bpf_config *cfg, struct vd_err *err)
{
	memset(se, 0, sizeof(*se));
	if (tcpmon_pin_open(se->map_fd, err))
		return -1;
	se->attached = 1;
	se->ncpu = (unsigned)libbpf_num_possible_cpus();
	if (get_config(se->map_fd[TCPMON_PIN_CONFIG], cfg, err))
		return -1;
	se->slot_bits = cfg->slot_bits;
	se->layers = cfg->layers;
	return tcpmon_slots_open(&se->rings, se->map_fd[TCPMON_PIN_SLOTS],
				 se->map_fd[TCPMON_PIN_TAILS], se->ncpu, se->slot_bits, err);
}

/* A reader attached to running programs starts at the first record not yet read on each CPU:
 * its seqno, and the records lost before it (seqno - slot), are where this recording's counts
 * begin (0 for the first reader after `start`). base: per CPU as read_percpu's. */
static int attach_base(struct session *se, struct tcpmon_reader *rd, uint64_t *base,
		       struct vd_err *err)
{
	if (read_percpu(se->map_fd[TCPMON_PIN_COUNTERS], base, err))
		return -1;
	for (unsigned c = 0; c < se->ncpu; c++) {
		uint64_t *b = base + c * __TCPMON_BPF_C_MAX, slot = se->rings.next[c];
		uint32_t seqno;

		if (tcpmon_slots_peek(&se->rings, c, &seqno)) {
			/* the counters have moved on since that record: back to it */
			b[TCPMON_BPF_C_SEQNO] -= (uint32_t)(b[TCPMON_BPF_C_SEQNO] - seqno);
			b[TCPMON_BPF_C_LOST] = b[TCPMON_BPF_C_SEQNO] - slot;
		}
		rd->cpu[c].seen = 1;
		rd->cpu[c].next = (uint32_t)b[TCPMON_BPF_C_SEQNO];
	}
	return 0;
}

struct scrape {
	struct tcpmon_reader *rd;
	int counters_fd;
};

/* The Prometheus exposition: the live delay histograms, then the counters read at this moment. */
static void metrics(FILE *f, void *ctx)
{
	struct scrape *sc = ctx;
	struct tcpmon_reader *rd = sc->rd;
	uint64_t c[__TCPMON_BPF_C_MAX];
	struct vd_err err;

	tcpmon_live_prometheus(rd->live, f);
	if (read_counters(sc->counters_fd, rd->ncpu, NULL, c, rd->cpu_lost, &err))
		return;
	fprintf(f,
		"# HELP tcpmon_records_total Records the programs put in the ring buffer.\n"
		"# TYPE tcpmon_records_total counter\n"
		"tcpmon_records_total %llu\n",
		(unsigned long long)(c[TCPMON_BPF_C_SEQNO] - c[TCPMON_BPF_C_LOST]));
	fprintf(f,
		"# HELP tcpmon_records_read_total Records tcpmon read from the ring buffer.\n"
		"# TYPE tcpmon_records_read_total counter\n"
		"tcpmon_records_read_total %llu\n",
		(unsigned long long)rd->count);
	fprintf(f, "# HELP tcpmon_records_lost_total Records dropped: the CPU's ring was full.\n"
		   "# TYPE tcpmon_records_lost_total counter\n");
	for (unsigned cpu = 0; cpu < rd->ncpu; cpu++)
		fprintf(f, "tcpmon_records_lost_total{cpu=\"%u\"} %llu\n", cpu,
			(unsigned long long)rd->cpu_lost[cpu]);
	fprintf(f,
		"# HELP tcpmon_packets_filtered_total TCP/ICMP packets the filter left out.\n"
		"# TYPE tcpmon_packets_filtered_total counter\n"
		"tcpmon_packets_filtered_total %llu\n",
		(unsigned long long)c[TCPMON_BPF_C_FILTERED]);
}

/* Said while recording, once a second at most, so an operator sees loss when it happens. */
static void warn_new_loss(struct session *se, struct tcpmon_reader *rd, uint64_t *seen)
{
	uint64_t c[__TCPMON_BPF_C_MAX];
	struct vd_err err;

	if (read_counters(se->map_fd[TCPMON_PIN_COUNTERS], rd->ncpu, NULL, c, rd->cpu_lost, &err) ||
	    c[TCPMON_BPF_C_LOST] == *seen)
		return;
	fprintf(stderr,
		"tcpmon: warning: %llu records lost in the last second (ring full: --ring-mb)\n",
		(unsigned long long)(c[TCPMON_BPF_C_LOST] - *seen));
	*seen = c[TCPMON_BPF_C_LOST];
}

int tcpmon_bpf_record(const struct tcpmon_bpf_opts *o)
{
	struct tcpmon_bpf_config cfg;
	struct vd_tcmrec_info info;
	struct session se;
	struct tcpmon_reader *rd;
	struct vd_err err;
	uint64_t c[__TCPMON_BPF_C_MAX];
	uint32_t want = o->filter && o->filter->has_layers ? o->filter->layers : TCPMON_LAYERS_ALL;
	vd_ns start, last_off, last_stats;
	uint64_t lost_seen = 0;
	struct tcpmon_prom *prom = NULL;
	struct vd_out *out = NULL;
	struct scrape sc;
	uint64_t *base = NULL; /* attached: the counters where this recording begins */
	int ncpu, rc = 0;

	if ((rc = can_load(&want)))
		return rc;
	ncpu = libbpf_num_possible_cpus();
	rd = calloc(1, sizeof(*rd));
	if (!rd || ncpu <= 0 || !(rd->cpu = calloc((size_t)ncpu, sizeof(*rd->cpu))) ||
	    !(rd->cpu_lost = calloc((size_t)ncpu, sizeof(*rd->cpu_lost)))) {
		if (rd)
			free(rd->cpu);
		free(rd);
		fprintf(stderr, "tcpmon: out of memory\n");
		return VD_EXIT_RUNTIME;
	}
	rd->ncpu = (unsigned)ncpu;
	rd->limit = o->count;
	if ((vd_ns_valid(o->stats_every) || o->prometheus) && !(rd->live = tcpmon_live_new())) {
		fprintf(stderr, "tcpmon: out of memory\n");
		free(rd->cpu);
		free(rd->cpu_lost);
		free(rd);
		return VD_EXIT_RUNTIME;
	}
	rd->real_offset = tcpmon_realtime_offset();

	tcpmon_catch_signals();
	if (tcpmon_pin_exists()) {
		if (session_attach(&se, &cfg, &err))
			goto fail_session;
		if (!(base = calloc((size_t)ncpu, sizeof(uint64_t) * __TCPMON_BPF_C_MAX))) {
			vd_err_set(&err, "out of memory");
			goto fail_session;
		}
		if (attach_base(&se, rd, base, &err))
			goto fail_session;
	} else if (session_open(&se, want, o->ring_bytes, &err)) {
		goto fail_session;
	}
	memset(&info, 0, sizeof(info));
	tcpmon_host_info(&info);
	info.tsc_khz = 0;
	info.clock_flags |= TCPMON_CLK_KTIME_ONLY;
	info.ncpus = (uint32_t)ncpu;
	info.layers = se.layers;
	if (vd_tcmrec_writer_open(o->path, &info, &rd->w, &err))
		goto fail_session;
	if (o->prometheus && tcpmon_prom_open(o->prometheus, &prom, &err))
		goto fail_writer;
	if (vd_ns_valid(o->stats_every) && !(out = vd_out_create(stdout, o->mode))) {
		vd_err_set(&err, "out of memory");
		goto fail_writer;
	}
	sc = (struct scrape){rd, se.map_fd[TCPMON_PIN_COUNTERS]};
	if (se.attached) {
		fprintf(stderr,
			"tcpmon: bpf backend recording from the programs `tcpmon start` left in "
			"%s%s\n",
			TCPMON_PIN_DIR, cfg.running ? "" : " (stopped: reading what they left)");
	} else {
		config_from_filter(o->filter, se.layers, &cfg);
		cfg.slot_bits = se.slot_bits;
		cfg.running = 1;
		if (set_config(se.map_fd[TCPMON_PIN_CONFIG], &cfg, &err))
			goto fail_writer;
		fprintf(stderr,
			"tcpmon: bpf backend recording (%zu netfilter links in %zu network "
			"namespaces)\n",
			se.nf.n, se.nf.netns);
	}
	if (read_counters(se.map_fd[TCPMON_PIN_COUNTERS], rd->ncpu, NULL, c, NULL, &err))
		goto fail_writer;
	lost_seen = c[TCPMON_BPF_C_LOST];

	start = last_off = last_stats = vd_now(CLOCK_MONOTONIC);
	while (!tcpmon_stop_requested() && !rd->failed) {
		vd_ns now;
		/* The programs never wake us (a wakeup costs microseconds per record): the rings
		 * are drained on a timer, sleeping only when they were empty. */
		int n = tcpmon_slots_drain(&se.rings, tcpmon_reader_on_record, rd);

		if (n == 0) {
			struct timespec ts = {0, POLL_NS};
			nanosleep(&ts, NULL);
		}
		if (rd->limit && rd->count >= rd->limit)
			break;
		now = vd_now(CLOCK_MONOTONIC);
		if (vd_ns_valid(o->duration) && now - start >= o->duration)
			break;
		if (now - last_off >= VD_NS_PER_SEC) {
			rd->real_offset = tcpmon_realtime_offset();
			last_off = now;
			warn_new_loss(&se, rd, &lost_seen);
			/* `tcpmon stop` ended the programs: what they left is read below */
			if (se.attached &&
			    (get_config(se.map_fd[TCPMON_PIN_CONFIG], &cfg, &err) || !cfg.running))
				break;
		}
		if (out && now - last_stats >= o->stats_every) {
			tcpmon_live_print(rd->live, out, now - start);
			vd_out_flush(out);
			fflush(stdout);
			last_stats = now;
		}
		tcpmon_prom_serve(prom, metrics, &sc);
	}
	/* stop our own programs (a `start`'s run on), then take what they left in the rings */
	cfg.running = 0;
	if (!se.attached && set_config(se.map_fd[TCPMON_PIN_CONFIG], &cfg, &err))
		goto fail_writer;
	tcpmon_slots_drain(&se.rings, tcpmon_reader_on_record, rd);
	if (rd->failed) {
		err = rd->err;
		goto fail_writer;
	}
	if (tcpmon_reader_flush(rd) ||
	    read_counters(se.map_fd[TCPMON_PIN_COUNTERS], (unsigned)ncpu, base, c, rd->cpu_lost,
			  &rd->err) ||
	    tcpmon_reader_write_end(rd, c[TCPMON_BPF_C_SEQNO] - c[TCPMON_BPF_C_LOST],
				    c[TCPMON_BPF_C_LOST], c[TCPMON_BPF_C_FILTERED], rd->cpu_lost)) {
		err = rd->err;
		goto fail_writer;
	}
	fprintf(
	    stderr,
	    "tcpmon: %llu records written to %s; bpf: %llu recorded, %llu lost, %llu filtered\n",
	    (unsigned long long)rd->count, o->path,
	    (unsigned long long)(c[TCPMON_BPF_C_SEQNO] - c[TCPMON_BPF_C_LOST]),
	    (unsigned long long)c[TCPMON_BPF_C_LOST], (unsigned long long)c[TCPMON_BPF_C_FILTERED]);
	if (c[TCPMON_BPF_C_LOST])
		fprintf(stderr,
			"tcpmon: warning: %llu records lost (ring full): enlarge it with "
			"--ring-mb\n",
			(unsigned long long)c[TCPMON_BPF_C_LOST]);
	goto out;

fail_writer:
	rc = VD_EXIT_RUNTIME;
	fprintf(stderr, "tcpmon: %s\n", err.msg);
	vd_tcmrec_writer_close(rd->w, &err);
	rd->w = NULL;
	goto close;
fail_session:
	fprintf(stderr, "tcpmon: %s\n", err.msg);
	rc = VD_EXIT_RUNTIME;
	goto close;
out:
	if (vd_tcmrec_writer_close(rd->w, &err)) {
		fprintf(stderr, "tcpmon: %s\n", err.msg);
		rc = VD_EXIT_RUNTIME;
	}
close:
	if (out && vd_out_destroy(out) && !rc) {
		fprintf(stderr, "tcpmon: write error on standard output\n");
		rc = VD_EXIT_RUNTIME;
	}
	tcpmon_prom_close(prom);
	tcpmon_live_free(rd->live);
	session_close(&se);
	free(base);
	free(rd->loss);
	free(rd->cpu);
	free(rd->cpu_lost);
	free(rd);
	return rc;
}

/* ---- start and stop: the programs left running, pinned in bpffs ---- */

/* Stops the pinned programs and removes the pins; says what they recorded unless quiet. */
static int stop_pinned(int quiet)
{
	int fd[TCPMON_PIN_NMAPS];
	struct tcpmon_bpf_config cfg;
	uint64_t c[__TCPMON_BPF_C_MAX];
	struct vd_err err;
	int ncpu = libbpf_num_possible_cpus();

	if (tcpmon_pin_open(fd, &err)) {
		/* a broken start: its pins go all the same */
		fprintf(stderr, "tcpmon: %s\n", err.msg);
		if (tcpmon_pin_remove(&err))
			fprintf(stderr, "tcpmon: %s\n", err.msg);
		return VD_EXIT_RUNTIME;
	}
	/* a `record` still reading sees running = 0, reads what is left and ends */
	if (!get_config(fd[TCPMON_PIN_CONFIG], &cfg, &err)) {
		cfg.running = 0;
		set_config(fd[TCPMON_PIN_CONFIG], &cfg, &err);
	}
	if (!quiet && ncpu > 0 &&
	    !read_counters(fd[TCPMON_PIN_COUNTERS], (unsigned)ncpu, NULL, c, NULL, &err)) {
		fprintf(stderr,
			"tcpmon: stopped; bpf since start: %llu recorded, %llu lost, %llu "
			"filtered\n",
			(unsigned long long)(c[TCPMON_BPF_C_SEQNO] - c[TCPMON_BPF_C_LOST]),
			(unsigned long long)c[TCPMON_BPF_C_LOST],
			(unsigned long long)c[TCPMON_BPF_C_FILTERED]);
		if (c[TCPMON_BPF_C_LOST])
			fprintf(stderr,
				"tcpmon: warning: %llu records lost (a ring was full: read them "
				"sooner, or start with a larger --ring-mb)\n",
				(unsigned long long)c[TCPMON_BPF_C_LOST]);
	}
	for (int i = 0; i < TCPMON_PIN_NMAPS; i++)
		close(fd[i]);
	if (tcpmon_pin_remove(&err)) {
		fprintf(stderr, "tcpmon: %s\n", err.msg);
		return VD_EXIT_RUNTIME;
	}
	return 0;
}

int tcpmon_bpf_stop(void)
{
	if (!tcpmon_pin_exists()) {
		fprintf(stderr, "tcpmon: the bpf backend is not started (no %s)\n", TCPMON_PIN_DIR);
		return VD_EXIT_RUNTIME;
	}
	return stop_pinned(0);
}

int tcpmon_bpf_started(void)
{
	return tcpmon_pin_exists();
}

int tcpmon_bpf_start(const struct vd_tcmnl_filter *f, uint32_t ring_bytes)
{
	uint32_t want = f->has_layers ? f->layers : TCPMON_LAYERS_ALL;
	int *link_fd = NULL;
	struct tcpmon_bpf_config cfg;
	struct session se;
	struct vd_err err;
	size_t nlinks = 0;
	int rc = 0;

	if ((rc = can_load(&want)))
		return rc;
	/* like the module's start: what an earlier start recorded is cleared */
	if (tcpmon_pin_exists() && stop_pinned(1))
		return VD_EXIT_RUNTIME;
	if (session_open(&se, want, ring_bytes, &err))
		goto fail;
	config_from_filter(f, se.layers, &cfg);
	cfg.slot_bits = se.slot_bits;
	cfg.running = 1;
	if (set_config(se.map_fd[TCPMON_PIN_CONFIG], &cfg, &err))
		goto fail;
	if (!(link_fd = malloc((NTP + se.nf.n) * sizeof(*link_fd)))) {
		vd_err_set(&err, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < NTP; i++)
		if (se.tp_link[i])
			link_fd[nlinks++] = bpf_link__fd(se.tp_link[i]);
	for (size_t i = 0; i < se.nf.n; i++)
		link_fd[nlinks++] = se.nf.fd[i];
	if (tcpmon_pin_save(se.map_fd, link_fd, nlinks, &err))
		goto fail;
	fprintf(stderr,
		"tcpmon: bpf backend started (%zu netfilter links in %zu network namespaces), "
		"pinned in %s: `tcpmon record -w FILE` reads it, `tcpmon --backend bpf stop` "
		"removes it\n",
		se.nf.n, se.nf.netns, TCPMON_PIN_DIR);
	goto out;
fail:
	fprintf(stderr, "tcpmon: %s\n", err.msg);
	rc = VD_EXIT_RUNTIME;
out:
	session_close(&se); /* the pins hold what the kernel keeps */
	free(link_fd);
	return rc;
}
