// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl drivers: the driver plugins found and their option tables
 * (cinderlib's list_supported_drivers).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

static void drivers_usage(FILE *out)
{
	fprintf(out,
		"Usage: cinderctl drivers [NAME] [--json]\n"
		"\n"
		"List the available volume drivers with their options (name,\n"
		"type, default, help): what a backend section of the\n"
		"configuration may set. NAME shows one driver.\n"
		"\n"
		"      --json   JSON output\n"
		"  -h, --help   this help\n");
}

static void print_driver(const struct cl_driver_info *drv)
{
	static const char *const headers[] = { "OPTION", "TYPE", "DEFAULT", "HELP" };
	struct cli_table *t = cli_table_new(4, headers);

	printf("%s %s: %s\n", drv->name, drv->version ? drv->version : "",
	       drv->description ? drv->description : "");
	if (drv->path)
		printf("  (%s)\n", drv->path);
	for (size_t i = 0; i < drv->nr_options; i++) {
		const struct cl_driver_option *o = &drv->options[i];
		const char *cells[4] = { o->name, cl_option_type_name(o->type),
					 o->default_value, o->help };

		cli_table_add(t, cells);
	}
	if (drv->nr_options)
		cli_table_print(t, stdout);
	else
		puts("  (no options)");
	cli_table_free(t);
}

static int drivers_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct cl_driver_info_list list = { 0 };
	const struct cl_config *cfg;
	struct cl_error err = { 0 };
	const char *only = NULL;
	struct json_object *arr = NULL;
	size_t shown = 0;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'J':
			cli_globals.json = true;
			break;
		case 'h':
			drivers_usage(stdout);
			return CLI_EXIT_OK;
		default:
			cli_error("drivers: unknown option '%s' (see cinderctl drivers --help)",
				  argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		cli_error("drivers: too many arguments (usage: cinderctl drivers [NAME])");
		return CLI_EXIT_USAGE;
	}
	only = optind < argc ? argv[optind] : NULL;
	/*
	 * Only the configured driver directory matters here, not the store:
	 * listing drivers must work (and change nothing) before any state
	 * exists. The configured directory wins over the environment.
	 */
	ret = cli_config(&cfg);
	if (ret)
		return ret;
	if (cfg->driver_dir && setenv("CINDERLIB_DRIVER_DIR", cfg->driver_dir, 1)) {
		cli_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	if (cl_list_supported_drivers(NULL, &list, &err))
		return cli_fail(&err, "cannot list the drivers");
	if (cli_globals.json)
		arr = json_object_new_array();
	for (size_t i = 0; i < list.count; i++) {
		const struct cl_driver_info *drv = &list.items[i];

		if (only && strcmp(drv->name, only))
			continue;
		if (arr) {
			json_object_array_add(arr, cli_driver_json(drv));
		} else {
			if (shown)
				putchar('\n');
			print_driver(drv);
		}
		shown++;
	}
	if (only && !shown) {
		json_object_put(arr);
		cli_error("no driver named '%s' (see cinderctl drivers)", only);
		ret = CLI_EXIT_NOT_FOUND;
	} else if (arr) {
		/* One driver asked for: the object, not a list of one. */
		if (only) {
			struct json_object *one = json_object_get(
				json_object_array_get_idx(arr, 0));

			json_object_put(arr);
			arr = one;
		}
		cli_json_print(arr);
	} else if (!shown) {
		puts("no drivers found (set driver_dir or CINDERLIB_DRIVER_DIR)");
	}
	cl_driver_info_list_free(&list);
	return ret;
}

static const struct cli_command drivers_command = {
	"drivers", "list volume drivers and their options", drivers_run
};
CLI_COMMAND(drivers_command);
