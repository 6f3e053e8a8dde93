// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl load: read a dump (from 'cinderctl dump' or the library's
 * serialization) and, with --save, write its objects into the store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

static void load_usage(FILE *out)
{
	fprintf(out,
		"Usage: cinderctl load FILE|- [--save]\n"
		"\n"
		"Parse a JSON dump and check it against the configured backends;\n"
		"with --save, write every object into the store (in one\n"
		"transaction where the store has them). '-' reads stdin.\n"
		"\n"
		"  -s, --save   store the objects (without it nothing changes)\n"
		"      --json   print the counts as JSON\n"
		"  -h, --help   this help\n");
}

static int load_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "save", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct cl_state *state = NULL;
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	bool save = false;
	char *text;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hs", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			save = true;
			break;
		case 'J':
			cli_globals.json = true;
			break;
		case 'h':
			load_usage(stdout);
			return CLI_EXIT_OK;
		default:
			cli_error("load: unknown option '%s' (see cinderctl load --help)",
				  argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_error("load: %s (usage: cinderctl load FILE|- [--save])",
			  argc - optind < 1 ? "missing FILE" : "too many arguments");
		return CLI_EXIT_USAGE;
	}
	ret = cli_read_file(argv[optind], &text);
	if (ret)
		return ret;
	ret = cli_context(&ctx);
	if (!ret && cl_state_load(ctx, text, save, &state, &err)) {
		char what[512];

		snprintf(what, sizeof(what), "cannot load '%s'", argv[optind]);
		ret = cli_fail(&err, what);
	}
	free(text);
	if (ret)
		return ret;
	if (cli_globals.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "volumes",
				       json_object_new_uint64(state->volumes.count));
		json_object_object_add(o, "snapshots",
				       json_object_new_uint64(state->snapshots.count));
		json_object_object_add(o, "connections",
				       json_object_new_uint64(state->connections.count));
		json_object_object_add(o, "key_values",
				       json_object_new_uint64(state->key_values.count));
		json_object_object_add(o, "saved", json_object_new_boolean(save));
		cli_json_print(o);
	} else {
		printf("%zu volume(s), %zu snapshot(s), %zu connection(s), %zu key/value(s) %s\n",
		       state->volumes.count, state->snapshots.count,
		       state->connections.count, state->key_values.count,
		       save ? "saved" : "read (not saved: add --save to store them)");
	}
	cl_state_free(state);
	return CLI_EXIT_OK;
}

static const struct cli_command load_command = {
	"load", "read a JSON dump, optionally saving it into the store", load_run
};
CLI_COMMAND(load_command);
