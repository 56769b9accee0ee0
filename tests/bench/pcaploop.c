/* pcaploop.c — the benchmark's baseline: a bare libpcap read loop over a trace (every record
 * read, nothing decoded).   usage: pcaploop TRACE */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char eb[PCAP_ERRBUF_SIZE];
	if (argc != 2)
		return 2;
	pcap_t *p = pcap_open_offline(argv[1], eb);
	if (!p)
		return fprintf(stderr, "pcaploop: %s\n", eb), 1;
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned long long n = 0, bytes = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		n++;
		bytes += h->caplen;
	}
	pcap_close(p);
	printf("%llu packets %llu bytes\n", n, bytes);
	return 0;
}
