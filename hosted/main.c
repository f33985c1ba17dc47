/*
 * main.c -- the hosted platform's start: the whole runtime as a Linux
 * process (docs/hosted.md). Reads the options `lunik run --hosted` passes
 * (the executable can be run by hand, or under gdb --args, the same way),
 * opens every device before anything starts, then calls runtime_main()
 * as the guest's kernel does; and the rest of the seam that is a line or
 * two here: the console, the command line, entropy, the power button,
 * exit and panic.
 *
 *   APP [--mem SIZE] [--disk FILE[:ro]]... [--net user|tap:NAME|none]
 *       [-p HOSTPORT:GUESTPORT[/udp]]... [-- key=value ...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "hosted.h"

#define MIN_MEM (8u << 20)
#define CMDLINE_MAX 4096

static char cmdline[CMDLINE_MAX];
static volatile sig_atomic_t presses, signals;

void hosted_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("lunik: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void plat_console_write(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

const char *plat_cmdline(void)
{
	return cmdline;
}

long plat_random(void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom((char *)buf + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EIO;
		done += (size_t)n;
	}
	return (long)len;
}

/* SIGTERM and SIGINT are the power button: the first of them starts the
 * graceful shutdown (runtime/shutdown.c), the second ends the process
 * at once, as `lunik run` stops QEMU on a second Ctrl-C. */
static void on_stop(int sig)
{
	if (signals++) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	presses++;
	clock_event();
}

bool plat_power_button(void)
{
	if (!presses)
		return false;
	presses--;
	return true;
}

void plat_exit(int status)
{
	if (status < 0)
		status = 0;
	if (status > 126)
		status = 126;
	_exit(status);
}

void plat_panic(const char *file, int line, const char *msg)
{
	void *frames[64];
	char head[512];
	int n = snprintf(head, sizeof(head), "\nPANIC at %s:%d: %s\n", file,
			 line, msg ? msg : "");

	/* snprintf of a short line neither mallocs nor prints: the report
	 * goes out with write(2) and backtrace_symbols_fd alone */
	if (n > 0)
		plat_console_write(head, (size_t)n < sizeof(head) ? (size_t)n
								   : sizeof(head) - 1);
	n = backtrace(frames, (int)ARRAY_SIZE(frames));
	backtrace_symbols_fd(frames, n, STDOUT_FILENO);
	_exit(PLAT_EXIT_PANIC);
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': n <<= 10; end++; break;
	case 'm': case 'M': n <<= 20; end++; break;
	case 'g': case 'G': n <<= 30; end++; break;
	}
	if (end == s || *end || n < MIN_MEM)
		hosted_fail("--mem %s: give a size of at least %uM, e.g. 128M",
			    s, MIN_MEM >> 20);
	return (size_t)n;
}

/* Appends boot argument (w) to the command line, quoting a value with
 * spaces as the kernel's parser reads it (runtime/args.c). */
static void add_word(const char *w)
{
	size_t len = strlen(cmdline), room = sizeof(cmdline) - len;
	const char *eq = strchr(w, '=');
	int n;

	if (strchr(w, ' ') && !strchr(w, '"'))
		n = eq ? snprintf(cmdline + len, room, "%s%.*s\"%s\"",
				  len ? " " : "", (int)(eq - w + 1), w, eq + 1)
		       : snprintf(cmdline + len, room, "%s\"%s\"",
				  len ? " " : "", w);
	else
		n = snprintf(cmdline + len, room, "%s%s", len ? " " : "", w);
	if (n < 0 || (size_t)n >= room)
		hosted_fail("the boot arguments are longer than %d bytes",
			    CMDLINE_MAX - 1);
}

static void parse_options(int argc, char **argv)
{
	size_t mem = 128u << 20;
	int i;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(o, "--mem") && strcmp(o, "--disk") &&
		    strcmp(o, "--net") && strcmp(o, "-p"))
			hosted_fail("%s: unknown option (expected --mem, --disk, "
				    "--net, -p, then -- and boot arguments)", o);
		if (!v)
			hosted_fail("%s needs a value", o);
		i++;
		if (strcmp(o, "--mem") == 0)
			mem = parse_size(v);
		else if (strcmp(o, "--disk") == 0)
			blk_add(v);
		else if (strcmp(o, "--net") == 0)
			nic_configure(v);
		else
			nic_forward(v);
	}
	for (; i < argc; i++)
		add_word(argv[i]);
	heap_init(mem);
}

static void power_init(void)
{
	struct sigaction sa = { .sa_handler = on_stop };
	void *warm[1];

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* slirp's sockets: EPIPE instead */
	backtrace(warm, 1); /* loads libgcc now, not in a panic */
}

int hosted_main(int argc, char **argv)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* The console takes no input, as the guest's: io.read sees end of
	 * file; output goes out line by line, as the serial port's does. */
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_init();
	parse_options(argc, argv);
	nic_init();
	power_init();
	clock_phase("devices");
	plat_exit(runtime_main());
}
