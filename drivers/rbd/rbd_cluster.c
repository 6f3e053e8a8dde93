// SPDX-License-Identifier: Apache-2.0
/*
 * The cluster side of the rbd driver: connecting with Cinder's timeout and
 * retry options, and the monitor commands behind stats and connection_info
 * (the figures `ceph df` and `ceph osd pool get-quota` show, and the
 * monitor map), read as JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "rbd.h"

/* librados' timeouts, all bounded by rados_connect_timeout when it is set. */
static const char *const timeout_settings[] = {
	"client_mount_timeout",
	"rados_mon_op_timeout",
	"rados_osd_op_timeout",
};

static void sleep_seconds(int s)
{
	struct timespec ts = { .tv_sec = s };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int configure(rados_t cluster, const struct rbd_connect_options *o,
		     struct cl_error *err)
{
	char seconds[16];
	int ret;

	ret = rados_conf_read_file(cluster, o->conf_file[0] ? o->conf_file :
				   NULL);
	if (ret < 0 && (o->conf_file[0] || ret != -ENOENT))
		return cl_error_set(err, ret,
				    "cannot read the Ceph configuration %s: %s",
				    o->conf_file[0] ? o->conf_file :
				    "(the default ceph.conf)", strerror(-ret));
	if (o->keyring[0]) {
		ret = rados_conf_set(cluster, "keyring", o->keyring);
		if (ret < 0)
			return cl_error_set(err, ret,
					    "rbd_keyring_conf %s: %s",
					    o->keyring, strerror(-ret));
	}
	if (o->timeout_s <= 0)
		return 0;
	snprintf(seconds, sizeof(seconds), "%d", o->timeout_s);
	for (size_t i = 0; i < sizeof(timeout_settings) /
			       sizeof(timeout_settings[0]); i++) {
		ret = rados_conf_set(cluster, timeout_settings[i], seconds);
		if (ret < 0)
			return cl_error_set(err, ret, "cannot set %s: %s",
					    timeout_settings[i],
					    strerror(-ret));
	}
	return 0;
}

/* A refused key or a bad configuration does not get better by retrying. */
static bool worth_retrying(int ret)
{
	return ret != -EACCES && ret != -EPERM && ret != -EINVAL &&
	       ret != -ENOENT;
}

static int connect_error(rados_t cluster, const struct rbd_connect_options *o,
			 int ret, int attempts, struct cl_error *err)
{
	char mons[256] = "";
	const char *hint = "";

	if (rados_conf_get(cluster, "mon_host", mons, sizeof(mons)) < 0 ||
	    !mons[0])
		snprintf(mons, sizeof(mons), "(none configured)");
	if (ret == -EACCES || ret == -EPERM)
		hint = ": check rbd_user and its key (rbd_keyring_conf)";
	else if (ret == -ETIMEDOUT)
		hint = ": is the cluster up and its monitors reachable?";
	else if (ret == -ENOENT)
		hint = ": no keyring found (set rbd_keyring_conf)";
	return cl_error_set(err, ret,
			    "cannot connect to Ceph cluster '%s' as client.%s (monitors %s) after %d attempt%s: %s%s",
			    o->cluster_name, o->user[0] ? o->user : "admin",
			    mons, attempts, attempts == 1 ? "" : "s",
			    strerror(-ret), hint);
}

int rbd_cluster_connect(struct rbd_backend *rb,
			const struct rbd_connect_options *o,
			struct cl_error *err)
{
	int attempts = o->attempts > 0 ? o->attempts : 1;
	char name[256];
	int ret = 0;

	snprintf(name, sizeof(name), "client.%s", o->user[0] ? o->user :
		 "admin");
	for (int i = 1; i <= attempts; i++) {
		rados_t cluster;

		ret = rados_create2(&cluster, o->cluster_name, name, 0);
		if (ret < 0)
			return cl_error_set(err, ret,
					    "cannot create a Ceph client for cluster '%s': %s",
					    o->cluster_name, strerror(-ret));
		ret = configure(cluster, o, err);
		if (ret) {
			rados_shutdown(cluster);
			return ret;
		}
		ret = rados_connect(cluster);
		if (ret == 0) {
			rb->cluster = cluster;
			break;
		}
		if (i == attempts || !worth_retrying(ret)) {
			ret = connect_error(cluster, o, ret, i, err);
			rados_shutdown(cluster);
			return ret;
		}
		rados_shutdown(cluster);
		sleep_seconds(o->interval_s);
	}
	ret = rados_ioctx_create(rb->cluster, rb->pool, &rb->io);
	if (ret < 0) {
		rados_shutdown(rb->cluster);
		rb->cluster = NULL;
		if (ret == -ENOENT)
			return cl_error_set(err, ret,
					    "Ceph pool '%s' does not exist (rbd_pool)",
					    rb->pool);
		return cl_error_set(err, ret, "cannot open Ceph pool '%s': %s",
				    rb->pool, strerror(-ret));
	}
	/*
	 * Writes to a full pool fail at once (EDQUOT, ENOSPC) instead of
	 * waiting in the client for space that may never come.
	 */
	rados_set_pool_full_try(rb->io);
	return 0;
}

void rbd_cluster_disconnect(struct rbd_backend *rb)
{
	if (rb->io)
		rados_ioctx_destroy(rb->io);
	if (rb->cluster)
		rados_shutdown(rb->cluster);
	rb->io = NULL;
	rb->cluster = NULL;
}

/* Run monitor command @json (a JSON object) and parse its JSON answer. */
static int mon_command(struct rbd_backend *rb, const char *json,
		       struct json_object **out, struct cl_error *err)
{
	char *outbuf = NULL, *outs = NULL;
	size_t outlen = 0, outslen = 0;
	const char *cmd[] = { json };
	int ret;

	*out = NULL;
	ret = rados_mon_command(rb->cluster, cmd, 1, "", 0, &outbuf, &outlen,
				&outs, &outslen);
	if (ret < 0) {
		ret = cl_error_set(err, ret, "Ceph monitor command %s: %s%s%.*s",
				   json, strerror(-ret), outslen ? ": " : "",
				   (int)outslen, outs ? outs : "");
	} else {
		*out = json_tokener_parse(outbuf ? outbuf : "");
		if (!*out)
			ret = cl_error_set(err, -EPROTO,
					   "Ceph monitor command %s: the answer is not JSON",
					   json);
	}
	rados_buffer_free(outbuf);
	rados_buffer_free(outs);
	return ret;
}

static uint64_t get_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return (uint64_t)json_object_get_int64(v);
}

static struct json_object *pool_stats(struct json_object *df, const char *pool)
{
	struct json_object *pools, *p, *name, *stats;

	if (!json_object_object_get_ex(df, "pools", &pools) ||
	    !json_object_is_type(pools, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(pools); i++) {
		p = json_object_array_get_idx(pools, i);
		if (json_object_object_get_ex(p, "name", &name) &&
		    strcmp(json_object_get_string(name), pool) == 0 &&
		    json_object_object_get_ex(p, "stats", &stats))
			return stats;
	}
	return NULL;
}

int rbd_pool_usage(struct rbd_backend *rb, struct rbd_pool_usage *out,
		   struct cl_error *err)
{
	struct json_object *df = NULL, *quota = NULL, *stats;
	char cmd[512];
	uint64_t avail, max_bytes;
	int ret;

	ret = mon_command(rb, "{\"prefix\": \"df\", \"format\": \"json\"}",
			  &df, err);
	if (ret)
		return ret;
	stats = pool_stats(df, rb->pool);
	if (!stats) {
		json_object_put(df);
		return cl_error_set(err, -ENOENT,
				    "Ceph pool '%s' is not in the cluster's df report",
				    rb->pool);
	}
	out->used = get_u64(stats, "bytes_used");
	avail = get_u64(stats, "max_avail");
	json_object_put(df);
	snprintf(cmd, sizeof(cmd),
		 "{\"prefix\": \"osd pool get-quota\", \"pool\": \"%s\", \"format\": \"json\"}",
		 rb->pool);
	ret = mon_command(rb, cmd, &quota, err);
	if (ret)
		return ret;
	max_bytes = get_u64(quota, "quota_max_bytes");
	json_object_put(quota);
	/* As Cinder: a quota is the pool's size; else what is used and free. */
	if (max_bytes) {
		out->total = max_bytes;
		out->free = max_bytes > out->used ? max_bytes - out->used : 0;
		if (out->free > avail)
			out->free = avail;
	} else {
		out->total = out->used + avail;
		out->free = avail;
	}
	return 0;
}

/* "127.0.0.1:6789/0" or "[::1]:6789/0" -> host and port. */
static int split_addr(const char *addr, char *host, size_t hlen, char *port,
		      size_t plen)
{
	const char *colon = strrchr(addr, ':');
	const char *slash;
	size_t n;

	if (!colon)
		return -EINVAL;
	n = (size_t)(colon - addr);
	if (addr[0] == '[' && n >= 2 && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n == 0 || n >= hlen)
		return -EINVAL;
	memcpy(host, addr, n);
	host[n] = '\0';
	slash = strchr(colon, '/');
	n = slash ? (size_t)(slash - colon - 1) : strlen(colon + 1);
	if (n == 0 || n >= plen)
		return -EINVAL;
	memcpy(port, colon + 1, n);
	port[n] = '\0';
	return 0;
}

int rbd_monitor_addresses(struct rbd_backend *rb, char **hosts, char **ports,
			  struct cl_error *err)
{
	struct json_object *map = NULL, *mons, *addr;
	struct json_object *h = json_object_new_array();
	struct json_object *p = json_object_new_array();
	int ret;

	*hosts = *ports = NULL;
	ret = mon_command(rb, "{\"prefix\": \"mon dump\", \"format\": \"json\"}",
			  &map, err);
	if (ret)
		goto out;
	if (!h || !p || !json_object_object_get_ex(map, "mons", &mons) ||
	    !json_object_is_type(mons, json_type_array)) {
		ret = cl_error_set(err, -EPROTO,
				   "the Ceph monitor map has no monitors");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(mons); i++) {
		char host[256], port[16];

		/* "addr" is the legacy one: the kernel client's default. */
		if (!json_object_object_get_ex(json_object_array_get_idx(mons, i),
					       "addr", &addr) ||
		    split_addr(json_object_get_string(addr), host, sizeof(host),
			       port, sizeof(port)))
			continue;
		json_object_array_add(h, json_object_new_string(host));
		json_object_array_add(p, json_object_new_string(port));
	}
	if (json_object_array_length(h) == 0) {
		ret = cl_error_set(err, -EPROTO,
				   "no Ceph monitor has a legacy (v1) address: the kernel client needs one");
		goto out;
	}
	*hosts = strdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	*ports = strdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
	if (!*hosts || !*ports) {
		free(*hosts);
		free(*ports);
		*hosts = *ports = NULL;
		ret = cl_error_set(err, -ENOMEM, "out of memory");
	}
out:
	json_object_put(map);
	json_object_put(h);
	json_object_put(p);
	return ret;
}
