/* afile.c — outputs written to a temporary name and renamed on success (afile.h). */
#define _GNU_SOURCE
#include "vmdelay/out/afile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Under the FILE: the descriptor, and the reason the first failed write gave (stdio keeps
 * only an error flag). */
struct vd_afile_sink {
	int fd;
	int err;
};

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
	struct vd_afile_sink *s = cookie;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(s->fd, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!s->err)
				s->err = w < 0 ? errno : ENOSPC;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)done;
}

static int sink_close(void *cookie)
{
	struct vd_afile_sink *s = cookie;
	int rc = 0;
	if (close(s->fd) && !s->err)
		s->err = errno;
	if (s->err)
		rc = -1;
	return rc;
}

static const cookie_io_functions_t sink_io = {.write = sink_write, .close = sink_close};

/* f over fd, recording write errors in a->sink. */
static int afile_stream(struct vd_afile *a, int fd)
{
	if (!(a->sink = calloc(1, sizeof(*a->sink))))
		return -1;
	a->sink->fd = fd;
	if (!(a->f = fopencookie(a->sink, "w", sink_io))) {
		free(a->sink);
		a->sink = NULL;
		return -1;
	}
	return 0;
}

static void afile_reset(struct vd_afile *a)
{
	free(a->path);
	free(a->tmp);
	free(a->sink);
	a->f = NULL;
	a->path = a->tmp = NULL;
	a->sink = NULL;
}

int vd_afile_error(const struct vd_afile *a)
{
	return a->sink ? a->sink->err : 0;
}

int vd_afile_open(struct vd_afile *a, const char *path, struct vd_err *err)
{
	a->f = NULL;
	a->tmp = NULL;
	a->sink = NULL;
	if (!(a->path = strdup(path)))
		return vd_err_set(err, "%s: out of memory", path);
	struct stat sb;
	/* A device or FIFO is written as it is: renaming over /dev/null would replace it. */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0 || afile_stream(a, fd)) {
			vd_err_set(err, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			afile_reset(a);
			return -1;
		}
		return 0;
	}
	/* A symlink is followed: the file it names is replaced, the link stays. */
	char *target = realpath(path, NULL);
	const char *name = target ? target : path;
	const char *slash = strrchr(name, '/');
	int dlen = slash ? (int)(slash - name + 1) : 0;
	if (asprintf(&a->tmp, "%.*s.%s.tmpXXXXXX", dlen, name, slash ? slash + 1 : name) < 0)
		a->tmp = NULL;
	free(a->path);
	a->path = strdup(name);
	free(target);
	if (!a->tmp || !a->path) {
		vd_err_set(err, "%s: out of memory", path);
		afile_reset(a);
		return -1;
	}
	int fd = mkostemp(a->tmp, O_CLOEXEC);
	if (fd < 0) {
		vd_err_set(err, "%s: %s", path, strerror(errno));
		afile_reset(a);
		return -1;
	}
	/* The permissions fopen would have given: 0666 less the umask. */
	mode_t um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) || afile_stream(a, fd)) {
		vd_err_set(err, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(a->tmp);
		afile_reset(a);
		return -1;
	}
	return 0;
}

int vd_afile_commit(struct vd_afile *a, struct vd_err *err)
{
	int e = 0;
	if (fflush(a->f) || ferror(a->f))
		e = a->sink->err ? a->sink->err : EIO;
	/* fsync finds what a filesystem reports only on write-back (ENOSPC on some). */
	if (!e && a->tmp && fsync(a->sink->fd))
		e = errno;
	if (fclose(a->f) && !e)
		e = a->sink->err ? a->sink->err : EIO;
	a->f = NULL;
	if (!e && a->tmp && rename(a->tmp, a->path))
		e = errno;
	if (e) {
		vd_err_set(err, "%s: write error: %s", a->path, strerror(e));
		if (a->tmp)
			unlink(a->tmp);
	}
	afile_reset(a);
	return e ? -1 : 0;
}

void vd_afile_discard(struct vd_afile *a)
{
	if (a->f)
		fclose(a->f);
	if (a->tmp)
		unlink(a->tmp);
	afile_reset(a);
}

int vd_afile_finish(struct vd_afile *a, int writer_failed, struct vd_err *err)
{
	if (!writer_failed)
		return vd_afile_commit(a, err);
	/* Flushing first: the reason may be in what stdio still holds. */
	fflush(a->f);
	int e = vd_afile_error(a);
	vd_err_set(err, "%s: write error%s%s", a->path, e ? ": " : "", e ? strerror(e) : "");
	vd_afile_discard(a);
	return -1;
}
