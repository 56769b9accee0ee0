/* Fuzz harness: tcpmon record files (lib/input/tcmrec.c) — parse, convert every TSC, dump as CSV,
 * and the loss windows a reader derives from them (lib/input/tcm_loss.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "input/tcm_loss.h"
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
	o = vd_out_create(null, VD_OUT_CSV);
	if (o) {
		vd_tcmrec_dump_loss(rd, o);
		vd_out_destroy(o);
	}
	struct vd_tcm_loss loss;
	if (vd_tcm_loss_init(&loss, rd, &err) == 0) {
		for (size_t i = 0; i < vd_tcmrec_count(rd); i++)
			(void)vd_tcm_loss_covers(&loss, vd_tcmrec_get(rd, i)->mono_ns);
		vd_tcm_loss_free(&loss);
	}
	vd_tcmrec_free(rd);
	return 0;
}
