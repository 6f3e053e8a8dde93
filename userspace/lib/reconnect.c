// SPDX-License-Identifier: Apache-2.0
/*
 * Reconnecting a remote attach: the kernel says which nbd device lost
 * connections and where its export is (the NBD URI given at the add),
 * the nbd connector makes new ones. No store is needed: the host that
 * attaches may not share the one that exported.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "cinderlib/kernel.h"
#include "cl_internal.h"

int cl_device_reconnect(struct cl_context *ctx, uint32_t index,
			struct cl_error *err)
{
	struct cl_kernel *k = NULL;
	struct cl_dev_info dev;
	int ret;

	ret = cl_kernel_open(&k, err);
	if (ret)
		return ret;
	ret = cl_kernel_dev_get(k, index, &dev, err);
	if (ret)
		goto out;
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
