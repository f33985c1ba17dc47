/*
 * internal.h -- declarations shared between runtime/ files only.
 */
#ifndef LUNIK_RUNTIME_INTERNAL_H
#define LUNIK_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lua_State;

/* args.c: fills the C library's environ from the command line's key=value words. */
void rt_args_to_environ(void);

/* lua_start.c: creates the Lua state and runs the entry script as the
 * service. Returns the exit status: 0 when it returns, 1 when an error
 * escapes it (traceback printed). */
int lua_start_run(void);

/* net_stack.c: brings lwIP and the interfaces up (waiting for DHCP when
 * no address is given) and registers the network's poller. */
void net_stack_init(void);

/* sched.c: the loop's view of the tasks. */
void sched_init(struct lua_State *L);
bool sched_runnable(void);	     /* a task is ready to run */
bool sched_idle(void);		     /* no task left, nothing held */
uint64_t sched_next_deadline(void);  /* the earliest, or UINT64_MAX */
int sched_exit_status(void);	     /* non-zero once main.lua failed */
void sched_round(uint64_t now);	     /* wake the expired, run the ready */
void rt_unwait(void);		     /* undo rt_wait (coro.c) */
/* The coroutine running now (a task's, or one nested in it), for the
 * watchdog; coro.c keeps it up to date around the resumes it makes. */
extern struct lua_State *rt_running_L;
/* Whether (L) is main.lua's own coroutine (task 1), at its top level. */
bool rt_is_main_task(struct lua_State *L);
extern char rt_wait_token;	     /* what blocking calls yield */

/* coro.c: coroutine.resume and coroutine.wrap that pass a blocking yield
 * of a coroutine inside a task on to the loop. */
void coro_init(struct lua_State *L);

/* shutdown.c: the power button starts the graceful shutdown. */
void shutdown_init(struct lua_State *L);

/* lua_random.c: seeds math.random from the entropy source. */
void lua_random_init(struct lua_State *L);

#endif
