/* fuzz_tping_pull.c — libFuzzer harness for a tping CSV file split into its vantage points and
 * each point pulled in time order (lib/input/echo_pull.c: vd_echo_pull_split,
 * lib/input/tping_pull.c: the sorted runs): the input is the rows after tping's header; every
 * event pulled must come no earlier than the one before it, and a point ends, or gives way
 * naming the file. Corpus: fuzz_tping_pull.corpus. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmdelay/input/echo_pull.h"

static void pull_point(const struct vd_vantage_spec *spec)
{
	struct vd_echo_pull *p;
	struct vd_err err;
	struct vd_echo e;
	struct vd_echo_point pt;
	if (vd_echo_pull_open(spec, NULL, &p, &err) != 0)
		return;
	vd_ns last = INT64_MIN;
	int rc;
	while ((rc = vd_echo_pull_next(p, &e, &err)) > 0) {
		if (e.ts < last)
			abort(); /* out of time order */
		last = e.ts;
	}
	if (rc < 0 && !strstr(err.msg, spec->path))
		abort(); /* a failure that does not name the file */
	if (rc == 0)
		vd_echo_pull_finish(p, &pt, &err);
	vd_echo_pull_close(p);
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
	struct vd_vantage_spec spec = {.path = path}, x[VD_ECHO_PULL_SPLIT_MAX];
	struct vd_err err;
	int n = vd_echo_pull_split(&spec, x, &err);
	for (int i = 0; i < n; i++) {
		pull_point(&x[i]);
		vd_vantage_spec_free(&x[i]);
	}
	unlink(path);
	return 0;
}
