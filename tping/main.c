/* tping — per-layer timestamping ping (docs/man/tping.1). */
#include "tping.h"
#include "vmdelay/core/cli.h"

int main(int argc, char **argv)
{
	return vd_cli_exit("tping", tping_main(argc, argv));
}
