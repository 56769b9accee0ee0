/* fuzz_pcapng.c — libFuzzer harness for the pcapng block reader (lib/input/pcapng.c), every packet
 * then through the decoder. The format is forced, so inputs need not keep a valid magic. */
#include "fuzz_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_trace(data, size, "pcapng");
}
