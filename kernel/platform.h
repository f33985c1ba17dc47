/*
 * platform.h -- the whole seam between kernel/ and everything above it.
 *
 * The kernel boots (PVH entry, long mode, page tables, interrupts, clocks,
 * console), then calls runtime_main(), which the layer above provides. Nothing
 * above kernel/ includes any other kernel header, and nothing in kernel/ knows
 * about Lua. Keep this file small enough to implement a second time as a plain
 * Linux process (a "hosted" platform).
 *
 * Execution model: one CPU, no preemption. Interrupt handlers only note what
 * happened; every call below runs on the caller's stack and returns.
 */
#ifndef LUNIK_PLATFORM_H
#define LUNIK_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Provided by the layer above: called once, after the platform is up, on
 * the main stack with interrupts enabled. Its return value is the exit
 * status (plat_exit). */
int runtime_main(void);

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

/* The free RAM the layer above may use as its heap: [*start, *end), page
 * aligned, mapped read-write and no-execute. Everything else is the kernel's. */
void plat_heap(uintptr_t *start, uintptr_t *end);

/* The kernel command line from PVH start_info, NUL-terminated ("" if none). */
const char *plat_cmdline(void);

/* One step of the boot, in nanoseconds since the PVH entry. */
struct plat_phase {
	const char *name;
	uint64_t ns;
};

/* Sets (*phases) to the kernel's boot phases, in order, and returns their
 * count. The first is "pvh_entry" at 0 ns. */
size_t plat_boot_phases(const struct plat_phase **phases);

/* Ends the machine with (status), clamped to 0..126: through QEMU's
 * isa-debug-exit (port 0xf4, written as status + 1, so QEMU exits with
 * 2 * status + 3; the launcher decodes it), else a keyboard-controller
 * reset (Firecracker's shutdown; the status is lost), else a triple fault.
 * Flushes nothing: callers flush their own buffers first. */
_Noreturn void plat_exit(int status);

/* Prints a panic report naming (file):(line) and (msg), with a symbolised
 * backtrace of the caller, then exits with PLAT_EXIT_PANIC. Calls neither
 * printf nor malloc. */
_Noreturn void plat_panic(const char *file, int line, const char *msg);

/* The exit status of a panic (a CPU exception or plat_panic). */
#define PLAT_EXIT_PANIC 125

#endif
