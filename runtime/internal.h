/*
 * internal.h -- declarations shared between runtime/ files only.
 */
#ifndef LUNIK_RUNTIME_INTERNAL_H
#define LUNIK_RUNTIME_INTERNAL_H

#include <stddef.h>
#include <sys/stat.h>

/* syscalls.c: takes the heap from the platform; first thing at boot. */
void rt_heap_init(void);

/* args.c: fills newlib's environ from the command line's key=value words. */
void rt_args_to_environ(void);

/* fs.c: ROM-backed descriptors (>= 3); -1 with errno set on failure. */
int rt_fs_read(int fd, void *buf, size_t len);
int rt_fs_close(int fd);
int rt_fs_fstat(int fd, struct stat *st);

/* lua_start.c: creates the Lua state and runs the entry script as the
 * service. Returns the exit status: 0 when it returns, 1 when an error
 * escapes it (traceback printed). */
int lua_start_run(void);

#endif
