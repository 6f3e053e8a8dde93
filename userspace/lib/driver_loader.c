// SPDX-License-Identifier: Apache-2.0
/*
 * Driver plugins: finding them (driver directory), loading them (dlopen,
 * ABI check), checking options against their tables, listing them.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_internal.h"

#ifndef CINDERLIB_DRIVER_DIR
#define CINDERLIB_DRIVER_DIR "/usr/local/lib/cinderlib/drivers"
#endif

/* Options every backend accepts, whatever its driver. */
static const char *const generic_options[] = {
	"volume_backend_name",
	"volume_driver",
	/* exports to other hosts (target.c) */
	"target_protocol",
	"target_ip_address",
	"target_port",
	"target_port_range",
};

#define NR_GENERIC (sizeof(generic_options) / sizeof(generic_options[0]))

/* Cinder's volume_driver class paths and the driver standing for each. */
static const struct {
	const char *cinder;
	const char *name;
} cinder_map[] = {
	{ "cinder.volume.drivers.lvm.LVMVolumeDriver", "lvm" },
	{ "cinder.volume.drivers.lvm.LVMISCSIDriver", "lvm" },
	{ "cinder.volume.drivers.rbd.RBDDriver", "rbd" },
	{ "cinder.volume.drivers.nfs.NfsDriver", "nfs" },
	{ "cinder.volume.drivers.file.FileVolumeDriver", "file" },
};

const char *cl_driver_name_from_cinder(const char *volume_driver)
{
	const char *p;

	if (!volume_driver || !*volume_driver)
		return NULL;
	for (size_t i = 0; i < sizeof(cinder_map) / sizeof(cinder_map[0]); i++)
		if (strcmp(volume_driver, cinder_map[i].cinder) == 0)
			return cinder_map[i].name;
	/* A bare name: letters, digits, '_' and '-' only (no paths). */
	for (p = volume_driver; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		    *p != '_' && *p != '-')
			return NULL;
	return volume_driver;
}

/*
 * The directory holding libcinderlib itself, for the build-tree layout: as
 * the loader named it (@resolved false) or with symbolic links resolved.
 */
static char *own_dir(bool resolved)
{
	Dl_info info;
	char *dir, *slash;

	if (!dladdr((void *)cl_driver_name_from_cinder, &info) ||
	    !info.dli_fname || !strchr(info.dli_fname, '/'))
		return NULL;
	dir = resolved ? realpath(info.dli_fname, NULL) : strdup(info.dli_fname);
	if (!dir)
		return NULL;
	slash = strrchr(dir, '/');
	*slash = '\0';
	return dir;
}

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* LIBDIR/cinderlib/drivers (installed) or LIBDIR/../drivers (build tree). */
static char *drivers_near(const char *lib)
{
	char *p = NULL;

	if (asprintf(&p, "%s/cinderlib/drivers", lib) >= 0 && is_dir(p))
		return p;
	free(p);
	p = NULL;
	if (asprintf(&p, "%s/../drivers", lib) >= 0 && is_dir(p))
		return p;
	free(p);
	return NULL;
}

/*
 * Setup option, then $CINDERLIB_DRIVER_DIR, then next to the library
 * (LIBDIR/cinderlib/drivers installed, LIBDIR/../drivers in the build
 * tree; LIBDIR as the loader found the library, then with symbolic links
 * resolved: the first costs no path walk), then the compiled-in default.
 */
static char *find_driver_dir(const char *configured)
{
	const char *env = getenv("CINDERLIB_DRIVER_DIR");
	char *p = NULL;

	if (configured && *configured)
		return strdup(configured);
	if (env && *env)
		return strdup(env);
	for (int resolved = 0; !p && resolved < 2; resolved++) {
		char *lib = own_dir(resolved);

		if (lib)
			p = drivers_near(lib);
		free(lib);
	}
	return p ? p : strdup(CINDERLIB_DRIVER_DIR);
}

const char *cl_driver_dir(struct cl_context *ctx)
{
	if (!ctx->driver_dir)
		ctx->driver_dir = find_driver_dir(NULL);
	return ctx->driver_dir;
}

static int open_plugin(const char *path, const struct cl_driver_ops **ops,
		       void **dl, struct cl_error *err)
{
	const struct cl_driver_ops *o;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return cl_error_set(err, -ENOENT, "cannot load driver %s: %s",
				    path, dlerror());
	o = dlsym(h, CL_DRIVER_SYMBOL);
	if (!o) {
		dlclose(h);
		return cl_error_set(err, -ENOEXEC,
				    "%s is not a cinderlib driver (no symbol %s)",
				    path, CL_DRIVER_SYMBOL);
	}
	if (o->abi_version != CL_DRIVER_ABI_VERSION) {
		dlclose(h);
		return cl_error_set(err, -EPROTO,
				    "driver %s has ABI version %u, this library needs %u",
				    path, o->abi_version, CL_DRIVER_ABI_VERSION);
	}
	if (!o->name || !o->options || !o->setup || !o->create_volume ||
	    !o->delete_volume || !o->create_snapshot || !o->delete_snapshot ||
	    !o->create_volume_from_snapshot || !o->create_cloned_volume ||
	    !o->extend_volume || !o->initialize_connection ||
	    !o->terminate_connection || !o->get_stats) {
		dlclose(h);
		return cl_error_set(err, -EPROTO,
				    "driver %s lacks required operations", path);
	}
	*ops = o;
	*dl = h;
	return 0;
}

/* Names of the drivers found in @dir (malloc'd), for messages. */
static char **driver_names(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char **grown;

		if (len < 4 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		grown = realloc(v, (*n + 1) * sizeof(*v));
		if (!grown)
			break;
		v = grown;
		v[*n] = strndup(de->d_name, len - 3);
		if (v[*n])
			(*n)++;
	}
	closedir(d);
	return v;
}

int cl_driver_load(struct cl_context *ctx, const char *volume_driver,
		   const struct cl_driver_ops **ops, void **dl,
		   struct cl_error *err)
{
	const char *name, *dir;
	char *path;
	int ret;

	if (!volume_driver || !*volume_driver)
		return cl_error_set(err, -EINVAL, "no volume_driver given");
	/* An absolute path to a driver object is taken as is. */
	if (volume_driver[0] == '/')
		return open_plugin(volume_driver, ops, dl, err);
	name = cl_driver_name_from_cinder(volume_driver);
	if (!name)
		return cl_error_set(err, -ENOENT,
				    "unknown volume_driver '%s'", volume_driver);
	dir = cl_driver_dir(ctx);
	if (!dir)
		return cl_error_set(err, -ENOMEM, "out of memory");
	if (asprintf(&path, "%s/%s.so", dir, name) < 0)
		return cl_error_set(err, -ENOMEM, "out of memory");
	/* Loaded at once; a missing file is told apart only on failure. */
	ret = open_plugin(path, ops, dl, err);
	if (ret && access(path, F_OK) != 0) {
		size_t n;
		char **names = driver_names(dir, &n);
		const char *best = cl_closest(name, (const char *const *)names,
					      n);

		if (best)
			ret = cl_error_set(err, -ENOENT,
					   "unknown driver '%s' (no %s; did you mean '%s'?)",
					   name, path, best);
		else
			ret = cl_error_set(err, -ENOENT,
					   "unknown driver '%s' (no %s)", name,
					   path);
		cl_strv_free(names, n);
	}
	free(path);
	return ret;
}

static int check_type(const struct cl_driver_option *opt, const char *val,
		      struct cl_error *err)
{
	char *end;
	bool b;

	switch (opt->type) {
	case CL_OPT_INT:
		errno = 0;
		strtoll(val, &end, 0);
		if (errno || end == val || *end)
			return cl_error_set(err, -EINVAL,
					    "option %s: '%s' is not an integer",
					    opt->name, val);
		break;
	case CL_OPT_FLOAT:
		errno = 0;
		strtod(val, &end);
		if (errno || end == val || *end)
			return cl_error_set(err, -EINVAL,
					    "option %s: '%s' is not a number",
					    opt->name, val);
		break;
	case CL_OPT_BOOL:
		if (cl_parse_bool(val, &b))
			return cl_error_set(err, -EINVAL,
					    "option %s: '%s' is not a boolean (true/false)",
					    opt->name, val);
		break;
	case CL_OPT_PATH:
		if (!*val)
			return cl_error_set(err, -EINVAL,
					    "option %s: empty path", opt->name);
		break;
	case CL_OPT_STRING:
		break;
	}
	return 0;
}

int cl_driver_check_options(const struct cl_driver_ops *ops,
			    const struct cl_dict *options,
			    struct cl_error *err)
{
	for (size_t i = 0; options && i < options->count; i++) {
		const char *key = options->entries[i].key;
		const struct cl_driver_option *opt = NULL;
		bool generic = false;

		for (size_t g = 0; g < NR_GENERIC; g++)
			generic |= strcmp(key, generic_options[g]) == 0;
		if (generic)
			continue;
		for (const struct cl_driver_option *o = ops->options; o->name;
		     o++)
			if (strcmp(o->name, key) == 0)
				opt = o;
		if (!opt) {
			const char **cands;
			size_t n = NR_GENERIC, k = 0;
			const char *best;
			int ret;

			for (const struct cl_driver_option *o = ops->options;
			     o->name; o++)
				n++;
			cands = calloc(n, sizeof(*cands));
			if (!cands)
				return cl_error_set(err, -ENOMEM, "out of memory");
			for (size_t g = 0; g < NR_GENERIC; g++)
				cands[k++] = generic_options[g];
			for (const struct cl_driver_option *o = ops->options;
			     o->name; o++)
				cands[k++] = o->name;
			best = cl_closest(key, cands, n);
			ret = cl_error_set(err, -EINVAL,
					   "unknown option '%s' for driver %s (did you mean '%s'?)",
					   key, ops->name, best);
			free(cands);
			return ret;
		}
		if (check_type(opt, options->entries[i].value, err))
			return err ? err->code : -EINVAL;
	}
	/* Required options: no default and not given. */
	for (const struct cl_driver_option *o = ops->options; o->name; o++)
		if (!o->default_value && !cl_dict_get(options, o->name))
			return cl_error_set(err, -EINVAL,
					    "driver %s needs option %s (%s)",
					    ops->name, o->name, o->help);
	return 0;
}

const char *cl_driver_option_get(const struct cl_driver_config *cfg,
				 const struct cl_driver_option *table,
				 const char *name)
{
	const char *v = cl_dict_get(cfg->options, name);

	if (v)
		return v;
	for (; table && table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table->default_value;
	return NULL;
}

bool cl_driver_option_bool(const struct cl_driver_config *cfg,
			   const struct cl_driver_option *table,
			   const char *name)
{
	const char *v = cl_driver_option_get(cfg, table, name);
	bool b = false;

	return v && cl_parse_bool(v, &b) == 0 && b;
}

const char *cl_option_type_name(enum cl_option_type type)
{
	switch (type) {
	case CL_OPT_STRING:
		return "string";
	case CL_OPT_INT:
		return "int";
	case CL_OPT_BOOL:
		return "bool";
	case CL_OPT_FLOAT:
		return "float";
	case CL_OPT_PATH:
		return "path";
	}
	return "unknown";
}

static int compare_info(const void *a, const void *b)
{
	const struct cl_driver_info *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int fill_info(struct cl_driver_info *info,
		     const struct cl_driver_ops *ops, const char *path)
{
	size_t n = 0;

	for (const struct cl_driver_option *o = ops->options; o->name; o++)
		n++;
	info->name = strdup(ops->name);
	info->version = cl_strdup_or_null(ops->version);
	info->description = cl_strdup_or_null(ops->description);
	info->path = strdup(path);
	info->options = calloc(n ? n : 1, sizeof(*info->options));
	if (!info->name || !info->path || !info->options)
		return -ENOMEM;
	info->nr_options = n;
	for (size_t i = 0; i < n; i++) {
		const struct cl_driver_option *o = &ops->options[i];

		info->options[i].name = strdup(o->name);
		info->options[i].type = o->type;
		info->options[i].default_value =
			cl_strdup_or_null(o->default_value);
		info->options[i].help = cl_strdup_or_null(o->help);
		if (!info->options[i].name)
			return -ENOMEM;
	}
	return 0;
}

int cl_list_supported_drivers(struct cl_context *ctx,
			      struct cl_driver_info_list *out,
			      struct cl_error *err)
{
	char *dir = ctx ? strdup(cl_driver_dir(ctx)) : find_driver_dir(NULL);
	size_t n;
	char **names;
	int ret = 0;

	*out = (struct cl_driver_info_list){ 0 };
	if (!dir)
		return cl_error_set(err, -ENOMEM, "out of memory");
	if (!is_dir(dir)) {
		ret = cl_error_set(err, -ENOENT, "driver directory %s: %s", dir,
				   "not found");
		free(dir);
		return ret;
	}
	names = driver_names(dir, &n);
	out->items = calloc(n ? n : 1, sizeof(*out->items));
	if (!out->items) {
		ret = cl_error_set(err, -ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cl_driver_ops *ops;
		struct cl_error ignored;
		char *path;
		void *dl;

		if (asprintf(&path, "%s/%s.so", dir, names[i]) < 0) {
			ret = cl_error_set(err, -ENOMEM, "out of memory");
			goto done;
		}
		/* Something that is not a driver is skipped, not fatal. */
		if (open_plugin(path, &ops, &dl, &ignored) == 0) {
			ret = fill_info(&out->items[out->count++], ops, path);
			dlclose(dl);
		}
		free(path);
		if (ret) {
			ret = cl_error_set(err, ret, "out of memory");
			goto done;
		}
	}
	qsort(out->items, out->count, sizeof(out->items[0]), compare_info);
done:
	cl_strv_free(names, n);
	free(dir);
	if (ret)
		cl_driver_info_list_free(out);
	return ret;
}

void cl_driver_info_list_free(struct cl_driver_info_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++) {
		struct cl_driver_info *d = &list->items[i];

		for (size_t j = 0; d->options && j < d->nr_options; j++) {
			free((char *)d->options[j].name);
			free((char *)d->options[j].default_value);
			free((char *)d->options[j].help);
		}
		free(d->options);
		free(d->name);
		free(d->version);
		free(d->description);
		free(d->path);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
