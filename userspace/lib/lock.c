// SPDX-License-Identifier: Apache-2.0
/*
 * Inter-process locks: one flock()ed file per object under the lock path,
 * as Cinder's external locks. Held for the whole state change of a volume
 * (check status, driver call, save) so that processes sharing a store and
 * a backend never interleave on one volume.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "cl_internal.h"

int cl_lock_acquire(struct cl_context *ctx, const char *what, const char *id,
		    struct cl_error *err)
{
	char *path;
	int fd, ret;

	if (asprintf(&path, "%s/cinderlib-%s-%s.lock", ctx->lock_path, what,
		     id) < 0)
		return cl_error_set(err, -ENOMEM, "out of memory");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		cl_error_set(err, ret, "cannot open lock file %s: %m", path);
		free(path);
		return ret;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		ret = -errno;
		cl_error_set(err, ret, "cannot lock %s: %m", path);
		close(fd);
		free(path);
		return ret;
	}
	free(path);
	return fd;
}

void cl_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the flock */
}

/* Remove the lock file of an object that no longer exists (lock held). */
void cl_lock_remove(struct cl_context *ctx, const char *what, const char *id)
{
	char *path;

	if (asprintf(&path, "%s/cinderlib-%s-%s.lock", ctx->lock_path, what,
		     id) < 0)
		return;
	unlink(path);
	free(path);
}
