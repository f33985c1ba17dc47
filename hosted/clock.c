/*
 * clock.c -- time on the hosted platform: the clocks (clock_gettime), the
 * one alarm (a POSIX timer whose signal runs the alarm's function, as
 * the guest's LAPIC interrupt does), the boot phases, and plat_wait, which
 * sleeps in poll(2) on the network's descriptors and a wake pipe until the
 * deadline or a device event.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hosted.h"

#define NS 1000000000ull
#define MAX_FDS 256
#define PHASES_MAX 8
/* Not SIGALRM, which libFuzzer's -timeout uses (tests/fuzz/stack.h). */
#define ALARM_SIGNAL (SIGRTMIN + 2)

static uint64_t start_ns;
static int wake_fd[2] = { -1, -1 };
static volatile sig_atomic_t event;
static timer_t alarm_timer;
static void (*volatile alarm_fn)(void);
static struct plat_phase phases[PHASES_MAX];
static size_t nphases;

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

uint64_t plat_monotonic_ns(void)
{
	return now_ns(CLOCK_MONOTONIC) - start_ns;
}

int64_t plat_wall_ns(void)
{
	return (int64_t)now_ns(CLOCK_REALTIME);
}

void clock_event(void)
{
	int saved = errno;

	event = 1;
	if (write(wake_fd[1], "", 1) < 0) {
		/* the pipe is full: a wake is pending anyway */
	}
	errno = saved;
}

static void on_alarm(int sig)
{
	void (*fn)(void) = alarm_fn;

	if (fn) {
		alarm_fn = NULL;
		fn();
	}
	clock_event();
}

void clock_phase(const char *name)
{
	if (nphases < PHASES_MAX) {
		phases[nphases].name = name;
		phases[nphases++].ns = plat_monotonic_ns();
	}
}

void clock_init(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = ALARM_SIGNAL };
	struct sigaction sa = { .sa_handler = on_alarm,
				.sa_flags = SA_RESTART };

	start_ns = now_ns(CLOCK_MONOTONIC);
	phases[nphases++] = (struct plat_phase){ "exec", 0 };
	if (pipe2(wake_fd, O_NONBLOCK | O_CLOEXEC) < 0)
		hosted_fail("cannot make a pipe: %s", strerror(errno));
	sigemptyset(&sa.sa_mask);
	sigaction(ALARM_SIGNAL, &sa, NULL);
	if (timer_create(CLOCK_MONOTONIC, &sev, &alarm_timer) < 0)
		hosted_fail("cannot make a timer: %s", strerror(errno));
}

size_t plat_boot_phases(const struct plat_phase **out)
{
	*out = phases;
	return nphases;
}

void plat_alarm(uint64_t deadline_ns, void (*fn)(void))
{
	struct itimerspec its = { 0 };
	uint64_t at;

	alarm_fn = NULL;
	if (deadline_ns != UINT64_MAX) {
		/* an absolute time on CLOCK_MONOTONIC, at least 1 ns so
		 * that a deadline already past still fires */
		at = start_ns + deadline_ns;
		its.it_value.tv_sec = (time_t)(at / NS);
		its.it_value.tv_nsec = (long)(at % NS);
		if (!at)
			its.it_value.tv_nsec = 1;
		alarm_fn = fn;
	}
	timer_settime(alarm_timer, TIMER_ABSTIME, &its, NULL);
}

void plat_wait(uint64_t deadline_ns)
{
	struct pollfd fds[MAX_FDS];
	char drain[64];
	int n = 0, timeout_ms = -1, r;
	uint64_t now = plat_monotonic_ns();

	if (event || nic_pending() || blk_pending()) {
		event = 0;
		return;
	}
	if (deadline_ns != UINT64_MAX) {
		if (now >= deadline_ns)
			return;
		/* poll's milliseconds, rounded up: never early by design */
		uint64_t ms = (deadline_ns - now + 999999) / 1000000;
		timeout_ms = ms > 3600000 ? 3600000 : (int)ms;
	}
	fds[n++] = (struct pollfd){ .fd = wake_fd[0], .events = POLLIN };
	nic_poll_fill(fds, &n, MAX_FDS, &timeout_ms);
	r = poll(fds, (nfds_t)n, timeout_ms);
	if (fds[0].revents & POLLIN)
		while (read(wake_fd[0], drain, sizeof(drain)) > 0)
			;
	nic_poll_done(fds, n, r < 0 && errno != EINTR);
	event = 0;
}
