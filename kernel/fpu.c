/*
 * fpu.c -- x87 and SSE for the layers above: newlib and Lua compute in
 * doubles, which on x86-64 means SSE. boot.S already set the control bits
 * (CR0.MP and NE, CR0.EM clear, CR4.OSFXSR and OSXMMEXCPT); this resets
 * the x87 unit and loads the default MXCSR (SDM vol. 1, 11.6.4 and 13.1).
 * The kernel itself never uses these registers (-mgeneral-regs-only).
 *
 * First it checks that the CPU executes instructions natively or through a
 * translator (TCG). A "KVM" without hardware virtualization (Linux's PVM
 * mode, kvm_pvm, when the guest is not a PVM guest) runs every instruction
 * of the guest through KVM's instruction emulator: a thousand times slower
 * than TCG, and it has no x87/SSE arithmetic, so the first double would
 * stop the machine with "KVM internal error" and QEMU would hang. Better
 * to say so and exit at once.
 */
#include "kernel.h"

#define PROBE_LOOPS 2000
#define PROBE_SLOW_NS 1000000 /* native: ~1 us, TCG: tens of us */
#define PROBE_TRIES 3

/* Nanoseconds for PROBE_LOOPS turns of a two-instruction loop. */
static uint64_t probe(void)
{
	uint64_t t0 = plat_monotonic_ns();
	unsigned n = PROBE_LOOPS;

	__asm__ volatile("1: dec %0; jnz 1b" : "+r"(n));
	return plat_monotonic_ns() - t0;
}

/* Slow every time: one slow try could be the host preempting us. */
static bool cpu_is_emulated(void)
{
	for (int i = 0; i < PROBE_TRIES; i++)
		if (probe() < PROBE_SLOW_NS)
			return false;
	return true;
}

void fpu_init(void)
{
	static const uint32_t mxcsr = 0x1f80; /* all exceptions masked */

	if (cpu_is_emulated())
		PANIC("this CPU emulates every instruction (a KVM without "
		      "hardware virtualization, such as kvm_pvm): it cannot run "
		      "x87/SSE code; boot under TCG (-accel tcg) instead");
	__asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
}
