/*
 * files.c -- the image's files on the hosted platform: the ROM archive
 * linked into the executable (plat_rom), and fopen over it.
 *
 * On the guest, newlib's fopen reaches the image's files through _open
 * (kernel/newlib.c). glibc's would open the host's, so Lua's io library
 * is compiled with -Dfopen=hosted_fopen (mk/hosted.mk): the same
 * read-only files, through glibc's fopencookie, over the runtime's
 * rt_fs_* calls. Nothing else in the process (libslirp reading
 * /etc/resolv.conf) is redirected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "hosted.h"

/* The bounds GNU ld gives the section lunik build --hosted puts the ROM
 * archive in (tools/lunikcli/hosted.py). */
extern const char __start_lunik_rom[], __stop_lunik_rom[];

void plat_rom(const void **data, size_t *size)
{
	*data = __start_lunik_rom;
	*size = (size_t)(__stop_lunik_rom - __start_lunik_rom);
}

static ssize_t cookie_read(void *c, char *buf, size_t len)
{
	return rt_fs_read((int)(intptr_t)c, buf, len);
}

static int cookie_seek(void *c, off64_t *off, int whence)
{
	long r = rt_fs_lseek((int)(intptr_t)c, (long)*off, whence);

	if (r < 0)
		return -1;
	*off = r;
	return 0;
}

static int cookie_close(void *c)
{
	return rt_fs_close((int)(intptr_t)c);
}

FILE *hosted_fopen(const char *path, const char *mode)
{
	static const cookie_io_functions_t io = {
		.read = cookie_read,
		.seek = cookie_seek,
		.close = cookie_close,
	};
	FILE *f;
	int fd;

	if (strpbrk(mode, "wa+")) {
		errno = EROFS;
		return NULL;
	}
	fd = rt_fs_open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	f = fopencookie((void *)(intptr_t)fd, "r", io);
	if (!f)
		rt_fs_close(fd);
	return f;
}
