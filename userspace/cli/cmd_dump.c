// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl dump: the store's state (or some volumes with their snapshots
 * and connections) as one JSON document that 'cinderctl load' reads back.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "cli_objects.h"

static void dump_usage(FILE *out)
{
	fprintf(out,
		"Usage: cinderctl dump [--all | VOLUME...] [--compact] [--output FILE]\n"
		"\n"
		"Print the state as JSON: every volume, snapshot, connection and\n"
		"key/value (--all, the default), or only the given volumes with\n"
		"their snapshots and connections. 'cinderctl load' reads it back.\n"
		"\n"
		"  -a, --all          the whole store\n"
		"      --compact      one line instead of indented JSON\n"
		"  -o, --output FILE  write to FILE instead of stdout\n"
		"  -h, --help         this help\n");
}

/* Parse the library's JSON for one object into the document's array. */
static int add_json(struct json_object *arr, char *text, int ret,
		    const struct cl_error *err)
{
	struct json_object *obj;

	if (ret)
		return cli_fail(err, "cannot serialize");
	obj = json_tokener_parse(text);
	free(text);
	if (!obj) {
		cli_error("the library produced invalid JSON");
		return CLI_EXIT_FAILED;
	}
	json_object_array_add(arr, obj);
	return CLI_EXIT_OK;
}

/* The given volumes with their snapshots and connections, in dump format. */
static int dump_volumes(struct cl_context *ctx, char **refs, int count,
			bool pretty, char **out)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *vols = json_object_new_array();
	struct json_object *snaps = json_object_new_array();
	struct json_object *conns = json_object_new_array();
	int ret = 0;

	json_object_object_add(doc, "format", json_object_new_int(1));
	json_object_object_add(doc, "volumes", vols);
	json_object_object_add(doc, "snapshots", snaps);
	json_object_object_add(doc, "connections", conns);
	json_object_object_add(doc, "key_values", json_object_new_object());
	for (int i = 0; !ret && i < count; i++) {
		struct cl_snapshot_list sl = { 0 };
		struct cl_connection_list cl = { 0 };
		struct cl_volume *vol = NULL;
		struct cl_error err = { 0 };
		char *text = NULL;

		ret = cli_find_volume(ctx, refs[i], &vol);
		if (ret)
			break;
		ret = add_json(vols, text,
			       cl_volume_to_json(vol, false, &text, &err), &err);
		if (!ret && (cl_volume_snapshots(ctx, vol, &sl, &err) ||
			     cl_volume_connections(ctx, vol, &cl, &err)))
			ret = cli_fail(&err, "cannot read the volume's objects");
		for (size_t j = 0; !ret && j < sl.count; j++) {
			int r = cl_snapshot_to_json(sl.items[j], false, &text, &err);

			ret = add_json(snaps, text, r, &err);
		}
		for (size_t j = 0; !ret && j < cl.count; j++) {
			int r = cl_connection_to_json(cl.items[j], false, &text,
						      &err);

			ret = add_json(conns, text, r, &err);
		}
		cl_snapshot_list_free(&sl);
		cl_connection_list_free(&cl);
		cl_volume_free(vol);
	}
	if (!ret) {
		*out = strdup(json_object_to_json_string_ext(doc,
			(pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
			 JSON_C_TO_STRING_PLAIN) | JSON_C_TO_STRING_NOSLASHESCAPE));
		if (!*out) {
			cli_error("out of memory");
			ret = CLI_EXIT_FAILED;
		}
	}
	json_object_put(doc);
	return ret;
}

static int dump_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "compact", no_argument, NULL, 'C' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *output = NULL;
	bool all = false, pretty = true;
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	char *text = NULL;
	FILE *out = stdout;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":aho:", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'C':
			pretty = false;
			break;
		case 'o':
			output = optarg;
			break;
		case 'J':
			break;	/* always JSON */
		case 'h':
			dump_usage(stdout);
			return CLI_EXIT_OK;
		case ':':
			cli_error("dump: option '%s' needs a value", argv[optind - 1]);
			return CLI_EXIT_USAGE;
		default:
			cli_error("dump: unknown option '%s' (see cinderctl dump --help)",
				  argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (all && optind < argc) {
		cli_error("dump: give either --all or volumes, not both");
		return CLI_EXIT_USAGE;
	}
	ret = cli_context(&ctx);
	if (ret)
		return ret;
	if (optind < argc) {
		ret = dump_volumes(ctx, argv + optind, argc - optind, pretty, &text);
		if (ret)
			return ret;
	} else if (cl_state_dump(ctx, pretty, &text, &err)) {
		return cli_fail(&err, "cannot dump the state");
	}
	if (output) {
		out = fopen(output, "w");
		if (!out) {
			cli_error("cannot write '%s': %m", output);
			free(text);
			return CLI_EXIT_FAILED;
		}
	}
	fputs(text, out);
	if (text[0] && text[strlen(text) - 1] != '\n')
		fputc('\n', out);
	free(text);
	if (output && fclose(out)) {
		cli_error("cannot write '%s': %m", output);
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

static const struct cli_command dump_command = {
	"dump", "print the state (or some volumes) as JSON", dump_run
};
CLI_COMMAND(dump_command);
