#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Data in RBD images for the driver tests, through Ceph's own bindings.

  rbd_io.py write IMAGE OFFSET LENGTH SEED   write a pattern made from SEED
  rbd_io.py sum IMAGE OFFSET LENGTH [SNAP]   sha256 of that range
  rbd_io.py pattern LENGTH SEED [SKIP]       sha256 of the pattern itself
                                             (without its first SKIP bytes)

The cluster comes from CEPH_CONF and CEPH_KEYRING_ADMIN, the pool from
CEPH_POOL (tests/ceph/cluster.sh exports them).
"""
import hashlib
import os
import sys

import rados
import rbd


def pattern(length, seed):
    out = bytearray()
    block = 0
    while len(out) < length:
        out += hashlib.sha256(b"%s:%d" % (seed.encode(), block)).digest()
        block += 1
    return bytes(out[:length])


def main(argv):
    if argv[1] == "pattern":
        skip = int(argv[4]) if len(argv) > 4 else 0
        data = pattern(int(argv[2]), argv[3])[skip:]
        print(hashlib.sha256(data).hexdigest())
        return 0
    cluster = rados.Rados(conffile=os.environ["CEPH_CONF"],
                          conf={"keyring": os.environ["CEPH_KEYRING_ADMIN"]})
    cluster.connect(timeout=30)
    try:
        with cluster.open_ioctx(os.environ.get("CEPH_POOL", "rbd")) as io:
            name, off, length = argv[2], int(argv[3]), int(argv[4])
            if argv[1] == "write":
                with rbd.Image(io, name) as img:
                    img.write(pattern(length, argv[5]), off)
                    img.flush()
            elif argv[1] == "sum":
                snap = argv[5] if len(argv) > 5 else None
                with rbd.Image(io, name, snapshot=snap,
                               read_only=True) as img:
                    print(hashlib.sha256(img.read(off, length)).hexdigest())
            else:
                print("unknown action " + argv[1], file=sys.stderr)
                return 2
    finally:
        cluster.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
