/*
 * loop.c -- the event loop: poll the devices (their pollers wake the tasks
 * whose I/O is ready), wake the tasks whose deadlines passed, resume the
 * ready ones, and halt the CPU until the next deadline or interrupt when
 * nothing is ready. It ends when no task is left and nothing holds it.
 *
 * Every halt goes through rt_halt(), which counts the time the CPU spent
 * halted: what is left of the uptime is the CPU time (rt_cpu_ns, sys.cpu,
 * process_cpu_seconds_total, the status line's "cpu").
 */
#include <stdio.h>

#include <lua.h>

#include "internal.h"
#include "runtime.h"

#define MAX_POLLERS 8

static struct {
	void (*poll)(void);
	uint64_t (*deadline)(void);
} pollers[MAX_POLLERS];
static unsigned npollers;
static uint64_t halted_ns;

void rt_halt(uint64_t deadline_ns)
{
	uint64_t t0 = plat_monotonic_ns();

	plat_wait(deadline_ns);
	halted_ns += plat_monotonic_ns() - t0;
}

uint64_t rt_cpu_ns(void)
{
	return plat_monotonic_ns() - halted_ns;
}

void rt_add_poller(void (*poll)(void), uint64_t (*deadline)(void))
{
	if (npollers == MAX_POLLERS)
		plat_panic(__FILE__, __LINE__, "too many pollers");
	pollers[npollers].poll = poll;
	pollers[npollers].deadline = deadline;
	npollers++;
}

static void poll_devices(void)
{
	for (unsigned i = 0; i < npollers; i++)
		pollers[i].poll();
}

static uint64_t next_deadline(void)
{
	uint64_t d = sched_next_deadline();

	for (unsigned i = 0; i < npollers; i++) {
		if (pollers[i].deadline) {
			uint64_t p = pollers[i].deadline();

			if (p < d)
				d = p;
		}
	}
	return d;
}

int rt_loop_run(lua_State *L)
{
	for (;;) {
		poll_devices();
		sched_round(plat_monotonic_ns());
		if (sched_exit_status())
			return sched_exit_status();
		if (sched_idle())
			return 0;
		if (!sched_runnable())
			rt_halt(next_deadline());
	}
}
