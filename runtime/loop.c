/*
 * loop.c -- waiting. Until the event loop arrives (tasks, sockets), a wait
 * halts the CPU through the platform until the deadline: no spinning.
 */
#include "runtime.h"

void rt_sleep_until(uint64_t deadline_ns)
{
	while (plat_monotonic_ns() < deadline_ns)
		plat_wait(deadline_ns);
}
