// SPDX-License-Identifier: GPL-2.0
/*
 * The userspace side of local attach, without the kernel module: the local
 * connector's properties, the device state of recorded attachments (none,
 * missing, remote), reconciling stale ones, refusals, and an attach without
 * the module that says so and leaves nothing behind.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "helpers.h"
#include "cinderlib/kernel.h"

FIXTURE(ah) {
	struct tenv t;
	struct cl_volume *vol;
};

FIXTURE_SETUP(ah)
{
	struct cl_volume_create_opts o = { .size = 1 };

	ASSERT_EQ(0, tenv_init(&self->t, "sqlite"));
	ASSERT_EQ(0, tenv_open_backend(&self->t));
	ASSERT_EQ(0, cl_volume_create(self->t.be, &o, &self->vol,
				      &self->t.err));
}

FIXTURE_TEARDOWN(ah)
{
	cl_volume_free(self->vol);
	tenv_fini(&self->t);
}

/* A connection of this host with @device recorded, as attach leaves it. */
static struct cl_connection *fake_attach(FIXTURE_DATA(ah) *self,
					 const char *host, const char *device)
{
	struct cl_connection *conn = NULL;
	struct cl_dict props = { 0 };

	if (cl_local_connector(self->t.ctx, &props, NULL))
		return NULL;
	if (host)
		cl_dict_set(&props, "host", host);
	if (cl_volume_connect(self->t.ctx, self->vol, &props, CL_ATTACH_RW,
			      &conn, &self->t.err) ||
	    cl_connection_set_device(self->t.ctx, conn, device, &self->t.err)) {
		cl_connection_free(conn);
		conn = NULL;
	}
	cl_dict_clear(&props);
	return conn;
}

static size_t nr_connections(FIXTURE_DATA(ah) *self)
{
	struct cl_connection_list l = { 0 };
	size_t n;

	if (cl_volume_connections(self->t.ctx, self->vol, &l, NULL))
		return 999;
	n = l.count;
	cl_connection_list_free(&l);
	return n;
}

TEST_F(ah, local_connector_properties)
{
	struct cl_dict props = { 0 };
	const char *ip;

	ASSERT_EQ(0, cl_local_connector(self->t.ctx, &props, &self->t.err));
	EXPECT_STREQ("testhost", cl_dict_get(&props, "host"));
	ip = cl_dict_get(&props, "ip");
	ASSERT_NE(NULL, ip);
	EXPECT_NE(NULL, strstr(cl_dict_get(&props, "ips"), ip));
	EXPECT_STREQ("linux", cl_dict_get(&props, "os_type"));
	EXPECT_STREQ("false", cl_dict_get(&props, "multipath"));
	EXPECT_STREQ("true", cl_dict_get(&props, "do_local_attach"));
	EXPECT_NE(NULL, cl_dict_get(&props, "platform"));
	/* The dict is replaced, not appended to. */
	ASSERT_EQ(0, cl_local_connector(self->t.ctx, &props, &self->t.err));
	EXPECT_EQ(7, props.count);
	cl_dict_clear(&props);
}

TEST_F(ah, connector_types)
{
	EXPECT_TRUE(cl_connector_supported("file"));
	EXPECT_TRUE(cl_connector_supported("block"));
	EXPECT_FALSE(cl_connector_supported("iscsi"));
	EXPECT_FALSE(cl_connector_supported(NULL));
	EXPECT_STREQ("stale", cl_device_state_name(CL_DEVICE_MISSING));
	EXPECT_STREQ("attached", cl_device_state_name(CL_DEVICE_PRESENT));
	EXPECT_STREQ("connected", cl_device_state_name(CL_DEVICE_NONE));
	EXPECT_STREQ("remote", cl_device_state_name(CL_DEVICE_REMOTE));
}

TEST_F(ah, device_states)
{
	struct cl_connection *conn = fake_attach(self, NULL, NULL);

	ASSERT_NE(NULL, conn);
	EXPECT_EQ(CL_DEVICE_NONE, cl_connection_device_state(self->t.ctx, conn));
	/* No such device here: stale. */
	ASSERT_EQ(0, cl_connection_set_device(self->t.ctx, conn, "/dev/cbd4000",
					      &self->t.err));
	EXPECT_EQ(CL_DEVICE_MISSING,
		  cl_connection_device_state(self->t.ctx, conn));
	/* Not a cinderblk device at all: stale too. */
	ASSERT_EQ(0, cl_connection_set_device(self->t.ctx, conn, "/dev/null",
					      &self->t.err));
	EXPECT_EQ(CL_DEVICE_MISSING,
		  cl_connection_device_state(self->t.ctx, conn));
	cl_connection_free(conn);
	conn = fake_attach(self, "elsewhere", "/dev/cbd1");
	ASSERT_NE(NULL, conn);
	EXPECT_EQ(CL_DEVICE_REMOTE,
		  cl_connection_device_state(self->t.ctx, conn));
	cl_connection_free(conn);
}

TEST_F(ah, stale_attachment_reconciled)
{
	struct cl_connection_list stale = { 0 };
	struct cl_connection *conn = fake_attach(self, NULL, "/dev/cbd4001");
	struct cl_connection *remote = fake_attach(self, "elsewhere",
						   "/dev/cbd4002");
	struct cl_connection *plain = fake_attach(self, NULL, NULL);

	ASSERT_NE(NULL, conn);
	ASSERT_NE(NULL, remote);
	ASSERT_NE(NULL, plain);
	ASSERT_EQ(3, nr_connections(self));
	ASSERT_EQ(0, cl_connection_reconcile(self->t.ctx, true, &stale,
					     &self->t.err));
	ASSERT_EQ(1, stale.count);
	EXPECT_STREQ(conn->id, stale.items[0]->id);
	EXPECT_EQ(3, nr_connections(self));
	cl_connection_list_free(&stale);
	/* Only the stale one goes: remote and plain connections stay. */
	ASSERT_EQ(0, cl_connection_reconcile(self->t.ctx, false, &stale,
					     &self->t.err));
	EXPECT_EQ(1, stale.count);
	EXPECT_EQ(2, nr_connections(self));
	cl_connection_list_free(&stale);
	ASSERT_EQ(0, cl_connection_reconcile(self->t.ctx, false, &stale,
					     &self->t.err));
	EXPECT_EQ(0, stale.count);
	cl_connection_free(conn);
	cl_connection_free(remote);
	cl_connection_free(plain);
}

TEST_F(ah, detach_rules)
{
	struct cl_connection *remote = fake_attach(self, "elsewhere",
						   "/dev/cbd4003");
	struct cl_connection *stale = fake_attach(self, NULL, "/dev/cbd4004");

	ASSERT_NE(NULL, remote);
	ASSERT_NE(NULL, stale);
	/* Another host's attachment: only with force. */
	EXPECT_EQ(-EBUSY, cl_connection_detach(self->t.ctx, remote, false,
					       &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "elsewhere"));
	EXPECT_EQ(2, nr_connections(self));
	/* A stale one is just cleaned up. */
	ASSERT_EQ(0, cl_connection_detach(self->t.ctx, stale, false,
					  &self->t.err));
	EXPECT_EQ(CL_ATTACH_DETACHED, stale->status);
	EXPECT_EQ(1, nr_connections(self));
	ASSERT_EQ(0, cl_connection_detach(self->t.ctx, remote, true,
					  &self->t.err));
	EXPECT_EQ(0, nr_connections(self));
	ASSERT_EQ(0, cl_volume_refresh(self->t.ctx, self->vol, &self->t.err));
	EXPECT_EQ(CL_STATUS_AVAILABLE, self->vol->status);
	EXPECT_EQ(-ENOENT, cl_volume_detach(self->t.ctx, self->vol, false,
					    &self->t.err));
	cl_connection_free(remote);
	cl_connection_free(stale);
}

TEST_F(ah, attach_refused_over_stale)
{
	struct cl_connection *stale = fake_attach(self, NULL, "/dev/cbd4005");
	struct cl_connection *conn = NULL;

	ASSERT_NE(NULL, stale);
	EXPECT_EQ(-EBUSY, cl_volume_attach(self->t.ctx, self->vol,
					   CL_ATTACH_RW, &conn, &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg, "device is gone"));
	EXPECT_EQ(NULL, conn);
	cl_connection_free(stale);
}

TEST_F(ah, attach_without_module)
{
	struct cl_connection *conn = NULL;
	struct cl_kernel *k = NULL;

	if (cl_kernel_open(&k, NULL) == 0) {
		cl_kernel_close(k);
		SKIP(return, "the cinderblk module is loaded here");
	}
	EXPECT_EQ(-ENOENT, cl_volume_attach(self->t.ctx, self->vol,
					    CL_ATTACH_RW, &conn, &self->t.err));
	EXPECT_NE(NULL, strstr(self->t.err.msg,
			       "cinderblk module not loaded: run modprobe cinderblk"));
	EXPECT_EQ(NULL, conn);
	EXPECT_EQ(0, nr_connections(self));
	ASSERT_EQ(0, cl_volume_refresh(self->t.ctx, self->vol, &self->t.err));
	EXPECT_EQ(CL_STATUS_AVAILABLE, self->vol->status);
}

TEST_HARNESS_MAIN
