// SPDX-License-Identifier: GPL-2.0
/*
 * cinderblk: block devices whose I/O goes to a backing handed in by
 * userspace. Module entry points and parameters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

#include "cinderblk.h"

unsigned int cbd_max_devices = 256;
module_param_named(max_devices, cbd_max_devices, uint, 0444);
MODULE_PARM_DESC(max_devices, "Highest device index + 1 (default 256)");

unsigned int cbd_queue_depth = 128;
module_param_named(queue_depth, cbd_queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth, "Default queue depth per hardware queue (default 128)");

unsigned int cbd_io_timeout_ms = 30000;
module_param_named(io_timeout_ms, cbd_io_timeout_ms, uint, 0444);
MODULE_PARM_DESC(io_timeout_ms, "Default request timeout in ms (default 30000)");

unsigned int cbd_max_extents = 1024;
module_param_named(max_extents, cbd_max_extents, uint, 0444);
MODULE_PARM_DESC(max_extents, "Most extents in a remap table (default 1024)");

/*
 * file_offload: whether reads and writes of "file" backings may be handed to
 * a worker (backing_file.c); "auto" decides from what the file and the
 * submitter do. Changes apply to the next request.
 */
enum cbd_offload_mode cbd_file_offload = CBD_OFFLOAD_AUTO;

static const char * const cbd_offload_names[] = {
	[CBD_OFFLOAD_NEVER]	= "never",
	[CBD_OFFLOAD_AUTO]	= "auto",
	[CBD_OFFLOAD_ALWAYS]	= "always",
};

static int cbd_file_offload_set(const char *val, const struct kernel_param *kp)
{
	int mode = sysfs_match_string(cbd_offload_names, val);

	if (mode < 0)
		return -EINVAL;
	WRITE_ONCE(cbd_file_offload, mode);
	return 0;
}

static int cbd_file_offload_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  cbd_offload_names[READ_ONCE(cbd_file_offload)]);
}

static const struct kernel_param_ops cbd_file_offload_ops = {
	.set = cbd_file_offload_set,
	.get = cbd_file_offload_get,
};
module_param_cb(file_offload, &cbd_file_offload_ops, NULL, 0644);
MODULE_PARM_DESC(file_offload,
		 "Hand file backing I/O to a worker: auto (default), always or never");

/* spare_devices: idle disks kept ready so that an add is fast (spare.c). */
module_param_cb(spare_devices, &cbd_spare_devices_ops, NULL, 0644);
MODULE_PARM_DESC(spare_devices,
		 "Idle disks kept ready for fast adds, 0..16 (default 2)");

/*
 * live_devices (read only): devices whose memory is not freed yet, removed
 * ones still held open included, spares not. Tests read it to find leaks.
 */
static int cbd_live_devices_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", cbd_live_devices());
}

static const struct kernel_param_ops cbd_live_devices_ops = {
	.get = cbd_live_devices_get,
};
module_param_cb(live_devices, &cbd_live_devices_ops, NULL, 0444);
MODULE_PARM_DESC(live_devices, "Devices allocated now (read only)");

/* live_backing_refs (read only): files and block devices backings hold. */
static int cbd_backing_refs_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&cbd_backing_refs));
}

static const struct kernel_param_ops cbd_backing_refs_ops = {
	.get = cbd_backing_refs_get,
};
module_param_cb(live_backing_refs, &cbd_backing_refs_ops, NULL, 0444);
MODULE_PARM_DESC(live_backing_refs,
		 "Files and block devices held by backings now (read only)");

struct workqueue_struct *cbd_wq;
struct workqueue_struct *cbd_offload_wq;

static int __init cbd_check_params(void)
{
	if (!cbd_max_devices || cbd_max_devices > CBD_MAX_DEVICES) {
		pr_err("max_devices must be 1..%u\n", CBD_MAX_DEVICES);
		return -EINVAL;
	}
	if (!cbd_queue_depth || cbd_queue_depth > CBD_MAX_QUEUE_DEPTH) {
		pr_err("queue_depth must be 1..%u\n", CBD_MAX_QUEUE_DEPTH);
		return -EINVAL;
	}
	if (!cbd_io_timeout_ms || cbd_io_timeout_ms > CBD_MAX_IO_TIMEOUT_MS) {
		pr_err("io_timeout_ms must be 1..%u\n", CBD_MAX_IO_TIMEOUT_MS);
		return -EINVAL;
	}
	if (!cbd_max_extents || cbd_max_extents > CBD_MAX_EXTENTS) {
		pr_err("max_extents must be 1..%u\n", CBD_MAX_EXTENTS);
		return -EINVAL;
	}
	return 0;
}

static int __init cbd_init(void)
{
	int ret;

	ret = cbd_check_params();
	if (ret)
		return ret;

	cbd_wq = alloc_workqueue("cinderblk", WQ_MEM_RECLAIM | WQ_UNBOUND, 0);
	if (!cbd_wq)
		return -ENOMEM;
	/*
	 * Offload workers run where they are sent, away from the submitter's
	 * CPU; they may poll for a while, hence CPU_INTENSIVE.
	 */
	cbd_offload_wq = alloc_workqueue("cinderblk_offload",
					 WQ_MEM_RECLAIM | WQ_HIGHPRI |
					 WQ_CPU_INTENSIVE, 0);
	if (!cbd_offload_wq) {
		ret = -ENOMEM;
		goto err_wq;
	}

	ret = cbd_device_init();
	if (ret)
		goto err_wq;
	ret = cbd_genl_init();
	if (ret)
		goto err_device;
	ret = cbd_control_init();
	if (ret)
		goto err_genl;
	cbd_spares_start();
	return 0;

err_genl:
	cbd_genl_exit();
err_device:
	cbd_device_exit();
err_wq:
	if (cbd_offload_wq)
		destroy_workqueue(cbd_offload_wq);
	destroy_workqueue(cbd_wq);
	return ret;
}

static void __exit cbd_exit(void)
{
	/* No new requests from userspace, then away with what is left. */
	cbd_control_exit();
	cbd_genl_exit();
	cbd_spares_stop();
	cbd_dev_remove_all();
	cbd_device_exit();
	destroy_workqueue(cbd_offload_wq);
	destroy_workqueue(cbd_wq);
}

module_init(cbd_init);
module_exit(cbd_exit);

MODULE_DESCRIPTION("cinderblk: block devices over userspace-provided backings");
MODULE_LICENSE("GPL");
MODULE_ALIAS_GENL_FAMILY(CINDERBLK_GENL_NAME);
