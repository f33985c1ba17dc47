# Compiles mbedTLS's library/ into its three archives, as upstream splits
# them: libmbedtls.a (the TLS protocol), libmbedx509.a (certificates),
# libmbedcrypto.a (everything else). mk/deps.mk runs it as
#   make -f deps/mbedtls/mbedtls.mk SRC=... OBJ=... CONFIG=... CC=... AR=... CFLAGS=...
# with all the flags given; CONFIG is our configuration header, which every
# file is compiled with (MBEDTLS_CONFIG_FILE) instead of mbedTLS's config.h.
# Nothing of mbedTLS's own Makefiles is used. The files of modules the
# configuration leaves off compile to (almost) nothing.

ALL_C    := $(wildcard $(SRC)/library/*.c)
TLS_C    := $(filter $(SRC)/library/ssl_%.c $(SRC)/library/debug.c \
		$(SRC)/library/net_sockets.c,$(ALL_C))
X509_C   := $(filter $(SRC)/library/x509%.c $(SRC)/library/certs.c \
		$(SRC)/library/pkcs11.c,$(ALL_C))
CRYPTO_C := $(filter-out $(TLS_C) $(X509_C),$(ALL_C))

obj = $(patsubst $(SRC)/library/%.c,$(OBJ)/%.o,$1)

all: $(OBJ)/libmbedtls.a $(OBJ)/libmbedx509.a $(OBJ)/libmbedcrypto.a

$(OBJ)/libmbedtls.a: $(call obj,$(TLS_C))
$(OBJ)/libmbedx509.a: $(call obj,$(X509_C))
$(OBJ)/libmbedcrypto.a: $(call obj,$(CRYPTO_C))

$(OBJ)/%.a:
	rm -f $@
	$(AR) rcsD $@ $(sort $^)

$(OBJ)/%.o: $(SRC)/library/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -I$(dir $(CONFIG)) '-DMBEDTLS_CONFIG_FILE="$(notdir $(CONFIG))"' \
		-I$(SRC)/include -I$(SRC)/library -c $< -o $@
