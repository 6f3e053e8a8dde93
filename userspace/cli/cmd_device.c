// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl device: the low-level tool of the cinderblk module, as losetup
 * is for loop: attach a file or block device as /dev/cbdN, list, inspect,
 * resize, suspend, resume and remove devices.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>
#include <linux/fs.h>
#include <uuid.h>

#include <linux/cinderblk.h>

#include "cinderlib/kernel.h"
#include "cinderlib/nbd.h"
#include "cli.h"
#include "cli_output.h"

#define DEV_DIR "/dev/"
#define SYSFS_BLOCK "/sys/block/"
#define NODE_WAIT_MS 2000

static bool want_json;

static void usage_device(FILE *out)
{
	fprintf(out,
		"Usage: cinderctl device SUBCOMMAND [ARGS...]\n"
		"\n"
		"Low-level control of cinderblk devices (/dev/cbdN).\n"
		"\n"
		"Subcommands:\n"
		"  add --file PATH [OPTIONS]     attach PATH, print the new device\n"
		"  add --remap --file BLOCKDEV [--extent START:LEN:LOWER]...\n"
		"                                map a block device (zero copy)\n"
		"  remove DEV|INDEX [--force]    detach a device\n"
		"  list [--json]                 list the devices\n"
		"  show DEV|INDEX [--json]       details and statistics of a device\n"
		"  resize DEV --size BYTES|--to-file[=PATH]\n"
		"                                change the capacity of a device\n"
		"  suspend DEV [--freeze]        drain and hold I/O\n"
		"  resume DEV                    release held I/O\n"
		"  reconfigure DEV --file PATH [--remap [--extent ...]]\n"
		"                                new backing for a suspended device\n"
		"\n"
		"DEV is /dev/cbdN, cbdN or N. Run 'cinderctl device SUBCOMMAND --help'\n"
		"for the options of a subcommand.\n");
}

/* "123", "4K", "16MiB", "2G" (powers of 1024) into bytes. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		if (*end && strcasecmp(end, "iB") != 0 && strcasecmp(end, "B") != 0)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

#define MAX_CLI_EXTENTS 65536

/* The --extent options of add and reconfigure. */
struct extent_list {
	struct cl_extent *v;
	size_t n, cap;
};


/* "START:LENGTH:LOWER_OFFSET", each a size with optional suffix. */
static int add_extent(struct extent_list *l, const char *arg)
{
	char buf[128], *len, *lower;
	struct cl_extent x;

	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
		return -EINVAL;
	len = strchr(buf, ':');
	lower = len ? strchr(len + 1, ':') : NULL;
	if (!len || !lower)
		return -EINVAL;
	*len++ = '\0';
	*lower++ = '\0';
	if (parse_size(buf, &x.start) || parse_size(len, &x.length) ||
	    parse_size(lower, &x.lower_offset))
		return -EINVAL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct cl_extent *v;

		if (cap > MAX_CLI_EXTENTS)
			return -E2BIG;
		v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = x;
	return 0;
}

/* Where the table ends: the device size it describes (0 if none). */
static uint64_t extents_end(const struct extent_list *l)
{
	uint64_t end = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].start + l->v[i].length > end)
			end = l->v[i].start + l->v[i].length;
	return end;
}

static int bad_extent(const char *arg, int ret)
{
	if (ret == -E2BIG)
		cli_error("too many --extent options");
	else if (ret == -ENOMEM)
		cli_error("out of memory");
	else
		cli_error("bad extent '%s': expected START:LENGTH:LOWER_OFFSET (bytes, K/M/G/T suffixes)",
			  arg);
	return ret == -ENOMEM ? CLI_EXIT_FAILED : CLI_EXIT_USAGE;
}

/* Logical block size of an open block device, 0 if unknown. */
static uint32_t bdev_block_size(int fd)
{
	int bs = 0;

	return ioctl(fd, BLKSSZGET, &bs) == 0 && bs > 0 ? (uint32_t)bs : 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* /dev/cbdN, cbdN, N, or any path whose target is a cbd device. */
static int parse_device(const char *arg, uint32_t *index)
{
	const char *p = arg;
	char resolved[PATH_MAX];
	struct cinderblk_ioc_info info;
	int fd, ret;

	if (parse_u32(p, index) == 0)
		return 0;
	if (strncmp(p, DEV_DIR, strlen(DEV_DIR)) == 0)
		p += strlen(DEV_DIR);
	if (strncmp(p, CINDERBLK_DISK_PREFIX, strlen(CINDERBLK_DISK_PREFIX)) == 0 &&
	    parse_u32(p + strlen(CINDERBLK_DISK_PREFIX), index) == 0)
		return 0;
	/* A symlink (by-id names) or another path to the node. */
	if (realpath(arg, resolved)) {
		const char *base = strrchr(resolved, '/');

		base = base ? base + 1 : resolved;
		if (strncmp(base, CINDERBLK_DISK_PREFIX,
			    strlen(CINDERBLK_DISK_PREFIX)) == 0 &&
		    parse_u32(base + strlen(CINDERBLK_DISK_PREFIX), index) == 0)
			return 0;
		fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0) {
			memset(&info, 0, sizeof(info));
			ret = ioctl(fd, CINDERBLK_IOC_INFO, &info);
			close(fd);
			if (ret == 0) {
				*index = info.index;
				return 0;
			}
		}
	}
	return -EINVAL;
}

static int bad_device(const char *arg)
{
	cli_error("'%s' is not a cinderblk device (use /dev/cbdN, cbdN or N)",
		  arg);
	return CLI_EXIT_USAGE;
}

static int open_kernel(struct cl_kernel **k)
{
	struct cl_error err;
	int ret;

	cl_error_clear(&err);
	ret = cl_kernel_open(k, &err);
	if (ret) {
		cli_error("%s", err.msg);
		/* A missing module is a failure, not a missing object. */
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

/* The library's messages already name the operation and the device. */
static int fail(const struct cl_error *err, const char *what)
{
	if (err->msg[0])
		cli_error("%s", err->msg);
	else
		cli_error("%s: %s", what, strerror(-err->code));
	return cli_exit_code(err->code);
}

/*
 * What a subcommand does with the module open: 0, a negative errno with
 * @err filled, or an exit code whose error it has already printed.
 */
typedef int (*kernel_op)(struct cl_kernel *k, void *data, struct cl_error *err);

/* Open the module, run @op and close it; a library failure is reported as @what. */
static int run_on_kernel(kernel_op op, void *data, const char *what)
{
	struct cl_kernel *k;
	struct cl_error err;
	int ret;

	ret = open_kernel(&k);
	if (ret)
		return ret;
	cl_error_clear(&err);
	ret = op(k, data, &err);
	cl_kernel_close(k);
	return ret < 0 ? fail(&err, what) : ret;
}

/* One line of /sys/block/cbdN/cinderblk/NAME, without the newline. */
static bool read_sysfs(const struct cl_dev_info *info, const char *name,
		       char *buf, size_t size)
{
	char path[PATH_MAX];
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), SYSFS_BLOCK "%s/cinderblk/%s",
		 info->disk_name, name);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, (int)size, f)) {
		fclose(f);
		return false;
	}
	fclose(f);
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return true;
}

static void flags_text(uint32_t flags, char *buf, size_t size)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ CL_DEV_READ_ONLY, "read-only" },
		{ CL_DEV_DISCARD, "discard" },
		{ CL_DEV_WRITE_ZEROES, "write-zeroes" },
		{ CL_DEV_FUA, "fua" },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		used += snprintf(buf + used, size - used, "%s%s",
				 used ? "," : "", names[i].name);
		if (used >= size)
			break;
	}
	if (!buf[0])
		snprintf(buf, size, "-");
}

static void human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

static struct json_object *flags_json(uint32_t flags)
{
	struct json_object *arr = json_object_new_array();

	if (flags & CL_DEV_READ_ONLY)
		json_object_array_add(arr, json_object_new_string("read-only"));
	if (flags & CL_DEV_DISCARD)
		json_object_array_add(arr, json_object_new_string("discard"));
	if (flags & CL_DEV_WRITE_ZEROES)
		json_object_array_add(arr, json_object_new_string("write-zeroes"));
	if (flags & CL_DEV_FUA)
		json_object_array_add(arr, json_object_new_string("fua"));
	return arr;
}

static struct json_object *dev_json(const struct cl_dev_info *info)
{
	struct json_object *o = json_object_new_object();
	char path[64], backing[PATH_MAX];

	snprintf(path, sizeof(path), DEV_DIR "%s", info->disk_name);
	json_object_object_add(o, "index", json_object_new_int64(info->index));
	json_object_object_add(o, "disk", json_object_new_string(info->disk_name));
	json_object_object_add(o, "device", json_object_new_string(path));
	json_object_object_add(o, "volume_id",
			       json_object_new_string(info->volume_id));
	json_object_object_add(o, "backing_type",
			       json_object_new_string(cl_backing_type_name(info->backing_type)));
	json_object_object_add(o, "backing",
			       read_sysfs(info, "backing", backing, sizeof(backing)) ?
			       json_object_new_string(backing) : NULL);
	json_object_object_add(o, "size", json_object_new_int64((int64_t)info->size));
	json_object_object_add(o, "logical_block_size",
			       json_object_new_int64(info->logical_block_size));
	json_object_object_add(o, "physical_block_size",
			       json_object_new_int64(info->physical_block_size));
	json_object_object_add(o, "state",
			       json_object_new_string(cl_dev_state_name(info->state)));
	json_object_object_add(o, "flags", flags_json(info->flags));
	json_object_object_add(o, "open_count",
			       json_object_new_int64(info->open_count));
	json_object_object_add(o, "nr_hw_queues",
			       json_object_new_int64(info->nr_hw_queues));
	json_object_object_add(o, "queue_depth",
			       json_object_new_int64(info->queue_depth));
	json_object_object_add(o, "io_timeout_ms",
			       json_object_new_int64(info->io_timeout_ms));
	if (info->backing_type == CL_BACKING_NBD) {
		json_object_object_add(o, "connections",
				       json_object_new_int64(info->connections));
		json_object_object_add(o, "live_connections",
				       json_object_new_int64(info->live_connections));
		json_object_object_add(o, "dead_timeout_ms",
				       json_object_new_int64(info->dead_timeout_ms));
	}
	if (info->has_stats) {
		const struct cl_dev_stats *s = &info->stats;
		struct json_object *st = json_object_new_object();

#define STAT(name) json_object_object_add(st, #name, \
					  json_object_new_int64((int64_t)s->name))
		STAT(read_ios);
		STAT(read_bytes);
		STAT(write_ios);
		STAT(write_bytes);
		STAT(flush_ios);
		STAT(discard_ios);
		STAT(write_zeroes_ios);
		STAT(errors);
		STAT(inflight);
		STAT(timeouts);
		if (info->backing_type == CL_BACKING_NBD) {
			STAT(link_downs);
			STAT(reconnects);
			STAT(requeues);
		}
#undef STAT
		json_object_object_add(o, "stats", st);
	}
	return o;
}

static void print_json(struct json_object *o)
{
	cli_json_print(o);
}

/* Wait for devtmpfs/udev to create the node, so the printed path works. */
static void wait_for_node(const char *path)
{
	struct timespec step = { 0, 10 * 1000 * 1000 };
	struct stat st;

	for (int waited = 0; waited < NODE_WAIT_MS; waited += 10) {
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			return;
		nanosleep(&step, NULL);
	}
}

/* Size of an open regular file or block device. */
static int backing_size(int fd, const char *path, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		cli_error("%s: %s", path, strerror(errno));
		return CLI_EXIT_FAILED;
	}
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0) {
			cli_error("%s: cannot read the size: %s", path,
				  strerror(errno));
			return CLI_EXIT_FAILED;
		}
	} else {
		cli_error("%s: not a regular file or a block device", path);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int open_backing(const char *path, bool read_only, int *fd)
{
	*fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;

		cli_error("cannot open %s: %s", path, strerror(e));
		return e == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

/* add: the device @spec describes, created as @info. */
struct add_job {
	const struct cl_dev_spec *spec;
	struct cl_dev_info info;
};

static int add_op(struct cl_kernel *k, void *data, struct cl_error *err)
{
	struct add_job *job = data;

	return cl_kernel_dev_add(k, job->spec, &job->info, err);
}

struct nbd_add_job {
	struct cl_nbd_attach attach;
	struct cl_dev_info info;
};

static int nbd_add_op(struct cl_kernel *k, void *data, struct cl_error *err)
{
	struct nbd_add_job *job = data;

	return cl_nbd_attach(k, &job->attach, &job->info, err);
}

/* device add --nbd URI: the export's size, block sizes and flags rule. */
static int add_nbd(struct nbd_add_job *job, bool as_json)
{
	char node[64];
	int ret;

	ret = run_on_kernel(nbd_add_op, job, "add device");
	if (ret)
		return ret;
	snprintf(node, sizeof(node), DEV_DIR "%s", job->info.disk_name);
	wait_for_node(node);
	if (as_json || cli_globals.json)
		print_json(dev_json(&job->info));
	else
		printf("%s\n", node);
	return CLI_EXIT_OK;
}

/* Seconds into milliseconds, 1..3600. */
static int parse_seconds(const char *text, uint32_t *ms)
{
	uint32_t s;

	if (parse_u32(text, &s) || s < 1 || s > 3600)
		return -1;
	*ms = s * 1000;
	return 0;
}

static int cmd_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "volume-id", required_argument, NULL, 'u' },
		{ "index", required_argument, NULL, 'i' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "no-discard", no_argument, NULL, 'D' },
		{ "remap", no_argument, NULL, 'm' },
		{ "extent", required_argument, NULL, 'e' },
		{ "nbd", required_argument, NULL, 'n' },
		{ "connections", required_argument, NULL, 'c' },
		{ "io-timeout", required_argument, NULL, 'T' },
		{ "dead-timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *file = NULL, *volume_id = NULL;
	struct nbd_add_job nbd = { 0 };
	bool other_than_nbd = false;
	struct extent_list extents = { 0 };
	struct cl_extent whole;
	struct cl_dev_spec spec;
	struct add_job job;
	char uuid_text[CL_VOLUME_ID_LEN + 1], node[64];
	uint64_t size = 0, file_size;
	bool read_only = false, discard = true, remap = false;
	int c, fd, ret;

	cl_dev_spec_init(&spec);
	while ((c = getopt_long(argc, argv, "f:ru:i:b:s:me:n:c:h", opts,
				NULL)) != -1) {
		if (strchr("fbsmeD", c))
			other_than_nbd = true;
		switch (c) {
		case 'n':
			nbd.attach.uri = optarg;
			break;
		case 'c':
			if (parse_u32(optarg, &nbd.attach.connections) ||
			    !nbd.attach.connections ||
			    nbd.attach.connections > 16) {
				cli_error("bad --connections '%s': 1 to 16", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'T':
		case 't':
			if (parse_seconds(optarg, c == 'T' ?
					  &nbd.attach.io_timeout_ms :
					  &nbd.attach.dead_timeout_ms)) {
				cli_error("bad %s '%s': 1 to 3600 seconds",
					  c == 'T' ? "--io-timeout" :
					  "--dead-timeout", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'f':
			file = optarg;
			break;
		case 'm':
			remap = true;
			break;
		case 'e':
			ret = add_extent(&extents, optarg);
			if (ret) {
				free(extents.v);
				return bad_extent(optarg, ret);
			}
			break;
		case 'r':
			read_only = true;
			break;
		case 'u':
			volume_id = optarg;
			break;
		case 'i':
			if (parse_u32(optarg, &spec.index) ||
			    spec.index == CL_DEV_INDEX_ANY) {
				cli_error("bad index '%s'", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'b':
			if (parse_u32(optarg, &spec.logical_block_size) ||
			    spec.logical_block_size < 512 ||
			    spec.logical_block_size > 4096 ||
			    (spec.logical_block_size &
			     (spec.logical_block_size - 1))) {
				cli_error("bad block size '%s': a power of two from 512 to 4096",
					  optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 's':
			if (parse_size(optarg, &size) || size == 0) {
				cli_error("bad size '%s'", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'D':
			discard = false;
			break;
		case 'j':
			want_json = true;
			break;
		case 'h':
			free(extents.v);
			printf("Usage: cinderctl device add --file PATH [OPTIONS]\n"
			       "       cinderctl device add --remap --file BLOCKDEV [--extent S:L:O]... [OPTIONS]\n"
			       "       cinderctl device add --nbd nbd://HOST[:PORT]/EXPORT [OPTIONS]\n"
			       "\n"
			       "Attach a regular file or block device as /dev/cbdN and print\n"
			       "the device's path. With --remap, the device's bios go straight\n"
			       "to BLOCKDEV (held exclusively while attached; no copy). With\n"
			       "--nbd, the device is the NBD export (its size and block sizes);\n"
			       "cinderctl daemon reconnects it when connections are lost.\n"
			       "\n"
			       "  -f, --file PATH        backing file or block device (required)\n"
			       "  -m, --remap            remap backing: PATH is a block device\n"
			       "  -e, --extent S:L:O     remap bytes [S, S+L) of the device to offset O\n"
			       "                         of PATH (repeatable; K/M/G/T suffixes). The\n"
			       "                         extents must cover the device from 0 without\n"
			       "                         gaps; default: one extent over the whole size\n"
			       "  -r, --read-only        read-only device (PATH opened read-only)\n"
			       "  -u, --volume-id UUID   volume id (default: a new random UUID)\n"
			       "  -i, --index N          use /dev/cbdN (default: first free)\n"
			       "  -b, --block-size N     logical block size, 512..4096 (default 512;\n"
			       "                         with --remap, the block device's)\n"
			       "  -s, --size BYTES       capacity (K/M/G/T suffixes; default: the\n"
			       "                         size of PATH), rounded down to the block size\n"
			       "      --no-discard       no discard / write-zeroes support\n"
			       "  -n, --nbd URI          NBD export to attach (TCP)\n"
			       "  -c, --connections N    nbd: connections when the export allows\n"
			       "                         several (1..16, default 4)\n"
			       "      --io-timeout S     nbd: seconds a request may go unanswered\n"
			       "                         before its connection is dropped\n"
			       "      --dead-timeout S   nbd: seconds I/O waits for a new connection\n"
			       "                         when all are lost (default 60)\n"
			       "      --json             print the new device as JSON\n");
			return CLI_EXIT_OK;
		default:
			free(extents.v);
			return CLI_EXIT_USAGE;
		}
	}
	ret = CLI_EXIT_USAGE;
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (nbd.attach.uri && other_than_nbd) {
		cli_error("--nbd takes the export's size and blocks: no --file, --remap, --extent, --size, --block-size or --no-discard");
		goto out;
	}
	if (!nbd.attach.uri && (nbd.attach.connections ||
				nbd.attach.io_timeout_ms ||
				nbd.attach.dead_timeout_ms)) {
		cli_error("--connections, --io-timeout and --dead-timeout need --nbd");
		goto out;
	}
	if (!file && !nbd.attach.uri) {
		cli_error("device add needs --file PATH or --nbd URI");
		goto out;
	}
	if (extents.n && !remap) {
		cli_error("--extent needs --remap");
		goto out;
	}
	if (volume_id) {
		uuid_t u;

		if (strlen(volume_id) != CL_VOLUME_ID_LEN ||
		    uuid_parse(volume_id, u) != 0) {
			cli_error("bad volume id '%s': expected a UUID", volume_id);
			goto out;
		}
		uuid_unparse_lower(u, uuid_text);
	} else {
		uuid_t u;

		uuid_generate_random(u);
		uuid_unparse_lower(u, uuid_text);
	}
	if (nbd.attach.uri) {
		nbd.attach.volume_id = uuid_text;
		nbd.attach.read_only = read_only;
		ret = add_nbd(&nbd, want_json);
		goto out;
	}

	ret = open_backing(file, read_only, &fd);
	if (ret)
		goto out;
	ret = backing_size(fd, file, &file_size);
	if (ret) {
		close(fd);
		goto out;
	}
	if (remap && !spec.logical_block_size)
		spec.logical_block_size = bdev_block_size(fd);
	if (!size)
		size = extents.n ? extents_end(&extents) : file_size;
	{
		uint32_t bs = spec.logical_block_size ? spec.logical_block_size : 512;

		size -= size % bs;
		if (size == 0) {
			cli_error("%s is smaller than one block (%u bytes)", file, bs);
			close(fd);
			ret = CLI_EXIT_FAILED;
			goto out;
		}
	}

	spec.size = size;
	spec.volume_id = uuid_text;
	spec.backing_type = remap ? CL_BACKING_REMAP : CL_BACKING_FILE;
	spec.backing_fd = fd;
	spec.flags = (read_only ? CL_DEV_READ_ONLY : 0) |
		     (discard ? CL_DEV_DISCARD | CL_DEV_WRITE_ZEROES : 0);
	if (remap && extents.n) {
		spec.extents = extents.v;
		spec.nr_extents = extents.n;
	} else if (remap) {
		whole = (struct cl_extent){ .start = 0, .length = size };
		spec.extents = &whole;
		spec.nr_extents = 1;
	}
	job.spec = &spec;
	ret = run_on_kernel(add_op, &job, "add device");
	/* The module holds its own reference to the file. */
	close(fd);
	if (ret)
		goto out;
	snprintf(node, sizeof(node), DEV_DIR "%s", job.info.disk_name);
	wait_for_node(node);
	if (want_json || cli_globals.json)
		print_json(dev_json(&job.info));
	else
		printf("%s\n", node);
	ret = CLI_EXIT_OK;
out:
	free(extents.v);
	return ret;
}

/* The options and DEV of a subcommand that acts on one device. */
struct dev_cmd {
	const char *usage;
	bool force, freeze, json;
	const char *size, *file;
	bool to_file, remap;
	struct extent_list extents;
	uint32_t index;
	uint64_t new_size;		/* resize */
	struct cl_dev_info info;	/* show, resize, reconfigure: the device */
};

/*
 * The options and DEV of @argv into @dc. False when the subcommand must
 * stop and return *@code (help printed, bad usage); the extents are freed.
 */
static bool parse_dev_cmd(int argc, char **argv, const struct option *opts,
			  const char *shortopts, struct dev_cmd *dc, int *code)
{
	int c, ret;

	*code = CLI_EXIT_USAGE;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			dc->force = true;
			break;
		case 'z':
			dc->freeze = true;
			break;
		case 'j':
			dc->json = true;
			break;
		case 's':
			dc->size = optarg;
			break;
		case 't':
			dc->to_file = true;
			dc->file = optarg;
			break;
		case 'f':
			dc->file = optarg;
			break;
		case 'm':
			dc->remap = true;
			break;
		case 'e':
			ret = add_extent(&dc->extents, optarg);
			if (ret) {
				*code = bad_extent(optarg, ret);
				goto stop;
			}
			break;
		case 'h':
			fputs(dc->usage, stdout);
			*code = CLI_EXIT_OK;
			goto stop;
		default:
			goto stop;
		}
	}
	if (optind >= argc) {
		cli_error("missing device (see --help)");
		goto stop;
	}
	if (optind + 1 < argc) {
		cli_error("unexpected argument '%s'", argv[optind + 1]);
		goto stop;
	}
	if (parse_device(argv[optind], &dc->index)) {
		*code = bad_device(argv[optind]);
		goto stop;
	}
	return true;
stop:
	free(dc->extents.v);
	dc->extents = (struct extent_list){ 0 };
	return false;
}

/*
 * A subcommand of "cinderctl device": add and list parse their own options
 * (run); the others act on one device, "SUB DEV [options]", told by data.
 */
struct dev_subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *shortopts;
	const struct option *opts;
	const char *usage;
	/* After the options, before the module: 0 or a usage error's exit code. */
	int (*check)(struct dev_cmd *dc);
	kernel_op op;		/* on the struct dev_cmd; failures named by name */
};

static int run_dev_subcommand(const struct dev_subcommand *sub, int argc,
			      char **argv)
{
	struct dev_cmd dc = { .usage = sub->usage };
	int ret;

	if (!parse_dev_cmd(argc, argv, sub->opts, sub->shortopts, &dc, &ret))
		return ret;
	ret = sub->check ? sub->check(&dc) : 0;
	if (!ret)
		ret = run_on_kernel(sub->op, &dc, sub->name);
	free(dc.extents.v);
	return ret;
}

static int remove_op(struct cl_kernel *k, void *data, struct cl_error *err)
{
	const struct dev_cmd *dc = data;

	return cl_kernel_dev_remove(k, dc->index, dc->force, err);
}

static void print_dev_text(const struct cl_dev_info *info)
{
	char flags[96], human[32], backing[PATH_MAX];

	flags_text(info->flags, flags, sizeof(flags));
	human_size(info->size, human, sizeof(human));
	printf("device:        " DEV_DIR "%s\n", info->disk_name);
	printf("index:         %u\n", info->index);
	printf("volume id:     %s\n", info->volume_id[0] ? info->volume_id : "-");
	if (read_sysfs(info, "backing", backing, sizeof(backing)))
		printf("backing:       %s (%s)\n",
		       cl_backing_type_name(info->backing_type), backing);
	else
		printf("backing:       %s\n", cl_backing_type_name(info->backing_type));
	printf("size:          %" PRIu64 " bytes (%s)\n", info->size, human);
	printf("block size:    %u logical, %u physical\n",
	       info->logical_block_size, info->physical_block_size);
	printf("state:         %s\n", cl_dev_state_name(info->state));
	printf("flags:         %s\n", flags);
	printf("open count:    %u\n", info->open_count);
	if (info->nr_hw_queues || info->queue_depth)
		printf("queues:        %u x depth %u\n", info->nr_hw_queues,
		       info->queue_depth);
	if (info->io_timeout_ms)
		printf("I/O timeout:   %u ms\n", info->io_timeout_ms);
	if (info->backing_type == CL_BACKING_NBD) {
		printf("connections:   %u of %u\n", info->live_connections,
		       info->connections);
		printf("dead timeout:  %u ms\n", info->dead_timeout_ms);
	}
	if (info->has_stats) {
		const struct cl_dev_stats *s = &info->stats;

		printf("reads:         %" PRIu64 " (%" PRIu64 " bytes)\n",
		       s->read_ios, s->read_bytes);
		printf("writes:        %" PRIu64 " (%" PRIu64 " bytes)\n",
		       s->write_ios, s->write_bytes);
		printf("flushes:       %" PRIu64 "\n", s->flush_ios);
		printf("discards:      %" PRIu64 "\n", s->discard_ios);
		printf("write zeroes:  %" PRIu64 "\n", s->write_zeroes_ios);
		printf("errors:        %" PRIu64 "\n", s->errors);
		printf("in flight:     %" PRIu64 "\n", s->inflight);
		printf("timeouts:      %" PRIu64 "\n", s->timeouts);
		if (info->backing_type == CL_BACKING_NBD) {
			printf("link downs:    %" PRIu64 "\n", s->link_downs);
			printf("reconnects:    %" PRIu64 "\n", s->reconnects);
			printf("requeues:      %" PRIu64 "\n", s->requeues);
		}
	}
}

static int show_op(struct cl_kernel *k, void *data, struct cl_error *err)
{
	struct dev_cmd *dc = data;
	int ret;

	ret = cl_kernel_dev_get(k, dc->index, &dc->info, err);
	if (ret)
		return ret;
	if (dc->json || want_json || cli_globals.json)
		print_json(dev_json(&dc->info));
	else
		print_dev_text(&dc->info);
	return CLI_EXIT_OK;
}

struct dev_list {
	struct cl_dev_info *devs;
	size_t n;
};

static int list_op(struct cl_kernel *k, void *data, struct cl_error *err)
{
	struct dev_list *list = data;

	return cl_kernel_dev_list(k, &list->devs, &list->n, err);
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct dev_list list;
	struct cl_dev_info *devs;
	bool json = want_json || cli_globals.json;
	size_t n;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			printf("Usage: cinderctl device list [--json]\n"
			       "\n"
			       "List the cinderblk devices.\n");
			return CLI_EXIT_OK;
		default:
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	ret = run_on_kernel(list_op, &list, "list");
	if (ret)
		return ret;
	devs = list.devs;
	n = list.n;
	if (json) {
		struct json_object *arr = json_object_new_array();

		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, dev_json(&devs[i]));
		print_json(arr);
	} else if (n) {
		printf("%-12s %-36s %10s %-10s %4s %s\n", "DEVICE", "VOLUME-ID",
		       "SIZE", "STATE", "OPEN", "BACKING");
		for (size_t i = 0; i < n; i++) {
			char node[64], human[32], backing[PATH_MAX];

			snprintf(node, sizeof(node), DEV_DIR "%s",
				 devs[i].disk_name);
			human_size(devs[i].size, human, sizeof(human));
			if (!read_sysfs(&devs[i], "backing", backing,
					sizeof(backing)))
				snprintf(backing, sizeof(backing), "%s",
					 cl_backing_type_name(devs[i].backing_type));
			printf("%-12s %-36s %10s %-10s %4u %s\n", node,
			       devs[i].volume_id[0] ? devs[i].volume_id : "-",
			       human, cl_dev_state_name(devs[i].state),
			       devs[i].open_count, backing);
		}
	}
	free(devs);
	return CLI_EXIT_OK;
}

/* The backing path as the module shows it in sysfs ("[type:]/path"). */
static bool backing_path(const struct cl_dev_info *info, char *buf, size_t size)
{
	char raw[PATH_MAX];
	const char *slash;

	if (!read_sysfs(info, "backing", raw, sizeof(raw)))
		return false;
	slash = strchr(raw, '/');
	if (!slash)
		return false;
	snprintf(buf, size, "%s", slash);
	return true;
}

/* resize: to dc->new_size, or with --to-file to the size of the backing. */
static int resize_op(struct cl_kernel *k, void *data, struct cl_error *err)
{
	struct dev_cmd *dc = data;
	char path[PATH_MAX];
	int fd, ret;

	ret = cl_kernel_dev_get(k, dc->index, &dc->info, err);
	if (ret)
		return ret;
	if (dc->to_file) {
		if (dc->file) {
			snprintf(path, sizeof(path), "%s", dc->file);
		} else if (!backing_path(&dc->info, path, sizeof(path))) {
			cli_error("cannot find the backing file of %s: give --to-file=PATH",
				  dc->info.disk_name);
			return CLI_EXIT_FAILED;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("cannot open %s: %s", path, strerror(errno));
			return CLI_EXIT_FAILED;
		}
		ret = backing_size(fd, path, &dc->new_size);
		close(fd);
		if (ret)
			return ret;
		if (dc->info.logical_block_size)
			dc->new_size -= dc->new_size % dc->info.logical_block_size;
	}
	return cl_kernel_dev_resize(k, dc->index, dc->new_size, err);
}

static int resize_check(struct dev_cmd *dc)
{
	if (!!dc->size == dc->to_file) {
		cli_error("resize needs exactly one of --size and --to-file");
		return CLI_EXIT_USAGE;
	}
	if (dc->size && parse_size(dc->size, &dc->new_size)) {
		cli_error("bad size '%s'", dc->size);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

static int suspend_op(struct cl_kernel *k, void *data, struct cl_error *err)
{
	const struct dev_cmd *dc = data;

	return cl_kernel_dev_suspend(k, dc->index, dc->freeze, err);
}

static int resume_op(struct cl_kernel *k, void *data, struct cl_error *err)
{
	const struct dev_cmd *dc = data;

	return cl_kernel_dev_resume(k, dc->index, err);
}

/* reconfigure: dc->file (read-only if the device is) as the new backing. */
static int reconfigure_op(struct cl_kernel *k, void *data, struct cl_error *err)
{
	struct dev_cmd *dc = data;
	struct cl_dev_spec spec;
	int fd, ret;

	ret = cl_kernel_dev_get(k, dc->index, &dc->info, err);
	if (ret)
		return ret;
	ret = open_backing(dc->file, dc->info.flags & CL_DEV_READ_ONLY, &fd);
	if (ret)
		return ret;
	cl_dev_spec_init(&spec);
	spec.backing_fd = fd;
	if (dc->remap) {
		spec.backing_type = CL_BACKING_REMAP;
		spec.extents = dc->extents.v;
		spec.nr_extents = dc->extents.n;
	}
	ret = cl_kernel_dev_reconfigure_spec(k, dc->index, &spec, err);
	close(fd);
	return ret;
}

static int reconfigure_check(struct dev_cmd *dc)
{
	if (!dc->file) {
		cli_error("reconfigure needs --file PATH");
		return CLI_EXIT_USAGE;
	}
	if (dc->extents.n && !dc->remap) {
		cli_error("--extent needs --remap");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

#define HELP_OPTION { "help", no_argument, NULL, 'h' }

static const struct dev_subcommand subcommands[] = {
	{ .name = "add", .run = cmd_add },
	{
		.name = "remove", .shortopts = "Fh",
		.opts = (const struct option[]){
			{ "force", no_argument, NULL, 'F' }, HELP_OPTION, { 0 }
		},
		.usage = "Usage: cinderctl device remove DEV|INDEX [--force]\n"
			 "\n"
			 "Detach a device. Refused while the device is open unless\n"
			 "--force, which fails the I/O still in flight.\n",
		.op = remove_op,
	},
	{ .name = "list", .run = cmd_list },
	{
		.name = "show", .shortopts = "h",
		.opts = (const struct option[]){
			{ "json", no_argument, NULL, 'j' }, HELP_OPTION, { 0 }
		},
		.usage = "Usage: cinderctl device show DEV|INDEX [--json]\n"
			 "\n"
			 "Index, volume id, backing, size, state, flags, open count and\n"
			 "I/O statistics of a device.\n",
		.op = show_op,
	}, {
		.name = "resize", .shortopts = "s:h",
		.opts = (const struct option[]){
			{ "size", required_argument, NULL, 's' },
			{ "to-file", optional_argument, NULL, 't' },
			HELP_OPTION, { 0 }
		},
		.usage = "Usage: cinderctl device resize DEV|INDEX --size BYTES\n"
			 "       cinderctl device resize DEV|INDEX --to-file[=PATH]\n"
			 "\n"
			 "Change the capacity of a live device. BYTES takes K/M/G/T\n"
			 "suffixes (powers of 1024). --to-file uses the current size of\n"
			 "the backing file (or of PATH), rounded down to the block size.\n",
		.check = resize_check,
		.op = resize_op,
	}, {
		.name = "suspend", .shortopts = "h",
		.opts = (const struct option[]){
			{ "freeze", no_argument, NULL, 'z' }, HELP_OPTION, { 0 }
		},
		.usage = "Usage: cinderctl device suspend DEV|INDEX [--freeze]\n"
			 "\n"
			 "Drain and flush in-flight I/O and hold new I/O until resume.\n"
			 "--freeze also freezes a file system mounted on the device.\n",
		.op = suspend_op,
	}, {
		.name = "resume", .shortopts = "h",
		.opts = (const struct option[]){ HELP_OPTION, { 0 } },
		.usage = "Usage: cinderctl device resume DEV|INDEX\n"
			 "\n"
			 "Release the I/O held by suspend.\n",
		.op = resume_op,
	}, {
		.name = "reconfigure", .shortopts = "f:me:h",
		.opts = (const struct option[]){
			{ "file", required_argument, NULL, 'f' },
			{ "remap", no_argument, NULL, 'm' },
			{ "extent", required_argument, NULL, 'e' },
			HELP_OPTION, { 0 }
		},
		.usage = "Usage: cinderctl device reconfigure DEV|INDEX --file PATH\n"
			 "       cinderctl device reconfigure DEV|INDEX --remap --file BLOCKDEV\n"
			 "                                    [--extent START:LEN:LOWER]...\n"
			 "\n"
			 "Give a suspended device a new backing, then resume it with\n"
			 "'cinderctl device resume'. A remap device takes a new extent\n"
			 "table this way, and with it its new size (without --extent: the\n"
			 "same size, one extent at offset 0 of BLOCKDEV).\n",
		.check = reconfigure_check,
		.op = reconfigure_op,
	},
};

static int run_device(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	/* Options before the subcommand ("+": stop at it). */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			want_json = true;
			break;
		case 'h':
			usage_device(stdout);
			return CLI_EXIT_OK;
		default:
			usage_device(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage_device(stderr);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		const struct dev_subcommand *sub = &subcommands[i];
		int first = optind;

		if (strcmp(argv[first], sub->name) != 0)
			continue;
		optind = 0;
		if (sub->run)
			return sub->run(argc - first, argv + first);
		return run_dev_subcommand(sub, argc - first, argv + first);
	}
	cli_error("unknown device subcommand '%s' (see cinderctl device --help)",
		  argv[optind]);
	return CLI_EXIT_USAGE;
}

static const struct cli_command device_command = {
	"device", "attach files as /dev/cbdN and control cinderblk devices",
	run_device
};
CLI_COMMAND(device_command);
