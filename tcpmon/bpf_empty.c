/* bpf_empty.c — the floor programs of the bench (see bpf_empty.h). */
#include "bpf_empty.h"

#include <errno.h>
#include <limits.h>
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
	static const struct tcpmon_nf_hook hook_of[] = {
	    {0, VD_NF_PRE_ROUTING, INT_MIN + 1, "ip-pre"},
	    {0, VD_NF_LOCAL_IN, INT_MIN + 1, "ip-local-in"},
	    {0, VD_NF_LOCAL_OUT, INT_MIN + 1, "ip-local-out"},
	    {0, VD_NF_POST_ROUTING, INT_MAX - 1, "ip-post"},
	};
	struct tcpmon_nf_hook hooks[4];
	struct tcpmon_nf_links nf = {0};
	struct empty_bpf *s;
	struct vd_err err;
	int rc = VD_EXIT_RUNTIME;

	tcpmon_catch_signals();
	s = empty_bpf__open();
	if (!s) {
		fprintf(stderr, "tcpmon: opening the empty BPF object: %s\n", strerror(errno));
		return VD_EXIT_RUNTIME;
	}
	bpf_program__set_type(s->progs.vd_empty_ip, VD_BPF_PROG_TYPE_NETFILTER);
	bpf_program__set_expected_attach_type(s->progs.vd_empty_ip, VD_BPF_NETFILTER);
	if (empty_bpf__load(s) || empty_bpf__attach(s)) {
		fprintf(stderr, "tcpmon: loading or attaching the empty programs: %s\n",
			strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < 4; i++) {
		hooks[i] = hook_of[i];
		hooks[i].prog_fd = bpf_program__fd(s->progs.vd_empty_ip);
	}
	if (tcpmon_nf_attach_all(hooks, 4, &nf, &err)) {
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
