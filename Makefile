# SPDX-License-Identifier: Apache-2.0
#
# cinderlib: top-level build. Kbuild (next to this file) builds the kernel
# module; this Makefile drives it and the userspace parts.
#
#   make            build everything (module, library, CLI, drivers, tests)
#   make check      install what is needed, build, run every test
#   make demo       the main job: a volume's life in the test VM
#   make install    install library, CLI, drivers, udev rules, module (DKMS)

BUILD ?= $(CURDIR)/build
W ?=
export BUILD

# The kernel build tree, looked up when a recipe needs it and not when make
# starts: `make check` and `make demo` install the headers first. KDIR= on
# the command line or in the environment overrides it.
PREFIX ?= /usr/local
# systemd units: cinderctl daemon (and what else runs at boot).
SYSTEMD_UNIT_DIR ?= /lib/systemd/system

kdir = $(or $(KDIR),$(shell $(CURDIR)/scripts/find-kdir))

.PHONY: all module userspace drivers tests kselftest check deps demo \
	install clean checkpatch bench

all: module userspace drivers tests

module:
	@test -n "$(kdir)" || { echo "No kernel build tree found: run scripts/install-deps.sh or set KDIR=" >&2; exit 1; }
	$(MAKE) -C $(kdir) M=$(CURDIR) W=$(W) modules

userspace:
	$(MAKE) -C userspace

drivers: userspace
	$(MAKE) -C drivers

kselftest:
	scripts/get-kselftest "$(BUILD)/kselftest"

tests: userspace drivers kselftest
	$(MAKE) -C tests

deps:
	scripts/install-deps.sh

# Dependencies first; everything found on the machine (kernel tree,
# kselftest headers, qemu, the VM's kernel) is looked up after them.
check:
	scripts/install-deps.sh
	$(MAKE) all
	scripts/run-tests

demo:
	scripts/install-deps.sh
	$(MAKE) all
	scripts/vm-run --udev -- scripts/demo

checkpatch:
	scripts/checkpatch kernel/*.c kernel/*.h uapi/linux/cinderblk.h

install: all
	$(MAKE) -C userspace install
	$(MAKE) -C drivers install
	scripts/install-module
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	for u in systemd/*.service; do \
		sed 's|@BINDIR@|$(PREFIX)/bin|g' $$u > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$${u#systemd/}; \
	done

clean:
	-test -z "$(kdir)" || $(MAKE) -C $(kdir) M=$(CURDIR) clean
	rm -rf $(BUILD)
