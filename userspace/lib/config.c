// SPDX-License-Identifier: Apache-2.0
/*
 * cinder.conf-style configuration (libinih): [DEFAULT] global settings and
 * enabled_backends, one section per backend. With no file at all, an
 * embedded default: a "default" file backend in the state directory.
 */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_internal.h"

static const char *const default_keys[] = {
	"enabled_backends", "persistence", "persistence_path", "lock_path",
	"host", "driver_dir", "fail_on_missing_backend", "debug", "state_dir",
	"log_level", "nbd_connections", "nbd_io_timeout", "nbd_dead_timeout",
	"connection",
};

#define NR_DEFAULT_KEYS (sizeof(default_keys) / sizeof(default_keys[0]))

struct parse_state {
	struct cl_config *cfg;
	struct cl_dict defaults;
	/* sections seen, in order, with their options */
	size_t nr_sections;
	struct cl_backend_config *sections;
	struct cl_error *err;
	int ret;
	FILE *file;
	int lineno;
};

static struct cl_backend_config *section(struct parse_state *ps,
					 const char *name)
{
	struct cl_backend_config *grown;

	for (size_t i = 0; i < ps->nr_sections; i++)
		if (strcmp(ps->sections[i].name, name) == 0)
			return &ps->sections[i];
	grown = realloc(ps->sections, (ps->nr_sections + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	ps->sections = grown;
	grown = &ps->sections[ps->nr_sections];
	*grown = (struct cl_backend_config){ .name = strdup(name) };
	if (!grown->name)
		return NULL;
	ps->nr_sections++;
	return grown;
}

/* ini_parse_stream() reader that counts lines, for messages. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	char *line = fgets(str, num, ps->file);

	if (line)
		ps->lineno++;
	return line;
}

static int handler(void *user, const char *sect, const char *key,
		   const char *value)
{
	struct parse_state *ps = user;
	int lineno = ps->lineno;
	struct cl_backend_config *bc;

	if (ps->ret)
		return 0;
	if (strcmp(sect, "DEFAULT") == 0 || sect[0] == '\0') {
		bool known = false;

		for (size_t i = 0; i < NR_DEFAULT_KEYS; i++)
			known |= strcmp(key, default_keys[i]) == 0;
		if (!known && strncmp(key, "persistence_", 12) != 0) {
			ps->ret = cl_error_set(ps->err, -EINVAL,
					       "%s:%d: unknown option '%s' in [DEFAULT] (did you mean '%s'?)",
					       ps->cfg->path, lineno, key,
					       cl_closest(key, default_keys,
							  NR_DEFAULT_KEYS));
			return 0;
		}
		if (cl_dict_set(&ps->defaults, key, value))
			ps->ret = cl_error_set(ps->err, -ENOMEM, "out of memory");
		return !ps->ret;
	}
	bc = section(ps, sect);
	if (!bc || cl_dict_set(&bc->options, key, value))
		ps->ret = cl_error_set(ps->err, -ENOMEM, "out of memory");
	return !ps->ret;
}

static int set_bool(struct parse_state *ps, const char *key, bool *dst)
{
	const char *v = cl_dict_get(&ps->defaults, key);

	if (v && cl_parse_bool(v, dst))
		return cl_error_set(ps->err, -EINVAL,
				    "%s: %s = '%s' is not true or false",
				    ps->cfg->path, key, v);
	return 0;
}

/* An unsigned number in [@min, @max] times @scale into @dst (0: unset). */
static int set_uint(struct parse_state *ps, const char *key, unsigned int min,
		    unsigned int max, unsigned int scale, unsigned int *dst)
{
	const char *v = cl_dict_get(&ps->defaults, key);
	char *end;
	unsigned long n;

	if (!v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n < min || n > max)
		return cl_error_set(ps->err, -EINVAL,
				    "%s: %s = '%s' is not a number from %u to %u",
				    ps->cfg->path, key, v, min, max);
	*dst = (unsigned int)n * scale;
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int apply(struct parse_state *ps)
{
	struct cl_config *cfg = ps->cfg;
	const char *v;
	bool debug = false;
	char *list, *tok, *save;
	int ret;

	if ((v = cl_dict_get(&ps->defaults, "state_dir")) &&
	    cl_set_str(&cfg->state_dir, v))
		return cl_error_set(ps->err, -ENOMEM, "out of memory");
	if (cl_set_str(&cfg->persistence,
		       cl_dict_get(&ps->defaults, "persistence") ?: "sqlite"))
		return cl_error_set(ps->err, -ENOMEM, "out of memory");
	v = cl_dict_get(&ps->defaults, "persistence_path");
	if (v) {
		if (cl_set_str(&cfg->persistence_path, v))
			return cl_error_set(ps->err, -ENOMEM, "out of memory");
	} else if (strcmp(cfg->persistence, "sqlite") == 0) {
		free(cfg->persistence_path);
		if (asprintf(&cfg->persistence_path, "%s/cinderlib.sqlite",
			     cfg->state_dir) < 0) {
			cfg->persistence_path = NULL;
			return cl_error_set(ps->err, -ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < ps->defaults.count; i++) {
		const struct cl_dict_entry *e = &ps->defaults.entries[i];

		if (strncmp(e->key, "persistence_", 12) == 0 &&
		    strcmp(e->key, "persistence_path") != 0 &&
		    cl_dict_set(&cfg->persistence_options, e->key + 12,
				e->value))
			return cl_error_set(ps->err, -ENOMEM, "out of memory");
		/* cinderlib's persistence_config "connection" (a database URL) */
		if (strcmp(e->key, "connection") == 0 &&
		    cl_dict_set(&cfg->persistence_options, "connection",
				e->value))
			return cl_error_set(ps->err, -ENOMEM, "out of memory");
	}
	if (cl_set_str(&cfg->lock_path,
		       cl_dict_get(&ps->defaults, "lock_path") ?:
		       cfg->state_dir) ||
	    cl_set_str(&cfg->host, cl_dict_get(&ps->defaults, "host")) ||
	    cl_set_str(&cfg->driver_dir,
		       cl_dict_get(&ps->defaults, "driver_dir")))
		return cl_error_set(ps->err, -ENOMEM, "out of memory");
	ret = set_bool(ps, "fail_on_missing_backend",
		       &cfg->fail_on_missing_backend);
	if (!ret)
		ret = set_bool(ps, "debug", &debug);
	/* The nbd connector's: connections, and timeouts in seconds. */
	if (!ret)
		ret = set_uint(ps, "nbd_connections", 1, 16, 1,
			       &cfg->nbd_connections);
	if (!ret)
		ret = set_uint(ps, "nbd_io_timeout", 1, 3600, 1000,
			       &cfg->nbd_io_timeout_ms);
	if (!ret)
		ret = set_uint(ps, "nbd_dead_timeout", 1, 3600, 1000,
			       &cfg->nbd_dead_timeout_ms);
	if (ret)
		return ret;
	cfg->log_level = debug ? CL_LOG_DEBUG : CL_LOG_WARNING;
	v = cl_dict_get(&ps->defaults, "log_level");
	if (v) {
		static const char *const levels[] = { "error", "warning",
						      "info", "debug" };
		bool found = false;

		for (int i = 0; i < 4; i++) {
			if (strcasecmp(v, levels[i]) == 0) {
				cfg->log_level = i;
				found = true;
			}
		}
		if (!found)
			return cl_error_set(ps->err, -EINVAL,
					    "%s: log_level '%s' is not one of error, warning, info, debug",
					    cfg->path, v);
	}
	if (!cfg->persistence || !cfg->lock_path)
		return cl_error_set(ps->err, -ENOMEM, "out of memory");

	v = cl_dict_get(&ps->defaults, "enabled_backends");
	if (!v)
		return 0;
	list = strdup(v);
	if (!list)
		return cl_error_set(ps->err, -ENOMEM, "out of memory");
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *name = trim(tok);
		struct cl_backend_config *src = NULL, *grown;

		if (!*name)
			continue;
		for (size_t i = 0; i < ps->nr_sections; i++)
			if (strcmp(ps->sections[i].name, name) == 0)
				src = &ps->sections[i];
		if (!src) {
			ret = cl_error_set(ps->err, -EINVAL,
					   "%s: enabled backend '%s' has no [%s] section",
					   cfg->path, name, name);
			break;
		}
		if (!cl_dict_get(&src->options, "volume_driver")) {
			ret = cl_error_set(ps->err, -EINVAL,
					   "%s: backend [%s] has no volume_driver",
					   cfg->path, name);
			break;
		}
		grown = realloc(cfg->backends,
				(cfg->nr_backends + 1) * sizeof(*grown));
		if (!grown) {
			ret = cl_error_set(ps->err, -ENOMEM, "out of memory");
			break;
		}
		cfg->backends = grown;
		grown += cfg->nr_backends;
		/* Cinder names a backend by volume_backend_name when set. */
		v = cl_dict_get(&src->options, "volume_backend_name");
		grown->name = strdup(v ? v : name);
		/* moved: the section no longer owns its options */
		grown->options = src->options;
		src->options = (struct cl_dict){ 0 };
		cl_dict_set(&grown->options, "volume_backend_name", NULL);
		if (!grown->name) {
			cl_dict_clear(&grown->options);
			ret = cl_error_set(ps->err, -ENOMEM, "out of memory");
			break;
		}
		cfg->nr_backends++;
	}
	free(list);
	return ret;
}

static struct cl_config *new_config(const char *state_dir)
{
	struct cl_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->state_dir = state_dir ? strdup(state_dir) : cl_state_dir();
	if (!cfg->state_dir) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

int cl_config_default(const char *state_dir, struct cl_config **out,
		      struct cl_error *err)
{
	struct cl_config *cfg = new_config(state_dir);
	char *vols = NULL;
	int ret = -ENOMEM;

	if (!cfg)
		return cl_error_set(err, -ENOMEM, "out of memory");
	cfg->log_level = CL_LOG_WARNING;
	cfg->backends = calloc(1, sizeof(*cfg->backends));
	if (!cfg->backends ||
	    asprintf(&cfg->persistence_path, "%s/cinderlib.sqlite",
		     cfg->state_dir) < 0 ||
	    asprintf(&vols, "%s/volumes", cfg->state_dir) < 0)
		goto fail;
	cfg->nr_backends = 1;
	cfg->backends[0].name = strdup("default");
	if (!cfg->backends[0].name ||
	    cl_set_str(&cfg->persistence, "sqlite") ||
	    cl_set_str(&cfg->lock_path, cfg->state_dir) ||
	    cl_dict_set(&cfg->backends[0].options, "volume_driver", "file") ||
	    cl_dict_set(&cfg->backends[0].options, "file_volume_dir", vols) ||
	    cl_dict_set(&cfg->backends[0].options, "file_volume_dir_create",
			"true"))
		goto fail;
	free(vols);
	*out = cfg;
	return 0;
fail:
	free(vols);
	cl_config_free(cfg);
	return cl_error_set(err, ret, "out of memory");
}

int cl_config_load(const char *path, struct cl_config **out,
		   struct cl_error *err)
{
	struct parse_state ps = { .err = err };
	int ret;

	if (!path) {
		if (access(CL_DEFAULT_CONFIG, F_OK) != 0)
			return cl_config_default(NULL, out, err);
		path = CL_DEFAULT_CONFIG;
	}
	ps.cfg = new_config(NULL);
	if (!ps.cfg || !(ps.cfg->path = strdup(path))) {
		cl_config_free(ps.cfg);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	ps.file = fopen(path, "re");
	if (!ps.file) {
		ret = cl_error_set(err, -errno, "cannot read configuration %s: %m",
				   path);
		cl_config_free(ps.cfg);
		return ret;
	}
	ret = ini_parse_stream(read_line, &ps, handler, &ps);
	fclose(ps.file);
	if (ret > 0 && !ps.ret)
		ps.ret = cl_error_set(err, -EINVAL,
				      "%s:%d: syntax error", path, ret);
	else if (ret < 0 && !ps.ret)
		ps.ret = cl_error_set(err, -ENOMEM, "out of memory");
	if (!ps.ret)
		ps.ret = apply(&ps);
	cl_dict_clear(&ps.defaults);
	for (size_t i = 0; i < ps.nr_sections; i++) {
		free(ps.sections[i].name);
		cl_dict_clear(&ps.sections[i].options);
	}
	free(ps.sections);
	if (ps.ret) {
		cl_config_free(ps.cfg);
		return ps.ret;
	}
	*out = ps.cfg;
	return 0;
}

void cl_config_free(struct cl_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->persistence);
	free(cfg->persistence_path);
	cl_dict_clear(&cfg->persistence_options);
	free(cfg->lock_path);
	free(cfg->host);
	free(cfg->driver_dir);
	for (size_t i = 0; i < cfg->nr_backends; i++) {
		free(cfg->backends[i].name);
		cl_dict_clear(&cfg->backends[i].options);
	}
	free(cfg->backends);
	free(cfg);
}

int cl_setup_from_config(const struct cl_config *cfg, cl_log_fn log_fn,
			 void *log_data, struct cl_context **out,
			 struct cl_error *err)
{
	struct cl_setup_options o = {
		.persistence = cfg->persistence,
		.persistence_path = cfg->persistence_path,
		.persistence_options = &cfg->persistence_options,
		.persistence_create = true,
		.lock_path = cfg->lock_path,
		.host = cfg->host,
		.driver_dir = cfg->driver_dir,
		.fail_on_missing_backend = cfg->fail_on_missing_backend,
		.nbd_connections = cfg->nbd_connections,
		.nbd_io_timeout_ms = cfg->nbd_io_timeout_ms,
		.nbd_dead_timeout_ms = cfg->nbd_dead_timeout_ms,
		.log_level = cfg->log_level,
		.log_fn = log_fn,
		.log_data = log_data,
		.state_dir = cfg->state_dir,
	};
	struct cl_context *ctx;
	int ret;

	/*
	 * The state and lock directories are ours to create; the store file
	 * is created only when missing, never replaced.
	 */
	ret = cfg->state_dir ? cl_mkdir_p(cfg->state_dir, 0700) : 0;
	if (ret)
		return cl_error_set(err, ret,
				    "cannot create state directory %s: %s",
				    cfg->state_dir, strerror(-ret));
	ret = cfg->lock_path ? cl_mkdir_p(cfg->lock_path, 0700) : 0;
	if (ret)
		return cl_error_set(err, ret,
				    "cannot create lock directory %s: %s",
				    cfg->lock_path, strerror(-ret));
	ret = cl_setup(&o, &ctx, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < cfg->nr_backends; i++) {
		ret = cl_backend_define(ctx, cfg->backends[i].name,
					&cfg->backends[i].options, err);
		if (ret) {
			cl_context_free(ctx);
			return ret;
		}
	}
	*out = ctx;
	return 0;
}
