// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl connector: this host's connector properties (what a volume's
 * host needs to connect it here), and publishing them in the shared store
 * so that a controller connects volumes for this node by its name alone
 * ('volume connect VOLUME --host NODE').
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

#define GROUP "connector"

static void print_properties(const struct cl_dict *props)
{
	if (cli_globals.json) {
		cli_json_print(cli_dict_json(props));
		return;
	}
	for (size_t i = 0; i < props->count; i++)
		printf("%s=%s\n", props->entries[i].key,
		       props->entries[i].value);
}

static int connector_show(const struct cli_action *self, int argc,
			  char **argv)
{
	struct cl_dict props = { 0 };
	struct cl_error err = { 0 };
	struct cl_context *ctx;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 0, 1, &ctx, &ret))
		return ret;
	if (optind < argc)
		ret = cl_connector_published(ctx, argv[optind], &props, &err);
	else
		ret = cl_local_connector(ctx, &props, &err);
	if (ret == -ENOENT) {
		cli_error("%s", err.msg);
		return CLI_EXIT_NOT_FOUND;
	}
	if (ret)
		return cli_fail(&err, "cannot read the connector");
	print_properties(&props);
	cl_dict_clear(&props);
	return CLI_EXIT_OK;
}

static int connector_publish(const struct cli_action *self, int argc,
			     char **argv)
{
	struct cl_dict extra = { 0 }, props = { 0 };
	struct cl_error err = { 0 };
	struct cl_context *ctx;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 0, -1, &ctx, &ret))
		return ret;
	for (int i = optind; !ret && i < argc; i++)
		ret = cli_parse_key_value(argv[i], "connector", &extra);
	if (!ret && cl_connector_publish(ctx, &extra, &props, &err))
		ret = cli_fail(&err, "cannot publish the connector");
	if (!ret)
		print_properties(&props);
	cl_dict_clear(&extra);
	cl_dict_clear(&props);
	return ret;
}

static int connector_list(const struct cli_action *self, int argc,
			  char **argv)
{
	static const char *const headers[] = { "HOST", "IP", "PROPERTIES" };
	struct cl_dict pairs = { 0 };
	struct cl_error err = { 0 };
	struct cl_context *ctx;
	struct json_object *all;
	struct cli_table *t;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 0, 0, &ctx, &ret))
		return ret;
	if (cl_kv_list(ctx, CL_CONNECTOR_KEY_PREFIX, &pairs, &err))
		return cli_fail(&err, "cannot list the published connectors");
	all = json_object_new_object();
	t = cli_table_new(3, headers);
	for (size_t i = 0; i < pairs.count; i++) {
		const char *host = pairs.entries[i].key +
				   strlen(CL_CONNECTOR_KEY_PREFIX);
		struct cl_dict props = { 0 };
		struct cl_error e = { 0 };
		char count[32];
		const char *cells[3];

		/* A bad record is shown as such, not hidden. */
		if (cl_connector_published(ctx, host, &props, &e)) {
			cells[0] = host;
			cells[1] = "-";
			cells[2] = e.msg;
			json_object_object_add(all, host, NULL);
		} else {
			snprintf(count, sizeof(count), "%zu", props.count);
			cells[0] = host;
			cells[1] = cl_dict_get(&props, "ip");
			cells[2] = count;
			json_object_object_add(all, host, cli_dict_json(&props));
		}
		cli_table_add(t, cells);
		cl_dict_clear(&props);
	}
	if (cli_globals.json) {
		cli_json_print(all);
	} else {
		json_object_put(all);
		cli_table_print(t, stdout);
	}
	cli_table_free(t);
	cl_dict_clear(&pairs);
	return CLI_EXIT_OK;
}

static int connector_unpublish(const struct cli_action *self, int argc,
			       char **argv)
{
	struct cl_error err = { 0 };
	struct cl_context *ctx;
	int ret;

	if (!cli_action_ready(GROUP, self, argc, argv, 0, 1, &ctx, &ret))
		return ret;
	if (cl_connector_unpublish(ctx, optind < argc ? argv[optind] : NULL,
				   &err))
		return cli_fail(&err, "cannot unpublish the connector");
	return CLI_EXIT_OK;
}

static const struct cli_action connector_actions[] = {
	{ "show", "[HOST]",
	  "this host's connector properties, or those HOST published", NULL,
	  connector_show },
	{ "publish", "[KEY=VALUE...]",
	  "save this host's connector properties (KEY=VALUE over them) in the store, for 'volume connect --host'; prints them",
	  NULL, connector_publish },
	{ "list", "", "list the connectors hosts published", NULL,
	  connector_list },
	{ "unpublish", "[HOST]",
	  "remove the connector this host (or HOST) published", NULL,
	  connector_unpublish },
};

static int connector_run(int argc, char **argv)
{
	return cli_dispatch(GROUP,
			    "This host's connector properties, and those hosts published in the store.",
			    connector_actions,
			    sizeof(connector_actions) / sizeof(connector_actions[0]),
			    argc, argv);
}

static const struct cli_command connector_command = {
	"connector", "show, publish, list this host's connector properties",
	connector_run
};
CLI_COMMAND(connector_command);
