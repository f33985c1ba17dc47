/*
 * main.c -- the boot order, one init call a line, with the boot timeline
 * recorded between them; and the way out, plat_exit().
 *
 * Each phase is stamped with the TSC, since the clock's scale is only
 * known after clock_init; plat_boot_phases converts them to nanoseconds.
 * Phases are named after what just finished.
 */
#include "irq.h"
#include "kernel.h"

#define PHASES_MAX 16
#define ISA_DEBUG_EXIT 0xf4 /* QEMU's isa-debug-exit, as the launcher sets it */
#define KBC_COMMAND 0x64
#define KBC_RESET 0xfe
#define RESET_CONTROL 0xcf9 /* pc and q35 chipsets (PIIX3, ICH9): RCR */
#define RESET_CONTROL_HARD 0x06 /* SYS_RST | RST_CPU */

static struct plat_phase phases[PHASES_MAX];
static uint64_t phase_tsc[PHASES_MAX];
static size_t nphases;

static void phase_at(const char *name, uint64_t tsc)
{
	if (nphases < PHASES_MAX) {
		phases[nphases].name = name;
		phase_tsc[nphases++] = tsc;
	}
}

static void phase(const char *name)
{
	phase_at(name, rdtsc());
}

void kernel_main(uint32_t start_info)
{
	phase_at("pvh_entry", boot_tsc_entry);
	phase_at("long_mode", boot_tsc_long);
	console_init();
	phase("console");
	trap_init(); /* first, so that any fault from here on is reported */
	phase("idt");
	pvh_init(start_info);
	phase("start_info");
	mmu_init();
	phase("page_tables");
	irq_init();
	phase("irq");
	clock_init();
	phase("clock");
	fpu_init();
	phase("fpu");
	clock_wall_init();
	phase("wall_clock");
	lapic_init();
	phase("timer");
	acpi_init();
	phase("acpi");
	entropy_init();
	virtio_init();
	phase("devices");
	sti();
	plat_exit(runtime_main());
}

size_t plat_boot_phases(const struct plat_phase **out)
{
	for (size_t i = 0; i < nphases; i++)
		phases[i].ns = clock_tsc_to_ns(phase_tsc[i]);
	*out = phases;
	return nphases;
}

/* Ends the machine, trying each way out in turn: isa-debug-exit (QEMU
 * exits with 2 * (value) + 1, so status + 1 keeps QEMU's own 0 and 1
 * free), ACPI S5, the ACPI reset register, the chipset's reset control
 * port, the keyboard controller (Firecracker's shutdown), a triple fault
 * (an empty IDT, then an exception), and last a halt. */
void plat_exit(int status)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) no_idt = { 0, 0 };

	if (status < 0)
		status = 0;
	if (status > 126)
		status = 126;
	cli();
	outl(ISA_DEBUG_EXIT, (uint32_t)status + 1);
	acpi_power_off();
	acpi_reset();
	outb(RESET_CONTROL, RESET_CONTROL_HARD);
	outb(KBC_COMMAND, KBC_RESET);
	__asm__ volatile("lidt %0; int3" : : "m"(no_idt));
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* newlib's __libc_init_array calls _init() before the constructors in
 * .init_array, and _fini is its pair; with no crti.o in the link, these
 * empty ones stand in (ABI names, hence no prefix). */
void _init(void);
void _fini(void);

void _init(void)
{
}

void _fini(void)
{
}
