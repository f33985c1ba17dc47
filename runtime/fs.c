/*
 * fs.c -- the image's files, over the ROM archive: what the platform's C
 * library opens for fopen (kernel/platform.h, rt_fs_*: newlib's _open on
 * the guest, the hosted platform's fopen).
 *
 * The image's files are read-only: open, read, seek and close work on ROM
 * files; opening for writing fails with EROFS. Descriptors 0-2 are the
 * console (the platform's). Paths are resolved by rt_path_to_rom: relative
 * ones are under the app folder, which acts as the working directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>

#include "internal.h"
#include "runtime.h"

#define FS_MAX_FILES 64
#define FS_FIRST_FD 3

struct file {
	const uint8_t *data; /* NULL when the slot is free */
	uint32_t size;
	uint32_t pos;
};

static struct file files[FS_MAX_FILES];

static struct file *file_of(int fd)
{
	if (fd < FS_FIRST_FD || fd >= FS_FIRST_FD + FS_MAX_FILES)
		return NULL;
	return files[fd - FS_FIRST_FD].data ? &files[fd - FS_FIRST_FD] : NULL;
}

/* Resolves (path) to a ROM file. Returns 0, or -1 with errno set. */
static int lookup(const char *path, struct rom_file *f)
{
	char name[512];
	int n = rt_path_to_rom(path, name, sizeof(name));

	if (n < 0) {
		errno = n == -1 && strlen(path) >= sizeof(name) ? ENAMETOOLONG
								 : ENOENT;
		return -1;
	}
	if (rom_find(&rt_rom, name, (size_t)n, f) == ROM_OK)
		return 0;
	errno = rom_is_dir(&rt_rom, name, (size_t)n) ? EISDIR : ENOENT;
	return -1;
}

int rt_fs_open(const char *path, int flags)
{
	struct rom_file f;

	if ((flags & O_ACCMODE) != O_RDONLY ||
	    (flags & (O_CREAT | O_TRUNC | O_APPEND))) {
		errno = EROFS;
		return -1;
	}
	if (lookup(path, &f) < 0)
		return -1;
	for (int i = 0; i < FS_MAX_FILES; i++) {
		if (!files[i].data) {
			/* an empty file still needs a non-NULL marker */
			files[i].data = f.data ? f.data : (const uint8_t *)"";
			files[i].size = f.size;
			files[i].pos = 0;
			return FS_FIRST_FD + i;
		}
	}
	errno = EMFILE;
	return -1;
}

long rt_fs_read(int fd, void *buf, size_t len)
{
	struct file *f = file_of(fd);
	size_t left;

	if (!f) {
		errno = EBADF;
		return -1;
	}
	left = f->pos < f->size ? f->size - f->pos : 0;
	if (len > left)
		len = left;
	memcpy(buf, f->data + f->pos, len);
	f->pos += (uint32_t)len;
	return (long)len;
}

long rt_fs_lseek(int fd, long off, int whence)
{
	struct file *f = file_of(fd);
	long base;

	if (!f) {
		errno = fd >= 0 && fd < FS_FIRST_FD ? ESPIPE : EBADF;
		return -1;
	}
	base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : f->size;
	if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) {
		errno = EINVAL;
		return -1;
	}
	if (base + off < 0 || base + off > UINT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	f->pos = (uint32_t)(base + off);
	return f->pos;
}

int rt_fs_close(int fd)
{
	struct file *f = file_of(fd);

	if (!f) {
		errno = EBADF;
		return -1;
	}
	f->data = NULL;
	return 0;
}

int rt_fs_size(int fd, uint64_t *size)
{
	struct file *f = file_of(fd);

	if (!f) {
		errno = EBADF;
		return -1;
	}
	*size = f->size;
	return 0;
}

int rt_fs_stat(const char *path, uint64_t *size, int *dir)
{
	struct rom_file f;

	*size = 0;
	*dir = 0;
	if (lookup(path, &f) < 0) {
		if (errno != EISDIR)
			return -1;
		*dir = 1;
		return 0;
	}
	*size = f.size;
	return 0;
}
