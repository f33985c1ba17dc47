/*
 * floor.S -- the benchmark floor: an empty PVH kernel that exits at once
 * with status 0 through isa-debug-exit (lunik's encoding: status + 1), so
 * QEMU's start-up and tear-down can be measured alone. Also used by
 * tools/lunik to probe which -cpu model KVM accepts on this host.
 */
	.section .note.pvh, "a"
	.p2align 2
	.long 4            /* name size: "Xen\0" */
	.long 4            /* desc size */
	.long 18           /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long floor_start

	.text
	.code32
	.globl floor_start
floor_start:
	mov $1, %eax       /* exit status 0 */
	mov $0xf4, %dx
	outl %eax, %dx
1:	cli
	hlt
	jmp 1b
