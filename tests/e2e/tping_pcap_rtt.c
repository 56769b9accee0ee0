/* tping_pcap_rtt — test helper: reads a nanosecond pcap (Ethernet) and prints, for each ICMP
 * or ICMPv6 echo request with identifier ID that has a reply, "seq rtt_ns" (reply time -
 * request time). Built by the e2e scripts with cc -lpcap; an independent check of tping's
 * kernel RTTs. */
#include <stdlib.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAXSEQ 65536

static int64_t req_ts[MAXSEQ];
static int have_req[MAXSEQ];

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	if (argc != 3) {
		fprintf(stderr, "usage: tping_pcap_rtt FILE.pcap ID\n");
		return 2;
	}
	unsigned long want_id = strtoul(argv[2], NULL, 0);
	pcap_t *p =
	    pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		fprintf(stderr, "%s: %s\n", argv[1], errbuf);
		return 1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "%s: not Ethernet\n", argv[1]);
		return 1;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		int64_t ts = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec; /* ns precision */
		if (h->caplen < 14)
			continue;
		uint16_t et = (uint16_t)(d[12] << 8 | d[13]);
		const u_char *ic;
		size_t left;
		int req, rep;
		if (et == 0x0800 && h->caplen >= 14 + 20 && d[14 + 9] == 1) {
			size_t hl = (size_t)(d[14] & 15) * 4;
			if (h->caplen < 14 + hl + 8)
				continue;
			ic = d + 14 + hl;
			left = h->caplen - 14 - hl;
			req = ic[0] == 8;
			rep = ic[0] == 0;
		} else if (et == 0x86dd && h->caplen >= 14 + 40 + 8 && d[14 + 6] == 58) {
			ic = d + 14 + 40;
			left = h->caplen - 14 - 40;
			req = ic[0] == 128;
			rep = ic[0] == 129;
		} else {
			continue;
		}
		(void)left;
		if ((uint16_t)(ic[4] << 8 | ic[5]) != want_id)
			continue; /* another pinger's (iputils ping runs beside tping) */
		uint16_t seq = (uint16_t)(ic[6] << 8 | ic[7]);
		if (req) {
			req_ts[seq] = ts;
			have_req[seq] = 1;
		} else if (rep && have_req[seq]) {
			printf("%u %lld\n", seq, (long long)(ts - req_ts[seq]));
			have_req[seq] = 0;
		}
	}
	pcap_close(p);
	return rc == -2 ? 0 : 1;
}
