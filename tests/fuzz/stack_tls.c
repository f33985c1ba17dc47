/*
 * stack_tls.c -- whole-stack fuzz target: the TLS server handshake from
 * the client's side. Each input is what a client sends on one TCP
 * connection (a ClientHello and what follows, as records) to an HTTPS
 * http.app (apps/tls/main.lua: mbedTLS 3.6 through the tls binding,
 * TLS 1.3 and 1.2, the test certificates of this run), through lwIP;
 * the server's answer is read to the end. Seeds in corpus/stack_tls/:
 * ClientHellos of TLS 1.3 and 1.2 (made with Python's ssl).
 *
 * stack: apps/tls
 */
#include <stdlib.h>

#define STACK_ARGS "--net", "none", "--mem", "256M", "--", "log=off"
#include "stack.h"
