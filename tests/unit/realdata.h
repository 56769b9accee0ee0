/* realdata.h — where the unit tests find the shared real captures: $VMDELAY_SHARED/testdata/real,
 * or ../shared/testdata/real from the checkout (tests/run.sh runs from the repo root). Header
 * only, included by the tests that read them; a test calls skip() when the directory is absent. */
#ifndef VMDELAY_TEST_REALDATA_H
#define VMDELAY_TEST_REALDATA_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static inline const char *realdata_dir(void)
{
	static char dir[1024];
	const char *shared = getenv("VMDELAY_SHARED");
	snprintf(dir, sizeof(dir), "%s/testdata/real", shared && *shared ? shared : "../shared");
	struct stat st;
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? dir : NULL;
}

/* dir/name into buf. */
static inline const char *realdata_path(char *buf, size_t n, const char *name)
{
	const char *dir = realdata_dir();
	snprintf(buf, n, "%s/%s", dir ? dir : ".", name);
	return buf;
}

#endif
