/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * The client side of the NBD handshake (fixed newstyle negotiation), done
 * in userspace on a connected socket so that the socket can then be handed
 * to the kernel for the transmission phase: what nbd-client does, and
 * what libnbd cannot (it keeps its socket to itself).
 */
#ifndef CINDERLIB_NBD_H
#define CINDERLIB_NBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cinderlib/api.h"
#include "cinderlib/error.h"
#include "cinderlib/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @name Transmission flags
 * Transmission flags of an export (the NBD protocol's values).
 * @{
 */
#define CL_NBD_FLAG_HAS_FLAGS		(1u << 0)	/**< the flags are valid (always set) */
#define CL_NBD_FLAG_READ_ONLY		(1u << 1)	/**< the export is read-only */
#define CL_NBD_FLAG_SEND_FLUSH		(1u << 2)	/**< NBD_CMD_FLUSH */
#define CL_NBD_FLAG_SEND_FUA		(1u << 3)	/**< NBD_CMD_FLAG_FUA */
#define CL_NBD_FLAG_ROTATIONAL		(1u << 4)	/**< the medium is rotational */
#define CL_NBD_FLAG_SEND_TRIM		(1u << 5)	/**< NBD_CMD_TRIM */
#define CL_NBD_FLAG_SEND_WRITE_ZEROES	(1u << 6)	/**< NBD_CMD_WRITE_ZEROES */
#define CL_NBD_FLAG_SEND_DF		(1u << 7)	/**< NBD_CMD_FLAG_DF */
#define CL_NBD_FLAG_CAN_MULTI_CONN	(1u << 8)	/**< a flush on one connection covers them all */
#define CL_NBD_FLAG_SEND_RESIZE		(1u << 9)	/**< NBD_CMD_RESIZE */
#define CL_NBD_FLAG_SEND_CACHE		(1u << 10)	/**< NBD_CMD_CACHE */
#define CL_NBD_FLAG_SEND_FAST_ZERO	(1u << 11)	/**< NBD_CMD_FLAG_FAST_ZERO */
/** @} */

/** Connections of an nbd attach when the export allows several. */
#define CL_NBD_DEFAULT_CONNECTIONS	4

/** The largest export name the protocol allows a client to send. */
#define CL_NBD_MAX_NAME 4096

/** What the server said of the export. */
struct cl_nbd_export {
	uint64_t size;			/**< bytes */
	uint16_t flags;			/**< CL_NBD_FLAG_* */
	/**
	 * Block sizes (NBD_INFO_BLOCK_SIZE); when the server sends none,
	 * the protocol's defaults: 1, 4096, 32 MiB.
	 */
	uint32_t min_block;		/**< bytes */
	uint32_t preferred_block;	/**< bytes */
	uint32_t max_block;		/**< bytes */
};

/**
 * Negotiate export @p name on the connected stream socket @p fd: the fixed
 * newstyle greeting, then NBD_OPT_GO asking for the export's size, flags
 * and block sizes (NBD_OPT_EXPORT_NAME when the server has no GO). Each
 * step waits at most @p timeout_ms. On success the socket is in the
 * transmission phase and @p out describes the export.
 *
 * Errors (the message names the export, and the server's own message
 * when it sent one): -EPROTO for anything that breaks the protocol (bad
 * magic, no fixed newstyle, a reply to another option, an oversized
 * reply, invalid block sizes, a size of 0 or past 2^63 - 1), -ENOENT for
 * an unknown export, -EACCES for a refusal by policy, -EOPNOTSUPP when
 * the server requires TLS or what we cannot offer, -ECONNRESET when the
 * server closed the connection, -ETIMEDOUT when it did not answer in
 * time, -EINVAL for an export name that cannot be sent.
 */
CL_API int cl_nbd_handshake(int fd, const char *name, int timeout_ms,
			    struct cl_nbd_export *out, struct cl_error *err);

/** What cl_nbd_attach() attaches. */
struct cl_nbd_attach {
	const char *uri;		/**< nbd://HOST[:PORT]/EXPORT */
	const char *volume_id;		/**< UUID text for the device */
	/** Connections when the export allows several; 0: the default. */
	unsigned int connections;
	bool read_only;			/**< a read-only device */
	uint32_t io_timeout_ms;		/**< 0: the module's */
	uint32_t dead_timeout_ms;	/**< 0: 60 s */
};

/**
 * Connect to the export at @p a->uri (TCP), negotiate every connection,
 * and add an nbd device of its size on them (the kernel keeps the URI for
 * reconnects). The error names the server and says what it answered.
 */
CL_API int cl_nbd_attach(struct cl_kernel *k, const struct cl_nbd_attach *a,
			 struct cl_dev_info *out, struct cl_error *err);

/**
 * Format the NBD URI of a TCP export into @p uri (@p len bytes), as the
 * kernel keeps them for reconnects: nbd://HOST:PORT/EXPORT (an IPv6 HOST
 * in brackets, EXPORT percent-encoded). 0 or -ENAMETOOLONG.
 */
CL_API int cl_nbd_uri_format(const char *host, const char *port,
			     const char *export, char *uri, size_t len);
/**
 * Parse an NBD URI of a TCP export, nbd://HOST[:PORT]/EXPORT (an IPv6 HOST
 * in brackets, EXPORT percent-encoded, PORT 10809 when absent), into the
 * three buffers. 0, -EINVAL for what is not such a URI, -ENAMETOOLONG
 * when a part does not fit its buffer.
 */
CL_API int cl_nbd_uri_parse(const char *uri, char *host, size_t host_len,
			    char *port, size_t port_len, char *export,
			    size_t export_len);

#ifdef __cplusplus
}
#endif

#endif /* CINDERLIB_NBD_H */
