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
