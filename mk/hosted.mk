# The hosted platform (hosted/): everything above kernel/platform.h built a
# second time, for Linux and glibc, with hosted/ in place of kernel/, so
# that `lunik build --hosted` links an app's ROM into a Linux executable
# (docs/hosted.md). Included after mk/deps.mk, whose patched trees it
# compiles again with the host's compiler and the same configuration
# headers; nothing of newlib's is used (glibc is the C library).
#
# Two variants, each a folder of objects and libraries:
#   $(BUILD)/hosted/       -O2, for runs and the benchmarks
#   $(BUILD)/hosted-asan/  clang, AddressSanitizer, UndefinedBehaviorSanitizer
#                          and libFuzzer's coverage (make test's sanitizer
#                          suite, the whole-stack fuzz targets)
# Each holds lunik.o (runtime and hosted/ as one relocatable object),
# lunik-modules.a (the bindings), start.o (main), the third-party
# archives, and ldflags: the
# link's driver and what it adds (libslirp, libm, the sanitizers), which
# tools/lunikcli reads.
#
# Debian packages: libslirp-dev (and pkg-config to find it); asked for by
# the targets that build a variant (HOSTED_PACKAGES in the Makefile).

HOSTED_SRCS := $(sort $(wildcard hosted/*.c))
HOSTED_CC := cc
HOSTED_WARN := -std=gnu11 -Wall -Wextra -Werror=implicit-function-declaration \
	-Wno-unused-parameter
# Lua as the guest's (mk/deps.mk), plus POSIX's stdio (no tmpnam) and
# fopen over the image's files (hosted/files.c). _FILE_OFFSET_BITS=32
# keeps glibc from renaming fopen to fopen64 behind the macro (lprefix.h
# asks for 64; off_t is 64 bits on x86-64 either way).
HOSTED_LUA_DEFS := -DLUA_COMPAT_5_3 -DLUA_USE_POSIX -Dstrtod=rt_strtod \
	-Dgmtime=rt_gmtime -Dlocaltime=rt_localtime -Dmktime=rt_mktime \
	-Dfopen=hosted_fopen -D_FILE_OFFSET_BITS=32 -Ideps/lua
HOSTED_INCLUDES := -Ikernel -Iruntime -I$(BUILD)/src/lua/src -Ideps/lua \
	-Ideps/lwip -I$(LWIP_SRC)/src/include -Ideps/mbedtls \
	-I$(MBEDTLS_SRC)/include -I$(MBEDTLS_SRC)/3rdparty/everest/include \
	'-DMBEDTLS_CONFIG_FILE="$(notdir $(MBEDTLS_CONFIG))"'
# The link counts the program's allocations against --mem (hosted/heap.c)
# and drops what nothing reaches; gold links it in half the time of ld.bfd.
HOSTED_LDFLAGS := -fuse-ld=gold -Wl,--gc-sections -Wl,-z,noexecstack \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup
HOSTED_SLIRP_CFLAGS = $(shell pkg-config --cflags slirp 2>/dev/null)
HOSTED_SLIRP_LIBS = $(shell pkg-config --libs slirp 2>/dev/null || echo -lslirp)

# $(call hosted_variant,DIR,FLAGS,CC,LINKFLAGS): the rules of one variant
# in DIR built by CC with code-generation FLAGS; LINKFLAGS for the link.
define hosted_variant
$1/liblua.a: $(DEPS_LUA_LIB) deps/lua/lua.mk
	@echo "  HOSTED $$@"
	$(Q)rm -rf $1/lua && $(DEPS_SH) run hosted-lua . $(DEPS_MAKE) -f deps/lua/lua.mk \
		SRC=$(BUILD)/src/lua/src OBJ=$1/lua OUT=$$@ CC=$3 AR=ar \
		'CFLAGS=$2 $(HOSTED_LUA_DEFS)'
$1/liblwip.a: $(DEPS_LWIP_LIB) deps/lwip/lwip.mk $(DEPS_LWIP_CONFIG)
	@echo "  HOSTED $$@"
	$(Q)rm -rf $1/lwip && $(DEPS_SH) run hosted-lwip . $(DEPS_MAKE) -f deps/lwip/lwip.mk \
		SRC=$(LWIP_SRC)/src OBJ=$1/lwip OUT=$$@ CC=$3 AR=ar \
		'CFLAGS=$2 -Ideps/lwip -I$(LWIP_SRC)/src/include'
$1/libmbedtls.a $1/libmbedx509.a $1/libmbedcrypto.a &: $(DEPS_MBEDTLS_LIBS) \
		deps/mbedtls/mbedtls.mk $(MBEDTLS_CONFIG)
	@echo "  HOSTED $1/libmbed*.a"
	$(Q)rm -rf $1/mbedtls && $(DEPS_SH) run hosted-mbedtls . $(DEPS_MAKE) -f deps/mbedtls/mbedtls.mk \
		SRC=$(MBEDTLS_SRC) OBJ=$1/mbedtls CONFIG=$(MBEDTLS_CONFIG) \
		CC=$3 AR=ar 'CFLAGS=$2'
	$(Q)cp $1/mbedtls/libmbedtls.a $1/mbedtls/libmbedx509.a \
		$1/mbedtls/libmbedcrypto.a $1/

$1/obj/%.o: %.c $(DEPS_LIBS) mk/hosted.mk
	@mkdir -p $$(dir $$@)
	@$$(if $(Q),echo "  HOSTED $$<")
	$(Q)$3 $2 $(HOSTED_WARN) $(HOSTED_INCLUDES) \
		$(HOSTED_SLIRP_CFLAGS) -MMD -MP -c $$< -o $$@

$1/lunik.o: $(addprefix $1/obj/,$(filter-out hosted/start.o,$(HOSTED_SRCS:.c=.o)) \
		$(RUNTIME_SRCS:.c=.o))
	@echo "  LD    $$@"
	$(Q)ld -r -o $$@ $$^
# The bindings, an archive the link takes what the app needs from, with
# the same -u luaopen_NAME selection as the guest's (bundle.py).
$1/lunik-modules.a: $(addprefix $1/obj/,$(BINDING_SRCS:.c=.o))
	@echo "  AR    $$@"
	$(Q)rm -f $$@ && ar rcsD $$@ $$^
$1/start.o: $1/obj/hosted/start.o
	$(Q)cp $$< $$@

# The link's driver, then its flags; cflags: what compiles a C file
# against the variant (a fuzz target).
$1/ldflags: mk/hosted.mk
	@mkdir -p $1
	$(Q)echo '$3 $4 $(HOSTED_LDFLAGS) $(HOSTED_SLIRP_LIBS) -lm' >$$@
$1/cflags: mk/hosted.mk
	@mkdir -p $1
	$(Q)echo '$2 $(HOSTED_WARN) $(HOSTED_INCLUDES)' >$$@

-include $(addprefix $1/obj/,$(HOSTED_SRCS:.c=.d) $(RUNTIME_SRCS:.c=.d) \
	$(BINDING_SRCS:.c=.d))
endef

HOSTED_OPT := -O2 -g -fno-omit-frame-pointer -ffunction-sections -fdata-sections
# The sanitizers' variant, also the fuzz targets' (tests/fuzz/stack_*.c):
# clang, AddressSanitizer and UBSan, and libFuzzer's coverage hooks, which
# cost little and do nothing unless a fuzz target links libFuzzer
# (tools/lunikcli/hosted.py adds -fsanitize=fuzzer to that link only).
HOSTED_ASAN_CC := clang
HOSTED_ASAN_OPT := -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
HOSTED_ASAN_LINK := -fsanitize=address,undefined

HOSTED_OUT := $(BUILD)/hosted
HOSTED_ASAN_OUT := $(BUILD)/hosted-asan
$(eval $(call hosted_variant,$(HOSTED_OUT),$(HOSTED_OPT),$(HOSTED_CC),$(HOSTED_OPT)))
$(eval $(call hosted_variant,$(HOSTED_ASAN_OUT),$(HOSTED_ASAN_OPT),$(HOSTED_ASAN_CC),$(HOSTED_ASAN_LINK)))

hosted_parts = $(addprefix $1/,lunik.o start.o lunik-modules.a liblua.a \
	liblwip.a libmbedtls.a libmbedx509.a libmbedcrypto.a ldflags cflags)
HOSTED_PARTS := $(call hosted_parts,$(HOSTED_OUT))
HOSTED_ASAN_PARTS := $(call hosted_parts,$(HOSTED_ASAN_OUT))
