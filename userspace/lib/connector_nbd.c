// SPDX-License-Identifier: Apache-2.0
/*
 * The "nbd" connector: connection_info.data names an NBD export (host,
 * port, export_name, multi_conn). It opens as many TCP connections as the
 * export allows (one without multi-conn), negotiates each in userspace
 * (nbd_handshake.c), checks that they agree, and hands them to the kernel
 * as an nbd backing. The same code reconnects the lost connections of a
 * device (the daemon, after a link-down event).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <linux/cinderblk.h>

#include "cinderlib/kernel.h"
#include "cinderlib/nbd.h"
#include "cl_internal.h"

#define CONNECT_TIMEOUT_MS	10000
#define HANDSHAKE_TIMEOUT_MS	10000
/*
 * A peer that stops answering is noticed within about 30 s even with no
 * I/O (keepalive) or with data unacknowledged (user timeout): the kernel
 * then drops the connection and the daemon makes a new one.
 */
#define KEEPALIVE_IDLE_S	10
#define KEEPALIVE_INTERVAL_S	5
#define KEEPALIVE_COUNT		3
#define USER_TIMEOUT_MS		30000

struct nbd_target {
	char host[256];
	char port[16];
	char export_name[CL_NBD_URI_MAX];
	bool multi_conn;
};

static int target_from_data(const struct cl_dict *data, const char *volume_id,
			    struct nbd_target *t, struct cl_error *err)
{
	const char *host = cl_dict_get(data, "host");
	const char *port = cl_dict_get(data, "port");
	const char *name = cl_dict_get(data, "export_name");
	const char *mc = cl_dict_get(data, "multi_conn");

	if (!host || !host[0] || !port || !port[0] || !name)
		return cl_error_set(err, -EINVAL,
				    "connection_info of volume %s needs host, port and export_name for nbd",
				    volume_id);
	if (strlen(host) >= sizeof(t->host) || strlen(port) >= sizeof(t->port) ||
	    strlen(name) >= sizeof(t->export_name) / 3)
		return cl_error_set(err, -EINVAL,
				    "connection_info of volume %s: host, port or export_name too long",
				    volume_id);
	strcpy(t->host, host);
	strcpy(t->port, port);
	strcpy(t->export_name, name);
	t->multi_conn = false;
	if (mc && cl_parse_bool(mc, &t->multi_conn))
		return cl_error_set(err, -EINVAL,
				    "connection_info of volume %s: multi_conn '%s' is not a boolean",
				    volume_id, mc);
	return 0;
}

static bool uri_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* nbd://host:port/export, the export percent-encoded; 0 or -ENAMETOOLONG. */
int cl_nbd_uri_format(const char *host, const char *port, const char *export,
		      char *uri, size_t len)
{
	bool v6 = strchr(host, ':') != NULL;
	size_t n;
	int w;

	w = snprintf(uri, len, "nbd://%s%s%s:%s/", v6 ? "[" : "", host,
		     v6 ? "]" : "", port);
	if (w < 0 || (size_t)w >= len)
		return -ENAMETOOLONG;
	n = (size_t)w;
	for (const unsigned char *c = (const unsigned char *)export; *c; c++) {
		if (n + 4 > len)
			return -ENAMETOOLONG;
		if (uri_plain(*c))
			uri[n++] = (char)*c;
		else
			n += (size_t)snprintf(uri + n, 4, "%%%02X", *c);
	}
	uri[n] = '\0';
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cl_nbd_uri_parse(const char *uri, char *host, size_t host_len, char *port,
		     size_t port_len, char *export, size_t export_len)
{
	const char *p, *h_end, *slash;
	size_t n = 0;

	if (strncmp(uri, "nbd://", 6) != 0)
		return -EINVAL;
	p = uri + 6;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	if (*p == '[') {
		h_end = strchr(p, ']');
		if (!h_end || h_end > slash)
			return -EINVAL;
		if ((size_t)(h_end - p - 1) >= host_len)
			return -ENAMETOOLONG;
		memcpy(host, p + 1, (size_t)(h_end - p - 1));
		host[h_end - p - 1] = '\0';
		p = h_end + 1;
	} else {
		h_end = memchr(p, ':', (size_t)(slash - p));
		if (!h_end)
			h_end = slash;
		if ((size_t)(h_end - p) >= host_len)
			return -ENAMETOOLONG;
		memcpy(host, p, (size_t)(h_end - p));
		host[h_end - p] = '\0';
		p = h_end;
	}
	if (!host[0])
		return -EINVAL;
	if (*p == ':') {
		p++;
		if (p == slash || (size_t)(slash - p) >= port_len)
			return -EINVAL;
		memcpy(port, p, (size_t)(slash - p));
		port[slash - p] = '\0';
		for (const char *c = port; *c; c++)
			if (*c < '0' || *c > '9')
				return -EINVAL;
	} else if (p == slash) {
		snprintf(port, port_len, "10809");	/* NBD's own port */
	} else {
		return -EINVAL;
	}
	for (p = *slash ? slash + 1 : slash; *p; p++) {
		int c = (unsigned char)*p;

		if (c == '%') {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);

			if (lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			p += 2;
		}
		if (n + 1 >= export_len)
			return -ENAMETOOLONG;
		export[n++] = (char)c;
	}
	export[n] = '\0';
	return 0;
}

static void set_socket_options(int fd)
{
	int one = 1, idle = KEEPALIVE_IDLE_S, intvl = KEEPALIVE_INTERVAL_S;
	int cnt = KEEPALIVE_COUNT;
	unsigned int user_timeout = USER_TIMEOUT_MS;

	/* Best effort: a connection works without any of them. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout,
		   sizeof(user_timeout));
}

/* A connect that gives up after @timeout_ms; the fd, or -errno. */
static int connect_timeout(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, flags, soerr = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			soerr = errno;
			goto fail;
		}
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, timeout_ms) != 1) {
			soerr = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr)
			goto fail;
	}
	fcntl(fd, F_SETFL, flags);
	return fd;
fail:
	close(fd);
	return -soerr;
}

/* One negotiated connection to @t: the fd, or -errno with @err set. */
static int open_one(const struct nbd_target *t, struct cl_nbd_export *ex,
		    struct cl_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int fd = -ECONNREFUSED, ret;

	ret = getaddrinfo(t->host, t->port, &hints, &res);
	if (ret)
		return cl_error_set(err, -EHOSTUNREACH,
				    "NBD server %s port %s: %s", t->host,
				    t->port, gai_strerror(ret));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_timeout(ai, CONNECT_TIMEOUT_MS);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return cl_error_set(err, fd,
				    "cannot connect to NBD server %s port %s: %s",
				    t->host, t->port, strerror(-fd));
	set_socket_options(fd);
	ret = cl_nbd_handshake(fd, t->export_name, HANDSHAKE_TIMEOUT_MS, ex,
			       err);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * @n negotiated connections into @fds (all or none). Every connection
 * must describe the same export as the first (or as @want when given).
 */
static int open_many(const struct nbd_target *t, unsigned int n, int *fds,
		     const struct cl_nbd_export *want, struct cl_nbd_export *ex,
		     struct cl_error *err)
{
	struct cl_nbd_export one;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		fds[i] = open_one(t, i || want ? &one : ex, err);
		if (fds[i] < 0) {
			ret = fds[i];
			break;
		}
		if (!i && !want)
			continue;
		if (want && !i)
			*ex = one;
		if (one.size != (want ? want->size : ex->size) ||
		    one.flags != (want ? want->flags : ex->flags)) {
			ret = cl_error_set(err, -EPROTO,
					   "NBD server %s port %s: export %s changed (size %llu, flags 0x%x; expected %llu, 0x%x)",
					   t->host, t->port, t->export_name,
					   (unsigned long long)one.size,
					   one.flags,
					   (unsigned long long)(want ? want->size : ex->size),
					   want ? want->flags : ex->flags);
			close(fds[i]);
			break;
		}
	}
	if (ret)
		while (i--)
			close(fds[i]);
	return ret;
}

/* A logical block the server can take, as the kernel wants it. */
static uint32_t block_size(uint32_t server_min)
{
	uint32_t bs = 512;

	while (bs < server_min && bs < 4096)
		bs <<= 1;
	return bs;
}

/*
 * Connect to @t, as many connections as @want (0: the default) when the
 * export takes several, and add the device.
 */
static int attach_target(struct cl_kernel *k, const struct nbd_target *t,
			 const struct cl_nbd_attach *a, struct cl_dev_info *out,
			 struct cl_error *err)
{
	int fds[CINDERBLK_NBD_MAX_CONNECTIONS];
	char uri[CL_NBD_URI_MAX];
	struct cl_nbd_export ex;
	struct cl_dev_spec spec;
	unsigned int n, i;
	int ret;

	if (cl_nbd_uri_format(t->host, t->port, t->export_name, uri,
			      sizeof(uri)))
		return cl_error_set(err, -ENAMETOOLONG,
				    "the NBD server's address is too long");
	ret = open_many(t, 1, fds, NULL, &ex, err);
	if (ret)
		return ret;
	n = a->connections ? a->connections : CL_NBD_DEFAULT_CONNECTIONS;
	if (n > CINDERBLK_NBD_MAX_CONNECTIONS)
		n = CINDERBLK_NBD_MAX_CONNECTIONS;
	if (!(ex.flags & CL_NBD_FLAG_CAN_MULTI_CONN))
		n = 1;
	if (n > 1) {
		ret = open_many(t, n - 1, fds + 1, &ex, &ex, err);
		if (ret) {
			close(fds[0]);
			return ret;
		}
	}
	if (ex.min_block > 4096) {
		ret = cl_error_set(err, -EINVAL,
				   "NBD export %s needs blocks of %u bytes: at most 4096 can be attached",
				   t->export_name, ex.min_block);
		goto out;
	}
	cl_dev_spec_init(&spec);
	spec.volume_id = a->volume_id;
	spec.logical_block_size = block_size(ex.min_block);
	if (ex.preferred_block >= spec.logical_block_size &&
	    ex.preferred_block <= 4096 &&
	    !(ex.preferred_block & (ex.preferred_block - 1)))
		spec.physical_block_size = ex.preferred_block;
	spec.size = ex.size - ex.size % spec.logical_block_size;
	if (!spec.size) {
		ret = cl_error_set(err, -EINVAL,
				   "NBD export %s is smaller than one block",
				   t->export_name);
		goto out;
	}
	spec.backing_type = CL_BACKING_NBD;
	spec.socket_fds = fds;
	spec.nr_socket_fds = n;
	spec.nbd_flags = ex.flags;
	spec.nbd_max_payload = ex.max_block;
	spec.io_timeout_ms = a->io_timeout_ms;
	spec.dead_timeout_ms = a->dead_timeout_ms;
	spec.nbd_uri = uri;
	/* The kernel drops what the export cannot do. */
	spec.flags = CL_DEV_DISCARD | CL_DEV_WRITE_ZEROES | CL_DEV_FUA;
	if (a->read_only || (ex.flags & CL_NBD_FLAG_READ_ONLY))
		spec.flags |= CL_DEV_READ_ONLY;
	ret = cl_kernel_dev_add(k, &spec, out, err);
out:
	/* The kernel holds its own references to the sockets. */
	for (i = 0; i < n; i++)
		close(fds[i]);
	return ret;
}

int cl_nbd_attach(struct cl_kernel *k, const struct cl_nbd_attach *a,
		  struct cl_dev_info *out, struct cl_error *err)
{
	struct nbd_target t = { 0 };

	if (!a->uri || cl_nbd_uri_parse(a->uri, t.host, sizeof(t.host), t.port,
					sizeof(t.port), t.export_name,
					sizeof(t.export_name)))
		return cl_error_set(err, -EINVAL,
				    "'%s' is not an NBD URI (nbd://HOST[:PORT]/EXPORT)",
				    a->uri ? a->uri : "");
	if (!a->volume_id)
		return cl_error_set(err, -EINVAL, "an nbd device needs a volume id");
	return attach_target(k, &t, a, out, err);
}

static int connect_nbd(struct cl_kernel *k, const struct cl_attach_request *req,
		       struct cl_dev_info *out, struct cl_error *err)
{
	struct cl_nbd_attach a = {
		.volume_id = req->volume_id,
		.connections = req->nbd_connections,
		.read_only = req->read_only,
		.io_timeout_ms = req->nbd_io_timeout_ms,
		.dead_timeout_ms = req->nbd_dead_timeout_ms,
	};
	struct nbd_target t;
	int ret;

	ret = target_from_data(req->data, req->volume_id, &t, err);
	if (ret)
		return ret;
	/* The target says whether several connections are safe. */
	if (!t.multi_conn)
		a.connections = 1;
	return attach_target(k, &t, &a, out, err);
}

/* The NBD target of device @dev, from the URI the kernel keeps. */
static int target_of_device(const struct cl_dev_info *dev,
			    struct nbd_target *t, struct cl_error *err)
{
	if (dev->backing_type != CL_BACKING_NBD)
		return cl_error_set(err, -EINVAL, "%s is not an nbd device",
				    dev->disk_name);
	if (!dev->nbd_uri[0])
		return cl_error_set(err, -ENOENT,
				    "%s: the kernel knows no NBD address for it (added without one): detach and attach it again",
				    dev->disk_name);
	if (cl_nbd_uri_parse(dev->nbd_uri, t->host, sizeof(t->host), t->port,
			     sizeof(t->port), t->export_name,
			     sizeof(t->export_name)))
		return cl_error_set(err, -EINVAL, "%s: bad NBD address '%s'",
				    dev->disk_name, dev->nbd_uri);
	return 0;
}

int cl_nbd_reconnect_device(struct cl_kernel *k, const struct cl_dev_info *dev,
			    struct cl_error *err)
{
	int fds[CINDERBLK_NBD_MAX_CONNECTIONS];
	struct cl_nbd_export want = { 0 };
	struct cl_dev_spec spec;
	struct nbd_target t = { 0 };
	unsigned int lost, i;
	int ret;

	ret = target_of_device(dev, &t, err);
	if (ret)
		return ret;
	lost = dev->connections > dev->live_connections ?
	       dev->connections - dev->live_connections : 0;
	if (!lost)
		return 0;
	if (lost > CINDERBLK_NBD_MAX_CONNECTIONS)
		return cl_error_set(err, -EPROTO, "%s: %u lost connections?",
				    dev->disk_name, lost);
	/* The first connection says what the export is now. */
	ret = open_many(&t, lost, fds, NULL, &want, err);
	if (ret)
		return ret;
	cl_dev_spec_init(&spec);
	spec.backing_type = CL_BACKING_NBD;
	spec.socket_fds = fds;
	spec.nr_socket_fds = lost;
	spec.nbd_flags = want.flags;
	ret = cl_kernel_dev_reconfigure_spec(k, dev->index, &spec, err);
	for (i = 0; i < lost; i++)
		close(fds[i]);
	return ret;
}

/* Suspended @dev gets the sockets @fds in place of its connections. */
static int replace_and_resize(struct cl_kernel *k, const struct cl_dev_info *dev,
			      const int *fds, uint32_t nbd_flags, uint64_t size,
			      struct cl_error *err)
{
	struct cl_error rerr = { 0 };
	struct cl_dev_spec spec;
	int ret;

	/* Nothing in flight meanwhile: the queue is frozen. */
	ret = cl_kernel_dev_suspend(k, dev->index, false, err);
	if (ret)
		return ret;
	cl_dev_spec_init(&spec);
	spec.backing_type = CL_BACKING_NBD;
	spec.socket_fds = fds;
	spec.nr_socket_fds = dev->connections;
	spec.nbd_flags = nbd_flags;
	ret = cl_kernel_dev_nbd_replace(k, dev->index, &spec, err);
	if (!ret)
		ret = cl_kernel_dev_resize(k, dev->index, size, err);
	if (cl_kernel_dev_resume(k, dev->index, &rerr) && !ret)
		ret = cl_error_set(err, rerr.code, "%s", rerr.msg);
	return ret;
}

int cl_nbd_refresh_device(struct cl_kernel *k, const struct cl_dev_info *dev,
			  uint64_t *size, struct cl_error *err)
{
	int fds[CINDERBLK_NBD_MAX_CONNECTIONS];
	struct nbd_target t = { 0 };
	struct cl_nbd_export ex;
	uint64_t new_size;
	unsigned int n = dev->connections, i;
	int ret;

	*size = dev->size;
	ret = target_of_device(dev, &t, err);
	if (ret)
		return ret;
	if (!n || n > CINDERBLK_NBD_MAX_CONNECTIONS)
		return cl_error_set(err, -EPROTO, "%s: %u connections?",
				    dev->disk_name, n);
	/* Every one must see the same export: its size now. */
	ret = open_many(&t, n, fds, NULL, &ex, err);
	if (ret)
		return ret;
	new_size = ex.size - ex.size % dev->logical_block_size;
	if (new_size < dev->size)
		ret = cl_error_set(err, -EPROTO,
				   "NBD server %s port %s: export %s shrank from %llu to %llu bytes: %s keeps its size",
				   t.host, t.port, t.export_name,
				   (unsigned long long)dev->size,
				   (unsigned long long)new_size, dev->disk_name);
	else if (new_size > dev->size)
		ret = replace_and_resize(k, dev, fds, ex.flags, new_size, err);
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (!ret)
		*size = new_size;
	return ret;
}

const struct cl_connector_type cl_connector_nbd = {
	.name = "nbd",
	.connect_volume = connect_nbd,
};
