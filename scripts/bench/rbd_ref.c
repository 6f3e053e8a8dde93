// SPDX-License-Identifier: Apache-2.0
/*
 * rbd_ref: the librados/librbd calls of one rbd driver operation and
 * nothing else, one process per operation as cinderctl is: the reference
 * of scripts/bench/rbd_controlplane.
 *
 *   rbd_ref CONF KEYRING USER POOL create IMAGE BYTES
 *   rbd_ref CONF KEYRING USER POOL snap IMAGE SNAP       (create + protect)
 *   rbd_ref CONF KEYRING USER POOL clone IMAGE SNAP CHILD
 *   rbd_ref CONF KEYRING USER POOL resize IMAGE BYTES
 *   rbd_ref CONF KEYRING USER POOL unsnap IMAGE SNAP     (unprotect + remove)
 *   rbd_ref CONF KEYRING USER POOL clonevol IMAGE SNAP CHILD (snap + clone)
 *   rbd_ref CONF KEYRING USER POOL rm IMAGE
 *   rbd_ref CONF KEYRING USER POOL rmclone CHILD PARENT SNAP
 *                                  (rm, then unprotect + remove PARENT@SNAP)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#define FEATURES (RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK | \
		  RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF | \
		  RBD_FEATURE_DEEP_FLATTEN)

static int with_image(rados_ioctx_t io, const char *name, const char *op,
		      char **argv)
{
	rbd_image_t img;
	int ret = rbd_open(io, name, &img, NULL);

	if (ret < 0)
		return ret;
	if (strcmp(op, "snap") == 0) {
		ret = rbd_snap_create(img, argv[0]);
		if (!ret)
			ret = rbd_snap_protect(img, argv[0]);
	} else if (strcmp(op, "unsnap") == 0) {
		ret = rbd_snap_unprotect(img, argv[0]);
		if (!ret)
			ret = rbd_snap_remove(img, argv[0]);
	} else {
		ret = rbd_resize(img, strtoull(argv[0], NULL, 10));
	}
	rbd_close(img);
	return ret;
}

int main(int argc, char **argv)
{
	rados_ioctx_t io;
	char id[256];
	rados_t c;
	int ret, order = 22;

	if (argc < 7) {
		fprintf(stderr, "usage: rbd_ref CONF KEYRING USER POOL OP IMAGE ...\n");
		return 2;
	}
	snprintf(id, sizeof(id), "client.%s", argv[3]);
	ret = rados_create2(&c, "ceph", id, 0);
	if (!ret)
		ret = rados_conf_read_file(c, argv[1]);
	if (!ret)
		ret = rados_conf_set(c, "keyring", argv[2]);
	if (!ret)
		ret = rados_connect(c);
	if (!ret)
		ret = rados_ioctx_create(c, argv[4], &io);
	if (ret) {
		fprintf(stderr, "rbd_ref: connect: %s\n", strerror(-ret));
		return 1;
	}
	if (strcmp(argv[5], "create") == 0 && argc == 8) {
		rbd_image_options_t o;

		rbd_image_options_create(&o);
		rbd_image_options_set_uint64(o, RBD_IMAGE_OPTION_FORMAT, 2);
		rbd_image_options_set_uint64(o, RBD_IMAGE_OPTION_FEATURES,
					     FEATURES);
		rbd_image_options_set_uint64(o, RBD_IMAGE_OPTION_ORDER, 22);
		ret = rbd_create4(io, argv[6], strtoull(argv[7], NULL, 10), o);
		rbd_image_options_destroy(o);
	} else if (strcmp(argv[5], "clone") == 0 && argc == 9) {
		ret = rbd_clone(io, argv[6], argv[7], io, argv[8], FEATURES,
				&order);
	} else if (strcmp(argv[5], "clonevol") == 0 && argc == 9) {
		ret = with_image(io, argv[6], "snap", argv + 7);
		if (!ret)
			ret = rbd_clone(io, argv[6], argv[7], io, argv[8],
					FEATURES, &order);
	} else if (strcmp(argv[5], "rm") == 0) {
		ret = rbd_remove(io, argv[6]);
	} else if (strcmp(argv[5], "rmclone") == 0 && argc == 9) {
		ret = rbd_remove(io, argv[6]);
		if (!ret)
			ret = with_image(io, argv[7], "unsnap", argv + 8);
	} else if (argc == 8) {
		ret = with_image(io, argv[6], argv[5], argv + 7);
	} else {
		ret = -EINVAL;
	}
	rados_ioctx_destroy(io);
	rados_shutdown(c);
	if (ret) {
		fprintf(stderr, "rbd_ref: %s: %s\n", argv[5], strerror(-ret));
		return 1;
	}
	return 0;
}
