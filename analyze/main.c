/* vmdelay-analyze — entry point: dispatches to a subcommand (first argument) or runs the
 * default per-layer delay analysis of the traces given. Each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "vmdelay/core/cli.h"

static const struct analyze_command commands[] = {
    /* { "name", cmd_function, "one-line summary" }, — keep sorted by name */
    {"compare", cmd_compare, "per-layer results of stored runs side by side across testbeds"},
    {"tcp", cmd_tcp, "ACK inter-arrival and compression, throughput timescales, TCP delay"},
    {NULL, NULL, NULL},
};

static int run(int argc, char **argv)
{
	if (argc > 1) {
		for (const struct analyze_command *c = commands; c->name; c++)
			if (strcmp(argv[1], c->name) == 0)
				return c->run(argc - 1, argv + 1);
	}
	return cmd_delay(argc, argv, commands);
}

int main(int argc, char **argv)
{
	return vd_cli_exit("vmdelay-analyze", run(argc, argv));
}
