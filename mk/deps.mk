# Third-party code: newlib 4.5, Lua 5.4.7, lwIP 2.2 and mbedTLS 3.6, from
# Debian 13's (trixie) packages (docs/design.md, "Third-party code"; deps/dep.sh
# reads the Debian archive from the machine's own sources). Included after
# mk/toolchain.mk. Nothing of theirs is committed: deps/dep.sh fetches them
# through a private apt configuration under $(BUILD)/apt, checks each upstream
# tarball against deps/sources.sha256, and unpacks it with Debian's patches
# applied into $(BUILD)/src/NAME. They are then built once with our flags.
#
# Targets:
#   deps                          all of the below
#   $(SYSROOT)/lib/libc.a libm.a  newlib; its headers in $(SYSROOT)/include
#   $(SYSROOT)/lib/liblua.a       Lua's library; lua.h & co in $(SYSROOT)/include
#   $(SYSROOT)/lib/liblwip.a      lwIP with deps/lwip's configuration; its
#                                 headers and ours in $(SYSROOT)/include
#   $(DEPS_MBEDTLS_LIBS)          mbedTLS's libmbedtls.a libmbedx509.a
#                                 libmbedcrypto.a; headers in
#                                 $(SYSROOT)/include/mbedtls, with our
#                                 configuration as mbedtls/mbedtls_config.h
#   $(MBEDTLS_STAMP)              the patched tree $(MBEDTLS_SRC)
# Variables: DEPS_LIBS, DEPS_HOST_PACKAGES, LWIP_SRC, MBEDTLS_SRC.
#
# Each dependency prints one line; the output of configure and compilers goes
# to $(BUILD)/logs/NAME.log, whose tail is shown on failure. A library is
# rebuilt only when its pinned tarball or its flags change ($(BUILD)/stamps/
# NAME.sig records them).

ifeq ($(filter grouped-target,$(.FEATURES)),)
$(error mk/deps.mk needs GNU make 4.3 or later (grouped targets))
endif

# Debian packages the fetch and the builds need on the host.
DEPS_HOST_PACKAGES := apt dpkg-dev xz-utils make gcc binutils

DEPS_PINS  := deps/sources.sha256
DEPS_SH    := BUILD=$(BUILD) DEPS_PINS=$(DEPS_PINS) deps/dep.sh
DEPS_Q     := $(if $(V),,@)
DEPS_NPROC := $(shell nproc 2>/dev/null || echo 2)
# The third-party builds run their own make, not a sub-make of ours: none of
# our command-line variables, flags or jobserver leak into them.
DEPS_MAKE  := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
	-u GNUMAKEFLAGS make -j$(DEPS_NPROC)
# Debug info names build/src/... rather than this checkout's absolute path,
# so the libraries do not depend on where the repository lives.
DEPS_PREFIX_MAP := -ffile-prefix-map=$(abspath .)/=

# "TARBALL=SHA256" words of the pin file, for the signatures below.
DEPS_PIN_WORDS := $(shell awk '{sub(/^\*/, "", $$2); print $$2 "=" $$1}' $(DEPS_PINS))
deps_pin = $(filter $1=%,$(DEPS_PIN_WORDS))

# $(call deps_sig_rule,FILE,VAR): FILE holds the value of VAR and is rewritten
# (so what depends on it is rebuilt) only when that value changes. Written by
# the shell, not $(file), so that make -n changes nothing.
deps_same = $(and $(findstring x$1x,x$2x),$(findstring x$2x,x$1x))
define deps_sig_rule
$1: $(if $(call deps_same,$(file <$1),$($2)),,deps-force)
	@mkdir -p $$(@D) && printf '%s\n' '$$(subst ','\'',$$($2))' >$$@
endef
.PHONY: deps deps-force
deps-force:

# --------------------------------------------------------------------------
# newlib 4.5: Debian's binary package newlib-source ships Debian's patched
# tree as a tarball (its quilt patches already applied). Built as a cross
# newlib for a bare x86_64 ELF target with the host gcc; only target-newlib
# (libc, libm), no libgloss.
#
# Configure choices, for a single-threaded unikernel:
#   --disable-newlib-supplied-syscalls  runtime/ provides _write, _sbrk, ...
#   --disable-newlib-multithread  one vCPU, no threads: locks compile away
#   --enable-newlib-io-long-long, --enable-newlib-io-c99-formats
#                          printf/scanf with %lld, %a, %hh, %z, %j (Lua)
#   (default)              full stdio and reentrancy structure (no
#                          --enable-newlib-reent-small, no nano formatted
#                          io), dlmalloc-based malloc (not nano-malloc: Lua
#                          reallocs a lot), floating point io
#   --disable-multilib --disable-nls  one ABI, no messages catalogues
#   CC_FOR_TARGET="gcc -nostdinc", -isystem $(GCC_INCLUDE): newlib's headers
#                          then gcc's own (stddef.h, stdarg.h, float.h),
#                          never the host's glibc headers
# -D/-U flags (they come after newlib's own on the command line):
#   -UMISSING_SYSCALL_NAMES  for an unknown OS ("*-elf") newlib's configure
#                          makes its reentrant layer call write(), sbrk(), ...
#                          undoing it keeps the standard names _write,
#                          _sbrk, _close, ... that runtime/ implements
#   -D_COMPILING_NEWLIB    newlib's headers then declare those _names (as for
#                          ARM targets): without it _sbrk, _lseek, _read...
#                          would be implicitly declared as returning int
#   -DNO_EXEC              no processes: system() fails with ENOSYS (the
#                          Linux gcc defines "unix", which would otherwise
#                          pull in fork/execve/wait)
#   -UHAVE_INIT_FINI       __libc_init_array/__libc_fini_array run only the
#                          .init_array/.fini_array tables: no crti.o, so no
#                          _init/_fini to provide
#   -Wa,--noexecstack      the x86_64 assembly files (setjmp, memcpy, memset)
#                          lack a .note.GNU-stack, for which ld warns at
#                          every link
# The objects are non-PIC: $(TARGET_ARCH_FLAGS) has -fno-pic -fno-pie, and
# dep.sh check-newlib refuses any GOT relocation or system call instruction.
# --------------------------------------------------------------------------
NEWLIB_VERSION := 4.5.0.20241231
NEWLIB_TARBALL := newlib-4.5.0.20241231.tar.xz
DEPS_NEWLIB    := $(BUILD)/newlib
DEPS_NEWLIB_STAGE := $(DEPS_NEWLIB)/stage/usr/x86_64-elf
DEPS_NEWLIB_LIBS  := $(SYSROOT)/lib/libc.a $(SYSROOT)/lib/libm.a

NEWLIB_CFLAGS := $(TARGET_ARCH_FLAGS) $(TARGET_OPT) -isystem $(GCC_INCLUDE) \
	-UMISSING_SYSCALL_NAMES -D_COMPILING_NEWLIB -DNO_EXEC -UHAVE_INIT_FINI \
	-Wa,--noexecstack $(DEPS_PREFIX_MAP)
NEWLIB_CONFIGURE := $(abspath $(BUILD))/src/newlib/configure \
	--target=x86_64-elf --prefix=/usr \
	--disable-multilib --disable-nls \
	--disable-newlib-supplied-syscalls \
	--disable-newlib-multithread \
	--enable-newlib-io-long-long \
	--enable-newlib-io-c99-formats \
	CC_FOR_TARGET="$(TARGET_CC) -nostdinc" \
	AS_FOR_TARGET=as AR_FOR_TARGET=$(TARGET_AR) RANLIB_FOR_TARGET=ranlib \
	LD_FOR_TARGET=$(TARGET_LD) NM_FOR_TARGET=nm \
	CFLAGS_FOR_TARGET="$(NEWLIB_CFLAGS)"

DEPS_NEWLIB_SIG := $(call deps_pin,$(NEWLIB_TARBALL)) $(NEWLIB_CONFIGURE)
$(eval $(call deps_sig_rule,$(BUILD)/stamps/newlib.sig,DEPS_NEWLIB_SIG))

$(DEPS_NEWLIB_LIBS) &: $(BUILD)/stamps/newlib.sig
	$(DEPS_Q)$(DEPS_SH) fetch newlib deb newlib-source $(NEWLIB_TARBALL) "newlib $(NEWLIB_VERSION)" build
	$(DEPS_Q)rm -rf $(DEPS_NEWLIB) && mkdir -p $(DEPS_NEWLIB)/obj
	$(DEPS_Q)$(DEPS_SH) run newlib $(DEPS_NEWLIB)/obj $(NEWLIB_CONFIGURE)
	$(DEPS_Q)$(DEPS_SH) run newlib $(DEPS_NEWLIB)/obj $(DEPS_MAKE) all-target-newlib MAKEINFO=true
	$(DEPS_Q)$(DEPS_SH) run newlib $(DEPS_NEWLIB)/obj $(DEPS_MAKE) install-target-newlib \
		MAKEINFO=true DESTDIR=$(abspath $(DEPS_NEWLIB))/stage
	$(DEPS_Q)$(DEPS_SH) check-newlib $(DEPS_NEWLIB_STAGE)/lib/libc.a $(DEPS_NEWLIB_STAGE)/lib/libm.a
	$(DEPS_Q)mkdir -p $(SYSROOT)/include $(SYSROOT)/lib && \
		cp -R $(DEPS_NEWLIB_STAGE)/include/. $(SYSROOT)/include/ && \
		cp $(DEPS_NEWLIB_STAGE)/lib/libc.a $(DEPS_NEWLIB_STAGE)/lib/libm.a $(SYSROOT)/lib/

# --------------------------------------------------------------------------
# Lua 5.4.7: every file of src/ but lua.c and luac.c, compiled directly with
# our flags against newlib's headers (deps/lua/lua.mk). Debian's luaconf.h
# includes a header its build generates: ours is deps/lua/. LUA_CFLAGS_EXTRA
# is for later luaconf overrides (-D flags).
# --------------------------------------------------------------------------
LUA_VERSION := 5.4.7
LUA_TARBALL := lua5.4_5.4.7.orig.tar.gz
DEPS_LUA     := $(BUILD)/lua
DEPS_LUA_LIB := $(SYSROOT)/lib/liblua.a
DEPS_LUA_HEADERS := $(addprefix $(BUILD)/src/lua/src/,lua.h luaconf.h lualib.h lauxlib.h lua.hpp) \
	deps/lua/lua5.4-deb-multiarch.h
LUA_CFLAGS_EXTRA ?=
# -Dgmtime=rt_gmtime... : os.date and os.time get runtime/time.c's, which
# refuse what does not fit instead of wrapping as newlib's do.
DEPS_LUA_CFLAGS := $(TARGET_CFLAGS) -DLUA_COMPAT_5_3 -Dstrtod=rt_strtod -Ideps/lua \
	-Dgmtime=rt_gmtime -Dlocaltime=rt_localtime -Dmktime=rt_mktime \
	$(DEPS_PREFIX_MAP) $(LUA_CFLAGS_EXTRA)

DEPS_LUA_SIG := $(call deps_pin,$(LUA_TARBALL)) $(TARGET_CC) $(DEPS_LUA_CFLAGS)
$(eval $(call deps_sig_rule,$(BUILD)/stamps/lua.sig,DEPS_LUA_SIG))

$(DEPS_LUA_LIB): $(BUILD)/stamps/lua.sig $(DEPS_NEWLIB_LIBS) \
		deps/lua/lua.mk deps/lua/lua5.4-deb-multiarch.h
	$(DEPS_Q)$(DEPS_SH) fetch lua src lua5.4 $(LUA_TARBALL) "lua $(LUA_VERSION)" build
	$(DEPS_Q)rm -rf $(DEPS_LUA)
	$(DEPS_Q)$(DEPS_SH) run lua . $(DEPS_MAKE) -f deps/lua/lua.mk \
		SRC=$(BUILD)/src/lua/src OBJ=$(DEPS_LUA) OUT=$(DEPS_LUA)/liblua.a \
		CC=$(TARGET_CC) AR=$(TARGET_AR) 'CFLAGS=$(DEPS_LUA_CFLAGS)'
	$(DEPS_Q)$(DEPS_SH) check-nopic lua $(DEPS_LUA)/liblua.a
	$(DEPS_Q)mkdir -p $(SYSROOT)/include $(SYSROOT)/lib && \
		cp $(DEPS_LUA_HEADERS) $(SYSROOT)/include/ && \
		cp $(DEPS_LUA)/liblua.a $@

# --------------------------------------------------------------------------
# lwIP 2.2: its core (deps/lwip/lwip.mk lists the files) compiled with our
# configuration, deps/lwip/lwipopts.h and deps/lwip/arch/cc.h, which are
# installed with lwIP's headers into the sysroot for runtime/ to use.
# --------------------------------------------------------------------------
LWIP_VERSION := 2.2.1
LWIP_TARBALL := lwip_2.2.1+dfsg1.orig.tar.xz
LWIP_SRC     := $(BUILD)/src/lwip
LWIP_STAMP   := $(BUILD)/stamps/lwip.src
DEPS_LWIP     := $(BUILD)/lwip
DEPS_LWIP_LIB := $(SYSROOT)/lib/liblwip.a
DEPS_LWIP_CONFIG := deps/lwip/lwipopts.h deps/lwip/arch/cc.h
DEPS_LWIP_CFLAGS := $(TARGET_CFLAGS) -Ideps/lwip -I$(LWIP_SRC)/src/include \
	$(DEPS_PREFIX_MAP)

DEPS_LWIP_SIG := $(call deps_pin,$(LWIP_TARBALL)) $(TARGET_CC) $(DEPS_LWIP_CFLAGS)
$(eval $(call deps_sig_rule,$(BUILD)/stamps/lwip.sig,DEPS_LWIP_SIG))

$(LWIP_STAMP): $(BUILD)/stamps/lwip.sig
	$(DEPS_Q)$(DEPS_SH) fetch lwip src lwip $(LWIP_TARBALL) "lwip $(LWIP_VERSION)" build && touch $@

$(DEPS_LWIP_LIB): $(LWIP_STAMP) $(DEPS_NEWLIB_LIBS) deps/lwip/lwip.mk $(DEPS_LWIP_CONFIG)
	$(DEPS_Q)rm -rf $(DEPS_LWIP)
	$(DEPS_Q)$(DEPS_SH) run lwip . $(DEPS_MAKE) -f deps/lwip/lwip.mk \
		SRC=$(LWIP_SRC)/src OBJ=$(DEPS_LWIP) OUT=$(DEPS_LWIP)/liblwip.a \
		CC=$(TARGET_CC) AR=$(TARGET_AR) 'CFLAGS=$(DEPS_LWIP_CFLAGS)'
	$(DEPS_Q)$(DEPS_SH) check-nopic lwip $(DEPS_LWIP)/liblwip.a
	$(DEPS_Q)mkdir -p $(SYSROOT)/include/arch $(SYSROOT)/lib && \
		cp -R $(LWIP_SRC)/src/include/lwip $(LWIP_SRC)/src/include/netif $(SYSROOT)/include/ && \
		cp deps/lwip/lwipopts.h $(SYSROOT)/include/ && \
		cp deps/lwip/arch/cc.h $(SYSROOT)/include/arch/ && \
		cp $(DEPS_LWIP)/liblwip.a $@

# --------------------------------------------------------------------------
# mbedTLS 3.6: every file of library/ and Everest's X25519 compiled with our
# flags against newlib's headers and with our configuration header
# (MBEDTLS_CONFIG, which says what is on and why) into upstream's three
# archives (deps/mbedtls/mbedtls.mk); link order: tls, x509, crypto. The
# installed headers (mbedtls/, psa/ and Everest's everest/) carry our
# configuration as mbedtls/mbedtls_config.h, the file build_info.h reads,
# so nothing can include them with another one. MBEDTLS_CFLAGS_EXTRA is for
# -D flags (the benchmarks' experiments).
# --------------------------------------------------------------------------
MBEDTLS_VERSION := 3.6.6
MBEDTLS_TARBALL := mbedtls_3.6.6.orig.tar.bz2
MBEDTLS_SRC     := $(BUILD)/src/mbedtls
MBEDTLS_STAMP   := $(BUILD)/stamps/mbedtls.src
MBEDTLS_CONFIG  := deps/mbedtls/lunik_mbedtls_config.h
DEPS_MBEDTLS    := $(BUILD)/mbedtls
DEPS_MBEDTLS_LIBS := $(addprefix $(SYSROOT)/lib/,libmbedtls.a libmbedx509.a libmbedcrypto.a)
MBEDTLS_CFLAGS_EXTRA ?=
DEPS_MBEDTLS_CFLAGS := $(TARGET_CFLAGS) $(DEPS_PREFIX_MAP) $(MBEDTLS_CFLAGS_EXTRA)

DEPS_MBEDTLS_SIG := $(call deps_pin,$(MBEDTLS_TARBALL)) $(TARGET_CC) \
	$(DEPS_MBEDTLS_CFLAGS) $(MBEDTLS_CONFIG)
$(eval $(call deps_sig_rule,$(BUILD)/stamps/mbedtls.sig,DEPS_MBEDTLS_SIG))

# One rule makes the tree and the libraries, so no two fetches of it ever
# run at once; it touches the stamp, which an up-to-date tree leaves as is.
$(DEPS_MBEDTLS_LIBS) $(MBEDTLS_STAMP) &: $(BUILD)/stamps/mbedtls.sig \
		$(DEPS_NEWLIB_LIBS) deps/mbedtls/mbedtls.mk $(MBEDTLS_CONFIG)
	$(DEPS_Q)$(DEPS_SH) fetch mbedtls src mbedtls $(MBEDTLS_TARBALL) "mbedtls $(MBEDTLS_VERSION)" build
	$(DEPS_Q)rm -rf $(DEPS_MBEDTLS)
	$(DEPS_Q)$(DEPS_SH) run mbedtls . $(DEPS_MAKE) -f deps/mbedtls/mbedtls.mk \
		SRC=$(MBEDTLS_SRC) OBJ=$(DEPS_MBEDTLS) CONFIG=$(MBEDTLS_CONFIG) \
		CC=$(TARGET_CC) AR=$(TARGET_AR) 'CFLAGS=$(DEPS_MBEDTLS_CFLAGS)'
	$(DEPS_Q)$(DEPS_SH) check-nopic mbedtls $(DEPS_MBEDTLS)/*.a
	$(DEPS_Q)mkdir -p $(SYSROOT)/include $(SYSROOT)/lib && \
		rm -rf $(SYSROOT)/include/mbedtls $(SYSROOT)/include/psa \
			$(SYSROOT)/include/everest && \
		cp -R $(MBEDTLS_SRC)/include/mbedtls $(MBEDTLS_SRC)/include/psa \
			$(MBEDTLS_SRC)/3rdparty/everest/include/everest $(SYSROOT)/include/ && \
		cp $(MBEDTLS_CONFIG) $(SYSROOT)/include/mbedtls/mbedtls_config.h && \
		cp $(DEPS_MBEDTLS)/libmbedtls.a $(DEPS_MBEDTLS)/libmbedx509.a \
			$(DEPS_MBEDTLS)/libmbedcrypto.a $(SYSROOT)/lib/ && \
		touch $(MBEDTLS_STAMP)

DEPS_LIBS := $(DEPS_NEWLIB_LIBS) $(DEPS_LUA_LIB) $(DEPS_LWIP_LIB) $(DEPS_MBEDTLS_LIBS)

deps: $(DEPS_LIBS) $(LWIP_STAMP) $(MBEDTLS_STAMP)
	@:
