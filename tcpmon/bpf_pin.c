/* bpf_pin.c — the started bpf backend's pins in bpffs (see bpf_pin.h). */
#include "bpf_pin.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>

#define BPFFS "/sys/fs/bpf"
#define PIN_PARENT BPFFS "/vmdelay"
#define BPFFS_MAGIC 0xcafe4a11 /* linux/magic.h BPF_FS_MAGIC */

static const char *const map_name[TCPMON_NMAPS] = {"config", "counters", "slots", "tails"};

int tcpmon_pin_exists(void)
{
	struct stat st;

	return !stat(TCPMON_PIN_DIR, &st) && S_ISDIR(st.st_mode);
}

static int bpffs_ready(struct vd_err *err)
{
	struct statfs fs;

	if (!statfs(BPFFS, &fs) && fs.f_type == BPFFS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS, "bpf", 0, "mode=0700"))
		return vd_err_set(err, "mounting bpffs on %s: %s", BPFFS, strerror(errno));
	return 0;
}

/* Removes the files of dir and dir itself (bpffs: pins only, no subdirectories). */
static int remove_dir(const char *dir, struct vd_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d)
		return errno == ENOENT ? 0 : vd_err_set(err, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p)) {
			vd_err_set(err, "removing %s: %s", p, strerror(errno));
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (rmdir(dir))
		return vd_err_set(err, "removing %s: %s", dir, strerror(errno));
	rmdir(PIN_PARENT); /* when no other vmdelay pins are there */
	return 0;
}

int tcpmon_pin_save(const int map_fd[TCPMON_NMAPS], const int *link_fd, size_t nlinks,
		    struct vd_err *err)
{
	char tmp[256], p[320];
	struct vd_err ignored;

	if (bpffs_ready(err))
		return -1;
	if (mkdir(PIN_PARENT, 0700) && errno != EEXIST)
		return vd_err_set(err, "creating %s: %s", PIN_PARENT, strerror(errno));
	/* pinned under a temporary name, then renamed: a reader sees all or nothing */
	snprintf(tmp, sizeof(tmp), "%s_new_%ld", TCPMON_PIN_DIR,
		 (long)getpid()); /* bpffs: no dots */
	if (mkdir(tmp, 0700))
		return vd_err_set(err, "creating %s: %s", tmp, strerror(errno));
	for (size_t i = 0; i < TCPMON_NMAPS + nlinks; i++) {
		int fd = i < TCPMON_NMAPS ? map_fd[i] : link_fd[i - TCPMON_NMAPS];

		if (i < TCPMON_NMAPS)
			snprintf(p, sizeof(p), "%s/%s", tmp, map_name[i]);
		else
			snprintf(p, sizeof(p), "%s/link%zu", tmp, i - TCPMON_NMAPS);
		if (bpf_obj_pin(fd, p)) {
			vd_err_set(err, "pinning %s: %s", p, strerror(errno));
			remove_dir(tmp, &ignored);
			return -1;
		}
	}
	if (rename(tmp, TCPMON_PIN_DIR)) {
		vd_err_set(err, "renaming %s to %s: %s", tmp, TCPMON_PIN_DIR, strerror(errno));
		remove_dir(tmp, &ignored);
		return -1;
	}
	return 0;
}

int tcpmon_pin_open(int map_fd[TCPMON_NMAPS], struct vd_err *err)
{
	char p[320];

	for (size_t i = 0; i < TCPMON_NMAPS; i++) {
		snprintf(p, sizeof(p), "%s/%s", TCPMON_PIN_DIR, map_name[i]);
		map_fd[i] = bpf_obj_get(p);
		if (map_fd[i] < 0) {
			vd_err_set(err, "opening %s: %s", p, strerror(errno));
			while (i-- > 0)
				close(map_fd[i]);
			return -1;
		}
	}
	return 0;
}

int tcpmon_pin_remove(struct vd_err *err)
{
	return remove_dir(TCPMON_PIN_DIR, err);
}
