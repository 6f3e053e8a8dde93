// SPDX-License-Identifier: Apache-2.0
/*
 * NBD fixed newstyle negotiation, client side (the NBD protocol document,
 * "Handshake"). Small and strict on purpose: every length the server
 * sends is bounded before it is read, every reply must answer the option
 * asked, and nothing is left half-read when an error is returned (the
 * caller closes the socket). The transmission phase is the kernel's.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cinderlib/nbd.h"
#include "cl_internal.h"

#define NBDMAGIC		0x4e42444d41474943ULL	/* "NBDMAGIC" */
#define IHAVEOPT		0x49484156454f5054ULL	/* "IHAVEOPT" */
#define REPLY_MAGIC		0x0003e889045565a9ULL

#define FLAG_FIXED_NEWSTYLE	(1u << 0)
#define FLAG_NO_ZEROES		(1u << 1)

#define OPT_EXPORT_NAME		1
#define OPT_GO			7

#define REP_ACK			1
#define REP_INFO		3
#define REP_ERR			(1u << 31)
#define REP_ERR_UNSUP		(REP_ERR | 1)
#define REP_ERR_POLICY		(REP_ERR | 2)
#define REP_ERR_INVALID		(REP_ERR | 3)
#define REP_ERR_PLATFORM	(REP_ERR | 4)
#define REP_ERR_TLS_REQD	(REP_ERR | 5)
#define REP_ERR_UNKNOWN		(REP_ERR | 6)
#define REP_ERR_SHUTDOWN	(REP_ERR | 7)
#define REP_ERR_BLOCK_SIZE_REQD	(REP_ERR | 8)
#define REP_ERR_TOO_BIG		(REP_ERR | 9)

#define INFO_EXPORT		0
#define INFO_BLOCK_SIZE		3

/* No reply of ours needs more; a bigger one is a broken server. */
#define MAX_REPLY		4096
#define MAX_INFO_REPLIES	64
#define DEFAULT_MAX_BLOCK	(32u << 20)

struct nbd_conn {
	int fd;
	int timeout_ms;
	const char *name;
	struct cl_error *err;
};

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get_be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static unsigned char *put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
	return p + 8;
}

static unsigned char *put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

static unsigned char *put_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(struct nbd_conn *c, int code, const char *what)
{
	return cl_error_set(c->err, code, "NBD export '%s': %s", c->name, what);
}

/* Wait until @fd is ready for @events, or the step's deadline passes. */
static int wait_ready(struct nbd_conn *c, short events, int64_t deadline)
{
	struct pollfd p = { .fd = c->fd, .events = events };

	for (;;) {
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return fail(c, -ETIMEDOUT, "the server did not answer in time");
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return cl_error_set(c->err, -errno,
					    "NBD export '%s': poll: %s",
					    c->name, strerror(errno));
	}
}

static int read_full(struct nbd_conn *c, void *buf, size_t len)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	unsigned char *p = buf;

	while (len) {
		ssize_t n;
		int ret = wait_ready(c, POLLIN, deadline);

		if (ret)
			return ret;
		n = recv(c->fd, p, len, MSG_DONTWAIT);
		if (n == 0)
			return fail(c, -ECONNRESET,
				    "the server closed the connection during the handshake");
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return cl_error_set(c->err, -errno,
					    "NBD export '%s': receive: %s",
					    c->name, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_full(struct nbd_conn *c, const void *buf, size_t len)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	const unsigned char *p = buf;

	while (len) {
		ssize_t n;
		int ret = wait_ready(c, POLLOUT, deadline);

		if (ret)
			return ret;
		n = send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return fail(c, -ECONNRESET,
					    "the server closed the connection during the handshake");
			return cl_error_set(c->err, -errno,
					    "NBD export '%s': send: %s",
					    c->name, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int greeting(struct nbd_conn *c, bool *no_zeroes)
{
	unsigned char buf[18], reply[4];
	uint16_t flags;
	uint32_t cflags;
	/* The magics first: an oldstyle server sends no flags after them. */
	int ret = read_full(c, buf, 16);

	if (ret)
		return ret;
	if (get_be64(buf) != NBDMAGIC)
		return fail(c, -EPROTO, "the server's greeting is not NBD (bad magic)");
	if (get_be64(buf + 8) != IHAVEOPT)
		return fail(c, -EPROTO,
			    "the server speaks only oldstyle NBD; newstyle negotiation is required");
	ret = read_full(c, buf + 16, 2);
	if (ret)
		return ret;
	flags = get_be16(buf + 16);
	if (!(flags & FLAG_FIXED_NEWSTYLE))
		return fail(c, -EPROTO,
			    "the server does not offer fixed newstyle negotiation");
	*no_zeroes = flags & FLAG_NO_ZEROES;
	cflags = FLAG_FIXED_NEWSTYLE | (*no_zeroes ? FLAG_NO_ZEROES : 0);
	put_be32(reply, cflags);
	return write_full(c, reply, sizeof(reply));
}

static int send_option(struct nbd_conn *c, uint32_t opt, const void *data,
		       uint32_t len)
{
	unsigned char hdr[16], *p = hdr;
	int ret;

	p = put_be64(p, IHAVEOPT);
	p = put_be32(p, opt);
	put_be32(p, len);
	ret = write_full(c, hdr, sizeof(hdr));
	if (!ret && len)
		ret = write_full(c, data, len);
	return ret;
}

struct opt_reply {
	uint32_t type;
	uint32_t len;
	unsigned char data[MAX_REPLY + 1];	/* NUL after the payload */
};

static int read_reply(struct nbd_conn *c, uint32_t opt, struct opt_reply *r)
{
	unsigned char hdr[20];
	int ret = read_full(c, hdr, sizeof(hdr));

	if (ret)
		return ret;
	if (get_be64(hdr) != REPLY_MAGIC)
		return fail(c, -EPROTO, "bad magic in an option reply");
	if (get_be32(hdr + 8) != opt)
		return fail(c, -EPROTO, "the server answered another option than the one asked");
	r->type = get_be32(hdr + 12);
	r->len = get_be32(hdr + 16);
	if (r->len > MAX_REPLY)
		return fail(c, -EPROTO, "an option reply is too long");
	ret = read_full(c, r->data, r->len);
	r->data[r->len] = '\0';
	return ret;
}

/* An NBD_REP_ERR_* as an errno and a message with the server's text. */
static int reply_error(struct nbd_conn *c, const struct opt_reply *r)
{
	static const struct {
		uint32_t type;
		int code;
		const char *what;
	} errs[] = {
		{ REP_ERR_POLICY, -EACCES, "refused by the server's policy (is this host allowed?)" },
		{ REP_ERR_INVALID, -EINVAL, "the server found the request invalid" },
		{ REP_ERR_PLATFORM, -EOPNOTSUPP, "not supported on the server's platform" },
		{ REP_ERR_TLS_REQD, -EOPNOTSUPP, "the server requires TLS" },
		{ REP_ERR_UNKNOWN, -ENOENT, "no such export on the server" },
		{ REP_ERR_SHUTDOWN, -ESHUTDOWN, "the server is shutting down" },
		{ REP_ERR_BLOCK_SIZE_REQD, -EOPNOTSUPP, "the server requires block size negotiation" },
		{ REP_ERR_TOO_BIG, -EINVAL, "the request is too big for the server" },
	};
	const char *what = "the server refused the export";
	int code = -EPROTO;
	char msg[MAX_REPLY + 1];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		if (errs[i].type == r->type) {
			what = errs[i].what;
			code = errs[i].code;
		}
	}
	/* The server's text, printable characters only. */
	for (uint32_t i = 0; i < r->len; i++)
		if (r->data[i] >= 0x20 && r->data[i] < 0x7f)
			msg[n++] = (char)r->data[i];
	msg[n] = '\0';
	return cl_error_set(c->err, code, "NBD export '%s': %s%s%s", c->name,
			    what, n ? ": " : "", msg);
}

static bool power_of_2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static int check_export(struct nbd_conn *c, const struct cl_nbd_export *e)
{
	if (e->size == 0)
		return fail(c, -EPROTO, "the server reports a size of 0");
	if (e->size > (uint64_t)INT64_MAX)
		return fail(c, -EPROTO, "the server reports a size past 2^63 - 1 bytes");
	if (!power_of_2(e->min_block) || e->min_block > 65536)
		return fail(c, -EPROTO,
			    "invalid minimum block size (not a power of 2 up to 64 KiB)");
	if (!power_of_2(e->preferred_block) ||
	    e->preferred_block < e->min_block ||
	    e->preferred_block > (32u << 20))
		return fail(c, -EPROTO, "invalid preferred block size");
	if (e->max_block < e->preferred_block ||
	    (e->max_block != UINT32_MAX && e->max_block % e->min_block))
		return fail(c, -EPROTO, "invalid maximum block size");
	return 0;
}

/* An NBD_REP_INFO of NBD_OPT_GO; unknown information types are skipped. */
static int take_info(struct nbd_conn *c, const struct opt_reply *r,
		     struct cl_nbd_export *e, bool *have_export)
{
	uint16_t type;

	if (r->len < 2)
		return fail(c, -EPROTO, "an information reply is too short");
	type = get_be16(r->data);
	switch (type) {
	case INFO_EXPORT:
		if (r->len != 12)
			return fail(c, -EPROTO, "a malformed NBD_INFO_EXPORT");
		e->size = get_be64(r->data + 2);
		e->flags = get_be16(r->data + 10);
		*have_export = true;
		break;
	case INFO_BLOCK_SIZE:
		if (r->len != 14)
			return fail(c, -EPROTO, "a malformed NBD_INFO_BLOCK_SIZE");
		e->min_block = get_be32(r->data + 2);
		e->preferred_block = get_be32(r->data + 6);
		e->max_block = get_be32(r->data + 10);
		break;
	default:
		break;
	}
	return 0;
}

/* 0 in the transmission phase, 1 when the server has no NBD_OPT_GO. */
static int opt_go(struct nbd_conn *c, struct cl_nbd_export *e)
{
	size_t name_len = strlen(c->name);
	unsigned char req[4 + CL_NBD_MAX_NAME + 2 + 2], *p = req;
	struct opt_reply r;
	bool have_export = false;
	int ret;

	p = put_be32(p, (uint32_t)name_len);
	memcpy(p, c->name, name_len);
	p += name_len;
	p = put_be16(p, 1);
	p = put_be16(p, INFO_BLOCK_SIZE);
	ret = send_option(c, OPT_GO, req, (uint32_t)(p - req));
	for (int i = 0; !ret && i < MAX_INFO_REPLIES; i++) {
		ret = read_reply(c, OPT_GO, &r);
		if (ret)
			return ret;
		if (r.type == REP_INFO) {
			ret = take_info(c, &r, e, &have_export);
			continue;
		}
		if (r.type == REP_ACK) {
			if (!have_export)
				return fail(c, -EPROTO,
					    "the server accepted the export without telling its size");
			return 0;
		}
		/* A server from before NBD_OPT_GO: the caller falls back. */
		if (r.type == REP_ERR_UNSUP)
			return 1;
		if (r.type & REP_ERR)
			return reply_error(c, &r);
		return fail(c, -EPROTO, "an unexpected reply to NBD_OPT_GO");
	}
	return ret ? ret : fail(c, -EPROTO, "too many replies to NBD_OPT_GO");
}

/* The old way in, for servers without NBD_OPT_GO: no error reply. */
static int opt_export_name(struct nbd_conn *c, bool no_zeroes,
			   struct cl_nbd_export *e)
{
	unsigned char reply[10 + 124];
	int ret;

	ret = send_option(c, OPT_EXPORT_NAME, c->name,
			  (uint32_t)strlen(c->name));
	if (!ret)
		ret = read_full(c, reply, no_zeroes ? 10 : sizeof(reply));
	if (ret == -ECONNRESET)
		return fail(c, -ENOENT,
			    "the server closed the connection: no such export, or not allowed");
	if (ret)
		return ret;
	e->size = get_be64(reply);
	e->flags = get_be16(reply + 8);
	return 0;
}

int cl_nbd_handshake(int fd, const char *name, int timeout_ms,
		     struct cl_nbd_export *out, struct cl_error *err)
{
	struct nbd_conn c = { .fd = fd, .timeout_ms = timeout_ms,
			      .name = name ? name : "", .err = err };
	struct cl_nbd_export e = {
		.min_block = 1, .preferred_block = 4096,
		.max_block = DEFAULT_MAX_BLOCK,
	};
	bool no_zeroes = false;
	int ret;

	if (strlen(c.name) > CL_NBD_MAX_NAME)
		return cl_error_set(err, -EINVAL,
				    "NBD export name is longer than %d bytes",
				    CL_NBD_MAX_NAME);
	if (timeout_ms <= 0)
		return cl_error_set(err, -EINVAL, "invalid NBD handshake timeout");
	ret = greeting(&c, &no_zeroes);
	if (!ret)
		ret = opt_go(&c, &e);
	if (ret == 1)
		ret = opt_export_name(&c, no_zeroes, &e);
	if (!ret)
		ret = check_export(&c, &e);
	if (ret)
		return ret;
	*out = e;
	return 0;
}
