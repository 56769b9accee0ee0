/* bpf_metrics.h — what a Prometheus scrape (prom.h) gets while the bpf backend records: the live
 * per-layer delay histograms, then the programs' counters and the reader's, read at that moment. */
#ifndef TCPMON_BPF_METRICS_H
#define TCPMON_BPF_METRICS_H

#include <stdio.h>

#include "bpf_reader.h"

struct tcpmon_bpf_scrape {
	struct tcpmon_reader *rd;
	int counters_fd;
};

/* A tcpmon_prom_body: ctx is a struct tcpmon_bpf_scrape. */
void tcpmon_bpf_metrics(FILE *f, void *ctx);

#endif
