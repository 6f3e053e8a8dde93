// SPDX-License-Identifier: Apache-2.0
/*
 * Exports to other hosts. A connection whose connector names another host
 * gets, on a backend with target_protocol = nbd, an nbdkit of its own:
 * the `file` plugin on the driver's local path (a file or a block device),
 * listening on target_ip_address at a free port of the configured range,
 * serving one export name (the volume id, nbdkit's exportname filter,
 * strict) to the connector's addresses only (our ipallow filter: the ip
 * filter of Debian's nbdkit 1.32 cannot parse addresses). nbdkit runs in
 * its own session and outlives the process that started it; its pid,
 * address and port are the connection's provider data, so that any
 * process can stop it, and cl_exports_restore() can start it again on the
 * same port after a reboot.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cinderlib/nbd.h"
#include "cl_internal.h"

#define GIB (1ULL << 30)
#define NBD_DEFAULT_PORT 10809
#define DEFAULT_PORT_RANGE 100
#define MAX_ALLOWED 16
#define PIDFILE_WAIT_MS 5000
#define STOP_WAIT_MS 5000
#define NBDKIT_FILTER_NAME "ipallow.so"

extern char **environ;

static int parse_port(const char *what, const char *s, unsigned int min,
		      unsigned int *out, struct cl_error *err)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > 65535)
		return cl_error_set(err, -EINVAL,
				    "option %s: '%s' is not a number from %u to 65535",
				    what, s, min);
	*out = (unsigned int)v;
	return 0;
}

static bool ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	       inet_pton(AF_INET6, s, buf) == 1;
}

int cl_target_config_parse(const struct cl_dict *options,
			   struct cl_target_config *out, struct cl_error *err)
{
	const char *proto = cl_dict_get(options, "target_protocol");
	const char *addr = cl_dict_get(options, "target_ip_address");
	const char *port = cl_dict_get(options, "target_port");
	const char *range = cl_dict_get(options, "target_port_range");
	int ret;

	*out = (struct cl_target_config){
		.port = NBD_DEFAULT_PORT,
		.port_range = DEFAULT_PORT_RANGE,
	};
	if (!proto)
		return 0;
	if (strcmp(proto, "nbd") != 0)
		return cl_error_set(err, -EINVAL,
				    "option target_protocol: '%s' is not supported (only nbd)",
				    proto);
	out->nbd = true;
	if (!addr)
		return cl_error_set(err, -EINVAL,
				    "target_protocol = nbd needs target_ip_address: the address of this host that others connect to");
	if (strlen(addr) >= sizeof(out->address) || !ip_literal(addr))
		return cl_error_set(err, -EINVAL,
				    "option target_ip_address: '%s' is not an IPv4 or IPv6 address",
				    addr);
	strcpy(out->address, addr);
	ret = port ? parse_port("target_port", port, 1, &out->port, err) : 0;
	if (!ret && range)
		ret = parse_port("target_port_range", range, 1,
				 &out->port_range, err);
	if (!ret && out->port + out->port_range - 1 > 65535)
		ret = cl_error_set(err, -EINVAL,
				   "target_port %u with target_port_range %u passes port 65535",
				   out->port, out->port_range);
	return ret;
}

bool cl_target_wanted(struct cl_context *ctx, const struct cl_backend *be,
		      const struct cl_dict *connector)
{
	const char *host = cl_dict_get(connector, "host");

	return be->target.nbd && host && strcmp(host, ctx->host) != 0;
}

/* Cinder's volume types say "<is> True". */
static bool multiattach_allowed(const struct cl_volume *vol)
{
	const char *v = cl_dict_get(&vol->extra_specs, "multiattach");
	bool b;

	if (!v)
		return false;
	if (strncmp(v, "<is>", 4) == 0)
		v += 4;
	while (*v == ' ')
		v++;
	return cl_parse_bool(v, &b) == 0 && b;
}

int cl_target_check_exclusive(struct cl_context *ctx,
			      const struct cl_volume *vol,
			      const struct cl_dict *connector,
			      enum cl_attach_mode mode, struct cl_error *err)
{
	struct cl_filter f = { .volume_id = vol->id };
	struct cl_connection_list conns = { 0 };
	const char *host = cl_dict_get(connector, "host");
	int ret;

	if (mode != CL_ATTACH_RW || multiattach_allowed(vol))
		return 0;
	ret = ctx->store_ops->get_connections(ctx->store, &f, &conns, err);
	for (size_t i = 0; !ret && i < conns.count; i++) {
		const struct cl_connection *c = conns.items[i];

		if (c->attach_mode != CL_ATTACH_RW || !c->attached_host ||
		    strcmp(c->attached_host, host) == 0)
			continue;
		ret = cl_error_set(err, -EBUSY,
				   "volume %s is connected read-write to host %s (connection %s): another host may connect it read-only, or read-write when its volume type allows multiattach",
				   vol->id, c->attached_host, c->id);
	}
	cl_connection_list_free(&conns);
	return ret;
}

int cl_target_check_exporter(struct cl_context *ctx,
			     const struct cl_volume *vol, const char *what,
			     struct cl_error *err)
{
	struct cl_filter f = { .volume_id = vol->id };
	struct cl_connection_list conns = { 0 };
	int ret;

	ret = ctx->store_ops->get_connections(ctx->store, &f, &conns, err);
	for (size_t i = 0; !ret && i < conns.count; i++) {
		const struct cl_connection *c = conns.items[i];
		const char *th = cl_dict_get(&c->provider_data, "target_host");

		if (!cl_dict_get(&c->provider_data, "export") || !th ||
		    strcmp(th, ctx->host) == 0)
			continue;
		ret = cl_error_set(err, -EREMOTE,
				   "cannot %s volume %s here: host %s exports it over NBD (connection %s) and holds its storage; %s it there, then run 'cinderctl connection extend %s' on the attaching host",
				   what, vol->id, th, c->id, what, c->id);
	}
	cl_connection_list_free(&conns);
	return ret;
}

int cl_target_note_size(struct cl_context *ctx, const struct cl_volume *vol,
			struct cl_error *err)
{
	struct cl_filter f = { .volume_id = vol->id };
	struct cl_connection_list conns = { 0 };
	char size[32];
	int ret;

	snprintf(size, sizeof(size), "%llu",
		 (unsigned long long)vol->size << 30);
	ret = ctx->store_ops->get_connections(ctx->store, &f, &conns, err);
	for (size_t i = 0; !ret && i < conns.count; i++) {
		struct cl_connection *c = conns.items[i];
		const char *th = cl_dict_get(&c->provider_data, "target_host");

		if (!cl_dict_get(&c->provider_data, "export") || !th ||
		    strcmp(th, ctx->host) != 0)
			continue;
		if (cl_dict_set(&c->connection_data, "size", size))
			ret = cl_error_set(err, -ENOMEM, "out of memory");
		else
			ret = cl_store_save_connection(ctx, c, err);
	}
	cl_connection_list_free(&conns);
	return ret;
}

/* The connector's addresses ("ip", then "ips" comma-separated), checked. */
static int allowed_addresses(const struct cl_dict *connector, char *out,
			     size_t len, struct cl_error *err)
{
	const char *host = cl_dict_get(connector, "host");
	const char *lists[2] = { cl_dict_get(connector, "ip"),
				 cl_dict_get(connector, "ips") };
	char *copy, *tok, *save;
	int n = 0;

	out[0] = '\0';
	for (int l = 0; l < 2; l++) {
		if (!lists[l])
			continue;
		copy = strdup(lists[l]);
		if (!copy)
			return cl_error_set(err, -ENOMEM, "out of memory");
		for (tok = strtok_r(copy, ", ", &save); tok;
		     tok = strtok_r(NULL, ", ", &save)) {
			size_t used = strlen(out);

			if (!ip_literal(tok)) {
				cl_error_set(err, -EINVAL,
					     "connector of host %s: '%s' is not an IPv4 or IPv6 address",
					     host, tok);
				free(copy);
				return -EINVAL;
			}
			if (strstr(out, tok))
				continue;	/* listed twice */
			if (n == MAX_ALLOWED ||
			    used + strlen(tok) + 2 > len) {
				free(copy);
				return cl_error_set(err, -EINVAL,
						    "connector of host %s: more than %d addresses",
						    host, MAX_ALLOWED);
			}
			snprintf(out + used, len - used, "%s%s",
				 used ? "," : "", tok);
			n++;
		}
		free(copy);
	}
	if (!n)
		return cl_error_set(err, -EINVAL,
				    "connector of host %s has no 'ip': the export would be open to every host; give the initiator's address (connector ip=ADDR)",
				    host);
	return 0;
}

/* The local path of the driver's connection_info: what nbdkit serves. */
static const char *source_path(const struct cl_connection_info *info)
{
	const char *type = info->driver_volume_type;

	if (!type)
		return NULL;
	if (strcmp(type, "file") == 0)
		return cl_dict_get(&info->data, "path");
	if (strcmp(type, "block") == 0)
		return cl_block_device_path(&info->data);
	return NULL;
}

/* The filter ships next to the drivers: LIBDIR/cinderlib/nbdkit. */
static int filter_path(struct cl_context *ctx, char *out, size_t len,
		       struct cl_error *err)
{
	const char *env = getenv("CINDERLIB_NBDKIT_FILTER");
	const char *drivers = cl_driver_dir(ctx);
	const char *slash = strrchr(drivers, '/');

	if (env && *env)
		snprintf(out, len, "%s", env);
	else
		snprintf(out, len, "%.*s/nbdkit/%s",
			 slash ? (int)(slash - drivers) : 1,
			 slash ? drivers : ".", NBDKIT_FILTER_NAME);
	if (access(out, R_OK) < 0)
		return cl_error_set(err, -ENOENT,
				    "the nbdkit filter %s is missing (reinstall cinderlib, or set CINDERLIB_NBDKIT_FILTER)",
				    out);
	return 0;
}

static void export_file(struct cl_context *ctx, const char *conn_id,
			const char *suffix, char *out, size_t len)
{
	snprintf(out, len, "%s/exports/%s.%s", ctx->state_dir, conn_id,
		 suffix);
}

/* Would nbdkit get @port on @address? Bind it as nbdkit will, then let go. */
static bool port_free(const char *address, unsigned int port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, ok;

	if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof(*in6);
	} else {
		return false;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&ss, len) == 0;
	close(fd);
	return ok;
}

/* Ports the store gives to exports of this host on @address. */
static bool port_recorded(struct cl_context *ctx, const char *address,
			  unsigned int port)
{
	struct cl_connection_list conns = { 0 };
	struct cl_error ignored;
	bool used = false;
	char p[16];

	snprintf(p, sizeof(p), "%u", port);
	if (ctx->store_ops->get_connections(ctx->store, NULL, &conns,
					    &ignored))
		return false;
	for (size_t i = 0; !used && i < conns.count; i++) {
		const struct cl_dict *pd = &conns.items[i]->provider_data;
		const char *th = cl_dict_get(pd, "target_host");
		const char *a = cl_dict_get(pd, "address");
		const char *cp = cl_dict_get(pd, "port");

		used = th && a && cp && strcmp(th, ctx->host) == 0 &&
		       strcmp(a, address) == 0 && strcmp(cp, p) == 0;
	}
	cl_connection_list_free(&conns);
	return used;
}

/* The last line nbdkit wrote to @log, for an error message. */
static void last_line(const char *log, char *out, size_t len)
{
	char line[512];
	FILE *f = fopen(log, "re");

	snprintf(out, len, "no message");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			snprintf(out, len, "%s", line);
	}
	fclose(f);
}

static int read_pid(const char *pidfile, pid_t *pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	long v = 0;

	for (int waited = 0; waited < PIDFILE_WAIT_MS; waited += 10) {
		FILE *f = fopen(pidfile, "re");
		int got = 0;

		if (f) {
			got = fscanf(f, "%ld", &v);
			fclose(f);
		}
		if (got == 1 && v > 1) {
			*pid = (pid_t)v;
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}

struct export_spec {
	const char *conn_id;
	const char *volume_id;
	const char *path;
	const char *address;
	const char *allow;
	unsigned int port;
	bool read_only;
};

/*
 * Run nbdkit for @spec. It binds its port, forks into the background
 * (its own session) and exits: exit status 0 means it listens. Its
 * messages go to the export's log file, before and after the fork.
 * -EADDRINUSE when the port was taken.
 */
static int spawn_nbdkit(struct cl_context *ctx, const struct export_spec *spec,
			const char *filter, pid_t *pid, struct cl_error *err)
{
	char pidfile[PATH_MAX], log[PATH_MAX], port[16], file_arg[PATH_MAX + 8];
	char export_arg[CL_ID_LEN + 16], allow_arg[1024], filter_arg[PATH_MAX];
	char msg[512];
	const char *argv[24];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t child;
	int n = 0, status, ret;

	export_file(ctx, spec->conn_id, "pid", pidfile, sizeof(pidfile));
	export_file(ctx, spec->conn_id, "log", log, sizeof(log));
	unlink(pidfile);
	snprintf(port, sizeof(port), "%u", spec->port);
	snprintf(file_arg, sizeof(file_arg), "file=%s", spec->path);
	snprintf(export_arg, sizeof(export_arg), "exportname=%s",
		 spec->volume_id);
	snprintf(allow_arg, sizeof(allow_arg), "allow=%s", spec->allow);
	snprintf(filter_arg, sizeof(filter_arg), "--filter=%s", filter);
	argv[n++] = "nbdkit";
	argv[n++] = "--pidfile";
	argv[n++] = pidfile;
	argv[n++] = "--ipaddr";
	argv[n++] = spec->address;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--log=stderr";
	if (spec->read_only)
		argv[n++] = "--readonly";
	argv[n++] = filter_arg;
	argv[n++] = "--filter=exportname";
	argv[n++] = "file";
	argv[n++] = file_arg;
	argv[n++] = export_arg;
	argv[n++] = "exportname-strict=true";
	argv[n++] = allow_arg;
	argv[n] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log,
					 O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawnattr_init(&attr);
	/* Its own session: no terminal hang-up or job control reaches it. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID |
				 POSIX_SPAWN_SETSIGMASK);
	{
		sigset_t none;

		sigemptyset(&none);
		posix_spawnattr_setsigmask(&attr, &none);
	}
	ret = posix_spawnp(&child, "nbdkit", &fa, &attr, (char *const *)argv,
			   environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (ret)
		return cl_error_set(err, -ret,
				    "cannot run nbdkit: %s (install the nbdkit package)",
				    strerror(ret));
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		last_line(log, msg, sizeof(msg));
		if (!port_free(spec->address, spec->port))
			return -EADDRINUSE;
		return cl_error_set(err, -EIO,
				    "nbdkit for volume %s on %s port %u failed: %s",
				    spec->volume_id, spec->address, spec->port,
				    msg);
	}
	ret = read_pid(pidfile, pid);
	if (ret)
		return cl_error_set(err, ret,
				    "nbdkit for volume %s started but wrote no pid file %s",
				    spec->volume_id, pidfile);
	return 0;
}

/* Take a port of the range nothing else holds and start nbdkit on it. */
static int start_export(struct cl_context *ctx, const struct cl_backend *be,
			struct export_spec *spec, pid_t *pid,
			struct cl_error *err)
{
	const struct cl_target_config *t = &be->target;
	char filter[PATH_MAX], dir[PATH_MAX];
	int ret;

	ret = filter_path(ctx, filter, sizeof(filter), err);
	if (ret)
		return ret;
	snprintf(dir, sizeof(dir), "%s/exports", ctx->state_dir);
	if (cl_mkdir_p(dir, 0700) < 0)
		return cl_error_set(err, -errno, "cannot create %s: %s", dir,
				    strerror(errno));
	/* restore asks for its recorded port: only that one will do. */
	if (spec->port) {
		ret = spawn_nbdkit(ctx, spec, filter, pid, err);
		if (ret == -EADDRINUSE)
			ret = cl_error_set(err, ret,
					   "port %u on %s is taken by another program",
					   spec->port, spec->address);
		return ret;
	}
	for (unsigned int p = t->port; p < t->port + t->port_range; p++) {
		if (port_recorded(ctx, t->address, p) ||
		    !port_free(t->address, p))
			continue;
		spec->port = p;
		ret = spawn_nbdkit(ctx, spec, filter, pid, err);
		if (ret != -EADDRINUSE)
			return ret;
	}
	spec->port = 0;
	return cl_error_set(err, -EADDRINUSE,
			    "backend %s: no free port on %s from %u to %u (raise target_port_range)",
			    be->name, t->address, t->port,
			    t->port + t->port_range - 1);
}

static int set_provider(struct cl_context *ctx, const struct export_spec *spec,
			pid_t pid, struct cl_dict *provider)
{
	char port[16], pidstr[24];

	snprintf(port, sizeof(port), "%u", spec->port);
	snprintf(pidstr, sizeof(pidstr), "%ld", (long)pid);
	if (cl_dict_set(provider, "export", "nbdkit") ||
	    cl_dict_set(provider, "target_host", ctx->host) ||
	    cl_dict_set(provider, "address", spec->address) ||
	    cl_dict_set(provider, "port", port) ||
	    cl_dict_set(provider, "allow", spec->allow) ||
	    cl_dict_set(provider, "pid", pidstr))
		return -ENOMEM;
	return 0;
}

static int set_nbd_info(const struct cl_volume *vol,
			const struct export_spec *spec,
			struct cl_connection_info *info)
{
	char port[16], size[24], uri[CL_NBD_URI_MAX];
	struct cl_dict data = { 0 };
	char *type = strdup("nbd");
	int ret;

	snprintf(port, sizeof(port), "%u", spec->port);
	snprintf(size, sizeof(size), "%llu",
		 (unsigned long long)(vol->size * GIB));
	ret = type ? cl_nbd_uri_format(spec->address, port, vol->id, uri,
				       sizeof(uri)) : -ENOMEM;
	if (!ret && (cl_dict_set(&data, "host", spec->address) ||
		     cl_dict_set(&data, "port", port) ||
		     cl_dict_set(&data, "export_name", vol->id) ||
		     /* nbdkit's file plugin flushes the whole file */
		     cl_dict_set(&data, "multi_conn", "true") ||
		     cl_dict_set(&data, "size", size) ||
		     cl_dict_set(&data, "uri", uri)))
		ret = -ENOMEM;
	if (ret) {
		free(type);
		cl_dict_clear(&data);
		return ret;
	}
	free(info->driver_volume_type);
	cl_dict_clear(&info->data);
	info->driver_volume_type = type;
	info->data = data;
	return 0;
}

int cl_target_export(struct cl_context *ctx, struct cl_backend *be,
		     const struct cl_volume *vol, const struct cl_dict *connector,
		     enum cl_attach_mode mode, struct cl_connection_info *info,
		     struct cl_dict *provider, struct cl_error *err)
{
	struct export_spec spec = {
		.volume_id = vol->id,
		.address = be->target.address,
		.read_only = mode == CL_ATTACH_RO,
	};
	char allow[MAX_ALLOWED * 48], conn_id[CL_ID_LEN];
	struct cl_connection fake = { 0 };
	pid_t pid;
	int ret;

	spec.path = source_path(info);
	if (!spec.path)
		return cl_error_set(err, -EOPNOTSUPP,
				    "volume %s: connection type '%s' of backend %s cannot be exported over NBD",
				    vol->id, info->driver_volume_type ?
				    info->driver_volume_type : "", be->name);
	ret = allowed_addresses(connector, allow, sizeof(allow), err);
	if (ret)
		return ret;
	spec.allow = allow;
	/* Files of the export are named by a fresh id: the connection's. */
	cl_new_uuid(conn_id);
	spec.conn_id = conn_id;
	ret = start_export(ctx, be, &spec, &pid, err);
	if (ret)
		return ret;
	ret = cl_dict_set(provider, "export_id", conn_id);
	if (!ret)
		ret = set_provider(ctx, &spec, pid, provider);
	if (!ret)
		ret = set_nbd_info(vol, &spec, info);
	if (ret) {
		struct cl_error ignored;

		fake.provider_data = *provider;
		cl_target_unexport(ctx, &fake, &ignored);
		cl_dict_clear(provider);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	cl_log(ctx, CL_LOG_INFO,
	       "volume %s: exported on %s port %u to %s (nbdkit pid %ld)",
	       vol->id, spec.address, spec.port, allow, (long)pid);
	return 0;
}

/*
 * Is @pid the nbdkit of this export? Its command line names the
 * export's pid file: a pid reused by another program does not.
 */
static bool is_our_nbdkit(pid_t pid, const char *pidfile)
{
	char path[64], buf[8192];
	bool found = false;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *a = buf; a < buf + n; a += strlen(a) + 1)
		found |= strcmp(a, pidfile) == 0;
	return found;
}

static bool process_gone(pid_t pid, const char *pidfile)
{
	return !is_our_nbdkit(pid, pidfile);
}

/* Provider data of an export served by this host, or false. */
static bool export_here(struct cl_context *ctx, const struct cl_dict *pd,
			pid_t *pid, char *pidfile, size_t len)
{
	const char *exp = cl_dict_get(pd, "export");
	const char *th = cl_dict_get(pd, "target_host");
	const char *export_id = cl_dict_get(pd, "export_id");
	const char *p = cl_dict_get(pd, "pid");

	if (!exp || strcmp(exp, "nbdkit") != 0 || !th ||
	    strcmp(th, ctx->host) != 0 || !export_id || !cl_uuid_valid(export_id))
		return false;
	*pid = p ? (pid_t)strtol(p, NULL, 10) : 0;
	export_file(ctx, export_id, "pid", pidfile, len);
	return true;
}

bool cl_target_export_running(struct cl_context *ctx,
			      const struct cl_connection *conn)
{
	char pidfile[PATH_MAX];
	pid_t pid;

	return export_here(ctx, &conn->provider_data, &pid, pidfile,
			   sizeof(pidfile)) && pid > 1 &&
	       is_our_nbdkit(pid, pidfile);
}

int cl_target_unexport(struct cl_context *ctx, const struct cl_connection *conn,
		       struct cl_error *err)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	char pidfile[PATH_MAX], log[PATH_MAX];
	pid_t pid;
	int waited;

	if (!export_here(ctx, &conn->provider_data, &pid, pidfile,
			 sizeof(pidfile))) {
		const char *th = cl_dict_get(&conn->provider_data,
					     "target_host");

		if (th && strcmp(th, ctx->host) != 0)
			return cl_error_set(err, -EREMOTE,
					    "connection %s is exported by host %s: disconnect it there",
					    conn->id, th);
		return 0;
	}
	if (pid > 1 && is_our_nbdkit(pid, pidfile)) {
		kill(pid, SIGTERM);
		for (waited = 0; waited < STOP_WAIT_MS &&
		     !process_gone(pid, pidfile); waited += 10)
			nanosleep(&ts, NULL);
		if (!process_gone(pid, pidfile)) {
			kill(pid, SIGKILL);
			for (waited = 0; waited < STOP_WAIT_MS &&
			     !process_gone(pid, pidfile); waited += 10)
				nanosleep(&ts, NULL);
		}
		if (!process_gone(pid, pidfile))
			return cl_error_set(err, -EBUSY,
					    "nbdkit %ld of volume %s does not stop",
					    (long)pid, conn->volume_id);
	}
	unlink(pidfile);
	export_file(ctx, cl_dict_get(&conn->provider_data, "export_id"), "log",
		    log, sizeof(log));
	unlink(log);
	return 0;
}

/* Start the recorded export of @conn again, on its recorded port. */
static int restart_export(struct cl_context *ctx, struct cl_connection *conn,
			  struct cl_error *err)
{
	const struct cl_dict *pd = &conn->provider_data;
	struct cl_connection_info info = { 0 };
	struct cl_error derr = { 0 };
	struct cl_volume *vol = NULL;
	struct cl_backend *be;
	struct export_spec spec = {
		.conn_id = cl_dict_get(pd, "export_id"),
		.volume_id = conn->volume_id,
		.address = cl_dict_get(pd, "address"),
		.allow = cl_dict_get(pd, "allow"),
		.read_only = conn->attach_mode == CL_ATTACH_RO,
	};
	const char *port = cl_dict_get(pd, "port");
	char pidstr[24];
	pid_t pid;
	int ret;

	if (!spec.address || !spec.allow || !port)
		return cl_error_set(err, -EINVAL,
				    "connection %s: provider data lacks address, port or allow",
				    conn->id);
	ret = parse_port("port", port, 1, &spec.port, err);
	if (!ret)
		ret = cl_store_get_volume(ctx, conn->volume_id, &vol, err);
	if (!ret)
		ret = cl_backend_for(ctx, conn->backend_name, &be, err);
	if (ret)
		goto out;
	/* The driver makes its path usable again (an LV activated). */
	ret = be->ops->initialize_connection(be->priv, vol, &conn->connector,
					     &info, &derr);
	if (ret) {
		ret = cl_error_set(err, ret < 0 ? ret : -EIO,
				   "volume %s: initialize_connection failed: %s",
				   vol->id, derr.msg);
		goto out;
	}
	spec.path = source_path(&info);
	if (!spec.path) {
		ret = cl_error_set(err, -EOPNOTSUPP,
				   "volume %s: connection type '%s' cannot be exported over NBD",
				   vol->id, info.driver_volume_type ?
				   info.driver_volume_type : "");
		goto out;
	}
	ret = start_export(ctx, be, &spec, &pid, err);
	if (ret)
		goto out;
	snprintf(pidstr, sizeof(pidstr), "%ld", (long)pid);
	ret = cl_dict_set(&conn->provider_data, "pid", pidstr);
	if (!ret)
		ret = cl_store_save_connection(ctx, conn, err);
	else
		ret = cl_error_set(err, -ENOMEM, "out of memory");
out:
	free(info.driver_volume_type);
	cl_dict_clear(&info.data);
	cl_volume_free(vol);
	return ret;
}

static int add_report(struct cl_export_report **list, size_t *n,
		      const struct cl_connection *c,
		      enum cl_export_state state, const char *message)
{
	struct cl_export_report *grown;

	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return -ENOMEM;
	*list = grown;
	memset(&grown[*n], 0, sizeof(grown[*n]));
	memcpy(grown[*n].connection_id, c->id, CL_ID_LEN);
	memcpy(grown[*n].volume_id, c->volume_id, CL_ID_LEN);
	grown[*n].state = state;
	snprintf(grown[*n].message, sizeof(grown[*n].message), "%s",
		 message ? message : "");
	snprintf(grown[*n].port, sizeof(grown[*n].port), "%s",
		 cl_dict_get(&c->provider_data, "port") ?
		 cl_dict_get(&c->provider_data, "port") : "");
	(*n)++;
	return 0;
}

/* One recorded export of this host: running, restarted, or dropped. */
static int restore_one(struct cl_context *ctx, struct cl_connection *c,
		       struct cl_export_report **list, size_t *n)
{
	struct cl_error e = { 0 };
	struct cl_volume *vol = NULL;
	int ret, lock;

	lock = cl_lock_acquire(ctx, "volume", c->volume_id, &e);
	if (lock < 0)
		return add_report(list, n, c, CL_EXPORT_FAILED, e.msg);
	ret = cl_store_get_volume(ctx, c->volume_id, &vol, &e);
	if (ret == -ENOENT) {
		/* Nothing to serve: the export and the record go. */
		ret = cl_target_unexport(ctx, c, &e);
		if (!ret)
			ret = ctx->store_ops->delete_connection(ctx->store,
								c->id, &e);
		ret = add_report(list, n, c,
				 ret ? CL_EXPORT_FAILED : CL_EXPORT_REMOVED,
				 ret ? e.msg : "its volume is gone");
		goto out;
	}
	cl_volume_free(vol);
	if (!ret && cl_target_export_running(ctx, c)) {
		ret = add_report(list, n, c, CL_EXPORT_RUNNING, NULL);
		goto out;
	}
	if (!ret)
		ret = restart_export(ctx, c, &e);
	ret = add_report(list, n, c, ret ? CL_EXPORT_FAILED :
			 CL_EXPORT_RESTORED, ret ? e.msg : NULL);
out:
	cl_lock_release(lock);
	return ret;
}

int cl_exports_restore(struct cl_context *ctx, struct cl_export_report **out,
		       size_t *count, struct cl_error *err)
{
	struct cl_connection_list conns = { 0 };
	struct cl_export_report *list = NULL;
	size_t n = 0;
	int ret;

	*out = NULL;
	*count = 0;
	ret = ctx->store_ops->get_connections(ctx->store, NULL, &conns, err);
	for (size_t i = 0; !ret && i < conns.count; i++) {
		char pidfile[PATH_MAX];
		pid_t pid;

		if (!export_here(ctx, &conns.items[i]->provider_data, &pid,
				 pidfile, sizeof(pidfile)))
			continue;
		if (restore_one(ctx, conns.items[i], &list, &n))
			ret = cl_error_set(err, -ENOMEM, "out of memory");
	}
	cl_connection_list_free(&conns);
	if (ret) {
		free(list);
		return ret;
	}
	*out = list;
	*count = n;
	return 0;
}

const char *cl_export_state_name(enum cl_export_state state)
{
	static const char *const names[] = {
		[CL_EXPORT_RUNNING] = "running",
		[CL_EXPORT_RESTORED] = "restored",
		[CL_EXPORT_REMOVED] = "removed",
		[CL_EXPORT_FAILED] = "failed",
	};

	if ((unsigned int)state >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[state];
}
