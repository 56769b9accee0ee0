/* fuzz_erf.c — libFuzzer harness for the ERF reader (lib/input/erf.c), every packet then
 * through the decoder. The format is forced, so inputs need not keep a valid magic. */
#include "fuzz_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_trace(data, size, "erf");
}
