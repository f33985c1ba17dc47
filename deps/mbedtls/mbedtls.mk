# Compiles mbedTLS 3.6's library/ into its three archives, as upstream
# splits them: libmbedtls.a (the TLS protocol), libmbedx509.a
# (certificates), libmbedcrypto.a (everything else, PSA crypto included,
# with Project Everest's X25519 from 3rdparty/everest). mk/deps.mk runs it as
#   make -f deps/mbedtls/mbedtls.mk SRC=... OBJ=... CONFIG=... CC=... AR=... CFLAGS=...
# with all the flags given; CONFIG is our configuration header, which every
# file is compiled with (MBEDTLS_CONFIG_FILE) instead of mbedTLS's
# mbedtls_config.h. Nothing of mbedTLS's own Makefiles is used. The files
# of modules the configuration leaves off compile to (almost) nothing.

ALL_C    := $(wildcard $(SRC)/library/*.c)
TLS_C    := $(filter $(SRC)/library/ssl_%.c $(SRC)/library/debug.c \
		$(SRC)/library/mps_%.c $(SRC)/library/net_sockets.c,$(ALL_C))
X509_C   := $(filter $(SRC)/library/x509%.c $(SRC)/library/pkcs7.c,$(ALL_C))
CRYPTO_C := $(filter-out $(TLS_C) $(X509_C),$(ALL_C))
# 3rdparty/everest/Makefile.inc's list (the _joined file includes the
# 64-bit or the portable Curve25519 and kremlib's helpers).
EVEREST  := $(SRC)/3rdparty/everest
EVEREST_C := $(addprefix $(EVEREST)/library/,everest.c x25519.c \
		Hacl_Curve25519_joined.c)
INCLUDES := -I$(dir $(CONFIG)) -I$(SRC)/include -I$(SRC)/library \
	-I$(EVEREST)/include -I$(EVEREST)/include/everest \
	-I$(EVEREST)/include/everest/kremlib

obj = $(patsubst $(SRC)/library/%.c,$(OBJ)/%.o,$1)

all: $(OBJ)/libmbedtls.a $(OBJ)/libmbedx509.a $(OBJ)/libmbedcrypto.a

$(OBJ)/libmbedtls.a: $(call obj,$(TLS_C))
$(OBJ)/libmbedx509.a: $(call obj,$(X509_C))
$(OBJ)/libmbedcrypto.a: $(call obj,$(CRYPTO_C)) \
	$(patsubst $(EVEREST)/library/%.c,$(OBJ)/everest/%.o,$(EVEREST_C))

$(OBJ)/%.a:
	rm -f $@
	$(AR) rcsD $@ $(sort $^)

$(OBJ)/%.o: $(SRC)/library/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INCLUDES) '-DMBEDTLS_CONFIG_FILE="$(notdir $(CONFIG))"' \
		-c $< -o $@

# Everest's kremlin/c_endianness.h takes the host gcc's __linux__ for a
# glibc with <endian.h>, which newlib has not: without it, the header uses
# its generic little-endian code (gcc's __BYTE_ORDER__).
$(OBJ)/everest/%.o: $(EVEREST)/library/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -U__linux__ $(INCLUDES) \
		'-DMBEDTLS_CONFIG_FILE="$(notdir $(CONFIG))"' -c $< -o $@
