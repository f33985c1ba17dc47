/*
 * kvm-probe.S -- tells tools/lunik whether this host's KVM runs guest code
 * natively. Some hosts offer a /dev/kvm without hardware virtualization
 * (Linux's PVM, kvm_pvm, running a guest that is not a PVM guest): KVM then
 * emulates every guest instruction, fails on the first SSE one ("KVM internal
 * error", QEMU stops the guest) and would be far slower than TCG anyway.
 *
 * The probe enables SSE as lunik's kernel does, executes SSE instructions and
 * a loop of ten million turns (milliseconds natively, seconds when emulated),
 * then exits with status 0 through isa-debug-exit (QEMU's exit code 3).
 */
	.section .note.pvh, "a"
	.p2align 2
	.long 4            /* name size: "Xen\0" */
	.long 4            /* desc size */
	.long 18           /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long probe_start

	.text
	.code32
	.globl probe_start
probe_start:
	mov %cr0, %eax
	and $~(1 << 2), %eax       /* CR0.EM off: no x87 emulation */
	or $(1 << 1), %eax         /* CR0.MP */
	mov %eax, %cr0
	mov %cr4, %eax
	or $(3 << 9), %eax         /* CR4.OSFXSR, OSXMMEXCPT */
	mov %eax, %cr4
	ldmxcsr mxcsr
	movsd one, %xmm0
	addsd %xmm0, %xmm0         /* 2.0 */
	ucomisd two, %xmm0
	jne fail
	mov $10000000, %ecx
1:	dec %ecx
	jnz 1b
	mov $1, %eax               /* exit status 0 */
	jmp out
fail:	mov $2, %eax               /* exit status 1 */
out:	mov $0xf4, %dx
	outl %eax, %dx
2:	cli
	hlt
	jmp 2b

	.p2align 3
one:	.double 1.0
two:	.double 2.0
mxcsr:	.long 0x1f80
