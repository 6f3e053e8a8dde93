// SPDX-License-Identifier: Apache-2.0
/*
 * Connectors (the os-brick part): this host's connector properties, and the
 * table of connection types that can be turned into a local cinderblk
 * device. A transport is one entry here and a file of its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <json-c/json.h>

#include "cl_internal.h"

static const struct cl_connector_type *const connector_types[] = {
	&cl_connector_file,
	&cl_connector_block,
	&cl_connector_nbd,
	&cl_connector_rbd,
};

const struct cl_connector_type *cl_connector_find(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < sizeof(connector_types) /
			       sizeof(connector_types[0]); i++)
		if (strcmp(connector_types[i]->name, type) == 0)
			return connector_types[i];
	return NULL;
}

bool cl_connector_supported(const char *driver_volume_type)
{
	return cl_connector_find(driver_volume_type) != NULL;
}

/* Append @addr to the comma-separated list @ips (malloc'd). */
static int add_ip(char **ips, const char *addr)
{
	char *more;

	if (asprintf(&more, "%s%s%s", *ips ? *ips : "", *ips ? "," : "",
		     addr) < 0)
		return -ENOMEM;
	free(*ips);
	*ips = more;
	return 0;
}

/* Addresses of the interfaces that are up, loopback excluded. */
static int local_ips(char **first, char **all)
{
	struct ifaddrs *ifs, *i;
	char buf[INET6_ADDRSTRLEN];
	int ret = 0;

	*first = *all = NULL;
	if (getifaddrs(&ifs) < 0)
		return 0;	/* no addresses known: the defaults apply */
	for (int pass = 0; pass < 2 && !ret; pass++) {
		/* IPv4 first: that is what "ip" usually means. */
		int family = pass == 0 ? AF_INET : AF_INET6;

		for (i = ifs; i && !ret; i = i->ifa_next) {
			const void *a;

			if (!i->ifa_addr || i->ifa_addr->sa_family != family ||
			    (i->ifa_flags & IFF_LOOPBACK) ||
			    !(i->ifa_flags & IFF_UP))
				continue;
			if (family == AF_INET)
				a = &((struct sockaddr_in *)i->ifa_addr)->sin_addr;
			else
				a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
			if (!inet_ntop(family, a, buf, sizeof(buf)))
				continue;
			if (!*first && !(*first = strdup(buf)))
				ret = -ENOMEM;
			if (!ret)
				ret = add_ip(all, buf);
		}
	}
	freeifaddrs(ifs);
	return ret;
}

int cl_local_connector(struct cl_context *ctx, struct cl_dict *out,
		       struct cl_error *err)
{
	char *ip = NULL, *ips = NULL;
	struct utsname uts;
	int ret;

	cl_dict_clear(out);
	ret = local_ips(&ip, &ips);
	if (!ret && uname(&uts) < 0)
		strcpy(uts.machine, "unknown");
	if (!ret)
		ret = cl_dict_set(out, "host", ctx->host);
	if (!ret)
		ret = cl_dict_set(out, "ip", ip ? ip : "127.0.0.1");
	if (!ret)
		ret = cl_dict_set(out, "ips", ips ? ips : "127.0.0.1");
	if (!ret)
		ret = cl_dict_set(out, "os_type", "linux");
	if (!ret)
		ret = cl_dict_set(out, "platform", uts.machine);
	if (!ret)
		ret = cl_dict_set(out, "multipath", "false");
	if (!ret)
		ret = cl_dict_set(out, "do_local_attach", "true");
	free(ip);
	free(ips);
	if (ret) {
		cl_dict_clear(out);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * Published connectors: a node that attaches volumes made by another host
 * (a controller) puts its connector properties in the shared store, where
 * the controller finds them by host name (cinderlib's flow, with the
 * store's key/value pairs as the channel).
 */
static int published_key(const char *host, char **key, struct cl_error *err)
{
	if (!host || !host[0] || strchr(host, '/'))
		return cl_error_set(err, -EINVAL,
				    "'%s' is not a host name", host ? host : "");
	if (asprintf(key, "%s%s", CL_CONNECTOR_KEY_PREFIX, host) < 0)
		return cl_error_set(err, -ENOMEM, "out of memory");
	return 0;
}

int cl_connector_publish(struct cl_context *ctx, const struct cl_dict *extra,
			 struct cl_dict *out, struct cl_error *err)
{
	struct cl_dict props = { 0 };
	char *key = NULL, *json = NULL;
	int ret;

	ret = cl_local_connector(ctx, &props, err);
	if (!ret && cl_dict_update(&props, extra))
		ret = cl_error_set(err, -ENOMEM, "out of memory");
	if (!ret && strcmp(cl_dict_get(&props, "host"), ctx->host) != 0)
		ret = cl_error_set(err, -EINVAL,
				   "a host publishes its own connector: host is %s here, not %s",
				   ctx->host, cl_dict_get(&props, "host"));
	if (!ret)
		ret = published_key(ctx->host, &key, err);
	if (!ret)
		ret = cl_jobj_to_string(cl_dict_to_jobj(&props), false, &json,
					err);
	if (!ret)
		ret = cl_kv_set(ctx, key, json, err);
	if (!ret && out) {
		cl_dict_clear(out);
		*out = props;
		props = (struct cl_dict){ 0 };
	}
	cl_dict_clear(&props);
	free(key);
	free(json);
	return ret;
}

int cl_connector_published(struct cl_context *ctx, const char *host,
			   struct cl_dict *out, struct cl_error *err)
{
	struct json_object *o = NULL;
	char *key = NULL, *json = NULL;
	int ret;

	cl_dict_clear(out);
	ret = published_key(host, &key, err);
	if (!ret) {
		ret = cl_kv_get(ctx, key, &json, err);
		if (ret == -ENOENT)
			cl_error_set(err, -ENOENT,
				     "host %s has published no connector: run 'cinderctl connector publish' there",
				     host);
	}
	if (!ret) {
		o = json_tokener_parse(json);
		ret = o ? cl_dict_from_jobj(o, out, key, err) :
			  cl_error_set(err, -EINVAL,
				       "the store's %s is not JSON: publish it again",
				       key);
	}
	if (!ret && (!cl_dict_get(out, "host") ||
		     strcmp(cl_dict_get(out, "host"), host) != 0))
		ret = cl_error_set(err, -EINVAL,
				   "the store's %s names another host: publish it again",
				   key);
	if (ret)
		cl_dict_clear(out);
	json_object_put(o);
	free(key);
	free(json);
	return ret;
}

int cl_connector_unpublish(struct cl_context *ctx, const char *host,
			   struct cl_error *err)
{
	char *key = NULL;
	int ret = published_key(host ? host : ctx->host, &key, err);

	if (!ret)
		ret = cl_kv_delete(ctx, key, err);
	free(key);
	return ret;
}
