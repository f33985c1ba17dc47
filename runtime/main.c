/*
 * main.c -- the runtime's start: what runs between the kernel handing over
 * and the app's main.lua, in boot order, and the boot timeline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "runtime.h"

struct rom rt_rom;

#define MAX_PHASES 32

static struct plat_phase phases[MAX_PHASES];
static size_t nphases;

void rt_mark(const char *name)
{
	if (nphases < MAX_PHASES) {
		phases[nphases].name = name;
		phases[nphases].ns = plat_monotonic_ns();
		nphases++;
	}
}

size_t rt_timeline(struct plat_phase *out, size_t max)
{
	const struct plat_phase *kp;
	size_t nk = plat_boot_phases(&kp), n = 0;

	for (size_t i = 0; i < nk; i++, n++)
		if (n < max)
			out[n] = kp[i];
	for (size_t i = 0; i < nphases; i++, n++)
		if (n < max)
			out[n] = phases[i];
	return n;
}

int runtime_main(void)
{
	const void *rom;
	size_t rom_size;
	int err, status;

	plat_rom(&rom, &rom_size);
	err = rom_open(&rt_rom, rom, rom_size);
	if (err) {
		fprintf(stderr, "lunik: cannot mount the image's ROM: %s\n",
			rom_strerror(err));
		return 1;
	}
	rt_mark("rom");
	rt_args_to_environ();
	net_stack_init();
	rt_mark("net");
	status = lua_start_run();
	fflush(NULL);
	return status;
}
