/* fuzz_tping_pull.c — libFuzzer harness for a tping CSV file split into its vantage points and
 * its points pulled side by side from one shared reading (lib/input/echo_pull.c:
 * vd_echo_pull_specs, lib/input/tping_split.c, lib/input/tping_pull.c: the reading of the rows
 * and each point's sorted runs): the input is the rows after tping's header; every event a point
 * gives must come no earlier than its one before, and a point ends, or gives way naming the file;
 * then a second pass reads the file again for every point alone, and a point that ended side by
 * side without a failure must have given the events it gives alone (a point taken as finished
 * early, its timestamps stopping, may not lose any). Corpus: fuzz_tping_pull.corpus. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmdelay/input/echo_pull.h"

struct point {
	struct vd_echo_pull *p;
	vd_ns last;
	int more;
	int failed;
	uint64_t sum; /* of the events given, in order */
};

/* One event of pt, checked: 1, 0 at its end. */
static int pull_one(struct point *pt, const char *path)
{
	struct vd_err err;
	struct vd_echo e;
	struct vd_echo_point out;
	int rc = vd_echo_pull_next(pt->p, &e, &err);
	if (rc > 0) {
		if (e.ts < pt->last)
			abort(); /* out of time order */
		pt->last = e.ts;
		uint64_t v[] = {(uint64_t)e.ts, e.kind, e.seq, (uint64_t)(int64_t)e.phase, e.index};
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			pt->sum = (pt->sum ^ v[i]) * 0x100000001b3ULL;
		return 1;
	}
	if (rc < 0 && !strstr(err.msg, path))
		abort(); /* a failure that does not name the file */
	pt->failed = rc < 0;
	if (rc == 0)
		vd_echo_pull_finish(pt->p, &out, &err);
	return 0;
}

/* Points x[0..n) opened together, pulled in turn (side by side: lockstep=1) or each to its end
 * before the next opens, into pt[0..n). */
static void pull_points(const struct vd_vantage_spec *x, size_t n, struct vd_tping_split *split,
			int lockstep, struct point pt[VD_ECHO_PULL_SPLIT_MAX])
{
	struct vd_echo_read_opts o = {.tping_split = split};
	struct vd_err err;
	memset(pt, 0, VD_ECHO_PULL_SPLIT_MAX * sizeof(*pt));
	for (size_t i = 0; i < n; i++) {
		pt[i].last = INT64_MIN;
		if (!lockstep) {
			if (vd_echo_pull_open(&x[i], &o, &pt[i].p, &err) == 0)
				while (pull_one(&pt[i], x[i].path))
					;
			vd_echo_pull_close(pt[i].p);
			continue;
		}
		pt[i].more = vd_echo_pull_open(&x[i], &o, &pt[i].p, &err) == 0;
	}
	for (int any = lockstep; any;) {
		any = 0;
		for (size_t i = 0; i < n; i++)
			if (pt[i].more)
				any |= pt[i].more = pull_one(&pt[i], x[i].path);
	}
	for (size_t i = 0; lockstep && i < n; i++)
		vd_echo_pull_close(pt[i].p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz_tping_pull.%d.csv", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fputs(
	    "seq,phase,status,user_tx_ns,kernel_tx_ns,hw_tx_ns,kernel_rx_ns,hw_rx_ns,user_rx_ns\n",
	    f);
	fwrite(data, 1, size, f);
	fclose(f);
	struct vd_vantage_spec spec = {.path = path}, *x;
	struct vd_tping_split *split;
	struct vd_err err;
	size_t n;
	if (vd_echo_pull_specs(&spec, 1, &x, &n, &split, NULL, &err) == 0) {
		struct point side[VD_ECHO_PULL_SPLIT_MAX], alone[VD_ECHO_PULL_SPLIT_MAX];
		pull_points(x, n, split, 1, side);
		pull_points(x, n, split, 0, alone);
		int failed = 0;
		for (size_t i = 0; i < n; i++)
			failed |= side[i].failed;
		for (size_t i = 0; i < n && !failed; i++)
			if (!alone[i].failed && side[i].sum != alone[i].sum)
				abort(); /* a point gave other events side by side than alone */
		for (size_t i = 0; i < n; i++)
			vd_vantage_spec_free(&x[i]);
		free(x);
		vd_echo_pull_specs_free(split, NULL);
	}
	unlink(path);
	return 0;
}
