// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl backend: the configured backends, their options and capacity.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

#define GROUP "backend"

/* Number of volumes of @name in the store, or -1 when unknown. */
static long long backend_volume_count(struct cl_context *ctx, const char *name)
{
	struct cl_filter filter = { .backend = name };
	struct cl_volume_list list = { 0 };
	long long count;

	if (cl_volume_find(ctx, &filter, &list, NULL))
		return -1;
	count = (long long)list.count;
	cl_volume_list_free(&list);
	return count;
}

/* One row of "backend list": a configured backend and whether it opens. */
struct backend_entry {
	const char *name;
	const char *driver;
	long long volumes;	/* -1 when unknown */
	bool is_default;
	const char *error;	/* why it does not open, NULL when it does */
};

static struct json_object *backend_entry_json(const void *obj)
{
	const struct backend_entry *e = obj;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "driver", cli_json_string(e->driver));
	json_object_object_add(o, "volumes", json_object_new_int64(e->volumes));
	json_object_object_add(o, "default", json_object_new_boolean(e->is_default));
	json_object_object_add(o, "ok", json_object_new_boolean(!e->error));
	json_object_object_add(o, "error", cli_json_string(e->error));
	return o;
}

static void backend_entry_row(struct cli_table *t, const void *obj)
{
	const struct backend_entry *e = obj;
	char state[CL_ERROR_MSG_MAX + 16], vols[32];
	const char *cells[5] = {
		e->name, e->driver, e->volumes < 0 ? "?" : vols,
		e->is_default ? "yes" : "", state
	};

	if (e->error)
		snprintf(state, sizeof(state), "error: %s",
			 e->error[0] ? e->error : "cannot open");
	else
		snprintf(state, sizeof(state), "ok");
	snprintf(vols, sizeof(vols), "%lld", e->volumes);
	cli_table_add(t, cells);
}

static const char *const backend_headers[] = {
	"NAME", "DRIVER", "VOLUMES", "DEFAULT", "STATE"
};

static const struct cli_object_form backend_entry_form = {
	backend_entry_json, NULL, 5, backend_headers, backend_entry_row
};

static int backend_list(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	struct cli_list *l;
	const char *default_name;
	char **names = NULL;
	size_t count = 0;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 0, 0, &ctx, &ret))
		return ret;
	if (cl_backend_names(ctx, &names, &count, &err))
		return cli_fail(&err, "cannot list backends");
	default_name = cli_default_backend_name();
	l = cli_list_new(&backend_entry_form);
	for (size_t i = 0; i < count; i++) {
		struct cl_backend *be = NULL;
		struct cl_error open_err = { 0 };
		/* Opening runs the driver's checks: that is the state shown. */
		int open_ret = cl_backend_get(ctx, names[i], &be, &open_err);
		struct backend_entry e = {
			.name = names[i],
			.driver = be ? cl_backend_driver_name(be) : NULL,
			.volumes = backend_volume_count(ctx, names[i]),
			.is_default = !strcmp(names[i], default_name),
			.error = open_ret ? open_err.msg : NULL,
		};

		cli_list_add(l, &e);
	}
	cli_list_print(l);
	cl_strv_free(names, count);
	return CLI_EXIT_OK;
}

static int backend_show(const struct cli_action *self, int argc, char **argv)
{
	struct cl_backend_stats stats = { 0 };
	struct cl_context *ctx;
	struct cl_backend *be;
	struct cl_error err = { 0 };
	const struct cl_dict *options;
	long long volumes;
	int ret, stats_ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 0, 1, &ctx, &ret))
		return ret;
	ret = cli_backend(optind < argc ? argv[optind] : NULL, &be);
	if (ret)
		return ret;
	options = cl_backend_options(be);
	volumes = backend_volume_count(ctx, cl_backend_name(be));
	stats_ret = cl_backend_stats(be, false, &stats, &err);
	if (cli_globals.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(cl_backend_name(be)));
		json_object_object_add(o, "driver",
				       cli_json_string(cl_backend_driver_name(be)));
		json_object_object_add(o, "default", json_object_new_boolean(
			!strcmp(cl_backend_name(be), cli_default_backend_name())));
		json_object_object_add(o, "options", options ?
				       cli_dict_json(options) : json_object_new_object());
		json_object_object_add(o, "volumes", json_object_new_int64(volumes));
		json_object_object_add(o, "stats", stats_ret ? NULL :
				       cli_stats_json(&stats));
		cli_json_print(o);
	} else {
		struct cli_show *s = cli_show_new();

		cli_show_add(s, "name", cl_backend_name(be));
		cli_show_add(s, "driver", cl_backend_driver_name(be));
		cli_show_add(s, "default", !strcmp(cl_backend_name(be),
			     cli_default_backend_name()) ? "yes" : "no");
		cli_show_addf(s, "volumes", "%lld", volumes);
		for (size_t i = 0; options && i < options->count; i++)
			cli_show_add(s, options->entries[i].key,
				     options->entries[i].value);
		if (!stats_ret) {
			cli_show_add(s, "vendor_name", stats.vendor_name);
			cli_show_add(s, "driver_version", stats.driver_version);
			cli_show_add(s, "storage_protocol", stats.storage_protocol);
		}
		cli_show_print(s, stdout);
		cli_show_free(s);
		if (!stats_ret && stats.nr_pools) {
			putchar('\n');
			cli_stats_print(&stats);
		}
	}
	if (stats_ret)
		fprintf(stderr, "cinderctl: warning: no capacity figures: %s\n",
			err.msg);
	else
		cl_backend_stats_free(&stats);
	return CLI_EXIT_OK;
}

static int backend_stats(const struct cli_action *self, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "refresh", no_argument, NULL, 'r' },
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};
	struct cl_backend_stats stats = { 0 };
	struct cl_backend *be;
	struct cl_error err = { 0 };
	bool refresh = false;
	int c, ret;

	while ((c = cli_next_option(GROUP, self, argc, argv, ":hr", opts,
				    &ret)) > 0)
		refresh = true;		/* -r, the only option */
	if (c < 0)
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 0, 1);
	if (!ret)
		ret = cli_backend(optind < argc ? argv[optind] : NULL, &be);
	if (ret)
		return ret;
	if (cl_backend_stats(be, refresh, &stats, &err))
		return cli_fail(&err, "cannot get the backend's capacity");
	if (cli_globals.json) {
		cli_json_print(cli_stats_json(&stats));
	} else {
		printf("backend %s (driver %s %s, %s)\n",
		       stats.volume_backend_name ? stats.volume_backend_name :
		       cl_backend_name(be),
		       stats.driver_name ? stats.driver_name : "?",
		       stats.driver_version ? stats.driver_version : "",
		       stats.storage_protocol ? stats.storage_protocol : "?");
		cli_stats_print(&stats);
	}
	cl_backend_stats_free(&stats);
	return CLI_EXIT_OK;
}

static const struct cli_action backend_actions[] = {
	{ "list", NULL, "list the configured backends and whether they open", NULL,
	  backend_list },
	{ "show", "[NAME]", "show a backend's driver, options and capacity",
	  "  NAME   the backend (default: the first enabled)\n", backend_show },
	{ "stats", "[NAME] [--refresh]", "capacity of a backend's pools",
	  "  NAME          the backend (default: the first enabled)\n"
	  "  -r, --refresh ask the driver again instead of the cached figures\n",
	  backend_stats },
};

static int backend_run(int argc, char **argv)
{
	return cli_dispatch(GROUP, "Inspect the configured storage backends.",
			    backend_actions,
			    sizeof(backend_actions) / sizeof(backend_actions[0]),
			    argc, argv);
}

static const struct cli_command backend_command = {
	"backend", "list, show backends and their capacity", backend_run
};
CLI_COMMAND(backend_command);
