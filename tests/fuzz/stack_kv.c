/*
 * stack_kv.c -- whole-stack fuzz target: kv's recovery from a mutated
 * disk image. Each input is the image of a 24 KiB block device (cut or
 * zero-padded); apps/kv/main.lua writes it to the hosted platform's disk
 * through the blk binding, opens the store (the scan of both header slots
 * and the log, docs/kv-format.md), reads every key, writes, deletes and
 * compacts. Seeds in corpus/stack_kv/: stores kv itself wrote.
 *
 * stack: apps/kv
 */
#include <stdlib.h>

#define STACK_ARGS "--net", "none", "--mem", "256M", "--disk", \
	"build/tests/fuzz/stack_kv.img", "--", "log=off"
#include "stack.h"
