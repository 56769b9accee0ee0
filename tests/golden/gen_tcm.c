/* gen_tcm.c — writes a synthetic tcpmon record file and its truth (tests/golden/tcm_synth.c) for
 * tests/e2e/analyze_tcm*.sh. usage: gen_tcm FILE.tcm NPROBES [unstable|ipv6|batch=N|lose=K]
 * > truth.csv (batch=N: blocks of N probes' records, the two CPUs taking turns; lose=K: probe
 * K's receive records lost by tcpmon; seqs wrap past 65535 probes) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcm_synth.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: gen_tcm FILE NPROBES [unstable|ipv6|batch=N|lose=K]\n");
		return 2;
	}
	struct tcm_synth_opts o = {.nprobes = atoi(argv[2])};
	for (int i = 3; i < argc; i++) {
		o.unstable |= strcmp(argv[i], "unstable") == 0;
		o.ipv6 |= strcmp(argv[i], "ipv6") == 0;
		if (strncmp(argv[i], "batch=", 6) == 0)
			o.batch = atoi(argv[i] + 6);
		if (strncmp(argv[i], "lose=", 5) == 0)
			o.lose = atoi(argv[i] + 5);
	}
	if (o.nprobes < 1 || o.nprobes > 1000000)
		return 2;
	printf("seq,dev,ip-route,ip-local,trans,sock-queue,sock-copy\n");
	return tcm_synth_write(argv[1], &o, stdout) < 0 ? 1 : 0;
}
