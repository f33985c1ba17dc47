/*
 * lapic.c -- the local APIC (SDM vol. 3A, chapter 11): enabled, its
 * spurious vector set, its timer in one-shot mode, and on top of it
 * plat_wait() (arm the timer for the deadline, halt, repeat) and
 * plat_alarm() (a callback when a deadline passes, even while the CPU is
 * busy). The one timer serves both: plat_wait arms it for the earlier of
 * its deadline and the alarm's.
 *
 * x2APIC (registers as MSRs) when the CPU has it, since under KVM an MSR
 * write is a cheaper exit than an MMIO write that must be decoded; the
 * xAPIC page at 0xfee00000 otherwise (QEMU's TCG).
 *
 * The timer's rate is not architectural: it is measured against the
 * monotonic clock, over 200 us when that clock is kvmclock (exact) and
 * 500 us when it was itself calibrated (software emulation).
 */
#include "irq.h"
#include "kernel.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_X2APIC (1u << 10)
#define APIC_BASE_ENABLE (1u << 11)
#define XAPIC_BASE 0xfee00000

/* Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + off / 16. */
#define REG_ID 0x20
#define REG_TPR 0x80
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INIT 0x380
#define REG_TIMER_COUNT 0x390
#define REG_TIMER_DIV 0x3e0

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define DIV_1 0xb
#define DIV_16 0x3
#define EDGE_SAMPLES 8

static bool x2apic;
static uint64_t rate; /* timer ticks per ns at DIV_16, 32.32 fixed point */
static uint64_t alarm_at = UINT64_MAX;
static void (*alarm_fn)(void);

static uint32_t rd(uint32_t reg)
{
	return x2apic ? (uint32_t)rdmsr(0x800 + reg / 16)
		      : mmio_read32(XAPIC_BASE + reg);
}

static void wr(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + reg / 16, v);
	else
		mmio_write32(XAPIC_BASE + reg, v);
}

void lapic_eoi(void)
{
	wr(REG_EOI, 0);
}

uint32_t lapic_id(void)
{
	return x2apic ? rd(REG_ID) : rd(REG_ID) >> 24;
}

static void arm(uint64_t ns);

/* plat_wait's loop looks at the clock itself; the alarm is called here
 * once due, or the timer armed again for it when it fired early. */
static void timer_interrupt(unsigned vector)
{
	uint64_t now;

	lapic_eoi();
	if (alarm_at == UINT64_MAX)
		return;
	now = plat_monotonic_ns();
	if (now >= alarm_at) {
		void (*fn)(void) = alarm_fn;

		alarm_at = UINT64_MAX;
		fn(); /* may call plat_alarm again */
	} else {
		arm(alarm_at - now);
	}
}

/* The monotonic time halfway through reading the count, and (*spread)
 * how long the read took. */
static uint64_t sample(uint32_t *count, uint64_t *spread)
{
	uint64_t t0 = plat_monotonic_ns(), t1;

	*count = rd(REG_TIMER_COUNT);
	t1 = plat_monotonic_ns();
	*spread = t1 - t0;
	return t0 + (t1 - t0) / 2;
}

/* Counts timer ticks at DIV_1 over a window of the monotonic clock. As in
 * clock.c's PIT calibration, the first sample is thrown away and each end
 * is the tightest of EDGE_SAMPLES samples: under TCG a read can wait for
 * translation or for QEMU's big lock. */
static void calibrate(void)
{
	uint64_t window = clock_is_exact() ? 200000 : 500000;
	uint64_t t, spread, best = UINT64_MAX, t0 = 0, t1 = 0;
	uint32_t c, c0 = 0, c1 = 0;
	int end = 0;

	wr(REG_TIMER_DIV, DIV_1);
	wr(REG_TIMER_INIT, 0xffffffff);
	sample(&c, &spread);
	for (int i = 1;; i++) {
		t = sample(&c, &spread);
		if (i <= EDGE_SAMPLES) {
			if (spread < best)
				best = spread, t0 = t, c0 = c;
		} else if (t - t0 >= window) {
			if (end == 0)
				best = UINT64_MAX;
			if (spread < best)
				best = spread, t1 = t, c1 = c;
			if (++end == EDGE_SAMPLES)
				break;
		}
	}
	wr(REG_TIMER_INIT, 0);
	if (c1 >= c0)
		PANIC("the local APIC timer does not count");
	/* At DIV_16 the timer runs 16 times slower. */
	rate = ((uint64_t)(c0 - c1) << 32) / (t1 - t0) / 16;
	wr(REG_TIMER_DIV, DIV_16);
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	x2apic = cpuid(1, 0).ecx & (1u << 21);
	if (x2apic)
		base |= APIC_BASE_ENABLE | APIC_BASE_X2APIC;
	else if ((base & ~0xfffull) != XAPIC_BASE)
		PANIC("the local APIC is not at 0xfee00000");
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	wr(REG_TPR, 0);
	wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
	wr(REG_LVT_LINT0, LVT_MASKED); /* the 8259s: masked, see irq.c */
	wr(REG_LVT_ERROR, LVT_MASKED);
	wr(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	trap_set_handler(VEC_TIMER, timer_interrupt);
	calibrate();
	wr(REG_LVT_TIMER, VEC_TIMER); /* one-shot mode: bits 17-18 zero */
}

/* Arms the timer to fire in about (ns), early rather than late: a late
 * interrupt overshoots the deadline, an early one costs one more loop in
 * plat_wait. The calibration is good to well under 1/64. */
static void arm(uint64_t ns)
{
	unsigned __int128 t = ((unsigned __int128)ns * rate) >> 32;

	t -= t >> 6;
	wr(REG_TIMER_INIT, t == 0 ? 1 : t > 0xffffffff ? 0xffffffff : (uint32_t)t);
}

void plat_alarm(uint64_t deadline_ns, void (*fn)(void))
{
	uint64_t flags = intr_save(), now = plat_monotonic_ns();

	alarm_fn = fn;
	alarm_at = deadline_ns;
	if (deadline_ns != UINT64_MAX)
		arm(deadline_ns > now ? deadline_ns - now : 0);
	intr_restore(flags);
}

/* Interrupts are off from the checks until hlt: an interrupt arriving in
 * between stays pending, and sti;hlt takes it without sleeping. The timer
 * is never armed later than a pending alarm, and whenever it fires before
 * the alarm is due the interrupt arms it again for the alarm: so nothing
 * needs re-arming here on the way out. */
void plat_wait(uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now, until;

		cli();
		if (irq_take_pending())
			break;
		now = plat_monotonic_ns();
		if (now >= deadline_ns)
			break;
		until = deadline_ns < alarm_at ? deadline_ns : alarm_at;
		if (until != UINT64_MAX)
			arm(until > now ? until - now : 0);
		sti_hlt();
	}
	sti();
}
