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

#include "empty.skel.h"

int tcpmon_cmd_bench_empty_bpf(void)
{
	struct tcpmon_nf_hook hooks[TCPMON_NF_NPLACES];
	int prog_fd[TCPMON_NF_NPLACES];
	struct tcpmon_nf_links nf = {0};
	struct empty_bpf *s;
	struct vd_err err;
	size_t nhooks;
	int rc = VD_EXIT_RUNTIME;

	tcpmon_catch_signals();
	s = empty_bpf__open();
	if (!s) {
		fprintf(stderr, "tcpmon: opening the empty BPF object: %s\n", strerror(errno));
		return VD_EXIT_RUNTIME;
	}
	tcpmon_nf_set_prog_type(s->progs.vd_empty_ip);
	if (empty_bpf__load(s) || empty_bpf__attach(s)) {
		fprintf(stderr, "tcpmon: loading or attaching the empty programs: %s\n",
			strerror(errno));
		goto out;
	}
	/* one program at every place tcpmon's IP layers are hooked */
	for (size_t i = 0; i < TCPMON_NF_NPLACES; i++)
		prog_fd[i] = bpf_program__fd(s->progs.vd_empty_ip);
	nhooks = tcpmon_nf_hooks(~0u, prog_fd, hooks);
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
