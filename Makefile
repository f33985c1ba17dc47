# lunik -- top-level build.
#
#   make          the dependencies, the runtime shared by every image, the
#                 host tools
#   make run      boots examples/api on port 8080 (building what is missing)
#   make test     every suite; ends with "N passed, N failed"
#   make hosted   the hosted platform (lunik build --hosted): the runtime
#                 as a Linux process, plain and with the sanitizers
#   make fuzz     the fuzz targets, 400 s each (make test runs them 10 s);
#                 one line each, fuzz NAME: N execs, N crashes
#   make crash    the kv crash test with 500 kills (make test does 50)
#   make bench    every benchmark row, lunik beside its baselines, into
#                 bench/results/latest.{md,json,png} (about 40 minutes)
#   make bench-quick  a short version of every row (a few minutes)
#
# Third-party sources are fetched from Debian into build/ (mk/deps.mk). An
# image is never compiled: tools/lunik packs an app and links it against
# build/lunik.o and the libraries.

.DEFAULT_GOAL := all
BUILD := build
Q := $(if $(V),,@)

# Debian packages, by what needs them. `make` and `make run` ask only for
# what building and running need (compiler, binutils, QEMU, apt tools);
# the tools that only tests, fuzzing and benchmarks use are asked for by
# those targets alone. They are checked before anything else is read,
# since the flags below ask gcc for its paths: as root the missing ones are
# installed, otherwise the exact apt-get line is printed.
BUILD_PACKAGES := gcc make binutils python3 qemu-system-x86 apt dpkg-dev \
	xz-utils
# The hosted platform (mk/hosted.mk: `make hosted`, lunik build --hosted)
# links libslirp; the tests and fuzz targets build it.
HOSTED_PACKAGES := libslirp-dev pkg-config
FUZZ_PACKAGES := clang libclang-rt-14-dev $(HOSTED_PACKAGES)
TEST_PACKAGES := $(FUZZ_PACKAGES) curl wrk netcat-openbsd iproute2 \
	iputils-ping lua-socket lua-nginx-redis redis-server lua-dkjson \
	lua-inspect openssl apache2-utils prometheus haproxy libvirt-daemon-system \
	libvirt-clients perl docker-registry skopeo gdb
# The benchmarks also need gnuplot (the chart); bench/linuxvm.py downloads
# the Linux microVM's own packages.
BENCH_PACKAGES := gnuplot-nox wrk iproute2 openssl
HOST_PACKAGES := $(BUILD_PACKAGES) \
	$(if $(filter test crash,$(MAKECMDGOALS)),$(TEST_PACKAGES)) \
	$(if $(filter fuzz,$(MAKECMDGOALS)),$(FUZZ_PACKAGES)) \
	$(if $(filter hosted,$(MAKECMDGOALS)),$(HOSTED_PACKAGES)) \
	$(if $(filter bench bench-quick,$(MAKECMDGOALS)),$(BENCH_PACKAGES))
HOST_CHECK ?= tools/host-check
ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
ifneq ($(shell $(HOST_CHECK) $(sort $(HOST_PACKAGES)) >&2 && echo ok),ok)
$(error missing Debian packages (see above))
endif
endif

include mk/toolchain.mk
include mk/deps.mk
include mk/kernel.mk

RUNTIME_SRCS := $(wildcard runtime/*.c)
BINDING_SRCS := $(wildcard bindings/*.c)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(BUILD)/%.o)
BINDING_OBJS := $(BINDING_SRCS:%.c=$(BUILD)/%.o)

include mk/hosted.mk

HOST_CC := cc
HOST_CFLAGS := -O2 -g -std=gnu11 -Wall -Wextra -Iruntime -Itools
LUNIK_PACK := $(BUILD)/host/lunik-pack
FLOOR := $(BUILD)/floor.elf
KVM_PROBE := $(BUILD)/host/kvm-probe.elf
# The bindings, an archive an image's link takes only the modules it
# needs from (tools/lunikcli/bundle.py), and the Lua modules they register
# (RT_MODULE) with their openers, one "NAME<TAB>luaopen_..." a line.
MODULES_LIB := $(BUILD)/lunik-modules.a
MODULE_LIST := $(BUILD)/host/modules

.PHONY: all run test fuzz crash bench bench-quick install clean distclean hosted
# The hosted platform's two variants (mk/hosted.mk), for lunik build --hosted.
hosted: all $(HOSTED_PARTS) $(HOSTED_ASAN_PARTS)
all: $(BUILD)/lunik.o $(MODULES_LIB) $(LUNIK_PACK) $(FLOOR) $(KVM_PROBE) \
	$(DEPS_LIBS) $(MODULE_LIST)

$(RUNTIME_OBJS) $(BINDING_OBJS): $(BUILD)/%.o: %.c $(DEPS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC    $<")
	$(Q)$(TARGET_CC) $(RUNTIME_CFLAGS) -Iruntime -MMD -MP -c $< -o $@

# What every image links, as one relocatable object: the kernel and the
# runtime. The bindings are an archive (D: no timestamps, reproducible).
$(BUILD)/lunik.o: $(KERNEL_OBJS) $(RUNTIME_OBJS)
	@echo "  LD    $@"
	$(Q)$(TARGET_LD) -r -o $@ $^
$(MODULES_LIB): $(BINDING_OBJS)
	@echo "  AR    $@"
	$(Q)rm -f $@ && $(TARGET_AR) rcsD $@ $^

$(LUNIK_PACK): tools/lunik-pack.c tools/rompack.c runtime/rom.c tools/rompack.h runtime/rom.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC $@")
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -o $@ tools/lunik-pack.c tools/rompack.c runtime/rom.c

$(MODULE_LIST): $(BINDING_SRCS) Makefile
	@mkdir -p $(dir $@)
	$(Q)sed -n 's/.*RT_MODULE( *"\([^"]*\)", *\([A-Za-z0-9_]*\)).*/\1\t\2/p' \
		$(BINDING_SRCS) | sort -u >$@.tmp
	$(Q)mv $@.tmp $@

# The benchmark floor: an empty PVH kernel that exits at once.
$(FLOOR): bench/floor.S bench/floor.ld
	@mkdir -p $(dir $@)
	@echo "  AS    $@"
	$(Q)$(TARGET_CC) -c -o $(BUILD)/floor.o bench/floor.S
	$(Q)$(TARGET_LD) -n -T bench/floor.ld -o $@ $(BUILD)/floor.o

# Lua for the host, from the same patched source as the guest's: the host
# unit tests link bindings against it and run stdlib modules on it. Built
# with the sanitizers the unit tests use (tests/run.py).
HOST_LUA_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-DLUA_COMPAT_5_3 -DLUA_USE_LINUX -Ideps/lua
HOST_LUA_LIB := $(BUILD)/host/liblua.a
HOST_LUA := $(BUILD)/host/lua
$(HOST_LUA_LIB): $(DEPS_LUA_LIB) deps/lua/lua.mk
	@echo "  HOST  liblua.a"
	$(Q)$(DEPS_MAKE) -s -f deps/lua/lua.mk SRC=$(BUILD)/src/lua/src \
		OBJ=$(BUILD)/host/lua-obj OUT=$@ CC=cc AR=ar 'CFLAGS=$(HOST_LUA_CFLAGS)'
	$(Q)touch $@
all: $(HOST_LUA) # lunik build compiles apps with it to find syntax errors
$(HOST_LUA): $(HOST_LUA_LIB)
	$(Q)cc $(HOST_LUA_CFLAGS) -I$(BUILD)/src/lua/src -o $@ \
		$(BUILD)/src/lua/src/lua.c $(HOST_LUA_LIB) -lm -ldl

# The stdlib as bytecode, compiled once by the host's luac (the same Lua
# version, source and configuration as the guest's, so the guest loads
# what it makes, debug information kept for tracebacks): images pack
# build/stdlib/ and boot without compiling it. Run from the top so each
# chunk is named @stdlib/..., as the guest names its ROM files.
HOST_LUAC := $(BUILD)/host/luac
STDLIB_SRCS := $(sort $(shell find stdlib -name '*.lua'))
STDLIB_BC := $(STDLIB_SRCS:%=$(BUILD)/%)
all: $(STDLIB_BC)
$(HOST_LUAC): $(HOST_LUA_LIB)
	$(Q)cc $(HOST_LUA_CFLAGS) -I$(BUILD)/src/lua/src -o $@ \
		$(BUILD)/src/lua/src/luac.c $(HOST_LUA_LIB) -lm
$(STDLIB_BC): $(BUILD)/%: % $(HOST_LUAC)
	@mkdir -p $(dir $@)
	$(Q)ASAN_OPTIONS=detect_leaks=0 $(HOST_LUAC) -o $@ $<

# What tools/lunik boots to learn whether KVM runs guests natively here.
$(KVM_PROBE): tools/kvm-probe.S bench/floor.ld
	@mkdir -p $(dir $@)
	@echo "  AS    $@"
	$(Q)$(TARGET_CC) -c -o $(BUILD)/host/kvm-probe.o tools/kvm-probe.S
	$(Q)$(TARGET_LD) -n -T bench/floor.ld -e probe_start -o $@ $(BUILD)/host/kvm-probe.o

# The example service: examples/api on http://127.0.0.1:8080, its items in
# a kv store on build/run/api.img (kept across runs).
RUN_PORT ?= 8080
run: all
	@mkdir -p $(BUILD)/run
	@echo "  RUN   examples/api on http://127.0.0.1:$(RUN_PORT) (Ctrl-C stops it)"
	$(Q)tools/lunik run examples/api -p $(RUN_PORT):8080 \
		--disk $(BUILD)/run/api.img:64M -- port=8080

test: all $(HOST_LUA) $(HOSTED_PARTS) $(HOSTED_ASAN_PARTS)
	$(Q)python3 tests/run.py

# The kv crash test at length: KV_KILLS kills of QEMU (make test does 50).
KV_KILLS ?= 500
crash: all
	$(Q)KV_KILLS=$(KV_KILLS) python3 tests/run.py -k kv_survives_kills

# The fuzz targets (tests/fuzz), 400 s each (FUZZ_SECONDS=...): enough
# for 10 million executions of the fast ones (fuzz_rom, fuzz_http_request)
# on a 2-core machine; the whole-stack ones run at 100-6000 a second.
FUZZ_SECONDS ?= 400
fuzz: all $(HOST_LUA) $(HOSTED_ASAN_PARTS)
	$(Q)python3 tests/run.py --fuzz-only --fuzz-seconds $(FUZZ_SECONDS)

bench: all
	$(Q)python3 bench/run.py
bench-quick: all
	$(Q)python3 bench/run.py --quick

# `make install PREFIX=...`: the lunik command and what it needs (the
# runtime, stdlib/, the host tools) under PREFIX/lib/lunik, in the same
# layout as this tree, and PREFIX/bin/lunik pointing at it, so it runs from
# any folder. DESTDIR is honoured for packaging.
PREFIX ?= /usr/local
INSTALL_LIB := $(DESTDIR)$(PREFIX)/lib/lunik
INSTALL_LIBS := libmbedtls.a libmbedx509.a libmbedcrypto.a liblua.a \
	liblwip.a libm.a libc.a
install: all $(HOST_LUA)
	@echo "  INSTALL $(PREFIX)/bin/lunik, $(PREFIX)/lib/lunik"
	$(Q)rm -rf $(INSTALL_LIB)
	$(Q)mkdir -p $(INSTALL_LIB)/kernel $(INSTALL_LIB)/build/host \
		$(INSTALL_LIB)/build/sysroot/lib $(DESTDIR)$(PREFIX)/bin
	$(Q)tar -c --exclude=__pycache__ tools/lunik tools/lunikcli stdlib \
		$(BUILD)/stdlib | tar -x -C $(INSTALL_LIB)
	$(Q)cp kernel/link.ld $(INSTALL_LIB)/kernel/
	$(Q)mkdir -p $(INSTALL_LIB)/deps && cp deps/sources.sha256 $(INSTALL_LIB)/deps/
	$(Q)cp $(BUILD)/lunik.o $(MODULES_LIB) $(INSTALL_LIB)/build/
	$(Q)cp $(LUNIK_PACK) $(HOST_LUA) $(KVM_PROBE) $(MODULE_LIST) \
		$(INSTALL_LIB)/build/host/
	$(Q)cp $(addprefix $(BUILD)/sysroot/lib/,$(INSTALL_LIBS)) \
		$(INSTALL_LIB)/build/sysroot/lib/
	$(Q)ln -sfn ../lib/lunik/tools/lunik $(DESTDIR)$(PREFIX)/bin/lunik

clean:
	rm -rf $(BUILD)/kernel $(BUILD)/runtime $(BUILD)/bindings $(BUILD)/host \
		$(BUILD)/lunik.o $(MODULES_LIB) $(BUILD)/stdlib $(BUILD)/tests \
		$(HOSTED_OUT) $(HOSTED_ASAN_OUT)

distclean:
	rm -rf $(BUILD)

-include $(RUNTIME_OBJS:.o=.d) $(BINDING_OBJS:.o=.d)

# Objects linked only into test images (lunik build --link).
TEST_OBJS := $(BUILD)/tests/fault.o $(BUILD)/tests/devices.o \
	$(BUILD)/tests/mbedtls_selftest.o $(BUILD)/tests/rng_stub.o
$(TEST_OBJS): $(BUILD)/tests/%.o: tests/system/%.c $(DEPS_LIBS)
	@mkdir -p $(dir $@)
	$(Q)$(TARGET_CC) $(RUNTIME_CFLAGS) -Iruntime -c $< -o $@
test: $(TEST_OBJS)

# fault.c for --hosted-asan executables (lunik build --hosted-asan --link):
# the sanitizer suite's proof that a finding is reported.
HOSTED_TEST_OBJS := $(HOSTED_ASAN_OUT)/tests/fault.o
$(HOSTED_TEST_OBJS): $(HOSTED_ASAN_OUT)/tests/%.o: tests/system/%.c $(HOSTED_ASAN_PARTS)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTED_ASAN_CC) $(HOSTED_ASAN_OPT) $(HOSTED_WARN) $(HOSTED_INCLUDES) -c $< -o $@
test: $(HOSTED_TEST_OBJS)
