/* err.c — formatting of struct vd_err messages. */
#include "vmdelay/core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 0))) static void set(struct vd_err *err, int usage,
						      const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	err->usage = usage;
}

int vd_err_set(struct vd_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	set(err, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int vd_err_usage(struct vd_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	set(err, 1, fmt, ap);
	va_end(ap);
	return -1;
}

int vd_err_prefix(struct vd_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char prefix[256];
	char old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return -1;
}
