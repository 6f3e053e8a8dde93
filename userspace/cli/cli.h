/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cinderctl internals shared by its subcommands. Each subcommand lives in
 * its own cmd_*.c file and registers itself with CLI_COMMAND(); main.c
 * only parses global options and dispatches.
 */
#ifndef CINDERCTL_CLI_H
#define CINDERCTL_CLI_H

#include <stdbool.h>

#include "cinderlib/error.h"

/* Exit codes, documented in cinderctl(8). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILED = 1,	/* the operation was tried and failed */
	CLI_EXIT_USAGE = 2,	/* bad command line */
	CLI_EXIT_NOT_FOUND = 3,	/* the named object does not exist */
};

/* Options given before the subcommand, visible to every subcommand. */
struct cli_globals {
	const char *config_path;	/* --config, NULL = default */
	bool json;			/* --json given before the subcommand */
	bool verbose;
};

extern struct cli_globals cli_globals;

struct cli_command {
	const char *name;
	const char *summary;	/* one line for "cinderctl --help" */
	/* argv[0] is the subcommand's name; returns an enum cli_exit. */
	int (*run)(int argc, char **argv);
};

void cli_register(const struct cli_command *cmd);

#define CLI_COMMAND(var)						\
	static void __attribute__((constructor)) cli_register_##var(void) \
	{								\
		cli_register(&(var));					\
	}

/* "cinderctl: error: ..." on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "cinderctl: error: <what>: <err->msg>" and the exit code it maps to. */
int cli_fail(const struct cl_error *err, const char *what);
/* Map a negative errno to an exit code: -ENOENT is "not found". */
int cli_exit_code(int neg_errno);

#endif /* CINDERCTL_CLI_H */
