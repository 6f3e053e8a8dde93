// SPDX-License-Identifier: GPL-2.0
/*
 * The nbd backing against a real NBD server (nbdkit's file plugin on a
 * unix socket, the handshake done by libcinderlib as the connector does)
 * and against hostile servers scripted here on socket pairs: data round
 * trips over one and four connections, flush/discard/write-zeroes, a
 * read-only export, a server killed and restarted under a writer (the
 * requests wait, then complete on the new sockets), every connection
 * replaced to see a grown export, the dead timeout,
 * forced removal while I/O waits, every broken reply, and bad input.
 * After each, live_backing_refs is back where it was: no socket is kept.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cbd_helpers.h"
#include "cinderlib/nbd.h"

#define BACKING_REFS "/sys/module/cinderblk/parameters/live_backing_refs"
#define EXPORT_SIZE (32 * CBD_MIB)

static long backing_refs(void)
{
	char buf[32] = "";
	FILE *f = fopen(BACKING_REFS, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return atol(buf);
}

/* Wait until live_backing_refs is @want (receivers end asynchronously). */
static long wait_backing_refs(long want)
{
	long now = backing_refs();
	int i;

	for (i = 0; i < 100 && now != want; i++) {
		usleep(50 * 1000);
		now = backing_refs();
	}
	return now;
}

/* ---- a real server: nbdkit ---- */

struct server {
	char sock[108];
	char file[PATH_MAX];
	pid_t pid;
};

/* nbdkit writes its pid file once it accepts connections. */
static int server_start(struct server *s, bool read_only)
{
	char pidfile[128];
	int i;

	snprintf(pidfile, sizeof(pidfile), "%s.pid", s->sock);
	unlink(pidfile);
	unlink(s->sock);
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execlp("nbdkit", "nbdkit", "--foreground", "--exit-with-parent",
		       "-U", s->sock, "-P", pidfile,
		       read_only ? "-r" : "--threads=16",
		       "file", s->file, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if (!access(pidfile, F_OK))
			return 0;
		usleep(10 * 1000);
	}
	return -ETIMEDOUT;
}

static void server_kill(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

/* @n connected, negotiated sockets to @s, and what the export is. */
static int server_connect(struct server *s, int n, int *fds,
			  struct cl_nbd_export *ex)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct cl_error err = { 0 };
	int i, ret;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->sock);
	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)))
			return -errno;
		ret = cl_nbd_handshake(fds[i], "vol", 5000, ex, &err);
		if (ret) {
			fprintf(stderr, "# handshake: %s\n", err.msg);
			return ret;
		}
	}
	return 0;
}

static void close_all(int *fds, int n)
{
	while (n--)
		if (fds[n] >= 0)
			close(fds[n]);
}

static void nbd_spec(struct cl_dev_spec *spec, struct cbd_dev *d,
		     const int *fds, int n, const struct cl_nbd_export *ex)
{
	cl_dev_spec_init(spec);
	cbd_make_uuid(d->volume_id);
	spec->volume_id = d->volume_id;
	spec->size = ex->size;
	spec->backing_type = CL_BACKING_NBD;
	spec->socket_fds = fds;
	spec->nr_socket_fds = n;
	spec->nbd_flags = ex->flags;
	spec->nbd_max_payload = ex->max_block;
	d->size = ex->size;
}

/* How many tasks are named @comm (kernel threads are processes here). */
static int count_tasks(const char *comm)
{
	char path[300], name[32];
	struct dirent *de;
	int n = 0;
	DIR *proc;
	FILE *f;

	proc = opendir("/proc");
	if (!proc)
		return -1;
	while ((de = readdir(proc))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f)) {
			name[strcspn(name, "\n")] = '\0';
			n += strcmp(name, comm) == 0;
		}
		fclose(f);
	}
	closedir(proc);
	return n;
}

static int add_nbd(struct cbd_dev *d, struct cl_dev_spec *spec)
{
	return cbd_add_nl_spec(d, spec);
}

static int get_info(struct cbd_dev *d, struct cl_dev_info *info)
{
	return cl_kernel_dev_get(cbd_nl(), d->index, info, NULL);
}

/* Wait until the device's state is @state: 0 or -ETIMEDOUT. */
static int wait_state(struct cbd_dev *d, enum cl_dev_state state, int ms)
{
	struct cl_dev_info info;
	int64_t end = cbd_now_ms() + ms;

	do {
		if (!get_info(d, &info) && info.state == state)
			return 0;
		usleep(20 * 1000);
	} while (cbd_now_ms() < end);
	return -ETIMEDOUT;
}

FIXTURE(real) {
	struct server s;
	struct cbd_dev d;
	int file_fd;
	long refs0;
};

FIXTURE_SETUP(real)
{
	const char *dir = cbd_scratch_dir();

	ASSERT_NE(NULL, dir);
	memset(&self->d, 0, sizeof(self->d));
	self->d.backing_fd = -1;
	snprintf(self->s.sock, sizeof(self->s.sock), "/tmp/cbd-nbd-%d.sock",
		 getpid());
	snprintf(self->s.file, sizeof(self->s.file), "%s/nbd-export-%d",
		 dir, getpid());
	self->file_fd = open(self->s.file, O_RDWR | O_CREAT | O_TRUNC |
			     O_CLOEXEC, 0600);
	ASSERT_LE(0, self->file_fd);
	ASSERT_EQ(0, ftruncate(self->file_fd, EXPORT_SIZE));
	self->refs0 = backing_refs();
	ASSERT_LE(0, self->refs0);
	ASSERT_EQ(0, server_start(&self->s, false));
}

FIXTURE_TEARDOWN(real)
{
	cbd_dev_cleanup(&self->d);
	server_kill(&self->s);
	close(self->file_fd);
	unlink(self->s.file);
	unlink(self->s.sock);
	EXPECT_EQ(self->refs0, wait_backing_refs(self->refs0));
}

/* Mixed sizes at mixed offsets, read back through the device and the file. */
static int round_trip(int dev, int file, uint64_t seed)
{
	static const size_t sizes[] = { 4096, 65536, 131072, 1048576, 12288 };
	off_t off = 0;
	unsigned int i;

	for (i = 0; off + (off_t)sizes[i % 5] <= 8 * (off_t)CBD_MIB; i++) {
		if (cbd_write_pattern(dev, sizes[i % 5], off, seed))
			return -1;
		off += sizes[i % 5] + 4096;
	}
	if (fsync(dev))
		return -2;
	off = 0;
	for (i = 0; off + (off_t)sizes[i % 5] <= 8 * (off_t)CBD_MIB; i++) {
		if (!cbd_has_pattern(dev, sizes[i % 5], off, seed))
			return -3;
		if (!cbd_has_pattern(file, sizes[i % 5], off, seed))
			return -4;
		off += sizes[i % 5] + 4096;
	}
	return 0;
}

TEST_F(real, four_connections_carry_data_flush_discard_zeroes)
{
	struct cl_nbd_export ex;
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	uint64_t range[2];
	int fds[4], dev;

	ASSERT_EQ(0, server_connect(&self->s, 4, fds, &ex));
	EXPECT_EQ(EXPORT_SIZE, ex.size);
	nbd_spec(&spec, &self->d, fds, 4, &ex);
	spec.flags = CL_DEV_DISCARD | CL_DEV_WRITE_ZEROES | CL_DEV_FUA;
	ASSERT_EQ(0, add_nbd(&self->d, &spec));
	/* The kernel holds the sockets: ours can go. */
	close_all(fds, 4);
	EXPECT_EQ(self->refs0 + 4, backing_refs());

	ASSERT_EQ(0, get_info(&self->d, &info));
	EXPECT_EQ(CL_BACKING_NBD, info.backing_type);
	EXPECT_EQ(CL_DEV_STATE_LIVE, info.state);
	EXPECT_EQ(4, info.connections);
	EXPECT_EQ(4, info.live_connections);
	EXPECT_EQ(EXPORT_SIZE, info.size);
	/* One receiver per connection, named after this device. */
	for (int i = 0; i < 4; i++) {
		char comm[32];

		snprintf(comm, sizeof(comm), "cbd%u-nbd%d", self->d.index, i);
		EXPECT_EQ(1, count_tasks(comm)) TH_LOG("no thread %s", comm);
	}
	/* nbdkit's file plugin flushes, trims, zeroes and does FUA. */
	EXPECT_EQ(CL_DEV_DISCARD | CL_DEV_WRITE_ZEROES | CL_DEV_FUA,
		  info.flags);

	dev = open(self->d.node, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, dev);
	EXPECT_EQ(EXPORT_SIZE, cbd_bdev_size(dev));
	EXPECT_EQ(0, round_trip(dev, self->file_fd, 11));

	range[0] = CBD_MIB;
	range[1] = 2 * CBD_MIB;
	EXPECT_EQ(0, ioctl(dev, BLKDISCARD, range));
	EXPECT_TRUE(cbd_has_zeros(dev, 2 * CBD_MIB, CBD_MIB));
	EXPECT_TRUE(cbd_has_zeros(self->file_fd, 2 * CBD_MIB, CBD_MIB));
	ASSERT_EQ(0, cbd_write_pattern(dev, CBD_MIB, 4 * CBD_MIB, 5));
	range[0] = 4 * CBD_MIB;
	range[1] = CBD_MIB;
	EXPECT_EQ(0, ioctl(dev, BLKZEROOUT, range));
	EXPECT_TRUE(cbd_has_zeros(self->file_fd, CBD_MIB, 4 * CBD_MIB));
	close(dev);

	ASSERT_EQ(0, get_info(&self->d, &info));
	EXPECT_LT(0, info.stats.flush_ios);
	EXPECT_LT(0, info.stats.discard_ios);
	EXPECT_LT(0, info.stats.write_zeroes_ios);
	EXPECT_EQ(0, info.stats.errors);
	EXPECT_EQ(0, info.stats.link_downs);
	EXPECT_EQ(0, cl_kernel_dev_remove(cbd_nl(), self->d.index, false,
					  NULL));
	self->d.added = false;
}

TEST_F(real, suspend_flushes_and_resumes)
{
	struct cl_nbd_export ex;
	struct cl_dev_spec spec;
	int fds[1], dev;

	ASSERT_EQ(0, server_connect(&self->s, 1, fds, &ex));
	nbd_spec(&spec, &self->d, fds, 1, &ex);
	ASSERT_EQ(0, add_nbd(&self->d, &spec));
	close_all(fds, 1);
	dev = open(self->d.node, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, cbd_write_pattern(dev, CBD_MIB, 0, 3));
	EXPECT_EQ(0, cl_kernel_dev_suspend(cbd_nl(), self->d.index, false,
					   NULL));
	EXPECT_TRUE(cbd_has_pattern(self->file_fd, CBD_MIB, 0, 3));
	EXPECT_EQ(0, cl_kernel_dev_resume(cbd_nl(), self->d.index, NULL));
	EXPECT_TRUE(cbd_has_pattern(dev, CBD_MIB, 0, 3));
	close(dev);
}

TEST_F(real, read_only_export)
{
	struct cl_nbd_export ex;
	struct cl_dev_spec spec;
	int fds[1], dev;

	ASSERT_EQ(0, cbd_write_pattern(self->file_fd, CBD_MIB, 0, 9));
	server_kill(&self->s);
	ASSERT_EQ(0, server_start(&self->s, true));
	ASSERT_EQ(0, server_connect(&self->s, 1, fds, &ex));
	EXPECT_TRUE(ex.flags & CL_NBD_FLAG_READ_ONLY);
	nbd_spec(&spec, &self->d, fds, 1, &ex);
	/* A read-write device over a read-only export: refused. */
	EXPECT_EQ(-EINVAL, cl_kernel_dev_add(cbd_nl(), &spec, NULL, NULL));
	spec.flags = CL_DEV_READ_ONLY;
	ASSERT_EQ(0, add_nbd(&self->d, &spec));
	close_all(fds, 1);
	dev = open(self->d.node, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, dev);
	EXPECT_TRUE(cbd_has_pattern(dev, CBD_MIB, 0, 9));
	/* Writes of a read-only disk are refused before they go out. */
	EXPECT_NE(0, cbd_write_pattern(dev, 4096, 0, 10));
	close(dev);
	EXPECT_TRUE(cbd_has_pattern(self->file_fd, CBD_MIB, 0, 9));
}

/* A child that writes and verifies @mib MiB in 64 KiB pieces: 0 if all went. */
static pid_t start_writer(const char *node, int mib, uint64_t seed)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(node, O_RDWR | O_DIRECT | O_CLOEXEC);
		off_t off;

		if (fd < 0)
			_exit(2);
		for (off = 0; off < (off_t)mib * (off_t)CBD_MIB; off += 65536)
			if (cbd_write_pattern(fd, 65536, off, seed))
				_exit(3);
		if (fsync(fd))
			_exit(4);
		for (off = 0; off < (off_t)mib * (off_t)CBD_MIB; off += 65536)
			if (!cbd_has_pattern(fd, 65536, off, seed))
				_exit(5);
		_exit(0);
	}
	return pid;
}

/* The writer has written something (the stats say so). */
static void wait_some_writes(struct cbd_dev *d, uint64_t bytes)
{
	struct cl_dev_info info;
	int i;

	for (i = 0; i < 500; i++) {
		if (!get_info(d, &info) && info.stats.write_bytes >= bytes)
			return;
		usleep(10 * 1000);
	}
}

TEST_F_TIMEOUT(real, server_restarts_under_a_writer, 120)
{
	struct cl_kernel_event ev;
	struct cl_nbd_export ex;
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	struct cl_kernel *events;
	int fds[2], status, round, downs = 0, ups = 0;
	pid_t writer;

	ASSERT_EQ(0, cl_kernel_events_open(&events, NULL));
	ASSERT_EQ(0, server_connect(&self->s, 2, fds, &ex));
	nbd_spec(&spec, &self->d, fds, 2, &ex);
	spec.io_timeout_ms = 5000;
	ASSERT_EQ(0, add_nbd(&self->d, &spec));
	close_all(fds, 2);

	writer = start_writer(self->d.node, 32, 21);
	ASSERT_LT(0, writer);
	for (round = 0; round < 3; round++) {
		wait_some_writes(&self->d, (uint64_t)(round + 1) * 4 * CBD_MIB);
		server_kill(&self->s);
		ASSERT_EQ(0, wait_state(&self->d, CL_DEV_STATE_LINK_DOWN, 10000));
		ASSERT_EQ(0, get_info(&self->d, &info));
		EXPECT_EQ(0, info.live_connections);
		/* I/O waits: the writer is still there. */
		usleep(300 * 1000);
		EXPECT_EQ(0, waitpid(writer, &status, WNOHANG));
		ASSERT_EQ(0, server_start(&self->s, false));
		ASSERT_EQ(0, server_connect(&self->s, 2, fds, &ex));
		spec.socket_fds = fds;
		ASSERT_EQ(0, cl_kernel_dev_reconfigure_spec(cbd_nl(),
							    self->d.index,
							    &spec, NULL));
		close_all(fds, 2);
		ASSERT_EQ(0, wait_state(&self->d, CL_DEV_STATE_LIVE, 5000));
	}
	ASSERT_EQ(writer, waitpid(writer, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(cbd_has_pattern(self->file_fd, 32 * CBD_MIB, 0, 21));

	ASSERT_EQ(0, get_info(&self->d, &info));
	EXPECT_EQ(0, info.stats.errors);
	EXPECT_EQ(6, info.stats.link_downs);
	EXPECT_EQ(6, info.stats.reconnects);
	EXPECT_EQ(2, info.live_connections);
	while (!cl_kernel_event_wait(events, 0, &ev, NULL) &&
	       ev.type != CL_KEVENT_NONE) {
		if (ev.index != self->d.index)
			continue;
		downs += ev.type == CL_KEVENT_LINK_DOWN;
		ups += ev.type == CL_KEVENT_LINK_UP;
	}
	EXPECT_EQ(6, downs);
	EXPECT_EQ(6, ups);
	cl_kernel_close(events);
}

/*
 * The export grows: a server keeps each connection's size, so the device
 * gets new connections (suspended: nothing in flight), then its new size.
 */
TEST_F(real, replaced_connections_see_the_grown_export)
{
	struct cl_nbd_export ex, grown;
	struct cl_dev_spec spec;
	struct cl_dev_info info;
	int fds[4], dev;

	ASSERT_EQ(0, server_connect(&self->s, 4, fds, &ex));
	nbd_spec(&spec, &self->d, fds, 4, &ex);
	ASSERT_EQ(0, add_nbd(&self->d, &spec));
	close_all(fds, 4);
	dev = open(self->d.node, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, cbd_write_pattern(dev, CBD_MIB, 0, 41));

	ASSERT_EQ(0, ftruncate(self->file_fd, 2 * EXPORT_SIZE));
	ASSERT_EQ(0, server_connect(&self->s, 4, fds, &grown));
	EXPECT_EQ(2 * EXPORT_SIZE, grown.size);
	spec.socket_fds = fds;
	/* Live: refused, nothing changes. */
	EXPECT_EQ(-EBUSY, cl_kernel_dev_nbd_replace(cbd_nl(), self->d.index,
						    &spec, NULL));
	ASSERT_EQ(0, cl_kernel_dev_suspend(cbd_nl(), self->d.index, false,
					   NULL));
	/* Not one socket per connection. */
	spec.nr_socket_fds = 3;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_nbd_replace(cbd_nl(), self->d.index,
						     &spec, NULL));
	spec.nr_socket_fds = 4;
	EXPECT_EQ(0, cl_kernel_dev_nbd_replace(cbd_nl(), self->d.index,
					       &spec, NULL));
	close_all(fds, 4);
	EXPECT_EQ(0, cl_kernel_dev_resize(cbd_nl(), self->d.index,
					  2 * EXPORT_SIZE, NULL));
	EXPECT_EQ(0, cl_kernel_dev_resume(cbd_nl(), self->d.index, NULL));
	/* The old sockets are gone, the new ones held. */
	EXPECT_EQ(self->refs0 + 4, wait_backing_refs(self->refs0 + 4));

	EXPECT_EQ(2 * EXPORT_SIZE, cbd_bdev_size(dev));
	EXPECT_TRUE(cbd_has_pattern(dev, CBD_MIB, 0, 41));
	/* Past the old end: the old connections' size would refuse it. */
	ASSERT_EQ(0, cbd_write_pattern(dev, CBD_MIB, EXPORT_SIZE + CBD_MIB,
				       42));
	EXPECT_EQ(0, fsync(dev));
	EXPECT_TRUE(cbd_has_pattern(self->file_fd, CBD_MIB,
				    EXPORT_SIZE + CBD_MIB, 42));
	close(dev);
	ASSERT_EQ(0, get_info(&self->d, &info));
	EXPECT_EQ(CL_DEV_STATE_LIVE, info.state);
	EXPECT_EQ(4, info.live_connections);
	/* A replace is no loss. */
	EXPECT_EQ(0, info.stats.link_downs);
	EXPECT_EQ(0, info.stats.errors);
}

TEST_F_TIMEOUT(real, dead_timeout_fails_io_then_device_goes, 60)
{
	struct cl_nbd_export ex;
	struct cl_dev_spec spec;
	int fds[1], dev;
	int64_t t0, waited;
	char *buf;

	ASSERT_EQ(0, server_connect(&self->s, 1, fds, &ex));
	nbd_spec(&spec, &self->d, fds, 1, &ex);
	spec.dead_timeout_ms = 1500;
	ASSERT_EQ(0, add_nbd(&self->d, &spec));
	close_all(fds, 1);
	dev = open(self->d.node, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, dev);
	server_kill(&self->s);
	ASSERT_EQ(0, wait_state(&self->d, CL_DEV_STATE_LINK_DOWN, 10000));
	buf = cbd_alloc(4096);
	t0 = cbd_now_ms();
	EXPECT_EQ(-1, pread(dev, buf, 4096, 0));
	EXPECT_EQ(EIO, errno);
	waited = cbd_now_ms() - t0;
	EXPECT_GT(5000, waited);
	/* Past the timeout, I/O fails at once. */
	t0 = cbd_now_ms();
	EXPECT_EQ(-1, pread(dev, buf, 4096, 8192));
	EXPECT_GT(500, cbd_now_ms() - t0);
	free(buf);
	close(dev);
	EXPECT_EQ(0, cl_kernel_dev_remove(cbd_nl(), self->d.index, false,
					  NULL));
	self->d.added = false;
}

TEST_F_TIMEOUT(real, forced_remove_fails_waiting_io_at_once, 60)
{
	struct cl_nbd_export ex;
	struct cl_dev_spec spec;
	int fds[1], status;
	int64_t t0;
	pid_t reader;

	ASSERT_EQ(0, server_connect(&self->s, 1, fds, &ex));
	nbd_spec(&spec, &self->d, fds, 1, &ex);
	spec.dead_timeout_ms = 600000;
	ASSERT_EQ(0, add_nbd(&self->d, &spec));
	close_all(fds, 1);
	/* The partition scan is over once an open gets through. */
	close(open(self->d.node, O_RDONLY | O_CLOEXEC));
	server_kill(&self->s);
	ASSERT_EQ(0, wait_state(&self->d, CL_DEV_STATE_LINK_DOWN, 10000));
	reader = fork();
	ASSERT_LE(0, reader);
	if (reader == 0) {
		int dev = open(self->d.node, O_RDONLY | O_DIRECT | O_CLOEXEC);
		char *buf = cbd_alloc(4096);

		if (dev < 0)
			_exit(2);
		if (pread(dev, buf, 4096, 0) >= 0)
			_exit(3);
		_exit(errno == EIO ? 0 : 10 + errno);
	}
	usleep(500 * 1000);
	EXPECT_EQ(0, waitpid(reader, &status, WNOHANG));
	t0 = cbd_now_ms();
	EXPECT_EQ(0, cl_kernel_dev_remove(cbd_nl(), self->d.index, true, NULL));
	self->d.added = false;
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	EXPECT_GT(10000, cbd_now_ms() - t0);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* ---- hostile servers, on socket pairs ---- */

enum misbehaviour {
	BAD_MAGIC,
	STRUCTURED_REPLY,
	WRONG_COOKIE,
	REPEATED_COOKIE,
	ERROR_THEN_GOOD,
	SHORT_READ,
	CLOSE_MID_REPLY,
	NEVER_ANSWER,
	OUT_OF_ORDER,
};

struct wire_request {
	uint32_t magic;
	uint16_t flags;
	uint16_t type;
	uint64_t cookie;
	uint64_t offset;
	uint32_t length;
} __attribute__((packed));

struct wire_reply {
	uint32_t magic;
	uint32_t error;
	uint64_t cookie;
} __attribute__((packed));

static int read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

static uint64_t be64(uint64_t v)
{
	return ((uint64_t)htonl((uint32_t)v) << 32) | htonl((uint32_t)(v >> 32));
}

/* Answer a request properly: reads get pattern 7 at their offset. */
static int answer(int fd, const struct wire_request *rq, uint32_t magic,
		  uint32_t error, uint64_t cookie, size_t data_len)
{
	struct wire_reply rep = {
		.magic = htonl(magic), .error = htonl(error), .cookie = cookie,
	};
	uint32_t len = ntohl(rq->length);
	char *data;
	int ret;

	if (write_all(fd, &rep, sizeof(rep)))
		return -1;
	if (ntohs(rq->type) != 0 || error || !data_len)
		return 0;
	data = malloc(len);
	cbd_fill(data, len, be64(rq->offset), 7);
	ret = write_all(fd, data, data_len < len ? data_len : len);
	free(data);
	return ret;
}

/* Read one request (and a write's data); 0, or -1 at the end. */
static int next_request(int fd, struct wire_request *rq)
{
	char sink[65536];
	uint32_t left;

	if (read_all(fd, rq, sizeof(*rq)))
		return -1;
	if (ntohs(rq->type) == 1) {
		for (left = ntohl(rq->length); left;) {
			uint32_t n = left < sizeof(sink) ? left : sizeof(sink);

			if (read_all(fd, sink, n))
				return -1;
			left -= n;
		}
	}
	return 0;
}

/*
 * The server misbehaves only for requests at or past ZONE: what the
 * kernel reads on its own (the partition table) gets proper answers.
 */
#define ZONE (8 * CBD_MIB)

static void hostile_server(int fd, enum misbehaviour how)
{
	struct wire_request rq, held[4];
	int n = 0, i;

	while (!next_request(fd, &rq)) {
		if (ntohs(rq.type) == 2)	/* NBD_CMD_DISC */
			break;
		if (be64(rq.offset) < ZONE) {
			answer(fd, &rq, 0x67446698, 0, rq.cookie,
			       ntohl(rq.length));
			continue;
		}
		switch (how) {
		case BAD_MAGIC:
			answer(fd, &rq, 0x12345678, 0, rq.cookie, 4096);
			break;
		case STRUCTURED_REPLY:
			answer(fd, &rq, 0x668e33ef, 0, rq.cookie, 0);
			break;
		case WRONG_COOKIE:
			answer(fd, &rq, 0x67446698, 0, rq.cookie ^ be64(1),
			       ntohl(rq.length));
			break;
		case REPEATED_COOKIE:
			answer(fd, &rq, 0x67446698, 0, rq.cookie,
			       ntohl(rq.length));
			answer(fd, &rq, 0x67446698, 0, rq.cookie,
			       ntohl(rq.length));
			break;
		case ERROR_THEN_GOOD:
			answer(fd, &rq, 0x67446698, n++ ? 0 : 5, rq.cookie,
			       ntohl(rq.length));
			break;
		case SHORT_READ:
			answer(fd, &rq, 0x67446698, 0, rq.cookie,
			       ntohl(rq.length) / 2);
			/* ... and nothing more: the server hangs there. */
			pause();
			break;
		case CLOSE_MID_REPLY:
			answer(fd, &rq, 0x67446698, 0, rq.cookie,
			       ntohl(rq.length) / 2);
			close(fd);
			return;
		case NEVER_ANSWER:
			break;
		case OUT_OF_ORDER:
			held[n++] = rq;
			if (n == 4) {
				for (i = 3; i >= 0; i--)
					answer(fd, &held[i], 0x67446698, 0,
					       held[i].cookie,
					       ntohl(held[i].length));
				n = 0;
			}
			break;
		}
	}
}

FIXTURE(hostile) {
	struct cbd_dev d;
	pid_t server;
	long refs0;
};

FIXTURE_SETUP(hostile)
{
	memset(&self->d, 0, sizeof(self->d));
	self->d.backing_fd = -1;
	self->server = 0;
	self->refs0 = backing_refs();
	ASSERT_LE(0, self->refs0);
	/* The log is checked for what the module said of each server. */
	cbd_system("dmesg -C");
}

FIXTURE_TEARDOWN(hostile)
{
	int status;

	cbd_dev_cleanup(&self->d);
	if (self->server > 0) {
		kill(self->server, SIGKILL);
		waitpid(self->server, &status, 0);
	}
	EXPECT_EQ(self->refs0, wait_backing_refs(self->refs0));
}

/* A device of 16 MiB on a server that misbehaves as told. */
static int hostile_add(struct cbd_dev *d, pid_t *server, enum misbehaviour how,
		       uint32_t io_timeout_ms, uint32_t dead_timeout_ms)
{
	struct cl_nbd_export ex = {
		.size = 16 * CBD_MIB,
		.flags = CL_NBD_FLAG_HAS_FLAGS | CL_NBD_FLAG_SEND_FLUSH,
		.max_block = 1 << 20,
	};
	struct cl_dev_spec spec;
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	*server = fork();
	if (*server == 0) {
		close(sv[0]);
		hostile_server(sv[1], how);
		_exit(0);
	}
	close(sv[1]);
	nbd_spec(&spec, d, &sv[0], 1, &ex);
	spec.io_timeout_ms = io_timeout_ms;
	spec.dead_timeout_ms = dead_timeout_ms;
	ret = add_nbd(d, &spec);
	close(sv[0]);
	return ret;
}

/* A read of 4 KiB at @off: 0 with the server's pattern, else -errno. */
static int read_block(struct cbd_dev *d, off_t off)
{
	int fd = open(d->node, O_RDONLY | O_DIRECT | O_CLOEXEC);
	char *buf = cbd_alloc(65536);
	int ret = 0;

	if (fd < 0)
		ret = -errno;
	else if (pread(fd, buf, 65536, off) != 65536)
		ret = -errno;
	else if (!cbd_check(buf, 65536, off, 7))
		ret = -EILSEQ;
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/* The connection is dropped, I/O fails after the dead timeout, and goes. */
static void expect_dropped(struct __test_metadata *_metadata,
			   struct cbd_dev *d, const char *log)
{
	struct cl_dev_info info;

	EXPECT_EQ(-EIO, read_block(d, ZONE));
	ASSERT_EQ(0, get_info(d, &info));
	EXPECT_EQ(0, info.live_connections);
	EXPECT_EQ(1, info.stats.link_downs);
	EXPECT_EQ(CL_DEV_STATE_LINK_DOWN, info.state);
	EXPECT_EQ(0, cbd_system("dmesg | grep -q '%s'", log));
	EXPECT_EQ(0, cl_kernel_dev_remove(cbd_nl(), d->index, false, NULL));
	d->added = false;
}

TEST_F_TIMEOUT(hostile, bad_magic_drops_the_connection, 60)
{
	ASSERT_EQ(0, hostile_add(&self->d, &self->server, BAD_MAGIC, 0, 1000));
	expect_dropped(_metadata, &self->d, "bad reply magic");
}

TEST_F_TIMEOUT(hostile, structured_reply_not_negotiated, 60)
{
	ASSERT_EQ(0, hostile_add(&self->d, &self->server, STRUCTURED_REPLY, 0,
				 1000));
	expect_dropped(_metadata, &self->d, "structured reply");
}

TEST_F_TIMEOUT(hostile, unknown_cookie_drops_the_connection, 60)
{
	ASSERT_EQ(0, hostile_add(&self->d, &self->server, WRONG_COOKIE, 0,
				 1000));
	expect_dropped(_metadata, &self->d, "for no request in flight");
}

TEST_F_TIMEOUT(hostile, repeated_cookie_drops_the_connection, 60)
{
	struct cl_dev_info info;

	ASSERT_EQ(0, hostile_add(&self->d, &self->server, REPEATED_COOKIE, 0,
				 1000));
	/* The first answer is good and ends the read; the second is not. */
	EXPECT_EQ(0, read_block(&self->d, ZONE));
	ASSERT_EQ(0, wait_state(&self->d, CL_DEV_STATE_LINK_DOWN, 5000));
	ASSERT_EQ(0, get_info(&self->d, &info));
	EXPECT_EQ(0, info.live_connections);
	EXPECT_EQ(0, cbd_system("dmesg | grep -q 'for no request in flight'"));
}

TEST_F_TIMEOUT(hostile, error_reply_fails_only_that_request, 60)
{
	struct cl_dev_info info;

	ASSERT_EQ(0, hostile_add(&self->d, &self->server, ERROR_THEN_GOOD, 0,
				 1000));
	EXPECT_EQ(-EIO, read_block(&self->d, ZONE));
	EXPECT_EQ(0, read_block(&self->d, ZONE + 65536));
	ASSERT_EQ(0, get_info(&self->d, &info));
	EXPECT_EQ(1, info.live_connections);
	EXPECT_EQ(0, info.stats.link_downs);
	EXPECT_EQ(CL_DEV_STATE_LIVE, info.state);
	EXPECT_EQ(1, info.stats.errors);
}

TEST_F_TIMEOUT(hostile, short_read_then_silence, 60)
{
	/* The request times out mid-reply: the connection is dropped. */
	ASSERT_EQ(0, hostile_add(&self->d, &self->server, SHORT_READ, 1000,
				 1000));
	expect_dropped(_metadata, &self->d, "stalled in a reply");
}

TEST_F_TIMEOUT(hostile, connection_closed_mid_reply, 60)
{
	ASSERT_EQ(0, hostile_add(&self->d, &self->server, CLOSE_MID_REPLY, 0,
				 1000));
	expect_dropped(_metadata, &self->d, "cut short");
}

TEST_F_TIMEOUT(hostile, server_that_never_answers, 60)
{
	struct cl_dev_info info;
	int64_t t0 = cbd_now_ms();

	ASSERT_EQ(0, hostile_add(&self->d, &self->server, NEVER_ANSWER, 1000,
				 1000));
	EXPECT_EQ(-EIO, read_block(&self->d, ZONE));
	/* io_timeout + dead timeout, and the timer's second of slack. */
	EXPECT_GT(8000, cbd_now_ms() - t0);
	ASSERT_EQ(0, get_info(&self->d, &info));
	EXPECT_LE(1, info.stats.timeouts);
	EXPECT_EQ(0, cbd_system("dmesg | grep -q 'did not answer'"));
	EXPECT_EQ(0, cl_kernel_dev_remove(cbd_nl(), self->d.index, false,
					  NULL));
	self->d.added = false;
}

TEST_F_TIMEOUT(hostile, replies_out_of_order_are_fine, 60)
{
	pid_t readers[4];
	int i, status;

	ASSERT_EQ(0, hostile_add(&self->d, &self->server, OUT_OF_ORDER, 0,
				 1000));
	for (i = 0; i < 4; i++) {
		readers[i] = fork();
		if (readers[i] == 0)
			_exit(read_block(&self->d, ZONE + (off_t)i * 65536 * 4) ?
			      1 : 0);
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(readers[i], waitpid(readers[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/* ---- bad input ---- */

FIXTURE(input) {
	struct cbd_dev d;
	long refs0;
	int sv[2];
};

FIXTURE_SETUP(input)
{
	memset(&self->d, 0, sizeof(self->d));
	self->d.backing_fd = -1;
	self->refs0 = backing_refs();
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				self->sv));
}

FIXTURE_TEARDOWN(input)
{
	cbd_dev_cleanup(&self->d);
	close(self->sv[0]);
	close(self->sv[1]);
	EXPECT_EQ(self->refs0, wait_backing_refs(self->refs0));
	EXPECT_EQ(0, cbd_dump_count());
}

static const struct cl_nbd_export plain_export = {
	.size = 16 * CBD_MIB,
	.flags = CL_NBD_FLAG_HAS_FLAGS,
	.max_block = 1 << 20,
};

static int try_add(struct cbd_dev *d, const int *fds, int n,
		   void (*tweak)(struct cl_dev_spec *))
{
	struct cl_dev_spec spec;

	nbd_spec(&spec, d, fds, n, &plain_export);
	if (tweak)
		tweak(&spec);
	return cl_kernel_dev_add(cbd_nl(), &spec, NULL, NULL);
}

static void no_has_flags(struct cl_dev_spec *s) { s->nbd_flags = 0; }
static void flags_too_big(struct cl_dev_spec *s) { s->nbd_flags = 0x10001; }
static void ro_export(struct cl_dev_spec *s)
{
	s->nbd_flags |= CL_NBD_FLAG_READ_ONLY;
}
static void small_payload(struct cl_dev_spec *s) { s->nbd_max_payload = 1024; }
static void wrong_queues(struct cl_dev_spec *s) { s->nr_hw_queues = 3; }
static void zero_size(struct cl_dev_spec *s) { s->size = 0; }
static void huge_size(struct cl_dev_spec *s) { s->size = UINT64_MAX - 511; }
static void as_file(struct cl_dev_spec *s) { s->backing_type = CL_BACKING_FILE; }

TEST_F(input, every_bad_add_is_refused_and_leaves_nothing)
{
	int fds[CINDERBLK_NBD_MAX_CONNECTIONS + 1];
	int file, udp, tcp, i;

	EXPECT_EQ(-EINVAL, try_add(&self->d, self->sv, 1, no_has_flags));
	EXPECT_EQ(-ERANGE, try_add(&self->d, self->sv, 1, flags_too_big));
	EXPECT_EQ(-EINVAL, try_add(&self->d, self->sv, 1, ro_export));
	EXPECT_EQ(-EINVAL, try_add(&self->d, self->sv, 1, small_payload));
	EXPECT_EQ(-EINVAL, try_add(&self->d, self->sv, 1, wrong_queues));
	EXPECT_EQ(-EINVAL, try_add(&self->d, self->sv, 1, zero_size));
	EXPECT_EQ(-EINVAL, try_add(&self->d, self->sv, 1, huge_size));
	/* Sockets with a file backing. */
	EXPECT_EQ(-EINVAL, try_add(&self->d, self->sv, 1, as_file));

	file = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, file);
	EXPECT_EQ(-EINVAL, try_add(&self->d, &file, 1, NULL));
	close(file);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, udp);
	EXPECT_EQ(-EINVAL, try_add(&self->d, &udp, 1, NULL));
	close(udp);
	/* A TCP socket that is not connected. */
	tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, tcp);
	EXPECT_EQ(-EINVAL, try_add(&self->d, &tcp, 1, NULL));
	close(tcp);
	i = -1;
	EXPECT_EQ(-EBADF, try_add(&self->d, &i, 1, NULL));
	i = 1000;
	EXPECT_EQ(-EBADF, try_add(&self->d, &i, 1, NULL));

	/* The same socket twice, and one too many. */
	fds[0] = fds[1] = self->sv[0];
	EXPECT_EQ(-EINVAL, try_add(&self->d, fds, 2, NULL));
	for (i = 0; i <= CINDERBLK_NBD_MAX_CONNECTIONS; i++)
		fds[i] = self->sv[0];
	EXPECT_EQ(-EINVAL, try_add(&self->d, fds,
				   CINDERBLK_NBD_MAX_CONNECTIONS + 1, NULL));
	/* A bad socket after good ones: the good ones are not kept. */
	fds[0] = self->sv[0];
	fds[1] = -1;
	EXPECT_EQ(-EBADF, try_add(&self->d, fds, 2, NULL));
	EXPECT_EQ(self->refs0, backing_refs());
}

TEST_F(input, ioctl_refuses_nbd)
{
	struct cinderblk_ioc_dev d;
	int ctl = cbd_ctl_open();

	ASSERT_LE(0, ctl);
	cbd_ioc_init(&d, CINDERBLK_INDEX_ANY);
	d.size = 16 * CBD_MIB;
	d.backing_type = CINDERBLK_BACKING_NBD;
	d.backing_fd = self->sv[0];
	cbd_make_uuid(d.volume_id);
	EXPECT_EQ(-EOPNOTSUPP, cbd_ioc(ctl, CINDERBLK_IOC_DEV_ADD, &d));
	close(ctl);
}

TEST_F(input, reconfigure_is_checked)
{
	struct cl_dev_spec spec;
	int sv2[2], fds[2];

	nbd_spec(&spec, &self->d, self->sv, 1, &plain_export);
	ASSERT_EQ(0, add_nbd(&self->d, &spec));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv2));
	/* Nothing is lost: no room for another socket. */
	spec.socket_fds = &sv2[0];
	EXPECT_EQ(-EINVAL, cl_kernel_dev_reconfigure_spec(cbd_nl(),
							  self->d.index,
							  &spec, NULL));
	/* Other flags: another export. */
	spec.nbd_flags |= CL_NBD_FLAG_SEND_TRIM;
	EXPECT_EQ(-EINVAL, cl_kernel_dev_reconfigure_spec(cbd_nl(),
							  self->d.index,
							  &spec, NULL));
	/* A file backing for an nbd device. */
	spec.backing_type = CL_BACKING_FILE;
	spec.nr_socket_fds = 0;
	spec.backing_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	EXPECT_EQ(-EINVAL, cl_kernel_dev_reconfigure_spec(cbd_nl(),
							  self->d.index,
							  &spec, NULL));
	/* NBD_REPLACE with a file backing. */
	EXPECT_EQ(-EINVAL, cl_kernel_dev_nbd_replace(cbd_nl(), self->d.index,
						     &spec, NULL));
	close(spec.backing_fd);
	/* Two sockets for one lost connection. */
	close(self->sv[1]);
	self->sv[1] = -1;
	ASSERT_EQ(0, wait_state(&self->d, CL_DEV_STATE_LINK_DOWN, 5000));
	nbd_spec(&spec, &self->d, fds, 2, &plain_export);
	fds[0] = sv2[0];
	fds[1] = sv2[1];
	EXPECT_EQ(-EINVAL, cl_kernel_dev_reconfigure_spec(cbd_nl(),
							  self->d.index,
							  &spec, NULL));
	/* One is right. */
	spec.nr_socket_fds = 1;
	EXPECT_EQ(0, cl_kernel_dev_reconfigure_spec(cbd_nl(), self->d.index,
						    &spec, NULL));
	EXPECT_EQ(0, wait_state(&self->d, CL_DEV_STATE_LIVE, 5000));
	close(sv2[0]);
	close(sv2[1]);
	self->sv[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

TEST_HARNESS_MAIN
