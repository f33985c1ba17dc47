/*
 * check.h -- the host unit tests' reporting: one "ok - name" or
 * "FAIL - name: why" line per check, counted by tests/run.py, and an exit
 * status that is non-zero when anything failed.
 */
#ifndef LUNIK_CHECK_H
#define LUNIK_CHECK_H

#include <stdio.h>

static int check_failed;

#define CHECK(cond, ...)                                                \
	do {                                                            \
		if (cond) {                                             \
			printf("ok - ");                                \
			printf(__VA_ARGS__);                            \
			printf("\n");                                   \
		} else {                                                \
			check_failed++;                                 \
			printf("FAIL - ");                              \
			printf(__VA_ARGS__);                            \
			printf(" (%s:%d: %s)\n", __FILE__, __LINE__, #cond); \
		}                                                       \
	} while (0)

#define CHECK_EXIT() return check_failed ? 1 : 0

#endif
