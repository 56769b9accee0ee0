/* fuzz_tcm_pull.c — libFuzzer harness for a tcpmon record file read in two passes
 * (lib/input/tcmrec.c: vd_tcmrec_open_meta, the record cursor) and split into levels pulled in
 * time order (lib/input/tcm_pull.c through vd_echo_pull_split / vd_echo_pull_open). The first
 * pass must accept exactly the files the whole parser accepts, with the same record count; the
 * cursor must give the parser's records, in order; every event pulled must come no earlier
 * (time, then record) than the one before it, and a failure must name the file. Corpus:
 * fuzz_tcm_pull.corpus (tcm_synth files in per-CPU batches, with loss, unstable TSC). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmdelay/input/echo_pull.h"
#include "vmdelay/input/tcmrec.h"

static void two_passes(const char *path, const uint8_t *data, size_t size)
{
	struct tcmrec *whole = NULL, *meta = NULL;
	struct vd_tcmrec_cursor *c = NULL;
	struct vd_err err;
	uint64_t n = 0;
	int w = vd_tcmrec_parse(data, size, path, &whole, &err);
	int m = vd_tcmrec_open_meta(path, &meta, &n, &err);
	if ((w == 0) != (m == 0))
		abort(); /* the first pass accepts another set of files than the parser */
	if (m == 0 && (n != vd_tcmrec_count(whole) ||
		       vd_tcmrec_calib_count(meta) != vd_tcmrec_calib_count(whole) ||
		       vd_tcmrec_loss_count(meta) != vd_tcmrec_loss_count(whole)))
		abort();
	if (m == 0 && vd_tcmrec_cursor_open(path, &c, &err) == 0) {
		struct tcpmon_record r;
		size_t i = 0;
		int got;
		while ((got = vd_tcmrec_cursor_next(c, &r, &err)) > 0)
			if (memcmp(&r, vd_tcmrec_get(whole, i++), sizeof(r)))
				abort(); /* not the parser's record */
		if (got < 0 || i != n)
			abort();
		vd_tcmrec_cursor_close(c);
	}
	vd_tcmrec_free(whole);
	vd_tcmrec_free(meta);
}

static void pull_level(const struct vd_vantage_spec *spec)
{
	struct vd_echo_pull *p;
	struct vd_err err;
	struct vd_echo e;
	struct vd_echo_point pt;
	if (vd_echo_pull_open(spec, NULL, &p, &err) != 0)
		return;
	vd_ns last = INT64_MIN;
	uint64_t last_index = 0;
	int rc;
	while ((rc = vd_echo_pull_next(p, &e, &err)) > 0) {
		if (e.ts < last || (e.ts == last && e.index <= last_index))
			abort(); /* out of time order */
		last = e.ts;
		last_index = e.index;
	}
	if (rc < 0 && !strstr(err.msg, spec->path))
		abort(); /* a failure that does not name the file */
	if (rc == 0 && vd_echo_pull_finish(p, &pt, &err) < 0 && !strstr(err.msg, spec->path))
		abort();
	vd_echo_pull_close(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz_tcm_pull.%d.tcm", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	two_passes(path, data, size);
	struct vd_vantage_spec spec = {.name = "g", .path = path}, x[VD_ECHO_PULL_SPLIT_MAX];
	struct vd_err err;
	int n = vd_echo_pull_split(&spec, x, &err);
	for (int i = 0; i < n; i++) {
		pull_level(&x[i]);
		vd_vantage_spec_free(&x[i]);
	}
	/* one level asked for directly, as FILE#trans-tx */
	snprintf(spec.select, sizeof(spec.select), "trans-tx");
	pull_level(&spec);
	return 0;
}
