/*
 * platform.h -- the whole seam between kernel/ and everything above it.
 *
 * The kernel boots (PVH entry, long mode, page tables, interrupts, clocks,
 * console), then calls runtime_main(), which the layer above provides. Nothing
 * above kernel/ includes any other kernel header, and nothing in kernel/ knows
 * about Lua. It is implemented a second time as a plain Linux process, by
 * hosted/ (docs/hosted.md): keep it small enough for that.
 *
 * Execution model: one CPU, no preemption. Interrupt handlers only note what
 * happened; every call below runs on the caller's stack and returns.
 */
#ifndef LUNIK_PLATFORM_H
#define LUNIK_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Provided by the layer above: called once, after the platform is up, on
 * the main stack with interrupts enabled. Its return value is the exit
 * status (plat_exit). */
int runtime_main(void);

/* Also provided by the layer above: the image's read-only files, which the
 * platform's C library opens through these (newlib's _open, the hosted
 * platform's fopen), so fopen("data/x.txt") reads the ROM on both. Paths
 * are as Lua code sees them (rt_path_to_rom). Each returns -1 with errno
 * set on failure: rt_fs_open EROFS for any (flags) but O_RDONLY, ENOENT,
 * EISDIR, EMFILE; the others EBADF for a descriptor it did not open. */
int rt_fs_open(const char *path, int flags);
long rt_fs_read(int fd, void *buf, size_t len);
long rt_fs_lseek(int fd, long off, int whence);
int rt_fs_close(int fd);
/* (size) of the file at (path); 1 in (*dir) for a folder of the ROM. */
int rt_fs_stat(const char *path, uint64_t *size, int *dir);
/* Whether (fd) is one of rt_fs_open's, and its size. */
int rt_fs_size(int fd, uint64_t *size);

/* Writes (len) bytes of (buf) to the console. Blocks until they are handed
 * to the device; never fails. Safe to call from any context, panics included. */
void plat_console_write(const char *buf, size_t len);

/* Nanoseconds since the PVH entry; never goes backwards. Constant time. */
uint64_t plat_monotonic_ns(void);

/* Nanoseconds since the Unix epoch, UTC: read once at boot (KVM's wall clock
 * when present, else the CMOS RTC, 1 s resolution), then advanced by the
 * monotonic clock. */
int64_t plat_wall_ns(void);

/* Halts the CPU until plat_monotonic_ns() >= (deadline_ns) or until a device
 * interrupt arrives, whichever comes first; returns at once when the deadline
 * has passed, or when a device interrupt arrived since the previous call. May
 * return early: callers re-check their condition and call again.
 * (deadline_ns) UINT64_MAX waits for a device event only. Returns with
 * interrupts enabled, as runtime_main() always runs. */
void plat_wait(uint64_t deadline_ns);

/* Arms the one alarm: (fn) is called once plat_monotonic_ns() >=
 * (deadline_ns), from interrupt context, interrupting whatever runs then
 * (plat_wait included). A later call replaces the alarm, (deadline_ns)
 * UINT64_MAX disarms it; (fn) may re-arm it. (fn) must be brief and only
 * note things (set flags, lua_sethook): it runs between two instructions
 * of the code it interrupts. Costs nothing while the alarm is far off. */
void plat_alarm(uint64_t deadline_ns, void (*fn)(void));

/* The C library's heap, which the platform feeds malloc from (newlib's
 * sbrk over the RAM past the image; the hosted platform's arena of --mem
 * bytes): running out is malloc returning NULL. Figures in bytes. */
struct plat_mem {
	size_t total;   /* RAM given to the heap */
	size_t brk;     /* taken from it so far by malloc (high-water mark) */
	size_t in_use;  /* held by live allocations */
};
void plat_mem(struct plat_mem *m);

/* The image's ROM archive (runtime/rom.h), read-only for the life of the
 * program: sets (*data) and (*size). */
void plat_rom(const void **data, size_t *size);

/* The kernel command line from PVH start_info, NUL-terminated ("" if none). */
const char *plat_cmdline(void);

/* One step of the boot, in nanoseconds since the PVH entry. */
struct plat_phase {
	const char *name;
	uint64_t ns;
};

/* Sets (*phases) to the kernel's boot phases, in order, and returns their
 * count. The first is the platform's start at 0 ns ("pvh_entry"; the
 * hosted platform's "exec"). */
size_t plat_boot_phases(const struct plat_phase **phases);

/* Returns true once for each press of the ACPI power button since the
 * last call (QEMU's system_powerdown, `virsh shutdown`: the VMM asking
 * the guest to stop), false when there is none to take; never blocks,
 * prints nothing. A press wakes plat_wait(). Always false on a machine
 * without an ACPI power button (QEMU microvm with acpi=off, Firecracker). */
bool plat_power_button(void);

/* Ends the machine with (status), clamped to 0..126: through QEMU's
 * isa-debug-exit (port 0xf4, written as status + 1, so QEMU exits with
 * 2 * status + 3; the launcher decodes it), else ACPI S5 power-off (the
 * VMM sees a clean shutdown; the status is lost), else a reset (the ACPI
 * reset register, port 0xcf9, the keyboard controller: Firecracker's
 * shutdown), else a triple fault. Flushes nothing: callers flush their
 * own buffers first. */
_Noreturn void plat_exit(int status);

/* ---- Devices. Calls below never block: requests are queued and their
 * completions polled by the layer above, whose event loop calls
 * plat_wait() when it has nothing to do (any device interrupt wakes it).
 * Failures are negative errno values, the C library's (<errno.h> above
 * kernel/: newlib's in the guest, where not all are Linux's, EMSGSIZE is
 * 122; glibc's on the hosted platform). Devices are numbered
 * from 0 in discovery order (on QEMU, the order of its -device options);
 * a missing one is -ENODEV. */

/* Network: Ethernet frames without the FCS. */
struct plat_net_info {
	uint8_t mac[6];
	uint16_t mtu; /* largest payload of a frame, 1500 */
};

/* A piece of a frame to send. */
struct plat_iov {
	const void *base;
	size_t len;
};

/* Fills (info) for network device (dev); returns 0 or -ENODEV. */
int plat_net_info(unsigned dev, struct plat_net_info *info);

/* Queues one frame, gathered from (iov)[0 .. n), for sending; the bytes
 * are copied, so the buffers may be reused on return. Returns 0, -EAGAIN
 * when the transmit queue is full (call plat_wait and retry), -EMSGSIZE
 * for a frame over mtu + 14 bytes, or -ENODEV. */
int plat_net_send(unsigned dev, const struct plat_iov *iov, unsigned n);

/* Copies the next received frame into (buf) of (size) bytes and returns
 * its length; 0 when none is waiting. A frame longer than (size) is
 * dropped and -EMSGSIZE returned. -ENODEV for no such device. While
 * frames keep coming their interrupts are suppressed; the call that
 * returns 0 turns them back on, so call until 0 before plat_wait() (a
 * caller that stops early is woken by its deadline only). */
int plat_net_recv(unsigned dev, void *buf, size_t size);

/* Block devices: sectors of sector_size bytes. */
struct plat_blk_info {
	uint64_t sectors;
	uint32_t sector_size; /* 512, or the device's logical block size */
	bool readonly;
};

#define PLAT_BLK_READ 0
#define PLAT_BLK_WRITE 1
#define PLAT_BLK_FLUSH 2 /* everything completed before it is durable */
#define PLAT_BLK_MAX_BYTES (4u << 20) /* the largest read or write */

/* Fills (info) for block device (dev); returns 0 or -ENODEV. */
int plat_blk_info(unsigned dev, struct plat_blk_info *info);

/* Queues request (op) on (count) sectors from (sector), into or out of
 * (buf) (count * sector_size bytes, any alignment, left untouched by the
 * caller until the request completes; sector, count and buf are ignored
 * for PLAT_BLK_FLUSH). (tag) comes back with the completion. Returns 0,
 * -EAGAIN when the queue is full (poll completions and retry), -EINVAL
 * for an unknown (op), a range past the end, a count of 0, or more than
 * PLAT_BLK_MAX_BYTES bytes, -EROFS for a write to a read-only device, or
 * -ENODEV. A device without a volatile write cache completes a flush at
 * once (it is still polled). */
int plat_blk_submit(unsigned dev, int op, uint64_t sector, uint32_t count,
		    void *buf, uintptr_t tag);

/* Takes one completed request of (dev): sets (*tag) and (*status) (0, or
 * -EIO, -EROFS, -EOPNOTSUPP as the device answered) and returns 1; returns
 * 0 when none has completed, -ENODEV for no such device. */
int plat_blk_poll(unsigned dev, uintptr_t *tag, int *status);

/* Fills (buf) with (len) bytes from a hardware entropy source (RDSEED or
 * RDRAND, else virtio-rng) and returns (len); returns fewer (possibly 0)
 * when a virtio-rng request is still outstanding (call again after
 * plat_wait), -EIO when the CPU's source keeps failing and there is no
 * virtio-rng to stand in, or -ENODEV when the machine has no entropy
 * source. */
long plat_random(void *buf, size_t len);

/* Prints a panic report naming (file):(line) and (msg), with a symbolised
 * backtrace of the caller, then exits with PLAT_EXIT_PANIC. Calls neither
 * printf nor malloc. */
_Noreturn void plat_panic(const char *file, int line, const char *msg);

/* The exit status of a panic (a CPU exception or plat_panic). */
#define PLAT_EXIT_PANIC 125

#endif
