// SPDX-License-Identifier: GPL-2.0
/*
 * Several processes, each with its own context, on one sqlite store and
 * one file backend: no lost or duplicated volume, no lost update.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

#define NR_PROCS 8
#define NR_CREATES 50
#define NR_EXTENDS 10

/* Fork @n children running @fn(t, i); 0 when all exit 0. */
static int run_children(struct tenv *t, int n,
			int (*fn)(struct tenv *t, int i, void *arg), void *arg)
{
	pid_t pids[NR_PROCS];
	int failed = 0;

	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return -1;
		if (pids[i] == 0)
			_exit(fn(t, i, arg));
	}
	for (int i = 0; i < n; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed;
}

static int creator(struct tenv *t, int idx, void *arg)
{
	struct cl_context *ctx;
	struct cl_backend *be;
	struct cl_error err;
	int failures = 0;

	if (tenv_new_context(t, false, &ctx))
		return 100;
	if (cl_backend_get(ctx, "fb", &be, &err)) {
		fprintf(stderr, "# backend: %s\n", err.msg);
		return 101;
	}
	for (int i = 0; i < NR_CREATES; i++) {
		char name[32];
		struct cl_volume_create_opts o = { .size = 1, .name = name };
		struct cl_volume *v;

		snprintf(name, sizeof(name), "p%d-v%d", idx, i);
		if (cl_volume_create(be, &o, &v, &err)) {
			fprintf(stderr, "# create %s: %s\n", name, err.msg);
			failures++;
			continue;
		}
		cl_volume_free(v);
	}
	cl_context_free(ctx);
	return failures ? 1 : 0;
}

TEST(eight_processes_fifty_creates)
{
	struct cl_volume_list l;
	struct tenv t;

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	/* The store file exists; children open it concurrently. */
	ASSERT_EQ(0, run_children(&t, NR_PROCS, creator, NULL));
	ASSERT_EQ(0, cl_volume_find(t.ctx, NULL, &l, &t.err));
	EXPECT_EQ(NR_PROCS * NR_CREATES, l.count);
	for (size_t i = 0; i < l.count; i++)
		EXPECT_EQ(CL_STATUS_AVAILABLE, l.items[i]->status);
	cl_volume_list_free(&l);
	EXPECT_EQ(NR_PROCS * NR_CREATES, count_files(t.voldir, "volume-"));
	EXPECT_EQ(NR_PROCS * NR_CREATES, count_files(t.voldir, ""));
	tenv_fini(&t);
}

/* Every child creates the store: exactly one wins, none fails. */
static int fresh_creator(struct tenv *t, int idx, void *arg)
{
	struct cl_setup_options o = { .persistence = "sqlite",
				      .persistence_path = t->store,
				      .persistence_create = true,
				      .lock_path = t->dir };
	struct cl_context *ctx;
	struct cl_error err;
	char key[16];
	int ret = cl_setup(&o, &ctx, &err);

	if (ret) {
		fprintf(stderr, "# setup: %s\n", err.msg);
		return 1;
	}
	snprintf(key, sizeof(key), "k%d", idx);
	ret = cl_kv_set(ctx, key, "v", &err);
	cl_context_free(ctx);
	return ret ? 2 : 0;
}

TEST(concurrent_store_creation)
{
	struct cl_dict all = { 0 };
	struct tenv t;

	ASSERT_EQ(0, tenv_init(&t, "memory"));
	ASSERT_EQ(-1, file_size(t.store));
	ASSERT_EQ(0, run_children(&t, NR_PROCS, fresh_creator, NULL));
	cl_context_free(t.ctx);
	t.persistence = "sqlite";
	ASSERT_EQ(0, tenv_new_context(&t, false, &t.ctx));
	ASSERT_EQ(0, cl_kv_list(t.ctx, NULL, &all, &t.err));
	EXPECT_EQ(NR_PROCS, all.count);
	cl_dict_clear(&all);
	/* Only the store and its WAL files: no leftover temporary. */
	EXPECT_EQ(0, count_files(t.dir, "store.sqlite.new"));
	tenv_fini(&t);
}

/* Each child grows one shared volume by 1 GiB, NR_EXTENDS times. */
static int extender(struct tenv *t, int idx, void *arg)
{
	const char *id = arg;
	struct cl_context *ctx;
	struct cl_volume *v;
	struct cl_error err;
	int done = 0, tries = 0;

	if (tenv_new_context(t, false, &ctx))
		return 100;
	if (cl_volume_get(ctx, id, &v, &err))
		return 101;
	while (done < NR_EXTENDS && tries++ < 1000) {
		int ret;

		if (cl_volume_refresh(ctx, v, &err))
			break;
		ret = cl_volume_extend(ctx, v, v->size + 1, &err);
		if (ret == 0)
			done++;
		else if (ret != -EINVAL)	/* lost the race: retry */
			break;
	}
	cl_volume_free(v);
	cl_context_free(ctx);
	return done == NR_EXTENDS ? 0 : 1;
}

TEST(no_lost_update)
{
	struct cl_volume_create_opts o = { .size = 1 };
	struct cl_volume *v;
	struct tenv t;

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	ASSERT_EQ(0, cl_volume_create(t.be, &o, &v, &t.err));
	ASSERT_EQ(0, run_children(&t, 4, extender, v->id));
	ASSERT_EQ(0, cl_volume_refresh(t.ctx, v, &t.err));
	EXPECT_EQ(1 + 4 * NR_EXTENDS, v->size);
	EXPECT_EQ((off_t)((1 + 4 * NR_EXTENDS) * GIB),
		  file_size(v->provider_location));
	EXPECT_EQ(CL_STATUS_AVAILABLE, v->status);
	cl_volume_free(v);
	tenv_fini(&t);
}

struct thread_arg {
	struct tenv *t;
	int idx;
	int failures;
};

static void *thread_creator(void *p)
{
	struct thread_arg *a = p;
	struct cl_context *ctx;
	struct cl_backend *be;
	struct cl_error err;

	if (tenv_new_context(a->t, false, &ctx)) {
		a->failures = -1;
		return NULL;
	}
	if (cl_backend_get(ctx, "fb", &be, &err)) {
		a->failures = -1;
		cl_context_free(ctx);
		return NULL;
	}
	for (int i = 0; i < 25; i++) {
		struct cl_volume_create_opts o = { .size = 1 };
		struct cl_volume *v, *c;

		if (cl_volume_create(be, &o, &v, &err)) {
			a->failures++;
			continue;
		}
		if (cl_volume_clone(ctx, v, NULL, &c, &err) ||
		    cl_volume_delete(ctx, c, &err))
			a->failures++;
		cl_volume_free(c);
		cl_volume_free(v);
	}
	cl_context_free(ctx);
	return NULL;
}

/* One context per thread: documented as safe. */
TEST(threads_with_own_contexts)
{
	struct thread_arg args[4];
	pthread_t th[4];
	struct cl_volume_list l;
	struct tenv t;

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .t = &t, .idx = i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, thread_creator,
					    &args[i]));
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, args[i].failures);
	}
	ASSERT_EQ(0, cl_volume_find(t.ctx, NULL, &l, &t.err));
	EXPECT_EQ(100, l.count);
	cl_volume_list_free(&l);
	EXPECT_EQ(100, count_files(t.voldir, ""));
	tenv_fini(&t);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The child's metadata edit of @id: it takes the volume's lock. */
static int editor(struct tenv *t, const char *id)
{
	struct cl_context *ctx;
	struct cl_volume *v;
	struct cl_error err;
	int ret;

	if (tenv_new_context(t, false, &ctx))
		return 100;
	ret = cl_volume_get(ctx, id, &v, &err);
	if (!ret)
		ret = cl_volume_set_metadata(ctx, v, "by", "child", &err);
	if (ret)
		fprintf(stderr, "# editor: %s\n", err.msg);
	cl_volume_free(v);
	cl_context_free(ctx);
	return ret ? 1 : 0;
}

/*
 * A holder unlinks the lock file (its object is gone) while another
 * process waits on it, and a third takes the file made anew at that
 * name: the waiter must wait for the third, not run beside it on the
 * unlinked inode.
 */
TEST(lock_file_unlinked_while_waited_on)
{
	struct cl_volume_create_opts o = { .size = 1 };
	char path[PATH_MAX + 64];
	struct cl_volume *v;
	struct tenv t;
	int old_fd, new_fd, status;
	pid_t pid;

	ASSERT_EQ(0, tenv_init(&t, "sqlite"));
	ASSERT_EQ(0, tenv_open_backend(&t));
	ASSERT_EQ(0, cl_volume_create(t.be, &o, &v, &t.err));
	snprintf(path, sizeof(path), "%s/cinderlib-volume-%s.lock", t.dir,
		 v->id);
	old_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, old_fd);
	ASSERT_EQ(0, flock(old_fd, LOCK_EX));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(old_fd);	/* the lock is the parent's, not shared */
		_exit(editor(&t, v->id));
	}
	sleep_ms(300);		/* the child now waits on the old inode */
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
	ASSERT_EQ(0, unlink(path));
	new_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, new_fd);
	ASSERT_EQ(0, flock(new_fd, LOCK_EX));
	close(old_fd);
	sleep_ms(500);
	/* Still waiting: the name's lock is held (by us). */
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	close(new_fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, cl_volume_refresh(t.ctx, v, &t.err));
	EXPECT_STREQ("child", cl_dict_get(&v->metadata, "by"));
	cl_volume_free(v);
	tenv_fini(&t);
}

TEST_HARNESS_MAIN
