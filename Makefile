# SPDX-License-Identifier: Apache-2.0
#
# cinderlib: top-level build. Kbuild (next to this file) builds the kernel
# module; this Makefile drives it and the userspace parts.
#
#   make            build everything (module, library, CLI, drivers, tests)
#   make check      install what is needed, build, run every test
#   make demo       the main job: a volume's life in the test VM
#   make install    install library, CLI, drivers, system files, module
#   make uninstall  remove what make install installed
#   make docs       the documentation into build/docs/html

BUILD ?= $(CURDIR)/build
W ?=
export BUILD

# The kernel build tree, looked up when a recipe needs it and not when make
# starts: `make check` and `make demo` install the headers first. KDIR= on
# the command line or in the environment overrides it.
VERSION := $(shell cat $(CURDIR)/VERSION)
export VERSION

# Where 'make install' puts things (scripts/install-tree has the list);
# DESTDIR is prepended to each. The system's own directories (udev, units,
# module loading) are not under PREFIX: that is where they are read.
DESTDIR ?=
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
UDEVDIR ?= /lib/udev
SYSTEMD_UNIT_DIR ?= /lib/systemd/system
MODULES_LOAD_DIR ?= /usr/lib/modules-load.d
# Handed to scripts/install-tree only, not exported: 'make check' would
# hand them to every test (and a test's own 'make install PREFIX=...'
# would then keep these).
INSTALL_DIRS = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" BINDIR="$(BINDIR)" \
	LIBDIR="$(LIBDIR)" INCLUDEDIR="$(INCLUDEDIR)" MANDIR="$(MANDIR)" \
	BASH_COMPLETION_DIR="$(BASH_COMPLETION_DIR)" SYSCONFDIR="$(SYSCONFDIR)" \
	UDEVDIR="$(UDEVDIR)" SYSTEMD_UNIT_DIR="$(SYSTEMD_UNIT_DIR)" \
	MODULES_LOAD_DIR="$(MODULES_LOAD_DIR)"

kdir = $(or $(KDIR),$(shell $(CURDIR)/scripts/find-kdir))

.PHONY: all module userspace drivers tests kselftest check deps demo \
	install install-userspace uninstall uninstall-userspace clean \
	checkpatch bench abi-baseline docs

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

# install-userspace is everything but the module (packages build the
# module with DKMS on the target). Without DESTDIR, the loader's cache and
# udev learn of the new files.
install: install-userspace
	DESTDIR="$(DESTDIR)" scripts/install-module

install-userspace: userspace drivers
	$(MAKE) -C userspace install-files
	$(INSTALL_DIRS) scripts/install-tree install
	@if [ -z "$(DESTDIR)" ]; then \
		ldconfig 2>/dev/null || true; \
		udevadm control --reload 2>/dev/null || true; \
	fi

uninstall: uninstall-userspace
	DESTDIR="$(DESTDIR)" scripts/install-module --remove

uninstall-userspace:
	$(INSTALL_DIRS) scripts/install-tree uninstall
	@if [ -z "$(DESTDIR)" ]; then ldconfig 2>/dev/null || true; fi

# Record libcinderlib's ABI as the baseline tests/static/abi_test.sh
# compares with: after an intended change of the public API.
abi-baseline: userspace
	abidw --headers-dir userspace/include/cinderlib --drop-private-types \
		--no-corpus-path --no-show-locs --no-comp-dir-path \
		$(BUILD)/lib/libcinderlib.so > userspace/lib/libcinderlib.abi

# The documentation (doc/source, Sphinx with the OpenStack theme) into
# $(BUILD)/docs/html: doxygen first, the public headers' comments as XML
# for the API reference, then Sphinx, where a warning is an error.
docs:
	@mkdir -p $(BUILD)/docs/doxygen
	DOXYGEN_OUTPUT_DIR=$(abspath $(BUILD))/docs/doxygen doxygen doc/Doxyfile
	CINDERLIB_DOXYGEN_XML=$(abspath $(BUILD))/docs/doxygen/xml \
		sphinx-build -W --keep-going -b html doc/source $(BUILD)/docs/html

clean:
	-test -z "$(kdir)" || $(MAKE) -C $(kdir) M=$(CURDIR) clean
	rm -rf $(BUILD)
