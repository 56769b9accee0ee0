/* bpf_empty.c — the floor programs of the bench (see bpf_empty.h). */
#include "bpf_empty.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "bpf_netns.h"
#include "cmds.h"
#include "vmdelay/core/err.h"
#include "vmdelay/input/tcmnl.h"
#include "vmdelay/record.h"

#include "empty.skel.h"

/* Keeps only the tracepoint programs of the layers in want (the skeleton's attach then skips
 * the others). */
static void choose_tracepoints(struct empty_bpf *s, uint32_t want)
{
	const struct {
		uint8_t layer;
		struct bpf_program *prog;
	} tp[] = {
	    {TCPMON_L_DEV_RX, s->progs.vd_empty_dev_rx},
	    {TCPMON_L_DEV_QUEUE, s->progs.vd_empty_dev_queue},
	    {TCPMON_L_DEV_TX, s->progs.vd_empty_dev_tx},
	    {TCPMON_L_TRANS_RX, s->progs.vd_empty_trans_rx},
	    {TCPMON_L_SOCK_COPY, s->progs.vd_empty_sock_copy},
	    {TCPMON_L_SOCK_SEND, s->progs.vd_empty_sock_send},
	};

	for (size_t i = 0; i < sizeof(tp) / sizeof(tp[0]); i++)
		bpf_program__set_autoload(tp[i].prog, (want >> tp[i].layer) & 1);
}

int tcpmon_cmd_bench_empty_bpf(const char *layers)
{
	struct tcpmon_nf_hook hooks[TCPMON_NF_NPLACES];
	int prog_fd[TCPMON_NF_NPLACES];
	struct tcpmon_nf_links nf = {0};
	uint32_t want = TCPMON_LAYERS_ALL;
	struct empty_bpf *s;
	struct vd_err err;
	size_t nhooks;
	int rc = VD_EXIT_RUNTIME;

	if (layers && vd_tcmnl_layers_parse(layers, &want, &err)) {
		fprintf(stderr, "tcpmon: bench-empty-bpf: %s\n", err.msg);
		return VD_EXIT_USAGE;
	}
	tcpmon_catch_signals();
	s = empty_bpf__open();
	if (!s) {
		fprintf(stderr, "tcpmon: opening the empty BPF object: %s\n", strerror(errno));
		return VD_EXIT_RUNTIME;
	}
	tcpmon_nf_set_prog_type(s->progs.vd_empty_ip);
	choose_tracepoints(s, want);
	if (empty_bpf__load(s) || empty_bpf__attach(s)) {
		fprintf(stderr, "tcpmon: loading or attaching the empty programs: %s\n",
			strerror(errno));
		goto out;
	}
	/* one program at every place tcpmon's IP layers are hooked */
	for (size_t i = 0; i < TCPMON_NF_NPLACES; i++)
		prog_fd[i] = bpf_program__fd(s->progs.vd_empty_ip);
	nhooks = tcpmon_nf_hooks(want, TCPMON_NF_BOTH, prog_fd, hooks);
	if (tcpmon_nf_attach_all(hooks, nhooks, &nf, &err)) {
		fprintf(stderr, "tcpmon: %s\n", err.msg);
		goto out;
	}
	fprintf(stderr, "tcpmon: empty programs attached\n");
	while (!tcpmon_stop_requested()) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	rc = 0;
out:
	tcpmon_nf_detach_all(&nf);
	empty_bpf__destroy(s);
	return rc;
}
