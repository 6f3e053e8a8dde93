/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * Client of the cinderblk kernel module: creates, inspects and controls
 * /dev/cbdN block devices over the generic netlink family "cinderblk", and
 * listens to the module's events.
 *
 * Thread safety: a struct cl_kernel is not thread-safe. Use one handle per
 * thread (handles are cheap: one netlink socket each). Different handles
 * may be used concurrently.
 *
 * Every function returns 0 or a negative errno and, when @p err is not NULL,
 * fills it with a message; kernel errors carry the module's own message
 * (netlink extended ack) when it gave one.
 */
#ifndef CINDERLIB_KERNEL_H
#define CINDERLIB_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cinderlib/api.h"
#include "cinderlib/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Ask the module for a free index when adding a device (a spare disk's
 * when one fits, else the lowest one no device or spare holds).
 */
#define CL_DEV_INDEX_ANY	0xffffffffU
/** A volume id is a UUID in text form: 36 characters. */
#define CL_VOLUME_ID_LEN	36
/** Room for a disk name ("cbdN"), its NUL included. */
#define CL_DISK_NAME_MAX	32
/** Room for an nbd device's URI, its NUL included. */
#define CL_NBD_URI_MAX		256

/** Device flags (same values as the kernel's enum cinderblk_dev_flags). */
enum cl_dev_flag {
	CL_DEV_READ_ONLY	= 1U << 0,	/**< a read-only device */
	CL_DEV_DISCARD		= 1U << 1,	/**< discard (trim) */
	CL_DEV_WRITE_ZEROES	= 1U << 2,	/**< write zeroes */
	CL_DEV_FUA		= 1U << 3,	/**< forced unit access writes */
};

/** Where a device's I/O goes. */
enum cl_backing_type {
	CL_BACKING_NONE = 0,	/**< none (not a valid backing for an add) */
	CL_BACKING_FILE,	/**< regular file or block device fd */
	CL_BACKING_REMAP,	/**< block device fd + extent table */
	CL_BACKING_NBD,		/**< sockets after the NBD handshake */
};

/** A device's state, as the module reports it. */
enum cl_dev_state {
	CL_DEV_STATE_UNKNOWN = 0,	/**< not reported */
	CL_DEV_STATE_LIVE = 1,		/**< doing I/O */
	CL_DEV_STATE_SUSPENDED,		/**< I/O drained and held */
	CL_DEV_STATE_LINK_DOWN,		/**< nbd: every connection lost, I/O waits */
	CL_DEV_STATE_DYING,		/**< being removed */
};

/**
 * One extent of a remap backing, in bytes: device bytes [start,
 * start + length) are bytes [lower_offset, lower_offset + length) of the
 * lower block device. A table lists them in any order; together they must
 * cover [0, size) exactly, each a multiple of the logical block size
 * (EINVAL otherwise), at most the module parameter max_extents of them
 * (1024 by default).
 */
struct cl_extent {
	uint64_t start;		/**< offset in the cbd device */
	uint64_t length;	/**< bytes */
	uint64_t lower_offset;	/**< offset in the lower block device */
};

/** What to create. Zero means "module default" for every optional field. */
struct cl_dev_spec {
	uint32_t index;			/**< CL_DEV_INDEX_ANY for any free one */
	uint64_t size;			/**< bytes, multiple of the block size */
	uint32_t logical_block_size;	/**< 0 = 512 */
	uint32_t physical_block_size;	/**< 0 = logical */
	uint32_t flags;			/**< enum cl_dev_flag */
	const char *volume_id;		/**< UUID text; NULL = not sent */
	enum cl_backing_type backing_type;	/**< the backing */
	int backing_fd;			/**< file and remap backings */
	/** remap: the extent table; NULL/0 = one extent, [0, size) at lower offset 0 */
	const struct cl_extent *extents;
	size_t nr_extents;		/**< remap: entries of extents */
	/**
	 * nbd backing: sockets whose NBD handshake is done (they stay the
	 * caller's to close).
	 */
	const int *socket_fds;
	size_t nr_socket_fds;		/**< nbd: entries of socket_fds */
	uint32_t nbd_flags;		/**< nbd: the export's transmission flags, from the handshake */
	uint32_t nbd_max_payload;	/**< nbd: the export's largest request (0: 32 MiB) */
	/** nbd: how long I/O waits for a new connection when all are lost (0: 60 s). */
	uint32_t dead_timeout_ms;
	/** Where the sockets go (nbd://host:port/export), kept for reconnects. */
	const char *nbd_uri;
	uint32_t nr_hw_queues;		/**< hardware queues; 0 = module default */
	uint32_t queue_depth;		/**< 0 = module default */
	uint32_t io_timeout_ms;		/**< 0 = module default */
};

/** Initialise @p spec: index ANY, file backing, no fd, everything else 0. */
CL_API void cl_dev_spec_init(struct cl_dev_spec *spec);

/** I/O statistics of a device. */
struct cl_dev_stats {
	uint64_t read_ios;	/**< reads completed */
	uint64_t read_bytes;	/**< bytes read */
	uint64_t write_ios;	/**< writes completed */
	uint64_t write_bytes;	/**< bytes written */
	uint64_t flush_ios;	/**< flushes */
	uint64_t discard_ios;	/**< discards */
	uint64_t write_zeroes_ios;	/**< write-zeroes requests */
	uint64_t errors;	/**< requests that failed */
	uint64_t inflight;	/**< requests in flight now */
	uint64_t timeouts;	/**< times a request outlived io_timeout_ms */
	uint64_t link_downs;	/**< nbd: connections lost */
	uint64_t reconnects;	/**< nbd: connections handed in after the add */
	uint64_t requeues;	/**< nbd: requests sent again elsewhere */
};

/** What the module reports about a device; absent values are 0. */
struct cl_dev_info {
	uint32_t index;				/**< the device is cbd<index> */
	char disk_name[CL_DISK_NAME_MAX];	/**< "cbdN" */
	char volume_id[CL_VOLUME_ID_LEN + 1];	/**< the volume id it carries */
	uint64_t size;				/**< bytes */
	uint32_t logical_block_size;		/**< bytes */
	uint32_t physical_block_size;		/**< bytes */
	uint32_t flags;				/**< enum cl_dev_flag */
	enum cl_backing_type backing_type;	/**< the backing */
	enum cl_dev_state state;		/**< live, suspended, ... */
	uint32_t open_count;			/**< openers now */
	uint32_t nr_hw_queues;			/**< hardware queues */
	uint32_t queue_depth;			/**< requests per queue */
	uint32_t io_timeout_ms;			/**< the request timeout */
	uint32_t connections;			/**< nbd: connection slots */
	uint32_t live_connections;		/**< nbd: those connected now */
	uint32_t dead_timeout_ms;		/**< nbd: the dead timeout */
	char nbd_uri[CL_NBD_URI_MAX];		/**< "" when none was given */
	bool has_stats;				/**< stats was reported */
	struct cl_dev_stats stats;		/**< I/O statistics */
};

/**
 * @struct cl_kernel
 * A handle on the module: one netlink socket, for one thread at a time;
 * opaque.
 */
struct cl_kernel;

/**
 * Connect to the module. -ENOENT when the module is not loaded (the family
 * is not registered). Free with cl_kernel_close().
 */
CL_API int cl_kernel_open(struct cl_kernel **out, struct cl_error *err);
/** Close a handle (NULL is fine). */
CL_API void cl_kernel_close(struct cl_kernel *k);

/**
 * Create a device; @p out (may be NULL) receives the new device's info.
 * A remap backing (backing_fd: an O_RDWR block device, extents) holds the
 * block device exclusively while the device exists: -EBUSY when it is
 * mounted or held by someone else.
 */
CL_API int cl_kernel_dev_add(struct cl_kernel *k, const struct cl_dev_spec *spec,
			     struct cl_dev_info *out, struct cl_error *err);
/**
 * Remove device cbd<@p index>: -EBUSY while the device is open unless
 * @p force; -ENODEV if unknown.
 */
CL_API int cl_kernel_dev_remove(struct cl_kernel *k, uint32_t index, bool force,
				struct cl_error *err);
/** What the module reports about device cbd<@p index>; -ENODEV if unknown. */
CL_API int cl_kernel_dev_get(struct cl_kernel *k, uint32_t index,
			     struct cl_dev_info *out, struct cl_error *err);
/** All devices; *out is malloc()ed (NULL when *n is 0), free() it. */
CL_API int cl_kernel_dev_list(struct cl_kernel *k, struct cl_dev_info **out,
			      size_t *n, struct cl_error *err);
/** Change the size of device cbd<@p index> to @p size bytes. */
CL_API int cl_kernel_dev_resize(struct cl_kernel *k, uint32_t index,
				uint64_t size, struct cl_error *err);
/** Drain and flush in-flight I/O, hold new I/O; @p freeze freezes the fs. */
CL_API int cl_kernel_dev_suspend(struct cl_kernel *k, uint32_t index,
				 bool freeze, struct cl_error *err);
/** Resume a suspended device: held I/O goes on (a frozen file system is thawed). */
CL_API int cl_kernel_dev_resume(struct cl_kernel *k, uint32_t index,
				struct cl_error *err);
/** Swap a suspended file-backed device to @p backing_fd. */
CL_API int cl_kernel_dev_reconfigure(struct cl_kernel *k, uint32_t index,
				     int backing_fd, struct cl_error *err);
/**
 * Same for any backing type: uses backing_type, backing_fd, extents and
 * socket_fds of @p spec (its index field is ignored). A remap device takes
 * the size of its new table (the resize of a remap device).
 */
CL_API int cl_kernel_dev_reconfigure_spec(struct cl_kernel *k, uint32_t index,
					  const struct cl_dev_spec *spec,
					  struct cl_error *err);
/**
 * nbd: close every connection of a suspended device and put the sockets
 * of @p spec (one per connection slot, the same NBD flags) in their place:
 * new negotiations, e.g. to see an export that grew. -EBUSY when the
 * device is not suspended.
 */
CL_API int cl_kernel_dev_nbd_replace(struct cl_kernel *k, uint32_t index,
				     const struct cl_dev_spec *spec,
				     struct cl_error *err);

/** Events of the module's "events" multicast group. */
enum cl_kernel_event_type {
	CL_KEVENT_NONE = 0,	/**< none */
	CL_KEVENT_ADDED,	/**< a device was added */
	CL_KEVENT_REMOVED,	/**< a device was removed */
	CL_KEVENT_RESIZED,	/**< a device's size changed */
	CL_KEVENT_SUSPENDED,	/**< a device was suspended */
	CL_KEVENT_RESUMED,	/**< a device was resumed */
	CL_KEVENT_LINK_DOWN,	/**< nbd: a device lost a connection */
	CL_KEVENT_LINK_UP,	/**< nbd: a device was given a connection */
};

/** One event, as cl_kernel_event_wait() returns it. */
struct cl_kernel_event {
	enum cl_kernel_event_type type;	/**< what happened */
	uint32_t index;		/**< the device: cbd<index> */
	uint64_t size;		/**< 0 if the event carried none */
	enum cl_dev_state state; /**< CL_DEV_STATE_UNKNOWN if none */
	char volume_id[CL_VOLUME_ID_LEN + 1];	/**< "" if none */
	uint32_t connections;		/**< nbd devices: connection slots */
	uint32_t live_connections;	/**< nbd devices: those connected now */
};

/**
 * Open a handle subscribed to the event group. It can also be used for
 * requests, but events that arrive meanwhile are kept for
 * cl_kernel_event_wait() only on this handle.
 */
CL_API int cl_kernel_events_open(struct cl_kernel **out, struct cl_error *err);
/**
 * Wait up to @p timeout_ms (-1 = forever, 0 = poll) for the next event.
 * Returns 0 with *ev filled, -ETIMEDOUT when nothing came, -ENOBUFS when
 * the kernel dropped events (the socket overran: re-read the device list).
 */
CL_API int cl_kernel_event_wait(struct cl_kernel *k, int timeout_ms,
				struct cl_kernel_event *ev,
				struct cl_error *err);
/**
 * Descriptor of the event socket, for poll() loops. Events may already be
 * queued in the handle: after poll() says readable, call
 * cl_kernel_event_wait(k, 0, ...) until it returns -ETIMEDOUT.
 */
CL_API int cl_kernel_fd(const struct cl_kernel *k);

/** The name of a device state, for printing; never NULL. */
CL_API const char *cl_dev_state_name(enum cl_dev_state state);
/** The name of a backing type, for printing; never NULL. */
CL_API const char *cl_backing_type_name(enum cl_backing_type type);
/** The name of an event type, for printing; never NULL. */
CL_API const char *cl_kernel_event_name(enum cl_kernel_event_type type);

#ifdef __cplusplus
}
#endif

#endif /* CINDERLIB_KERNEL_H */
