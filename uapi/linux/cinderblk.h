/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cinderblk: block devices (/dev/cbdN) whose I/O goes to a backing handed in
 * by userspace. This header is the only contract between the kernel module
 * and userspace: the generic netlink family "cinderblk" and the ioctls of
 * /dev/cinderblk-control and /dev/cbdN.
 */
#ifndef _UAPI_LINUX_CINDERBLK_H
#define _UAPI_LINUX_CINDERBLK_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define CINDERBLK_GENL_NAME		"cinderblk"
#define CINDERBLK_GENL_VERSION		1
#define CINDERBLK_GENL_MCGRP_EVENTS	"events"

#define CINDERBLK_CONTROL_NAME		"cinderblk-control"
#define CINDERBLK_DISK_PREFIX		"cbd"

/* Length of a volume id in text form (a UUID), without the NUL. */
#define CINDERBLK_VOLUME_ID_LEN		36

/*
 * Ask the kernel for a free index on add: the lowest spare disk's when one
 * fits (module parameter spare_devices), else the lowest index that no
 * device or spare holds.
 */
#define CINDERBLK_INDEX_ANY		0xffffffffU

/* Sockets (connections) an nbd backing takes at most. */
#define CINDERBLK_NBD_MAX_CONNECTIONS	16
/* Room for an nbd device's NBD_URI, its NUL included. */
#define CINDERBLK_NBD_URI_MAX		256

/*
 * Permissions: DEV_ADD, DEV_REMOVE, DEV_RESIZE, DEV_SUSPEND, DEV_RESUME and
 * DEV_RECONFIGURE (and their ioctls) need CAP_SYS_ADMIN, else EPERM.
 * DEV_GET, its dump, CINDERBLK_IOC_DEV_GET and CINDERBLK_IOC_INFO are open
 * to all. Listening to the "events" group needs CAP_SYS_ADMIN on kernels
 * that have multicast group permissions.
 *
 * Netlink: the family validates strictly (unknown attributes, trailing
 * data, wrong lengths are EINVAL); output-only attributes (STATE,
 * OPEN_COUNT, STATS, DISK_NAME, CONNECTIONS, LIVE_CONNECTIONS) are
 * refused in requests. The extended ack says what was wrong (and which
 * attribute was missing).
 *
 * The remap backing: BACKING_FD is an open block device (the "lower"
 * device; O_RDWR unless the device is read-only) and EXTENTS maps the cbd
 * device onto it: a list of nested attributes (any type, conventionally
 * 1, 2, ...), each holding the u64 CINDERBLK_EXTENT_START, _LENGTH and
 * _LOWER_OFFSET, all in bytes and all required. The list may come in any
 * order; sorted by START it must cover [0, SIZE) exactly. Without EXTENTS,
 * the table is one extent: [0, SIZE) at lower offset 0. The module holds
 * the lower device open exclusively for the device's life (nobody can
 * mount it meanwhile) and passes bios straight down to it, split at extent
 * boundaries; DISCARD, WRITE_ZEROES and FUA are in effect only if the
 * lower device does them. A remap device's size is its table's: RESIZE to
 * another size is refused; suspend, RECONFIGURE with a new table (the new
 * size is the table's: a RESIZED event follows), resume. RECONFIGURE
 * cannot turn a file device into a remap one or back.
 *
 * The nbd backing (netlink only: the ioctls refuse it with EOPNOTSUPP):
 * SOCKET_FDS is a list of s32 attributes (any type), 1 to
 * CINDERBLK_NBD_MAX_CONNECTIONS connected stream sockets (TCP or unix)
 * whose NBD handshake userspace has done: they are in the transmission
 * phase of the same export, with simple replies. NBD_FLAGS are the
 * export's transmission flags from that handshake (HAS_FLAGS must be set;
 * READ_ONLY needs CINDERBLK_F_READ_ONLY; SEND_FLUSH, SEND_FUA, SEND_TRIM
 * and SEND_WRITE_ZEROES decide what the device advertises), and
 * NBD_MAX_PAYLOAD the server's largest request (its maximum block size,
 * at least 4096; requests are split below it). SIZE is the export's size;
 * LOGICAL_BLOCK_SIZE must be at least the server's minimum block size.
 * The device has one hardware queue per socket (NR_HW_QUEUES, if given,
 * must equal their number). Replies are checked strictly: a bad magic,
 * a cookie that names no request sent on that connection, a structured
 * reply or a short read drops that connection; an error reply fails its
 * request (EIO, or ENOSPC for NBD's ENOSPC) and nothing else. Requests of
 * a lost connection are sent again on another one. With no connection
 * left the state is link-down: requests wait, up to DEAD_TIMEOUT_MS, for
 * sockets handed in by RECONFIGURE (BACKING_TYPE nbd, SOCKET_FDS, and
 * NBD_FLAGS equal to the first ones), which fill the lost connections'
 * slots; the device need not be suspended. With NBD_REPLACE, on a
 * suspended device and with one socket per connection slot, every
 * connection is closed (NBD_CMD_DISC) and replaced instead: new
 * negotiations, as after the export grew (a server keeps the size each
 * connection was given), then RESIZE and RESUME. Past the timeout every request
 * fails with EIO until sockets come. A request unanswered for
 * IO_TIMEOUT_MS drops its connection (the server is taken for gone) and
 * is sent again elsewhere. Each lost connection sends a LINK_DOWN event
 * (LIVE_CONNECTIONS says how many remain), each socket handed in a
 * LINK_UP. Removing the device sends NBD_CMD_DISC on every connection; a
 * forced remove fails waiting requests at once. NBD_URI, optional at ADD
 * (not at RECONFIGURE), is where userspace connected (nbd://host:port/
 * export): the module never reads it, but keeps it and reports it in
 * replies and sysfs ("backing"), so that a reconnecting daemon knows
 * where to go without any other record.
 *
 * Errors, the same from netlink and ioctl unless said otherwise:
 *   EINVAL   - a required attribute is missing: ADD needs SIZE, VOLUME_ID,
 *              BACKING_TYPE and, for a file backing, BACKING_FD; every other
 *              command needs INDEX; RESIZE needs SIZE; RECONFIGURE needs
 *              BACKING_TYPE and BACKING_FD;
 *            - SIZE is 0, not a multiple of the logical block size, or
 *              larger than the largest file size;
 *            - a block size is not a power of 2 in 512..4096, or the
 *              physical block size is below the logical one;
 *            - unknown FLAGS bits;
 *            - VOLUME_ID is not a UUID of exactly 36 characters;
 *            - INDEX >= the module parameter max_devices (and not
 *              CINDERBLK_INDEX_ANY);
 *            - the backing fd is not a regular file or a block device
 *              (directory, pipe, socket, character device ...), or is a
 *              cinderblk device itself;
 *            - a block device backing is smaller than SIZE (add, resize);
 *            - RECONFIGURE to a backing that lies on the device itself
 *              (a file on a file system on it, directly or through other
 *              cinderblk devices);
 *            - unknown backing type (0 or above CINDERBLK_BACKING_NBD);
 *            - remap: the fd is not a block device; EXTENTS with another
 *              backing type; an extent table that is empty, has more than
 *              the module parameter max_extents entries (default 1024), an
 *              extent of length 0, a start, length or lower offset that is
 *              not a multiple of the logical block size, overlapping
 *              extents, a gap (the table must cover [0, SIZE) exactly),
 *              an extent past the end of the lower device, or an extent
 *              without START, LENGTH or LOWER_OFFSET; a logical block size
 *              below the lower device's; RECONFIGURE between a remap and
 *              a file backing; IO_TIMEOUT_MS for a remap backing (its
 *              disk is bio-based: the lower device's timeouts apply);
 *            - RESUME of a device that is not suspended;
 *            - ioctl: unknown version, non-zero __pad or reserved, unknown
 *              ctl_flags for the command, volume_id not NUL-padded after
 *              its 36 characters, nr_hw_queues > 64, queue_depth > 4096,
 *              io_timeout_ms > 3600000.
 *            - nbd: no SOCKET_FDS, or SOCKET_FDS with another backing type;
 *              more than CINDERBLK_NBD_MAX_CONNECTIONS sockets; a
 *              descriptor that is not a TCP or unix stream socket;
 *              NBD_FLAGS without HAS_FLAGS or with bits above 15,
 *              READ_ONLY in NBD_FLAGS for a read-write device;
 *              NBD_MAX_PAYLOAD below 4096 or the logical block size;
 *              NR_HW_QUEUES other than the number of sockets;
 *              RECONFIGURE with more sockets than lost connections, other
 *              NBD_FLAGS, NBD_URI, or between nbd and another backing
 *              type; NBD_URI of CINDERBLK_NBD_URI_MAX bytes or more;
 *              NBD_REPLACE at ADD, with another backing type, or without
 *              one socket per connection slot;
 *   ERANGE   - netlink only: BACKING_TYPE, NR_HW_QUEUES (> 64), QUEUE_DEPTH
 *              (> 4096), IO_TIMEOUT_MS or DEAD_TIMEOUT_MS (> 3600000)
 *              outside the policy.
 *   EBADF    - BACKING_FD (or a SOCKET_FDS entry) is not an open file
 *              descriptor; BACKING_FD is not open for
 *              reading, or is open read-only for a device without
 *              CINDERBLK_F_READ_ONLY (a read-write device needs O_RDWR).
 *   ELOOP    - ADD or RECONFIGURE with a backing that lies on more than
 *              two stacked cinderblk devices (a file on a file system on
 *              a cbd disk whose backing is on another, ...).
 *   EOPNOTSUPP - backing type NBD through the ioctls (use netlink);
 *            - RESIZE of a remap device to another size (reconfigure it
 *              with a new extent table instead).
 *   EEXIST   - ADD with an INDEX already in use.
 *   ENOSPC   - ADD with CINDERBLK_INDEX_ANY and every index in use by a
 *              device (spare disks give theirs up).
 *   ENODEV   - REMOVE, GET, RESIZE, SUSPEND, RESUME, RECONFIGURE of an
 *              index without a device.
 *   EBUSY    - REMOVE of an open device without FORCE (CINDERBLK_CTL_FORCE);
 *            - SUSPEND of a device that is not live (already suspended);
 *            - RECONFIGURE of a device that is not suspended (nbd: only
 *              with NBD_REPLACE);
 *            - remap: the lower device is held exclusively by someone
 *              else (mounted, in use by LVM/dm/md, another cbd device).
 *   EPERM    - a mutating command without CAP_SYS_ADMIN.
 *   ENOTTY   - unknown ioctl.
 *   SUSPEND may also fail with the error of freezing the file system
 *   (FREEZE) or of flushing the backing (EIO); the device stays live then.
 *   On any error nothing is left behind: no device, no index, no reference
 *   to the backing fd.
 *
 * Replies (DEV_ADD, DEV_GET and its dump) carry every attribute of the
 * device: INDEX, VOLUME_ID, SIZE, STATE, DISK_NAME, LOGICAL_BLOCK_SIZE,
 * PHYSICAL_BLOCK_SIZE, FLAGS, BACKING_TYPE, NR_HW_QUEUES, QUEUE_DEPTH,
 * IO_TIMEOUT_MS, OPEN_COUNT, STATS, and for nbd CONNECTIONS,
 * LIVE_CONNECTIONS, DEAD_TIMEOUT_MS and NBD_URI (when given). FLAGS are the flags in effect:
 * DISCARD, WRITE_ZEROES and FUA are dropped when the backing cannot do
 * them (or the device is read-only). Events carry INDEX, VOLUME_ID, SIZE, STATE and
 * DISK_NAME, and for nbd CONNECTIONS and LIVE_CONNECTIONS.
 *
 * A forced REMOVE fails new I/O at once, lets requests in flight finish,
 * and frees the device when its last opener closes. The module parameter
 * live_devices (/sys/module/cinderblk/parameters/live_devices) counts the
 * devices not freed yet: 0 once all are removed and closed.
 *
 * Spare disks: the module keeps spare_devices (a module parameter, 0..16,
 * default 2) idle disks ready, state "idle" in sysfs, capacity 0, not
 * openable (ENXIO), unknown to every command (ENODEV), not in dumps or
 * live_devices. An ADD of a file backing with the default NR_HW_QUEUES and
 * QUEUE_DEPTH configures one instead of making a disk: the device is then
 * announced by a change uevent, after its volume_id is in sysfs, where a
 * disk made by the add is announced by its add uevent. A removed device is
 * deleted either way; spares are never reused.
 */
enum cinderblk_cmd {
	CINDERBLK_CMD_UNSPEC,
	CINDERBLK_CMD_DEV_ADD,		/* in: device attrs; reply: device */
	CINDERBLK_CMD_DEV_REMOVE,	/* in: INDEX [, FORCE] */
	CINDERBLK_CMD_DEV_GET,		/* in: INDEX; or dump of all devices */
	CINDERBLK_CMD_DEV_RESIZE,	/* in: INDEX, SIZE */
	CINDERBLK_CMD_DEV_SUSPEND,	/* in: INDEX [, FREEZE] */
	CINDERBLK_CMD_DEV_RESUME,	/* in: INDEX */
	CINDERBLK_CMD_DEV_RECONFIGURE,	/* in: INDEX, new backing; suspended */

	/* Notifications on the "events" multicast group: carry INDEX etc. */
	CINDERBLK_CMD_EVT_ADDED,
	CINDERBLK_CMD_EVT_REMOVED,
	CINDERBLK_CMD_EVT_RESIZED,
	CINDERBLK_CMD_EVT_SUSPENDED,
	CINDERBLK_CMD_EVT_RESUMED,
	CINDERBLK_CMD_EVT_LINK_DOWN,
	CINDERBLK_CMD_EVT_LINK_UP,

	__CINDERBLK_CMD_MAX,
};

#define CINDERBLK_CMD_MAX (__CINDERBLK_CMD_MAX - 1)

enum cinderblk_attr {
	CINDERBLK_ATTR_UNSPEC,
	CINDERBLK_ATTR_PAD,
	CINDERBLK_ATTR_INDEX,		/* u32 */
	CINDERBLK_ATTR_SIZE,		/* u64, bytes */
	CINDERBLK_ATTR_LOGICAL_BLOCK_SIZE,	/* u32, 512..4096, power of 2 */
	CINDERBLK_ATTR_PHYSICAL_BLOCK_SIZE,	/* u32, >= logical, power of 2 */
	CINDERBLK_ATTR_FLAGS,		/* u32, enum cinderblk_dev_flags */
	CINDERBLK_ATTR_VOLUME_ID,	/* string, CINDERBLK_VOLUME_ID_LEN */
	CINDERBLK_ATTR_BACKING_TYPE,	/* u32, enum cinderblk_backing_type */
	CINDERBLK_ATTR_BACKING_FD,	/* s32, file backing (O_RDWR fd) */
	CINDERBLK_ATTR_NR_HW_QUEUES,	/* u32, 0..64, 0 = online CPUs */
	CINDERBLK_ATTR_QUEUE_DEPTH,	/* u32, 0..4096, 0 = module default */
	CINDERBLK_ATTR_IO_TIMEOUT_MS,	/* u32, 0..3600000, 0 = module default */
	CINDERBLK_ATTR_FORCE,		/* flag: remove with I/O in flight */
	CINDERBLK_ATTR_FREEZE,		/* flag: suspend freezes the fs too */
	CINDERBLK_ATTR_STATE,		/* u32, enum cinderblk_dev_state (out) */
	CINDERBLK_ATTR_OPEN_COUNT,	/* u32 (out) */
	CINDERBLK_ATTR_STATS,		/* nested, enum cinderblk_stat (out) */
	CINDERBLK_ATTR_EXTENTS,		/* nested list of EXTENT (remap) */
	CINDERBLK_ATTR_SOCKET_FDS,	/* nested list of s32 (nbd) */
	CINDERBLK_ATTR_DISK_NAME,	/* string, "cbdN" (out) */
	CINDERBLK_ATTR_NBD_FLAGS,	/* u32, the export's transmission flags */
	CINDERBLK_ATTR_NBD_MAX_PAYLOAD,	/* u32, bytes, 0 = 32 MiB */
	CINDERBLK_ATTR_DEAD_TIMEOUT_MS,	/* u32, 0..3600000, 0 = 60000 */
	CINDERBLK_ATTR_CONNECTIONS,	/* u32, connection slots (out) */
	CINDERBLK_ATTR_LIVE_CONNECTIONS, /* u32, connected now (out) */
	CINDERBLK_ATTR_NBD_URI,		/* string, < CINDERBLK_NBD_URI_MAX */
	CINDERBLK_ATTR_NBD_REPLACE,	/* flag: RECONFIGURE replaces them all */
	__CINDERBLK_ATTR_MAX,
};

#define CINDERBLK_ATTR_MAX (__CINDERBLK_ATTR_MAX - 1)

/* Statistics of one device, nested in CINDERBLK_ATTR_STATS; all u64. */
enum cinderblk_stat {
	CINDERBLK_STAT_UNSPEC,
	CINDERBLK_STAT_PAD,
	CINDERBLK_STAT_READ_IOS,
	CINDERBLK_STAT_READ_BYTES,
	CINDERBLK_STAT_WRITE_IOS,
	CINDERBLK_STAT_WRITE_BYTES,
	CINDERBLK_STAT_FLUSH_IOS,
	CINDERBLK_STAT_DISCARD_IOS,
	CINDERBLK_STAT_WRITE_ZEROES_IOS,
	CINDERBLK_STAT_ERRORS,
	CINDERBLK_STAT_INFLIGHT,
	CINDERBLK_STAT_TIMEOUTS,	/* io_timeout_ms expiries of requests */
	CINDERBLK_STAT_LINK_DOWNS,	/* nbd: connections lost */
	CINDERBLK_STAT_RECONNECTS,	/* nbd: connections handed in later */
	CINDERBLK_STAT_REQUEUES,	/* nbd: requests resent elsewhere */
	__CINDERBLK_STAT_MAX,
};

#define CINDERBLK_STAT_MAX (__CINDERBLK_STAT_MAX - 1)

/* One extent of a remap table, nested in CINDERBLK_ATTR_EXTENTS; all u64. */
enum cinderblk_extent_attr {
	CINDERBLK_EXTENT_UNSPEC,
	CINDERBLK_EXTENT_PAD,
	CINDERBLK_EXTENT_START,		/* bytes, offset in the cbd device */
	CINDERBLK_EXTENT_LENGTH,	/* bytes */
	CINDERBLK_EXTENT_LOWER_OFFSET,	/* bytes, offset in the lower device */
	__CINDERBLK_EXTENT_MAX,
};

#define CINDERBLK_EXTENT_MAX (__CINDERBLK_EXTENT_MAX - 1)

enum cinderblk_backing_type {
	CINDERBLK_BACKING_NONE,
	CINDERBLK_BACKING_FILE,		/* regular file or block device fd */
	CINDERBLK_BACKING_REMAP,	/* block device fd + extent table */
	CINDERBLK_BACKING_NBD,		/* negotiated NBD sockets */
	__CINDERBLK_BACKING_MAX,
};

enum cinderblk_dev_flags {
	CINDERBLK_F_READ_ONLY		= 1U << 0,
	CINDERBLK_F_DISCARD		= 1U << 1,
	CINDERBLK_F_WRITE_ZEROES	= 1U << 2,
	CINDERBLK_F_FUA			= 1U << 3,
};

#define CINDERBLK_F_ALL (CINDERBLK_F_READ_ONLY | CINDERBLK_F_DISCARD | \
			 CINDERBLK_F_WRITE_ZEROES | CINDERBLK_F_FUA)

enum cinderblk_dev_state {
	CINDERBLK_STATE_LIVE = 1,
	CINDERBLK_STATE_SUSPENDED,
	CINDERBLK_STATE_LINK_DOWN,
	CINDERBLK_STATE_DYING,
	/*
	 * A spare disk made ahead of time (module parameter spare_devices):
	 * no backing, capacity 0, cannot be opened. Seen in sysfs only; GET
	 * and dumps do not report spares.
	 */
	CINDERBLK_STATE_IDLE,
};

/*
 * ioctl interface, for system software that prefers it to netlink.
 * Every struct starts with a version and ends with reserved space that must
 * be zero; the kernel refuses unknown versions and non-zero reserved fields.
 */
#define CINDERBLK_IOCTL_VERSION		1
#define CINDERBLK_IOCTL_MAGIC		0xCB	/* numbers 0x40..0x5f */

/* Control flags of struct cinderblk_ioc_dev.ctl_flags. */
#define CINDERBLK_CTL_FORCE		(1U << 0)	/* remove */
#define CINDERBLK_CTL_FREEZE		(1U << 1)	/* suspend */

/*
 * One extent of a remap table for the ioctls (see the netlink EXTENTS
 * above): bytes, reserved must be zero.
 */
struct cinderblk_ioc_extent {
	__u64 start;			/* offset in the cbd device */
	__u64 length;
	__u64 lower_offset;		/* offset in the lower block device */
	__u64 reserved;
};

/*
 * The remap fields sit in what was reserved space (the struct's size and
 * the ioctl numbers are unchanged; zero there means what it always did).
 * DEV_ADD and DEV_RECONFIGURE with backing_type CINDERBLK_BACKING_REMAP
 * read nr_extents entries of struct cinderblk_ioc_extent from the user
 * address in extents (EFAULT if unreadable); nr_extents 0 with extents 0
 * is the one-extent default. Any other command or backing type needs both
 * zero (EINVAL).
 */
struct cinderblk_ioc_dev {
	__u32 version;			/* in: CINDERBLK_IOCTL_VERSION */
	__u32 index;			/* in/out; CINDERBLK_INDEX_ANY on add */
	__u64 size;			/* bytes */
	__u32 logical_block_size;	/* 0 = 512 */
	__u32 physical_block_size;	/* 0 = logical */
	__u32 flags;			/* enum cinderblk_dev_flags */
	__u32 ctl_flags;		/* CINDERBLK_CTL_* */
	__u32 backing_type;		/* enum cinderblk_backing_type */
	__s32 backing_fd;
	__u32 nr_hw_queues;		/* 0 = default */
	__u32 queue_depth;		/* 0 = module default */
	__u32 io_timeout_ms;		/* 0 = module default */
	__u32 state;			/* out: enum cinderblk_dev_state */
	__u32 open_count;		/* out */
	__u32 __pad;
	char volume_id[CINDERBLK_VOLUME_ID_LEN + 4];	/* NUL-terminated */
	union {
		__u64 reserved[8];	/* zero, but for the remap fields */
		struct {
			__u64 extents;		/* remap: user address */
			__u32 nr_extents;	/* remap: entries there */
			__u32 __pad2;
		};
	};
};

/* Answer of CINDERBLK_IOC_INFO on /dev/cbdN. */
struct cinderblk_ioc_info {
	__u32 version;			/* out: CINDERBLK_IOCTL_VERSION */
	__u32 index;
	__u64 size;
	__u32 backing_type;
	__u32 state;
	__u32 flags;
	__u32 __pad;
	char volume_id[CINDERBLK_VOLUME_ID_LEN + 4];
	__u64 reserved[8];
};

#define CINDERBLK_IOC_DEV_ADD	_IOWR(CINDERBLK_IOCTL_MAGIC, 0x40, struct cinderblk_ioc_dev)
#define CINDERBLK_IOC_DEV_REMOVE _IOW(CINDERBLK_IOCTL_MAGIC, 0x41, struct cinderblk_ioc_dev)
#define CINDERBLK_IOC_DEV_GET	_IOWR(CINDERBLK_IOCTL_MAGIC, 0x42, struct cinderblk_ioc_dev)
#define CINDERBLK_IOC_DEV_RESIZE _IOW(CINDERBLK_IOCTL_MAGIC, 0x43, struct cinderblk_ioc_dev)
#define CINDERBLK_IOC_DEV_SUSPEND _IOW(CINDERBLK_IOCTL_MAGIC, 0x44, struct cinderblk_ioc_dev)
#define CINDERBLK_IOC_DEV_RESUME _IOW(CINDERBLK_IOCTL_MAGIC, 0x45, struct cinderblk_ioc_dev)
#define CINDERBLK_IOC_DEV_RECONFIGURE _IOW(CINDERBLK_IOCTL_MAGIC, 0x46, struct cinderblk_ioc_dev)
#define CINDERBLK_IOC_INFO	_IOR(CINDERBLK_IOCTL_MAGIC, 0x50, struct cinderblk_ioc_info)

#endif /* _UAPI_LINUX_CINDERBLK_H */
