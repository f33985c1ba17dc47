/*
 * blk.c -- block devices on files, for the hosted platform (--disk
 * FILE[:ro], in order: blk0, blk1, ...).
 *
 * Requests are carried out when they are submitted (pread, pwrite,
 * fdatasync for a flush) and their completions queued for plat_blk_poll,
 * so the contract of kernel/platform.h holds with no thread. Each file is
 * locked as QEMU locks its images (a shared lock for :ro, else an
 * exclusive one), so two instances never write one disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hosted.h"

#define MAX_DISKS 8
#define SECTOR 512
#define QUEUE 64

struct done {
	uintptr_t tag;
	int status;
};

struct disk {
	int fd;
	bool readonly;
	uint64_t sectors;
	struct done done[QUEUE];
	unsigned head, count;
};

static struct disk disks[MAX_DISKS];
static unsigned ndisks;

void blk_add(const char *spec)
{
	char path[4096];
	size_t len = strlen(spec);
	bool ro = len > 3 && strcmp(spec + len - 3, ":ro") == 0;
	struct disk *d = &disks[ndisks];
	struct stat st;

	if (ndisks == MAX_DISKS)
		hosted_fail("--disk %s: at most %d disks", spec, MAX_DISKS);
	if (ro)
		len -= 3;
	if (len == 0 || len >= sizeof(path))
		hosted_fail("--disk %s: no file named", spec);
	memcpy(path, spec, len);
	path[len] = '\0';
	d->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0)
		hosted_fail("--disk %s: cannot open %s: %s", spec, path,
			    strerror(errno));
	if (fstat(d->fd, &st) < 0 || !S_ISREG(st.st_mode))
		hosted_fail("--disk %s: %s is not a file", spec, path);
	if (st.st_size % SECTOR)
		hosted_fail("--disk %s: %s is %lld bytes, not a multiple of %d",
			    spec, path, (long long)st.st_size, SECTOR);
	if (flock(d->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
		hosted_fail("--disk %s: %s is in use by another process", spec,
			    path);
	d->readonly = ro;
	d->sectors = (uint64_t)st.st_size / SECTOR;
	ndisks++;
}

bool blk_pending(void)
{
	for (unsigned i = 0; i < ndisks; i++)
		if (disks[i].count)
			return true;
	return false;
}

int plat_blk_info(unsigned dev, struct plat_blk_info *info)
{
	if (dev >= ndisks)
		return -ENODEV;
	info->sectors = disks[dev].sectors;
	info->sector_size = SECTOR;
	info->readonly = disks[dev].readonly;
	return 0;
}

/* Moves (len) bytes between (buf) and offset (off) of (fd); 0 or -EIO. */
static int transfer(int fd, bool write, void *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = write ? pwrite(fd, buf, len, off)
				  : pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		buf = (char *)buf + n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int plat_blk_submit(unsigned dev, int op, uint64_t sector, uint32_t count,
		    void *buf, uintptr_t tag)
{
	struct disk *d;
	int status = 0;

	if (dev >= ndisks)
		return -ENODEV;
	d = &disks[dev];
	if (d->count == QUEUE)
		return -EAGAIN;
	if (op == PLAT_BLK_FLUSH) {
		if (!d->readonly && fdatasync(d->fd) < 0)
			status = -EIO;
	} else if (op == PLAT_BLK_READ || op == PLAT_BLK_WRITE) {
		if (count == 0 || sector >= d->sectors ||
		    count > d->sectors - sector ||
		    (uint64_t)count * SECTOR > PLAT_BLK_MAX_BYTES)
			return -EINVAL;
		if (op == PLAT_BLK_WRITE && d->readonly)
			return -EROFS;
		status = transfer(d->fd, op == PLAT_BLK_WRITE, buf,
				  (size_t)count * SECTOR,
				  (off_t)(sector * SECTOR));
	} else {
		return -EINVAL;
	}
	d->done[(d->head + d->count++) % QUEUE] = (struct done){ tag, status };
	clock_event();
	return 0;
}

int plat_blk_poll(unsigned dev, uintptr_t *tag, int *status)
{
	struct disk *d;

	if (dev >= ndisks)
		return -ENODEV;
	d = &disks[dev];
	if (!d->count)
		return 0;
	*tag = d->done[d->head].tag;
	*status = d->done[d->head].status;
	d->head = (d->head + 1) % QUEUE;
	d->count--;
	return 1;
}
