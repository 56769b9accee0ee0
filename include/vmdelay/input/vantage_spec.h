/* vantage_spec.h — a vantage point as the command line names it: NAME[:CLOCK]=PATH[#SELECT]
 * (docs/formats/analyze.md), and the label of a trace's interface that #SELECT and the
 * per-interface vantage points use, the same in every command. */
#ifndef VMDELAY_INPUT_VANTAGE_SPEC_H
#define VMDELAY_INPUT_VANTAGE_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"

#define VD_VANTAGE_NAME_MAX 96
#define VD_VANTAGE_CLOCK_MAX 64
#define VD_VANTAGE_SELECT_MAX 64

/* A parsed NAME[:CLOCK]=PATH[#SELECT] argument. */
struct vd_vantage_spec {
	char name[VD_VANTAGE_NAME_MAX]; /* "" for a bare path: named after the file */
	char
	    clock[VD_VANTAGE_CLOCK_MAX]; /* "" is the default clock every unlabelled point shares */
	char *path;			 /* malloc'd */
	char select[VD_VANTAGE_SELECT_MAX]; /* after '#': see vd_echo_read / the tcp command */
};

/* Parses arg. A bare path (no NAME=) takes its name from the file (basename without its
 * extension). If arg names an existing file, it is a bare path even if it holds '=' or '#'.
 * NAME and CLOCK are [A-Za-z0-9_.+-]+. Returns 0, or -1 with a message quoting arg.
 * Free with vd_vantage_spec_free. */
int vd_vantage_spec_parse(const char *arg, struct vd_vantage_spec *spec, struct vd_err *err);
void vd_vantage_spec_free(struct vd_vantage_spec *spec);

/* The name of a bare path's vantage point: the file name without directory and extension. */
void vd_vantage_name_from_path(const char *path, char *out, size_t len);
/* spec's name, or the file's when spec has none. */
void vd_vantage_spec_name(const struct vd_vantage_spec *spec, char *out, size_t len);

/* The label of a trace interface: its name (pcapng if_name, ERF "port0"), else "ifN". */
void vd_iface_label(const char *iface_name, uint32_t iface, char *buf, size_t len);

/* Does #SELECT pick interface iface (named iface_name, NULL if none)? "" and "*" pick every
 * interface; otherwise the interface's label, its number N, or "ifN". */
int vd_iface_selected(const char *select, const char *iface_name, uint32_t iface);

#endif
