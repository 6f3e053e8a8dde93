// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration files (cinder.conf style) and the embedded default.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"

FIXTURE(conf) {
	struct tenv t;
	char path[PATH_MAX + 16];
};

FIXTURE_SETUP(conf)
{
	ASSERT_EQ(0, tenv_init(&self->t, "memory"));
	snprintf(self->path, sizeof(self->path), "%s/cinderlib.conf",
		 self->t.dir);
}

FIXTURE_TEARDOWN(conf)
{
	tenv_fini(&self->t);
}

static int write_conf(const char *path, const char *fmt, const char *dir)
{
	char *text;
	int ret;

	if (asprintf(&text, fmt, dir, dir, dir, dir) < 0)
		return -1;
	ret = write_file(path, text, strlen(text));
	free(text);
	return ret;
}

TEST_F(conf, full_file)
{
	static const char fmt[] =
		"[DEFAULT]\n"
		"# comment\n"
		"state_dir = %s/state\n"
		"enabled_backends = fast, slow\n"
		"persistence = sqlite\n"
		"host = node-a\n"
		"fail_on_missing_backend = true\n"
		"debug = true\n"
		"\n"
		"[fast]\n"
		"volume_driver = file\n"
		"file_volume_dir = %s/fast\n"
		"file_volume_dir_create = true\n"
		"[slow]\n"
		"volume_backend_name = slow-tier\n"
		"volume_driver = file\n"
		"file_volume_dir = %s/slow\n"
		"file_volume_dir_create = yes\n"
		"[unused]\n"
		"volume_driver = nothing\n";
	struct cl_volume_create_opts o = { .size = 1 };
	struct cl_config *cfg = NULL;
	struct cl_context *ctx = NULL;
	struct cl_backend *be;
	struct cl_volume *v;
	char want[PATH_MAX + 64];
	char **names;
	size_t n;

	ASSERT_EQ(0, write_conf(self->path, fmt, self->t.dir));
	ASSERT_EQ(0, cl_config_load(self->path, &cfg, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_STREQ(self->path, cfg->path);
	EXPECT_STREQ("sqlite", cfg->persistence);
	snprintf(want, sizeof(want), "%s/state/cinderlib.sqlite", self->t.dir);
	EXPECT_STREQ(want, cfg->persistence_path);
	snprintf(want, sizeof(want), "%s/state", self->t.dir);
	EXPECT_STREQ(want, cfg->lock_path);
	EXPECT_STREQ("node-a", cfg->host);
	EXPECT_TRUE(cfg->fail_on_missing_backend);
	EXPECT_EQ(CL_LOG_DEBUG, cfg->log_level);
	ASSERT_EQ(2, cfg->nr_backends);
	EXPECT_STREQ("fast", cfg->backends[0].name);
	EXPECT_STREQ("slow-tier", cfg->backends[1].name);

	ASSERT_EQ(0, cl_setup_from_config(cfg, NULL, NULL, &ctx,
					  &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	EXPECT_GT(file_size(cfg->persistence_path), 0);
	ASSERT_EQ(0, cl_backend_names(ctx, &names, &n, &self->t.err));
	EXPECT_EQ(2, n);
	cl_strv_free(names, n);
	ASSERT_EQ(0, cl_backend_get(ctx, "slow-tier", &be, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	ASSERT_EQ(0, cl_volume_create(be, &o, &v, &self->t.err));
	EXPECT_STREQ("node-a@slow-tier", v->host);
	snprintf(want, sizeof(want), "%s/slow/volume-%s", self->t.dir, v->id);
	EXPECT_EQ((off_t)GIB, file_size(want));
	cl_volume_free(v);
	EXPECT_EQ(-ENOENT, cl_backend_get(ctx, "unused", &be, &self->t.err));
	cl_context_free(ctx);
	cl_config_free(cfg);
}

TEST_F(conf, errors_name_the_problem)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{ "[DEFAULT]\nenabled_backend = a\n", "did you mean 'enabled_backends'" },
		{ "[DEFAULT]\n\nstat_dir = /x\n", ":3: unknown option 'stat_dir'" },
		{ "[DEFAULT]\nenabled_backends = a\n", "no [a] section" },
		{ "[DEFAULT]\nenabled_backends = a\n[a]\nfile_volume_dir=/x\n",
		  "no volume_driver" },
		{ "[DEFAULT]\ndebug = perhaps\n", "not true or false" },
		{ "[DEFAULT]\nlog_level = loud\n", "log_level" },
		{ "[DEFAULT\nhost = x\n", "syntax error" },
	};
	struct cl_config *cfg = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(0, write_file(self->path, cases[i].text,
					strlen(cases[i].text)));
		EXPECT_EQ(-EINVAL, cl_config_load(self->path, &cfg,
						  &self->t.err))
			TH_LOG("case %zu", i);
		EXPECT_NE(NULL, strstr(self->t.err.msg, cases[i].needle))
			TH_LOG("case %zu: %s", i, self->t.err.msg);
	}
	EXPECT_EQ(NULL, cfg);
	EXPECT_EQ(-ENOENT, cl_config_load("/nonexistent/cinderlib.conf", &cfg,
					  &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "/nonexistent/cinderlib.conf"));
}

TEST_F(conf, bad_persistence_and_driver)
{
	static const char fmt[] =
		"[DEFAULT]\nstate_dir = %s\nenabled_backends = a\n"
		"persistence = sqlit\n"
		"[a]\nvolume_driver = file\nfile_volume_dir = %s\n"
		"file_volume_dirr = x\n";
	struct cl_config *cfg = NULL;
	struct cl_context *ctx = NULL;
	struct cl_backend *be;

	ASSERT_EQ(0, write_conf(self->path, fmt, self->t.dir));
	ASSERT_EQ(0, cl_config_load(self->path, &cfg, &self->t.err));
	EXPECT_EQ(-EINVAL, cl_setup_from_config(cfg, NULL, NULL, &ctx,
						&self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "did you mean 'sqlite'"))
		TH_LOG("%s", self->t.err.msg);
	free(cfg->persistence);
	cfg->persistence = strdup("memory");
	ASSERT_EQ(0, cl_setup_from_config(cfg, NULL, NULL, &ctx, &self->t.err));
	EXPECT_EQ(-EINVAL, cl_backend_get(ctx, "a", &be, &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "'file_volume_dirr'"));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "did you mean 'file_volume_dir'"));
	cl_context_free(ctx);
	cl_config_free(cfg);
}

TEST_F(conf, embedded_default)
{
	struct cl_volume_create_opts o = { .size = 1 };
	struct cl_config *cfg = NULL;
	struct cl_context *ctx = NULL;
	struct cl_backend *be;
	struct cl_volume *v;
	char want[PATH_MAX + 64], *dir;

	snprintf(want, sizeof(want), "%s/state", self->t.dir);
	setenv("CINDERLIB_STATE_DIR", want, 1);
	dir = cl_state_dir();
	EXPECT_STREQ(want, dir);
	free(dir);
	ASSERT_EQ(0, cl_config_default(NULL, &cfg, &self->t.err));
	EXPECT_EQ(NULL, cfg->path);
	EXPECT_STREQ(want, cfg->state_dir);
	ASSERT_EQ(1, cfg->nr_backends);
	EXPECT_STREQ("default", cfg->backends[0].name);
	EXPECT_STREQ("file", cl_dict_get(&cfg->backends[0].options,
					 "volume_driver"));
	ASSERT_EQ(0, cl_setup_from_config(cfg, NULL, NULL, &ctx,
					  &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	ASSERT_EQ(0, cl_backend_get(ctx, "default", &be, &self->t.err))
		TH_LOG("%s", self->t.err.msg);
	ASSERT_EQ(0, cl_volume_create(be, &o, &v, &self->t.err));
	snprintf(want, sizeof(want), "%s/state/volumes/volume-%s",
		 self->t.dir, v->id);
	EXPECT_EQ((off_t)GIB, file_size(want));
	snprintf(want, sizeof(want), "%s/state/cinderlib.sqlite", self->t.dir);
	EXPECT_GT(file_size(want), 0);
	cl_volume_free(v);
	cl_context_free(ctx);
	cl_config_free(cfg);
	unsetenv("CINDERLIB_STATE_DIR");
}

TEST(state_dir_rules)
{
	char *dir;

	unsetenv("CINDERLIB_STATE_DIR");
	dir = cl_state_dir();
	ASSERT_NE(NULL, dir);
	if (geteuid() == 0) {
		EXPECT_STREQ("/var/lib/cinderlib", dir);
	} else {
		EXPECT_NE(NULL, strstr(dir, "cinderlib"));
	}
	free(dir);
}

TEST_HARNESS_MAIN
