/* gen_tcpagg.c — the aggregation-rate test data of tests/e2e/tcp_agg.sh: a tcpmon record file
 * (tests/golden/tcm_synth.c) where GRO delivered N packets of one flow to TCP (trans-rx) with
 * known gso_segs, and a pcap of the same flow at the tap with its M wire data segments (plus
 * the handshake and the guest's ACKs), written with libpcap's pcap_dump. Prints "M N WIRE
 * MAXSEGS". usage: gen_tcpagg OUT.tcm OUT.pcap | gen_tcpagg --icmp OUT.tcm (no TCP record) */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "tcm_synth.h"

/* GRO's work: packet i carried segs[i] wire segments (0: a plain packet) */
static const uint16_t segs[] = {0, 2, 4, 8, 5, 6, 4, 1};
#define NPKTS ((int)(sizeof(segs) / sizeof(segs[0])))

static const uint8_t peer[4] = {10, 0, 0, 1}, guest[4] = {10, 0, 0, 2};

/* One Ethernet/IPv4/TCP frame from (to_guest ? peer : guest), payload len zero bytes. */
static void frame(pcap_dumper_t *d, long long t_us, int to_guest, uint32_t seq, uint32_t ack,
		  uint8_t flags, uint16_t len, uint16_t ipid)
{
	uint8_t b[14 + 20 + 20 + TCM_SYNTH_TCP_MSS];
	memset(b, 0, sizeof(b));
	memcpy(b, to_guest ? "\x02\0\0\0\0\x02" : "\x02\0\0\0\0\x01", 6);
	memcpy(b + 6, to_guest ? "\x02\0\0\0\0\x01" : "\x02\0\0\0\0\x02", 6);
	b[12] = 0x08;
	uint8_t *ip = b + 14, *tcp = ip + 20;
	ip[0] = 0x45;
	uint16_t tot = htons((uint16_t)(40 + len)), id = htons(ipid);
	memcpy(ip + 2, &tot, 2);
	memcpy(ip + 4, &id, 2);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, to_guest ? peer : guest, 4);
	memcpy(ip + 16, to_guest ? guest : peer, 4);
	uint16_t sp = htons(to_guest ? TCM_SYNTH_TCP_SPORT : TCM_SYNTH_TCP_DPORT);
	uint16_t dp = htons(to_guest ? TCM_SYNTH_TCP_DPORT : TCM_SYNTH_TCP_SPORT);
	uint32_t s = htonl(seq), a = htonl(ack);
	uint16_t win = htons(512);
	memcpy(tcp, &sp, 2);
	memcpy(tcp + 2, &dp, 2);
	memcpy(tcp + 4, &s, 4);
	memcpy(tcp + 8, &a, 4);
	tcp[12] = 0x50;
	tcp[13] = flags;
	memcpy(tcp + 14, &win, 2);
	struct pcap_pkthdr h = {.caplen = 54u + len, .len = 54u + len};
	h.ts.tv_sec = t_us / 1000000;
	h.ts.tv_usec = t_us % 1000000;
	pcap_dump((u_char *)d, &h, b);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--icmp") == 0) {
		struct tcm_synth_opts o = {.nprobes = 5};
		return tcm_synth_write(argv[2], &o, NULL) < 0 ? 1 : 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: gen_tcpagg OUT.tcm OUT.pcap | gen_tcpagg --icmp OUT.tcm\n");
		return 2;
	}
	if (tcm_synth_write_tcp(argv[1], segs, NPKTS) < 0)
		return 1;
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = p ? pcap_dump_open(p, argv[2]) : NULL;
	if (!d) {
		fprintf(stderr, "%s: %s\n", argv[2], p ? pcap_geterr(p) : "pcap_open_dead");
		return 1;
	}
	/* the tap, on the host's clock: half a second before the guest's records */
	long long t = 1700001000500000LL;
	uint32_t cs = TCM_SYNTH_TCP_ISN, gs = TCM_SYNTH_TCP_ISN_GUEST;
	uint16_t id = 1;
	frame(d, t, 1, cs, 0, 0x02, 0, id++);
	frame(d, t += 50, 0, gs, cs + 1, 0x12, 0, id++);
	frame(d, t += 50, 1, cs + 1, gs + 1, 0x10, 0, id++);
	uint32_t seq = cs + 1;
	int m = 0, wire = 0, maxs = 0;
	for (int i = 0; i < NPKTS; i++) {
		int n = segs[i] > 1 ? segs[i] : 1;
		for (int k = 0; k < n; k++, m++) {
			frame(d, t += 10, 1, seq, gs + 1, 0x10, TCM_SYNTH_TCP_MSS, id++);
			seq += TCM_SYNTH_TCP_MSS;
		}
		frame(d, t += 30, 0, gs + 1, seq, 0x10, 0, id++); /* the guest's ACK */
		wire += n;
		maxs = n > maxs ? n : maxs;
	}
	pcap_dump_close(d);
	pcap_close(p);
	printf("%d %d %d %d\n", m, NPKTS, wire, maxs);
	return 0;
}
