// SPDX-License-Identifier: Apache-2.0
/*
 * The "file" and "block" connectors: connection_info.data["path"] names a
 * regular file or a block device on this host; the cinderblk device gets
 * it as a file backing (direct, asynchronous I/O in the kernel). The fd is
 * ours only until the kernel took its own reference.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cinderlib/kernel.h"
#include "cl_internal.h"

static int connect_path(struct cl_kernel *k, const struct cl_attach_request *req,
			bool want_block, struct cl_dev_info *out,
			struct cl_error *err)
{
	const char *path = cl_dict_get(req->data, "path");
	struct cl_dev_spec spec;
	struct stat st;
	int fd, ret;

	if (!path || path[0] != '/')
		return cl_error_set(err, -EINVAL,
				    "connection_info of volume %s has no absolute 'path'",
				    req->volume_id);
	fd = open(path, (req->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return cl_error_set(err, -errno, "cannot open %s: %s", path,
				    strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = cl_error_set(err, -errno, "cannot stat %s: %s", path,
				   strerror(errno));
		goto out;
	}
	if (want_block ? !S_ISBLK(st.st_mode) : !S_ISREG(st.st_mode)) {
		ret = cl_error_set(err, -EINVAL, "%s is not a %s", path,
				   want_block ? "block device" : "regular file");
		goto out;
	}
	cl_dev_spec_init(&spec);
	spec.size = req->size;
	spec.volume_id = req->volume_id;
	spec.backing_type = CL_BACKING_FILE;
	spec.backing_fd = fd;
	/* The kernel drops what the backing cannot do. */
	spec.flags = CL_DEV_DISCARD | CL_DEV_WRITE_ZEROES | CL_DEV_FUA;
	if (req->read_only)
		spec.flags |= CL_DEV_READ_ONLY;
	ret = cl_kernel_dev_add(k, &spec, out, err);
out:
	close(fd);
	return ret;
}

static int connect_file(struct cl_kernel *k, const struct cl_attach_request *req,
			struct cl_dev_info *out, struct cl_error *err)
{
	return connect_path(k, req, false, out, err);
}

static int connect_block(struct cl_kernel *k,
			 const struct cl_attach_request *req,
			 struct cl_dev_info *out, struct cl_error *err)
{
	return connect_path(k, req, true, out, err);
}

const struct cl_connector_type cl_connector_file = {
	.name = "file",
	.connect_volume = connect_file,
};

const struct cl_connector_type cl_connector_block = {
	.name = "block",
	.connect_volume = connect_block,
};
