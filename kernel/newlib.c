/*
 * newlib.c -- the system calls newlib expects, on this platform.
 *
 * newlib is built without system calls of its own; this file gives it the
 * console (descriptors 0-2), a heap (sbrk over the RAM past the image that
 * mmu.c leaves free), clocks and exit. File calls on descriptors >= 3 go to
 * the image's files, which the layer above provides (rt_fs_*, platform.h).
 * There are no processes: fork, exec and wait fail. Nothing above kernel/
 * knows newlib's names: the hosted platform gets the same from glibc.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"

/* newlib names the monotonic clock only where _POSIX_MONOTONIC_CLOCK is
 * set; its value there is 4. */
#ifndef CLOCK_MONOTONIC
#define CLOCK_MONOTONIC ((clockid_t)4)
#endif

#define NS 1000000000

static uintptr_t heap_start, heap_end, heap_brk, heap_max;

void *_sbrk(ptrdiff_t incr)
{
	uintptr_t old;

	if (!heap_brk) {
		mmu_heap(&heap_start, &heap_end);
		heap_brk = heap_max = heap_start;
	}
	old = heap_brk;
	if (incr > 0 ? (uintptr_t)incr > heap_end - heap_brk
		     : (uintptr_t)-incr > heap_brk - heap_start) {
		errno = ENOMEM;
		return (void *)-1;
	}
	heap_brk += incr;
	if (heap_brk > heap_max)
		heap_max = heap_brk;
	return (void *)old;
}

void plat_mem(struct plat_mem *m)
{
	/* newlib 4.5's mallocr.c and <malloc.h> agree on size_t fields
	 * (newlib 3.3's library filled ints behind a size_t header). */
	struct mallinfo mi = mallinfo();
	uintptr_t start, end;

	mmu_heap(&start, &end);
	m->total = end - start;
	m->brk = heap_brk ? heap_max - heap_start : 0;
	m->in_use = mi.uordblks;
}

void plat_rom(const void **data, size_t *size)
{
	*data = __rom_start;
	*size = (size_t)(__rom_end - __rom_start);
}

int _write(int fd, const void *buf, size_t len)
{
	if (fd == 1 || fd == 2) {
		plat_console_write(buf, len);
		return (int)len;
	}
	errno = EBADF; /* ROM files are open read-only */
	return -1;
}

int _read(int fd, void *buf, size_t len)
{
	if (fd == 0)
		return 0; /* no console input: end of file */
	if (fd == 1 || fd == 2) {
		errno = EBADF;
		return -1;
	}
	return (int)rt_fs_read(fd, buf, len);
}

int _open(const char *path, int flags, int mode)
{
	if (flags & (O_CREAT | O_TRUNC | O_APPEND)) {
		errno = EROFS;
		return -1;
	}
	return rt_fs_open(path, flags);
}

off_t _lseek(int fd, off_t off, int whence)
{
	if (fd >= 0 && fd < 3) {
		errno = ESPIPE;
		return -1;
	}
	return rt_fs_lseek(fd, off, whence);
}

int _close(int fd)
{
	if (fd >= 0 && fd < 3)
		return 0;
	return rt_fs_close(fd);
}

int _fstat(int fd, struct stat *st)
{
	uint64_t size;

	memset(st, 0, sizeof(*st));
	if (fd >= 0 && fd < 3) {
		st->st_mode = S_IFCHR | 0620;
		return 0;
	}
	if (rt_fs_size(fd, &size) < 0)
		return -1;
	st->st_mode = S_IFREG | 0444;
	st->st_size = (off_t)size;
	st->st_blksize = 4096;
	return 0;
}

int _stat(const char *path, struct stat *st)
{
	uint64_t size;
	int dir;

	memset(st, 0, sizeof(*st));
	if (rt_fs_stat(path, &size, &dir) < 0)
		return -1;
	st->st_mode = dir ? S_IFDIR | 0555 : S_IFREG | 0444;
	st->st_size = (off_t)size;
	st->st_blksize = dir ? 0 : 4096;
	return 0;
}

int _isatty(int fd)
{
	if (fd >= 0 && fd < 3)
		return 1;
	errno = ENOTTY;
	return 0;
}

/* The image's files are read-only. */
int _unlink(const char *path)
{
	errno = EROFS;
	return -1;
}

int _link(const char *old, const char *new)
{
	errno = EROFS;
	return -1;
}

int _rename(const char *old, const char *new)
{
	errno = EROFS;
	return -1;
}

int _mkdir(const char *path, mode_t mode)
{
	errno = EROFS;
	return -1;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int64_t ns;

	switch (id) {
	case CLOCK_REALTIME:
		ns = plat_wall_ns();
		break;
	case CLOCK_MONOTONIC:
		ns = (int64_t)plat_monotonic_ns();
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	ts->tv_sec = ns / NS;
	ts->tv_nsec = ns % NS;
	return 0;
}

int clock_getres(clockid_t id, struct timespec *ts)
{
	if (id != CLOCK_REALTIME && id != CLOCK_MONOTONIC) {
		errno = EINVAL;
		return -1;
	}
	if (ts) {
		ts->tv_sec = 0;
		ts->tv_nsec = 1;
	}
	return 0;
}

int _gettimeofday(struct timeval *tv, void *tz)
{
	int64_t ns = plat_wall_ns();

	if (tv) {
		tv->tv_sec = ns / NS;
		tv->tv_usec = (ns % NS) / 1000;
	}
	return 0;
}

/* One process that has been running since boot: clock() is uptime. */
clock_t _times(struct tms *t)
{
	clock_t ticks = (clock_t)(plat_monotonic_ns() / (NS / CLOCKS_PER_SEC));

	if (t) {
		t->tms_utime = ticks;
		t->tms_stime = 0;
		t->tms_cutime = 0;
		t->tms_cstime = 0;
	}
	return ticks;
}

void _exit(int status)
{
	plat_exit(status);
}

int _getpid(void)
{
	return 1;
}

int _kill(int pid, int sig)
{
	/* abort() raises SIGABRT on ourselves: end the machine like a panic. */
	if (pid == 1)
		plat_panic(__FILE__, __LINE__, "abort() called");
	errno = ESRCH;
	return -1;
}

int _fork(void)
{
	errno = ENOSYS;
	return -1;
}

int _execve(const char *path, char *const argv[], char *const envp[])
{
	errno = ENOSYS;
	return -1;
}

int _wait(int *status)
{
	errno = ECHILD;
	return -1;
}
