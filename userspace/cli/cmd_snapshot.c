// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl snapshot: create, list, show, delete snapshots and restore
 * them into new volumes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

#define GROUP "snapshot"

static int snapshot_create(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "description", required_argument, NULL, 'd' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	const char *name = NULL, *description = NULL;
	struct cl_context *ctx;
	struct cl_volume *vol = NULL;
	struct cl_snapshot *snap;
	struct cl_error err = { 0 };
	int c, ret;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hn:d:", opts,
				    &ret)) > 0) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'd':
			description = optarg;
			break;
		}
	}
	if (c < 0)
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 1, 1);
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret)
		ret = cli_find_volume(ctx, argv[optind], &vol);
	if (ret)
		return ret;
	if (cl_volume_create_snapshot(ctx, vol, name, description, &snap, &err)) {
		ret = cli_fail(&err, "cannot create the snapshot");
	} else {
		cli_print_result(&cli_snapshot_form, snap, snap->id);
		cl_snapshot_free(snap);
	}
	cl_volume_free(vol);
	return ret;
}

static int snapshot_list(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "volume", required_argument, NULL, 'v' },
		{ "backend", required_argument, NULL, 'B' },
		{ "name", required_argument, NULL, 'n' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct cli_list_filter f = { 0 };
	struct cl_snapshot_list list = { 0 };
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	int ret;

	if (!cli_list_ready(GROUP, self, argc, argv, ":hv:n:", opts, &f, &ctx,
			    &ret))
		return ret;
	if (cl_snapshot_find(ctx, &f.filter, &list, &err)) {
		ret = cli_fail(&err, "cannot list snapshots");
	} else {
		cli_snapshot_list_sort(&list);
		cli_snapshot_list_print(&list);
	}
	cl_snapshot_list_free(&list);
	cl_volume_free(f.volume);
	return ret;
}

static int snapshot_show(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	struct cl_snapshot *snap;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 1, 1, &ctx, &ret))
		return ret;
	ret = cli_find_snapshot(ctx, argv[optind], &snap);
	if (ret)
		return ret;
	cli_snapshot_print(snap);
	cl_snapshot_free(snap);
	return CLI_EXIT_OK;
}

static int delete_one(struct cl_context *ctx, const char *ref, void *unused)
{
	struct cl_snapshot *snap = NULL;
	struct cl_error err = { 0 };
	int ret = cli_find_snapshot(ctx, ref, &snap);

	if (!ret && cl_snapshot_delete(ctx, snap, &err))
		ret = cli_failf(&err, "cannot delete snapshot %s", snap->id);
	cl_snapshot_free(snap);
	return ret;
}

static int snapshot_delete(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 1, -1, &ctx, &ret))
		return ret;
	return cli_for_each_ref(ctx, argc - optind, argv + optind, delete_one,
				NULL);
}

static int snapshot_restore(const struct cli_action *self, int argc,
			    char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "description", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "metadata", required_argument, NULL, 'm' },
		{ "bootable", no_argument, NULL, 'b' },
		{ "id", required_argument, NULL, 'i' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct cl_volume_create_opts vopts = { 0 };
	struct cl_dict metadata = { 0 };
	struct cl_context *ctx;
	struct cl_snapshot *snap = NULL;
	struct cl_volume *vol;
	struct cl_error err = { 0 };
	int c, ret = 0;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hn:d:s:m:",
				    opts, &ret)) > 0) {
		switch (c) {
		case 'n':
			vopts.name = optarg;
			break;
		case 'd':
			vopts.description = optarg;
			break;
		case 's':
			ret = cli_parse_size(optarg, "size", &vopts.size);
			break;
		case 'm':
			ret = cli_parse_key_value(optarg, "metadata", &metadata);
			break;
		case 'b':
			vopts.bootable = true;
			break;
		case 'i':
			vopts.id = optarg;
			break;
		}
		if (ret)
			goto out;
	}
	if (c < 0)
		goto out;
	ret = cli_check_args(GROUP, self, argc - optind, 1, 1);
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret)
		ret = cli_find_snapshot(ctx, argv[optind], &snap);
	if (ret)
		goto out;
	if (vopts.size && vopts.size < snap->volume_size) {
		cli_error("the new volume cannot be smaller than the snapshot (%" PRIu64 " GiB)",
			  snap->volume_size);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	vopts.metadata = metadata.count ? &metadata : NULL;
	if (cl_snapshot_create_volume(ctx, snap, &vopts, &vol, &err)) {
		ret = cli_fail(&err, "cannot restore the snapshot");
		goto out;
	}
	cli_print_result(&cli_volume_form, vol, vol->id);
	cl_volume_free(vol);
out:
	cl_snapshot_free(snap);
	cl_dict_clear(&metadata);
	return ret;
}

static const struct cli_action snapshot_actions[] = {
	{ "create", "VOLUME [OPTIONS]", "snapshot a volume; prints the snapshot's id",
	  "  -n, --name NAME          a name\n"
	  "  -d, --description TEXT   a description\n", snapshot_create },
	{ "list", "[OPTIONS]", "list snapshots",
	  "  -v, --volume VOLUME  only the snapshots of this volume\n"
	  "      --backend NAME   only snapshots of this backend\n"
	  "  -n, --name NAME      only snapshots with this name\n",
	  snapshot_list },
	{ "show", "SNAPSHOT", "show a snapshot (by id, name or id prefix)", NULL,
	  snapshot_show },
	{ "delete", "SNAPSHOT...", "delete snapshots", NULL, snapshot_delete },
	{ "restore", "SNAPSHOT [OPTIONS]",
	  "create a new volume from a snapshot; prints the volume's id",
	  "  -s, --size SIZE          GiB (default: the snapshot's volume size)\n"
	  "  -n, --name NAME          the new volume's name\n"
	  "  -d, --description TEXT   its description\n"
	  "  -m, --metadata KEY=VALUE metadata (repeatable)\n"
	  "      --bootable           mark it bootable\n"
	  "      --id UUID            use this id instead of a new one\n",
	  snapshot_restore },
};

static int snapshot_run(int argc, char **argv)
{
	return cli_dispatch(GROUP, "Create, inspect, delete and restore snapshots.",
			    snapshot_actions,
			    sizeof(snapshot_actions) / sizeof(snapshot_actions[0]),
			    argc, argv);
}

static const struct cli_command snapshot_command = {
	"snapshot", "create, list, show, delete, restore snapshots", snapshot_run
};
CLI_COMMAND(snapshot_command);
