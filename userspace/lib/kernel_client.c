// SPDX-License-Identifier: Apache-2.0
/*
 * Generic netlink client of the cinderblk module (libnl-genl-3): device
 * requests and dumps on one socket, events on a second one so that
 * multicast messages never interleave with replies.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <linux/cinderblk.h>

#include "cinderlib/kernel.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define EVENT_QUEUE_LEN 64
#define EVENT_RECV_BUF (64 * 1024)
#define EXTACK_MAX 256

/* The public enums mirror the uapi ones; keep them in step. */
_Static_assert(CL_DEV_INDEX_ANY == CINDERBLK_INDEX_ANY, "index any");
_Static_assert(CL_VOLUME_ID_LEN == CINDERBLK_VOLUME_ID_LEN, "volume id");
_Static_assert(CL_NBD_URI_MAX == CINDERBLK_NBD_URI_MAX, "nbd uri");
_Static_assert((int)CL_DEV_READ_ONLY == (int)CINDERBLK_F_READ_ONLY &&
	       (int)CL_DEV_DISCARD == (int)CINDERBLK_F_DISCARD &&
	       (int)CL_DEV_WRITE_ZEROES == (int)CINDERBLK_F_WRITE_ZEROES &&
	       (int)CL_DEV_FUA == (int)CINDERBLK_F_FUA, "flags");
_Static_assert((int)CL_BACKING_FILE == CINDERBLK_BACKING_FILE &&
	       (int)CL_BACKING_REMAP == CINDERBLK_BACKING_REMAP &&
	       (int)CL_BACKING_NBD == CINDERBLK_BACKING_NBD, "backing");
_Static_assert((int)CL_DEV_STATE_LIVE == CINDERBLK_STATE_LIVE &&
	       (int)CL_DEV_STATE_SUSPENDED == CINDERBLK_STATE_SUSPENDED &&
	       (int)CL_DEV_STATE_LINK_DOWN == CINDERBLK_STATE_LINK_DOWN &&
	       (int)CL_DEV_STATE_DYING == CINDERBLK_STATE_DYING, "state");

struct cl_kernel {
	struct nl_sock *sk;	/* requests */
	int family;
	struct nl_sock *ev_sk;	/* events, NULL unless events_open */
	struct cl_kernel_event queue[EVENT_QUEUE_LEN];
	unsigned int q_head, q_len;
	bool overrun;
	char *ev_buf;
};

/* What one request collects from its replies. */
struct reply_ctx {
	bool done;
	int error;			/* negative errno from the kernel */
	char extack[EXTACK_MAX];	/* kernel's message, or "" */
	int (*parse)(struct nlmsghdr *nlh, void *arg); /* per reply message */
	void *arg;
	int parse_error;
};

static const char *const attr_names[CINDERBLK_ATTR_MAX + 1] = {
	[CINDERBLK_ATTR_INDEX] = "index",
	[CINDERBLK_ATTR_SIZE] = "size",
	[CINDERBLK_ATTR_LOGICAL_BLOCK_SIZE] = "logical block size",
	[CINDERBLK_ATTR_PHYSICAL_BLOCK_SIZE] = "physical block size",
	[CINDERBLK_ATTR_FLAGS] = "flags",
	[CINDERBLK_ATTR_VOLUME_ID] = "volume id",
	[CINDERBLK_ATTR_BACKING_TYPE] = "backing type",
	[CINDERBLK_ATTR_BACKING_FD] = "backing fd",
	[CINDERBLK_ATTR_NR_HW_QUEUES] = "hardware queues",
	[CINDERBLK_ATTR_QUEUE_DEPTH] = "queue depth",
	[CINDERBLK_ATTR_IO_TIMEOUT_MS] = "I/O timeout",
	[CINDERBLK_ATTR_FORCE] = "force",
	[CINDERBLK_ATTR_FREEZE] = "freeze",
	[CINDERBLK_ATTR_STATE] = "state",
	[CINDERBLK_ATTR_OPEN_COUNT] = "open count",
	[CINDERBLK_ATTR_STATS] = "stats",
	[CINDERBLK_ATTR_EXTENTS] = "extents",
	[CINDERBLK_ATTR_SOCKET_FDS] = "socket fds",
	[CINDERBLK_ATTR_DISK_NAME] = "disk name",
	[CINDERBLK_ATTR_NBD_FLAGS] = "NBD flags",
	[CINDERBLK_ATTR_NBD_MAX_PAYLOAD] = "NBD maximum payload",
	[CINDERBLK_ATTR_DEAD_TIMEOUT_MS] = "dead connection timeout",
	[CINDERBLK_ATTR_CONNECTIONS] = "connections",
	[CINDERBLK_ATTR_LIVE_CONNECTIONS] = "live connections",
	[CINDERBLK_ATTR_NBD_URI] = "NBD URI",
};

static const char *attr_name(unsigned int type)
{
	if (type <= CINDERBLK_ATTR_MAX && attr_names[type])
		return attr_names[type];
	return "unknown attribute";
}

/* libnl's own error codes (for local failures) as errno values. */
static int nle_to_errno(int nle)
{
	switch (abs(nle)) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_PROTO_MISMATCH:
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_MSGTYPE_NOSUPPORT:
		return -EPROTO;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

/* The extended ack TLVs follow the error header (and the echoed request
 * unless it was capped). */
static void parse_extack(const struct nlmsgerr *e, struct reply_ctx *ctx)
{
	const struct nlmsghdr *nlh =
		(const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	const struct nlattr *nla;
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	char what[128] = "";
	const char *msg = NULL;
	int rem;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	if (off >= nlh->nlmsg_len)
		return;
	nla_for_each_attr(nla, (struct nlattr *)((char *)nlh + off),
			  (int)(nlh->nlmsg_len - off), rem) {
		switch (nla_type(nla)) {
		case NLMSGERR_ATTR_MSG:
			if (nla_len(nla) > 0) {
				msg = nla_data(nla);
				if (memchr(msg, '\0', nla_len(nla)) == NULL)
					msg = NULL;
			}
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			if (nla_len(nla) >= 4)
				snprintf(what, sizeof(what),
					 "missing attribute: %s",
					 attr_name(nla_get_u32(nla)));
			break;
		case NLMSGERR_ATTR_OFFS:
			/* Offset of the culprit in the echoed request: name it
			 * when the request (genl header then attributes) is
			 * there. */
			if (nla_len(nla) >= 4 && !(nlh->nlmsg_flags & NLM_F_CAPPED)) {
				uint32_t offs = nla_get_u32(nla);
				const struct nlattr *bad;

				if (offs >= NLMSG_HDRLEN + GENL_HDRLEN &&
				    offs + sizeof(*bad) <= e->msg.nlmsg_len) {
					bad = (const void *)((const char *)&e->msg + offs);
					snprintf(what, sizeof(what), "attribute: %s",
						 attr_name(bad->nla_type & NLA_TYPE_MASK));
				}
			}
			break;
		default:
			break;
		}
	}
	if (msg && what[0])
		snprintf(ctx->extack, sizeof(ctx->extack), "%s (%s)", msg, what);
	else if (msg)
		snprintf(ctx->extack, sizeof(ctx->extack), "%s", msg);
	else if (what[0])
		snprintf(ctx->extack, sizeof(ctx->extack), "%s", what);
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct reply_ctx *ctx = arg;

	ctx->error = e->error < 0 ? e->error : -EIO;
	parse_extack(e, ctx);
	ctx->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct reply_ctx *ctx = arg;

	ctx->done = true;
	return NL_STOP;
}

/* End of a dump; an error of the dump itself rides in NLMSG_DONE. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct reply_ctx *ctx = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (nlmsg_datalen(nlh) >= (int)sizeof(int)) {
		int code;

		memcpy(&code, nlmsg_data(nlh), sizeof(code));
		if (code < 0)
			ctx->error = code;
	}
	ctx->done = true;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct reply_ctx *ctx = arg;
	int ret;

	if (!ctx->parse)
		return NL_OK;
	ret = ctx->parse(nlmsg_hdr(msg), ctx->arg);
	if (ret < 0) {
		ctx->parse_error = ret;
		return NL_SKIP;
	}
	return NL_OK;
}

/* Send @msg (consumed) and collect replies until ack, error or done. */
static int transact(struct cl_kernel *k, struct nl_msg *msg,
		    struct reply_ctx *ctx, const char *what,
		    struct cl_error *err)
{
	struct nl_cb *cb;
	int ret;

	ret = nl_send_auto(k->sk, msg);
	nlmsg_free(msg);
	if (ret < 0)
		return cl_error_set(err, nle_to_errno(ret), "%s: sending: %s",
				    what, nl_geterror(ret));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return cl_error_set(err, -ENOMEM, "%s: out of memory", what);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, ctx);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, ctx);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, ctx);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, ctx);
	while (!ctx->done) {
		ret = nl_recvmsgs(k->sk, cb);
		if (ctx->done)
			break;
		if (ret == -NLE_INTR)
			continue;
		if (ret < 0) {
			nl_cb_put(cb);
			return cl_error_set(err, nle_to_errno(ret),
					    "%s: receiving: %s", what,
					    nl_geterror(ret));
		}
	}
	nl_cb_put(cb);
	if (ctx->error) {
		if (ctx->extack[0])
			return cl_error_set(err, ctx->error, "%s: %s: %s", what,
					    strerror(-ctx->error), ctx->extack);
		return cl_error_set(err, ctx->error, "%s: %s", what,
				    strerror(-ctx->error));
	}
	if (ctx->parse_error)
		return cl_error_set(err, ctx->parse_error,
				    "%s: malformed reply from the kernel", what);
	return 0;
}

/* A request with room for @payload bytes of attributes (0: a page). */
static struct nl_msg *new_request_sized(struct cl_kernel *k, uint8_t cmd,
					int flags, size_t payload)
{
	struct nl_msg *msg = payload ? nlmsg_alloc_size(payload) : nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, k->family, 0, flags,
			 cmd, CINDERBLK_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static struct nl_msg *new_request(struct cl_kernel *k, uint8_t cmd, int flags)
{
	return new_request_sized(k, cmd, flags, 0);
}

/*
 * A message larger than the socket's send buffer would be EMSGSIZE, and an
 * error ack echoes the request back: make room both ways.
 */
static void fit_send_buffer(struct cl_kernel *k, size_t payload)
{
	if (payload > 16 * 1024)
		nl_socket_set_buffer_size(k->sk, (int)(2 * payload + 65536),
					  (int)(payload + 4096));
}

/* Room for the backing attributes of @spec: a remap table can be large. */
static size_t backing_payload(const struct cl_dev_spec *spec)
{
	/* Per extent: its nest header and three u64 attributes. */
	size_t per_extent = NLA_HDRLEN + 3 * NLA_ALIGN(NLA_HDRLEN + 8);
	size_t need = 4096 + spec->nr_extents * per_extent +
		      spec->nr_socket_fds * NLA_HDRLEN * 2;

	return need > 4096 ? need : 0;
}

static struct nla_policy dev_policy[CINDERBLK_ATTR_MAX + 1] = {
	[CINDERBLK_ATTR_INDEX] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_SIZE] = { .type = NLA_U64 },
	[CINDERBLK_ATTR_LOGICAL_BLOCK_SIZE] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_PHYSICAL_BLOCK_SIZE] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_FLAGS] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_VOLUME_ID] = { .type = NLA_STRING },
	[CINDERBLK_ATTR_BACKING_TYPE] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_BACKING_FD] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_NR_HW_QUEUES] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_QUEUE_DEPTH] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_IO_TIMEOUT_MS] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_STATE] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_OPEN_COUNT] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_STATS] = { .type = NLA_NESTED },
	[CINDERBLK_ATTR_DISK_NAME] = { .type = NLA_STRING },
	[CINDERBLK_ATTR_DEAD_TIMEOUT_MS] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_CONNECTIONS] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_LIVE_CONNECTIONS] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_NBD_URI] = { .type = NLA_STRING },
};

static struct nla_policy stats_policy[CINDERBLK_STAT_MAX + 1] = {
	[CINDERBLK_STAT_READ_IOS] = { .type = NLA_U64 },
	[CINDERBLK_STAT_READ_BYTES] = { .type = NLA_U64 },
	[CINDERBLK_STAT_WRITE_IOS] = { .type = NLA_U64 },
	[CINDERBLK_STAT_WRITE_BYTES] = { .type = NLA_U64 },
	[CINDERBLK_STAT_FLUSH_IOS] = { .type = NLA_U64 },
	[CINDERBLK_STAT_DISCARD_IOS] = { .type = NLA_U64 },
	[CINDERBLK_STAT_WRITE_ZEROES_IOS] = { .type = NLA_U64 },
	[CINDERBLK_STAT_ERRORS] = { .type = NLA_U64 },
	[CINDERBLK_STAT_INFLIGHT] = { .type = NLA_U64 },
	[CINDERBLK_STAT_TIMEOUTS] = { .type = NLA_U64 },
	[CINDERBLK_STAT_LINK_DOWNS] = { .type = NLA_U64 },
	[CINDERBLK_STAT_RECONNECTS] = { .type = NLA_U64 },
	[CINDERBLK_STAT_REQUEUES] = { .type = NLA_U64 },
};

static uint32_t get_u32(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u32(tb[type]) : 0;
}

static uint64_t get_u64(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u64(tb[type]) : 0;
}

static void copy_string(char *dst, size_t size, const struct nlattr *nla)
{
	if (!nla) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, size, "%s", (const char *)nla_data(nla));
}

static int parse_stats(struct nlattr *nest, struct cl_dev_stats *st)
{
	struct nlattr *tb[CINDERBLK_STAT_MAX + 1];

	if (nla_parse_nested(tb, CINDERBLK_STAT_MAX, nest, stats_policy) < 0)
		return -EPROTO;
	st->read_ios = get_u64(tb, CINDERBLK_STAT_READ_IOS);
	st->read_bytes = get_u64(tb, CINDERBLK_STAT_READ_BYTES);
	st->write_ios = get_u64(tb, CINDERBLK_STAT_WRITE_IOS);
	st->write_bytes = get_u64(tb, CINDERBLK_STAT_WRITE_BYTES);
	st->flush_ios = get_u64(tb, CINDERBLK_STAT_FLUSH_IOS);
	st->discard_ios = get_u64(tb, CINDERBLK_STAT_DISCARD_IOS);
	st->write_zeroes_ios = get_u64(tb, CINDERBLK_STAT_WRITE_ZEROES_IOS);
	st->errors = get_u64(tb, CINDERBLK_STAT_ERRORS);
	st->inflight = get_u64(tb, CINDERBLK_STAT_INFLIGHT);
	st->timeouts = get_u64(tb, CINDERBLK_STAT_TIMEOUTS);
	st->link_downs = get_u64(tb, CINDERBLK_STAT_LINK_DOWNS);
	st->reconnects = get_u64(tb, CINDERBLK_STAT_RECONNECTS);
	st->requeues = get_u64(tb, CINDERBLK_STAT_REQUEUES);
	return 0;
}

static int parse_dev_info(struct nlmsghdr *nlh, struct cl_dev_info *info)
{
	struct nlattr *tb[CINDERBLK_ATTR_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, CINDERBLK_ATTR_MAX, dev_policy) < 0)
		return -EPROTO;
	if (!tb[CINDERBLK_ATTR_INDEX])
		return -EPROTO;
	memset(info, 0, sizeof(*info));
	info->index = nla_get_u32(tb[CINDERBLK_ATTR_INDEX]);
	copy_string(info->disk_name, sizeof(info->disk_name),
		    tb[CINDERBLK_ATTR_DISK_NAME]);
	if (!info->disk_name[0])
		snprintf(info->disk_name, sizeof(info->disk_name), "%s%u",
			 CINDERBLK_DISK_PREFIX, info->index);
	copy_string(info->volume_id, sizeof(info->volume_id),
		    tb[CINDERBLK_ATTR_VOLUME_ID]);
	info->size = get_u64(tb, CINDERBLK_ATTR_SIZE);
	info->logical_block_size = get_u32(tb, CINDERBLK_ATTR_LOGICAL_BLOCK_SIZE);
	info->physical_block_size = get_u32(tb, CINDERBLK_ATTR_PHYSICAL_BLOCK_SIZE);
	info->flags = get_u32(tb, CINDERBLK_ATTR_FLAGS);
	info->backing_type = get_u32(tb, CINDERBLK_ATTR_BACKING_TYPE);
	info->state = get_u32(tb, CINDERBLK_ATTR_STATE);
	info->open_count = get_u32(tb, CINDERBLK_ATTR_OPEN_COUNT);
	info->nr_hw_queues = get_u32(tb, CINDERBLK_ATTR_NR_HW_QUEUES);
	info->queue_depth = get_u32(tb, CINDERBLK_ATTR_QUEUE_DEPTH);
	info->io_timeout_ms = get_u32(tb, CINDERBLK_ATTR_IO_TIMEOUT_MS);
	info->connections = get_u32(tb, CINDERBLK_ATTR_CONNECTIONS);
	info->live_connections = get_u32(tb, CINDERBLK_ATTR_LIVE_CONNECTIONS);
	info->dead_timeout_ms = get_u32(tb, CINDERBLK_ATTR_DEAD_TIMEOUT_MS);
	copy_string(info->nbd_uri, sizeof(info->nbd_uri),
		    tb[CINDERBLK_ATTR_NBD_URI]);
	if (tb[CINDERBLK_ATTR_STATS]) {
		if (parse_stats(tb[CINDERBLK_ATTR_STATS], &info->stats) < 0)
			return -EPROTO;
		info->has_stats = true;
	}
	return 0;
}

/* Reply of a single-device request: the first device message. */
struct one_dev {
	struct cl_dev_info *info;
	bool seen;
};

static int parse_one_dev(struct nlmsghdr *nlh, void *arg)
{
	struct one_dev *one = arg;
	struct cl_dev_info tmp;
	int ret;

	if (one->seen)
		return 0;
	ret = parse_dev_info(nlh, one->info ? one->info : &tmp);
	if (ret == 0)
		one->seen = true;
	return ret;
}

struct dev_list {
	struct cl_dev_info *items;
	size_t n, cap;
};

static int parse_list_dev(struct nlmsghdr *nlh, void *arg)
{
	struct dev_list *list = arg;

	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		struct cl_dev_info *items;

		items = realloc(list->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		list->items = items;
		list->cap = cap;
	}
	if (parse_dev_info(nlh, &list->items[list->n]) < 0)
		return -EPROTO;
	list->n++;
	return 0;
}

static struct nl_sock *connect_genl(int *nle)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1;

	if (!sk) {
		*nle = -NLE_NOMEM;
		return NULL;
	}
	*nle = genl_connect(sk);
	if (*nle < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	/* The kernel's own error messages; harmless if unsupported. */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	nl_socket_enable_msg_peek(sk);
	return sk;
}

static int parse_family_id(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *id = nlmsg_find_attr(nlh, GENL_HDRLEN,
					    CTRL_ATTR_FAMILY_ID);

	if (!id || nla_len(id) < (int)sizeof(uint16_t))
		return -EPROTO;
	*(int *)arg = nla_get_u16(id);
	return 0;
}

/*
 * The id of the cinderblk family: one CTRL_CMD_GETFAMILY whose reply is
 * read for the id alone. (genl_ctrl_resolve() builds a whole family
 * object, operations and groups included: more code for each process to
 * run, and every attach runs it.)
 */
static int resolve_family(struct cl_kernel *k, struct cl_error *err)
{
	struct reply_ctx ctx = { .parse = parse_family_id, .arg = &k->family };
	struct cl_error kerr = { 0 };
	struct nl_msg *msg = nlmsg_alloc();
	int ret;

	k->family = -1;
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL,
				 0, 0, CTRL_CMD_GETFAMILY, 1) ||
	    nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, CINDERBLK_GENL_NAME)) {
		nlmsg_free(msg);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	ret = transact(k, msg, &ctx, "cannot resolve the cinderblk netlink family",
		       &kerr);
	if (ret == -ENOENT)
		return cl_error_set(err, -ENOENT,
				    "cinderblk module not loaded: run modprobe cinderblk");
	if (ret) {
		if (err)
			*err = kerr;
		return ret;
	}
	if (k->family < 0)
		return cl_error_set(err, -EPROTO,
				    "cannot resolve the cinderblk netlink family: no id in the reply");
	return 0;
}

int cl_kernel_open(struct cl_kernel **out, struct cl_error *err)
{
	struct cl_kernel *k;
	int nle, ret;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return cl_error_set(err, -ENOMEM, "out of memory");
	k->sk = connect_genl(&nle);
	if (!k->sk) {
		free(k);
		return cl_error_set(err, nle_to_errno(nle),
				    "cannot open a generic netlink socket: %s",
				    nl_geterror(nle));
	}
	ret = resolve_family(k, err);
	if (ret) {
		cl_kernel_close(k);
		return ret;
	}
	*out = k;
	return 0;
}

void cl_kernel_close(struct cl_kernel *k)
{
	if (!k)
		return;
	if (k->ev_sk)
		nl_socket_free(k->ev_sk);
	if (k->sk)
		nl_socket_free(k->sk);
	free(k->ev_buf);
	free(k);
}

void cl_dev_spec_init(struct cl_dev_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->index = CL_DEV_INDEX_ANY;
	spec->backing_type = CL_BACKING_FILE;
	spec->backing_fd = -1;
}

static int put_u32_if(struct nl_msg *msg, int type, uint32_t value)
{
	return value ? nla_put_u32(msg, type, value) : 0;
}

/* Backing attributes shared by add and reconfigure. */
static int put_backing(struct nl_msg *msg, const struct cl_dev_spec *spec)
{
	struct nlattr *list;
	size_t i;

	if (nla_put_u32(msg, CINDERBLK_ATTR_BACKING_TYPE, spec->backing_type) < 0)
		return -1;
	if (spec->backing_fd >= 0 &&
	    nla_put_s32(msg, CINDERBLK_ATTR_BACKING_FD, spec->backing_fd) < 0)
		return -1;
	if (spec->nr_extents) {
		list = nla_nest_start(msg, CINDERBLK_ATTR_EXTENTS);
		if (!list)
			return -1;
		for (i = 0; i < spec->nr_extents; i++) {
			const struct cl_extent *x = &spec->extents[i];
			struct nlattr *one = nla_nest_start(msg, (int)i + 1);

			if (!one ||
			    nla_put_u64(msg, CINDERBLK_EXTENT_START, x->start) < 0 ||
			    nla_put_u64(msg, CINDERBLK_EXTENT_LENGTH, x->length) < 0 ||
			    nla_put_u64(msg, CINDERBLK_EXTENT_LOWER_OFFSET,
					x->lower_offset) < 0)
				return -1;
			nla_nest_end(msg, one);
		}
		nla_nest_end(msg, list);
	}
	if (spec->nr_socket_fds) {
		list = nla_nest_start(msg, CINDERBLK_ATTR_SOCKET_FDS);
		if (!list)
			return -1;
		for (i = 0; i < spec->nr_socket_fds; i++)
			if (nla_put_s32(msg, (int)i + 1, spec->socket_fds[i]) < 0)
				return -1;
		nla_nest_end(msg, list);
	}
	if (spec->backing_type == CL_BACKING_NBD &&
	    (nla_put_u32(msg, CINDERBLK_ATTR_NBD_FLAGS, spec->nbd_flags) < 0 ||
	     put_u32_if(msg, CINDERBLK_ATTR_NBD_MAX_PAYLOAD,
			spec->nbd_max_payload) < 0 ||
	     put_u32_if(msg, CINDERBLK_ATTR_DEAD_TIMEOUT_MS,
			spec->dead_timeout_ms) < 0 ||
	     (spec->nbd_uri &&
	      nla_put_string(msg, CINDERBLK_ATTR_NBD_URI, spec->nbd_uri) < 0)))
		return -1;
	return 0;
}

int cl_kernel_dev_add(struct cl_kernel *k, const struct cl_dev_spec *spec,
		      struct cl_dev_info *out, struct cl_error *err)
{
	struct one_dev one = { .info = out };
	struct reply_ctx ctx = { .parse = parse_one_dev, .arg = &one };
	struct nl_msg *msg;
	int ret;

	if (spec->volume_id && !spec->volume_id[0])
		return cl_error_set(err, -EINVAL, "add device: empty volume id");
	if (spec->nr_extents && !spec->extents)
		return cl_error_set(err, -EINVAL,
				    "add device: nr_extents without extents");
	fit_send_buffer(k, backing_payload(spec));
	msg = new_request_sized(k, CINDERBLK_CMD_DEV_ADD, 0,
				backing_payload(spec));
	if (!msg)
		return cl_error_set(err, -ENOMEM, "add device: out of memory");
	if (nla_put_u32(msg, CINDERBLK_ATTR_INDEX, spec->index) < 0 ||
	    nla_put_u64(msg, CINDERBLK_ATTR_SIZE, spec->size) < 0 ||
	    put_u32_if(msg, CINDERBLK_ATTR_LOGICAL_BLOCK_SIZE,
		       spec->logical_block_size) < 0 ||
	    put_u32_if(msg, CINDERBLK_ATTR_PHYSICAL_BLOCK_SIZE,
		       spec->physical_block_size) < 0 ||
	    nla_put_u32(msg, CINDERBLK_ATTR_FLAGS, spec->flags) < 0 ||
	    (spec->volume_id &&
	     nla_put_string(msg, CINDERBLK_ATTR_VOLUME_ID, spec->volume_id) < 0) ||
	    put_backing(msg, spec) < 0 ||
	    put_u32_if(msg, CINDERBLK_ATTR_NR_HW_QUEUES, spec->nr_hw_queues) < 0 ||
	    put_u32_if(msg, CINDERBLK_ATTR_QUEUE_DEPTH, spec->queue_depth) < 0 ||
	    put_u32_if(msg, CINDERBLK_ATTR_IO_TIMEOUT_MS, spec->io_timeout_ms) < 0) {
		nlmsg_free(msg);
		return cl_error_set(err, -EMSGSIZE,
				    "add device: request does not fit a message");
	}
	ret = transact(k, msg, &ctx, "add device", err);
	if (ret)
		return ret;
	if (out && !one.seen) {
		/* The module acked without a reply: ask for the device. */
		if (spec->index == CL_DEV_INDEX_ANY)
			return cl_error_set(err, -EPROTO,
					    "add device: the kernel did not say which index it used");
		return cl_kernel_dev_get(k, spec->index, out, err);
	}
	return 0;
}

/* A request that names one device and carries at most one more value. */
static int simple_request(struct cl_kernel *k, uint8_t cmd, uint32_t index,
			  int extra_type, uint64_t extra, bool extra_is_u64,
			  const char *what, struct cl_error *err)
{
	struct reply_ctx ctx = { 0 };
	struct nl_msg *msg = new_request(k, cmd, 0);
	int ret = 0;

	if (!msg)
		return cl_error_set(err, -ENOMEM, "%s: out of memory", what);
	ret = nla_put_u32(msg, CINDERBLK_ATTR_INDEX, index);
	if (ret == 0 && extra_type) {
		if (extra_is_u64)
			ret = nla_put_u64(msg, extra_type, extra);
		else
			ret = nla_put_flag(msg, extra_type);
	}
	if (ret < 0) {
		nlmsg_free(msg);
		return cl_error_set(err, -EMSGSIZE, "%s: message too small", what);
	}
	return transact(k, msg, &ctx, what, err);
}

int cl_kernel_dev_remove(struct cl_kernel *k, uint32_t index, bool force,
			 struct cl_error *err)
{
	char what[48];

	snprintf(what, sizeof(what), "remove %s%u", CINDERBLK_DISK_PREFIX, index);
	return simple_request(k, CINDERBLK_CMD_DEV_REMOVE, index,
			      force ? CINDERBLK_ATTR_FORCE : 0, 0, false,
			      what, err);
}

int cl_kernel_dev_resize(struct cl_kernel *k, uint32_t index, uint64_t size,
			 struct cl_error *err)
{
	char what[48];

	snprintf(what, sizeof(what), "resize %s%u", CINDERBLK_DISK_PREFIX, index);
	return simple_request(k, CINDERBLK_CMD_DEV_RESIZE, index,
			      CINDERBLK_ATTR_SIZE, size, true, what, err);
}

int cl_kernel_dev_suspend(struct cl_kernel *k, uint32_t index, bool freeze,
			  struct cl_error *err)
{
	char what[48];

	snprintf(what, sizeof(what), "suspend %s%u", CINDERBLK_DISK_PREFIX, index);
	return simple_request(k, CINDERBLK_CMD_DEV_SUSPEND, index,
			      freeze ? CINDERBLK_ATTR_FREEZE : 0, 0, false,
			      what, err);
}

int cl_kernel_dev_resume(struct cl_kernel *k, uint32_t index,
			 struct cl_error *err)
{
	char what[48];

	snprintf(what, sizeof(what), "resume %s%u", CINDERBLK_DISK_PREFIX, index);
	return simple_request(k, CINDERBLK_CMD_DEV_RESUME, index, 0, 0, false,
			      what, err);
}

static int reconfigure(struct cl_kernel *k, uint32_t index,
		       const struct cl_dev_spec *spec, bool replace,
		       struct cl_error *err)
{
	struct reply_ctx ctx = { 0 };
	struct nl_msg *msg = new_request_sized(k, CINDERBLK_CMD_DEV_RECONFIGURE,
					       0, backing_payload(spec));
	char what[48];

	snprintf(what, sizeof(what), "reconfigure %s%u", CINDERBLK_DISK_PREFIX,
		 index);
	if (msg && spec->nr_extents && !spec->extents) {
		nlmsg_free(msg);
		return cl_error_set(err, -EINVAL, "%s: nr_extents without extents",
				    what);
	}
	fit_send_buffer(k, backing_payload(spec));
	if (!msg)
		return cl_error_set(err, -ENOMEM, "%s: out of memory", what);
	if (nla_put_u32(msg, CINDERBLK_ATTR_INDEX, index) < 0 ||
	    put_backing(msg, spec) < 0 ||
	    (replace && nla_put_flag(msg, CINDERBLK_ATTR_NBD_REPLACE) < 0)) {
		nlmsg_free(msg);
		return cl_error_set(err, -EMSGSIZE,
				    "%s: request does not fit a message", what);
	}
	return transact(k, msg, &ctx, what, err);
}

int cl_kernel_dev_reconfigure_spec(struct cl_kernel *k, uint32_t index,
				   const struct cl_dev_spec *spec,
				   struct cl_error *err)
{
	return reconfigure(k, index, spec, false, err);
}

int cl_kernel_dev_nbd_replace(struct cl_kernel *k, uint32_t index,
			      const struct cl_dev_spec *spec,
			      struct cl_error *err)
{
	return reconfigure(k, index, spec, true, err);
}

int cl_kernel_dev_reconfigure(struct cl_kernel *k, uint32_t index,
			      int backing_fd, struct cl_error *err)
{
	struct cl_dev_spec spec;

	cl_dev_spec_init(&spec);
	spec.backing_fd = backing_fd;
	return cl_kernel_dev_reconfigure_spec(k, index, &spec, err);
}

int cl_kernel_dev_get(struct cl_kernel *k, uint32_t index,
		      struct cl_dev_info *out, struct cl_error *err)
{
	struct cl_dev_info tmp;
	struct one_dev one = { .info = out ? out : &tmp };
	struct reply_ctx ctx = { .parse = parse_one_dev, .arg = &one };
	struct nl_msg *msg = new_request(k, CINDERBLK_CMD_DEV_GET, 0);
	char what[48];
	int ret;

	snprintf(what, sizeof(what), "get %s%u", CINDERBLK_DISK_PREFIX, index);
	if (!msg)
		return cl_error_set(err, -ENOMEM, "%s: out of memory", what);
	if (nla_put_u32(msg, CINDERBLK_ATTR_INDEX, index) < 0) {
		nlmsg_free(msg);
		return cl_error_set(err, -EMSGSIZE, "%s: message too small", what);
	}
	ret = transact(k, msg, &ctx, what, err);
	if (ret)
		return ret;
	if (!one.seen)
		return cl_error_set(err, -EPROTO, "%s: the kernel sent no device",
				    what);
	return 0;
}

int cl_kernel_dev_list(struct cl_kernel *k, struct cl_dev_info **out,
		       size_t *n, struct cl_error *err)
{
	struct dev_list list = { 0 };
	struct reply_ctx ctx = { .parse = parse_list_dev, .arg = &list };
	struct nl_msg *msg = new_request(k, CINDERBLK_CMD_DEV_GET, NLM_F_DUMP);
	int ret;

	*out = NULL;
	*n = 0;
	if (!msg)
		return cl_error_set(err, -ENOMEM, "list devices: out of memory");
	ret = transact(k, msg, &ctx, "list devices", err);
	if (ret) {
		free(list.items);
		return ret;
	}
	*out = list.items;
	*n = list.n;
	return 0;
}

int cl_kernel_events_open(struct cl_kernel **out, struct cl_error *err)
{
	struct cl_kernel *k;
	int ret, grp;

	ret = cl_kernel_open(&k, err);
	if (ret)
		return ret;
	grp = genl_ctrl_resolve_grp(k->sk, CINDERBLK_GENL_NAME,
				    CINDERBLK_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		cl_kernel_close(k);
		return cl_error_set(err, nle_to_errno(grp),
				    "cinderblk has no '%s' multicast group: %s",
				    CINDERBLK_GENL_MCGRP_EVENTS, nl_geterror(grp));
	}
	k->ev_buf = malloc(EVENT_RECV_BUF);
	k->ev_sk = connect_genl(&ret);
	if (!k->ev_buf || !k->ev_sk) {
		cl_kernel_close(k);
		return cl_error_set(err, k->ev_buf ? nle_to_errno(ret) : -ENOMEM,
				    "cannot open the event socket");
	}
	nl_socket_disable_seq_check(k->ev_sk);
	nl_socket_set_buffer_size(k->ev_sk, 1 << 20, 0);
	ret = nl_socket_add_membership(k->ev_sk, grp);
	if (ret < 0) {
		cl_kernel_close(k);
		return cl_error_set(err, nle_to_errno(ret),
				    "cannot join the cinderblk event group: %s",
				    nl_geterror(ret));
	}
	*out = k;
	return 0;
}

int cl_kernel_fd(const struct cl_kernel *k)
{
	return nl_socket_get_fd(k->ev_sk ? k->ev_sk : k->sk);
}

static enum cl_kernel_event_type event_type(uint8_t cmd)
{
	switch (cmd) {
	case CINDERBLK_CMD_EVT_ADDED:
		return CL_KEVENT_ADDED;
	case CINDERBLK_CMD_EVT_REMOVED:
		return CL_KEVENT_REMOVED;
	case CINDERBLK_CMD_EVT_RESIZED:
		return CL_KEVENT_RESIZED;
	case CINDERBLK_CMD_EVT_SUSPENDED:
		return CL_KEVENT_SUSPENDED;
	case CINDERBLK_CMD_EVT_RESUMED:
		return CL_KEVENT_RESUMED;
	case CINDERBLK_CMD_EVT_LINK_DOWN:
		return CL_KEVENT_LINK_DOWN;
	case CINDERBLK_CMD_EVT_LINK_UP:
		return CL_KEVENT_LINK_UP;
	default:
		return CL_KEVENT_NONE;
	}
}

static void queue_event(struct cl_kernel *k, struct nlmsghdr *nlh)
{
	struct nlattr *tb[CINDERBLK_ATTR_MAX + 1];
	struct genlmsghdr *gh;
	struct cl_kernel_event *ev;

	if (nlh->nlmsg_type != k->family ||
	    !genlmsg_valid_hdr(nlh, 0))
		return;
	gh = nlmsg_data(nlh);
	if (event_type(gh->cmd) == CL_KEVENT_NONE)
		return;
	if (genlmsg_parse(nlh, 0, tb, CINDERBLK_ATTR_MAX, dev_policy) < 0)
		return;
	if (k->q_len == EVENT_QUEUE_LEN) {
		k->overrun = true;
		return;
	}
	ev = &k->queue[(k->q_head + k->q_len) % EVENT_QUEUE_LEN];
	memset(ev, 0, sizeof(*ev));
	ev->type = event_type(gh->cmd);
	ev->index = get_u32(tb, CINDERBLK_ATTR_INDEX);
	ev->size = get_u64(tb, CINDERBLK_ATTR_SIZE);
	ev->state = get_u32(tb, CINDERBLK_ATTR_STATE);
	copy_string(ev->volume_id, sizeof(ev->volume_id),
		    tb[CINDERBLK_ATTR_VOLUME_ID]);
	ev->connections = get_u32(tb, CINDERBLK_ATTR_CONNECTIONS);
	ev->live_connections = get_u32(tb, CINDERBLK_ATTR_LIVE_CONNECTIONS);
	k->q_len++;
}

/* Read what the socket holds without blocking; -EAGAIN when empty. */
static int read_events(struct cl_kernel *k)
{
	struct nlmsghdr *nlh;
	ssize_t len;
	int rem;

	len = recv(nl_socket_get_fd(k->ev_sk), k->ev_buf, EVENT_RECV_BUF,
		   MSG_DONTWAIT);
	if (len < 0)
		return -errno;
	for (nlh = (struct nlmsghdr *)k->ev_buf, rem = (int)len;
	     nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem))
		queue_event(k, nlh);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cl_kernel_event_wait(struct cl_kernel *k, int timeout_ms,
			 struct cl_kernel_event *ev, struct cl_error *err)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	if (!k->ev_sk)
		return cl_error_set(err, -EINVAL,
				    "handle not opened with cl_kernel_events_open()");
	for (;;) {
		struct pollfd pfd = { .fd = nl_socket_get_fd(k->ev_sk),
				      .events = POLLIN };
		int wait, ret;

		if (k->overrun) {
			k->overrun = false;
			return cl_error_set(err, -ENOBUFS,
					    "events were lost: re-read the device list");
		}
		if (k->q_len) {
			*ev = k->queue[k->q_head];
			k->q_head = (k->q_head + 1) % EVENT_QUEUE_LEN;
			k->q_len--;
			return 0;
		}
		ret = read_events(k);
		if (ret == 0)
			continue;
		if (ret == -ENOBUFS) {
			k->overrun = true;
			continue;
		}
		if (ret != -EAGAIN && ret != -EINTR)
			return cl_error_set(err, ret, "reading events: %s",
					    strerror(-ret));
		if (deadline < 0) {
			wait = -1;
		} else {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				return cl_error_set(err, -ETIMEDOUT,
						    "no event within %d ms",
						    timeout_ms);
			wait = left > 1000000 ? 1000000 : (int)left;
		}
		ret = poll(&pfd, 1, wait);
		if (ret < 0 && errno != EINTR)
			return cl_error_set(err, -errno, "waiting for events: %s",
					    strerror(errno));
	}
}

const char *cl_dev_state_name(enum cl_dev_state state)
{
	switch (state) {
	case CL_DEV_STATE_LIVE:
		return "live";
	case CL_DEV_STATE_SUSPENDED:
		return "suspended";
	case CL_DEV_STATE_LINK_DOWN:
		return "link-down";
	case CL_DEV_STATE_DYING:
		return "dying";
	default:
		return "unknown";
	}
}

const char *cl_backing_type_name(enum cl_backing_type type)
{
	switch (type) {
	case CL_BACKING_NONE:
		return "none";
	case CL_BACKING_FILE:
		return "file";
	case CL_BACKING_REMAP:
		return "remap";
	case CL_BACKING_NBD:
		return "nbd";
	default:
		return "unknown";
	}
}

const char *cl_kernel_event_name(enum cl_kernel_event_type type)
{
	static const char *const names[] = {
		[CL_KEVENT_NONE] = "none",
		[CL_KEVENT_ADDED] = "added",
		[CL_KEVENT_REMOVED] = "removed",
		[CL_KEVENT_RESIZED] = "resized",
		[CL_KEVENT_SUSPENDED] = "suspended",
		[CL_KEVENT_RESUMED] = "resumed",
		[CL_KEVENT_LINK_DOWN] = "link-down",
		[CL_KEVENT_LINK_UP] = "link-up",
	};

	if ((unsigned int)type < sizeof(names) / sizeof(names[0]))
		return names[type];
	return "unknown";
}
