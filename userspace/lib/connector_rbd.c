// SPDX-License-Identifier: Apache-2.0
/*
 * The "rbd" connector: an RBD connection_info (Cinder's form: name
 * "pool/image", hosts, ports, auth_username, keyring) mapped with the
 * kernel's own RBD client, as `rbd map` does: one line written to
 * /sys/bus/rbd/add_single_major with the monitors and the key, no rbd
 * tool. The cbd device remaps its I/O onto the mapped /dev/rbdN, so an
 * RBD volume has what every attached volume has (udev names, suspend for
 * snapshots, live extend, read-only mode). Detach removes the cbd device,
 * then unmaps.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cinderlib/kernel.h"
#include "cl_internal.h"

#define RBD_SYSFS "/sys/bus/rbd"
#define RBD_NAME_MAX 256
#define KEYRING_MAX (64 * 1024)
#define UNMAP_WAIT_MS 3000

struct rbd_target {
	char pool[RBD_NAME_MAX];
	char image[RBD_NAME_MAX];
	char user[RBD_NAME_MAX];
	char cluster[RBD_NAME_MAX];
};

/* Pool, image, user and cluster names go into one space-separated line. */
static bool plain_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || *s == ',' || *s == '=' ||
		    *s == '/' || !isprint((unsigned char)*s))
			return false;
	return true;
}

static int parse_target(const struct cl_dict *data, struct rbd_target *t,
			struct cl_error *err)
{
	const char *name = cl_dict_get(data, "name");
	const char *user = cl_dict_get(data, "auth_username");
	const char *cluster = cl_dict_get(data, "cluster_name");
	const char *slash = name ? strchr(name, '/') : NULL;

	if (!slash || (size_t)(slash - name) >= sizeof(t->pool) ||
	    strlen(slash + 1) >= sizeof(t->image))
		return cl_error_set(err, -EINVAL,
				    "rbd connection_info: name '%s' is not POOL/IMAGE",
				    name ? name : "");
	snprintf(t->pool, sizeof(t->pool), "%.*s", (int)(slash - name), name);
	snprintf(t->image, sizeof(t->image), "%s", slash + 1);
	snprintf(t->user, sizeof(t->user), "%s",
		 user && *user ? user : "admin");
	snprintf(t->cluster, sizeof(t->cluster), "%s",
		 cluster && *cluster ? cluster : "ceph");
	if (!plain_name(t->pool) || !plain_name(t->image) ||
	    !plain_name(t->user) || !plain_name(t->cluster))
		return cl_error_set(err, -EINVAL,
				    "rbd connection_info: bad pool, image, user or cluster name in '%s'",
				    name);
	return 0;
}

/* A JSON array of strings (Cinder's form) or a comma-separated list. */
static int list_item(const char *list, size_t i, char *out, size_t len)
{
	struct json_object *arr, *v;
	const char *p = list;
	int ret = -ENOENT;

	if (!list)
		return -ENOENT;
	if (list[0] == '[') {
		arr = json_tokener_parse(list);
		if (arr && json_object_is_type(arr, json_type_array) &&
		    i < json_object_array_length(arr)) {
			v = json_object_array_get_idx(arr, i);
			if (v && (size_t)snprintf(out, len, "%s",
					json_object_get_string(v)) < len)
				ret = 0;
		}
		json_object_put(arr);
		return ret;
	}
	for (size_t n = 0; n < i && p; n++) {
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	if (!p || !*p)
		return -ENOENT;
	snprintf(out, len, "%.*s", (int)strcspn(p, ","), p);
	return 0;
}

/* "h1:p1,[h2]:p2": the monitors of hosts and ports. */
static int monitor_list(const struct cl_dict *data, char *out, size_t len,
			struct cl_error *err)
{
	const char *hosts = cl_dict_get(data, "hosts");
	const char *ports = cl_dict_get(data, "ports");
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0;; i++) {
		char host[RBD_NAME_MAX], port[16];
		bool v6;
		int n;

		if (list_item(hosts, i, host, sizeof(host)))
			break;
		if (list_item(ports, i, port, sizeof(port)))
			snprintf(port, sizeof(port), "6789");
		v6 = strchr(host, ':') != NULL;
		if (!plain_name(v6 ? "x" : host) || strspn(port, "0123456789") !=
		    strlen(port))
			return cl_error_set(err, -EINVAL,
					    "rbd connection_info: bad monitor %s:%s",
					    host, port);
		n = snprintf(out + used, len - used, "%s%s%s%s:%s",
			     used ? "," : "", v6 ? "[" : "", host, v6 ? "]" : "",
			     port);
		if (n < 0 || (size_t)n >= len - used)
			return cl_error_set(err, -E2BIG,
					    "rbd connection_info: too many monitors");
		used += (size_t)n;
	}
	if (!used)
		return cl_error_set(err, -EINVAL,
				    "rbd connection_info has no monitor hosts");
	return 0;
}

static bool base64_char(int c)
{
	return isalnum(c) || c == '+' || c == '/' || c == '=';
}

/* The key of [client.USER] in keyring text @text. */
static int keyring_key(const char *text, const char *user, char *key,
		       size_t len)
{
	char section[RBD_NAME_MAX + 16];
	bool in = false;
	const char *line = text;

	snprintf(section, sizeof(section), "[client.%s]", user);
	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		const char *p = line;

		while (n && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		if (n && *p == '[') {
			in = n >= strlen(section) &&
			     strncmp(p, section, strlen(section)) == 0;
		} else if (in && n > 3 && strncmp(p, "key", 3) == 0) {
			const char *v = p + 3;
			size_t k = 0;

			while (*v == ' ' || *v == '\t')
				v++;
			if (*v++ != '=')
				goto next;
			while (*v == ' ' || *v == '\t')
				v++;
			while (base64_char((unsigned char)v[k]) && k + 1 < len)
				k++;
			if (k == 0)
				goto next;
			memcpy(key, v, k);
			key[k] = '\0';
			return 0;
		}
next:
		line = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

static char *read_small_file(const char *path)
{
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = calloc(1, KEYRING_MAX + 1);
	n = buf ? read(fd, buf, KEYRING_MAX) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The user's key: from the connection_info's keyring (the backend's
 * rbd_keyring_conf), else from this host's keyrings where Ceph looks.
 * 1 when there is none (a cluster without cephx).
 */
static int find_key(const struct cl_dict *data, const struct rbd_target *t,
		    char *key, size_t len, struct cl_error *err)
{
	const char *text = cl_dict_get(data, "keyring");
	char paths[3][2 * RBD_NAME_MAX + 32];

	if (text && *text) {
		if (keyring_key(text, t->user, key, len) == 0)
			return 0;
		return cl_error_set(err, -ENOKEY,
				    "the keyring in the rbd connection_info has no key for client.%s",
				    t->user);
	}
	snprintf(paths[0], sizeof(paths[0]), "/etc/ceph/%s.client.%s.keyring",
		 t->cluster, t->user);
	snprintf(paths[1], sizeof(paths[1]), "/etc/ceph/%s.keyring",
		 t->cluster);
	snprintf(paths[2], sizeof(paths[2]), "/etc/ceph/keyring");
	for (size_t i = 0; i < 3; i++) {
		char *file = read_small_file(paths[i]);
		int ret = file ? keyring_key(file, t->user, key, len) : -ENOENT;

		free(file);
		if (ret == 0)
			return 0;
	}
	return 1;
}

static int read_attr(int id, const char *attr, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), RBD_SYSFS "/devices/%d/%s", id, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

/*
 * Ids of the mappings of @t's image itself (not of a snapshot), up to
 * @max; their number.
 */
static size_t find_mappings(const struct rbd_target *t, int *ids, size_t max)
{
	DIR *d = opendir(RBD_SYSFS "/devices");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char pool[RBD_NAME_MAX], image[RBD_NAME_MAX], snap[RBD_NAME_MAX];
		char *end;
		long id = strtol(e->d_name, &end, 10);

		if (*end || end == e->d_name || id < 0 ||
		    read_attr((int)id, "pool", pool, sizeof(pool)) ||
		    read_attr((int)id, "name", image, sizeof(image)) ||
		    read_attr((int)id, "current_snap", snap, sizeof(snap)))
			continue;
		if (strcmp(pool, t->pool) == 0 &&
		    strcmp(image, t->image) == 0 && strcmp(snap, "-") == 0)
			ids[n++] = (int)id;
	}
	closedir(d);
	return n;
}

static int write_bus(const char *what, const char *line)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), RBD_SYSFS "/%s_single_major", what);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), RBD_SYSFS "/%s", what);
		fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	n = write(fd, line, strlen(line));
	close(fd);
	if (n < 0)
		return -errno;
	return (size_t)n == strlen(line) ? 0 : -EIO;
}

static bool is_in(int id, const int *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

#define MAX_MAPPINGS 64

/* Map @t; *@id is the new mapping. */
static int map_image(const struct cl_attach_request *req,
		     const struct rbd_target *t, int *id, struct cl_error *err)
{
	int before[MAX_MAPPINGS], after[MAX_MAPPINGS];
	size_t nb, na;
	char mons[1024], key[256], line[2048];
	int ret;

	if (access(RBD_SYSFS, F_OK) != 0)
		return cl_error_set(err, -ENOENT,
				    "the kernel's rbd module is not loaded: run modprobe rbd");
	ret = monitor_list(req->data, mons, sizeof(mons), err);
	if (ret)
		return ret;
	ret = find_key(req->data, t, key, sizeof(key), err);
	if (ret < 0)
		return ret;
	snprintf(line, sizeof(line), "%s name=%s%s%s%s %s %s", mons, t->user,
		 ret == 0 ? ",secret=" : "", ret == 0 ? key : "",
		 req->read_only ? ",read_only" : "", t->pool, t->image);
	memset(key, 0, sizeof(key));
	nb = find_mappings(t, before, MAX_MAPPINGS);
	ret = write_bus("add", line);
	memset(line, 0, sizeof(line));
	if (ret)
		return cl_error_set(err, ret,
				    "cannot map RBD image %s/%s from %s as client.%s: %s%s",
				    t->pool, t->image, mons, t->user,
				    strerror(-ret),
				    ret == -EACCES || ret == -EPERM ?
				    " (check the user's key and caps)" :
				    ret == -ETIMEDOUT ?
				    " (are the monitors reachable from this host?)" :
				    "");
	na = find_mappings(t, after, MAX_MAPPINGS);
	for (size_t i = 0; i < na; i++) {
		if (!is_in(after[i], before, nb)) {
			*id = after[i];
			return 0;
		}
	}
	return cl_error_set(err, -EIO,
			    "RBD image %s/%s was mapped, but its device is not in " RBD_SYSFS "/devices",
			    t->pool, t->image);
}

static int unmap_id(int id)
{
	char line[32];

	snprintf(line, sizeof(line), "%d", id);
	return write_bus("remove", line);
}

static int connect_rbd(struct cl_kernel *k, const struct cl_attach_request *req,
		       struct cl_dev_info *out, struct cl_error *err)
{
	struct rbd_target t;
	char dev[64];
	int id = -1, ret;

	ret = parse_target(req->data, &t, err);
	if (!ret)
		ret = map_image(req, &t, &id, err);
	if (ret)
		return ret;
	snprintf(dev, sizeof(dev), "/dev/rbd%d", id);
	cl_wait_for_node(dev);
	ret = cl_connect_path(k, req, dev, true, CL_BACKING_REMAP, out, err);
	if (ret)
		unmap_id(id);
	return ret;
}

/* The mapped device, its size read again from the image (after a resize). */
static int local_rbd_device(const struct cl_dict *data, char *path,
			    size_t len, struct cl_error *err)
{
	struct rbd_target t;
	char attr[64];
	int id = -1, fd, ret;

	ret = parse_target(data, &t, err);
	if (ret)
		return ret;
	if (find_mappings(&t, &id, 1) != 1)
		return cl_error_set(err, -ENODEV,
				    "RBD image %s/%s is not mapped on this host",
				    t.pool, t.image);
	/* The header watch may not have told the kernel of a resize yet. */
	snprintf(attr, sizeof(attr), RBD_SYSFS "/devices/%d/refresh", id);
	fd = open(attr, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			ret = cl_error_set(err, -errno,
					   "cannot refresh /dev/rbd%d: %s", id,
					   strerror(errno));
		close(fd);
	}
	if (!ret)
		snprintf(path, len, "/dev/rbd%d", id);
	return ret;
}

/*
 * Unmap the image's mappings on this host that nothing holds open: ours,
 * now that its cbd device is gone (a mapping someone else uses says EBUSY
 * and stays).
 */
static int disconnect_rbd(const struct cl_dict *data, struct cl_error *err)
{
	int ids[MAX_MAPPINGS];
	struct rbd_target t;
	size_t n;
	int ret = parse_target(data, &t, err);

	if (ret)
		return ret;
	n = find_mappings(&t, ids, MAX_MAPPINGS);
	for (size_t i = 0; i < n; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		int one = unmap_id(ids[i]);

		/*
		 * The cbd device just removed may still be letting go of it
		 * (seen under load): a little patience before calling it
		 * someone else's.
		 */
		for (int tries = 0; one == -EBUSY && tries < UNMAP_WAIT_MS / 50;
		     tries++) {
			nanosleep(&ts, NULL);
			one = unmap_id(ids[i]);
		}

		if (one && one != -EBUSY && one != -ENOENT && !ret)
			ret = cl_error_set(err, one,
					   "cannot unmap /dev/rbd%d (%s/%s): %s",
					   ids[i], t.pool, t.image,
					   strerror(-one));
	}
	return ret;
}

const struct cl_connector_type cl_connector_rbd = {
	.name = "rbd",
	.connect_volume = connect_rbd,
	.local_device = local_rbd_device,
	.disconnect_volume = disconnect_rbd,
};
