// SPDX-License-Identifier: Apache-2.0
/*
 * Command-line plumbing shared by the cinderctl subcommands.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_args.h"

static void action_list(const char *group, const struct cli_action *actions,
			size_t nr_actions, FILE *out)
{
	for (size_t i = 0; i < nr_actions; i++)
		fprintf(out, "  %-16s %s\n", actions[i].name,
			actions[i].summary);
}

static void group_usage(const char *group, const char *summary,
			const struct cli_action *actions, size_t nr_actions,
			FILE *out)
{
	fprintf(out, "Usage: cinderctl %s ACTION [ARGS...]\n\n%s\n\nActions:\n",
		group, summary);
	action_list(group, actions, nr_actions, out);
	fprintf(out, "\nRun 'cinderctl %s ACTION --help' for an action's options.\n",
		group);
}

void cli_action_usage(const char *group, const struct cli_action *self,
		      FILE *out)
{
	fprintf(out, "Usage: cinderctl %s %s%s%s\n\n%s\n", group, self->name,
		self->args ? " " : "", self->args ? self->args : "",
		self->summary);
	if (self->help)
		fprintf(out, "\n%s", self->help);
	fprintf(out, "\nCommon options:\n"
		"  -h, --help           this help\n"
		"      --json           JSON output (read commands)\n");
}

int cli_dispatch(const char *group, const char *summary,
		 const struct cli_action *actions, size_t nr_actions,
		 int argc, char **argv)
{
	const char *names[64];
	const char *hint;
	int first = 1;

	while (first < argc && strcmp(argv[first], "--json") == 0) {
		cli_globals.json = true;
		first++;
	}
	if (first >= argc) {
		cli_error("%s: missing action", group);
		group_usage(group, summary, actions, nr_actions, stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[first], "--help") || !strcmp(argv[first], "-h") ||
	    !strcmp(argv[first], "help")) {
		group_usage(group, summary, actions, nr_actions, stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < nr_actions; i++) {
		if (strcmp(actions[i].name, argv[first]) == 0) {
			/* Actions report option errors themselves. */
			optind = 0;
			opterr = 0;
			return actions[i].run(&actions[i], argc - first,
					      argv + first);
		}
	}
	for (size_t i = 0; i < nr_actions && i < 64; i++)
		names[i] = actions[i].name;
	hint = cli_suggest(argv[first], names, nr_actions < 64 ? nr_actions : 64);
	if (hint)
		cli_error("unknown %s action '%s'; did you mean '%s'? (see cinderctl %s --help)",
			  group, argv[first], hint, group);
	else
		cli_error("unknown %s action '%s' (see cinderctl %s --help)",
			  group, argv[first], group);
	return CLI_EXIT_USAGE;
}

static bool looks_negative_number(const char *s)
{
	return s && s[0] == '-' && isdigit((unsigned char)s[1]);
}

int cli_option_error(const char *group, const struct cli_action *self,
		     int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;

	switch (c) {
	case 'h':
		cli_action_usage(group, self, stdout);
		return CLI_EXIT_OK;
	case ':':
		cli_error("%s %s: option '%s' needs a value (see --help)",
			  group, self->name, arg ? arg : "?");
		return CLI_EXIT_USAGE;
	default:
		if (c == '?' && isdigit(optopt)) {
			/* getopt saw "-1" as an option: name the whole word. */
			for (char **a = argv; *a; a++)
				if (looks_negative_number(*a))
					arg = *a;
			cli_error("%s %s: invalid value '%s': negative numbers are not allowed",
				  group, self->name,
				  looks_negative_number(arg) ? arg : "-");
		}
		else if (arg && arg[0] == '-' && arg[1] == '-')
			cli_error("%s %s: unknown option '%s' (see cinderctl %s %s --help)",
				  group, self->name, arg, group, self->name);
		else
			cli_error("%s %s: unknown option '-%c' (see cinderctl %s %s --help)",
				  group, self->name, optopt ? optopt : '?',
				  group, self->name);
		return CLI_EXIT_USAGE;
	}
}

int cli_next_option(const char *group, const struct cli_action *self,
		    int argc, char **argv, const char *shortopts,
		    const struct option *longopts, int *code)
{
	int c;

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) == 'J')
		cli_globals.json = true;
	if (c == -1)
		return 0;
	if (c == 'h' || c == '?' || c == ':') {
		*code = cli_option_error(group, self, c, argv);
		return -1;
	}
	return c;
}

bool cli_common_options(const char *group, const struct cli_action *self,
			int argc, char **argv, int *code)
{
	static const struct option opts[] = {
		CLI_OPT_HELP, CLI_OPT_JSON, { 0 }
	};

	*code = CLI_EXIT_OK;
	return cli_next_option(group, self, argc, argv, ":h", opts, code) != 0;
}

bool cli_action_ready(const char *group, const struct cli_action *self,
		      int argc, char **argv, int min_args, int max_args,
		      struct cl_context **ctx, int *code)
{
	if (cli_common_options(group, self, argc, argv, code))
		return false;
	*code = cli_check_args(group, self, argc - optind, min_args, max_args);
	if (*code == CLI_EXIT_OK)
		*code = cli_context(ctx);
	return *code == CLI_EXIT_OK;
}

bool cli_list_ready(const char *group, const struct cli_action *self,
		    int argc, char **argv, const char *shortopts,
		    const struct option *longopts, struct cli_list_filter *f,
		    struct cl_context **ctx, int *code)
{
	const char *volume = NULL;
	int c;

	while ((c = cli_next_option(group, self, argc, argv, shortopts,
				    longopts, code)) > 0) {
		switch (c) {
		case 'v':
			volume = optarg;
			break;
		case 'B':
			f->filter.backend = optarg;
			break;
		case 'n':
			f->filter.name = optarg;
			break;
		}
	}
	if (c < 0)
		return false;
	*code = cli_check_args(group, self, argc - optind, 0, 0);
	if (!*code)
		*code = cli_context(ctx);
	if (!*code && volume)
		*code = cli_find_volume(*ctx, volume, &f->volume);
	if (*code)
		return false;
	if (f->volume)
		f->filter.volume_id = f->volume->id;
	return true;
}

int cli_for_each_ref(struct cl_context *ctx, int count, char **refs,
		     int (*one)(struct cl_context *ctx, const char *ref,
				void *data),
		     void *data)
{
	int worst = CLI_EXIT_OK;

	for (int i = 0; i < count; i++) {
		int ret = one(ctx, refs[i], data);

		if (ret > worst)
			worst = ret;
	}
	return worst;
}

int cli_failf(const struct cl_error *err, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cli_fail(err, what);
}

int cli_check_args(const char *group, const struct cli_action *self,
		   int have, int min, int max)
{
	if (have < min) {
		cli_error("%s %s: missing argument (usage: cinderctl %s %s %s)",
			  group, self->name, group, self->name,
			  self->args ? self->args : "");
		return CLI_EXIT_USAGE;
	}
	if (max >= 0 && have > max) {
		cli_error("%s %s: too many arguments (usage: cinderctl %s %s %s)",
			  group, self->name, group, self->name,
			  self->args ? self->args : "");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

int cli_parse_size(const char *text, const char *what, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t gib;
	} units[] = {
		{ "", 1 }, { "G", 1 }, { "GB", 1 }, { "GiB", 1 },
		{ "T", 1024 }, { "TB", 1024 }, { "TiB", 1024 },
	};
	const char *p = text;
	uint64_t value = 0;
	bool digits = false;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-' && isdigit((unsigned char)p[1])) {
		cli_error("invalid %s '%s': must be a positive whole number of GiB",
			  what, text);
		return CLI_EXIT_USAGE;
	}
	for (; isdigit((unsigned char)*p); p++) {
		digits = true;
		/* Saturate: anything this large is refused below anyway. */
		if (value > UINT64_MAX / 10 - 10)
			value = UINT64_MAX / 10 - 10;
		value = value * 10 + (uint64_t)(*p - '0');
	}
	if (!digits) {
		cli_error("invalid %s '%s': expected a whole number of GiB such as 10 or 10G",
			  what, text);
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(p, units[i].suffix) != 0)
			continue;
		if (value == 0) {
			cli_error("invalid %s '%s': must be at least 1 GiB",
				  what, text);
			return CLI_EXIT_USAGE;
		}
		if (value > CL_MAX_SIZE_GIB / units[i].gib) {
			cli_error("invalid %s '%s': larger than the maximum of %llu GiB (1 PiB)",
				  what, text, (unsigned long long)CL_MAX_SIZE_GIB);
			return CLI_EXIT_USAGE;
		}
		*out = value * units[i].gib;
		return CLI_EXIT_OK;
	}
	if (*p == '.' || strchr("kKmM", *p))
		cli_error("invalid %s '%s': sizes are whole GiB (such as 10 or 10G)",
			  what, text);
	else
		cli_error("invalid %s '%s': unknown unit '%s' (use G/GiB or T/TiB)",
			  what, text, p);
	return CLI_EXIT_USAGE;
}

int cli_parse_key_value(const char *text, const char *what, struct cl_dict *d)
{
	const char *eq = strchr(text, '=');
	char *key;
	int ret;

	if (!eq || eq == text) {
		cli_error("invalid %s '%s': expected KEY=VALUE", what, text);
		return CLI_EXIT_USAGE;
	}
	key = strndup(text, (size_t)(eq - text));
	if (!key) {
		cli_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	ret = cl_dict_set(d, key, eq + 1);
	free(key);
	if (ret) {
		cli_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

int cli_parse_bool(const char *text, const char *what, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(text, yes[i])) {
			*out = true;
			return CLI_EXIT_OK;
		}
		if (!strcasecmp(text, no[i])) {
			*out = false;
			return CLI_EXIT_OK;
		}
	}
	cli_error("invalid %s '%s': expected true or false", what, text);
	return CLI_EXIT_USAGE;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64 + 1];

	if (lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (tolower((unsigned char)a[i - 1]) !=
					      tolower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *cli_suggest(const char *word, const char *const *candidates,
			size_t count)
{
	size_t limit = strlen(word) / 3 + 1;
	const char *best = NULL;
	size_t best_distance = SIZE_MAX;

	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < count; i++) {
		size_t d = edit_distance(word, candidates[i]);

		if (d < best_distance) {
			best_distance = d;
			best = candidates[i];
		}
	}
	return best_distance <= limit ? best : NULL;
}

/* ---------------------------------------------------------------------- */

static struct cl_config *config;
static struct cl_context *context;

static void cleanup_context(void)
{
	cl_context_free(context);
	context = NULL;
	cl_config_free(config);
	config = NULL;
}

static void log_to_stderr(enum cl_log_level level, const char *msg, void *data)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	fprintf(stderr, "cinderctl: %s: %s\n",
		(size_t)level < 4 ? names[level] : "log", msg);
}

int cli_config(const struct cl_config **out)
{
	struct cl_error err = { 0 };
	int ret;

	if (config) {
		*out = config;
		return CLI_EXIT_OK;
	}
	ret = cl_config_load(cli_globals.config_path, &config, &err);
	if (ret) {
		const char *path = cli_globals.config_path ?
			cli_globals.config_path : CL_DEFAULT_CONFIG;

		if (err.msg[0])
			cli_error("configuration %s: %s", path, err.msg);
		else
			cli_error("configuration %s: %s", path, strerror(-ret));
		config = NULL;
		/* A --config that is not there is a bad command line. */
		return ret == -ENOENT && cli_globals.config_path ?
			CLI_EXIT_USAGE : CLI_EXIT_FAILED;
	}
	if (cli_globals.verbose)
		config->log_level = CL_LOG_DEBUG;
	*out = config;
	return CLI_EXIT_OK;
}

int cli_context(struct cl_context **out)
{
	static bool registered;
	const struct cl_config *cfg;
	struct cl_error err = { 0 };
	int ret;

	if (context) {
		*out = context;
		return CLI_EXIT_OK;
	}
	ret = cli_config(&cfg);
	if (ret)
		return ret;
	if (!registered) {
		atexit(cleanup_context);
		registered = true;
	}
	ret = cl_setup_from_config(cfg, cli_globals.verbose ? log_to_stderr : NULL,
				   NULL, &context, &err);
	if (ret) {
		context = NULL;
		cli_fail(&err, "cannot open the cinderlib state");
		return CLI_EXIT_FAILED;
	}
	*out = context;
	return CLI_EXIT_OK;
}

const char *cli_default_backend_name(void)
{
	const struct cl_config *cfg;

	if (cli_config(&cfg) == 0 && cfg->nr_backends > 0)
		return cfg->backends[0].name;
	return "default";
}

int cli_backend(const char *name, struct cl_backend **out)
{
	struct cl_context *ctx;
	struct cl_error err = { 0 };
	char **names = NULL;
	size_t count = 0;
	bool known = false;
	int ret;

	ret = cli_context(&ctx);
	if (ret)
		return ret;
	if (!name)
		name = cli_default_backend_name();
	ret = cl_backend_get(ctx, name, out, &err);
	if (ret == 0)
		return CLI_EXIT_OK;
	if (cl_backend_names(ctx, &names, &count, NULL) != 0) {
		names = NULL;
		count = 0;
	}
	for (size_t i = 0; i < count; i++)
		known |= strcmp(names[i], name) == 0;
	/* A configured backend that fails to open: the library says why. */
	if (ret != -ENOENT || known) {
		char what[256];

		cl_strv_free(names, count);
		snprintf(what, sizeof(what), "cannot open backend '%s'", name);
		cli_fail(&err, what);
		return CLI_EXIT_FAILED;
	}
	{
		char list[1024] = "";
		size_t len = 0;
		const char *hint = cli_suggest(name, (const char *const *)names,
					       count);

		for (size_t i = 0; i < count && len < sizeof(list) - 1; i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%s", i ? ", " : "", names[i]);
		if (hint)
			cli_error("unknown backend '%s'; did you mean '%s'? (configured: %s)",
				  name, hint, count ? list : "none");
		else
			cli_error("unknown backend '%s' (configured: %s; see --config)",
				  name, count ? list : "none");
		cl_strv_free(names, count);
	}
	return CLI_EXIT_USAGE;
}

static int lookup_result(int ret, const struct cl_error *err,
			 const char *kind, const char *ref)
{
	if (ret == 0)
		return CLI_EXIT_OK;
	if (ret == -ENOENT) {
		cli_error("%s '%s' not found (see cinderctl %s list)", kind,
			  ref, kind);
		return CLI_EXIT_NOT_FOUND;
	}
	if (ret == -EEXIST) {
		cli_error("%s '%s' is ambiguous: %s; give the id instead", kind,
			  ref, err->msg[0] ? err->msg : "several match");
		return CLI_EXIT_USAGE;
	}
	{
		char what[256];

		snprintf(what, sizeof(what), "cannot look up %s '%s'", kind, ref);
		return cli_fail(err, what);
	}
}

int cli_find_volume(struct cl_context *ctx, const char *ref,
		    struct cl_volume **out)
{
	struct cl_error err = { 0 };

	return lookup_result(cl_volume_lookup(ctx, ref, out, &err), &err,
			     "volume", ref);
}

int cli_find_snapshot(struct cl_context *ctx, const char *ref,
		      struct cl_snapshot **out)
{
	struct cl_error err = { 0 };

	return lookup_result(cl_snapshot_lookup(ctx, ref, out, &err), &err,
			     "snapshot", ref);
}

int cli_find_connection(struct cl_context *ctx, const char *ref,
			struct cl_connection **out)
{
	struct cl_connection_list all = { 0 };
	struct cl_error err = { 0 };
	struct cl_connection *match = NULL;
	size_t nr_matches = 0, len = strlen(ref);
	char ids[CL_ERROR_MSG_MAX] = "";
	int ret;

	/* Connections have no name: an id, or a unique prefix of one. */
	ret = cl_connection_get(ctx, ref, out, &err);
	if (ret != -ENOENT)
		return lookup_result(ret, &err, "connection", ref);
	if (len < 4)
		return lookup_result(-ENOENT, &err, "connection", ref);
	ret = cl_connection_find(ctx, NULL, &all, &err);
	if (ret)
		return lookup_result(ret, &err, "connection", ref);
	for (size_t i = 0; i < all.count; i++) {
		if (strncasecmp(all.items[i]->id, ref, len) != 0)
			continue;
		if (nr_matches++ == 0)
			match = all.items[i];
		size_t used = strlen(ids);

		snprintf(ids + used, sizeof(ids) - used, "%s%s",
			 used ? ", " : "", all.items[i]->id);
	}
	if (nr_matches == 1) {
		*out = cl_connection_dup(match);
		ret = *out ? 0 : cl_error_set(&err, -ENOMEM, "out of memory");
	} else if (nr_matches > 1) {
		ret = cl_error_set(&err, -EEXIST, "matches %s", ids);
	} else {
		ret = -ENOENT;
	}
	cl_connection_list_free(&all);
	return lookup_result(ret, &err, "connection", ref);
}

int cli_parse_mode(const char *text, enum cl_attach_mode *mode)
{
	if (!strcmp(text, "rw")) {
		*mode = CL_ATTACH_RW;
	} else if (!strcmp(text, "ro")) {
		*mode = CL_ATTACH_RO;
	} else {
		cli_error("invalid mode '%s': use rw or ro", text);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

int cli_read_file(const char *path, char **out)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t len = 0, cap = 65536, n;
	char *buf;

	if (!f) {
		cli_error("cannot open '%s': %s", path, strerror(errno));
		return errno == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_FAILED;
	}
	buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (!buf || ferror(f)) {
		cli_error("cannot read '%s': %s", path,
			  buf ? strerror(errno) : "out of memory");
		free(buf);
		if (f != stdin)
			fclose(f);
		return CLI_EXIT_FAILED;
	}
	buf[len] = '\0';
	if (f != stdin)
		fclose(f);
	*out = buf;
	return CLI_EXIT_OK;
}
