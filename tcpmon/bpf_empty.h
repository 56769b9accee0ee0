/* bpf_empty.h — `tcpmon bench-empty-bpf [LAYER,LAYER...]` (not in the usage: for
 * tests/bench/tcpmon_bpf.sh): the programs of tcpmon/bpf/empty.bpf.c, which only read the clock,
 * attached where tcpmon's own programs attach (those of the layers given, default all), until
 * SIGINT or SIGTERM. Their run_time_ns/run_cnt is the floor the bench
 * compares tcpmon's cost per event with. */
#ifndef TCPMON_BPF_EMPTY_H
#define TCPMON_BPF_EMPTY_H

/* layers: names joined by commas as in `layers LIST`, or NULL for all. Returns an exit code. */
int tcpmon_cmd_bench_empty_bpf(const char *layers);

#endif
