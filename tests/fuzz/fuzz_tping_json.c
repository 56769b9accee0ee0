/* fuzz_tping_json.c — libFuzzer harness for one tping JSON line parsed with jansson
 * (lib/input/tping_json.c: vd_tping_json_line), and for the JSON writer (lib/out/json.c)
 * writing back what was read, whose output jansson must accept. Corpus: fuzz_tping_json.corpus. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "input/tping_json.h"
#include "vmdelay/out/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vd_probe p;
	if (vd_tping_json_line((const char *)data, size, &p) <= 0)
		return 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return 0;
	struct vd_json j;
	vd_json_init(&j, f);
	vd_json_begin_object(&j, (enum vd_json_layout)(size % 3));
	vd_json_key(&j, "seq");
	vd_json_uint(&j, p.seq);
	vd_json_key(&j, "phase");
	vd_json_str(&j, (int)p.phase < 0 ? NULL : vd_phase_name(p.phase));
	vd_json_key(&j, "user_tx_ns");
	vd_json_int(&j, p.user_tx);
	vd_json_key(&j, "x");
	vd_json_dbl(&j, (double)p.user_rx / 7, (int)(size % 5) - 1);
	vd_json_end_object(&j);
	fclose(f);
	json_error_t jerr;
	json_t *back = json_loadb(buf, len, 0, &jerr);
	if (!back)
		abort(); /* the writer wrote something that is not JSON */
	json_decref(back);
	free(buf);
	return 0;
}
