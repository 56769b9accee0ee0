/* options.h — tping's command line (iputils ping's options plus phases, load and outputs). */
#ifndef TPING_OPTIONS_H
#define TPING_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "vmdelay/core/cli.h"
#include "vmdelay/out/output.h"
#include "vmdelay/core/vdtime.h"
#include "vmdelay/store/run_meta.h"

/* iputils refuses intervals below 2 ms to users who are not root. */
#define TPING_MIN_USER_INTERVAL (2 * VD_NS_PER_MS)

struct tping_opts {
	const char *target;
	int family;	   /* AF_UNSPEC (-4/-6 not given), AF_INET, AF_INET6 */
	long count;	   /* probes of the main phase (-c) */
	vd_ns interval;	   /* -i */
	size_t size;	   /* payload bytes (-s) */
	vd_ns timeout;	   /* reply timeout (-W) */
	vd_ns deadline;	   /* whole run (-w), 0: none */
	const char *iface; /* -I: interface name or source address */
	int quiet;	   /* -q */
	int print_time;	   /* -D */
	long rest;	   /* --rest: probes at rest before and after the main phase */
	const char *load;  /* --load: shell command run during the main phase */
	int machine;	   /* --csv or --json given */
	enum vd_out_mode out_mode;
	const char *out_path;	  /* -o, NULL: stdout */
	const char *db;		  /* --db */
	const char *testbed;	  /* --testbed */
	const char *label;	  /* --label */
	const char *scenario;	  /* --scenario */
	struct vd_meta_list meta; /* --meta KEY=VALUE, repeatable */
	int no_tstamp;	    /* --no-timestamps: plain sockets, to measure what stamping costs */
	vd_ns tx_wait;	    /* --tx-wait: how long to wait for TX timestamps after a reply */
	char *command_line; /* argv joined by spaces (malloc'd) */
};

enum { TPING_OPTS_RUN = 0, TPING_OPTS_EXIT = 1 };

/* Parses argv through cli (which it initializes). privileged: the caller may use intervals
 * below TPING_MIN_USER_INTERVAL. Returns TPING_OPTS_RUN, or TPING_OPTS_EXIT when tping should
 * exit with cli->status: --help or --version printed (0), a usage error naming the option at
 * fault printed and kept in cli->msg (2). Free o with tping_options_free in both cases. */
int tping_options_parse(struct vd_cli *cli, int argc, char **argv, int privileged,
			struct tping_opts *o);
void tping_options_free(struct tping_opts *o);

#endif
