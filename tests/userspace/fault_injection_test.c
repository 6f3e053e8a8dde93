// SPDX-License-Identifier: GPL-2.0
/*
 * Failures the library must survive without crashing or hanging:
 * every allocation of a configuration load failing in turn, and poll()
 * failing while the lvm driver reads a command that writes more than a
 * pipe holds. The program interposes malloc, calloc, realloc and poll
 * (it is linked with -rdynamic, so the library and the driver plugins
 * bind to these).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern int __poll(struct pollfd *fds, nfds_t n, int timeout);

/* Fail the Nth allocation from now on (0: none); counts the ones made. */
static long fail_at;
static long nr_allocs;
static bool fail_poll;

static bool alloc_fails(void)
{
	if (!fail_at)
		return false;
	return ++nr_allocs == fail_at;
}

void *malloc(size_t size)
{
	if (alloc_fails()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	if (alloc_fails()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	if (alloc_fails()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, size);
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (fail_poll) {
		errno = ENOMEM;
		return -1;
	}
	return __poll(fds, n, timeout);
}

FIXTURE(faults) {
	struct tenv t;
	char path[PATH_MAX + 16];
};

FIXTURE_SETUP(faults)
{
	ASSERT_EQ(0, tenv_init(&self->t, "memory"));
	snprintf(self->path, sizeof(self->path), "%s/cinderlib.conf",
		 self->t.dir);
}

FIXTURE_TEARDOWN(faults)
{
	fail_at = 0;
	fail_poll = false;
	tenv_fini(&self->t);
}

/*
 * Run @load (a path, or NULL for the embedded default) with its 1st, 2nd,
 * ... allocation failing until a run no longer reaches the fault. Each
 * run must return 0 or -ENOMEM with a message (and not crash). Returns
 * the number of runs that failed, or -1 on a wrong result.
 */
static long each_allocation_failing(const char *path, const char *dir)
{
	long failures = 0;

	for (long n = 1; n < 10000; n++) {
		struct cl_error err = { 0 };
		struct cl_config *cfg = NULL;
		int ret;

		nr_allocs = 0;
		fail_at = n;
		ret = path ? cl_config_load(path, &cfg, &err) :
			     cl_config_default(dir, &cfg, &err);
		fail_at = 0;
		if (ret == 0) {
			cl_config_free(cfg);
			/* The fault was never reached: every site was tried. */
			if (nr_allocs < n)
				return failures;
			continue;
		}
		if (ret != -ENOMEM || !err.msg[0]) {
			fprintf(stderr, "# allocation %ld: %d %s\n", n, ret,
				err.msg);
			return -1;
		}
		failures++;
	}
	return -1;
}

TEST_F(faults, config_load_survives_each_allocation_failing)
{
	char text[6 * PATH_MAX];

	snprintf(text, sizeof(text),
		 "[DEFAULT]\nstate_dir = %s/state\nlock_path = %s/locks\n"
		 "persistence = sqlite\nhost = node-1\ndriver_dir = %s\n"
		 "log_level = info\nenabled_backends = a, b\n\n"
		 "[a]\nvolume_driver = file\nfile_volume_dir = %s/a\n\n"
		 "[b]\nvolume_driver = file\nvolume_backend_name = bee\n"
		 "file_volume_dir = %s/b\n",
		 self->t.dir, self->t.dir, self->t.dir, self->t.dir,
		 self->t.dir);
	ASSERT_EQ(0, write_file(self->path, text, strlen(text)));
	ASSERT_GT(each_allocation_failing(self->path, NULL), 5);
}

TEST_F(faults, config_default_survives_each_allocation_failing)
{
	ASSERT_GT(each_allocation_failing(NULL, self->t.dir), 3);
}

/*
 * poll() fails while lvm writes 1 MiB (more than a pipe holds) before it
 * exits: the backend open reports the failure at once instead of waiting
 * for a child that waits for a reader.
 */
TEST_F(faults, lvm_poll_failure_does_not_hang)
{
	struct cl_backend *be = NULL;
	struct cl_error err = { 0 };
	struct cl_dict opts = { 0 };
	struct timespec a, b;
	char script[PATH_MAX + 16];
	char text[256];
	int ret;

	snprintf(script, sizeof(script), "%s/fake-lvm", self->t.dir);
	snprintf(text, sizeof(text),
		 "#!/bin/sh\nhead -c 1048576 /dev/zero\nexit 0\n");
	ASSERT_EQ(0, write_file(script, text, strlen(text)));
	ASSERT_EQ(0, chmod(script, 0755));
	ASSERT_EQ(0, cl_dict_set(&opts, "volume_driver", "lvm"));
	ASSERT_EQ(0, cl_dict_set(&opts, "volume_group", "vg0"));
	ASSERT_EQ(0, cl_dict_set(&opts, "lvm_command", script));
	fail_poll = true;
	clock_gettime(CLOCK_MONOTONIC, &a);
	ret = cl_backend_open(self->t.ctx, "lvmfault", &opts, &be, &err);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fail_poll = false;
	cl_dict_clear(&opts);
	ASSERT_NE(0, ret);
	EXPECT_NE(NULL, strstr(err.msg, "poll")) TH_LOG("message: %s", err.msg);
	/* Well within the harness's timeout: nothing waited on the child. */
	EXPECT_LT(b.tv_sec - a.tv_sec, 10);
}

TEST_HARNESS_MAIN
