/*
 * console.c -- the console: the 16550 UART at COM1 (I/O port 0x3f8),
 * polled output only, no interrupts (PC16550D datasheet, National
 * Semiconductor, 1995, section 8), and kprintf, the kernel's own tiny
 * printf for boot messages and panic reports.
 *
 * Under a hypervisor every port access is an exit, so output waits for an
 * empty transmitter once per FIFO's worth of bytes, not once per byte.
 * Bytes go out as given: QEMU's stdio backend keeps the host terminal's
 * output processing on, so "\n" needs no "\r".
 *
 * kprintf formats into a small buffer on its stack and hands that to the
 * UART, so it needs neither newlib nor the heap and works in trap handlers
 * and panics; it knows integers (decimal and hex), strings and characters,
 * which is all the kernel prints.
 */
#include <stdarg.h>

#include "kernel.h"

#define COM1 0x3f8
#define THR 0 /* transmit holding register (DLAB 0) */
#define DLL 0 /* divisor latch, low and high bytes (DLAB 1) */
#define DLM 1
#define IER 1 /* interrupt enable */
#define FCR 2 /* FIFO control */
#define LCR 3 /* line control */
#define MCR 4 /* modem control */
#define LSR 5 /* line status */

#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define FCR_ENABLE_CLEAR 0x07 /* enable FIFOs, clear both */
#define MCR_DTR_RTS 0x03
#define LSR_THRE 0x20 /* transmitter FIFO empty */

#define FIFO_DEPTH 16

void console_init(void)
{
	outb(COM1 + IER, 0);
	outb(COM1 + LCR, LCR_DLAB);
	outb(COM1 + DLL, 1); /* 115200 baud: 1.8432 MHz / 16 / 1 */
	outb(COM1 + DLM, 0);
	outb(COM1 + LCR, LCR_8N1);
	outb(COM1 + FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + MCR, MCR_DTR_RTS);
}

/* Waits for the transmitter to empty, but not forever: with no UART the
 * port reads 0xff (THRE set), and a stuck one must not hang a panic. */
static void wait_empty(void)
{
	for (int i = 0; i < 1000000; i++)
		if (inb(COM1 + LSR) & LSR_THRE)
			return;
}

void plat_console_write(const char *buf, size_t len)
{
	while (len) {
		size_t n = len < FIFO_DEPTH ? len : FIFO_DEPTH;

		wait_empty();
		len -= n;
		while (n--)
			outb(COM1 + THR, (uint8_t)*buf++);
	}
}

struct out {
	char buf[128];
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len == sizeof(o->buf)) {
		plat_console_write(o->buf, o->len);
		o->len = 0;
	}
	o->buf[o->len++] = c;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

/* Writes (v) in (base) with a minus sign if (neg), padded to (width). */
static void number(struct out *o, uint64_t v, unsigned base, bool neg,
		   int width, char padc, bool left)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	width -= n + neg;
	if (!left && padc == ' ')
		pad(o, ' ', width);
	if (neg)
		put(o, '-');
	if (!left && padc == '0')
		pad(o, '0', width);
	while (n)
		put(o, digits[--n]);
	if (left)
		pad(o, ' ', width);
}

static void string(struct out *o, const char *s, int width, bool left)
{
	int n = 0;

	if (!s)
		s = "(null)";
	while (s[n])
		n++;
	if (!left)
		pad(o, ' ', width - n);
	for (int i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		pad(o, ' ', width - n);
}

/* Reads an integer argument of (size): 0 int, 1 long, 2 long long (and
 * size_t, the same width on x86-64). */
static uint64_t arg(va_list *ap, int size, bool is_signed, bool *neg)
{
	int64_t s;

	*neg = false;
	if (!is_signed) {
		if (size == 0)
			return va_arg(*ap, unsigned int);
		return size == 1 ? va_arg(*ap, unsigned long)
				 : va_arg(*ap, unsigned long long);
	}
	if (size == 0)
		s = va_arg(*ap, int);
	else
		s = size == 1 ? va_arg(*ap, long) : va_arg(*ap, long long);
	if (s < 0) {
		*neg = true;
		return -(uint64_t)s;
	}
	return (uint64_t)s;
}

void kprintf(const char *fmt, ...)
{
	struct out o; /* only len needs a value: no memset of the buffer */
	va_list ap;

	o.len = 0;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		char padc = ' ';
		bool left = false, neg;
		int width = 0, size = 0;
		uint64_t v;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		for (fmt++; *fmt == '0' || *fmt == '-'; fmt++)
			*fmt == '0' ? (padc = '0') : (left = true);
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			size = *fmt == 'z' ? 2 : size + 1;
		switch (*fmt) {
		case 'd':
		case 'i':
			v = arg(&ap, size, true, &neg);
			number(&o, v, 10, neg, width, padc, left);
			break;
		case 'u':
		case 'x':
			v = arg(&ap, size, false, &neg);
			number(&o, v, *fmt == 'u' ? 10 : 16, false, width, padc,
			       left);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			number(&o, (uintptr_t)va_arg(ap, void *), 16, false, width,
			       padc, left);
			break;
		case 's':
			string(&o, va_arg(ap, const char *), width, left);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown, or the format ended early: show it as is */
			put(&o, '%');
			if (!*fmt)
				goto done;
			put(&o, *fmt);
		}
	}
done:
	va_end(ap);
	plat_console_write(o.buf, o.len);
}
