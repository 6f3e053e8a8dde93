// SPDX-License-Identifier: GPL-2.0
/*
 * The NBD handshake (cl_nbd_handshake) against a real nbdkit, with data
 * moved over the negotiated socket afterwards, and against scripted
 * servers that break the protocol in every way the client must notice.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "cinderlib/nbd.h"

#define MIB (1ULL << 20)
#define REPLY_MAGIC 0x0003e889045565a9ULL
#define OPT_GO 7

/* ---- a real nbdkit on a Unix socket ---- */

static pid_t start_nbdkit(const char *sock, const char *const *args)
{
	const char *argv[32] = { "nbdkit", "-f", "--exit-with-parent", "-U",
				 sock };
	int n = 5;
	pid_t pid;

	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		execvp("nbdkit", (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	for (int i = 0; i < 500; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		close(fd);
		usleep(10000);
	}
	return -1;
}

static int io_full(int fd, void *buf, size_t len, bool out)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = out ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* One transmission-phase command with simple reply; 0 or the NBD error. */
static int nbd_cmd(int fd, uint16_t type, uint64_t cookie, uint64_t off,
		   uint32_t len, void *data)
{
	unsigned char req[28], rep[16];

	put32(req, 0x25609513);
	put16(req + 4, 0);
	put16(req + 6, type);
	put64(req + 8, cookie);
	put64(req + 16, off);
	put32(req + 24, len);
	if (io_full(fd, req, sizeof(req), true))
		return -1;
	if (type == 1 && io_full(fd, data, len, true))
		return -1;
	if (type == 2)		/* NBD_CMD_DISC: no reply */
		return 0;
	if (io_full(fd, rep, sizeof(rep), false) || get32(rep) != 0x67446698)
		return -1;
	for (int i = 0; i < 8; i++)
		if (rep[8 + i] != (unsigned char)(cookie >> (56 - 8 * i)))
			return -1;
	if (get32(rep + 4))
		return (int)get32(rep + 4);
	if (type == 0 && io_full(fd, data, len, false))
		return -1;
	return 0;
}

FIXTURE(kit) {
	char dir[PATH_MAX];
	char sock[PATH_MAX + 16];
	pid_t pid;
};

FIXTURE_SETUP(kit)
{
	snprintf(self->dir, sizeof(self->dir), "%s/cl-nbd.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->sock, sizeof(self->sock), "%s/sock", self->dir);
	self->pid = -1;
}

FIXTURE_TEARDOWN(kit)
{
	if (self->pid > 0) {
		kill(self->pid, SIGTERM);
		waitpid(self->pid, NULL, 0);
	}
	rm_rf(self->dir);
}

TEST_F(kit, nbdkit_export_negotiated_then_data_moves)
{
	const char *args[] = { "memory", "size=64M", NULL };
	unsigned char *w = malloc(64 * 1024), *r = malloc(64 * 1024);
	struct cl_nbd_export e = { 0 };
	struct cl_error err = { 0 };
	int fd;

	ASSERT_TRUE(w && r);
	self->pid = start_nbdkit(self->sock, args);
	ASSERT_LT(0, self->pid);
	fd = connect_unix(self->sock);
	ASSERT_LE(0, fd) TH_LOG("nbdkit did not start (is it installed?)");
	ASSERT_EQ(0, cl_nbd_handshake(fd, "vol-1", 5000, &e, &err))
		TH_LOG("%s", err.msg);
	EXPECT_EQ(64 * MIB, e.size);
	EXPECT_TRUE(e.flags & CL_NBD_FLAG_HAS_FLAGS);
	EXPECT_FALSE(e.flags & CL_NBD_FLAG_READ_ONLY);
	EXPECT_TRUE(e.flags & CL_NBD_FLAG_SEND_FLUSH);
	EXPECT_TRUE(e.min_block >= 1 && e.min_block <= e.preferred_block);
	EXPECT_TRUE(e.max_block >= e.preferred_block);
	/* The socket is in the transmission phase: write, read back. */
	for (int i = 0; i < 64 * 1024; i++)
		w[i] = (unsigned char)(i * 7 + 3);
	ASSERT_EQ(0, nbd_cmd(fd, 1, 1, 3 * MIB, 64 * 1024, w));
	memset(r, 0, 64 * 1024);
	ASSERT_EQ(0, nbd_cmd(fd, 0, 2, 3 * MIB, 64 * 1024, r));
	EXPECT_EQ(0, memcmp(w, r, 64 * 1024));
	ASSERT_EQ(0, nbd_cmd(fd, 0, 3, 0, 4096, r));
	EXPECT_EQ(0, r[0] | r[4095]);
	nbd_cmd(fd, 2, 4, 0, 0, NULL);
	close(fd);
	free(w);
	free(r);
}

TEST_F(kit, nbdkit_read_only_and_block_sizes)
{
	const char *args[] = { "-r", "--filter=blocksize-policy", "memory",
			       "size=8M", "blocksize-minimum=512",
			       "blocksize-preferred=65536",
			       "blocksize-maximum=1M", NULL };
	struct cl_nbd_export e = { 0 };
	struct cl_error err = { 0 };
	int fd;

	self->pid = start_nbdkit(self->sock, args);
	fd = connect_unix(self->sock);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, cl_nbd_handshake(fd, "", 5000, &e, &err))
		TH_LOG("%s", err.msg);
	EXPECT_EQ(8 * MIB, e.size);
	EXPECT_TRUE(e.flags & CL_NBD_FLAG_READ_ONLY);
	EXPECT_EQ(512, e.min_block);
	EXPECT_EQ(65536, e.preferred_block);
	EXPECT_EQ(MIB, e.max_block);
	close(fd);
}

/* ---- scripted servers: the whole conversation written up front ---- */

struct script {
	unsigned char buf[16384];
	size_t len;
};

static void add(struct script *s, const void *p, size_t n)
{
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void add64(struct script *s, uint64_t v)
{
	put64(s->buf + s->len, v);
	s->len += 8;
}

static void add32(struct script *s, uint32_t v)
{
	put32(s->buf + s->len, v);
	s->len += 4;
}

static void add16(struct script *s, uint16_t v)
{
	put16(s->buf + s->len, v);
	s->len += 2;
}

static void greeting(struct script *s, uint16_t flags)
{
	add64(s, 0x4e42444d41474943ULL);
	add64(s, 0x49484156454f5054ULL);
	add16(s, flags);
}

static void reply(struct script *s, uint32_t opt, uint32_t type,
		  const void *data, uint32_t len)
{
	add64(s, REPLY_MAGIC);
	add32(s, opt);
	add32(s, type);
	add32(s, len);
	add(s, data, len);
}

static void info_export(struct script *s, uint64_t size, uint16_t flags)
{
	unsigned char d[12];

	put16(d, 0);
	put64(d + 2, size);
	put16(d + 10, flags);
	reply(s, OPT_GO, 3, d, sizeof(d));
}

static void info_block(struct script *s, uint32_t min, uint32_t pref,
		       uint32_t max)
{
	unsigned char d[14];

	put16(d, 3);
	put32(d + 2, min);
	put32(d + 6, pref);
	put32(d + 10, max);
	reply(s, OPT_GO, 3, d, sizeof(d));
}

static void ack(struct script *s)
{
	reply(s, OPT_GO, 1, NULL, 0);
}

/*
 * Play @s as the server (then close when @hang_up) and run the handshake
 * for export "vol" with a 300 ms timeout.
 */
static int play(const struct script *s, bool hang_up,
		struct cl_nbd_export *e, struct cl_error *err)
{
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -999;
	if (s->len && io_full(sv[1], (void *)s->buf, s->len, true))
		return -998;
	if (hang_up)
		close(sv[1]);
	ret = cl_nbd_handshake(sv[0], "vol", 300, e, err);
	close(sv[0]);
	if (!hang_up)
		close(sv[1]);
	return ret;
}

#define FIXED 1

TEST(scripted_good_server)
{
	struct script s = { 0 };
	struct cl_nbd_export e = { 0 };
	struct cl_error err = { 0 };
	unsigned char name[6] = { 0, 1, 'x', 'y', 'z', '!' };

	greeting(&s, FIXED | 2);
	reply(&s, OPT_GO, 3, name, sizeof(name));	/* unknown info: skipped */
	info_block(&s, 4096, 65536, 4 * MIB);
	info_export(&s, 10 * MIB, 1 | 4 | 256);
	ack(&s);
	ASSERT_EQ(0, play(&s, false, &e, &err)) TH_LOG("%s", err.msg);
	EXPECT_EQ(10 * MIB, e.size);
	EXPECT_EQ(1 | 4 | 256, e.flags);
	EXPECT_EQ(4096, e.min_block);
	EXPECT_EQ(65536, e.preferred_block);
	EXPECT_EQ(4 * MIB, e.max_block);
}

TEST(scripted_server_without_go_falls_back_to_export_name)
{
	struct script s = { 0 };
	struct cl_nbd_export e = { 0 };
	struct cl_error err = { 0 };
	unsigned char zeroes[124] = { 0 };

	greeting(&s, FIXED);
	reply(&s, OPT_GO, 0x80000001u, NULL, 0);	/* NBD_REP_ERR_UNSUP */
	add64(&s, 20 * MIB);
	add16(&s, 1 | 2);
	add(&s, zeroes, sizeof(zeroes));
	ASSERT_EQ(0, play(&s, false, &e, &err)) TH_LOG("%s", err.msg);
	EXPECT_EQ(20 * MIB, e.size);
	EXPECT_EQ(1 | 2, e.flags);
	EXPECT_EQ(4096, e.preferred_block);
}

struct bad_case {
	const char *what;
	int code;
	const char *msg;	/* part of the message */
};

static void expect_failure(struct __test_metadata *_metadata,
			   const struct script *s, bool hang_up,
			   const struct bad_case *c)
{
	struct cl_nbd_export e = { .size = 12345 };
	struct cl_error err = { 0 };
	int ret = play(s, hang_up, &e, &err);

	EXPECT_EQ(c->code, ret) TH_LOG("%s: %s", c->what, err.msg);
	EXPECT_NE(NULL, strstr(err.msg, c->msg)) TH_LOG("%s: '%s'", c->what,
							err.msg);
	EXPECT_NE(NULL, strstr(err.msg, "'vol'")) TH_LOG("%s: '%s'", c->what,
							 err.msg);
	EXPECT_EQ(12345, e.size);	/* untouched on failure */
}

TEST(scripted_bad_greetings)
{
	struct script s = { 0 };

	add64(&s, 0x1122334455667788ULL);
	add64(&s, 0x49484156454f5054ULL);
	add16(&s, FIXED);
	expect_failure(_metadata, &s, false,
		       &(struct bad_case){ "bad magic", -EPROTO, "bad magic" });
	s.len = 0;
	add64(&s, 0x4e42444d41474943ULL);
	add64(&s, 0x00420281861253ULL);
	expect_failure(_metadata, &s, false,
		       &(struct bad_case){ "oldstyle", -EPROTO, "oldstyle" });
	s.len = 0;
	greeting(&s, 0);
	expect_failure(_metadata, &s, false,
		       &(struct bad_case){ "not fixed", -EPROTO, "fixed newstyle" });
	s.len = 0;
	greeting(&s, FIXED);
	expect_failure(_metadata, &s, true,
		       &(struct bad_case){ "hang-up", -ECONNRESET, "closed" });
	s.len = 0;
	expect_failure(_metadata, &s, false,
		       &(struct bad_case){ "silent", -ETIMEDOUT, "in time" });
}

TEST(scripted_error_replies)
{
	static const struct {
		uint32_t type;
		struct bad_case c;
	} cases[] = {
		{ 0x80000006u, { "unknown", -ENOENT, "no export named vol here" } },
		{ 0x80000002u, { "policy", -EACCES, "policy" } },
		{ 0x80000005u, { "tls", -EOPNOTSUPP, "TLS" } },
		{ 0x80000007u, { "shutdown", -ESHUTDOWN, "shutting down" } },
		{ 0x800000ffu, { "unknown error", -EPROTO, "refused" } },
	};
	const char *text = "no export named vol here\n";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script s = { 0 };

		greeting(&s, FIXED);
		reply(&s, OPT_GO, cases[i].type, text, strlen(text));
		expect_failure(_metadata, &s, false, &cases[i].c);
	}
}

TEST(scripted_broken_replies)
{
	struct script s = { 0 };
	unsigned char junk[8] = { 0 };

	greeting(&s, FIXED);
	add64(&s, 0xdeadbeefULL);
	add32(&s, OPT_GO);
	add32(&s, 1);
	add32(&s, 0);
	expect_failure(_metadata, &s, false,
		       &(struct bad_case){ "reply magic", -EPROTO, "bad magic" });
	s.len = 0;
	greeting(&s, FIXED);
	reply(&s, 1, 1, NULL, 0);
	expect_failure(_metadata, &s, false,
		       &(struct bad_case){ "other option", -EPROTO, "another option" });
	s.len = 0;
	greeting(&s, FIXED);
	add64(&s, REPLY_MAGIC);
	add32(&s, OPT_GO);
	add32(&s, 3);
	add32(&s, 1u << 30);
	expect_failure(_metadata, &s, false,
		       &(struct bad_case){ "huge reply", -EPROTO, "too long" });
	s.len = 0;
	greeting(&s, FIXED);
	reply(&s, OPT_GO, 3, junk, 5);	/* an NBD_INFO_EXPORT of 5 bytes */
	expect_failure(_metadata, &s, false,
		       &(struct bad_case){ "short info", -EPROTO, "malformed" });
	s.len = 0;
	greeting(&s, FIXED);
	ack(&s);
	expect_failure(_metadata, &s, false,
		       &(struct bad_case){ "no size", -EPROTO, "without telling its size" });
	s.len = 0;
	greeting(&s, FIXED);
	info_export(&s, 1 * MIB, 1);
	reply(&s, OPT_GO, 3, junk, 4);	/* mid-reply: promised 4, then gone */
	s.len -= 4;
	expect_failure(_metadata, &s, true,
		       &(struct bad_case){ "cut reply", -ECONNRESET, "closed" });
}

TEST(scripted_bad_exports)
{
	static const struct {
		uint64_t size;
		uint32_t min, pref, max;
		const char *msg;
	} cases[] = {
		{ 0, 1, 4096, 1 << 20, "size of 0" },
		{ 1ULL << 63, 1, 4096, 1 << 20, "2^63" },
		{ 1 << 20, 3, 4096, 1 << 20, "minimum block" },
		{ 1 << 20, 1 << 17, 1 << 17, 1 << 20, "minimum block" },
		{ 1 << 20, 512, 256, 1 << 20, "preferred block" },
		{ 1 << 20, 512, 4096, 2048, "maximum block" },
		{ 1 << 20, 512, 4096, 4097 * 512 + 1, "maximum block" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script s = { 0 };

		greeting(&s, FIXED);
		info_export(&s, cases[i].size, 1);
		info_block(&s, cases[i].min, cases[i].pref, cases[i].max);
		ack(&s);
		expect_failure(_metadata, &s, false,
			       &(struct bad_case){ cases[i].msg, -EPROTO,
						   cases[i].msg });
	}
}

TEST(export_name_too_long)
{
	char *name = malloc(CL_NBD_MAX_NAME + 2);
	struct cl_nbd_export e;
	struct cl_error err = { 0 };

	ASSERT_NE(NULL, name);
	memset(name, 'a', CL_NBD_MAX_NAME + 1);
	name[CL_NBD_MAX_NAME + 1] = '\0';
	EXPECT_EQ(-EINVAL, cl_nbd_handshake(-1, name, 100, &e, &err));
	free(name);
}

TEST_HARNESS_MAIN
