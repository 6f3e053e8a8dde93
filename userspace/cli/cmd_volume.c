// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl volume: create, list, show, extend, clone, delete, update,
 * set-metadata, unset-metadata, connect, disconnect, attach, detach and
 * reconcile volumes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

#define GROUP "volume"

/* Options shared by create and clone. */
struct create_args {
	struct cl_volume_create_opts opts;
	struct cl_dict metadata;
	struct cl_dict extra_specs;
	struct cl_dict qos_specs;
	const char *backend;
	const char *size_text;
};

#define CREATE_OPTIONS \
	{ "name", required_argument, NULL, 'n' }, \
	{ "description", required_argument, NULL, 'd' }, \
	{ "bootable", no_argument, NULL, 'b' }, \
	{ "metadata", required_argument, NULL, 'm' }, \
	{ "extra-spec", required_argument, NULL, 'e' }, \
	{ "qos-spec", required_argument, NULL, 'q' }, \
	{ "id", required_argument, NULL, 'i' }, \
	{ "size", required_argument, NULL, 's' }, \
	{ "backend", required_argument, NULL, 'B' }

#define CREATE_HELP \
	"  -n, --name NAME          a name (need not be unique, but lookups by\n" \
	"                           name then need the id)\n" \
	"  -d, --description TEXT   a description\n" \
	"      --bootable           mark the volume bootable\n" \
	"  -m, --metadata KEY=VALUE metadata (repeatable)\n" \
	"      --extra-spec K=V     volume type extra spec (repeatable)\n" \
	"      --qos-spec K=V       QoS spec (repeatable)\n" \
	"      --id UUID            use this id instead of a new one\n"

static void create_args_free(struct create_args *a)
{
	cl_dict_clear(&a->metadata);
	cl_dict_clear(&a->extra_specs);
	cl_dict_clear(&a->qos_specs);
}

/* One of CREATE_OPTIONS. */
static int create_option(struct create_args *a, int c, const char *arg)
{
	switch (c) {
	case 'n':
		a->opts.name = arg;
		break;
	case 'd':
		a->opts.description = arg;
		break;
	case 'b':
		a->opts.bootable = true;
		break;
	case 'm':
		return cli_parse_key_value(arg, "metadata", &a->metadata);
	case 'e':
		return cli_parse_key_value(arg, "extra spec", &a->extra_specs);
	case 'q':
		return cli_parse_key_value(arg, "QoS spec", &a->qos_specs);
	case 'i':
		a->opts.id = arg;
		break;
	case 's':
		a->size_text = arg;
		break;
	case 'B':
		a->backend = arg;
		break;
	}
	return CLI_EXIT_OK;
}

static void create_args_finish(struct create_args *a)
{
	a->opts.metadata = a->metadata.count ? &a->metadata : NULL;
	a->opts.extra_specs = a->extra_specs.count ? &a->extra_specs : NULL;
	a->opts.qos_specs = a->qos_specs.count ? &a->qos_specs : NULL;
}

static int volume_create(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		CREATE_OPTIONS, CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct create_args a = { 0 };
	struct cl_backend *be;
	struct cl_volume *vol = NULL;
	struct cl_error err = { 0 };
	int c, ret = 0;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hn:d:m:s:", opts,
				    &ret)) > 0) {
		ret = create_option(&a, c, optarg);
		if (ret)
			goto out;
	}
	if (c < 0)
		goto out;
	if (!a.size_text) {
		ret = cli_check_args(GROUP, self, argc - optind, 1, 1);
		if (ret)
			goto out;
		a.size_text = argv[optind];
	} else if ((ret = cli_check_args(GROUP, self, argc - optind, 0, 0))) {
		goto out;
	}
	ret = cli_parse_size(a.size_text, "size", &a.opts.size);
	if (ret)
		goto out;
	ret = cli_backend(a.backend, &be);
	if (ret)
		goto out;
	create_args_finish(&a);
	if (cl_volume_create(be, &a.opts, &vol, &err)) {
		ret = cli_fail(&err, "cannot create the volume");
		goto out;
	}
	cli_print_result(&cli_volume_form, vol, vol->id);
	cl_volume_free(vol);
out:
	create_args_free(&a);
	return ret;
}

static int volume_list(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'B' },
		{ "name", required_argument, NULL, 'n' },
		{ "status", required_argument, NULL, 's' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct cl_filter filter = { 0 };
	struct cl_volume_list list = { 0 };
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	const char *status = NULL;
	enum cl_status wanted = 0;
	size_t kept = 0;
	int c, ret;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hn:s:", opts,
				    &ret)) > 0) {
		switch (c) {
		case 'B':
			filter.backend = optarg;
			break;
		case 'n':
			filter.name = optarg;
			break;
		case 's':
			status = optarg;
			break;
		}
	}
	if (c < 0)
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 0, 0);
	if (ret)
		return ret;
	if (status && cl_status_parse(status, &wanted)) {
		cli_error("unknown status '%s' (e.g. available, in-use, error)",
			  status);
		return CLI_EXIT_USAGE;
	}
	ret = cli_context(&ctx);
	if (ret)
		return ret;
	if (cl_volume_find(ctx, &filter, &list, &err))
		return cli_fail(&err, "cannot list volumes");
	for (size_t i = 0; i < list.count; i++) {
		if (status && list.items[i]->status != wanted)
			cl_volume_free(list.items[i]);
		else
			list.items[kept++] = list.items[i];
	}
	list.count = kept;
	cli_volume_list_sort(&list);
	cli_volume_list_print(&list);
	cl_volume_list_free(&list);
	return CLI_EXIT_OK;
}

static int volume_show(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	struct cl_volume *vol = NULL;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 1, 1, &ctx, &ret))
		return ret;
	ret = cli_find_volume(ctx, argv[optind], &vol);
	if (ret)
		return ret;
	cli_volume_print(vol);
	cl_volume_free(vol);
	return CLI_EXIT_OK;
}

static int volume_extend(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	struct cl_volume *vol;
	struct cl_error err = { 0 };
	uint64_t size;
	int ret;

	if (cli_common_options(GROUP, self, argc, argv, &ret))
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 2, 2);
	if (!ret)
		ret = cli_parse_size(argv[optind + 1], "new size", &size);
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret)
		ret = cli_find_volume(ctx, argv[optind], &vol);
	if (ret)
		return ret;
	if (size <= vol->size) {
		cli_error("volume %s is %" PRIu64 " GiB: the new size must be larger (volumes only grow)",
			  vol->id, vol->size);
		ret = CLI_EXIT_USAGE;
	} else if (cl_volume_extend(ctx, vol, size, &err)) {
		ret = cli_fail(&err, "cannot extend the volume");
	} else if (cli_globals.json) {
		cli_json_print(cli_volume_json(vol));
	}
	cl_volume_free(vol);
	return ret;
}

static int volume_clone(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		CREATE_OPTIONS, CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct create_args a = { 0 };
	struct cl_context *ctx;
	struct cl_volume *src = NULL, *vol = NULL;
	struct cl_error err = { 0 };
	int c, ret = 0;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hn:d:m:s:", opts,
				    &ret)) > 0) {
		/* A clone stays on its source's backend. */
		if (c == 'B')
			ret = cli_option_error(GROUP, self, c, argv);
		else
			ret = create_option(&a, c, optarg);
		if (ret)
			goto out;
	}
	if (c < 0)
		goto out;
	ret = cli_check_args(GROUP, self, argc - optind, 1, 1);
	if (!ret && a.size_text)
		ret = cli_parse_size(a.size_text, "size", &a.opts.size);
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret)
		ret = cli_find_volume(ctx, argv[optind], &src);
	if (ret)
		goto out;
	if (a.opts.size && a.opts.size < src->size) {
		cli_error("a clone cannot be smaller than its source (%" PRIu64 " GiB)",
			  src->size);
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	create_args_finish(&a);
	if (cl_volume_clone(ctx, src, &a.opts, &vol, &err)) {
		ret = cli_fail(&err, "cannot clone the volume");
		goto out;
	}
	cli_print_result(&cli_volume_form, vol, vol->id);
	cl_volume_free(vol);
out:
	cl_volume_free(src);
	create_args_free(&a);
	return ret;
}

static int delete_one(struct cl_context *ctx, const char *ref, void *unused)
{
	struct cl_snapshot_list snaps = { 0 };
	struct cl_error err = { 0 };
	struct cl_volume *vol = NULL;
	int ret = cli_find_volume(ctx, ref, &vol);

	if (!ret && cl_volume_snapshots(ctx, vol, &snaps, NULL) == 0 &&
	    snaps.count) {
		cli_error("volume %s has %zu snapshot(s): delete them first (cinderctl snapshot list --volume %s)",
			  vol->id, snaps.count, vol->id);
		ret = CLI_EXIT_FAILED;
	} else if (!ret && cl_volume_delete(ctx, vol, &err)) {
		ret = cli_failf(&err, "cannot delete volume %s", vol->id);
	}
	cl_snapshot_list_free(&snaps);
	cl_volume_free(vol);
	return ret;
}

static int volume_delete(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 1, -1, &ctx, &ret))
		return ret;
	/* Delete what can be deleted, report the rest, exit with the worst. */
	return cli_for_each_ref(ctx, argc - optind, argv + optind, delete_one,
				NULL);
}

static int volume_update(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "description", required_argument, NULL, 'd' },
		{ "bootable", required_argument, NULL, 'b' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	const char *name = NULL, *description = NULL;
	bool bootable = false, set_bootable = false;
	struct cl_context *ctx;
	struct cl_volume *vol;
	struct cl_error err = { 0 };
	char *old_name, *old_description;
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
		case 'b':
			ret = cli_parse_bool(optarg, "--bootable", &bootable);
			if (ret)
				return ret;
			set_bootable = true;
			break;
		}
	}
	if (c < 0)
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 1, 1);
	if (ret)
		return ret;
	if (!name && !description && !set_bootable) {
		cli_error("volume update: nothing to change (give --name, --description or --bootable)");
		return CLI_EXIT_USAGE;
	}
	ret = cli_context(&ctx);
	if (!ret)
		ret = cli_find_volume(ctx, argv[optind], &vol);
	if (ret)
		return ret;
	old_name = vol->name;
	old_description = vol->description;
	if (name)
		vol->name = strdup(name);
	if (description)
		vol->description = strdup(description);
	if ((name && !vol->name) || (description && !vol->description)) {
		cli_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	if (name)
		free(old_name);
	if (description)
		free(old_description);
	if (set_bootable)
		vol->bootable = bootable;
	if (cl_volume_save(ctx, vol, &err))
		ret = cli_fail(&err, "cannot save the volume");
	else if (cli_globals.json)
		cli_json_print(cli_volume_json(vol));
	cl_volume_free(vol);
	return ret;
}

static int volume_set_metadata(const struct cli_action *self, int argc,
			       char **argv)
{
	struct cl_dict pairs = { 0 };
	struct cl_context *ctx;
	struct cl_volume *vol = NULL;
	struct cl_error err = { 0 };
	int ret;

	if (cli_common_options(GROUP, self, argc, argv, &ret))
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 2, -1);
	for (int i = optind + 1; !ret && i < argc; i++)
		ret = cli_parse_key_value(argv[i], "metadata", &pairs);
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret)
		ret = cli_find_volume(ctx, argv[optind], &vol);
	if (ret)
		goto out;
	/* All keys in one save: either every pair is stored or none. */
	if (cl_volume_update_metadata(ctx, vol, &pairs, NULL, &err)) {
		ret = cli_fail(&err, "cannot save the metadata");
	} else if (cli_globals.json) {
		cli_json_print(cli_dict_json(&vol->metadata));
	}
out:
	cl_volume_free(vol);
	cl_dict_clear(&pairs);
	return ret;
}

static int volume_unset_metadata(const struct cli_action *self, int argc,
				 char **argv)
{
	struct cl_context *ctx;
	struct cl_volume *vol;
	struct cl_error err = { 0 };
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 2, -1, &ctx, &ret))
		return ret;
	ret = cli_find_volume(ctx, argv[optind], &vol);
	if (ret)
		return ret;
	for (int i = optind + 1; i < argc; i++)
		if (!cl_dict_get(&vol->metadata, argv[i]))
			fprintf(stderr, "cinderctl: warning: volume %s has no metadata key '%s'\n",
				vol->id, argv[i]);
	/* argv ends with NULL: the keys are a NULL-ended list. */
	if (cl_volume_update_metadata(ctx, vol, NULL,
				      (const char *const *)&argv[optind + 1],
				      &err))
		ret = cli_fail(&err, "cannot save the metadata");
	else if (cli_globals.json)
		cli_json_print(cli_dict_json(&vol->metadata));
	cl_volume_free(vol);
	return ret;
}

/* A connector given as a JSON object: every value kept as a string. */
static int parse_connector_json(const char *text, struct cl_dict *out)
{
	struct json_object *obj = json_tokener_parse(text);

	if (!obj || !json_object_is_type(obj, json_type_object)) {
		cli_error("invalid connector '%s': expected a JSON object or KEY=VALUE pairs",
			  text);
		json_object_put(obj);
		return CLI_EXIT_USAGE;
	}
	json_object_object_foreach(obj, key, val) {
		if (json_object_is_type(val, json_type_null))
			continue;
		cl_dict_set(out, key, json_object_get_string(val));
	}
	json_object_put(obj);
	return CLI_EXIT_OK;
}

static int volume_connect(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "connector", required_argument, NULL, 'C' },
		{ "host", required_argument, NULL, 'H' },
		{ "mode", required_argument, NULL, 'm' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	enum cl_attach_mode mode = CL_ATTACH_RW;
	struct cl_dict connector = { 0 };
	const char *for_host = NULL;
	struct cl_context *ctx;
	struct cl_volume *vol = NULL;
	struct cl_connection *conn;
	struct cl_error err = { 0 };
	int c, ret = 0;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hC:H:m:", opts,
				    &ret)) > 0) {
		switch (c) {
		case 'H':
			for_host = optarg;
			break;
		case 'C':
			ret = optarg[0] == '{' ?
				parse_connector_json(optarg, &connector) :
				cli_parse_key_value(optarg, "connector",
						    &connector);
			break;
		case 'm':
			ret = cli_parse_mode(optarg, &mode);
			break;
		}
		if (ret)
			goto out;
	}
	if (c < 0)
		goto out;
	ret = cli_check_args(GROUP, self, argc - optind, 1, -1);
	/* KEY=VALUE words after the volume add to the connector. */
	for (int i = optind + 1; !ret && i < argc; i++)
		ret = argv[i][0] == '{' ? parse_connector_json(argv[i], &connector) :
			cli_parse_key_value(argv[i], "connector", &connector);
	if (ret)
		goto out;
	if (for_host && connector.count) {
		cli_error("volume connect: --host takes the connector HOST published; give either it or --connector");
		ret = CLI_EXIT_USAGE;
		goto out;
	}
	if (!for_host && !cl_dict_get(&connector, "host")) {
		char host[256];

		if (gethostname(host, sizeof(host)) == 0) {
			host[sizeof(host) - 1] = '\0';
			cl_dict_set(&connector, "host", host);
		}
	}
	ret = cli_context(&ctx);
	if (!ret && for_host &&
	    cl_connector_published(ctx, for_host, &connector, &err))
		ret = cli_fail(&err, "cannot connect the volume");
	if (!ret)
		ret = cli_find_volume(ctx, argv[optind], &vol);
	if (ret)
		goto out;
	if (cl_volume_connect(ctx, vol, &connector, mode, &conn, &err)) {
		ret = cli_fail(&err, "cannot connect the volume");
		goto out;
	}
	cli_print_result(&cli_connection_form, conn, conn->id);
	cl_connection_free(conn);
out:
	cl_volume_free(vol);
	cl_dict_clear(&connector);
	return ret;
}

static int volume_disconnect(const struct cli_action *self, int argc,
			     char **argv)
{
	struct cl_connection_list conns = { 0 };
	struct cl_context *ctx;
	struct cl_volume *vol;
	struct cl_error err = { 0 };
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 1, 2, &ctx, &ret))
		return ret;
	ret = cli_find_volume(ctx, argv[optind], &vol);
	if (ret)
		return ret;
	if (optind + 1 < argc) {
		struct cl_connection *conn = NULL;

		ret = cli_find_connection(ctx, argv[optind + 1], &conn);
		if (!ret && strcmp(conn->volume_id, vol->id)) {
			cli_error("connection %s belongs to volume %s, not %s",
				  conn->id, conn->volume_id, vol->id);
			ret = CLI_EXIT_USAGE;
		}
		if (!ret && cl_connection_disconnect(ctx, conn, &err))
			ret = cli_fail(&err, "cannot disconnect");
		cl_connection_free(conn);
		cl_volume_free(vol);
		return ret;
	}
	if (cl_volume_connections(ctx, vol, &conns, &err)) {
		ret = cli_fail(&err, "cannot list the volume's connections");
	} else if (conns.count == 0) {
		cli_error("volume %s has no connection", vol->id);
		ret = CLI_EXIT_NOT_FOUND;
	}
	for (size_t i = 0; !ret && i < conns.count; i++)
		if (cl_connection_disconnect(ctx, conns.items[i], &err))
			ret = cli_fail(&err, "cannot disconnect");
	cl_connection_list_free(&conns);
	cl_volume_free(vol);
	return ret;
}

static int volume_attach(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	enum cl_attach_mode mode = CL_ATTACH_RW;
	struct cl_context *ctx;
	struct cl_volume *vol = NULL;
	struct cl_connection *conn;
	struct cl_error err = { 0 };
	int c, ret = 0;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hm:", opts,
				    &ret)) > 0) {
		ret = cli_parse_mode(optarg, &mode);	/* -m, the only option */
		if (ret)
			return ret;
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
	if (cl_volume_attach(ctx, vol, mode, &conn, &err)) {
		/* A missing module is a failure, not a missing object. */
		ret = cli_fail(&err, "cannot attach the volume");
		if (ret == CLI_EXIT_NOT_FOUND)
			ret = CLI_EXIT_FAILED;
	} else {
		cli_print_result(&cli_connection_form, conn, conn->device_path);
		cl_connection_free(conn);
	}
	cl_volume_free(vol);
	return ret;
}

static int detach_one(struct cl_context *ctx, const char *ref, void *force)
{
	struct cl_volume *vol = NULL;
	struct cl_error err = { 0 };
	int ret = cli_find_volume(ctx, ref, &vol);

	if (!ret && cl_volume_detach(ctx, vol, *(bool *)force, &err))
		ret = cli_fail(&err, "cannot detach the volume");
	cl_volume_free(vol);
	return ret;
}

static int volume_detach(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct cl_context *ctx;
	bool force = false;
	int c, ret;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hf", opts,
				    &ret)) > 0)
		force = true;		/* -f, the only option */
	if (c < 0)
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 1, -1);
	if (!ret)
		ret = cli_context(&ctx);
	if (ret)
		return ret;
	return cli_for_each_ref(ctx, argc - optind, argv + optind, detach_one,
				&force);
}

static int volume_reconcile(const struct cli_action *self, int argc,
			    char **argv)
{
	return cli_reconcile_run(GROUP, self, argc, argv);
}

static const struct cli_action volume_actions[] = {
	{ "create", "SIZE [OPTIONS]", "create a volume of SIZE GiB; prints its id",
	  "  SIZE                     GiB, e.g. 10, 10G, 10GiB or 1T\n"
	  "  -B, --backend NAME       the backend (default: the first enabled)\n"
	  CREATE_HELP, volume_create },
	{ "list", "[OPTIONS]", "list volumes",
	  "      --backend NAME   only volumes of this backend\n"
	  "  -n, --name NAME      only volumes with this name\n"
	  "  -s, --status STATUS  only volumes in this status\n",
	  volume_list },
	{ "show", "VOLUME", "show a volume (by id, name or id prefix)", NULL,
	  volume_show },
	{ "extend", "VOLUME SIZE", "grow a volume to SIZE GiB",
	  "  SIZE   the new size, larger than the current one\n", volume_extend },
	{ "clone", "VOLUME [OPTIONS]", "clone a volume; prints the clone's id",
	  "  -s, --size SIZE          the clone's size (default: the source's)\n"
	  CREATE_HELP, volume_clone },
	{ "delete", "VOLUME...", "delete volumes (refused while they have snapshots)",
	  NULL, volume_delete },
	{ "update", "VOLUME [OPTIONS]", "change a volume's name, description or bootable flag",
	  "  -n, --name NAME          new name\n"
	  "  -d, --description TEXT   new description\n"
	  "      --bootable BOOL      true or false\n", volume_update },
	{ "set-metadata", "VOLUME KEY=VALUE...", "set metadata keys", NULL,
	  volume_set_metadata },
	{ "unset-metadata", "VOLUME KEY...", "remove metadata keys", NULL,
	  volume_unset_metadata },
	{ "connect", "VOLUME [--connector JSON|KEY=VALUE]... [KEY=VALUE...] | VOLUME --host HOST",
	  "export a volume to a host; prints the connection id",
	  "  -C, --connector JSON|K=V the attaching host's properties: a JSON\n"
	  "                           object or KEY=VALUE (repeatable); host\n"
	  "                           defaults to this machine's name\n"
	  "  -H, --host HOST          the connector HOST published in the\n"
	  "                           store ('cinderctl connector publish')\n"
	  "  -m, --mode rw|ro         attach mode (default rw)\n",
	  volume_connect },
	{ "disconnect", "VOLUME [CONNECTION]",
	  "end a connection (all of the volume's without CONNECTION)", NULL,
	  volume_disconnect },
	{ "attach", "VOLUME [--mode rw|ro]",
	  "attach a volume to this host; prints the device path",
	  "  -m, --mode rw|ro   read-write (default) or a read-only device\n",
	  volume_attach },
	{ "detach", "VOLUME... [--force]",
	  "remove a volume's device from this host and disconnect",
	  "  -f, --force        also while the device is mounted or open (its\n"
	  "                     users get I/O errors), and clean up a stale\n"
	  "                     attachment whose device is gone\n",
	  volume_detach },
	{ "reconcile", "[--dry-run]",
	  "clean up attachments whose device is gone (same as 'connection reconcile')",
	  "  -n, --dry-run      only list them\n", volume_reconcile },
};

static int volume_run(int argc, char **argv)
{
	return cli_dispatch(GROUP, "Create, inspect, change and delete volumes.",
			    volume_actions,
			    sizeof(volume_actions) / sizeof(volume_actions[0]),
			    argc, argv);
}

static const struct cli_command volume_command = {
	"volume", "create, list, show, extend, clone, delete, attach volumes",
	volume_run
};
CLI_COMMAND(volume_command);
