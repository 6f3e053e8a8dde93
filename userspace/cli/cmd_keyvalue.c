// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl keyvalue: the store's key/value pairs, used by hosts to
 * publish information to each other (connector properties, ...).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

#define GROUP "keyvalue"

static int kv_get(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	char *value;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 1, 1, &ctx, &ret))
		return ret;
	ret = cl_kv_get(ctx, argv[optind], &value, &err);
	if (ret == -ENOENT) {
		cli_error("key '%s' is not set (see cinderctl keyvalue list)",
			  argv[optind]);
		return CLI_EXIT_NOT_FOUND;
	}
	if (ret)
		return cli_fail(&err, "cannot read the key");
	if (cli_globals.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, argv[optind],
				       json_object_new_string(value));
		cli_json_print(o);
	} else {
		puts(value);
	}
	free(value);
	return CLI_EXIT_OK;
}

static int kv_set(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	char *value = NULL;
	int ret;

	if (cli_common_options(GROUP, self, argc, argv, &ret))
		return ret;
	ret = cli_check_args(GROUP, self, argc - optind, 2, 2);
	if (!ret && argv[optind][0] == '\0') {
		cli_error("keyvalue set: the key must not be empty");
		ret = CLI_EXIT_USAGE;
	}
	/* "-" reads the value from stdin (one trailing newline dropped). */
	if (!ret && !strcmp(argv[optind + 1], "-")) {
		ret = cli_read_file("-", &value);
		if (!ret && value[0] && value[strlen(value) - 1] == '\n')
			value[strlen(value) - 1] = '\0';
	}
	if (!ret)
		ret = cli_context(&ctx);
	if (!ret && cl_kv_set(ctx, argv[optind], value ? value : argv[optind + 1],
			      &err))
		ret = cli_fail(&err, "cannot set the key");
	free(value);
	return ret;
}

static int kv_delete(const struct cli_action *self, int argc, char **argv)
{
	struct cl_context *ctx;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 1, -1, &ctx, &ret))
		return ret;
	for (int i = optind; !ret && i < argc; i++) {
		struct cl_error err = { 0 };

		if (cl_kv_delete(ctx, argv[i], &err))
			ret = cli_fail(&err, "cannot delete the key");
	}
	return ret;
}

static int kv_list(const struct cli_action *self, int argc, char **argv)
{
	static const char *const headers[] = { "KEY", "VALUE" };
	struct cl_dict pairs = { 0 };
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 0, 1, &ctx, &ret))
		return ret;
	if (cl_kv_list(ctx, optind < argc ? argv[optind] : NULL, &pairs, &err))
		return cli_fail(&err, "cannot list the keys");
	if (cli_globals.json) {
		cli_json_print(cli_dict_json(&pairs));
	} else {
		struct cli_table *t = cli_table_new(2, headers);

		for (size_t i = 0; i < pairs.count; i++) {
			const char *cells[2] = { pairs.entries[i].key,
						 pairs.entries[i].value };

			cli_table_add(t, cells);
		}
		cli_table_print(t, stdout);
		cli_table_free(t);
	}
	cl_dict_clear(&pairs);
	return CLI_EXIT_OK;
}

static const struct cli_action kv_actions[] = {
	{ "get", "KEY", "print a key's value (exit 3 when not set)", NULL, kv_get },
	{ "set", "KEY VALUE", "set a key (VALUE '-' reads stdin)", NULL, kv_set },
	{ "delete", "KEY...", "remove keys (missing keys are fine)", NULL,
	  kv_delete },
	{ "list", "[PREFIX]", "list keys and values, optionally by prefix", NULL,
	  kv_list },
};

static int kv_run(int argc, char **argv)
{
	return cli_dispatch(GROUP,
			    "Read and write the store's key/value pairs (cross-host coordination).",
			    kv_actions, sizeof(kv_actions) / sizeof(kv_actions[0]),
			    argc, argv);
}

static const struct cli_command keyvalue_command = {
	"keyvalue", "get, set, delete, list key/value pairs", kv_run
};
CLI_COMMAND(keyvalue_command);
