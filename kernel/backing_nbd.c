// SPDX-License-Identifier: GPL-2.0
/*
 * cinderblk: the nbd backing. Requests go to an NBD server over stream
 * sockets that userspace connected and negotiated (the handshake is
 * userspace's, kept small and strict there); this file is the
 * transmission phase only. Requests are spread over the connections,
 * each connection has a receiving thread, the requests of a lost
 * connection are sent again on another, and with none left requests wait
 * for sockets handed in by a reconfigure, up to the dead timeout.
 *
 * A request's per-command state says who owns it, under its lock:
 * IDLE (not ours, or ended), WAITING (ours, to be sent again), SENT (on
 * connection slot/gen, a reply with its cookie is expected) and RECEIVING
 * (the receiver is reading its data). Only the owner of a transition ends
 * or requeues a request, so a late or forged reply, a timeout and a lost
 * connection can race without ending a request twice.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/net.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "cinderblk.h"

/* The NBD protocol's wire format (transmission phase, simple replies). */
#define NBD_PROTO_REQUEST_MAGIC		0x25609513U
#define NBD_PROTO_SIMPLE_REPLY_MAGIC	0x67446698U
#define NBD_PROTO_STRUCTURED_REPLY_MAGIC 0x668e33efU

#define NBD_PROTO_CMD_READ		0
#define NBD_PROTO_CMD_WRITE		1
#define NBD_PROTO_CMD_DISC		2
#define NBD_PROTO_CMD_FLUSH		3
#define NBD_PROTO_CMD_TRIM		4
#define NBD_PROTO_CMD_WRITE_ZEROES	6

#define NBD_PROTO_CMD_FLAG_FUA		BIT(0)
#define NBD_PROTO_CMD_FLAG_NO_HOLE	BIT(1)

#define NBD_PROTO_FLAG_HAS_FLAGS	BIT(0)
#define NBD_PROTO_FLAG_READ_ONLY	BIT(1)
#define NBD_PROTO_FLAG_SEND_FLUSH	BIT(2)
#define NBD_PROTO_FLAG_SEND_FUA		BIT(3)
#define NBD_PROTO_FLAG_SEND_TRIM	BIT(5)
#define NBD_PROTO_FLAG_SEND_WRITE_ZEROES BIT(6)

#define NBD_PROTO_ENOSPC		28

struct cbd_nbd_wire_request {
	__be32 magic;
	__be16 flags;
	__be16 type;
	__be64 cookie;
	__be64 offset;
	__be32 length;
} __packed;

struct cbd_nbd_wire_reply {
	__be32 magic;
	__be32 error;
	__be64 cookie;
} __packed;

/* Without a maximum from the server, the protocol's advice: 32 MiB. */
#define CBD_NBD_DEFAULT_PAYLOAD		(32U << 20)
#define CBD_NBD_MIN_PAYLOAD		4096U
#define CBD_NBD_DEFAULT_DEAD_MS		60000U
/* The queue number in a cookie of the backing's own flush (suspend). */
#define CBD_NBD_OWN_FLUSH_HWQ		0xffffU

enum cbd_nbd_cmd_state {
	CBD_NBD_IDLE,
	CBD_NBD_WAITING,
	CBD_NBD_SENT,
	CBD_NBD_RECEIVING,
};

struct cbd_nbd_cmd {
	spinlock_t lock;		/* state and where it was sent */
	u8 state;			/* enum cbd_nbd_cmd_state */
	u8 slot;			/* connection it was sent on */
	u32 gen;			/* ... and that connection's socket */
	u32 seq;			/* the cookie's low half, per send */
	unsigned long first_issue;	/* jiffies of its first dispatch */
	struct cbd_nbd_wire_request hdr;
};

struct cbd_nbd_backing;

struct cbd_nbd_conn {
	struct cbd_nbd_backing *nb;
	unsigned int slot;
	/* One sender at a time; the receiver never takes it. */
	struct mutex tx_lock;
	/* Guards sock against a swap while a timeout shuts it down. */
	struct mutex sock_lock;
	struct socket *sock;		/* NULL: never had one */
	struct task_struct *rx;		/* the receiver of sock */
	u32 gen;			/* bumped for each socket put here */
	bool alive;			/* under nb->lock; read with READ_ONCE */
	/* Closed on purpose (replaced): its end is no loss (nb->lock). */
	bool retiring;
	/* Sent with MSG_MORE, not pushed yet (under tx_lock). */
	bool unpushed;
	/* A flush of the backing's own (suspend), outside blk-mq. */
	bool flush_pending;		/* under tx_lock to set, rx to clear */
	u32 flush_seq;
	int flush_error;
	struct completion flush_done;
};

struct cbd_nbd_backing {
	struct cbd_backing base;
	struct cbd_device *cbd;
	u16 nbd_flags;
	u32 dead_timeout_ms;
	char uri[CINDERBLK_NBD_URI_MAX];	/* userspace's, never read */
	unsigned int nr_conns;
	unsigned int nr_hw_queues;

	spinlock_t lock;		/* alive flags, live, dead */
	unsigned int live;
	bool dead;			/* no connection for dead_timeout_ms */
	bool killed;			/* forced removal: fail everything */
	bool releasing;			/* no disk, no requests any more */
	wait_queue_head_t conn_wq;	/* senders waiting for a connection */
	struct delayed_work dead_work;

	atomic64_t link_downs;
	atomic64_t reconnects;
	atomic64_t requeues;

	struct cbd_nbd_conn conns[];
};

static struct cbd_nbd_backing *to_nbd(struct cbd_backing *b)
{
	return container_of(b, struct cbd_nbd_backing, base);
}

static struct cbd_nbd_cmd *rq_to_nbd_cmd(struct request *rq)
{
	return cbd_cmd_priv(blk_mq_rq_to_pdu(rq));
}

/* ---- sockets ---- */

/*
 * A send that must wait for room blocks the submitter's signals
 * meanwhile, so that a signal does not cut a request in two; only a fatal
 * one still can, and that connection is then dropped.
 */
struct cbd_nbd_sigs {
	bool blocked;
	sigset_t old;
};

static void cbd_nbd_block_signals(struct cbd_nbd_sigs *sigs)
{
	sigset_t all;

	siginitsetinv(&all, sigmask(SIGKILL));
	sigprocmask(SIG_BLOCK, &all, &sigs->old);
	sigs->blocked = true;
}

static void cbd_nbd_restore_signals(struct cbd_nbd_sigs *sigs)
{
	if (sigs->blocked)
		sigprocmask(SIG_SETMASK, &sigs->old, NULL);
}

static void cbd_nbd_sock_prepare(struct socket *sock)
{
	/* The socket allocates while we may be writing back for reclaim. */
	sock->sk->sk_allocation = GFP_NOIO | __GFP_MEMALLOC;
	sock->sk->sk_use_task_frag = false;
}

/* Send or receive all of @iter; 0, or a negative errno (-EPIPE at EOF). */
static int cbd_nbd_xmit(struct socket *sock, bool send, struct iov_iter *iter,
			int flags, unsigned int *done)
{
	struct cbd_nbd_sigs sigs = { };
	struct msghdr msg = { };
	unsigned int noreclaim;
	int ret = 0;

	msg.msg_iter = *iter;
	noreclaim = memalloc_noreclaim_save();
	while (msg_data_left(&msg)) {
		cbd_nbd_sock_prepare(sock);
		msg.msg_flags = flags | MSG_NOSIGNAL;
		if (send && !sigs.blocked)
			msg.msg_flags |= MSG_DONTWAIT;
		if (send)
			ret = sock_sendmsg(sock, &msg);
		else
			ret = sock_recvmsg(sock, &msg, msg.msg_flags);
		if (ret == -EAGAIN && send && !sigs.blocked) {
			cbd_nbd_block_signals(&sigs);
			continue;
		}
		if (ret <= 0) {
			ret = ret ? ret : -EPIPE;
			break;
		}
		if (done)
			*done += ret;
		ret = 0;
	}
	cbd_nbd_restore_signals(&sigs);
	memalloc_noreclaim_restore(noreclaim);
	return ret;
}

static int cbd_nbd_xmit_buf(struct socket *sock, bool send, void *buf,
			    size_t len, int flags, unsigned int *done)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter iter;

	iov_iter_kvec(&iter, send ? ITER_SOURCE : ITER_DEST, &kv, 1, len);
	return cbd_nbd_xmit(sock, send, &iter, flags, done);
}

/*
 * Send one page segment of a write without copying it: the socket holds
 * a reference to the page until the data is acknowledged, and the reply
 * that ends the request comes only after the server has all of it, so
 * nothing of the request is left to resend once it ends.
 */
static int cbd_nbd_send_page(struct socket *sock, struct bio_vec *bv,
			     int flags)
{
	struct cbd_nbd_sigs sigs = { };
	unsigned int off = bv->bv_offset, left = bv->bv_len;
	unsigned int noreclaim;
	int ret = 0;

	noreclaim = memalloc_noreclaim_save();
	while (left) {
		cbd_nbd_sock_prepare(sock);
		ret = kernel_sendpage(sock, bv->bv_page, off, left,
				      flags | MSG_NOSIGNAL |
				      (sigs.blocked ? 0 : MSG_DONTWAIT));
		if (ret == -EAGAIN && !sigs.blocked) {
			cbd_nbd_block_signals(&sigs);
			continue;
		}
		if (ret <= 0) {
			ret = ret ? ret : -EPIPE;
			break;
		}
		off += ret;
		left -= ret;
		ret = 0;
	}
	cbd_nbd_restore_signals(&sigs);
	memalloc_noreclaim_restore(noreclaim);
	return ret;
}

/* Send a write's data from its pages; @last_flags go with the end. */
static int cbd_nbd_send_data(struct socket *sock, struct request *rq,
			     int last_flags)
{
	unsigned int left = blk_rq_bytes(rq);
	struct req_iterator it;
	struct iov_iter iter;
	struct bio_vec bv;
	int flags, ret;

	rq_for_each_segment(bv, rq, it) {
		left -= bv.bv_len;
		flags = left ? MSG_MORE | MSG_SENDPAGE_NOTLAST : last_flags;
		if (sendpage_ok(bv.bv_page)) {
			ret = cbd_nbd_send_page(sock, &bv, flags);
		} else {
			/* Slab memory cannot be lent to the socket: copy. */
			iov_iter_bvec(&iter, ITER_SOURCE, &bv, 1, bv.bv_len);
			ret = cbd_nbd_xmit(sock, true, &iter,
					   flags & ~MSG_SENDPAGE_NOTLAST, NULL);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Receive a read's data straight into its pages. */
static int cbd_nbd_recv_data(struct socket *sock, struct request *rq,
			     unsigned int *done)
{
	struct req_iterator it;
	struct iov_iter iter;
	struct bio_vec bv;
	int ret;

	rq_for_each_bvec(bv, rq, it) {
		iov_iter_bvec(&iter, ITER_DEST, &bv, 1, bv.bv_len);
		ret = cbd_nbd_xmit(sock, false, &iter, MSG_WAITALL, done);
		if (ret)
			return ret;
	}
	return 0;
}

/* Make the receiver of @conn's socket @gen see the end of it. */
static void cbd_nbd_shutdown(struct cbd_nbd_conn *conn, u32 gen)
{
	mutex_lock(&conn->sock_lock);
	if (conn->sock && conn->gen == gen)
		kernel_sock_shutdown(conn->sock, SHUT_RDWR);
	mutex_unlock(&conn->sock_lock);
}

/* ---- the state of the link ---- */

static void cbd_nbd_dead_work(struct work_struct *work)
{
	struct cbd_nbd_backing *nb = container_of(to_delayed_work(work),
						  struct cbd_nbd_backing,
						  dead_work);
	bool now_dead = false;

	spin_lock(&nb->lock);
	if (!nb->live && !nb->dead) {
		nb->dead = true;
		now_dead = true;
	}
	spin_unlock(&nb->lock);
	if (now_dead)
		pr_warn("%s: no connection to the NBD server for %u ms: failing I/O until one is handed in\n",
			nb->cbd->disk->disk_name, nb->dead_timeout_ms);
	wake_up_all(&nb->conn_wq);
}

/* Requests sent on @conn's lost socket go back to be sent elsewhere. */
static bool cbd_nbd_requeue_one(struct request *rq, void *data)
{
	struct cbd_nbd_conn *conn = data;
	struct cbd_nbd_cmd *cmd = rq_to_nbd_cmd(rq);
	bool mine;

	spin_lock(&cmd->lock);
	mine = cmd->state == CBD_NBD_SENT && cmd->slot == conn->slot &&
	       cmd->gen == conn->gen;
	if (mine)
		cmd->state = CBD_NBD_WAITING;
	spin_unlock(&cmd->lock);
	if (mine) {
		atomic64_inc(&conn->nb->requeues);
		blk_mq_requeue_request(rq, false);
	}
	return true;
}

/*
 * @conn's socket is gone (the receiver saw its end, an error or a
 * protocol violation): no new sends on it, its requests elsewhere, and
 * the world told.
 */
static void cbd_nbd_conn_lost(struct cbd_nbd_conn *conn)
{
	struct cbd_nbd_backing *nb = conn->nb;
	struct cbd_device *cbd = nb->cbd;
	bool releasing, killed, retiring;
	unsigned int live;

	spin_lock(&nb->lock);
	WRITE_ONCE(conn->alive, false);
	live = --nb->live;
	releasing = nb->releasing;
	killed = nb->killed;
	retiring = conn->retiring;
	if (!live && !killed && !retiring)
		mod_delayed_work(system_wq, &nb->dead_work,
				 msecs_to_jiffies(nb->dead_timeout_ms));
	spin_unlock(&nb->lock);

	kernel_sock_shutdown(conn->sock, SHUT_RDWR);
	if (READ_ONCE(conn->flush_pending)) {
		conn->flush_error = -EIO;
		WRITE_ONCE(conn->flush_pending, false);
		complete(&conn->flush_done);
	}
	/* Released: the tag set is gone. Replaced: nothing is in flight. */
	if (releasing || retiring)
		return;
	/* A sender still inside the socket is done with it after this. */
	mutex_lock(&conn->tx_lock);
	mutex_unlock(&conn->tx_lock);

	atomic64_inc(&nb->link_downs);
	blk_mq_tagset_busy_iter(&cbd->tag_set, cbd_nbd_requeue_one, conn);
	blk_mq_kick_requeue_list(cbd->disk->queue);
	if (!killed)
		pr_warn_ratelimited("%s: NBD connection %u lost, %u left\n",
				    cbd->disk->disk_name, conn->slot, live);
	cbd_link_changed(cbd, false, !live);
}

/* ---- receiving ---- */

static blk_status_t cbd_nbd_error_status(u32 error)
{
	return error == NBD_PROTO_ENOSPC ? BLK_STS_NOSPC : BLK_STS_IOERR;
}

/*
 * One reply. 0 when it was read (its request ended), else the reason to
 * drop the connection.
 */
static int cbd_nbd_recv_reply(struct cbd_nbd_conn *conn, struct socket *sock)
{
	struct cbd_nbd_backing *nb = conn->nb;
	const char *name = nb->cbd->disk->disk_name;
	struct cbd_nbd_wire_reply reply;
	struct blk_mq_tags *tags;
	struct cbd_nbd_cmd *cmd;
	struct request *rq;
	u32 magic, error, hwq, tag, seq;
	unsigned int done = 0;
	bool ours;
	u64 cookie;
	int ret;

	ret = cbd_nbd_xmit_buf(sock, false, &reply, sizeof(reply),
			       MSG_WAITALL, NULL);
	if (ret)
		return ret;
	magic = be32_to_cpu(reply.magic);
	if (magic != NBD_PROTO_SIMPLE_REPLY_MAGIC) {
		pr_warn_ratelimited("%s: NBD connection %u: %s (0x%08x), dropping it\n",
				    name, conn->slot,
				    magic == NBD_PROTO_STRUCTURED_REPLY_MAGIC ?
				    "structured reply that was not negotiated" :
				    "bad reply magic", magic);
		return -EPROTO;
	}
	error = be32_to_cpu(reply.error);
	cookie = be64_to_cpu(reply.cookie);
	hwq = cookie >> 48;
	tag = (cookie >> 32) & 0xffff;
	seq = (u32)cookie;

	if (hwq == CBD_NBD_OWN_FLUSH_HWQ) {
		if (!READ_ONCE(conn->flush_pending) || seq != conn->flush_seq) {
			pr_warn_ratelimited("%s: NBD connection %u: reply to a flush never sent, dropping it\n",
					    name, conn->slot);
			return -EPROTO;
		}
		conn->flush_error = error ? -EIO : 0;
		WRITE_ONCE(conn->flush_pending, false);
		complete(&conn->flush_done);
		return 0;
	}
	rq = NULL;
	if (hwq < nb->nr_hw_queues) {
		tags = nb->cbd->tag_set.tags[hwq];
		rq = tags ? blk_mq_tag_to_rq(tags, tag) : NULL;
	}
	ours = false;
	if (rq) {
		cmd = rq_to_nbd_cmd(rq);
		spin_lock(&cmd->lock);
		ours = cmd->state == CBD_NBD_SENT &&
		       cmd->slot == conn->slot && cmd->gen == conn->gen &&
		       cmd->seq == seq;
		if (ours)
			cmd->state = CBD_NBD_RECEIVING;
		spin_unlock(&cmd->lock);
	}
	if (!ours) {
		pr_warn_ratelimited("%s: NBD connection %u: reply with cookie 0x%llx for no request in flight there, dropping it\n",
				    name, conn->slot, cookie);
		return -EPROTO;
	}

	if (!error && req_op(rq) == REQ_OP_READ) {
		ret = cbd_nbd_recv_data(sock, rq, &done);
		if (ret) {
			/* Short read: the request goes with the connection. */
			spin_lock(&cmd->lock);
			cmd->state = CBD_NBD_SENT;
			spin_unlock(&cmd->lock);
			pr_warn_ratelimited("%s: NBD connection %u: read reply cut short after %u of %u bytes (%d), dropping it\n",
					    name, conn->slot, done,
					    blk_rq_bytes(rq), ret);
			return ret;
		}
	}
	if (error)
		pr_warn_ratelimited("%s: NBD server failed %s at sector %llu: error %u\n",
				    name, blk_op_str(req_op(rq)),
				    blk_rq_pos(rq), error);
	spin_lock(&cmd->lock);
	cmd->state = CBD_NBD_IDLE;
	spin_unlock(&cmd->lock);
	cbd_end_request(rq, error ? cbd_nbd_error_status(error) : BLK_STS_OK);
	return 0;
}

static int cbd_nbd_rx_thread(void *data)
{
	struct cbd_nbd_conn *conn = data;
	struct socket *sock = conn->sock;

	while (!kthread_should_stop() && !cbd_nbd_recv_reply(conn, sock))
		;
	cbd_nbd_conn_lost(conn);
	/* The slot is reused or freed by whoever stops us. */
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/* ---- sending ---- */

/* The connection a request goes to, or NULL when none lives. */
static struct cbd_nbd_conn *cbd_nbd_pick(struct cbd_nbd_backing *nb,
					 struct request *rq)
{
	unsigned int want, i, slot;

	/* Spread each queue's requests over every connection it can use. */
	want = (rq->mq_hctx->queue_num + nb->nr_hw_queues * rq->tag) %
	       nb->nr_conns;
	for (i = 0; i < nb->nr_conns; i++) {
		slot = (want + i) % nb->nr_conns;
		if (READ_ONCE(nb->conns[slot].alive))
			return &nb->conns[slot];
	}
	return NULL;
}

/* 0 once a connection lives, -EIO when the wait is over. */
static int cbd_nbd_wait_conn(struct cbd_nbd_backing *nb)
{
	for (;;) {
		if (READ_ONCE(nb->killed) || READ_ONCE(nb->dead))
			return -EIO;
		if (READ_ONCE(nb->live))
			return 0;
		wait_event_timeout(nb->conn_wq,
				   READ_ONCE(nb->live) || READ_ONCE(nb->dead) ||
				   READ_ONCE(nb->killed), HZ);
	}
}

static void cbd_nbd_fill_header(struct cbd_nbd_cmd *cmd, struct request *rq,
				u16 type, u16 flags)
{
	struct cbd_nbd_wire_request *h = &cmd->hdr;
	u64 cookie = (u64)rq->mq_hctx->queue_num << 48 |
		     (u64)(rq->tag & 0xffff) << 32 | cmd->seq;

	h->magic = cpu_to_be32(NBD_PROTO_REQUEST_MAGIC);
	h->flags = cpu_to_be16(flags);
	h->type = cpu_to_be16(type);
	h->cookie = cpu_to_be64(cookie);
	/* A flush has neither offset nor length (the protocol says 0). */
	if (type == NBD_PROTO_CMD_FLUSH) {
		h->offset = 0;
		h->length = 0;
	} else {
		h->offset = cpu_to_be64(blk_rq_pos(rq) << SECTOR_SHIFT);
		h->length = cpu_to_be32(blk_rq_bytes(rq));
	}
}

/* The NBD command of a request, or -EOPNOTSUPP. */
static int cbd_nbd_command(struct cbd_nbd_backing *nb, struct request *rq,
			   u16 *flags)
{
	*flags = 0;
	switch (req_op(rq)) {
	case REQ_OP_READ:
		return NBD_PROTO_CMD_READ;
	case REQ_OP_WRITE:
		if ((rq->cmd_flags & REQ_FUA) &&
		    (nb->nbd_flags & NBD_PROTO_FLAG_SEND_FUA))
			*flags = NBD_PROTO_CMD_FLAG_FUA;
		return NBD_PROTO_CMD_WRITE;
	case REQ_OP_FLUSH:
		return NBD_PROTO_CMD_FLUSH;
	case REQ_OP_DISCARD:
		return NBD_PROTO_CMD_TRIM;
	case REQ_OP_WRITE_ZEROES:
		if (rq->cmd_flags & REQ_NOUNMAP)
			*flags = NBD_PROTO_CMD_FLAG_NO_HOLE;
		return NBD_PROTO_CMD_WRITE_ZEROES;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * Requests of one dispatch go out with MSG_MORE but for the last, so that
 * TCP packs a batch into few segments. What was held back on the other
 * connections goes out with the last request (or at commit_rqs).
 */
static void cbd_nbd_push_all(struct cbd_nbd_backing *nb)
{
	struct cbd_nbd_conn *conn;
	unsigned int i;

	for (i = 0; i < nb->nr_conns; i++) {
		conn = &nb->conns[i];
		if (!READ_ONCE(conn->unpushed))
			continue;
		mutex_lock(&conn->tx_lock);
		if (conn->unpushed && READ_ONCE(conn->alive) &&
		    sk_is_tcp(conn->sock->sk)) {
			/* Uncorking pushes what waits in the socket. */
			tcp_sock_set_cork(conn->sock->sk, true);
			tcp_sock_set_cork(conn->sock->sk, false);
		}
		conn->unpushed = false;
		mutex_unlock(&conn->tx_lock);
	}
}

static void cbd_nbd_commit(struct cbd_backing *b)
{
	cbd_nbd_push_all(to_nbd(b));
}

static blk_status_t cbd_nbd_send(struct cbd_nbd_backing *nb,
				 struct request *rq, bool last);

static blk_status_t cbd_nbd_queue_rq(struct cbd_backing *b, struct request *rq)
{
	struct cbd_nbd_backing *nb = to_nbd(b);
	bool last = ((struct cbd_cmd *)blk_mq_rq_to_pdu(rq))->last;
	blk_status_t sts;

	sts = cbd_nbd_send(nb, rq, last);
	if (last)
		cbd_nbd_push_all(nb);
	return sts;
}

static blk_status_t cbd_nbd_send(struct cbd_nbd_backing *nb,
				 struct request *rq, bool last)
{
	struct cbd_nbd_cmd *cmd = rq_to_nbd_cmd(rq);
	struct cbd_nbd_conn *conn;
	int more = last ? 0 : MSG_MORE;
	bool with_data;
	u16 flags;
	int type, ret;

	type = cbd_nbd_command(nb, rq, &flags);
	if (type < 0)
		return BLK_STS_NOTSUPP;
	with_data = type == NBD_PROTO_CMD_WRITE;

	spin_lock(&cmd->lock);
	if (cmd->state == CBD_NBD_IDLE)
		cmd->first_issue = jiffies;
	spin_unlock(&cmd->lock);
again:
	conn = cbd_nbd_pick(nb, rq);
	if (!conn) {
		if (cbd_nbd_wait_conn(nb))
			goto fail;
		goto again;
	}
	mutex_lock(&conn->tx_lock);
	if (!READ_ONCE(conn->alive)) {
		mutex_unlock(&conn->tx_lock);
		goto again;
	}
	/* Sent from here on: the reply may come before the send returns. */
	spin_lock(&cmd->lock);
	cmd->slot = conn->slot;
	cmd->gen = conn->gen;
	cmd->seq++;
	cmd->state = CBD_NBD_SENT;
	spin_unlock(&cmd->lock);
	cbd_nbd_fill_header(cmd, rq, type, flags);

	ret = cbd_nbd_xmit_buf(conn->sock, true, &cmd->hdr, sizeof(cmd->hdr),
			       with_data ? MSG_MORE : more, NULL);
	if (!ret && with_data)
		ret = cbd_nbd_send_data(conn->sock, rq, more);
	/* A send without MSG_MORE pushed everything before it. */
	conn->unpushed = !ret && more;
	mutex_unlock(&conn->tx_lock);
	if (ret) {
		/*
		 * The connection is broken (or a fatal signal cut the
		 * request): its receiver sends this request again
		 * elsewhere, with the others in flight there.
		 */
		cbd_nbd_shutdown(conn, cmd->gen);
	}
	return BLK_STS_OK;

fail:
	spin_lock(&cmd->lock);
	cmd->state = CBD_NBD_IDLE;
	spin_unlock(&cmd->lock);
	return BLK_STS_IOERR;
}

/*
 * No reply in io_timeout_ms: the server is taken for gone on that
 * connection, which is dropped; the request goes again elsewhere, or
 * fails once it has waited io_timeout_ms + dead_timeout_ms in all.
 */
static enum blk_eh_timer_return cbd_nbd_timeout(struct cbd_backing *b,
						struct request *rq)
{
	struct cbd_nbd_backing *nb = to_nbd(b);
	struct cbd_nbd_cmd *cmd = rq_to_nbd_cmd(rq);
	unsigned long limit;
	bool expired;
	u32 slot, gen;

	limit = msecs_to_jiffies(nb->cbd->io_timeout_ms + nb->dead_timeout_ms);
	spin_lock(&cmd->lock);
	if (cmd->state == CBD_NBD_RECEIVING) {
		/*
		 * The server stalls in the middle of the reply: the
		 * receiver gives the request back when the connection goes.
		 */
		slot = cmd->slot;
		gen = cmd->gen;
		spin_unlock(&cmd->lock);
		pr_warn_ratelimited("%s: NBD server stalled in a reply on connection %u for %u ms: dropping the connection\n",
				    nb->cbd->disk->disk_name, slot,
				    nb->cbd->io_timeout_ms);
		cbd_nbd_shutdown(&nb->conns[slot], gen);
		return BLK_EH_RESET_TIMER;
	}
	if (cmd->state != CBD_NBD_SENT) {
		/* Waiting for a connection: the dead timeout bounds it. */
		spin_unlock(&cmd->lock);
		return BLK_EH_RESET_TIMER;
	}
	slot = cmd->slot;
	gen = cmd->gen;
	expired = time_after(jiffies, cmd->first_issue + limit) ||
		  READ_ONCE(nb->killed);
	cmd->state = expired ? CBD_NBD_IDLE : CBD_NBD_WAITING;
	spin_unlock(&cmd->lock);

	pr_warn_ratelimited("%s: NBD server did not answer %s at sector %llu on connection %u in %u ms: dropping the connection%s\n",
			    nb->cbd->disk->disk_name, blk_op_str(req_op(rq)),
			    blk_rq_pos(rq), slot, nb->cbd->io_timeout_ms,
			    expired ? ", failing the request" : "");
	cbd_nbd_shutdown(&nb->conns[slot], gen);
	if (expired) {
		cbd_end_request(rq, BLK_STS_IOERR);
		return BLK_EH_DONE;
	}
	atomic64_inc(&nb->requeues);
	blk_mq_requeue_request(rq, true);
	return BLK_EH_DONE;
}

static void cbd_nbd_init_cmd(struct cbd_backing *b, struct request *rq)
{
	struct cbd_nbd_cmd *cmd = rq_to_nbd_cmd(rq);

	spin_lock_init(&cmd->lock);
	cmd->state = CBD_NBD_IDLE;
}

/*
 * Suspend: the queue is frozen, so the flush goes straight on one live
 * connection (with multi-conn, a flush covers what every connection
 * wrote; without, there is one connection) and its reply is awaited.
 */
static int cbd_nbd_flush(struct cbd_backing *b)
{
	struct cbd_nbd_backing *nb = to_nbd(b);
	struct cbd_nbd_wire_request h = {
		.magic = cpu_to_be32(NBD_PROTO_REQUEST_MAGIC),
		.type = cpu_to_be16(NBD_PROTO_CMD_FLUSH),
	};
	struct cbd_nbd_conn *conn = NULL;
	unsigned long left;
	unsigned int i;
	u32 gen;
	int ret;

	if (!(nb->nbd_flags & NBD_PROTO_FLAG_SEND_FLUSH))
		return 0;	/* the server keeps no cache to flush */
	for (i = 0; i < nb->nr_conns && !conn; i++)
		if (READ_ONCE(nb->conns[i].alive))
			conn = &nb->conns[i];
	if (!conn)
		return -EIO;
	mutex_lock(&conn->tx_lock);
	if (!READ_ONCE(conn->alive)) {
		mutex_unlock(&conn->tx_lock);
		return -EIO;
	}
	gen = conn->gen;
	conn->flush_seq++;
	reinit_completion(&conn->flush_done);
	WRITE_ONCE(conn->flush_pending, true);
	h.cookie = cpu_to_be64((u64)CBD_NBD_OWN_FLUSH_HWQ << 48 |
			       conn->flush_seq);
	ret = cbd_nbd_xmit_buf(conn->sock, true, &h, sizeof(h), 0, NULL);
	mutex_unlock(&conn->tx_lock);
	if (ret) {
		WRITE_ONCE(conn->flush_pending, false);
		cbd_nbd_shutdown(conn, gen);
		return -EIO;
	}
	left = wait_for_completion_timeout(&conn->flush_done,
					   msecs_to_jiffies(nb->cbd->io_timeout_ms));
	if (!left) {
		/* No answer: the connection is dropped, its receiver ends. */
		cbd_nbd_shutdown(conn, gen);
		wait_for_completion(&conn->flush_done);
		return -EIO;
	}
	return conn->flush_error;
}

static int cbd_nbd_describe(struct cbd_backing *b, char *buf, size_t len)
{
	struct cbd_nbd_backing *nb = to_nbd(b);

	return scnprintf(buf, len, "%s%s%u/%u connections%s", nb->uri,
			 nb->uri[0] ? " " : "", nb->live, nb->nr_conns,
			 nb->dead ? " (dead)" : "");
}

static void cbd_nbd_fill_info(struct cbd_backing *b, struct cbd_dev_info *info)
{
	struct cbd_nbd_backing *nb = to_nbd(b);

	info->connections = nb->nr_conns;
	info->live_connections = READ_ONCE(nb->live);
	info->dead_timeout_ms = nb->dead_timeout_ms;
	strscpy(info->nbd_uri, nb->uri, sizeof(info->nbd_uri));
	info->stats.link_downs = atomic64_read(&nb->link_downs);
	info->stats.reconnects = atomic64_read(&nb->reconnects);
	info->stats.requeues = atomic64_read(&nb->requeues);
}

/* Forced removal: nothing waits for the server any more. */
static void cbd_nbd_kill(struct cbd_backing *b)
{
	struct cbd_nbd_backing *nb = to_nbd(b);
	unsigned int i;

	spin_lock(&nb->lock);
	nb->killed = true;
	nb->dead = true;
	spin_unlock(&nb->lock);
	wake_up_all(&nb->conn_wq);
	for (i = 0; i < nb->nr_conns; i++)
		cbd_nbd_shutdown(&nb->conns[i], nb->conns[i].gen);
}

/* Tell the server we go: best effort, never waiting on it. */
static void cbd_nbd_disconnect(struct cbd_nbd_conn *conn)
{
	struct cbd_nbd_wire_request h = {
		.magic = cpu_to_be32(NBD_PROTO_REQUEST_MAGIC),
		.type = cpu_to_be16(NBD_PROTO_CMD_DISC),
	};

	mutex_lock(&conn->tx_lock);
	if (READ_ONCE(conn->alive))
		cbd_nbd_xmit_buf(conn->sock, true, &h, sizeof(h),
				 MSG_DONTWAIT, NULL);
	mutex_unlock(&conn->tx_lock);
}

/* Stop @conn's receiver and let its socket go; the slot is then empty. */
static void cbd_nbd_conn_put(struct cbd_nbd_conn *conn)
{
	struct socket *sock;

	if (conn->rx) {
		kernel_sock_shutdown(conn->sock, SHUT_RDWR);
		kthread_stop(conn->rx);
		put_task_struct(conn->rx);
		conn->rx = NULL;
	}
	mutex_lock(&conn->sock_lock);
	sock = conn->sock;
	conn->sock = NULL;
	mutex_unlock(&conn->sock_lock);
	if (sock) {
		sockfd_put(sock);
		atomic_dec(&cbd_backing_refs);
	}
}

static void cbd_nbd_release(struct cbd_backing *b)
{
	struct cbd_nbd_backing *nb = to_nbd(b);
	unsigned int i;

	for (i = 0; i < nb->nr_conns; i++)
		if (nb->conns[i].rx)
			cbd_nbd_disconnect(&nb->conns[i]);
	spin_lock(&nb->lock);
	nb->killed = true;
	nb->releasing = true;
	spin_unlock(&nb->lock);
	for (i = 0; i < nb->nr_conns; i++)
		cbd_nbd_conn_put(&nb->conns[i]);
	cancel_delayed_work_sync(&nb->dead_work);
	kfree(nb);
}

/* ---- sockets in ---- */

static struct socket *cbd_nbd_get_socket(int fd, struct netlink_ext_ack *extack)
{
	struct sockaddr_storage peer;
	struct socket *sock;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (!sock) {
		if (err == -ENOTSOCK) {
			NL_SET_ERR_MSG(extack, "socket descriptor is not a socket");
			return ERR_PTR(-EINVAL);
		}
		NL_SET_ERR_MSG(extack, "bad socket descriptor");
		return ERR_PTR(-EBADF);
	}
	if (!sk_is_tcp(sock->sk) && !sk_is_stream_unix(sock->sk)) {
		NL_SET_ERR_MSG(extack, "NBD sockets must be TCP or unix stream sockets");
		sockfd_put(sock);
		return ERR_PTR(-EINVAL);
	}
	/* A peer, whatever the state the connect left in sock->state. */
	if (kernel_getpeername(sock, (struct sockaddr *)&peer) < 0) {
		NL_SET_ERR_MSG(extack, "NBD socket is not connected");
		sockfd_put(sock);
		return ERR_PTR(-EINVAL);
	}
	if (sk_is_tcp(sock->sk))
		tcp_sock_set_nodelay(sock->sk);
	return sock;
}

/* Every socket of @bp, or none (an error, nothing held). */
static int cbd_nbd_get_sockets(const struct cbd_backing_params *bp,
			       struct socket **socks,
			       struct netlink_ext_ack *extack)
{
	u32 i, j;

	for (i = 0; i < bp->nr_socket_fds; i++) {
		socks[i] = cbd_nbd_get_socket(bp->socket_fds[i], extack);
		if (IS_ERR(socks[i]))
			goto err;
		for (j = 0; j < i; j++) {
			if (socks[j] == socks[i]) {
				NL_SET_ERR_MSG(extack, "the same socket twice");
				sockfd_put(socks[i]);
				socks[i] = ERR_PTR(-EINVAL);
				goto err;
			}
		}
	}
	return 0;
err:
	j = PTR_ERR(socks[i]);
	while (i--)
		sockfd_put(socks[i]);
	return (int)j;
}

/*
 * The receivers of a device weigh, together, as much as four ordinary
 * tasks: a lone receiver at nice 0 falls behind its own submitters and
 * the server's threads on the same CPUs, and replies pile up, while four
 * or more at a higher priority keep taking the CPU from them (both
 * measured by scripts/bench/nbd).
 */
static int cbd_nbd_rx_nice(unsigned int nr_conns)
{
	static const int nice[] = { -6, -3, -1 };

	return nr_conns <= ARRAY_SIZE(nice) ? nice[nr_conns - 1] : 0;
}

/* Put @sock in the empty slot @conn, with a receiver not started yet. */
static int cbd_nbd_conn_install(struct cbd_nbd_conn *conn,
				struct socket *sock)
{
	struct cbd_nbd_backing *nb = conn->nb;
	struct task_struct *rx;

	mutex_lock(&conn->sock_lock);
	conn->sock = sock;
	conn->gen++;
	mutex_unlock(&conn->sock_lock);
	atomic_inc(&cbd_backing_refs);
	rx = kthread_create(cbd_nbd_rx_thread, conn, "cbd%d-nbd%u",
			    nb->cbd->index, conn->slot);
	if (IS_ERR(rx))
		return PTR_ERR(rx);
	get_task_struct(rx);
	set_user_nice(rx, cbd_nbd_rx_nice(nb->nr_conns));
	conn->rx = rx;
	return 0;
}

static void cbd_nbd_conn_start(struct cbd_nbd_conn *conn)
{
	struct cbd_nbd_backing *nb = conn->nb;

	spin_lock(&nb->lock);
	WRITE_ONCE(conn->alive, true);
	nb->live++;
	nb->dead = false;
	spin_unlock(&nb->lock);
	cancel_delayed_work(&nb->dead_work);
	wake_up_process(conn->rx);
}

/* The disk is there: receivers may run, requests may come. */
static void cbd_nbd_start(struct cbd_backing *b)
{
	struct cbd_nbd_backing *nb = to_nbd(b);
	unsigned int i;

	for (i = 0; i < nb->nr_conns; i++)
		cbd_nbd_conn_start(&nb->conns[i]);
}

/*
 * @socks[@i] into the empty slot @conn, its receiver running. On failure
 * the slot stays empty and the sockets after @i (of @n) are put.
 */
static int cbd_nbd_conn_take(struct cbd_nbd_conn *conn, struct socket **socks,
			     unsigned int i, unsigned int n,
			     struct netlink_ext_ack *extack)
{
	int ret = cbd_nbd_conn_install(conn, socks[i]);

	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot start a receiver thread");
		cbd_nbd_conn_put(conn);
		while (++i < n)
			sockfd_put(socks[i]);
		return ret;
	}
	cbd_nbd_conn_start(conn);
	return 0;
}

/*
 * Every connection closed and a new socket in its slot, on a suspended
 * device (its queue is frozen: nothing is in flight). New negotiations
 * see what the export is now, its new size after a grow among it.
 */
static int cbd_nbd_replace(struct cbd_nbd_backing *nb,
			   const struct cbd_backing_params *bp,
			   struct netlink_ext_ack *extack)
{
	struct socket *socks[CINDERBLK_NBD_MAX_CONNECTIONS];
	struct cbd_nbd_conn *conn;
	unsigned int i;
	int ret;

	if (nb->cbd->state != CINDERBLK_STATE_SUSPENDED) {
		NL_SET_ERR_MSG(extack, "replacing the connections needs a suspended device");
		return -EBUSY;
	}
	if (bp->nr_socket_fds != nb->nr_conns) {
		NL_SET_ERR_MSG(extack, "replacing the connections needs one socket per connection");
		return -EINVAL;
	}
	ret = cbd_nbd_get_sockets(bp, socks, extack);
	if (ret)
		return ret;
	for (i = 0; i < nb->nr_conns; i++) {
		conn = &nb->conns[i];
		spin_lock(&nb->lock);
		conn->retiring = true;
		spin_unlock(&nb->lock);
		if (conn->rx)
			cbd_nbd_disconnect(conn);
		cbd_nbd_conn_put(conn);
		spin_lock(&nb->lock);
		conn->retiring = false;
		spin_unlock(&nb->lock);
		ret = cbd_nbd_conn_take(conn, socks, i, bp->nr_socket_fds,
					extack);
		if (ret)
			break;
	}
	/* Slots left empty are lost connections, for the daemon to fill. */
	spin_lock(&nb->lock);
	if (ret && !nb->live)
		mod_delayed_work(system_wq, &nb->dead_work,
				 msecs_to_jiffies(nb->dead_timeout_ms));
	spin_unlock(&nb->lock);
	if (ret)
		cbd_link_changed(nb->cbd, false, !READ_ONCE(nb->live));
	return ret;
}

/*
 * Sockets for lost connections, on a live device: they take the empty
 * slots, lowest first; waiting requests go out on them.
 */
static int cbd_nbd_reconnect(struct cbd_backing *b,
			     const struct cbd_backing_params *bp,
			     struct netlink_ext_ack *extack)
{
	struct cbd_nbd_backing *nb = to_nbd(b);
	struct socket *socks[CINDERBLK_NBD_MAX_CONNECTIONS];
	struct cbd_nbd_conn *conn;
	unsigned int i, slot, lost = 0;
	int ret;

	if (bp->nbd_flags != nb->nbd_flags) {
		NL_SET_ERR_MSG(extack, "the export's flags changed: remove and add the device");
		return -EINVAL;
	}
	if (bp->nbd_replace)
		return cbd_nbd_replace(nb, bp, extack);
	for (i = 0; i < nb->nr_conns; i++)
		lost += !READ_ONCE(nb->conns[i].alive);
	if (bp->nr_socket_fds > lost) {
		NL_SET_ERR_MSG(extack, "more sockets than lost connections");
		return -EINVAL;
	}
	ret = cbd_nbd_get_sockets(bp, socks, extack);
	if (ret)
		return ret;
	slot = 0;
	for (i = 0; i < bp->nr_socket_fds; i++) {
		while (READ_ONCE(nb->conns[slot].alive))
			slot++;
		conn = &nb->conns[slot++];
		/* Its receiver saw the end and waits to be stopped. */
		cbd_nbd_conn_put(conn);
		ret = cbd_nbd_conn_take(conn, socks, i, bp->nr_socket_fds,
					extack);
		if (ret)
			break;
		atomic64_inc(&nb->reconnects);
		cbd_link_changed(nb->cbd, true, false);
	}
	blk_mq_kick_requeue_list(nb->cbd->disk->queue);
	return ret;
}

static const struct cbd_backing_ops cbd_nbd_ops = {
	.name		= "nbd",
	.cmd_size	= sizeof(struct cbd_nbd_cmd),
	.queue_rq	= cbd_nbd_queue_rq,
	.timeout	= cbd_nbd_timeout,
	.commit		= cbd_nbd_commit,
	.init_cmd	= cbd_nbd_init_cmd,
	.flush		= cbd_nbd_flush,
	.describe	= cbd_nbd_describe,
	.fill_info	= cbd_nbd_fill_info,
	.start		= cbd_nbd_start,
	.kill		= cbd_nbd_kill,
	.reconnect	= cbd_nbd_reconnect,
	.release	= cbd_nbd_release,
};

/* What the device advertises: what the server said it does. */
static void cbd_nbd_take_limits(struct cbd_nbd_backing *nb, bool read_only,
				u32 lbs, u32 max_payload)
{
	struct cbd_backing *b = &nb->base;
	u32 max_bytes = min(max_payload, CBD_NBD_DEFAULT_PAYLOAD);
	unsigned int max_sectors = UINT_MAX >> SECTOR_SHIFT;

	/* Whole logical blocks, as every request is. */
	max_sectors = round_down(max_sectors, lbs >> SECTOR_SHIFT);
	b->stacked = true;
	b->max_hw_sectors = round_down(max_bytes, lbs) >> SECTOR_SHIFT;
	b->dma_alignment = SECTOR_SIZE - 1;
	b->lower_block_size = lbs;
	b->write_cache = !read_only &&
			 (nb->nbd_flags & NBD_PROTO_FLAG_SEND_FLUSH);
	b->fua = b->write_cache && (nb->nbd_flags & NBD_PROTO_FLAG_SEND_FUA);
	b->can_discard = nb->nbd_flags & NBD_PROTO_FLAG_SEND_TRIM;
	b->max_discard_sectors = b->can_discard ? max_sectors : 0;
	b->discard_granularity = lbs;
	b->can_write_zeroes = nb->nbd_flags & NBD_PROTO_FLAG_SEND_WRITE_ZEROES;
	b->max_write_zeroes_sectors = b->can_write_zeroes ? max_sectors : 0;
}

int cbd_nbd_backing_create(const struct cbd_backing_params *bp,
			   bool read_only, u32 logical_block_size,
			   struct cbd_device *cbd, struct cbd_backing **out,
			   struct netlink_ext_ack *extack)
{
	struct socket *socks[CINDERBLK_NBD_MAX_CONNECTIONS];
	u32 max_payload = bp->nbd_max_payload ?: CBD_NBD_DEFAULT_PAYLOAD;
	struct cbd_nbd_backing *nb;
	unsigned int i;
	int ret;

	if (!bp->nr_socket_fds ||
	    bp->nr_socket_fds > CINDERBLK_NBD_MAX_CONNECTIONS) {
		NL_SET_ERR_MSG(extack, "nbd needs 1 to 16 sockets");
		return -EINVAL;
	}
	if (!(bp->nbd_flags & NBD_PROTO_FLAG_HAS_FLAGS) ||
	    bp->nbd_flags > U16_MAX) {
		NL_SET_ERR_MSG(extack, "invalid NBD transmission flags");
		return -EINVAL;
	}
	if (!read_only && (bp->nbd_flags & NBD_PROTO_FLAG_READ_ONLY)) {
		NL_SET_ERR_MSG(extack, "the export is read-only: add the device read-only");
		return -EINVAL;
	}
	if (max_payload < CBD_NBD_MIN_PAYLOAD ||
	    max_payload < logical_block_size) {
		NL_SET_ERR_MSG(extack, "NBD maximum payload below 4096 or the logical block size");
		return -EINVAL;
	}

	nb = kzalloc(struct_size(nb, conns, bp->nr_socket_fds), GFP_KERNEL);
	if (!nb)
		return -ENOMEM;
	nb->base.ops = &cbd_nbd_ops;
	nb->base.type = CINDERBLK_BACKING_NBD;
	nb->cbd = cbd;
	nb->nbd_flags = bp->nbd_flags;
	nb->dead_timeout_ms = bp->dead_timeout_ms ?: CBD_NBD_DEFAULT_DEAD_MS;
	strscpy(nb->uri, bp->nbd_uri, sizeof(nb->uri));
	nb->nr_conns = bp->nr_socket_fds;
	nb->nr_hw_queues = cbd->nr_hw_queues;
	spin_lock_init(&nb->lock);
	init_waitqueue_head(&nb->conn_wq);
	INIT_DELAYED_WORK(&nb->dead_work, cbd_nbd_dead_work);
	atomic64_set(&nb->link_downs, 0);
	atomic64_set(&nb->reconnects, 0);
	atomic64_set(&nb->requeues, 0);
	for (i = 0; i < nb->nr_conns; i++) {
		nb->conns[i].nb = nb;
		nb->conns[i].slot = i;
		mutex_init(&nb->conns[i].tx_lock);
		mutex_init(&nb->conns[i].sock_lock);
		init_completion(&nb->conns[i].flush_done);
	}
	cbd_nbd_take_limits(nb, read_only, logical_block_size, max_payload);

	ret = cbd_nbd_get_sockets(bp, socks, extack);
	if (ret)
		goto err_free;
	for (i = 0; i < nb->nr_conns; i++) {
		ret = cbd_nbd_conn_install(&nb->conns[i], socks[i]);
		if (ret) {
			NL_SET_ERR_MSG(extack, "cannot start a receiver thread");
			cbd_nbd_conn_put(&nb->conns[i]);
			while (++i < nb->nr_conns)
				sockfd_put(socks[i]);
			goto err_conns;
		}
	}
	*out = &nb->base;
	return 0;

err_conns:
	cbd_nbd_release(&nb->base);
	return ret;
err_free:
	kfree(nb);
	return ret;
}
