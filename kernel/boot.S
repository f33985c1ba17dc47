/*
 * boot.S -- from the PVH entry to C. The loader (QEMU's firmware, or any
 * VMM that boots PVH ELFs) enters boot_pvh_entry in 32-bit protected mode
 * with paging off, flat segments, interrupts off and %ebx holding the
 * physical address of the hvm_start_info (Xen's PVH boot ABI,
 * docs/misc/pvh.pandoc; the note type is XEN_ELFNOTE_PHYS32_ENTRY = 18).
 *
 * Here: read the TSC first of all (the boot timeline starts there), zero
 * bss, map the first 4 GiB with 2 MiB pages just to get into long mode,
 * turn on long mode with NX and write protection, set the control bits
 * for x87 and SSE (fpu.c initialises them), and call kernel_main() on the
 * main stack. mmu.c replaces these page tables with the real ones at once.
 *
 * This file also lays out the big uninitialised areas, the stacks, in
 * .noinit: like bss but not zeroed, since nothing needs them zero, and
 * touching a MiB at boot costs a page fault per page in the hypervisor.
 */
#include "kernel.h"

	.section .note.pvh, "a", @note
	.p2align 2
	.long 4                 /* name size: "Xen\0" */
	.long 4                 /* descriptor size */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long boot_pvh_entry

	.section .text.boot, "ax"
	.code32
	.globl boot_pvh_entry
	.type boot_pvh_entry, @function
boot_pvh_entry:
	rdtsc                   /* first: "pvh_entry" is time 0 */
	mov %eax, boot_tsc_entry
	mov %edx, boot_tsc_entry + 4
	cld
	mov %ebx, %esi          /* start_info, kept for kernel_main */

	/* Zero bss (link.ld page-aligns both ends, so whole dwords). */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl

	/* Bootstrap tables (in bss, so zero): PML4[0] -> PDPT, PDPT[0..3] ->
	 * four PDs, each PD entry a 2 MiB page (P|RW|PS), 0 to 4 GiB. */
	movl $(boot_pdpt + 3), boot_pml4
	mov $(boot_pd + 3), %eax
	mov $boot_pdpt, %edi
	mov $4, %ecx
1:	mov %eax, (%edi)
	add $PAGE_SIZE, %eax
	add $8, %edi
	loop 1b
	mov $0x83, %eax
	mov $boot_pd, %edi
	mov $2048, %ecx
2:	mov %eax, (%edi)
	add $PAGE_2M, %eax
	add $8, %edi
	loop 2b

	/* Long mode (SDM vol. 3A, 10.8.5): PAE, CR3, EFER.LME, then paging.
	 * NX too, when the CPU has it (CPUID 0x80000001 EDX bit 20): mmu.c
	 * reads EFER to know. */
	mov %cr4, %eax
	or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $0x80000001, %eax
	cpuid
	mov $EFER_LME, %ebx
	bt $20, %edx
	jnc 3f
	or $EFER_NXE, %ebx
3:	mov $MSR_EFER, %ecx
	rdmsr
	or %ebx, %eax
	wrmsr
	/* WP: supervisor writes to read-only pages fault. MP, NE and no EM
	 * (and OSFXSR above): x87 and SSE run natively and report errors as
	 * exceptions. */
	mov %cr0, %eax
	and $~CR0_EM, %eax
	or $(CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG), %eax
	mov %eax, %cr0
	lgdt trap_gdt_ptr
	ljmp $SEL_KERNEL_CS, $boot_long

	.code64
boot_long:
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, boot_tsc_long
	mov $SEL_KERNEL_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov $boot_stack_top, %rsp
	xor %ebp, %ebp          /* ends every backtrace */
	mov %esi, %edi
	call kernel_main
	ud2
	.size boot_pvh_entry, . - boot_pvh_entry

	/* Written before bss is zeroed, so in .data. */
	.section .data.boot, "aw"
	.p2align 3
	.globl boot_tsc_entry, boot_tsc_long
boot_tsc_entry:
	.quad 0
boot_tsc_long:
	.quad 0

	.section .bss.boot, "aw", @nobits
	.p2align 12
boot_pml4:
	.skip PAGE_SIZE
boot_pdpt:
	.skip PAGE_SIZE
boot_pd:
	.skip 4 * PAGE_SIZE

	/* The stacks, each above a guard page that mmu.c leaves unmapped: an
	 * overflow faults (on an IST stack, so the report still prints)
	 * instead of corrupting what lies below. */
	.section .noinit, "aw", @nobits
	.p2align 12
	.globl boot_stack_guard, boot_stack_bottom, boot_stack_top
	.globl boot_ist_area
boot_stack_guard:
	.skip PAGE_SIZE
boot_stack_bottom:
	.skip STACK_SIZE
boot_stack_top:
boot_ist_area:
	.skip IST_COUNT * IST_SLOT

	/* No executable stack (the linker warns without this note). */
	.section .note.GNU-stack, "", @progbits
