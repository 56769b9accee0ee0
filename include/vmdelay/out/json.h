/* json.h — the one JSON writer of every tool: a streaming writer on a FILE that keeps track of
 * nesting and separators, so no caller writes a brace, comma or quote itself. Each container
 * has a layout, which keeps the tools' output as it always was:
 *   VD_JSON_COMPACT  {"a":1,"b":2}                      (JSON lines)
 *   VD_JSON_SPACED   {"a": 1, "b": 2}                   (one line, readable)
 *   VD_JSON_LINES    every member on its own line, indented two spaces per level
 * Numbers: integers as they are; doubles with a fixed number of decimals ("%.*f") or, with
 * decimals < 0, as "%g"; NaN and infinities are null. */
#ifndef VMDELAY_OUT_JSON_H
#define VMDELAY_OUT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmdelay/core/vdtime.h"

enum vd_json_layout { VD_JSON_COMPACT, VD_JSON_SPACED, VD_JSON_LINES };

#define VD_JSON_MAX_DEPTH 16

struct vd_json {
	FILE *f;
	int depth;     /* open containers */
	int after_key; /* a key was written: the value follows without a separator */
	int overflow;  /* containers nested deeper than VD_JSON_MAX_DEPTH (a caller's bug) */
	struct {
		uint8_t layout;
		size_t members;
	} level[VD_JSON_MAX_DEPTH];
};

void vd_json_init(struct vd_json *j, FILE *f);

void vd_json_begin_object(struct vd_json *j, enum vd_json_layout layout);
void vd_json_end_object(struct vd_json *j);
void vd_json_begin_array(struct vd_json *j, enum vd_json_layout layout);
void vd_json_end_array(struct vd_json *j);

/* The key of the next member of the current object. */
void vd_json_key(struct vd_json *j, const char *key);

void vd_json_str(struct vd_json *j, const char *s); /* NULL: null */
void vd_json_int(struct vd_json *j, int64_t v);
void vd_json_uint(struct vd_json *j, uint64_t v);
void vd_json_dbl(struct vd_json *j, double v, int decimals);
void vd_json_bool(struct vd_json *j, int v);
void vd_json_null(struct vd_json *j);
void vd_json_ns(struct vd_json *j, vd_ns v); /* an integer, null when not valid (VD_NS_NONE) */

/* A key fixed when compiling, quoted and measured by the compiler: VD_JSON_LIT("bytes") (a
 * string literal only; one that needs an escape, '"', '\\' or a control character, is a
 * caller's bug, caught by an assertion in sanitizer builds). For the members of rows written
 * millions of times (a report of 65,535 flows): copied as it is, not scanned for escapes. */
struct vd_json_lit {
	const char *quoted; /* "\"bytes\"" */
	size_t len;	    /* its length, quotes included */
};
#define VD_JSON_LIT(s) ((struct vd_json_lit){"\"" s "\"", sizeof(s) + 1})
void vd_json_key_lit(struct vd_json *j, struct vd_json_lit key);
/* A member with such a key (in a one-line object, with room in the stream's buffer, written in
 * one go: separator, key and value). */
void vd_json_kvl_str(struct vd_json *j, struct vd_json_lit key, const char *s);
void vd_json_kvl_int(struct vd_json *j, struct vd_json_lit key, int64_t v);
void vd_json_kvl_uint(struct vd_json *j, struct vd_json_lit key, uint64_t v);
void vd_json_kvl_dbl(struct vd_json *j, struct vd_json_lit key, double v, int decimals);
void vd_json_kvl_ns(struct vd_json *j, struct vd_json_lit key, vd_ns v);
/* A string member of n characters the caller made itself from characters that need no escape
 * (digits, addresses, its own words): copied as it is, not scanned (as for literal keys, one
 * that needs an escape is a caller's bug, caught by an assertion in sanitizer builds). */
void vd_json_kvl_plain(struct vd_json *j, struct vd_json_lit key, const char *s, size_t n);

/* A member of the current object: its key and value in one call. vd_json_kv_ns writes a time
 * or duration as integer ns, null when it is VD_NS_NONE (or not valid). */
void vd_json_kv_str(struct vd_json *j, const char *key, const char *s);
void vd_json_kv_int(struct vd_json *j, const char *key, int64_t v);
void vd_json_kv_uint(struct vd_json *j, const char *key, uint64_t v);
void vd_json_kv_dbl(struct vd_json *j, const char *key, double v, int decimals);
void vd_json_kv_bool(struct vd_json *j, const char *key, int v);
void vd_json_kv_ns(struct vd_json *j, const char *key, vd_ns v);

/* Ends a top-level value with a newline (one document, or one JSON line). */
void vd_json_newline(struct vd_json *j);

/* A JSON object written into memory, for a value stored as text (a run's parameters):
 * vd_json_mem_begin opens the object with LAYOUT, the caller adds members through m->j,
 * vd_json_mem_end closes it and returns the malloc'd text (NULL when out of memory). */
struct vd_json_mem {
	struct vd_json j;
	char *buf;
	size_t len;
};
int vd_json_mem_begin(struct vd_json_mem *m, enum vd_json_layout layout);
char *vd_json_mem_end(struct vd_json_mem *m);

/* Writes s as a JSON string literal (with quotes), escaping as RFC 8259 requires: the
 * writer's own escaping, for the rare caller that builds a string outside a document. */
void vd_json_string(FILE *f, const char *s);

#endif
