/* tping — per-layer timestamping ping (docs/man/tping.1). */
#include "tping.h"

int main(int argc, char **argv)
{
	return tping_main(argc, argv);
}
