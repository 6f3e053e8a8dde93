// SPDX-License-Identifier: Apache-2.0
/*
 * Keeping a remote attach connected and sized: the kernel says which nbd
 * device lost connections and where its export is (the NBD URI given at
 * the add), the nbd connector makes new ones, or new ones for all when
 * the export grew. No store is needed: the host that attaches may not
 * share the one that exported.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "cinderlib/kernel.h"
#include "cl_internal.h"

/* The module, and what it says of cbd<@index>. */
static int open_device(uint32_t index, struct cl_kernel **k,
		       struct cl_dev_info *dev, struct cl_error *err)
{
	int ret = cl_kernel_open(k, err);

	if (ret)
		return ret;
	ret = cl_kernel_dev_get(*k, index, dev, err);
	if (ret) {
		cl_kernel_close(*k);
		*k = NULL;
	}
	return ret;
}

int cl_device_reconnect(struct cl_context *ctx, uint32_t index,
			struct cl_error *err)
{
	struct cl_kernel *k = NULL;
	struct cl_dev_info dev;
	int ret;

	ret = open_device(index, &k, &dev, err);
	if (ret)
		return ret;
	if (dev.backing_type != CL_BACKING_NBD) {
		ret = cl_error_set(err, -EINVAL,
				   "%s is not attached over nbd", dev.disk_name);
		goto out;
	}
	if (dev.live_connections >= dev.connections)
		goto out;
	ret = cl_nbd_reconnect_device(k, &dev, err);
	if (!ret)
		cl_log(ctx, CL_LOG_INFO, "volume %s: %s reconnected (%u connections)",
		       dev.volume_id, dev.disk_name,
		       dev.connections - dev.live_connections);
out:
	cl_kernel_close(k);
	return ret;
}

int cl_device_refresh(struct cl_context *ctx, uint32_t index, uint64_t *size,
		      struct cl_error *err)
{
	struct cl_kernel *k = NULL;
	struct cl_dev_info dev;
	int ret;

	*size = 0;
	ret = open_device(index, &k, &dev, err);
	if (ret)
		return ret;
	ret = cl_nbd_refresh_device(k, &dev, size, err);
	if (!ret && *size != dev.size)
		cl_log(ctx, CL_LOG_INFO, "volume %s: %s resized to %llu bytes",
		       dev.volume_id, dev.disk_name,
		       (unsigned long long)*size);
	cl_kernel_close(k);
	return ret;
}
