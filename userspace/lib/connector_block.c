// SPDX-License-Identifier: Apache-2.0
/*
 * The "block" connector: connection_info.data["device_path"] (os-brick's
 * local connector; "path" is accepted too) names a block device on this
 * host, e.g. an LV. By default the cinderblk device remaps its I/O onto
 * that device (the kernel's remap backing: zero copy, the device held
 * exclusively while attached); data["attach_backing"] = "file" asks for
 * the file backing instead (direct, asynchronous I/O on the device).
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "cinderlib/kernel.h"
#include "cl_internal.h"

const char *cl_block_device_path(const struct cl_dict *data)
{
	const char *path = cl_dict_get(data, "device_path");

	return path ? path : cl_dict_get(data, "path");
}

int cl_block_backing(const struct cl_dict *data, int *out,
		     struct cl_error *err)
{
	const char *want = cl_dict_get(data, "attach_backing");

	if (!want || !want[0] || strcmp(want, "remap") == 0)
		*out = CL_BACKING_REMAP;
	else if (strcmp(want, "file") == 0)
		*out = CL_BACKING_FILE;
	else
		return cl_error_set(err, -EINVAL,
				    "attach_backing '%s' is not remap or file",
				    want);
	return 0;
}

static int connect_block(struct cl_kernel *k,
			 const struct cl_attach_request *req,
			 struct cl_dev_info *out, struct cl_error *err)
{
	int backing;
	int ret = cl_block_backing(req->data, &backing, err);

	if (ret)
		return ret;
	return cl_connect_path(k, req, cl_block_device_path(req->data), true,
			       backing, out, err);
}

static int local_block_device(const struct cl_dict *data, char *path,
			      size_t len, struct cl_error *err)
{
	const char *dev = cl_block_device_path(data);

	if (!dev || dev[0] != '/' || strlen(dev) >= len)
		return cl_error_set(err, -EINVAL,
				    "block connection_info has no device path");
	strcpy(path, dev);
	return 0;
}

const struct cl_connector_type cl_connector_block = {
	.name = "block",
	.connect_volume = connect_block,
	.local_device = local_block_device,
};
