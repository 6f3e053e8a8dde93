// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl connection: list and show the recorded connections (exports
 * of volumes to hosts, with their local device and its state), end them,
 * clean up attachments whose device is gone, and bring back the NBD
 * exports of this host after a reboot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

#define GROUP "connection"

static int connection_list(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "volume", required_argument, NULL, 'v' },
		{ "backend", required_argument, NULL, 'B' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct cli_list_filter f = { 0 };
	struct cl_connection_list list = { 0 };
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	int ret;

	if (!cli_list_ready(GROUP, self, argc, argv, ":hv:", opts, &f, &ctx,
			    &ret))
		return ret;
	if (cl_connection_find(ctx, &f.filter, &list, &err))
		ret = cli_fail(&err, "cannot list connections");
	else
		cli_connection_list_print(&list);
	cl_connection_list_free(&list);
	cl_volume_free(f.volume);
	return ret;
}

/* An action on the one CONNECTION argument: false with *@ret to exit. */
static bool one_connection(const struct cli_action *self, int argc,
			   char **argv, struct cl_context **ctx,
			   struct cl_connection **conn, int *ret)
{
	if (!cli_action_ready(GROUP, self, argc, argv, 1, 1, ctx, ret))
		return false;
	*ret = cli_find_connection(*ctx, argv[optind], conn);
	return *ret == 0;
}

static int connection_show(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	struct cl_connection *conn;
	int ret;

	if (!one_connection(self, argc, argv, &ctx, &conn, &ret))
		return ret;
	cli_connection_print(conn);
	cl_connection_free(conn);
	return CLI_EXIT_OK;
}

static int disconnect_one(struct cl_context *ctx, const char *ref,
			  void *unused)
{
	struct cl_connection *conn = NULL;
	struct cl_error err = { 0 };
	int ret = cli_find_connection(ctx, ref, &conn);

	if (!ret && cl_connection_disconnect(ctx, conn, &err))
		ret = cli_failf(&err, "cannot disconnect %s", conn->id);
	cl_connection_free(conn);
	return ret;
}

static int connection_disconnect(const struct cli_action *self, int argc,
				 char **argv)
{
	struct cl_context *ctx;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 1, -1, &ctx, &ret))
		return ret;
	return cli_for_each_ref(ctx, argc - optind, argv + optind,
				disconnect_one, NULL);
}

int cli_reconcile_run(const char *group, const struct cli_action *self,
		      int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct cl_connection_list stale = { 0 };
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	bool dry_run = false;
	int c, ret;

	while ((c = cli_next_option(group, self, argc, argv, ":hn", opts,
				    &ret)) > 0)
		dry_run = true;		/* -n, the only option */
	if (c < 0)
		return ret;
	ret = cli_check_args(group, self, argc - optind, 0, 0);
	if (!ret)
		ret = cli_context(&ctx);
	if (ret)
		return ret;
	if (cl_connection_reconcile(ctx, dry_run, &stale, &err))
		ret = cli_fail(&err, "cannot reconcile every stale attachment");
	if (cli_globals.json) {
		cli_connection_list_print(&stale);
	} else {
		for (size_t i = 0; i < stale.count; i++)
			printf("%s volume %s connection %s (device %s missing)\n",
			       dry_run ? "stale:" : "cleaned up:",
			       stale.items[i]->volume_id, stale.items[i]->id,
			       stale.items[i]->device_path);
	}
	cl_connection_list_free(&stale);
	return ret;
}

static int connection_reconcile(const struct cli_action *self, int argc,
				char **argv)
{
	return cli_reconcile_run(GROUP, self, argc, argv);
}

static void print_copied_device(const char *path, const char *volume_id)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "device_path", cli_json_string(path));
	json_object_object_add(o, "volume_id", cli_json_string(volume_id));
	cli_json_print(o);
}

/*
 * --connection-info FILE: a connection another host made for this one,
 * copied here as JSON ('connection show --json' there), with no store.
 */
static int attach_copied(struct cl_context *ctx, const char *file,
			 const char *volume_id, enum cl_attach_mode mode)
{
	struct cl_connection *conn = NULL;
	struct cl_error err = { 0 };
	char *json = NULL, path[64];
	int ret;

	ret = cli_read_file(file, &json);
	if (ret)
		return ret;
	if (cl_connection_info_from_json(json, &conn, &err))
		ret = cli_failf(&err, "%s is not a connection", file);
	else if (cl_connection_info_attach(ctx, conn, volume_id, mode, path,
					   sizeof(path), &err))
		ret = cli_failf(&err, "cannot attach the connection of %s",
				file);
	else if (cli_globals.json)
		print_copied_device(path, conn->volume_id);
	else
		printf("%s\n", path);
	cl_connection_free(conn);
	free(json);
	return ret;
}

static int detach_copied(struct cl_context *ctx, const char *file,
			 const char *volume_id, bool force)
{
	struct cl_connection *conn = NULL;
	struct cl_error err = { 0 };
	char *json = NULL;
	int ret;

	ret = cli_read_file(file, &json);
	if (ret)
		return ret;
	if (cl_connection_info_from_json(json, &conn, &err))
		ret = cli_failf(&err, "%s is not a connection", file);
	else if (cl_connection_info_detach(ctx, conn, volume_id, force, &err))
		ret = cli_failf(&err, "cannot detach the connection of %s",
				file);
	cl_connection_free(conn);
	free(json);
	return ret;
}

/* The options attach and detach share: where the connection comes from. */
struct copied_options {
	const char *file;		/* --connection-info */
	const char *volume_id;		/* --volume-id */
	enum cl_attach_mode mode;	/* --mode (attach) */
	bool force;			/* --force (detach) */
};

static int copied_option(int c, struct copied_options *o)
{
	switch (c) {
	case 'i':
		o->file = optarg;
		return 0;
	case 'u':
		o->volume_id = optarg;
		return 0;
	case 'm':
		return cli_parse_mode(optarg, &o->mode);
	default:			/* 'f' */
		o->force = true;
		return 0;
	}
}

#define COPIED_OPTS \
	{ "connection-info", required_argument, NULL, 'i' }, \
	{ "volume-id", required_argument, NULL, 'u' }

static int connection_attach(const struct cli_action *self, int argc,
			     char **argv)
{
	static const struct option opts[] = {
		COPIED_OPTS, { "mode", required_argument, NULL, 'm' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct copied_options o = { .mode = CL_ATTACH_RW };
	struct cl_connection *conn = NULL;
	struct cl_error err = { 0 };
	struct cl_context *ctx;
	int c, ret = 0;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hi:u:m:", opts,
				    &ret)) > 0 && !ret)
		ret = copied_option(c, &o);
	if (c < 0 || ret)
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, o.file ? 0 : 1,
			     o.file ? 0 : 1);
	if (!ret && !o.file && (o.volume_id || o.mode != CL_ATTACH_RW)) {
		cli_error("connection attach: --volume-id and --mode go with --connection-info (a recorded connection has both)");
		ret = CLI_EXIT_USAGE;
	}
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret && o.file)
		return attach_copied(ctx, o.file, o.volume_id, o.mode);
	if (!ret)
		ret = cli_find_connection(ctx, argv[optind], &conn);
	if (ret)
		return ret;
	if (cl_connection_attach(ctx, conn, &err))
		ret = cli_failf(&err, "cannot attach connection %s", conn->id);
	else if (cli_globals.json)
		cli_connection_print(conn);
	else
		printf("%s\n", conn->device_path);
	cl_connection_free(conn);
	return ret;
}

static int connection_extend(const struct cli_action *self, int argc,
			     char **argv)
{
	struct cl_connection *conn = NULL;
	struct cl_error err = { 0 };
	struct cl_context *ctx;
	struct json_object *o;
	uint64_t size;
	int ret;

	if (!one_connection(self, argc, argv, &ctx, &conn, &ret))
		return ret;
	if (cl_connection_extend(ctx, conn, &size, &err)) {
		ret = cli_failf(&err, "cannot extend the device of connection %s",
				conn->id);
	} else if (cli_globals.json) {
		o = json_object_new_object();
		json_object_object_add(o, "connection", cli_json_string(conn->id));
		json_object_object_add(o, "device",
				       cli_json_string(conn->device_path));
		json_object_object_add(o, "size",
				       json_object_new_int64((int64_t)size));
		cli_json_print(o);
	} else {
		printf("%s: %llu bytes\n", conn->device_path,
		       (unsigned long long)size);
	}
	cl_connection_free(conn);
	return ret;
}

static int connection_detach(const struct cli_action *self, int argc,
			     char **argv)
{
	static const struct option opts[] = {
		COPIED_OPTS, { "force", no_argument, NULL, 'f' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct copied_options o = { .mode = CL_ATTACH_RW };
	struct cl_connection *conn = NULL;
	struct cl_error err = { 0 };
	struct cl_context *ctx;
	int c, ret = 0;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hi:u:f", opts,
				    &ret)) > 0 && !ret)
		ret = copied_option(c, &o);
	if (c < 0 || ret)
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, o.file ? 0 : 1,
			     o.file ? 0 : 1);
	if (!ret && !o.file && o.volume_id) {
		cli_error("connection detach: --volume-id goes with --connection-info");
		ret = CLI_EXIT_USAGE;
	}
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret && o.file)
		return detach_copied(ctx, o.file, o.volume_id, o.force);
	if (!ret)
		ret = cli_find_connection(ctx, argv[optind], &conn);
	if (ret)
		return ret;
	if (cl_connection_detach(ctx, conn, o.force, &err))
		ret = cli_failf(&err, "cannot detach connection %s", conn->id);
	cl_connection_free(conn);
	return ret;
}

static void print_reports(const struct cl_export_report *r, size_t n)
{
	static const char *const headers[] = { "CONNECTION", "VOLUME", "PORT",
					       "EXPORT", "MESSAGE" };
	struct json_object *a;
	struct cli_table *t;

	if (cli_globals.json) {
		a = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "connection_id",
					       json_object_new_string(r[i].connection_id));
			json_object_object_add(o, "volume_id",
					       json_object_new_string(r[i].volume_id));
			json_object_object_add(o, "port",
					       json_object_new_string(r[i].port));
			json_object_object_add(o, "state",
					       json_object_new_string(cl_export_state_name(r[i].state)));
			json_object_object_add(o, "message",
					       json_object_new_string(r[i].message));
			json_object_array_add(a, o);
		}
		cli_json_print(a);
		return;
	}
	t = cli_table_new(5, headers);
	for (size_t i = 0; i < n; i++) {
		const char *cells[] = { r[i].connection_id, r[i].volume_id,
					r[i].port,
					cl_export_state_name(r[i].state),
					r[i].message };

		cli_table_add(t, cells);
	}
	if (cli_table_rows(t))
		cli_table_print(t, stdout);
	else
		printf("no exports recorded for this host\n");
	cli_table_free(t);
}

static int connection_restore_exports(const struct cli_action *self, int argc,
				      char **argv)
{
	struct cl_export_report *reports = NULL;
	struct cl_error err = { 0 };
	struct cl_context *ctx;
	size_t n = 0;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 0, 0, &ctx, &ret))
		return ret;
	if (cl_exports_restore(ctx, &reports, &n, &err))
		return cli_fail(&err, "cannot restore exports");
	print_reports(reports, n);
	for (size_t i = 0; i < n; i++)
		if (reports[i].state == CL_EXPORT_FAILED)
			ret = CLI_EXIT_FAILED;
	free(reports);
	return ret;
}

static const struct cli_action connection_actions[] = {
	{ "list", "[OPTIONS]", "list connections",
	  "  -v, --volume VOLUME  only the connections of this volume\n"
	  "      --backend NAME   only connections of this backend\n",
	  connection_list },
	{ "show", "CONNECTION", "show a connection (by id or id prefix)", NULL,
	  connection_show },
	{ "attach", "CONNECTION | --connection-info FILE [--volume-id ID] [--mode rw|ro]",
	  "attach a connection of this host (made for it by 'volume connect', here or on the volume's host) as a cbd device; prints its path",
	  "  -i, --connection-info FILE  a connection copied from another host\n"
	  "                     (its 'connection show --json', or the bare\n"
	  "                     connection_info), no store needed; '-' is stdin\n"
	  "  -u, --volume-id ID the volume, when FILE does not say\n"
	  "  -m, --mode rw|ro   with --connection-info: device mode (default rw)\n",
	  connection_attach },
	{ "extend", "CONNECTION",
	  "grow the connection's device here to the volume's size, after 'volume extend' on the volume's host (an nbd device asks its server); prints its path and size",
	  NULL, connection_extend },
	{ "detach", "CONNECTION | --connection-info FILE [--volume-id ID] [--force]",
	  "remove the connection's device here; a connection this host made also ends (one another host exports stays: disconnect it there)",
	  "  -f, --force        remove the device even while it is in use\n"
	  "  -i, --connection-info FILE  the copied connection it was attached\n"
	  "                     from (see attach)\n"
	  "  -u, --volume-id ID the volume, when FILE does not say\n",
	  connection_detach },
	{ "disconnect", "CONNECTION...",
	  "end connections (terminate the export, drop the record)", NULL,
	  connection_disconnect },
	{ "reconcile", "[--dry-run]",
	  "clean up attachments of this host whose device is gone (reboot, manual removal)",
	  "  -n, --dry-run      only list them\n", connection_reconcile },
	{ "restore-exports", "",
	  "start again the NBD exports this host serves (after a reboot); drop those whose volume is gone",
	  NULL, connection_restore_exports },
};

static int connection_run(int argc, char **argv)
{
	return cli_dispatch(GROUP,
			    "Inspect and end connections (volume exports to hosts).\n"
			    "Make them with 'cinderctl volume connect'.",
			    connection_actions,
			    sizeof(connection_actions) / sizeof(connection_actions[0]),
			    argc, argv);
}

static const struct cli_command connection_command = {
	"connection", "list, show, attach, detach, disconnect connections; restore exports",
	connection_run
};
CLI_COMMAND(connection_command);
