/* SPDX-License-Identifier: GPL-2.0 */
/* Shared helpers of the libcinderlib host tests. */
#ifndef CL_TEST_HELPERS_H
#define CL_TEST_HELPERS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cinderlib/cinderlib.h"

/*
 * The harness compares through "int"-typed temporaries: the sizes and
 * enums compared here are small and non-negative.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"

#define GIB (1ULL << 30)

/* A private directory with a store and a file backend "fb". */
struct tenv {
	char dir[PATH_MAX];
	char voldir[PATH_MAX];
	char store[PATH_MAX];
	const char *persistence;
	struct cl_dict store_options;	/* postgresql: connection, schema */
	struct cl_context *ctx;
	struct cl_backend *be;
	struct cl_error err;
};

/* The jsonfile and postgresql persistence plugins, NULL when not built. */
const char *jsonfile_plugin(void);
const char *postgresql_plugin(void);
/*
 * Start a throwaway PostgreSQL server (tests/postgresql/server.sh) for the
 * program unless $CINDERLIB_TEST_POSTGRESQL names one: sets that variable
 * to its conninfo; stopped at exit. Left unset when it cannot start.
 */
void pg_test_server_start(void);
/* "restart", "halt" or "resume" the server that started (-ENOENT: none). */
int pg_test_server_ctl(const char *action);
/*
 * Make the directory and context; @persistence "memory", "sqlite",
 * "jsonfile" or "postgresql" (plugin stores; -ENOENT when not built or,
 * for postgresql, without a server), each test in a schema of its own.
 */
int tenv_init(struct tenv *t, const char *persistence);
/* Open the file backend "fb" on t->voldir (made when missing). */
int tenv_open_backend(struct tenv *t);
/* Another context on the same store (sqlite) and backend. */
int tenv_new_context(struct tenv *t, bool fail_on_missing_backend,
		     struct cl_context **ctx);
void tenv_fini(struct tenv *t);

int rm_rf(const char *path);
/* Entries of @dir whose name starts with @prefix ("" = all, hidden too). */
int count_files(const char *dir, const char *prefix);
/* Write @len bytes of a pattern seeded by @seed at @off of @path. */
int write_pattern(const char *path, off_t off, size_t len, unsigned seed);
/* 0 when @path holds that pattern at @off, else -1. */
int check_pattern(const char *path, off_t off, size_t len, unsigned seed);
/* 1 when both files have the same size and bytes, else 0 (-1 error). */
int files_equal(const char *a, const char *b);
off_t file_size(const char *path);
/* Read a whole file into a malloc'd buffer (NUL-terminated). */
char *read_file(const char *path, size_t *len);
int write_file(const char *path, const void *data, size_t len);

#endif /* CL_TEST_HELPERS_H */
