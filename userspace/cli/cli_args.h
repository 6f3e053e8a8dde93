/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command-line plumbing shared by the cinderctl subcommands: second-level
 * dispatch ("volume create"), option errors, sizes and key=value arguments,
 * opening the configured context and backends, and finding objects by id
 * or name. Every function that can fail prints "cinderctl: error: ..." and
 * returns an enum cli_exit, so that callers can return it directly.
 */
#ifndef CINDERCTL_CLI_ARGS_H
#define CINDERCTL_CLI_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cinderlib/cinderlib.h"
#include "cli.h"

/* One action of a command group: "volume create", "snapshot list", ... */
struct cli_action {
	const char *name;
	const char *args;	/* synopsis after the name: "SIZE [OPTIONS]" */
	const char *summary;	/* one line */
	const char *help;	/* option and argument lines, may be NULL */
	int (*run)(const struct cli_action *self, int argc, char **argv);
};

/*
 * Run the action named by argv[1] of group argv[0] with argv shifted by one
 * (the action sees its own name as argv[0]). "--help", "help" and no action
 * print the group's help. Leading --json before the action is accepted.
 */
int cli_dispatch(const char *group, const char *summary,
		 const struct cli_action *actions, size_t nr_actions,
		 int argc, char **argv);

/* "Usage: cinderctl GROUP ACTION ARGS" and the help text of @self. */
void cli_action_usage(const char *group, const struct cli_action *self,
		      FILE *out);

/* Options every action takes; keep 'h' and 'J' free for them. */
#define CLI_OPT_HELP { "help", no_argument, NULL, 'h' }
#define CLI_OPT_JSON { "json", no_argument, NULL, 'J' }

/*
 * Handle what getopt_long() returned that the action itself does not:
 * 'h' prints the help (exit 0), '?' and ':' report the bad option (exit 2).
 */
int cli_option_error(const char *group, const struct cli_action *self,
		     int c, char **argv);

/*
 * getopt_long() for an action, with --json and --help and bad options
 * handled here: the next option of the action's own, 0 after the last
 * one, or -1 when the action must stop and return *@code (help printed,
 * bad option). @shortopts starts with ":h" like every action's.
 */
int cli_next_option(const char *group, const struct cli_action *self,
		    int argc, char **argv, const char *shortopts,
		    const struct option *longopts, int *code);

/*
 * Parse the options of an action that has only --help and --json. True
 * when the action must stop and return *@code (help printed, bad option).
 */
bool cli_common_options(const char *group, const struct cli_action *self,
			int argc, char **argv, int *code);

/*
 * The start of an action that has only --help and --json: its options,
 * between @min_args and @max_args arguments (see cli_check_args()), then
 * the context in *@ctx. False when the action must stop and return *@code.
 */
bool cli_action_ready(const char *group, const struct cli_action *self,
		      int argc, char **argv, int min_args, int max_args,
		      struct cl_context **ctx, int *code);

/* What "snapshot list" and "connection list" select. */
struct cli_list_filter {
	struct cl_filter filter;
	struct cl_volume *volume;	/* --volume, found; cl_volume_free() it */
};

/*
 * The start of a list action whose options (@longopts, @shortopts) are
 * among -v/--volume VOLUME, --backend NAME (B) and -n/--name NAME: the
 * options into @f, no arguments, the context in *@ctx, the volume found.
 * False when the action must stop and return *@code.
 */
bool cli_list_ready(const char *group, const struct cli_action *self,
		    int argc, char **argv, const char *shortopts,
		    const struct option *longopts, struct cli_list_filter *f,
		    struct cl_context **ctx, int *code);

/*
 * Run @one on each of @count object references (an action's VOLUME...
 * arguments): every one is tried, the worst exit code is returned.
 */
int cli_for_each_ref(struct cl_context *ctx, int count, char **refs,
		     int (*one)(struct cl_context *ctx, const char *ref,
				void *data),
		     void *data);

/* cli_fail() with a printf-style "what". */
int cli_failf(const struct cl_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Check that @have positional arguments lie in [@min, @max] (max -1 = no
 * limit); otherwise print what is missing or extra. 0 when fine.
 */
int cli_check_args(const char *group, const struct cli_action *self,
		   int have, int min, int max);

/*
 * A size in GiB: "10", "10G", "10GiB", "10GB", "2T", "2TiB". Refuses 0,
 * negative, fractional, non-numeric and larger than CL_MAX_SIZE_GIB.
 * @what names the argument in the message ("size").
 */
int cli_parse_size(const char *text, const char *what, uint64_t *out);

/* "key=value" into @d; an argument without "=" is a usage error. */
int cli_parse_key_value(const char *text, const char *what, struct cl_dict *d);
/* "true/false/yes/no/on/off/1/0". */
int cli_parse_bool(const char *text, const char *what, bool *out);

/* The closest of @candidates to @word (edit distance), or NULL. */
const char *cli_suggest(const char *word, const char *const *candidates,
			size_t count);

/*
 * The configuration: --config FILE, else /etc/cinderlib/cinderlib.conf if
 * present, else the library's embedded default. Loaded once.
 */
int cli_config(const struct cl_config **out);
/* The context made from the configuration; opened once, freed at exit. */
int cli_context(struct cl_context **out);
/*
 * Backend @name, or the default one when @name is NULL: the first of
 * enabled_backends, else "default". An unknown name is a usage error that
 * lists the configured backends.
 */
int cli_backend(const char *name, struct cl_backend **out);
/* The name cli_backend(NULL) would use. */
const char *cli_default_backend_name(void);

/* Find objects by id, name or unique id prefix: 3 when not found. */
int cli_find_volume(struct cl_context *ctx, const char *ref,
		    struct cl_volume **out);
int cli_find_snapshot(struct cl_context *ctx, const char *ref,
		      struct cl_snapshot **out);
int cli_find_connection(struct cl_context *ctx, const char *ref,
			struct cl_connection **out);

/*
 * "GROUP reconcile [--dry-run]" (volume and connection groups): clean up
 * attachments whose device is gone; prints one line per attachment, or a
 * JSON array of the connections with --json.
 */
int cli_reconcile_run(const char *group, const struct cli_action *self,
		      int argc, char **argv);

/* An attach mode, "rw" or "ro"; CLI_EXIT_USAGE (said) for anything else. */
int cli_parse_mode(const char *text, enum cl_attach_mode *mode);

/* Read all of @path ("-" = stdin) into a malloc'd NUL-ended string. */
int cli_read_file(const char *path, char **out);

#endif /* CINDERCTL_CLI_ARGS_H */
