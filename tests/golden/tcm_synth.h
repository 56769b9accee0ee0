/* tcm_synth.h — synthetic tcpmon record files with known times at every layer, written with
 * lib/tcmrec's writer (unit test test_vantage_tcm, e2e analyze_tcm.sh through gen_tcm.c). */
#ifndef TCM_SYNTH_H
#define TCM_SYNTH_H

#include <stdint.h>
#include <stdio.h>

struct tcm_synth_opts {
	int nprobes;
	int unstable; /* the file says tsc-unstable and the TSCs are garbage: times are real_ns */
	int ipv6;
	int responder; /* the guest answers 10.0.0.1's pings: requests climb dev-rx .. trans-rx,
			* replies descend trans-tx .. dev-tx, no socket-layer records */
	int lose;  /* > 0: probe number `lose`'s receive-side records are lost by tcpmon (a gap in
		    * CPU 1's seqnos, counted in the stats block as the module would) */
	int batch; /* > 0: records blocks of this many probes' records, CPU 0's and CPU 1's taking
		    * turns (else all of CPU 0's, then CPU 1's) */
};

#define TCM_SYNTH_ID 0x1234

/* The true CLOCK_REALTIME ns at which probe k (seq k + 1) passes layer (enum tcpmon_layer). */
int64_t tcm_synth_time(const struct tcm_synth_opts *o, int k, unsigned layer);
/* Writes the file; with truth, one CSV row per probe: seq, then the RTT of each level
 * (dev, ip-route, ip-local, trans, sock-queue, sock-copy). 0, or -1 with a message on stderr. */
int tcm_synth_write(const char *path, const struct tcm_synth_opts *o, FILE *truth);

/* A TCP receive for the aggregation rate (vmdelay-analyze tcp, lib/tcp/tcpagg.c): 10.0.0.1:40000
 * sends to the guest 10.0.0.2:5001 segments of TCM_SYNTH_TCP_MSS bytes from seq
 * TCM_SYNTH_TCP_ISN + 1 on; GRO merged them into npkts packets, packet i carrying segs[i]
 * segments (0: a plain packet, one segment). Each packet has records at dev-rx, ip-pre,
 * ip-local-in, trans-rx and sock-queue (gso_segs = segs[i]), and the guest's pure ACK of it at
 * trans-tx and dev-tx; packet i is on CPU i % 2. 0, or -1 with a message on stderr. */
#define TCM_SYNTH_TCP_SPORT 40000
#define TCM_SYNTH_TCP_DPORT 5001
#define TCM_SYNTH_TCP_MSS 1000
#define TCM_SYNTH_TCP_ISN 1000000u
#define TCM_SYNTH_TCP_ISN_GUEST 7000000u
int tcm_synth_write_tcp(const char *path, const uint16_t *segs, int npkts);
/* The true CLOCK_REALTIME ns of packet i's record at layer. */
int64_t tcm_synth_tcp_time(int i, unsigned layer);

#endif
