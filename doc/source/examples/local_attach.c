// SPDX-License-Identifier: Apache-2.0
/*
 * Local attach: a volume as /dev/cbdN through the cinderblk module (root,
 * module loaded). Writes through the device, grows it live, snapshots it
 * while attached, then reads the snapshot back through a read-only device.
 *
 *   cc -o local_attach local_attach.c -lcinderlib
 *   ./local_attach
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cinderlib/cinderlib.h>

#define GIB (1ULL << 30)

static int write_block(const char *dev, const char *text)
{
	char buf[4096] = { 0 };
	int fd = open(dev, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	strncpy(buf, text, sizeof(buf) - 1);
	ok = pwrite(fd, buf, sizeof(buf), 0) == sizeof(buf) && fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -1;
}

static int read_block(const char *dev, char *buf, size_t len)
{
	int fd = open(dev, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, 0);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static uint64_t device_size(const char *dev)
{
	uint64_t size = 0;
	int fd = open(dev, O_RDONLY);

	if (fd >= 0) {
		ioctl(fd, BLKGETSIZE64, &size);
		close(fd);
	}
	return size;
}

int main(void)
{
	struct cl_volume_create_opts vopts = { .size = 1, .name = "attach-example" };
	struct cl_volume_create_opts ropts = { .name = "attach-example-restored" };
	struct cl_error err = { 0 };
	struct cl_config *cfg = NULL;
	struct cl_context *ctx = NULL;
	struct cl_backend *be;
	struct cl_volume *vol = NULL, *restored = NULL;
	struct cl_connection *conn = NULL, *rconn = NULL;
	struct cl_snapshot *snap = NULL;
	char got[4096];
	int rc = 1;

	if (cl_config_load(NULL, &cfg, &err) ||
	    cl_setup_from_config(cfg, NULL, NULL, &ctx, &err) ||
	    cl_backend_get(ctx, cfg->backends[0].name, &be, &err) ||
	    cl_volume_create(be, &vopts, &vol, &err))
		goto out;

	/* connect + a cinderblk device; the connection records the path. */
	if (cl_volume_attach(ctx, vol, CL_ATTACH_RW, &conn, &err))
		goto out;
	printf("attached %s as %s (%s), volume %s\n", vol->id,
	       conn->device_path,
	       cl_device_state_name(cl_connection_device_state(ctx, conn)),
	       cl_status_name(vol->status));
	if (write_block(conn->device_path, "written before the snapshot")) {
		perror("write");
		goto out;
	}

	/* The driver grows the volume, then the device grows live. */
	if (cl_volume_extend(ctx, vol, 2, &err))
		goto out;
	printf("extended: %s is %llu bytes\n", conn->device_path,
	       (unsigned long long)device_size(conn->device_path));
	if (device_size(conn->device_path) != 2 * GIB) {
		fprintf(stderr, "the device did not grow\n");
		goto out;
	}

	/* The device is suspended (I/O drained, flushed) around the copy. */
	if (cl_volume_create_snapshot(ctx, vol, "attached", NULL, &snap, &err))
		goto out;
	write_block(conn->device_path, "written after the snapshot");

	if (cl_volume_detach(ctx, vol, false, &err))
		goto out;
	printf("detached, volume %s\n", cl_status_name(vol->status));

	/* The snapshot's data, through a read-only device. */
	if (cl_snapshot_create_volume(ctx, snap, &ropts, &restored, &err) ||
	    cl_volume_attach(ctx, restored, CL_ATTACH_RO, &rconn, &err))
		goto out;
	if (read_block(rconn->device_path, got, sizeof(got))) {
		perror("read");
		goto out;
	}
	printf("restored volume reads: \"%s\"\n", got);
	if (strcmp(got, "written before the snapshot") != 0 ||
	    cl_volume_detach(ctx, restored, false, &err))
		goto out;

	if (cl_volume_delete(ctx, restored, &err) ||
	    cl_snapshot_delete(ctx, snap, &err) ||
	    cl_volume_delete(ctx, vol, &err))
		goto out;
	rc = 0;
out:
	if (rc && err.code)
		fprintf(stderr, "local_attach: %s\n", err.msg);
	cl_connection_free(conn);
	cl_connection_free(rconn);
	cl_snapshot_free(snap);
	cl_volume_free(restored);
	cl_volume_free(vol);
	cl_context_free(ctx);
	cl_config_free(cfg);
	return rc;
}
