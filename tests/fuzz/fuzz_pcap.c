/* fuzz_pcap.c — libFuzzer harness for the classic pcap path (lib/input/pcapsrc.c: our read window
 * for version 2.4, libpcap otherwise) through fmemopen, every packet then through the decoder. The
 * format is forced, so inputs need not keep a valid magic. */
#include "fuzz_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_trace(data, size, "pcap");
}
