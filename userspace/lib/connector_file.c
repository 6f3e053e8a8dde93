// SPDX-License-Identifier: Apache-2.0
/*
 * The "file" connector: connection_info.data["path"] names a regular file
 * on this host; the cinderblk device gets it as a file backing (direct,
 * asynchronous I/O in the kernel). The block connector opens its devices
 * here too. The fd is ours only until the kernel took its own reference.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cinderlib/kernel.h"
#include "cl_internal.h"

int cl_connect_path(struct cl_kernel *k, const struct cl_attach_request *req,
		    const char *path, bool want_block,
		    int backing, struct cl_dev_info *out,
		    struct cl_error *err)
{
	struct cl_dev_spec spec;
	struct stat st;
	int fd, ret;

	if (!path || path[0] != '/')
		return cl_error_set(err, -EINVAL,
				    "connection_info of volume %s has no absolute path",
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
	/* remap: no extent table = the whole size, at offset 0 */
	spec.backing_type = backing;
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
	return cl_connect_path(k, req, cl_dict_get(req->data, "path"), false,
			       CL_BACKING_FILE, out, err);
}

const struct cl_connector_type cl_connector_file = {
	.name = "file",
	.connect_volume = connect_file,
};
