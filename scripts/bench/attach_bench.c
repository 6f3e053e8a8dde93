// SPDX-License-Identifier: Apache-2.0
/*
 * attach_bench: the bare kernel part of an attach, timed from the library's
 * kernel client: cl_kernel_dev_add() and cl_kernel_dev_remove() of FILE
 * (carrying VOLUME_ID), N times in one process. Prints one line per
 * operation, "add|remove <microseconds>"; the first pair is named
 * "first-add|first-remove": a new process's first request also pays for
 * running the library's code for the first time (page faults, and under
 * emulation its translation), which is not the kernel's add.
 * Built and run by scripts/bench/attach.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cinderlib/kernel.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	struct cl_kernel *k;
	struct cl_error err;
	struct stat st;
	int fd, n;

	if (argc != 4) {
		fprintf(stderr, "usage: attach_bench FILE VOLUME_ID COUNT\n");
		return 2;
	}
	n = atoi(argv[3]);
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	if (cl_kernel_open(&k, &err) < 0) {
		fprintf(stderr, "attach_bench: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct cl_dev_spec spec;
		struct cl_dev_info info;
		double t0, t1, t2;

		cl_dev_spec_init(&spec);
		spec.size = st.st_size & ~511ULL;
		spec.backing_fd = fd;
		spec.volume_id = argv[2];
		spec.flags = CL_DEV_DISCARD | CL_DEV_WRITE_ZEROES;
		t0 = now_us();
		if (cl_kernel_dev_add(k, &spec, &info, &err) < 0) {
			fprintf(stderr, "attach_bench: add: %s\n", err.msg);
			return 1;
		}
		t1 = now_us();
		if (cl_kernel_dev_remove(k, info.index, false, &err) < 0) {
			fprintf(stderr, "attach_bench: remove: %s\n", err.msg);
			return 1;
		}
		t2 = now_us();
		printf("%sadd %.0f\n%sremove %.0f\n", i ? "" : "first-",
		       t1 - t0, i ? "" : "first-", t2 - t1);
	}
	cl_kernel_close(k);
	close(fd);
	return 0;
}
