/*
 * panic.c -- the last words of the machine: a report on the serial console,
 * then plat_exit(PLAT_EXIT_PANIC). Used for CPU exceptions (panic_trap,
 * from trap.c) and for plat_panic() (asserts, abort(), Lua's at-panic).
 *
 * A report names what happened (for a page fault, the error code in words
 * and the region of the faulting address, which may be the whole story:
 * "stack overflow", "null pointer dereference"), dumps the registers and
 * walks the frame-pointer chain (everything is built with
 * -fno-omit-frame-pointer), symbolised with the image's .ksyms table. It
 * uses only kprintf and the console: the heap, newlib and the interrupted
 * code's state are all suspect.
 */
#include "kernel.h"
#include "ksyms.h"

#define BACKTRACE_MAX 32

/* SDM vol. 3A, table 6-1. */
static const char *const exception_names[32] = {
	"divide error", "debug", "non-maskable interrupt", "breakpoint",
	"overflow", "bound range exceeded", "invalid opcode",
	"device not available", "double fault", "coprocessor segment overrun",
	"invalid TSS", "segment not present", "stack-segment fault",
	"general protection fault", "page fault", "reserved (15)",
	"x87 floating-point error", "alignment check", "machine check",
	"SIMD floating-point error", "virtualization exception",
	"control protection exception", "reserved (22)", "reserved (23)",
	"reserved (24)", "reserved (25)", "reserved (26)", "reserved (27)",
	"hypervisor injection exception", "VMM communication exception",
	"security exception", "reserved (31)",
};

static const char *const exception_mnemonics[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "",
	"#TS", "#NP", "#SS", "#GP", "#PF", "", "#MF", "#AC", "#MC", "#XM",
	"#VE", "#CP", "", "", "", "", "", "", "#HV", "#VC", "#SX", "",
};

/* Page-fault error code bits (SDM vol. 3A, 4.7). */
#define PF_P 0x1     /* the page was present: a protection violation */
#define PF_W 0x2     /* a write */
#define PF_RSVD 0x8  /* a reserved bit was set in a paging entry */
#define PF_I 0x10    /* an instruction fetch */

static int panicking;

static void print_symbol(uintptr_t addr, bool return_address)
{
	const char *name;
	uintptr_t off;

	/* A return address may point just past the end of a function that
	 * ends in a call to a noreturn one: look up the call itself. */
	if (ksyms_lookup(return_address ? addr - 1 : addr, &name, &off)) {
		if (return_address)
			off++;
		kprintf(" %s+0x%lx", name, (unsigned long)off);
	}
}

static void print_frame(int n, uintptr_t addr, bool return_address)
{
	kprintf("  #%d 0x%016lx", n, (unsigned long)addr);
	print_symbol(addr, return_address);
	kprintf("\n");
}

/* Walks the frame-pointer chain from (rbp): each frame holds the caller's
 * rbp, then the return address. Stops at a NULL rbp, at a frame outside
 * the stack that holds the first one, at a frame that does not move up
 * the stack, or after BACKTRACE_MAX frames. */
static void backtrace(int n, uintptr_t rbp)
{
	uintptr_t lo, hi;

	if (!mmu_stack_of(rbp, &lo, &hi))
		return;
	while (rbp && n < BACKTRACE_MAX) {
		const uintptr_t *frame = (const uintptr_t *)rbp;

		if (rbp < lo || rbp > hi - 16 || (rbp & 7))
			return;
		if (frame[1] == 0)
			return;
		print_frame(n++, frame[1], true);
		if (frame[0] <= rbp)
			return;
		rbp = frame[0];
	}
	if (rbp && n == BACKTRACE_MAX)
		kprintf("  (more frames not shown)\n");
}

static void begin(void)
{
	cli();
	if (panicking++) {
		/* A fault while reporting: say so and stop at once. */
		kprintf("\nlunik: panic: nested panic, giving up\n");
		plat_exit(PLAT_EXIT_PANIC);
	}
}

/* Words for a page fault's error code. */
static const char *page_fault_cause(uint64_t error)
{
	if (error & PF_RSVD)
		return "reserved bit set in a page-table entry";
	if (!(error & PF_P)) {
		if (error & PF_I)
			return "instruction fetch from an unmapped page";
		return error & PF_W ? "write to an unmapped page"
				    : "read from an unmapped page";
	}
	if (error & PF_I)
		return "instruction fetch from a no-execute page";
	if (error & PF_W)
		return "write to a read-only page";
	return "read from a protected page";
}

static void print_cause(const struct trap_frame *f, uint64_t cr2)
{
	const char *region;

	if (f->vector != 14)
		return;
	region = mmu_region(cr2, NULL);
	kprintf("  %s at 0x%lx", page_fault_cause(f->error), (unsigned long)cr2);
	if (region)
		kprintf(" (%s)", region);
	kprintf("\n");
}

static void print_registers(const struct trap_frame *f, uint64_t cr2)
{
	kprintf("  rip    0x%016lx", (unsigned long)f->rip);
	print_symbol(f->rip, false);
	kprintf("\n  error  0x%016lx  cr2 0x%016lx  rflags 0x%016lx\n",
		(unsigned long)f->error, (unsigned long)cr2,
		(unsigned long)f->rflags);
	kprintf("  rax 0x%016lx  rbx 0x%016lx  rcx 0x%016lx\n"
		"  rdx 0x%016lx  rsi 0x%016lx  rdi 0x%016lx\n"
		"  rbp 0x%016lx  rsp 0x%016lx  r8  0x%016lx\n"
		"  r9  0x%016lx  r10 0x%016lx  r11 0x%016lx\n"
		"  r12 0x%016lx  r13 0x%016lx  r14 0x%016lx\n"
		"  r15 0x%016lx  cs  0x%04lx  ss  0x%04lx\n",
		f->rax, f->rbx, f->rcx, f->rdx, f->rsi, f->rdi, f->rbp, f->rsp,
		f->r8, f->r9, f->r10, f->r11, f->r12, f->r13, f->r14, f->r15,
		f->cs, f->ss);
}

static bool in_text(uintptr_t addr)
{
	return addr >= (uintptr_t)__text_start && addr < (uintptr_t)__text_end;
}

/* Where the return address into the caller of the faulting function is,
 * when the frame-pointer chain does not have it yet; 0 if it does. The
 * chain misses it when the function has pushed no frame: a fault at a
 * rip outside text (a call through a wild pointer, or into no-execute
 * memory), a fault on the first instruction ("push %rbp") or the second
 * one, or in a leaf function gcc built without a frame. */
static uintptr_t caller_slot(const struct trap_frame *f)
{
	const char *name;
	uintptr_t off;
	const uint8_t *start;

	if ((f->vector == 14 && (f->error & PF_I)) || !in_text(f->rip))
		return f->rsp;
	if (!ksyms_lookup(f->rip, &name, &off))
		return 0;
	start = (const uint8_t *)(f->rip - off);
	if (start[0] != 0x55) /* no "push %rbp": a frameless leaf */
		return f->rsp;
	if (off == 0)
		return f->rsp;
	if (off == 1) /* pushed rbp, not yet "mov %rsp, %rbp" */
		return f->rsp + 8;
	return 0;
}

void panic_trap(const struct trap_frame *f)
{
	uint64_t cr2 = read_cr2();
	unsigned v = (unsigned)f->vector;
	const char *diagnosis = NULL;
	uintptr_t lo, hi, slot;
	int n = 0;

	begin();
	if (v == 14)
		mmu_region(cr2, &diagnosis);
	if (v < 32)
		kprintf("\nlunik: panic: %s (vector %u, %s)", exception_names[v], v,
			exception_mnemonics[v]);
	else
		kprintf("\nlunik: panic: unexpected interrupt (vector %u)", v);
	if (diagnosis) /* "stack overflow", "null pointer dereference" */
		kprintf(": %s", diagnosis);
	kprintf("\n");
	print_cause(f, cr2);
	print_registers(f, cr2);

	kprintf("backtrace:\n");
	print_frame(n++, f->rip, false);
	slot = caller_slot(f);
	if (slot && mmu_stack_of(slot, &lo, &hi) && slot + 8 <= hi &&
	    !(slot & 7) && in_text(*(const uintptr_t *)slot))
		print_frame(n++, *(const uintptr_t *)slot, true);
	backtrace(n, f->rbp);
	plat_exit(PLAT_EXIT_PANIC);
}

void plat_panic(const char *file, int line, const char *msg)
{
	begin();
	kprintf("\nlunik: panic: %s:%d: %s\nbacktrace:\n", file ? file : "?",
		line, msg ? msg : "(no message)");
	backtrace(0, (uintptr_t)__builtin_frame_address(0));
	plat_exit(PLAT_EXIT_PANIC);
}
