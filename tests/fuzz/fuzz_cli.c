/* Fuzz harness: the command line (lib/core/cli.c, lib/core/units.c). The input is one argument
 * per line: each is read by every number parser, whose answers must keep their promises (a
 * value in range, finite, never negative where no sign is taken), and the whole vector goes
 * through vd_cli_next, which names refused options from argv. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vmdelay/core/cli.h"
#include "vmdelay/core/units.h"

#define MAX_ARGS 16

static void numbers(const char *a)
{
	long long n;
	double d;
	vd_ns t;
	uint64_t b, c;
	if (vd_units_parse_int(a, -1000, 1000, &n) == 0 && (n < -1000 || n > 1000))
		__builtin_trap();
	if (vd_units_parse_decimal(a, &d) == 0 && (!isfinite(d) || d < 0 || strpbrk(a, "xXnN")))
		__builtin_trap();
	if (vd_units_parse_duration(a, &t) == 0 && t < 0)
		__builtin_trap();
	if (vd_units_parse_rate(a, &d) == 0 && !(d >= 1 && d <= 1e18))
		__builtin_trap();
	if (vd_units_parse_bytes(a, &b) == 0 && (b == 0 || b > (UINT64_C(1) << 50)))
		__builtin_trap();
	if (vd_units_parse_repeat(a, &c, &b) == 0 && (c == 0 || c > 100000000 || b == 0))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct option longopts[] = {
	    {"count", required_argument, NULL, 'c'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"csv", no_argument, NULL, 256},
	    {"json", no_argument, NULL, 257},
	    {"timeout", required_argument, NULL, 258},
	    {"timestamp", no_argument, NULL, 259},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	static FILE *devnull;
	char buf[1024];
	char *argv[MAX_ARGS + 2] = {"prog"};
	int argc = 1;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (size >= sizeof(buf))
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = 0;
	for (char *p = buf, *nl; argc <= MAX_ARGS; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		argv[argc++] = p;
		numbers(p);
		if (!nl)
			break;
	}
	argv[argc] = NULL;
	struct vd_cli cli;
	vd_cli_init(&cli, "prog", "usage\n", argc, argv,
		    size && data[0] == '+' ? "+c:qhV" : "c:qhV", longopts);
	cli.out = cli.err = devnull;
	int c;
	while ((c = vd_cli_next(&cli)) != VD_CLI_END && c != VD_CLI_EXIT)
		if (!cli.opt[0] || cli.opt[0] != '-')
			__builtin_trap();
	return 0;
}
