// SPDX-License-Identifier: Apache-2.0
/*
 * Inter-process locks: one flock()ed file per object under the lock path,
 * as Cinder's external locks, or, when the store is shared by several
 * hosts and has locks of its own (PostgreSQL advisory locks), those.
 * Held for the whole state change of a volume (check status, driver call,
 * save) so that processes sharing a store and a backend never interleave
 * on one volume.
 *
 * A thread may take a lock it already holds: an attach holds the volume's
 * lock across its check, the connect and the recording of the device, and
 * connect takes that lock too. The nested acquire returns the same
 * descriptor and counts; the lock goes when the outermost release does.
 * Other threads and processes open the file anew and wait in flock().
 *
 * The file of an object that is gone is unlinked by its holder. Whoever
 * waited on that inode finds, once flock() returns, that the path now
 * names another file (or none) and starts over: two openers never each
 * hold a lock on a different inode of one name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_internal.h"

struct held_lock {
	char *path;		/* the lock file, or "store:WHAT/ID" */
	int fd;			/* the handle: the file's fd, or a store lock's */
	unsigned int depth;
	struct cl_context *ctx;	/* a store lock's, to give it back */
	char *what, *id;
};

/* The locks this thread holds; a handful at most (clone: source + new). */
static _Thread_local struct held_lock *held;
static _Thread_local size_t nr_held;

static struct held_lock *held_by_path(const char *path)
{
	for (size_t i = 0; i < nr_held; i++)
		if (strcmp(held[i].path, path) == 0)
			return &held[i];
	return NULL;
}

static struct held_lock *held_by_fd(int fd)
{
	for (size_t i = 0; i < nr_held; i++)
		if (held[i].fd == fd)
			return &held[i];
	return NULL;
}

static int remember(char *path, int fd)
{
	struct held_lock *more = realloc(held, (nr_held + 1) * sizeof(*held));

	if (!more)
		return -ENOMEM;
	held = more;
	held[nr_held++] = (struct held_lock){ .path = path, .fd = fd,
					      .depth = 1 };
	return 0;
}

static void forget(struct held_lock *h)
{
	free(h->path);
	free(h->what);
	free(h->id);
	*h = held[--nr_held];
	if (!nr_held) {
		free(held);
		held = NULL;
	}
}

static char *lock_path(struct cl_context *ctx, const char *what,
		       const char *id)
{
	char *path;

	if (asprintf(&path, "%s/cinderlib-%s-%s.lock", ctx->lock_path, what,
		     id) < 0)
		return NULL;
	return path;
}

/* True when @fd still is the file that @path names. */
static bool still_named(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Handles of store locks count down from INT_MAX, far above any file
 * descriptor: one release takes either kind.
 */
static _Thread_local int next_store_handle = INT_MAX;

/* A lock held in a store that several hosts share (its lock operation). */
static int store_lock_acquire(struct cl_context *ctx, const char *what,
			      const char *id, struct cl_error *err)
{
	struct held_lock *h;
	char *key;
	int ret;

	if (asprintf(&key, "store:%s/%s", what, id) < 0)
		return cl_error_set(err, -ENOMEM, "out of memory");
	h = held_by_path(key);
	if (h) {
		h->depth++;
		free(key);
		return h->fd;
	}
	ret = ctx->store_ops->lock(ctx->store, what, id, err);
	if (ret) {
		free(key);
		return ret < 0 ? ret : -EIO;
	}
	ret = remember(key, next_store_handle);
	if (!ret) {
		h = &held[nr_held - 1];
		h->ctx = ctx;
		h->what = strdup(what);
		h->id = strdup(id);
		if (!h->what || !h->id) {
			forget(h);
			key = NULL;
			ret = -ENOMEM;
		}
	}
	if (ret) {
		ctx->store_ops->unlock(ctx->store, what, id);
		free(key);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	return next_store_handle--;
}

int cl_lock_acquire(struct cl_context *ctx, const char *what, const char *id,
		    struct cl_error *err)
{
	struct held_lock *h;
	char *path;
	int fd, ret;

	if (ctx->store_ops && ctx->store_ops->lock)
		return store_lock_acquire(ctx, what, id, err);
	path = lock_path(ctx, what, id);
	if (!path)
		return cl_error_set(err, -ENOMEM, "out of memory");
	h = held_by_path(path);
	if (h) {
		h->depth++;
		free(path);
		return h->fd;
	}
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			ret = -errno;
			cl_error_set(err, ret, "cannot open lock file %s: %m",
				     path);
			goto fail;
		}
		while (flock(fd, LOCK_EX) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			cl_error_set(err, ret, "cannot lock %s: %m", path);
			close(fd);
			goto fail;
		}
		if (still_named(fd, path))
			break;
		/* Unlinked by its holder while we waited: take the new one. */
		close(fd);
	}
	ret = remember(path, fd);
	if (ret) {
		close(fd);
		cl_error_set(err, ret, "out of memory");
		goto fail;
	}
	return fd;
fail:
	free(path);
	return ret;
}

bool cl_lock_is_outermost(int fd)
{
	struct held_lock *h = held_by_fd(fd);

	return h && h->depth == 1;
}

void cl_lock_release(int fd)
{
	struct held_lock *h;

	if (fd < 0)
		return;
	h = held_by_fd(fd);
	if (h && --h->depth)
		return;
	if (h && h->ctx) {
		h->ctx->store_ops->unlock(h->ctx->store, h->what, h->id);
		forget(h);
		return;
	}
	if (h)
		forget(h);
	close(fd);	/* drops the flock */
}

/*
 * Remove the lock file of an object that no longer exists, with the lock
 * held. A nested holder leaves it: an outer operation of this thread still
 * relies on the file.
 */
void cl_lock_remove(struct cl_context *ctx, const char *what, const char *id)
{
	struct held_lock *h;
	char *path;

	if (ctx->store_ops && ctx->store_ops->lock)
		return;		/* nothing on disk */
	path = lock_path(ctx, what, id);
	if (!path)
		return;
	h = held_by_path(path);
	if (h && h->depth == 1)
		unlink(path);
	free(path);
}
