/* commands.h — vmdelay-analyze's subcommands. Each takes argc/argv with argv[0] = its name. */
#ifndef VMDELAY_ANALYZE_COMMANDS_H
#define VMDELAY_ANALYZE_COMMANDS_H

struct analyze_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* The default: per-layer delay analysis of traces (vmdelay-analyze [options] TRACE...).
 * commands is the subcommand table, listed by --help. */
int cmd_delay(int argc, char **argv, const struct analyze_command *commands);

/* vmdelay-analyze compare --db FILE [--by KEYS] ... (cmd_compare.c). */
int cmd_compare(int argc, char **argv);
/* TCP: ACK inter-arrival, compression, throughput timescales, delay CDFs (cmd_tcp.c). */
int cmd_tcp(int argc, char **argv);

#endif
