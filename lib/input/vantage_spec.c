/* vantage_spec.c — NAME[:CLOCK]=PATH[#SELECT] arguments and interface labels
 * (vantage_spec.h). */
#include "vmdelay/input/vantage_spec.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int name_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '+';
}

static int valid_label(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!name_char((unsigned char)s[i]))
			return 0;
	return 1;
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* The file's base name without directories and without its last extension. */
void vd_vantage_name_from_path(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!*base)
		base = path;
	snprintf(out, len, "%s", base);
	char *dot = strrchr(out, '.');
	if (dot && dot != out)
		*dot = '\0';
}

int vd_vantage_spec_parse(const char *arg, struct vd_vantage_spec *spec, struct vd_err *err)
{
	memset(spec, 0, sizeof(*spec));
	if (!arg || !*arg)
		return vd_err_set(err, "empty vantage point");
	const char *path = arg;
	if (!file_exists(arg)) {
		const char *eq = strchr(arg, '=');
		/* "dir/x.db#run=3": an '=' after a '/' or '#' belongs to the path or selector */
		if (eq &&
		    (memchr(arg, '/', (size_t)(eq - arg)) || memchr(arg, '#', (size_t)(eq - arg))))
			eq = NULL;
		if (eq) {
			const char *colon = memchr(arg, ':', (size_t)(eq - arg));
			size_t nlen = colon ? (size_t)(colon - arg) : (size_t)(eq - arg);
			if (!valid_label(arg, nlen))
				return vd_err_set(
				    err,
				    "bad vantage point '%s': NAME must be letters, digits, "
				    "'_', '.', '-' or '+' (NAME[:CLOCK]=PATH[#IFACE])",
				    arg);
			if (nlen >= sizeof(spec->name))
				return vd_err_set(err, "bad vantage point '%s': NAME too long",
						  arg);
			memcpy(spec->name, arg, nlen);
			if (colon) {
				size_t clen = (size_t)(eq - colon - 1);
				if (!valid_label(colon + 1, clen) || clen >= sizeof(spec->clock))
					return vd_err_set(
					    err,
					    "bad vantage point '%s': CLOCK must be letters, "
					    "digits, '_', '.', '-' or '+'",
					    arg);
				memcpy(spec->clock, colon + 1, clen);
			}
			path = eq + 1;
			if (!*path)
				return vd_err_set(err, "bad vantage point '%s': no PATH after '='",
						  arg);
		}
	}
	spec->path = strdup(path);
	if (!spec->path)
		return vd_err_set(err, "out of memory");
	/* '#SELECT' only when the whole thing is not itself a file. */
	char *hash = strrchr(spec->path, '#');
	if (hash && !file_exists(spec->path)) {
		if (strlen(hash + 1) >= sizeof(spec->select) || !hash[1] || hash == spec->path) {
			vd_err_set(err, "bad vantage point '%s': empty or too long PATH or #SELECT",
				   arg);
			vd_vantage_spec_free(spec);
			return -1;
		}
		snprintf(spec->select, sizeof(spec->select), "%s", hash + 1);
		*hash = '\0';
	}
	return 0;
}

void vd_vantage_spec_free(struct vd_vantage_spec *spec)
{
	free(spec->path);
	spec->path = NULL;
}

void vd_vantage_spec_name(const struct vd_vantage_spec *spec, char *out, size_t len)
{
	if (spec->name[0])
		snprintf(out, len, "%s", spec->name);
	else
		vd_vantage_name_from_path(spec->path, out, len);
}

void vd_iface_label(const char *iface_name, uint32_t iface, char *buf, size_t len)
{
	if (iface_name && *iface_name)
		snprintf(buf, len, "%s", iface_name);
	else
		snprintf(buf, len, "if%" PRIu32, iface);
}

/* "N" (digits only) as a number; -1 for anything else. */
static int64_t iface_number(const char *s)
{
	if (!*s || strlen(s) > 10)
		return -1;
	int64_t n = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n;
}

int vd_iface_selected(const char *select, const char *iface_name, uint32_t iface)
{
	if (!*select || strcmp(select, "*") == 0)
		return 1;
	char label[VD_VANTAGE_NAME_MAX];
	vd_iface_label(iface_name, iface, label, sizeof(label));
	if (strcmp(select, label) == 0)
		return 1;
	/* "3" and "if3" both name interface 3, named or not: the two spellings the delay and tcp
	 * commands accepted before they shared this function. */
	int64_t n = iface_number(strncmp(select, "if", 2) == 0 ? select + 2 : select);
	return n >= 0 && (uint64_t)n == iface;
}
