/*
 * clock.c -- time: the monotonic clock is the TSC, scaled to nanoseconds
 * since the PVH entry (boot.S read the TSC there); the wall clock is read
 * once at boot and advanced by the monotonic clock.
 *
 * The TSC's rate comes from, in order of preference:
 *  1. KVM's pvclock (kvmclock): the hypervisor publishes the exact scale
 *     (Linux's Documentation/virt/kvm/x86/msr.rst and cpuid.rst);
 *  2. CPUID leaf 0x15 (TSC/crystal ratio and crystal Hz), or 0x16 (base
 *     MHz) where 0x15 gives the ratio only (SDM vol. 3B, 18.7.3), else
 *     the hypervisor's leaf 0x40000010 (TSC kHz, VMware's convention);
 *  3. counting it against the 8254 PIT for a few ms. Only software
 *     emulation gets this far, where QEMU's TSC runs at the host's rate
 *     and no leaf gives it (qemu64 stops at leaf 0xd, and QEMU fills the
 *     hypervisor leaves under KVM only).
 * Time stays a single multiply per read: ns = (delta << shift) * mul >> 32.
 *
 * The wall time comes from KVM's wall clock when present, else the CMOS
 * RTC (rtc.c).
 */
#include "kernel.h"

#define MSR_KVM_WALL_CLOCK 0x11
#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE (1u << 0)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)

#define PIT_HZ 1193182
#define PIT_CH0 0x40
#define PIT_MODE 0x43
#define PIT_CALIBRATE_TICKS (PIT_HZ / 333) /* 3 ms */
#define PIT_EDGE_SAMPLES 8

/* Published by KVM; must not cross a page (hence the alignment). */
struct pvclock_vcpu_time_info {
	uint32_t version; /* odd while KVM updates the rest */
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time; /* ns at tsc_timestamp */
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec; /* wall time when system_time was 0 */
	uint32_t nsec;
};

static volatile struct pvclock_vcpu_time_info pvti __attribute__((aligned(32)));
static volatile struct pvclock_wall_clock pvwc __attribute__((aligned(16)));

static uint64_t mul; /* ns per TSC tick, 32.32 fixed point, after shift */
static int shift;
static bool exact;     /* the scale came from kvmclock */
static bool wall_known; /* wall_base came from kvmclock */
static const char *source = "none";
static int64_t wall_base; /* wall ns at monotonic 0 */

static uint64_t scale(uint64_t delta, uint64_t m, int s)
{
	delta = s < 0 ? delta >> -s : delta << s;
	return (uint64_t)(((unsigned __int128)delta * m) >> 32);
}

uint64_t clock_tsc_to_ns(uint64_t tsc)
{
	return tsc > boot_tsc_entry ? scale(tsc - boot_tsc_entry, mul, shift) : 0;
}

uint64_t plat_monotonic_ns(void)
{
	return clock_tsc_to_ns(rdtsc());
}

int64_t plat_wall_ns(void)
{
	return wall_base + (int64_t)plat_monotonic_ns();
}

bool clock_is_exact(void)
{
	return exact;
}

const char *clock_source(void)
{
	return source;
}

/* KVM's CPUID leaves: "KVMKVMKVM\0\0\0" at 0x40000000, or 0x40000100 when
 * QEMU puts Hyper-V's leaves first. Returns the base, or 0. */
static uint32_t kvm_cpuid_base(void)
{
	if (!(cpuid(1, 0).ecx & (1u << 31))) /* no hypervisor */
		return 0;
	for (uint32_t base = 0x40000000; base <= 0x40000100; base += 0x100) {
		struct cpuid r = cpuid(base, 0);

		if (r.ebx == 0x4b4d564b && r.ecx == 0x564b4d56 && r.edx == 0x4d &&
		    r.eax >= base + 1)
			return base;
	}
	return 0;
}

/* A consistent snapshot of the pvclock, and KVM's ns at TSC (tsc). */
static uint64_t kvm_ns(uint64_t *tsc)
{
	uint32_t v;
	uint64_t ts, sys;
	uint32_t m;
	int8_t s;

	do {
		v = pvti.version;
		__asm__ volatile("" : : : "memory");
		ts = pvti.tsc_timestamp;
		sys = pvti.system_time;
		m = pvti.tsc_to_system_mul;
		s = pvti.tsc_shift;
		*tsc = rdtsc();
		__asm__ volatile("" : : : "memory");
	} while ((v & 1) || v != pvti.version);
	mul = m;
	shift = s;
	return sys + (*tsc > ts ? scale(*tsc - ts, m, s) : 0);
}

static bool try_kvmclock(void)
{
	uint32_t base = kvm_cpuid_base(), features, wall_msr, time_msr;
	uint64_t tsc, now, sec;
	uint32_t v, nsec;

	if (!base)
		return false;
	features = cpuid(base + 1, 0).eax;
	if (features & KVM_FEATURE_CLOCKSOURCE2) {
		wall_msr = MSR_KVM_WALL_CLOCK_NEW;
		time_msr = MSR_KVM_SYSTEM_TIME_NEW;
	} else if (features & KVM_FEATURE_CLOCKSOURCE) {
		wall_msr = MSR_KVM_WALL_CLOCK;
		time_msr = MSR_KVM_SYSTEM_TIME;
	} else {
		return false;
	}
	wrmsr(time_msr, (uintptr_t)&pvti | 1); /* bit 0: enable */
	wrmsr(wall_msr, (uintptr_t)&pvwc);
	now = kvm_ns(&tsc);
	if (!mul)
		return false;
	do {
		v = pvwc.version;
		__asm__ volatile("" : : : "memory");
		sec = pvwc.sec;
		nsec = pvwc.nsec;
		__asm__ volatile("" : : : "memory");
	} while ((v & 1) || v != pvwc.version);
	/* KVM's wall clock plus its system time is the time now. */
	wall_base = (int64_t)(sec * 1000000000 + nsec + now) -
		    (int64_t)clock_tsc_to_ns(tsc);
	exact = wall_known = true;
	source = "kvmclock";
	return true;
}

/* The hypervisor's timing leaf 0x40000010 (VMware's, which QEMU with
 * vmware-cpuid-freq and other VMMs give): eax is the TSC frequency in
 * kHz. 0 when the hypervisor's leaves do not reach it. */
static uint64_t hypervisor_tsc_hz(void)
{
	if (!(cpuid(1, 0).ecx & (1u << 31)) || cpuid(0x40000000, 0).eax < 0x40000010)
		return 0;
	return (uint64_t)cpuid(0x40000010, 0).eax * 1000;
}

static uint64_t cpuid_tsc_hz(void)
{
	uint32_t max = cpuid(0, 0).eax;
	struct cpuid r;

	if (max < 0x15)
		return hypervisor_tsc_hz();
	r = cpuid(0x15, 0); /* eax/ebx: TSC/crystal ratio, ecx: crystal Hz */
	if (!r.eax || !r.ebx)
		return hypervisor_tsc_hz();
	if (r.ecx)
		return (uint64_t)r.ecx * r.ebx / r.eax;
	if (max >= 0x16 && (cpuid(0x16, 0).eax & 0xffff))
		return (uint64_t)(cpuid(0x16, 0).eax & 0xffff) * 1000000;
	return hypervisor_tsc_hz();
}

/* A sample of the PIT's count: (*tsc) just before the latch, and
 * (*spread) the TSC ticks the latch and the reads took. */
static uint16_t pit_sample(uint64_t *tsc, uint64_t *spread)
{
	uint8_t lo, hi;

	*tsc = rdtsc();
	outb(PIT_MODE, 0x00); /* latch channel 0 */
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	*spread = rdtsc() - *tsc;
	return (uint16_t)(hi << 8 | lo);
}

/* Counts TSC ticks over PIT_CALIBRATE_TICKS of the PIT (8254 datasheet).
 * Channel 0, not the usual channel 2: microvm has no port 0x61 (the
 * channel 2 gate), so channel 2 never counts there. Its IRQ 0 is masked.
 *
 * Under TCG a sample can be late: code runs the first time only after it
 * is translated, and a port access may wait for QEMU's big lock (both seen
 * here, 1-2% off over a few ms). So the first sample is thrown away, and
 * each end of the window is the tightest of PIT_EDGE_SAMPLES samples. */
static uint64_t pit_tsc_hz(void)
{
	uint64_t tsc, spread, best = UINT64_MAX, ticks = 0;
	uint64_t t0 = 0, tick0 = 0, t1 = 0, tick1 = 0;
	uint16_t prev, now;
	int end = 0;

	outb(PIT_MODE, 0x34); /* channel 0, lo/hi byte, mode 2, binary */
	outb(PIT_CH0, 0);     /* count 65536 */
	outb(PIT_CH0, 0);
	prev = pit_sample(&tsc, &spread);
	for (int i = 1;; i++) {
		now = pit_sample(&tsc, &spread);
		ticks += (uint16_t)(prev - now);
		prev = now;
		if (i <= PIT_EDGE_SAMPLES) {
			if (spread < best)
				best = spread, t0 = tsc, tick0 = ticks;
		} else if (ticks - tick0 >= PIT_CALIBRATE_TICKS) {
			if (end == 0)
				best = UINT64_MAX;
			if (spread < best)
				best = spread, t1 = tsc, tick1 = ticks;
			if (++end == PIT_EDGE_SAMPLES)
				break;
		}
	}
	return (t1 - t0) * PIT_HZ / (tick1 - tick0);
}

/* Puts PIT channel 0 in mode 0: one terminal count, then silence. The
 * firmware leaves it ticking at 18.2 Hz, and though IRQ 0 is masked, the
 * hypervisor would keep a host timer running for it. */
static void pit_quiet(void)
{
	outb(PIT_MODE, 0x30); /* channel 0, lo/hi byte, mode 0, binary */
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
}

void clock_init(void)
{
	uint64_t hz = 0;

	if (!try_kvmclock()) {
		hz = cpuid_tsc_hz();
		source = "cpuid";
		if (!hz) {
			hz = pit_tsc_hz();
			source = "pit";
		}
		if (hz < 10000000 || hz > 100000000000ull)
			PANIC("cannot find the TSC frequency");
		mul = (1000000000ull << 32) / hz;
		shift = 0;
	}
	pit_quiet();
}

void clock_wall_init(void)
{
	int64_t sec;

	if (wall_known)
		return;
	sec = rtc_read();
	if (sec < 0) {
		kprintf("lunik: warning: no wall clock (no kvmclock, no RTC); "
			"the time starts at 1970\n");
		return;
	}
	/* The RTC only tells which second it is: take its middle, which
	 * halves the worst error (to half a second). */
	wall_base = sec * 1000000000 + 500000000 - (int64_t)plat_monotonic_ns();
}
