# SPDX-License-Identifier: GPL-2.0
#
# Hawkeyes top-level Makefile.
#
#   make [KVER=6.1|6.12]   module for that kernel, hkctl, analyzer, selftests
#   make check             host tests + harness self-tests + VM selftests on
#                          every test kernel; last line "N passed, N failed"
#   make check-debug       VM selftests and the netlink fuzzer on the debug
#                          kernel (KASAN, kmemleak, lockdep), built first
#                          and cached (scripts/build-debug-kernel)
#   make demo              the README's first command
#   make bench             benchmarks (ratios from one run)
#   make clean             back to the checked-out tree (caches kept)
#   make distclean         also drop .cache/ (kernel images, initramfs)
#
# check, demo and bench install missing dependencies first
# (scripts/install-deps, needs root).

KVER ?= 6.1
V ?= 0
# HK_ARCH=arm64 cross-builds for Debian's arm64 cloud kernels (the headers
# are unpacked by scripts/fetch-kernel, userspace goes to .build/arm64-user).
HK_ARCH ?= x86_64

TOP := $(CURDIR)
HK_CACHE ?= $(TOP)/.cache
KREL = $(shell HK_ARCH=$(HK_ARCH) $(TOP)/scripts/kernel-release $(KVER))
ifeq ($(KVER),debug)
# the build tree of scripts/build-debug-kernel serves as its headers
KDIR ?= $(shell $(TOP)/scripts/build-debug-kernel --dir)
else ifeq ($(HK_ARCH),arm64)
KDIR ?= $(HK_CACHE)/kernels/$(KREL)/usr/src/linux-headers-$(KREL)
KMAKE_ARCH := ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
else
KDIR ?= /usr/src/linux-headers-$(KREL)
endif
KBUILD_OUT = $(TOP)/.build/$(KREL)
ARM64_USER = $(TOP)/.build/arm64-user

export TOP HK_ARCH HK_CACHE

.PHONY: user-arm64 all module ctl analyzer selftests check check-debug demo bench clean distclean deps kselftest-headers

all: module ctl selftests

# The module is built out of tree in a per-kernel directory made of symlinks
# to the sources, so objects of different kernels never mix and the source
# tree stays clean.
module:
	@[ "$(HK_ARCH)" != arm64 ] || HK_ARCH=arm64 $(TOP)/scripts/fetch-kernel $(KVER) >/dev/null
	@test -d $(KDIR) || { echo "headers for $(KREL) missing: run scripts/install-deps" >&2; exit 1; }
	@mkdir -p $(KBUILD_OUT)/kmod/uapi
	@ln -sf $(TOP)/Kbuild $(KBUILD_OUT)/Kbuild
	@find $(KBUILD_OUT)/kmod -xtype l -delete
	@for f in kmod/*.[ch] kmod/uapi/*.h; do ln -sf $(TOP)/$$f $(KBUILD_OUT)/$$f; done
	$(MAKE) -C $(KDIR) M=$(KBUILD_OUT) V=$(V) $(KMAKE_ARCH) modules

# Userspace for arm64 (hkctl, analyzer, selftests), cross-built in a mirror
# of the tree made of symlinks, against Debian's :arm64 -dev packages.
user-arm64:
	@mkdir -p $(ARM64_USER)
	@find $(ARM64_USER) -type l -delete
	@cd $(TOP) && git ls-files --cached --others --exclude-standard -- Makefile scripts kmod ctl analyzer tools | \
		while read -r f; do mkdir -p "$$(dirname "$(ARM64_USER)/$$f")"; ln -s "$(TOP)/$$f" "$(ARM64_USER)/$$f"; done
	PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
		$(MAKE) -C $(ARM64_USER) HK_ARCH=x86_64 CC=aarch64-linux-gnu-gcc AR=aarch64-linux-gnu-ar ctl selftests

analyzer:
	$(MAKE) -C analyzer

ctl: analyzer
	$(MAKE) -C ctl

kselftest-headers:
	@$(TOP)/scripts/kselftest-headers >/dev/null

selftests: kselftest-headers
	$(MAKE) -C tools/testing/selftests/hawkeyes

deps:
	@$(TOP)/scripts/install-deps

check: deps
	@$(TOP)/scripts/check

check-debug: deps
	@$(TOP)/scripts/build-debug-kernel >/dev/null
	@$(TOP)/scripts/check --debug

demo: deps
	@$(TOP)/scripts/demo

bench: deps
	@$(TOP)/scripts/bench

# clean keeps the caches (kernel images, kselftest headers, initramfs);
# distclean removes them too.
distclean: clean
	rm -rf .cache

clean:
	rm -rf .build
	$(MAKE) -C analyzer clean
	$(MAKE) -C ctl clean
	$(MAKE) -C tools/testing/selftests/hawkeyes clean
