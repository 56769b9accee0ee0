/* bpf_startstop.c — the bpf backend's `start` and `stop` over pins (see bpf_startstop.h). */
#include "bpf_startstop.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpf_load.h"
#include "bpf_maps.h"
#include "bpf_pin.h"
#include "vmdelay/core/err.h"
#include "vmdelay/record.h"

/* Stops the pinned programs and removes the pins; says what they recorded unless quiet. */
static int stop_pinned(int quiet)
{
	int fd[TCPMON_NMAPS];
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
	tcpmon_config_stop(fd[TCPMON_MAP_CONFIG], &err);
	if (!quiet && ncpu > 0 &&
	    !tcpmon_counters_sum(fd[TCPMON_MAP_COUNTERS], (unsigned)ncpu, NULL, c, NULL, &err)) {
		fprintf(stderr,
			"tcpmon: stopped; bpf since start: %llu recorded, %llu lost, %llu "
			"filtered\n",
			(unsigned long long)tcpmon_counters_recorded(c),
			(unsigned long long)c[TCPMON_BPF_C_LOST],
			(unsigned long long)c[TCPMON_BPF_C_FILTERED]);
		if (c[TCPMON_BPF_C_LOST])
			fprintf(
			    stderr,
			    "tcpmon: warning: %llu records lost (a ring was full: keep `tcpmon "
			    "record` reading while started, or use `tcpmon --backend bpf record "
			    "--ring-mb N` alone)\n",
			    (unsigned long long)c[TCPMON_BPF_C_LOST]);
	}
	for (int i = 0; i < TCPMON_NMAPS; i++)
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
	unsigned families;
	uint32_t want = tcpmon_bpf_wanted(f, &families);
	struct tcpmon_bpf_config cfg;
	struct tcpmon_bpf_loaded l;
	struct vd_err err;
	int *link_fd = NULL;
	size_t nlinks;
	int rc;

	if ((rc = tcpmon_bpf_can_load(&want)))
		return rc;
	/* like the module's start: what an earlier start recorded is cleared */
	if (tcpmon_pin_exists() && stop_pinned(1))
		return VD_EXIT_RUNTIME;
	if (tcpmon_bpf_load(&l, want, families, ring_bytes, &err) ||
	    tcpmon_config_run(l.map_fd[TCPMON_MAP_CONFIG], f, l.layers, l.slot_bits, &cfg, &err))
		goto fail;
	if (!(link_fd = tcpmon_bpf_link_fds(&l, &nlinks))) {
		vd_err_set(&err, "out of memory");
		goto fail;
	}
	if (tcpmon_pin_save(l.map_fd, link_fd, nlinks, &err))
		goto fail;
	fprintf(stderr,
		"tcpmon: bpf backend started (%zu netfilter links in %zu network namespaces), "
		"pinned in %s: `tcpmon record -w FILE` reads it, `tcpmon --backend bpf stop` "
		"removes it\n",
		l.nf.n, l.nf.netns, TCPMON_PIN_DIR);
	goto out;
fail:
	fprintf(stderr, "tcpmon: %s\n", err.msg);
	rc = VD_EXIT_RUNTIME;
out:
	tcpmon_bpf_unload(&l); /* the pins hold what the kernel keeps */
	free(link_fd);
	return rc;
}
