/*
 * kernel.h -- what the files of kernel/ share with each other and with
 * nobody else (the layers above see only platform.h). One section per file,
 * in boot order; each contract is stated here, once. The part above
 * __ASSEMBLER__ is also read by boot.S and isr.S.
 */
#ifndef LUNIK_KERNEL_H
#define LUNIK_KERNEL_H

#include "cpu.h"

#define PAGE_SIZE 4096
#define PAGE_2M 0x200000

/* The main stack (runtime_main runs on it) and the interrupt stacks, each
 * above an unmapped guard page (boot.S lays them out, mmu.c leaves the
 * guards out of the page tables). IST numbers are those of the TSS. */
#define STACK_SIZE 0x100000 /* 1 MiB */
#define IST_SIZE 0x4000   /* 16 KiB */
#define IST_SHARED 1 /* every vector but the three below */
#define IST_DF 2     /* double fault */
#define IST_NMI 3
#define IST_MC 4     /* machine check */
#define IST_COUNT 4
#define IST_SLOT (PAGE_SIZE + IST_SIZE) /* guard page, then the stack */

/* Interrupt vectors (trap.c). */
#define VEC_PIC_BASE 0x20   /* the 8259s, remapped here and masked */
#define VEC_IRQ_BASE 0x30   /* I/O APIC inputs (GSIs), see irq.h */
#define VEC_IRQ_COUNT 48    /* two I/O APICs of 24 inputs */
#define VEC_MSI_BASE 0x60   /* message-signalled interrupts (PCI MSI-X) */
#define VEC_MSI_COUNT 32
#define VEC_TIMER 0xf0      /* local APIC timer */
#define VEC_SPURIOUS 0xff   /* local APIC spurious vector */
#define TRAP_STUB_SIZE 16   /* bytes per entry stub in isr.S */

#ifndef __ASSEMBLER__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

/* errno values, newlib's (sys/errno.h; not all are Linux's: EMSGSIZE is
 * 122, not 90): the kernel includes no libc header (but newlib.c, which
 * is newlib's system calls), and returns these negated. */
#define EIO 5
#define EAGAIN 11
#define EBUSY 16
#define ENODEV 19
#define EINVAL 22
#define EROFS 30
#define EOPNOTSUPP 95
#define EMSGSIZE 122

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uintptr_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uintptr_t)(a) - 1))

/* Invariants: a failed one is a bug, reported with file:line. */
#define PANIC(msg) plat_panic(__FILE__, __LINE__, (msg))
#define ASSERT(c) ((c) ? (void)0 : PANIC("assertion failed: " #c))

/* link.ld: the image, each boundary page aligned. */
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_start[], __bss_end[];
extern char __noinit_start[], __noinit_end[]; /* stacks, tables: not zeroed */
extern char __ksyms_start[]; /* the symbol table, appended (ksyms.h) */
extern const char __rom_start[], __rom_end[]; /* the app's ROM archive */

/* ---- boot.S */
/* The TSC at the first instruction of the PVH entry and at the first
 * 64-bit instruction. */
extern uint64_t boot_tsc_entry, boot_tsc_long;
extern char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];
/* IST_COUNT slots of IST_SLOT bytes, IST 1 first. */
extern char boot_ist_area[];

/* ---- main.c */
/* The C entry, from boot.S on the main stack with interrupts off;
 * (start_info) is the physical address of the PVH start_info. */
_Noreturn void kernel_main(uint32_t start_info);

/* ---- console.c */
/* Sets COM1 up for polled output (115200 8N1, no interrupts). */
void console_init(void);
/* printf to the console for the formats %s %c %d %i %u %x %p %%, with the
 * flags '0' and '-', a width, and the sizes l, ll, z. Never allocates;
 * safe in trap handlers and panics. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- trap.c */
/* Loads the GDT with its TSS (the IST stacks) and the IDT (every vector to
 * its stub in isr.S, each on an IST stack). */
void trap_init(void);

/* The registers as isr.S saves them, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* A device-interrupt handler: runs with interrupts off on the shared IST
 * stack; must only acknowledge and note (kernel C only: the FPU/SSE state
 * is not saved, see isr.S). */
typedef void trap_handler_fn(unsigned vector);

/* Installs (fn) for (vector) >= 32; NULL removes it. */
void trap_set_handler(unsigned vector, trap_handler_fn *fn);
/* Called by isr.S for every interrupt and exception. */
void trap_dispatch(struct trap_frame *f);

/* ---- panic.c */
/* The panic report for a CPU exception or an unexpected vector; exits
 * with PLAT_EXIT_PANIC. */
_Noreturn void panic_trap(const struct trap_frame *f);

/* ---- pvh.c */
#define PVH_MEM_RAM 1 /* hvm_memmap_table_entry types (Xen's e820 ones) */
#define PVH_MEM_ACPI 3
#define PVH_MEM_NVS 4

struct pvh_mem {
	uint64_t addr, size;
	uint32_t type;
};

/* Checks start_info at (paddr) (panics if it is not one) and copies the
 * command line and the memory map into the kernel, so that nothing the
 * loader left in RAM is needed afterwards. */
void pvh_init(uint32_t paddr);
/* Sets (*map) to the memory map copied by pvh_init; returns its length. */
size_t pvh_memmap(const struct pvh_mem **map);
/* The physical address of the ACPI RSDP the loader gave, or 0. */
uint64_t pvh_rsdp(void);

/* ---- mmu.c */
#define MMIO_BASE 0xfe000000 /* to 4 GiB: virtio-mmio, APICs, ACPI GED */

/* Builds the final page tables (W^X image, RAM, the MMIO window, page 0
 * and guard pages unmapped) and switches to them. Panics if there is no
 * memory for them (mmu_take). */
void mmu_init(void);
/* Maps [addr, addr + size) to itself, no-execute: read-write and
 * uncached when (device) (registers, PCI BARs), else read-only (firmware
 * tables). Pages mapped already keep their mapping. Panics if there is
 * no memory for the tables. */
void mmu_map(uintptr_t addr, size_t size, bool device);

/* Memory for the kernel's own use (page tables, virtio rings and
 * buffers), sized by what the machine has: (size) bytes aligned to
 * (align) (a power of 2), not zeroed, never given back. It comes from the
 * RAM below the image (page 0 excepted), else from the top of the heap's
 * region while the heap is not handed out yet (mmu_heap), which shrinks
 * it. NULL when there is not enough. */
void *mmu_take(size_t size, size_t align);

/* The bytes of RAM in the PVH memory map (after mmu_init). */
uint64_t mmu_ram_bytes(void);
/* Names the region holding (addr): "text", "rodata", "heap", "page 0",
 * "the main stack's guard page", ...; NULL if it knows none. Sets
 * (*diagnosis), when given, to what a fault there means when the region
 * alone tells ("null pointer dereference", "stack overflow"), else NULL. */
const char *mmu_region(uintptr_t addr, const char **diagnosis);
/* The stack (main or interrupt) that holds (addr): sets [*lo, *hi) and
 * returns true, else returns false. */
bool mmu_stack_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi);
/* The free RAM past the image that newlib.c hands malloc: [*start, *end),
 * page aligned, mapped read-write and no-execute. */
void mmu_heap(uintptr_t *start, uintptr_t *end);

/* ---- clock.c */
/* Chooses the TSC's scale (kvmclock, else CPUID 0x15/0x16, else the PIT)
 * and reads the wall clock (KVM's, else the CMOS RTC). */
void clock_init(void);
void clock_wall_init(void);
/* (tsc) as nanoseconds since the PVH entry; 0 before clock_init. */
uint64_t clock_tsc_to_ns(uint64_t tsc);
/* True when the scale came from kvmclock (exact, no calibration). */
bool clock_is_exact(void);
/* The name of the source clock_init chose, for the boot log. */
const char *clock_source(void);

/* ---- fpu.c */
/* Resets x87 and loads the default MXCSR, after checking that the CPU
 * is not emulated instruction by instruction (panics if it is: such a
 * CPU cannot run x87/SSE). Needs the monotonic clock. */
void fpu_init(void);

/* ---- rtc.c */
/* The CMOS RTC as seconds since the Unix epoch (it is kept in UTC), or -1
 * when there is no RTC or it does not settle. */
int64_t rtc_read(void);

/* ---- lapic.c */
/* Enables the local APIC and calibrates its timer against the monotonic
 * clock (so after clock_init); plat_wait works from then on. */
void lapic_init(void);
/* Signals the end of an interrupt to the local APIC. */
void lapic_eoi(void);
/* This CPU's APIC ID, for I/O APIC destinations. */
uint32_t lapic_id(void);

/* ---- acpi.c */
/* Reads the firmware's ACPI tables (the RSDP from PVH start_info, else
 * found in the BIOS area): how to power off (S5: the hardware-reduced
 * sleep control register, else PM1a/PM1b control with \_S5's SLP_TYP)
 * and reset (the FADT's reset register), the MADT's interrupt overrides,
 * and the power button (QEMU microvm's Generic Event Device, else the
 * fixed PM1 event on the SCI), whose interrupt it routes. A machine
 * without ACPI has none of these and prints nothing. After lapic_init,
 * with interrupts off. */
void acpi_init(void);
/* The GSI and irq.h flags of ISA IRQ (irq) when the MADT overrides
 * them (sets *gsi and *flags, returns true); false otherwise. */
bool acpi_isa_irq(unsigned irq, unsigned *gsi, unsigned *flags);
/* Enter S5 (soft off); returns only when the machine has no ACPI way
 * to power off or did not stop. Interrupts off. */
void acpi_power_off(void);
/* Resets the machine through the FADT's reset register; returns when
 * there is none or it did not reset. */
void acpi_reset(void);

/* ---- entropy.c */
/* Looks for RDSEED and RDRAND (CPUID); plat_random works from then on,
 * with virtio-rng once virtio_init has found it. */
void entropy_init(void);

/* ---- virtio.c (the drivers' shared interface is virtio.h) */
/* Finds the virtio devices, on the PCI bus (virtio-pci) and as
 * virtio-mmio transports (the "virtio_mmio.device=" words of the command
 * line, else, on a machine without PCI, a probe of QEMU microvm's
 * window), and sets each up in discovery order; plat_net_*, plat_blk_*
 * and virtio-rng work from then on. Prints one console line for each
 * transport that answers wrongly, each device that fails and each PCI
 * device it leaves alone; never panics for a device. After irq_init,
 * lapic_init and acpi_init, with interrupts off. */
void virtio_init(void);

#endif /* __ASSEMBLER__ */
#endif
