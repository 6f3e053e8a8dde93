// SPDX-License-Identifier: GPL-2.0
/*
 * cinderblk: /sys/block/cbdN/cinderblk/. The group is handed to
 * device_add_disk(), so it exists before the add uevent and udev can name
 * the device after its volume.
 */
#include <linux/device.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "cinderblk.h"

static struct cbd_device *dev_to_cbd(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

static ssize_t volume_id_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct cbd_device *cbd = dev_to_cbd(dev);
	ssize_t n;

	/* A spare gets its volume id while it is in sysfs. */
	spin_lock(&cbd->lock);
	n = sysfs_emit(buf, "%s\n", cbd->volume_id);
	spin_unlock(&cbd->lock);
	return n;
}
static DEVICE_ATTR_RO(volume_id);

/* Where the I/O goes, e.g. the path of the backing file. */
static ssize_t backing_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct cbd_device *cbd = dev_to_cbd(dev);
	int n = 0;

	spin_lock(&cbd->lock);
	if (cbd->backing)
		n = cbd->backing->ops->describe(cbd->backing, buf,
						PAGE_SIZE - 1);
	spin_unlock(&cbd->lock);
	if (n < 0)
		return n;
	buf[n++] = '\n';
	return n;
}
static DEVICE_ATTR_RO(backing);

static ssize_t backing_type_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct cbd_device *cbd = dev_to_cbd(dev);
	const char *name = "none";

	spin_lock(&cbd->lock);
	if (cbd->backing)
		name = cbd->backing->ops->name;
	spin_unlock(&cbd->lock);
	return sysfs_emit(buf, "%s\n", name);
}
static DEVICE_ATTR_RO(backing_type);

static const char *const cbd_state_names[] = {
	[CINDERBLK_STATE_LIVE]		= "live",
	[CINDERBLK_STATE_SUSPENDED]	= "suspended",
	[CINDERBLK_STATE_LINK_DOWN]	= "link-down",
	[CINDERBLK_STATE_DYING]		= "dying",
	[CINDERBLK_STATE_IDLE]		= "idle",
};

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	u32 state = READ_ONCE(dev_to_cbd(dev)->state);

	if (state >= ARRAY_SIZE(cbd_state_names) || !cbd_state_names[state])
		return sysfs_emit(buf, "unknown\n");
	return sysfs_emit(buf, "%s\n", cbd_state_names[state]);
}
static DEVICE_ATTR_RO(state);

/* Flags in effect (enum cinderblk_dev_flags), in hexadecimal. */
static ssize_t flags_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "0x%x\n", READ_ONCE(dev_to_cbd(dev)->flags));
}
static DEVICE_ATTR_RO(flags);

/* Requests that outlived io_timeout_ms (they are waited for, not failed). */
static ssize_t timeouts_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&dev_to_cbd(dev)->timeouts));
}
static DEVICE_ATTR_RO(timeouts);

/* A network backing's connections and their history (0 for others). */
static ssize_t cbd_show_info(struct device *dev, char *buf,
			     u64 (*pick)(const struct cbd_dev_info *))
{
	struct cbd_dev_info *info;
	ssize_t n;

	info = kmalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	cbd_dev_fill_info(dev_to_cbd(dev), info);
	n = sysfs_emit(buf, "%llu\n", pick(info));
	kfree(info);
	return n;
}

#define CBD_INFO_ATTR(name, expr)					\
static u64 cbd_pick_##name(const struct cbd_dev_info *info)		\
{									\
	return expr;							\
}									\
static ssize_t name##_show(struct device *dev,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	return cbd_show_info(dev, buf, cbd_pick_##name);		\
}									\
static DEVICE_ATTR_RO(name)

CBD_INFO_ATTR(connections, info->connections);
CBD_INFO_ATTR(live_connections, info->live_connections);
CBD_INFO_ATTR(link_downs, info->stats.link_downs);
CBD_INFO_ATTR(reconnects, info->stats.reconnects);

static struct attribute *cbd_attrs[] = {
	&dev_attr_volume_id.attr,
	&dev_attr_backing.attr,
	&dev_attr_backing_type.attr,
	&dev_attr_state.attr,
	&dev_attr_flags.attr,
	&dev_attr_timeouts.attr,
	&dev_attr_connections.attr,
	&dev_attr_live_connections.attr,
	&dev_attr_link_downs.attr,
	&dev_attr_reconnects.attr,
	NULL,
};

static const struct attribute_group cbd_attr_group = {
	.name	= "cinderblk",
	.attrs	= cbd_attrs,
};

const struct attribute_group *cbd_disk_groups[] = {
	&cbd_attr_group,
	NULL,
};
