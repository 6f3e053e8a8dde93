// SPDX-License-Identifier: Apache-2.0
/*
 * nbdkit filter "ipallow": a connection whose peer is not one of the
 * addresses of allow=ADDR[,ADDR...] is closed before the handshake.
 * cinderlib exports a volume to the addresses of one connector with it.
 * nbdkit's own ip filter would do, but the one of Debian 12 (nbdkit
 * 1.32.5) cannot parse an address ("cannot parse address"). Peers that
 * are not TCP (a Unix socket) are refused too: exports listen on TCP.
 * IPv4 peers reaching an IPv6 socket (::ffff:a.b.c.d) match their IPv4
 * address.
 *
 * nbdkit gives filters no ABI guarantee across its versions: this file is
 * built against the nbdkit it runs with.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-filter.h>

#define MAX_ALLOWED 16

struct allowed {
	int family;
	unsigned char addr[16];
};

static struct allowed allowed[MAX_ALLOWED];
static int nr_allowed;

static int add_address(const char *s)
{
	struct allowed *a;

	if (nr_allowed == MAX_ALLOWED) {
		nbdkit_error("allow: more than %d addresses", MAX_ALLOWED);
		return -1;
	}
	a = &allowed[nr_allowed];
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = AF_INET;
	} else if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = AF_INET6;
	} else {
		nbdkit_error("allow: '%s' is not an IPv4 or IPv6 address", s);
		return -1;
	}
	nr_allowed++;
	return 0;
}

static int ipallow_config(nbdkit_next_config *next, nbdkit_backend *nxdata,
			  const char *key, const char *value)
{
	char *copy, *tok, *save;
	int ret = 0;

	if (strcmp(key, "allow") != 0)
		return next(nxdata, key, value);
	copy = strdup(value);
	if (!copy) {
		nbdkit_error("allow: out of memory");
		return -1;
	}
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save))
		ret = add_address(tok);
	free(copy);
	return ret;
}

static int ipallow_config_complete(nbdkit_next_config_complete *next,
				   nbdkit_backend *nxdata)
{
	if (!nr_allowed) {
		nbdkit_error("ipallow: allow=ADDR[,ADDR...] is required");
		return -1;
	}
	return next(nxdata);
}

static bool match(int family, const void *addr)
{
	size_t len = family == AF_INET ? 4 : 16;

	for (int i = 0; i < nr_allowed; i++)
		if (allowed[i].family == family &&
		    memcmp(allowed[i].addr, addr, len) == 0)
			return true;
	return false;
}

static int ipallow_preconnect(nbdkit_next_preconnect *next,
			      nbdkit_backend *nxdata, int readonly)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char text[INET6_ADDRSTRLEN] = "?";
	bool ok = false;

	if (nbdkit_peer_name((struct sockaddr *)&ss, &len) == -1)
		return -1;	/* nbdkit said why */
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)&ss;

		ok = match(AF_INET, &in4->sin_addr);
		inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			ok = match(AF_INET, &in6->sin6_addr.s6_addr[12]);
		else
			ok = match(AF_INET6, &in6->sin6_addr);
		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
	}
	if (!ok) {
		nbdkit_error("ipallow: connection from %s refused: not an address of this export's host",
			     text);
		return -1;
	}
	return next(nxdata, readonly);
}

static struct nbdkit_filter filter = {
	.name = "ipallow",
	.longname = "cinderlib ipallow filter",
	.config = ipallow_config,
	.config_complete = ipallow_config_complete,
	.config_help = "allow=ADDR[,ADDR...]   The only peer addresses served.",
	.preconnect = ipallow_preconnect,
};

NBDKIT_REGISTER_FILTER(filter)
