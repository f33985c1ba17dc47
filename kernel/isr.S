/*
 * isr.S -- the entry stubs of all 256 interrupt vectors and the common
 * path that saves the interrupted registers, calls trap_dispatch() (trap.c)
 * and returns with iretq.
 *
 * Every vector runs on an IST stack (trap.c), so the interrupted stack, its
 * red zone included, is never written, and an overflow of the main stack
 * into its guard page still gets a working stack for its report.
 *
 * Only the general registers are saved. The FPU/SSE state is not: kernel
 * C is built with -mgeneral-regs-only, and handlers call nothing else (no
 * newlib), so they never touch those registers. A handler that ever needs
 * SSE must fxsave/fxrstor around it here first.
 *
 * Each stub is TRAP_STUB_SIZE bytes, so trap.c finds stub n at
 * isr_stubs + n * TRAP_STUB_SIZE. The CPU pushes an error code for
 * vectors 8, 10-14, 17, 21, 29 and 30 (SDM vol. 3A, table 6-1); the other
 * stubs push a 0 in its place so that every frame has the same shape,
 * struct trap_frame in kernel.h.
 */
#include "kernel.h"

	.section .text.trap, "ax"
	.code64
	.p2align 4
	.globl isr_stubs
isr_stubs:
	vector = 0
	.rept 256
	.p2align 4
	.if vector != 8 && (vector < 10 || vector > 14) && vector != 17 && vector != 21 && vector != 29 && vector != 30
	pushq $0
	.endif
	pushq $vector
	jmp isr_common
	vector = vector + 1
	.endr
	.size isr_stubs, . - isr_stubs

	.p2align 4
	.type isr_common, @function
isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	cld
	/* The IST top is 16-byte aligned and 22 quadwords are now pushed, so
	 * the call below meets the ABI's alignment. */
	mov %rsp, %rdi
	call trap_dispatch
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp           /* vector and error code */
	iretq
	.size isr_common, . - isr_common

	/* No executable stack (the linker warns without this note). */
	.section .note.GNU-stack, "", @progbits
