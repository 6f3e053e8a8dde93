// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the cinderblk kernel tests (see cbd_helpers.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "cbd_helpers.h"

#define SCRATCH_DIR	"/tmp/cbd-scratch"
#define SCRATCH_DEV	"/dev/ram0"
#define SCRATCH_KIB	"393216"	/* 384 MiB of brd */

static bool is_mountpoint(const char *dir)
{
	struct stat a, b;
	char parent[PATH_MAX];

	snprintf(parent, sizeof(parent), "%s/..", dir);
	if (stat(dir, &a) < 0 || stat(parent, &b) < 0)
		return false;
	return a.st_dev != b.st_dev;
}

const char *cbd_scratch_dir(void)
{
	struct stat st;

	if (is_mountpoint(SCRATCH_DIR))
		return SCRATCH_DIR;
	if (stat(SCRATCH_DEV, &st) < 0 &&
	    cbd_system("modprobe brd rd_nr=1 rd_size=" SCRATCH_KIB) != 0)
		return NULL;
	mkdir(SCRATCH_DIR, 0755);
	if (cbd_system("mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "
		       SCRATCH_DEV " >/dev/null 2>&1") != 0)
		return NULL;
	if (cbd_system("mount -t ext4 " SCRATCH_DEV " " SCRATCH_DIR) != 0)
		return NULL;
	return SCRATCH_DIR;
}

int cbd_backing_create(struct cbd_dev *d, uint64_t size)
{
	const char *dir = cbd_scratch_dir();
	int fd;

	memset(d, 0, sizeof(*d));
	d->backing_fd = -1;
	if (!dir)
		return -EIO;
	snprintf(d->path, sizeof(d->path), "%s/backing.XXXXXX", dir);
	fd = mkstemp(d->path);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;

		close(fd);
		unlink(d->path);
		return -e;
	}
	d->backing_fd = fd;
	d->size = size;
	return 0;
}

void cbd_make_uuid(char *buf)
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)rand();
	}
	if (fd >= 0)
		close(fd);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, CL_VOLUME_ID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

void cbd_spec_for(struct cbd_dev *d, struct cl_dev_spec *spec)
{
	cl_dev_spec_init(spec);
	if (!d->volume_id[0])
		cbd_make_uuid(d->volume_id);
	spec->size = d->size;
	spec->volume_id = d->volume_id;
	spec->backing_type = CL_BACKING_FILE;
	spec->backing_fd = d->backing_fd;
}

static struct cl_kernel *nl_handle;
static pid_t nl_owner;

struct cl_kernel *cbd_nl(void)
{
	/* A handle opened by the parent is not ours after fork(). */
	if (nl_handle && nl_owner == getpid())
		return nl_handle;
	nl_handle = NULL;
	if (cl_kernel_open(&nl_handle, NULL) != 0)
		return NULL;
	nl_owner = getpid();
	return nl_handle;
}

void cbd_nl_reset(void)
{
	if (nl_handle && nl_owner == getpid())
		cl_kernel_close(nl_handle);
	nl_handle = NULL;
}

int cbd_add_nl_spec(struct cbd_dev *d, struct cl_dev_spec *spec)
{
	struct cl_kernel *k = cbd_nl();
	struct cl_dev_info info;
	int ret;

	if (!k)
		return -ENOENT;
	ret = cl_kernel_dev_add(k, spec, &info, NULL);
	if (ret)
		return ret;
	d->added = true;
	d->index = info.index;
	snprintf(d->node, sizeof(d->node), "/dev/%s%u", CINDERBLK_DISK_PREFIX,
		 info.index);
	ret = cbd_wait_node(d->index, true, 5000);
	if (ret) {
		/* Say what is there instead, for whoever reads the log. */
		fprintf(stderr, "# %s did not appear; devices now:\n", d->node);
		cbd_system("ls -l /dev/%s* /sys/block | sed 's/^/# /' >&2",
			   CINDERBLK_DISK_PREFIX);
	}
	return ret;
}

int cbd_add_nl(struct cbd_dev *d, uint32_t flags)
{
	struct cl_dev_spec spec;

	cbd_spec_for(d, &spec);
	spec.flags = flags;
	return cbd_add_nl_spec(d, &spec);
}

int cbd_add_ioctl(struct cbd_dev *d, uint32_t flags)
{
	struct cinderblk_ioc_dev req;
	int ctl = cbd_ctl_open(), ret;

	if (ctl < 0)
		return ctl;
	if (!d->volume_id[0])
		cbd_make_uuid(d->volume_id);
	cbd_ioc_init(&req, CINDERBLK_INDEX_ANY);
	req.size = d->size;
	req.flags = flags;
	req.backing_type = CINDERBLK_BACKING_FILE;
	req.backing_fd = d->backing_fd;
	memcpy(req.volume_id, d->volume_id, CL_VOLUME_ID_LEN);
	ret = cbd_ioc(ctl, CINDERBLK_IOC_DEV_ADD, &req);
	close(ctl);
	if (ret)
		return ret;
	d->added = true;
	d->index = req.index;
	snprintf(d->node, sizeof(d->node), "/dev/%s%u", CINDERBLK_DISK_PREFIX,
		 req.index);
	return cbd_wait_node(d->index, true, 5000);
}

void cbd_dev_cleanup(struct cbd_dev *d)
{
	if (d->added) {
		struct cl_kernel *k = cbd_nl();

		if (k)
			cl_kernel_dev_remove(k, d->index, true, NULL);
		d->added = false;
	}
	if (d->backing_fd >= 0)
		close(d->backing_fd);
	d->backing_fd = -1;
	if (d->path[0])
		unlink(d->path);
	d->path[0] = '\0';
}

int cbd_wait_node(uint32_t index, bool present, int timeout_ms)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/%s%u", CINDERBLK_DISK_PREFIX, index);
	return cbd_wait_node_path(path, present, timeout_ms);
}

int cbd_wait_node_path(const char *path, bool present, int timeout_ms)
{
	struct stat st;
	int64_t end = cbd_now_ms() + timeout_ms;

	for (;;) {
		/*
		 * Present: a block device. Absent: nothing at all; a file
		 * left there (a program writing to the path after the node
		 * went) would keep the next device of that name from
		 * getting its node.
		 */
		bool there = present ?
			stat(path, &st) == 0 && S_ISBLK(st.st_mode) :
			lstat(path, &st) == 0;

		if (there == present)
			return 0;
		if (cbd_now_ms() > end)
			return -ETIMEDOUT;
		usleep(5000);
	}
}

int cbd_ctl_open(void)
{
	int fd = open("/dev/" CINDERBLK_CONTROL_NAME, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

void cbd_ioc_init(struct cinderblk_ioc_dev *d, uint32_t index)
{
	memset(d, 0, sizeof(*d));
	d->version = CINDERBLK_IOCTL_VERSION;
	d->index = index;
	d->backing_fd = -1;
}

int cbd_ioc(int ctl_fd, unsigned long req, struct cinderblk_ioc_dev *d)
{
	return ioctl(ctl_fd, req, d) < 0 ? -errno : 0;
}

int cbd_dump_count(void)
{
	struct cl_kernel *k = cbd_nl();
	struct cl_dev_info *devs;
	size_t n;
	int ret;

	if (!k)
		return -ENOENT;
	ret = cl_kernel_dev_list(k, &devs, &n, NULL);
	if (ret)
		return ret;
	free(devs);
	return (int)n;
}

bool cbd_dump_has(uint32_t index)
{
	struct cl_kernel *k = cbd_nl();
	struct cl_dev_info *devs;
	bool found = false;
	size_t n;

	if (!k || cl_kernel_dev_list(k, &devs, &n, NULL))
		return false;
	for (size_t i = 0; i < n; i++)
		found |= devs[i].index == index;
	free(devs);
	return found;
}

/* A module parameter that holds a number: it, or -errno. */
static int read_param(const char *path)
{
	FILE *f = fopen(path, "re");
	int n;

	if (!f)
		return -errno;
	if (fscanf(f, "%d", &n) != 1)
		n = -EIO;
	fclose(f);
	return n;
}

int cbd_live_devices(void)
{
	return read_param(CBD_LIVE_DEVICES);
}

#define CBD_FILE_OFFLOAD "/sys/module/cinderblk/parameters/file_offload"

int cbd_set_file_offload(const char *mode)
{
	int fd = open(CBD_FILE_OFFLOAD, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, mode, strlen(mode));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

int cbd_get_file_offload(char *buf, size_t len)
{
	FILE *f = fopen(CBD_FILE_OFFLOAD, "re");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		err = -EIO;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return err;
}

/*
 * The cbd disks in /sys/block that are spares (state "idle": @idle) or
 * not (a disk whose state cannot be read is not): how many, and the first
 * @max of their indexes, lowest first, into @out.
 */
static int scan_disks(bool idle, uint32_t *out, int max)
{
	DIR *dir = opendir("/sys/block");
	size_t plen = strlen(CINDERBLK_DISK_PREFIX);
	struct dirent *de;
	char state[32];
	int n = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		uint32_t index;
		bool is_idle;

		if (strncmp(de->d_name, CINDERBLK_DISK_PREFIX, plen) != 0)
			continue;
		index = strtoul(de->d_name + plen, NULL, 10);
		is_idle = cbd_sysfs_read(index, "state", state,
					 sizeof(state)) == 0 &&
			  strcmp(state, "idle") == 0;
		if (is_idle != idle)
			continue;
		if (n < max) {
			int i = n;

			/* Insertion sort: a handful at most. */
			while (i > 0 && out[i - 1] > index) {
				out[i] = out[i - 1];
				i--;
			}
			out[i] = index;
		}
		n++;
	}
	closedir(dir);
	return n;
}

/*
 * Spares are the module's stock, made and taken in the background: not
 * counted.
 */
int cbd_sysfs_block_count(void)
{
	return scan_disks(false, NULL, 0);
}

int cbd_spare_indexes(uint32_t *out, int max)
{
	return scan_disks(true, out, max);
}

int cbd_set_spare_devices(unsigned int n)
{
	char buf[16];
	int fd = open(CBD_SPARE_DEVICES, O_WRONLY | O_CLOEXEC), len, err;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%u", n);
	err = write(fd, buf, len) == len ? 0 : -errno;
	close(fd);
	return err;
}

int cbd_get_spare_devices(void)
{
	return read_param(CBD_SPARE_DEVICES);
}

int cbd_add_remove_cycles(const char *path, int n)
{
	struct cl_dev_info info;
	struct cl_dev_spec spec;
	struct cl_kernel *k;
	char id[CL_VOLUME_ID_LEN + 1], got[64];
	int fd = open(path, O_RDWR | O_CLOEXEC), bad = 0;

	if (fd < 0 || cl_kernel_open(&k, NULL))
		return 100;
	for (int i = 0; i < n; i++) {
		cl_dev_spec_init(&spec);
		cbd_make_uuid(id);
		spec.size = 4 * CBD_MIB;
		spec.volume_id = id;
		spec.backing_fd = fd;
		if (cl_kernel_dev_add(k, &spec, &info, NULL)) {
			bad++;
			continue;
		}
		/*
		 * The reply and sysfs are about our device; had two adders
		 * got the same index, one of the removes would fail too.
		 */
		if (strcmp(info.volume_id, id) != 0 ||
		    cbd_sysfs_read(info.index, "volume_id", got, sizeof(got)) ||
		    strcmp(got, id) != 0)
			bad++;
		bad += cl_kernel_dev_remove(k, info.index, false, NULL) != 0;
	}
	cl_kernel_close(k);
	close(fd);
	return bad;
}

int cbd_wait_spares(int n, int timeout_ms)
{
	int64_t end = cbd_now_ms() + timeout_ms;
	uint32_t idx[1];

	while (cbd_spare_indexes(idx, 0) != n) {
		if (cbd_now_ms() > end)
			return -ETIMEDOUT;
		usleep(5000);
	}
	return 0;
}

int cbd_sysfs_read(uint32_t index, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/sys/block/%s%u/cinderblk/%s",
		 CINDERBLK_DISK_PREFIX, index, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = read(fd, buf, len - 1);
	close(fd);
	if (got < 0)
		return -errno;
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
		got--;
	buf[got] = '\0';
	return 0;
}

uint64_t cbd_bdev_size(int fd)
{
	uint64_t size;

	return ioctl(fd, BLKGETSIZE64, &size) < 0 ? 0 : size;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Byte @off of the pattern of @seed. */
static unsigned char pattern_byte(uint64_t off, uint64_t seed)
{
	return (unsigned char)(mix((off >> 3) ^ (seed << 40)) >> ((off & 7) * 8));
}

void cbd_fill(void *buf, size_t len, uint64_t offset, uint64_t seed)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = pattern_byte(offset + i, seed);
}

bool cbd_check(const void *buf, size_t len, uint64_t offset, uint64_t seed)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != pattern_byte(offset + i, seed))
			return false;
	return true;
}

bool cbd_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

void *cbd_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, 4096, len ? len : 4096))
		return NULL;
	memset(p, 0, len);
	return p;
}

int cbd_write_pattern(int fd, size_t len, off_t off, uint64_t seed)
{
	void *buf = cbd_alloc(len);
	ssize_t n;

	cbd_fill(buf, len, (uint64_t)off, seed);
	n = pwrite(fd, buf, len, off);
	free(buf);
	return n == (ssize_t)len ? 0 : -1;
}

bool cbd_has_pattern_at(int fd, size_t len, off_t off, uint64_t pattern_off,
			uint64_t seed)
{
	void *buf = cbd_alloc(len);
	bool ok;

	ok = pread(fd, buf, len, off) == (ssize_t)len &&
	     cbd_check(buf, len, pattern_off, seed);
	free(buf);
	return ok;
}

bool cbd_has_pattern(int fd, size_t len, off_t off, uint64_t seed)
{
	return cbd_has_pattern_at(fd, len, off, (uint64_t)off, seed);
}

bool cbd_has_zeros(int fd, size_t len, off_t off)
{
	void *buf = cbd_alloc(len);
	bool ok;

	memset(buf, 0xa5, len);
	ok = pread(fd, buf, len, off) == (ssize_t)len && cbd_is_zero(buf, len);
	free(buf);
	return ok;
}

static int nl_socket(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Send @m on @fd, read until the ack; each reply message goes to @on_msg. */
static int nl_transact(int fd, struct cbd_msg *m,
		       void (*on_msg)(struct nlmsghdr *nlh, void *arg), void *arg)
{
	struct nlmsghdr *req = (struct nlmsghdr *)m->buf;
	static unsigned int seq = 1000;
	unsigned char buf[16384];

	req->nlmsg_len = (uint32_t)m->len;
	req->nlmsg_seq = ++seq;
	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (send(fd, m->buf, m->len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nlh;
		int rem;

		if (len < 0)
			return -errno;
		rem = (int)len;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, rem);
		     nlh = NLMSG_NEXT(nlh, rem)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (on_msg)
				on_msg(nlh, arg);
		}
	}
}

static void family_from_reply(struct nlmsghdr *nlh, void *arg)
{
	int *id = arg;
	struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(nlh) + GENL_HDRLEN);
	int rem = (int)nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	while (rem >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) &&
	       a->nla_len <= rem) {
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			*id = *(uint16_t *)((char *)a + NLA_HDRLEN);
		rem -= NLA_ALIGN(a->nla_len);
		a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
	}
}

int cbd_family_id(void)
{
	struct cbd_msg m;
	struct nlmsghdr *nlh;
	struct genlmsghdr *gh;
	int fd, ret, id = -ENOENT;

	memset(&m, 0, sizeof(m));
	nlh = (struct nlmsghdr *)m.buf;
	nlh->nlmsg_type = GENL_ID_CTRL;
	gh = NLMSG_DATA(nlh);
	gh->cmd = CTRL_CMD_GETFAMILY;
	gh->version = 1;
	m.len = NLMSG_HDRLEN + GENL_HDRLEN;
	cbd_msg_put(&m, CTRL_ATTR_FAMILY_NAME, CINDERBLK_GENL_NAME,
		    sizeof(CINDERBLK_GENL_NAME));
	fd = nl_socket();
	if (fd < 0)
		return fd;
	ret = nl_transact(fd, &m, family_from_reply, &id);
	close(fd);
	return ret ? ret : id;
}

void cbd_msg_init(struct cbd_msg *m, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *gh;
	int family = cbd_family_id();

	memset(m, 0, sizeof(*m));
	nlh->nlmsg_type = family > 0 ? (uint16_t)family : 0;
	nlh->nlmsg_flags = flags;
	gh = NLMSG_DATA(nlh);
	gh->cmd = cmd;
	gh->version = CINDERBLK_GENL_VERSION;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
}

void cbd_msg_put(struct cbd_msg *m, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);

	if (m->len + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(m->buf))
		abort();
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->len += NLA_HDRLEN + NLA_ALIGN(len);
}

void cbd_msg_put_u32(struct cbd_msg *m, uint16_t type, uint32_t v)
{
	cbd_msg_put(m, type, &v, sizeof(v));
}

void cbd_msg_put_u64(struct cbd_msg *m, uint16_t type, uint64_t v)
{
	cbd_msg_put(m, type, &v, sizeof(v));
}

size_t cbd_msg_nest_start(struct cbd_msg *m, uint16_t type)
{
	size_t start = m->len;

	cbd_msg_put(m, type | NLA_F_NESTED, NULL, 0);
	return start;
}

void cbd_msg_nest_end(struct cbd_msg *m, size_t start)
{
	struct nlattr *a = (struct nlattr *)(m->buf + start);

	a->nla_len = (uint16_t)(m->len - start);
}

int cbd_msg_send(struct cbd_msg *m)
{
	int fd = nl_socket(), ret;

	if (fd < 0)
		return fd;
	ret = nl_transact(fd, m, NULL, NULL);
	close(fd);
	return ret;
}

const char *cbd_brd(int n)
{
	static char paths[CBD_BRD_COUNT][32];
	struct stat st;
	char *path;

	if (n < 0 || n >= CBD_BRD_COUNT)
		return NULL;
	path = paths[n];
	snprintf(path, sizeof(paths[n]), "/dev/ram%d", n);
	if (stat(path, &st) < 0 &&
	    cbd_system("modprobe brd rd_nr=%d rd_size=%llu", CBD_BRD_COUNT,
		       CBD_BRD_SIZE / 1024) != 0)
		return NULL;
	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return NULL;
	return path;
}

int cbd_add_remap(struct cbd_dev *d, int lower_fd, uint64_t size,
		  const struct cl_extent *ext, size_t nr, uint32_t flags)
{
	struct cl_dev_spec spec;

	memset(d, 0, sizeof(*d));
	d->backing_fd = lower_fd;
	d->size = size;
	cbd_make_uuid(d->volume_id);
	cl_dev_spec_init(&spec);
	spec.size = size;
	spec.volume_id = d->volume_id;
	spec.backing_type = CL_BACKING_REMAP;
	spec.backing_fd = lower_fd;
	spec.extents = ext;
	spec.nr_extents = nr;
	spec.flags = flags;
	return cbd_add_nl_spec(d, &spec);
}

bool cbd_bdev_free(const char *path)
{
	int fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int cbd_system(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	status = system(cmd);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int cbd_drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned int word = CAP_SYS_ADMIN / 32, bit = 1U << (CAP_SYS_ADMIN % 32);

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

int64_t cbd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
