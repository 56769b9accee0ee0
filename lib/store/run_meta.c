/* run_meta.c — parsing the --meta KEY=VALUE labels of a stored run. */
#include "vmdelay/store/run_meta.h"

#include <string.h>

int vd_meta_key_valid(const char *key, size_t len)
{
	if (len == 0 || len >= VD_META_KEY_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int vd_meta_list_add(struct vd_meta_list *list, const char *arg, struct vd_err *err)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		return vd_err_set(err, "--meta: expected KEY=VALUE, got '%s'", arg);
	size_t len = (size_t)(eq - arg);
	if (!vd_meta_key_valid(arg, len))
		return vd_err_set(
		    err, "--meta: bad key '%.*s' (1 to %d letters, digits, '.', '_' or '-')",
		    (int)len, arg, VD_META_KEY_MAX - 1);
	for (size_t i = 0; i < list->n; i++)
		if (strlen(list->item[i].key) == len && memcmp(list->item[i].key, arg, len) == 0)
			return vd_err_set(err, "--meta: key '%.*s' given twice", (int)len, arg);
	if (list->n == VD_META_MAX)
		return vd_err_set(err, "--meta: at most %d keys", VD_META_MAX);
	struct vd_meta *m = &list->item[list->n++];
	memcpy(m->key, arg, len);
	m->key[len] = '\0';
	m->value = eq + 1;
	return 0;
}

int vd_meta_labels_need_db(struct vd_cli *cli, const char *testbed, const char *label,
			   const char *scenario, const struct vd_meta_list *meta, int have_db)
{
	if (vd_cli_needs(cli, "--testbed", testbed != NULL, "--db", have_db) ||
	    vd_cli_needs(cli, "--label", label != NULL, "--db", have_db) ||
	    vd_cli_needs(cli, "--scenario", scenario != NULL, "--db", have_db) ||
	    vd_cli_needs(cli, "--meta", meta->n != 0, "--db", have_db))
		return -1;
	return 0;
}
