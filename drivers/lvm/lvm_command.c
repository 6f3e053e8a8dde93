// SPDX-License-Identifier: Apache-2.0
/*
 * Running the lvm tools: "lvm SUBCOMMAND ..." by argv (never through a
 * shell), with a clean environment, stdin from /dev/null, stdout and stderr
 * captured. Reports are read as JSON (--reportformat json --units b
 * --nosuffix), never from human-formatted output.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lvm.h"

/* The commands' PATH: lvm runs helpers (modprobe, thin_check) by name. */
#define LVM_CHILD_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_STDOUT (64u << 20)
#define MAX_STDERR (64u << 10)

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* @command as given when it has a '/', else the first match in $PATH. */
static char *find_command(const char *command)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (strchr(command, '/'))
		return is_executable(command) ? realpath(command, NULL) : NULL;
	if (!path || !*path)
		path = LVM_CHILD_PATH;
	copy = strdup(path);
	if (!copy)
		return NULL;
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *cand;

		if (!*dir || asprintf(&cand, "%s/%s", dir, command) < 0)
			continue;
		if (is_executable(cand))
			found = cand;
		else
			free(cand);
	}
	free(copy);
	return found;
}

int lvm_runner_init(struct lvm_runner *r, const char *command,
		    const char *conf_file, const char *config,
		    bool suppress_fd_warnings, struct cl_error *err)
{
	*r = (struct lvm_runner){ .suppress_fd_warnings = suppress_fd_warnings };
	if (!command || !*command)
		command = "lvm";
	r->lvm_path = find_command(command);
	if (!r->lvm_path)
		return cl_error_set(err, -ENOENT, strchr(command, '/') ?
				    "lvm command %s not found or not executable (set lvm_command)" :
				    "lvm command '%s' not found in PATH (install lvm2, or set lvm_command)",
				    command);
	/* As Cinder: a conf file that does not exist (or "None") is ignored. */
	if (conf_file && *conf_file && strcmp(conf_file, "None") != 0 &&
	    access(conf_file, R_OK) == 0) {
		const char *slash = strrchr(conf_file, '/');

		r->system_dir = slash ? strndup(conf_file, (size_t)
						(slash - conf_file)) :
					strdup(".");
		if (r->system_dir && !*r->system_dir) {
			free(r->system_dir);
			r->system_dir = strdup("/");
		}
		if (!r->system_dir)
			goto nomem;
	}
	if (config && *config && !(r->config = strdup(config)))
		goto nomem;
	return 0;
nomem:
	lvm_runner_free(r);
	return cl_error_set(err, -ENOMEM, "out of memory");
}

void lvm_runner_free(struct lvm_runner *r)
{
	free(r->lvm_path);
	free(r->system_dir);
	free(r->config);
	*r = (struct lvm_runner){ 0 };
}

struct sink {
	char *buf;
	size_t len, cap, max;
};

static int sink_read(int fd, struct sink *s)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : 0;
	if (s->len + (size_t)n + 1 > s->cap && s->len < s->max) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		char *grown;

		while (cap < s->len + (size_t)n + 1)
			cap *= 2;
		grown = realloc(s->buf, cap);
		if (!grown)
			return -ENOMEM;
		s->buf = grown;
		s->cap = cap;
	}
	if (s->len + (size_t)n + 1 <= s->cap) {
		memcpy(s->buf + s->len, chunk, (size_t)n);
		s->len += (size_t)n;
		s->buf[s->len] = '\0';
	}
	return 1;
}

/* stderr as one line: lines trimmed, empty ones dropped, "; " between. */
static void condense(char *text)
{
	char *out = text, *line = text;

	while (line && *line) {
		char *nl = strchr(line, '\n'), *end;

		if (nl)
			*nl = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\r'))
			*--end = '\0';
		if (*line) {
			if (out != text) {
				*out++ = ';';
				*out++ = ' ';
			}
			memmove(out, line, (size_t)(end - line));
			out += end - line;
		}
		line = nl ? nl + 1 : NULL;
	}
	*out = '\0';
}

static int code_from_stderr(const char *msg)
{
	if (strcasestr(msg, "insufficient free space") ||
	    strcasestr(msg, "insufficient suitable") ||
	    strcasestr(msg, "not enough free"))
		return -ENOSPC;
	if (strcasestr(msg, "already exists"))
		return -EEXIST;
	if (strcasestr(msg, "not found") ||
	    strcasestr(msg, "failed to find"))
		return -ENOENT;
	return -EIO;
}

static int spawn(const struct lvm_runner *r, const char *const *argv,
		 int out_fd, int err_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	const char *args[64];
	char *envp[5];
	char env_dir[PATH_MAX + 16];
	size_t n = 0, e = 0;
	int ret;

	args[n++] = r->lvm_path;
	args[n++] = argv[0];
	if (r->config) {
		args[n++] = "--config";
		args[n++] = r->config;
	}
	for (size_t i = 1; argv[i]; i++) {
		if (n + 1 >= sizeof(args) / sizeof(args[0]))
			return -E2BIG;
		args[n++] = argv[i];
	}
	args[n] = NULL;
	envp[e++] = "PATH=" LVM_CHILD_PATH;
	envp[e++] = "LC_ALL=C";
	if (r->suppress_fd_warnings)
		envp[e++] = "LVM_SUPPRESS_FD_WARNINGS=1";
	if (r->system_dir) {
		snprintf(env_dir, sizeof(env_dir), "LVM_SYSTEM_DIR=%s",
			 r->system_dir);
		envp[e++] = env_dir;
	}
	envp[e] = NULL;

	ret = posix_spawn_file_actions_init(&fa);
	if (ret)
		return -ret;
	ret = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!ret)
		ret = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!ret)
		ret = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	/* Whatever the caller left open is no business of lvm's. */
	if (!ret)
		ret = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	if (!ret)
		ret = posix_spawn(pid, r->lvm_path, &fa, NULL,
				  (char *const *)args, envp);
	posix_spawn_file_actions_destroy(&fa);
	return -ret;
}

int lvm_run(const struct lvm_runner *r, const char *const *argv, char **out,
	    struct cl_error *err)
{
	struct sink so = { .max = MAX_STDOUT }, se = { .max = MAX_STDERR };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status, ret;
	struct pollfd pfd[2];
	pid_t pid;

	if (out)
		*out = NULL;
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		ret = cl_error_set(err, -errno, "cannot run lvm: pipe: %s",
				   strerror(errno));
		goto close_pipes;
	}
	ret = spawn(r, argv, po[1], pe[1], &pid);
	if (ret) {
		cl_error_set(err, ret, "cannot run %s %s: %s", r->lvm_path,
			     argv[0], strerror(-ret));
		goto close_pipes;
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	pfd[0] = (struct pollfd){ .fd = po[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = pe[0], .events = POLLIN };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			/*
			 * No more reading: the child could block on a full
			 * pipe, and waitpid() with it. End it first.
			 */
			ret = cl_error_set(err, -errno,
					   "cannot read the output of lvm %s: poll: %s",
					   argv[0], strerror(errno));
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			goto close_pipes;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			if (sink_read(pfd[i].fd, i ? &se : &so) <= 0)
				pfd[i].fd = -1;
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	if (status != 0) {
		const char *target = argv[0];
		char *msg = se.buf ? se.buf : "";

		for (size_t i = 1; argv[i]; i++)
			target = argv[i];
		condense(msg);
		ret = code_from_stderr(msg);
		if (WIFEXITED(status))
			cl_error_set(err, ret, "lvm %s %s failed (exit %d): %s",
				     argv[0], target, WEXITSTATUS(status),
				     *msg ? msg : "no message");
		else
			cl_error_set(err, ret, "lvm %s %s was killed (signal %d): %s",
				     argv[0], target,
				     WIFSIGNALED(status) ? WTERMSIG(status) : 0,
				     msg);
	} else if (out) {
		*out = so.buf ? so.buf : strdup("");
		so.buf = NULL;
		if (!*out)
			ret = cl_error_set(err, -ENOMEM, "out of memory");
	}
close_pipes:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	free(so.buf);
	free(se.buf);
	return ret;
}

int lvm_error_wrap(struct cl_error *err, int code, const char *what)
{
	char detail[CL_ERROR_MSG_MAX];

	if (!err)
		return code;
	snprintf(detail, sizeof(detail), "%s", err->msg);
	return cl_error_set(err, code, "%s: %s", what, detail);
}

/* The first report's array @key ("lv", "vg") of an lvs/vgs JSON output. */
static int report_rows(const char *text, const char *key,
		       struct json_object **root, struct json_object **rows,
		       struct cl_error *err)
{
	struct json_object *report, *first;

	*root = json_tokener_parse(text);
	if (!*root || !json_object_object_get_ex(*root, "report", &report) ||
	    !json_object_is_type(report, json_type_array) ||
	    json_object_array_length(report) < 1 ||
	    !(first = json_object_array_get_idx(report, 0)) ||
	    !json_object_object_get_ex(first, key, rows) ||
	    !json_object_is_type(*rows, json_type_array)) {
		json_object_put(*root);
		*root = NULL;
		return cl_error_set(err, -EBADMSG,
				    "unexpected lvm %ss report (no report[0].%s array)",
				    key, key);
	}
	return 0;
}

static const char *field(struct json_object *row, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(row, name, &v))
		return "";
	return json_object_get_string(v) ? json_object_get_string(v) : "";
}

static uint64_t field_u64(struct json_object *row, const char *name)
{
	return strtoull(field(row, name), NULL, 10);
}

static double field_double(struct json_object *row, const char *name)
{
	return strtod(field(row, name), NULL);
}

static void copy_field(char *dst, size_t len, struct json_object *row,
		       const char *name)
{
	snprintf(dst, len, "%s", field(row, name));
}

int lvm_vg_report(const struct lvm_runner *r, const char *vg,
		  struct lvm_vg *out, struct cl_error *err)
{
	const char *argv[] = { "vgs", "--reportformat", "json", "--units", "b",
			       "--nosuffix", "-o",
			       "vg_name,vg_size,vg_free,vg_extent_size", vg,
			       NULL };
	struct json_object *root, *rows, *row;
	char *text;
	int ret = lvm_run(r, argv, &text, err);

	if (ret == -ENOENT) {
		char what[300];

		snprintf(what, sizeof(what), "volume group '%s' not found", vg);
		return lvm_error_wrap(err, -ENOENT, what);
	}
	if (ret)
		return ret;
	ret = report_rows(text, "vg", &root, &rows, err);
	free(text);
	if (ret)
		return ret;
	if (json_object_array_length(rows) < 1) {
		json_object_put(root);
		return cl_error_set(err, -ENOENT, "volume group '%s' not found",
				    vg);
	}
	row = json_object_array_get_idx(rows, 0);
	out->size = field_u64(row, "vg_size");
	out->free = field_u64(row, "vg_free");
	out->extent_size = field_u64(row, "vg_extent_size");
	json_object_put(root);
	return 0;
}

int lvm_lv_report(const struct lvm_runner *r, const char *vg, const char *lv,
		  struct lvm_lv_list *out, struct cl_error *err)
{
	char target[512];
	const char *argv[] = { "lvs", "--reportformat", "json", "--units", "b",
			       "--nosuffix", "-o",
			       "lv_name,lv_attr,segtype,pool_lv,origin,lv_size,"
			       "lv_metadata_size,data_percent,metadata_percent",
			       target, NULL };
	struct json_object *root, *rows;
	char *text;
	size_t n;
	int ret;

	*out = (struct lvm_lv_list){ 0 };
	if (lv)
		snprintf(target, sizeof(target), "%s/%s", vg, lv);
	else
		snprintf(target, sizeof(target), "%s", vg);
	ret = lvm_run(r, argv, &text, err);
	if (ret)
		return ret;
	ret = report_rows(text, "lv", &root, &rows, err);
	free(text);
	if (ret)
		return ret;
	n = json_object_array_length(rows);
	out->items = calloc(n ? n : 1, sizeof(*out->items));
	if (!out->items) {
		json_object_put(root);
		return cl_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		struct lvm_lv *l = &out->items[out->count++];

		copy_field(l->name, sizeof(l->name), row, "lv_name");
		copy_field(l->attr, sizeof(l->attr), row, "lv_attr");
		copy_field(l->segtype, sizeof(l->segtype), row, "segtype");
		copy_field(l->pool, sizeof(l->pool), row, "pool_lv");
		copy_field(l->origin, sizeof(l->origin), row, "origin");
		l->size = field_u64(row, "lv_size");
		l->metadata_size = field_u64(row, "lv_metadata_size");
		l->data_percent = field_double(row, "data_percent");
		l->metadata_percent = field_double(row, "metadata_percent");
		l->active = strlen(l->attr) > 4 && l->attr[4] == 'a';
	}
	json_object_put(root);
	if (lv && !lvm_lv_find(out, lv)) {
		lvm_lv_list_free(out);
		return cl_error_set(err, -ENOENT,
				    "logical volume %s/%s not found", vg, lv);
	}
	return 0;
}

void lvm_lv_list_free(struct lvm_lv_list *list)
{
	free(list->items);
	*list = (struct lvm_lv_list){ 0 };
}

const struct lvm_lv *lvm_lv_find(const struct lvm_lv_list *list,
				 const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].name, name) == 0)
			return &list->items[i];
	return NULL;
}
