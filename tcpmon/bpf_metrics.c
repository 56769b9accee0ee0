/* bpf_metrics.c — the Prometheus exposition of a bpf recording (see bpf_metrics.h). */
#include "bpf_metrics.h"

#include "bpf_maps.h"
#include "live.h"

void tcpmon_bpf_metrics(FILE *f, void *ctx)
{
	struct tcpmon_bpf_scrape *sc = ctx;
	struct tcpmon_reader *rd = sc->rd;
	uint64_t c[__TCPMON_BPF_C_MAX];
	struct vd_err err;

	tcpmon_live_prometheus(rd->live, f);
	if (tcpmon_counters_sum(sc->counters_fd, rd->ncpu, NULL, c, rd->cpu_lost, &err))
		return;
	fprintf(f,
		"# HELP tcpmon_records_total Records the programs put in the ring buffer.\n"
		"# TYPE tcpmon_records_total counter\n"
		"tcpmon_records_total %llu\n",
		(unsigned long long)tcpmon_counters_recorded(c));
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
