/* fuzz_run_meta.c — libFuzzer harness for the run-label parsers of the store: --meta KEY=VALUE
 * (lib/store/run_meta.c) and compare's --by KEYS (lib/store/compare.c). The input is split at
 * newlines into arguments, each NUL-terminated in a buffer of exactly its size; every accepted
 * --meta must give back its key and value, every accepted --by a valid key list. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/store/compare.h"
#include "vmdelay/store/run_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vd_meta_list list;
	list.n = 0;
	char *args[VD_META_MAX + 8];
	size_t nargs = 0;
	const uint8_t *p = data, *end = data + size;
	while (p < end && nargs < sizeof(args) / sizeof(args[0])) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *a = malloc(len + 1);
		if (!a)
			break;
		memcpy(a, p, len);
		a[len] = '\0';
		args[nargs++] = a;
		p += len + (nl ? 1 : 0);
	}
	struct vd_err err;
	for (size_t i = 0; i < nargs; i++) {
		size_t before = list.n;
		if (vd_meta_list_add(&list, args[i], &err) == 0) {
			const struct vd_meta *m = &list.item[before];
			size_t klen = strlen(m->key);
			if (list.n != before + 1 || !vd_meta_key_valid(m->key, klen) ||
			    strncmp(args[i], m->key, klen) != 0 || args[i][klen] != '=' ||
			    m->value != args[i] + klen + 1)
				abort();
		} else if (list.n != before || !err.msg[0]) {
			abort();
		}
		struct vd_compare_opts opts = {0};
		if (vd_compare_parse_by(args[i], &opts, &err) == 0) {
			if (opts.nby == 0 || opts.nby > VD_COMPARE_MAX_BY)
				abort();
			for (size_t k = 0; k < opts.nby; k++)
				if (strlen(vd_compare_by_name(&opts, k)) == 0)
					abort();
		}
	}
	for (size_t i = 0; i < nargs; i++)
		free(args[i]);
	return 0;
}
