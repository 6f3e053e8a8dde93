// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl: the helper CLI of cinderlib. Global options, then a
 * subcommand; every subcommand has --help.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"

#ifndef CINDERLIB_VERSION
#define CINDERLIB_VERSION "0.1.0"
#endif

#define CLI_MAX_COMMANDS 32

struct cli_globals cli_globals;

static const struct cli_command *commands[CLI_MAX_COMMANDS];
static int nr_commands;

void cli_register(const struct cli_command *cmd)
{
	if (nr_commands < CLI_MAX_COMMANDS)
		commands[nr_commands++] = cmd;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cinderctl: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_exit_code(int neg_errno)
{
	if (neg_errno == 0)
		return CLI_EXIT_OK;
	if (neg_errno == -ENOENT || neg_errno == -ENODEV)
		return CLI_EXIT_NOT_FOUND;
	return CLI_EXIT_FAILED;
}

int cli_fail(const struct cl_error *err, const char *what)
{
	if (err->msg[0])
		cli_error("%s: %s", what, err->msg);
	else
		cli_error("%s: %s", what, strerror(-err->code));
	return cli_exit_code(err->code);
}

static int compare_commands(const void *a, const void *b)
{
	const struct cli_command *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: cinderctl [--config FILE] [--json] COMMAND [ARGS...]\n"
		"\n"
		"Manage block storage volumes and attach them through cinderblk.\n"
		"\n"
		"Commands:\n");
	qsort(commands, nr_commands, sizeof(commands[0]), compare_commands);
	for (int i = 0; i < nr_commands; i++)
		fprintf(out, "  %-12s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(out,
		"\n"
		"Global options:\n"
		"  -c, --config FILE  configuration file (default /etc/cinderlib/cinderlib.conf)\n"
		"      --json         JSON output for read commands\n"
		"  -v, --verbose      more detail on errors\n"
		"  -h, --help         this help; COMMAND --help for a command's\n"
		"  -V, --version      print the version\n"
		"\n"
		"Exit codes: 0 success, 1 operation failed, 2 usage error, 3 not found.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	int c;

	/* "+": stop at the first non-option, the subcommand. */
	while ((c = getopt_long(argc, argv, "+c:vhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli_globals.config_path = optarg;
			break;
		case 'j':
			cli_globals.json = true;
			break;
		case 'v':
			cli_globals.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case 'V':
			printf("cinderctl %s\n", CINDERLIB_VERSION);
			return CLI_EXIT_OK;
		default:
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (int i = 0; i < nr_commands; i++) {
		if (strcmp(commands[i]->name, argv[optind]) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;

			/* Each subcommand runs its own getopt from the start. */
			optind = 0;
			return commands[i]->run(sub_argc, sub_argv);
		}
	}
	{
		const char *names[CLI_MAX_COMMANDS];
		const char *hint;

		for (int i = 0; i < nr_commands; i++)
			names[i] = commands[i]->name;
		hint = cli_suggest(argv[optind], names, (size_t)nr_commands);
		if (hint)
			cli_error("unknown command '%s'; did you mean '%s'? (see cinderctl --help)",
				  argv[optind], hint);
		else
			cli_error("unknown command '%s' (see cinderctl --help)",
				  argv[optind]);
	}
	return CLI_EXIT_USAGE;
}
