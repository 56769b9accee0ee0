/* Fuzz harness: tcpmon record files (lib/input/tcmrec.c) — parse, convert every TSC, dump as CSV. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmdelay/input/tcmrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct tcmrec *rd;
	struct vd_err err;

	if (!null)
		null = fopen("/dev/null", "w");
	if (vd_tcmrec_parse(data, size, "fuzz", &rd, &err))
		return 0;
	struct vd_out *o = vd_out_create(null, VD_OUT_CSV);
	if (o) {
		vd_tcmrec_dump_info(rd, o);
		vd_out_destroy(o);
	}
	o = vd_out_create(null, VD_OUT_JSON);
	if (o) {
		vd_tcmrec_dump(rd, o);
		vd_out_destroy(o);
	}
	vd_tcmrec_free(rd);
	return 0;
}
