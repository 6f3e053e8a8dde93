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

	while ((c = getopt_long(argc, argv, ":hn:d:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'd':
			description = optarg;
			break;
		case 'J':
			cli_globals.json = true;
			break;
		default:
			return cli_option_error(GROUP, self, c, argv);
		}
	}
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
		if (cli_globals.json)
			cli_json_print(cli_snapshot_json(snap));
		else
			puts(snap->id);
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
	struct cl_filter filter = { 0 };
	struct cl_snapshot_list list = { 0 };
	struct cl_context *ctx;
	struct cl_volume *vol = NULL;
	struct cl_error err = { 0 };
	const char *volume = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":hv:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			volume = optarg;
			break;
		case 'B':
			filter.backend = optarg;
			break;
		case 'n':
			filter.name = optarg;
			break;
		case 'J':
			cli_globals.json = true;
			break;
		default:
			return cli_option_error(GROUP, self, c, argv);
		}
	}
	ret = cli_check_args(GROUP, self, argc - optind, 0, 0);
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret && volume)
		ret = cli_find_volume(ctx, volume, &vol);
	if (ret)
		return ret;
	if (vol)
		filter.volume_id = vol->id;
	if (cl_snapshot_find(ctx, &filter, &list, &err)) {
		ret = cli_fail(&err, "cannot list snapshots");
	} else {
		cli_snapshot_list_sort(&list);
		cli_snapshot_list_print(&list);
	}
	cl_snapshot_list_free(&list);
	cl_volume_free(vol);
	return ret;
}

static int snapshot_show(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	struct cl_snapshot *snap;
	int ret;

	if (cli_common_options(GROUP, self, argc, argv, &ret))
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 1, 1);
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret)
		ret = cli_find_snapshot(ctx, argv[optind], &snap);
	if (ret)
		return ret;
	cli_snapshot_print(snap);
	cl_snapshot_free(snap);
	return CLI_EXIT_OK;
}

static int snapshot_delete(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	int ret, worst = 0;

	if (cli_common_options(GROUP, self, argc, argv, &ret))
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 1, -1);
	if (!ret)
		ret = cli_context(&ctx);
	if (ret)
		return ret;
	for (int i = optind; i < argc; i++) {
		struct cl_snapshot *snap = NULL;
		struct cl_error err = { 0 };

		ret = cli_find_snapshot(ctx, argv[i], &snap);
		if (!ret && cl_snapshot_delete(ctx, snap, &err)) {
			char what[128];

			snprintf(what, sizeof(what), "cannot delete snapshot %s",
				 snap->id);
			ret = cli_fail(&err, what);
		}
		cl_snapshot_free(snap);
		if (ret > worst)
			worst = ret;
	}
	return worst;
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

	while ((c = getopt_long(argc, argv, ":hn:d:s:m:", opts, NULL)) != -1) {
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
		case 'J':
			cli_globals.json = true;
			break;
		default:
			ret = cli_option_error(GROUP, self, c, argv);
			goto out;
		}
		if (ret)
			goto out;
	}
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
	if (cli_globals.json)
		cli_json_print(cli_volume_json(vol));
	else
		puts(vol->id);
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
