/*
 * stack_http.c -- whole-stack fuzz target: each input is the bytes a
 * client sends on one TCP connection (then half-closes), through lwIP
 * into an http.app with routes, JSON bodies, streaming and keep-alive
 * (apps/http/main.lua); the answer is read to the end. Seeds in
 * corpus/stack_http/: requests, pipelined and chunked ones.
 *
 * stack: apps/http
 */
#include <stdlib.h>

#define STACK_ARGS "--net", "none", "--mem", "256M", "--", "log=off"
#include "stack.h"
