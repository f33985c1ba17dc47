/*
 * hosted.h -- what the files of hosted/ share with each other and with
 * nobody else (the layers above see only kernel/platform.h, which hosted/
 * implements a second time as a Linux process: docs/hosted.md).
 *
 * One thread. Signal handlers (the alarm, SIGTERM and SIGINT) only note
 * and write a byte to the wake pipe that plat_wait polls.
 */
#ifndef LUNIK_HOSTED_H
#define LUNIK_HOSTED_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Prints "lunik: (what)" and exits 1: bad options and devices that can't
 * be opened, before the runtime starts. */
_Noreturn void hosted_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* ---- main.c: what start.c's main() calls, or a fuzz target's thread:
 * parses the options, opens the devices, runs the runtime, exits. */
_Noreturn int hosted_main(int argc, char **argv);

/* ---- clock.c: the clocks, the alarm, the boot phases and plat_wait. */
void clock_init(void);
void clock_phase(const char *name); /* a boot phase, now */
/* Notes a device event: the next plat_wait returns at once. Safe in
 * signal handlers. */
void clock_event(void);

/* ---- heap.c: malloc, calloc, realloc, free and strdup of the program
 * (the link's --wrap) counted against --mem. */
void heap_init(size_t limit);

/* ---- blk.c: --disk FILE[:ro] as block devices, in order. */
void blk_add(const char *spec);
/* What plat_wait polls: blk has nothing to wait on (requests complete in
 * plat_blk_submit), so it only says whether completions are waiting. */
bool blk_pending(void);

/* ---- nic.c: the network device over libslirp (--net user, the default,
 * with -p forwards) or an existing tap device. */
void nic_configure(const char *net);	      /* user, tap:NAME or none */
void nic_forward(const char *spec);	      /* -p HOST:GUEST[/udp] */
void nic_init(void);			      /* opens it; fails on errors */
/* Adds the descriptors to poll to (fds) from (*n) on (up to max), and
 * lowers (*timeout_ms) to when it next needs a call; nic_poll_done reads
 * the answers and runs what is due. Returns whether frames are waiting. */
bool nic_pending(void);
void nic_poll_fill(struct pollfd *fds, int *n, int max, int *timeout_ms);
void nic_poll_done(struct pollfd *fds, int n, bool error);

/* ---- files.c: fopen over the image's files (Lua's io is compiled with
 * -Dfopen=hosted_fopen, mk/hosted.mk). */
struct _IO_FILE;
struct _IO_FILE *hosted_fopen(const char *path, const char *mode);




#endif
