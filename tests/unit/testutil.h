/* testutil.h — a scratch directory for the unit tests that write files: the group setup makes
 * it, the group teardown removes it with what is in it. Header only: each test is one
 * translation unit. */
#ifndef VMDELAY_TEST_TESTUTIL_H
#define VMDELAY_TEST_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

static char testutil_dir[] = "/tmp/vd_testXXXXXX";

/* For cmocka_run_group_tests(tests, testutil_setup, testutil_teardown). */
static inline int testutil_setup(void **state)
{
	(void)state;
	return mkdtemp(testutil_dir) ? 0 : -1;
}

static inline int testutil_teardown(void **state)
{
	(void)state;
	char cmd[sizeof(testutil_dir) + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", testutil_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The scratch directory's file name, in a buffer the next call overwrites. */
static inline const char *testutil_tmp(const char *name)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", testutil_dir, name);
	return path;
}

#endif
