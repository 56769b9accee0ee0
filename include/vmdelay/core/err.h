/* err.h — one error carrier for library calls: a message naming the file, offset or option, and
 * whether the error is the user's command line (exit 2) rather than what the tool met (exit 1). */
#ifndef VMDELAY_ERR_H
#define VMDELAY_ERR_H

#include <stddef.h>

/* Exit codes of every vmdelay tool. */
enum { VD_EXIT_OK = 0, VD_EXIT_RUNTIME = 1, VD_EXIT_USAGE = 2 };

struct vd_err {
	char msg[512];
	int usage; /* set by vd_err_usage: the command line asked for something impossible */
};

/* Formats into err (if err is not NULL) and returns -1, so callers can `return vd_err_set(...)`. */
int vd_err_set(struct vd_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As vd_err_set, for a mistake in what the user asked, found by a library call (a selector
 * that does not fit the file it names): the tool exits with VD_EXIT_USAGE. */
int vd_err_usage(struct vd_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes an existing message: "prefix: old message". Returns -1. */
int vd_err_prefix(struct vd_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
