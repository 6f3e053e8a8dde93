// SPDX-License-Identifier: GPL-2.0
/*
 * cinderblk: the generic netlink family "cinderblk" (commands, policy,
 * replies) and its "events" multicast group.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/mm.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "cinderblk.h"

static struct genl_family cbd_genl_family;
static bool cbd_genl_registered;

enum cbd_genl_mcgrp {
	CBD_GENL_MCGRP_EVENTS,
};

static const struct genl_multicast_group cbd_genl_mcgrps[] = {
	[CBD_GENL_MCGRP_EVENTS] = CBD_MCGRP(CINDERBLK_GENL_MCGRP_EVENTS),
};

static int cbd_genl_check_volume_id(const struct nlattr *attr,
				    struct netlink_ext_ack *extack)
{
	const char *id = nla_data(attr);

	/* NLA_NUL_STRING: terminated, at most CINDERBLK_VOLUME_ID_LEN long. */
	if (cbd_check_volume_id(id, strnlen(id, nla_len(attr)))) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "volume id must be a UUID of 36 characters");
		return -EINVAL;
	}
	return 0;
}

static int cbd_genl_check_block_size(const struct nlattr *attr,
				     struct netlink_ext_ack *extack)
{
	if (cbd_check_block_size(nla_get_u32(attr))) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "block size must be a power of 2 in 512..4096");
		return -EINVAL;
	}
	return 0;
}

/* The NBD transmission flags are 16 bits on the wire. */
static struct netlink_range_validation cbd_nbd_flags_range = {
	.max = U16_MAX,
};

static struct netlink_range_validation cbd_io_timeout_range = {
	.max = CBD_MAX_IO_TIMEOUT_MS,
};

/* One extent of CINDERBLK_ATTR_EXTENTS: every field is required. */
static const struct nla_policy cbd_extent_policy[CINDERBLK_EXTENT_MAX + 1] = {
	[CINDERBLK_EXTENT_PAD]		= { .type = NLA_REJECT },
	[CINDERBLK_EXTENT_START]	= { .type = NLA_U64 },
	[CINDERBLK_EXTENT_LENGTH]	= { .type = NLA_U64 },
	[CINDERBLK_EXTENT_LOWER_OFFSET]	= { .type = NLA_U64 },
};

static const struct nla_policy cbd_genl_policy[CINDERBLK_ATTR_MAX + 1] = {
	[CINDERBLK_ATTR_PAD]		= { .type = NLA_REJECT },
	[CINDERBLK_ATTR_INDEX]		= { .type = NLA_U32 },
	[CINDERBLK_ATTR_SIZE]		= { .type = NLA_U64 },
	[CINDERBLK_ATTR_LOGICAL_BLOCK_SIZE] =
		NLA_POLICY_VALIDATE_FN(NLA_U32, cbd_genl_check_block_size),
	[CINDERBLK_ATTR_PHYSICAL_BLOCK_SIZE] =
		NLA_POLICY_VALIDATE_FN(NLA_U32, cbd_genl_check_block_size),
	[CINDERBLK_ATTR_FLAGS]		= NLA_POLICY_MASK(NLA_U32, CINDERBLK_F_ALL),
	[CINDERBLK_ATTR_VOLUME_ID]	=
		NLA_POLICY_VALIDATE_FN(NLA_NUL_STRING, cbd_genl_check_volume_id,
				       CINDERBLK_VOLUME_ID_LEN),
	[CINDERBLK_ATTR_BACKING_TYPE]	=
		NLA_POLICY_RANGE(NLA_U32, CINDERBLK_BACKING_FILE,
				 __CINDERBLK_BACKING_MAX - 1),
	[CINDERBLK_ATTR_BACKING_FD]	= { .type = NLA_S32 },
	[CINDERBLK_ATTR_NR_HW_QUEUES]	=
		NLA_POLICY_MAX(NLA_U32, CBD_MAX_HW_QUEUES),
	[CINDERBLK_ATTR_QUEUE_DEPTH]	=
		NLA_POLICY_MAX(NLA_U32, CBD_MAX_QUEUE_DEPTH),
	[CINDERBLK_ATTR_IO_TIMEOUT_MS]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, &cbd_io_timeout_range),
	[CINDERBLK_ATTR_FORCE]		= { .type = NLA_FLAG },
	[CINDERBLK_ATTR_FREEZE]		= { .type = NLA_FLAG },
	[CINDERBLK_ATTR_NBD_REPLACE]	= { .type = NLA_FLAG },
	/* Answers only: never accepted in a request. */
	[CINDERBLK_ATTR_STATE]		= { .type = NLA_REJECT },
	[CINDERBLK_ATTR_OPEN_COUNT]	= { .type = NLA_REJECT },
	[CINDERBLK_ATTR_STATS]		= { .type = NLA_REJECT },
	[CINDERBLK_ATTR_DISK_NAME]	= { .type = NLA_REJECT },
	[CINDERBLK_ATTR_EXTENTS]	=
		NLA_POLICY_NESTED_ARRAY(cbd_extent_policy),
	/* A list of s32, checked by cbd_genl_get_sockets(). */
	[CINDERBLK_ATTR_SOCKET_FDS]	= { .type = NLA_NESTED },
	[CINDERBLK_ATTR_NBD_FLAGS]	=
		NLA_POLICY_FULL_RANGE(NLA_U32, &cbd_nbd_flags_range),
	[CINDERBLK_ATTR_NBD_MAX_PAYLOAD] = { .type = NLA_U32 },
	[CINDERBLK_ATTR_DEAD_TIMEOUT_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &cbd_io_timeout_range),
	[CINDERBLK_ATTR_CONNECTIONS]	= { .type = NLA_REJECT },
	[CINDERBLK_ATTR_LIVE_CONNECTIONS] = { .type = NLA_REJECT },
	[CINDERBLK_ATTR_NBD_URI]	= { .type = NLA_NUL_STRING,
					    .len = CINDERBLK_NBD_URI_MAX - 1 },
};

/* Required attributes: EINVAL, naming the missing one in the ext ack. */
static bool cbd_genl_missing(struct genl_info *info, int attr)
{
	if (info->attrs[attr])
		return false;
	NL_SET_ERR_ATTR_MISS(info->extack, NULL, attr);
	NL_SET_ERR_MSG(info->extack, "missing required attribute");
	return true;
}

/*
 * CINDERBLK_ATTR_EXTENTS into bp->extents (kvfree() it): a list of nested
 * extents, each with START, LENGTH and LOWER_OFFSET. The policy has
 * checked the types; the rest is checked with the lower device at hand.
 */
static int cbd_genl_get_extents(struct genl_info *info,
				struct cbd_backing_params *bp)
{
	struct nlattr *list = info->attrs[CINDERBLK_ATTR_EXTENTS];
	struct nlattr *tb[CINDERBLK_EXTENT_MAX + 1];
	struct netlink_ext_ack *extack = info->extack;
	struct cbd_extent *ext;
	struct nlattr *entry;
	u32 n = 0, i = 0;
	int rem, ret;

	if (!list)
		return 0;
	if (bp->type != CINDERBLK_BACKING_REMAP) {
		NL_SET_ERR_MSG_ATTR(extack, list,
				    "extents are for the remap backing only");
		return -EINVAL;
	}
	nla_for_each_nested(entry, list, rem)
		n++;
	if (rem) {
		NL_SET_ERR_MSG_ATTR(extack, list, "trailing data in the extent list");
		return -EINVAL;
	}
	if (!n) {
		NL_SET_ERR_MSG_ATTR(extack, list, "empty extent table");
		return -EINVAL;
	}
	if (n > cbd_max_extents) {
		NL_SET_ERR_MSG_ATTR(extack, list,
				    "too many extents (module parameter max_extents)");
		return -EINVAL;
	}
	ext = kvcalloc(n, sizeof(*ext), GFP_KERNEL);
	if (!ext)
		return -ENOMEM;
	nla_for_each_nested(entry, list, rem) {
		ret = nla_parse_nested(tb, CINDERBLK_EXTENT_MAX, entry,
				       cbd_extent_policy, extack);
		if (ret)
			goto err;
		if (!tb[CINDERBLK_EXTENT_START] ||
		    !tb[CINDERBLK_EXTENT_LENGTH] ||
		    !tb[CINDERBLK_EXTENT_LOWER_OFFSET]) {
			NL_SET_ERR_MSG_ATTR(extack, entry,
					    "an extent needs START, LENGTH and LOWER_OFFSET");
			ret = -EINVAL;
			goto err;
		}
		ext[i].start = nla_get_u64(tb[CINDERBLK_EXTENT_START]);
		ext[i].length = nla_get_u64(tb[CINDERBLK_EXTENT_LENGTH]);
		ext[i].lower_offset =
			nla_get_u64(tb[CINDERBLK_EXTENT_LOWER_OFFSET]);
		i++;
	}
	bp->extents = ext;
	bp->nr_extents = n;
	return 0;
err:
	kvfree(ext);
	return ret;
}

/* The nbd attributes: SOCKET_FDS (a list of s32), the handshake's. */
static int cbd_genl_get_sockets(struct genl_info *info,
				struct cbd_backing_params *bp)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **a = info->attrs;
	struct nlattr *list = a[CINDERBLK_ATTR_SOCKET_FDS];
	struct nlattr *entry;
	int rem;

	if (bp->type != CINDERBLK_BACKING_NBD) {
		static const int nbd_only[] = {
			CINDERBLK_ATTR_SOCKET_FDS, CINDERBLK_ATTR_NBD_FLAGS,
			CINDERBLK_ATTR_NBD_MAX_PAYLOAD,
			CINDERBLK_ATTR_DEAD_TIMEOUT_MS, CINDERBLK_ATTR_NBD_URI,
		};
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(nbd_only); i++) {
			if (a[nbd_only[i]]) {
				NL_SET_ERR_MSG_ATTR(extack, a[nbd_only[i]],
						    "attribute is for the nbd backing only");
				return -EINVAL;
			}
		}
		return 0;
	}
	if (cbd_genl_missing(info, CINDERBLK_ATTR_SOCKET_FDS) ||
	    cbd_genl_missing(info, CINDERBLK_ATTR_NBD_FLAGS))
		return -EINVAL;
	nla_for_each_nested(entry, list, rem) {
		if (nla_len(entry) != sizeof(s32)) {
			NL_SET_ERR_MSG_ATTR(extack, entry, "a socket is an s32");
			return -EINVAL;
		}
		if (bp->nr_socket_fds == CINDERBLK_NBD_MAX_CONNECTIONS) {
			NL_SET_ERR_MSG_ATTR(extack, list, "too many sockets");
			return -EINVAL;
		}
		bp->socket_fds[bp->nr_socket_fds++] = nla_get_s32(entry);
	}
	if (rem) {
		NL_SET_ERR_MSG_ATTR(extack, list, "trailing data in the socket list");
		return -EINVAL;
	}
	if (!bp->nr_socket_fds) {
		NL_SET_ERR_MSG_ATTR(extack, list, "no socket");
		return -EINVAL;
	}
	bp->nbd_flags = nla_get_u32(a[CINDERBLK_ATTR_NBD_FLAGS]);
	if (a[CINDERBLK_ATTR_NBD_MAX_PAYLOAD])
		bp->nbd_max_payload =
			nla_get_u32(a[CINDERBLK_ATTR_NBD_MAX_PAYLOAD]);
	if (a[CINDERBLK_ATTR_DEAD_TIMEOUT_MS])
		bp->dead_timeout_ms =
			nla_get_u32(a[CINDERBLK_ATTR_DEAD_TIMEOUT_MS]);
	if (a[CINDERBLK_ATTR_NBD_URI]) {
		if (info->genlhdr->cmd != CINDERBLK_CMD_DEV_ADD) {
			NL_SET_ERR_MSG_ATTR(extack, a[CINDERBLK_ATTR_NBD_URI],
					    "the export's address is set at add");
			return -EINVAL;
		}
		nla_strscpy(bp->nbd_uri, a[CINDERBLK_ATTR_NBD_URI],
			    sizeof(bp->nbd_uri));
	}
	return 0;
}

/* Backing attributes of ADD and RECONFIGURE. */
static int cbd_genl_get_backing(struct genl_info *info,
				struct cbd_backing_params *bp)
{
	struct nlattr **a = info->attrs;
	int ret;

	bp->type = nla_get_u32(a[CINDERBLK_ATTR_BACKING_TYPE]);
	ret = cbd_genl_get_sockets(info, bp);
	if (ret)
		return ret;
	if ((bp->type == CINDERBLK_BACKING_FILE ||
	     bp->type == CINDERBLK_BACKING_REMAP) &&
	    cbd_genl_missing(info, CINDERBLK_ATTR_BACKING_FD))
		return -EINVAL;
	if (a[CINDERBLK_ATTR_BACKING_FD])
		bp->fd = nla_get_s32(a[CINDERBLK_ATTR_BACKING_FD]);
	return cbd_genl_get_extents(info, bp);
}

static int cbd_genl_put_stats(struct sk_buff *skb, const struct cbd_stats *s)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, CINDERBLK_ATTR_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, CINDERBLK_STAT_READ_IOS, s->read_ios,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_READ_BYTES, s->read_bytes,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_WRITE_IOS, s->write_ios,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_WRITE_BYTES, s->write_bytes,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_FLUSH_IOS, s->flush_ios,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_DISCARD_IOS, s->discard_ios,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_WRITE_ZEROES_IOS,
			      s->write_zeroes_ios, CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_ERRORS, s->errors,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_INFLIGHT, s->inflight,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_TIMEOUTS, s->timeouts,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_LINK_DOWNS, s->link_downs,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_RECONNECTS, s->reconnects,
			      CINDERBLK_STAT_PAD) ||
	    nla_put_u64_64bit(skb, CINDERBLK_STAT_REQUEUES, s->requeues,
			      CINDERBLK_STAT_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* The identity of a device: in events and replies. */
static int cbd_genl_put_id(struct sk_buff *skb, const struct cbd_dev_info *d)
{
	if (nla_put_u32(skb, CINDERBLK_ATTR_INDEX, d->index) ||
	    nla_put_string(skb, CINDERBLK_ATTR_VOLUME_ID, d->volume_id) ||
	    nla_put_u64_64bit(skb, CINDERBLK_ATTR_SIZE, d->size,
			      CINDERBLK_ATTR_PAD) ||
	    nla_put_u32(skb, CINDERBLK_ATTR_STATE, d->state) ||
	    nla_put_string(skb, CINDERBLK_ATTR_DISK_NAME, d->disk_name))
		return -EMSGSIZE;
	if (d->backing_type == CINDERBLK_BACKING_NBD &&
	    (nla_put_u32(skb, CINDERBLK_ATTR_CONNECTIONS, d->connections) ||
	     nla_put_u32(skb, CINDERBLK_ATTR_LIVE_CONNECTIONS,
			 d->live_connections)))
		return -EMSGSIZE;
	return 0;
}

static int cbd_genl_put_dev(struct sk_buff *skb, const struct cbd_dev_info *d)
{
	if (cbd_genl_put_id(skb, d) ||
	    nla_put_u32(skb, CINDERBLK_ATTR_LOGICAL_BLOCK_SIZE,
			d->logical_block_size) ||
	    nla_put_u32(skb, CINDERBLK_ATTR_PHYSICAL_BLOCK_SIZE,
			d->physical_block_size) ||
	    nla_put_u32(skb, CINDERBLK_ATTR_FLAGS, d->flags) ||
	    nla_put_u32(skb, CINDERBLK_ATTR_BACKING_TYPE, d->backing_type) ||
	    nla_put_u32(skb, CINDERBLK_ATTR_NR_HW_QUEUES, d->nr_hw_queues) ||
	    nla_put_u32(skb, CINDERBLK_ATTR_QUEUE_DEPTH, d->queue_depth) ||
	    nla_put_u32(skb, CINDERBLK_ATTR_IO_TIMEOUT_MS, d->io_timeout_ms) ||
	    nla_put_u32(skb, CINDERBLK_ATTR_OPEN_COUNT, d->open_count))
		return -EMSGSIZE;
	if (d->backing_type == CINDERBLK_BACKING_NBD &&
	    (nla_put_u32(skb, CINDERBLK_ATTR_DEAD_TIMEOUT_MS,
			 d->dead_timeout_ms) ||
	     (d->nbd_uri[0] &&
	      nla_put_string(skb, CINDERBLK_ATTR_NBD_URI, d->nbd_uri))))
		return -EMSGSIZE;
	return cbd_genl_put_stats(skb, &d->stats);
}

/* Answer a request with one device. */
static int cbd_genl_reply_dev(struct sk_buff *skb, struct genl_info *info,
			      const struct cbd_dev_info *d)
{
	void *hdr;

	hdr = genlmsg_put_reply(skb, info, &cbd_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr || cbd_genl_put_dev(skb, d)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

void cbd_genl_event(u8 cmd, const struct cbd_dev_info *d)
{
	struct sk_buff *skb;
	void *hdr;

	if (!READ_ONCE(cbd_genl_registered) ||
	    !genl_has_listeners(&cbd_genl_family, &init_net,
				CBD_GENL_MCGRP_EVENTS))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &cbd_genl_family, 0, cmd);
	if (!hdr || cbd_genl_put_id(skb, d)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast(&cbd_genl_family, skb, 0, CBD_GENL_MCGRP_EVENTS,
			  GFP_KERNEL);
}

static int cbd_genl_dev_add(struct sk_buff *skb, struct genl_info *info)
{
	struct cbd_add_params p = { .index = CINDERBLK_INDEX_ANY };
	struct nlattr **a = info->attrs;
	struct cbd_dev_info d;
	struct sk_buff *reply;
	int ret;

	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (cbd_genl_missing(info, CINDERBLK_ATTR_SIZE) ||
	    cbd_genl_missing(info, CINDERBLK_ATTR_VOLUME_ID) ||
	    cbd_genl_missing(info, CINDERBLK_ATTR_BACKING_TYPE))
		return -EINVAL;
	if (nla_get_flag(a[CINDERBLK_ATTR_NBD_REPLACE])) {
		NL_SET_ERR_MSG(info->extack, "NBD_REPLACE is for RECONFIGURE");
		return -EINVAL;
	}
	if (a[CINDERBLK_ATTR_INDEX])
		p.index = nla_get_u32(a[CINDERBLK_ATTR_INDEX]);
	p.size = nla_get_u64(a[CINDERBLK_ATTR_SIZE]);
	if (a[CINDERBLK_ATTR_LOGICAL_BLOCK_SIZE])
		p.logical_block_size =
			nla_get_u32(a[CINDERBLK_ATTR_LOGICAL_BLOCK_SIZE]);
	if (a[CINDERBLK_ATTR_PHYSICAL_BLOCK_SIZE])
		p.physical_block_size =
			nla_get_u32(a[CINDERBLK_ATTR_PHYSICAL_BLOCK_SIZE]);
	if (a[CINDERBLK_ATTR_FLAGS])
		p.flags = nla_get_u32(a[CINDERBLK_ATTR_FLAGS]);
	if (a[CINDERBLK_ATTR_NR_HW_QUEUES])
		p.nr_hw_queues = nla_get_u32(a[CINDERBLK_ATTR_NR_HW_QUEUES]);
	if (a[CINDERBLK_ATTR_QUEUE_DEPTH])
		p.queue_depth = nla_get_u32(a[CINDERBLK_ATTR_QUEUE_DEPTH]);
	if (a[CINDERBLK_ATTR_IO_TIMEOUT_MS])
		p.io_timeout_ms = nla_get_u32(a[CINDERBLK_ATTR_IO_TIMEOUT_MS]);
	nla_strscpy(p.volume_id, a[CINDERBLK_ATTR_VOLUME_ID],
		    sizeof(p.volume_id));
	ret = cbd_genl_get_backing(info, &p.backing);
	if (ret)
		return ret;

	/* Allocated first: once the device exists, the answer must go out. */
	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply) {
		ret = -ENOMEM;
		goto out;
	}
	ret = cbd_dev_add(&p, &d, info->extack);
	if (ret) {
		nlmsg_free(reply);
		goto out;
	}
	ret = cbd_genl_reply_dev(reply, info, &d);
out:
	kvfree(p.backing.extents);
	return ret;
}

static int cbd_genl_dev_remove(struct sk_buff *skb, struct genl_info *info)
{
	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (cbd_genl_missing(info, CINDERBLK_ATTR_INDEX))
		return -EINVAL;
	return cbd_dev_remove(nla_get_u32(info->attrs[CINDERBLK_ATTR_INDEX]),
			      nla_get_flag(info->attrs[CINDERBLK_ATTR_FORCE]),
			      info->extack);
}

static int cbd_genl_dev_get(struct sk_buff *skb, struct genl_info *info)
{
	struct cbd_dev_info d;
	struct sk_buff *reply;
	int ret;

	if (cbd_genl_missing(info, CINDERBLK_ATTR_INDEX))
		return -EINVAL;
	ret = cbd_dev_get(nla_get_u32(info->attrs[CINDERBLK_ATTR_INDEX]), &d);
	if (ret) {
		NL_SET_ERR_MSG(info->extack, "no such device");
		return ret;
	}
	reply = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!reply)
		return -ENOMEM;
	return cbd_genl_reply_dev(reply, info, &d);
}

static int cbd_genl_dev_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	u32 index = cb->args[0];
	struct cbd_dev_info d;
	void *hdr;

	while (!cbd_dev_get_next(&index, &d)) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &cbd_genl_family,
				  NLM_F_MULTI, CINDERBLK_CMD_DEV_GET);
		if (!hdr)
			break;
		if (cbd_genl_put_dev(skb, &d)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		index++;
	}
	cb->args[0] = index;
	return skb->len;
}

static int cbd_genl_dev_resize(struct sk_buff *skb, struct genl_info *info)
{
	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (cbd_genl_missing(info, CINDERBLK_ATTR_INDEX) ||
	    cbd_genl_missing(info, CINDERBLK_ATTR_SIZE))
		return -EINVAL;
	return cbd_dev_resize(nla_get_u32(info->attrs[CINDERBLK_ATTR_INDEX]),
			      nla_get_u64(info->attrs[CINDERBLK_ATTR_SIZE]),
			      info->extack);
}

static int cbd_genl_dev_suspend(struct sk_buff *skb, struct genl_info *info)
{
	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (cbd_genl_missing(info, CINDERBLK_ATTR_INDEX))
		return -EINVAL;
	return cbd_dev_suspend(nla_get_u32(info->attrs[CINDERBLK_ATTR_INDEX]),
			       nla_get_flag(info->attrs[CINDERBLK_ATTR_FREEZE]),
			       info->extack);
}

static int cbd_genl_dev_resume(struct sk_buff *skb, struct genl_info *info)
{
	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (cbd_genl_missing(info, CINDERBLK_ATTR_INDEX))
		return -EINVAL;
	return cbd_dev_resume(nla_get_u32(info->attrs[CINDERBLK_ATTR_INDEX]),
			      info->extack);
}

static int cbd_genl_dev_reconfigure(struct sk_buff *skb,
				    struct genl_info *info)
{
	struct cbd_backing_params bp = { };
	struct nlattr **a = info->attrs;
	int ret;

	if (!netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	if (cbd_genl_missing(info, CINDERBLK_ATTR_INDEX) ||
	    cbd_genl_missing(info, CINDERBLK_ATTR_BACKING_TYPE))
		return -EINVAL;
	ret = cbd_genl_get_backing(info, &bp);
	if (ret)
		return ret;
	bp.nbd_replace = nla_get_flag(a[CINDERBLK_ATTR_NBD_REPLACE]);
	if (bp.nbd_replace && bp.type != CINDERBLK_BACKING_NBD) {
		NL_SET_ERR_MSG(info->extack, "NBD_REPLACE is for nbd backings");
		kvfree(bp.extents);
		return -EINVAL;
	}
	ret = cbd_dev_reconfigure(nla_get_u32(a[CINDERBLK_ATTR_INDEX]), &bp,
				  info->extack);
	kvfree(bp.extents);
	return ret;
}

/* Permissions are checked in the handlers: mutations need CAP_SYS_ADMIN. */
static const struct genl_small_ops cbd_genl_ops[] = {
	{
		.cmd	= CINDERBLK_CMD_DEV_ADD,
		.doit	= cbd_genl_dev_add,
	},
	{
		.cmd	= CINDERBLK_CMD_DEV_REMOVE,
		.doit	= cbd_genl_dev_remove,
	},
	{
		.cmd	= CINDERBLK_CMD_DEV_GET,
		.doit	= cbd_genl_dev_get,
		.dumpit	= cbd_genl_dev_dump,
	},
	{
		.cmd	= CINDERBLK_CMD_DEV_RESIZE,
		.doit	= cbd_genl_dev_resize,
	},
	{
		.cmd	= CINDERBLK_CMD_DEV_SUSPEND,
		.doit	= cbd_genl_dev_suspend,
	},
	{
		.cmd	= CINDERBLK_CMD_DEV_RESUME,
		.doit	= cbd_genl_dev_resume,
	},
	{
		.cmd	= CINDERBLK_CMD_DEV_RECONFIGURE,
		.doit	= cbd_genl_dev_reconfigure,
	},
};

static struct genl_family cbd_genl_family __ro_after_init = {
	.name		= CINDERBLK_GENL_NAME,
	.version	= CINDERBLK_GENL_VERSION,
	.maxattr	= CINDERBLK_ATTR_MAX,
	.policy		= cbd_genl_policy,
	.module		= THIS_MODULE,
	/* cbd_mutex serializes; suspend must not hold every family up. */
	.parallel_ops	= true,
	.small_ops	= cbd_genl_ops,
	.n_small_ops	= ARRAY_SIZE(cbd_genl_ops),
	/* A new family: strict validation for every command. */
	.resv_start_op	= __CINDERBLK_CMD_MAX,
	.mcgrps		= cbd_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(cbd_genl_mcgrps),
};

int cbd_genl_init(void)
{
	int ret;

	ret = genl_register_family(&cbd_genl_family);
	if (ret)
		return ret;
	WRITE_ONCE(cbd_genl_registered, true);
	return 0;
}

void cbd_genl_exit(void)
{
	WRITE_ONCE(cbd_genl_registered, false);
	genl_unregister_family(&cbd_genl_family);
}
