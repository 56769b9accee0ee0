/* cmd_delay.c — placeholder until the per-layer analysis lands (issue 3). */
#include <stdio.h>

#include "commands.h"
#include "vmdelay/err.h"

int cmd_delay(int argc, char **argv, const struct analyze_command *commands)
{
	(void)argc;
	(void)commands;
	fprintf(stderr, "%s: the per-layer analysis is not built yet\n", argv[0]);
	return VD_EXIT_RUNTIME;
}
