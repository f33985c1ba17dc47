/*
 * sched.c -- tasks: Lua coroutines resumed by the event loop (loop.c).
 *
 * A task is a full userdata ("task.Task") holding struct rt_task; its user
 * values are the coroutine and, once it has failed, its error message. While
 * a task is alive the registry holds it, so a task nobody references still
 * runs to its end. A waiting task sits on one wait queue (rt_wait), or on
 * several (rt_wait_many: socket.select), through waiter nodes, and, when it
 * has a deadline, in a binary min-heap of deadlines; waking takes it off
 * all of them and appends it to the ready list.
 *
 * Blocking calls yield with a private token as the only value. Tasks are
 * resumed here, so a yield that reaches us without the token is a plain
 * coroutine.yield() at a task's top level: the task goes back in the ready
 * list. Coroutines the app creates itself are resumed through
 * coro.c's coroutine.resume, which passes the token on upwards.
 *
 * The watchdog: there is no preemption, so a task that computes without
 * ever yielding (while true do end in a handler) would hold the CPU and
 * every other task for good. Each resume notes when the task started; a
 * platform alarm (plat_alarm), armed lazily and never re-programmed on
 * the busy path, checks at most once per limit whether the task running
 * then has run longer than the limit, and if so sets a Lua hook on the
 * coroutine running at that moment that raises an error there: the task
 * (or the pcall around the handler) gets it, and the service goes on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "internal.h"
#include "runtime.h"

#define TASK_MT "task.Task"
#define UV_THREAD 1
#define UV_ERROR 2
#define UV_OWNED 3 /* weak-keyed set of what the task owns */

enum { TASK_NEW, TASK_READY, TASK_RUNNING, TASK_WAITING, TASK_DONE };

/* A task's place in one wait queue. */
struct rt_waiter {
	struct rt_task *task;
	struct rt_waitq *q;	/* NULL when on none */
	struct rt_waiter *prev, *next;
};

struct rt_task {
	lua_State *co;
	int ref;		/* registry reference while alive */
	int state;
	unsigned id;
	int nargs;		/* for the first resume */
	int nres;		/* results on co's stack once done */
	bool failed;
	bool daemon;		/* does not keep the machine running */
	struct rt_task *rnext;	/* the ready list */
	struct rt_waiter self;	/* its place in the queue of rt_wait */
	struct rt_waiter *many;	/* rt_wait_many's places (malloc'd) */
	size_t nmany;
	uint64_t deadline;
	size_t heap_idx;	/* in the deadline heap, or NO_HEAP */
	struct rt_waitq joiners;
};

#define NO_HEAP ((size_t)-1)

char rt_wait_token; /* its address marks a blocking yield */

static lua_State *main_L;
static struct rt_task *current;
lua_State *rt_running_L; /* the coroutine running now, nested ones included */
static uint64_t run_started;	/* when current was resumed */
static uint64_t watchdog_ns = 5000000000ull;
static bool alarm_armed;
static struct rt_task *ready_head, *ready_tail;
static struct rt_task **heap;
static size_t heap_len, heap_cap;
static unsigned live, next_id = 1, holds;
static unsigned alive; /* tasks not ended, daemons included */
static int exit_status;

/* ---- the deadline heap */

static void heap_swap(size_t a, size_t b)
{
	struct rt_task *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_idx = a;
	heap[b]->heap_idx = b;
}

static void heap_up(size_t i)
{
	while (i > 0 && heap[(i - 1) / 2]->deadline > heap[i]->deadline) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < heap_len && heap[l]->deadline < heap[m]->deadline)
			m = l;
		if (r < heap_len && heap[r]->deadline < heap[m]->deadline)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

/* Returns false when the heap cannot grow (out of memory). */
static bool heap_add(struct rt_task *t)
{
	if (heap_len == heap_cap) {
		size_t cap = heap_cap ? heap_cap * 2 : 64;
		struct rt_task **h = realloc(heap, cap * sizeof(*h));

		if (!h)
			return false;
		heap = h;
		heap_cap = cap;
	}
	heap[heap_len] = t;
	t->heap_idx = heap_len++;
	heap_up(t->heap_idx);
	return true;
}

static void heap_remove(struct rt_task *t)
{
	size_t i = t->heap_idx;

	if (i == NO_HEAP)
		return;
	t->heap_idx = NO_HEAP;
	if (i != --heap_len) {
		heap[i] = heap[heap_len];
		heap[i]->heap_idx = i;
		heap_up(i);
		heap_down(heap[i]->heap_idx);
	}
}

/* ---- wait queues and the ready list */

static void node_add(struct rt_waiter *w, struct rt_task *t,
		     struct rt_waitq *q)
{
	w->task = t;
	w->q = q;
	w->prev = q->tail;
	w->next = NULL;
	if (q->tail)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
}

static void node_remove(struct rt_waiter *w)
{
	struct rt_waitq *q = w->q;

	if (!q)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		q->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		q->tail = w->prev;
	w->q = NULL;
	w->prev = w->next = NULL;
}

/* Takes (t) off every queue it waits on. */
static void waitq_remove(struct rt_task *t)
{
	node_remove(&t->self);
	for (size_t i = 0; i < t->nmany; i++)
		node_remove(&t->many[i]);
	free(t->many);
	t->many = NULL;
	t->nmany = 0;
}

static void make_ready(struct rt_task *t)
{
	waitq_remove(t);
	heap_remove(t);
	t->state = TASK_READY;
	t->rnext = NULL;
	if (ready_tail)
		ready_tail->rnext = t;
	else
		ready_head = t;
	ready_tail = t;
}

/* A task waiting on several queues may not take what it was woken for
 * (select only looks), so it does not count as the one: the wake goes on
 * to the first task that waits on this queue alone. */
void rt_wake_one(struct rt_waitq *q)
{
	while (q->head) {
		struct rt_task *t = q->head->task;
		bool alone = t->many == NULL;

		make_ready(t);
		if (alone)
			return;
	}
}

void rt_wake_all(struct rt_waitq *q)
{
	while (q->head)
		make_ready(q->head->task);
}

bool rt_waitq_empty(const struct rt_waitq *q)
{
	return q->head == NULL;
}

struct rt_task *rt_current(void)
{
	return current;
}

bool rt_is_main_task(lua_State *L)
{
	return current && current->id == 1 && current->co == L;
}

unsigned rt_task_id(const struct rt_task *t)
{
	return t->id;
}

void rt_hold(void)
{
	holds++;
}

void rt_release(void)
{
	if (holds)
		holds--;
}

uint64_t rt_check_deadline(lua_State *L, int idx)
{
	lua_Number s;

	if (lua_isnoneornil(L, idx))
		return UINT64_MAX;
	s = luaL_checknumber(L, idx);
	luaL_argcheck(L, s >= 0 && s < 1e9, idx,
		      "timeout must be from 0 to 1e9 seconds, or nil");
	return plat_monotonic_ns() + (uint64_t)(s * 1e9);
}

/* Raises the error of a blocking call where (L) cannot yield. */
static int cannot_block(lua_State *L)
{
	return luaL_error(L, "cannot block here: %s",
			  current ? "Lua cannot yield inside require, a "
				    "metamethod, table.sort, a string.gsub "
				    "callback or __gc"
				  : "not in a task");
}

/* Puts the running task in the deadline heap (unless UINT64_MAX) and
 * yields; its queues are set already. */
static int suspend(lua_State *L, uint64_t deadline_ns, intptr_t ctx,
		   int (*k)(lua_State *, int, intptr_t))
{
	struct rt_task *t = current;

	if (deadline_ns != UINT64_MAX) {
		t->deadline = deadline_ns;
		if (!heap_add(t)) {
			waitq_remove(t);
			return luaL_error(L, "not enough memory");
		}
	}
	t->state = TASK_WAITING;
	lua_pushlightuserdata(L, &rt_wait_token);
	return lua_yieldk(L, 1, ctx, k);
}

int rt_wait(lua_State *L, struct rt_waitq *q, uint64_t deadline_ns,
	    intptr_t ctx, int (*k)(lua_State *, int, intptr_t))
{
	if (!current || !lua_isyieldable(L))
		return cannot_block(L);
	if (q)
		node_add(&current->self, current, q);
	return suspend(L, deadline_ns, ctx, k);
}

int rt_wait_many(lua_State *L, struct rt_waitq *const *qs, size_t n,
		 uint64_t deadline_ns, intptr_t ctx,
		 int (*k)(lua_State *, int, intptr_t))
{
	struct rt_task *t = current;

	if (!t || !lua_isyieldable(L))
		return cannot_block(L);
	t->many = calloc(n ? n : 1, sizeof(*t->many));
	if (!t->many)
		return luaL_error(L, "not enough memory");
	t->nmany = n;
	for (size_t i = 0; i < n; i++)
		if (qs[i])
			node_add(&t->many[i], t, qs[i]);
	return suspend(L, deadline_ns, ctx, k);
}

/* Undoes rt_wait for the running task, when the yield cannot reach the
 * loop after all (coro.c). */
void rt_unwait(void)
{
	if (current && current->state == TASK_WAITING) {
		waitq_remove(current);
		heap_remove(current);
		current->state = TASK_RUNNING;
	}
}

/* ---- creating tasks */

void rt_spawn(lua_State *L, int nargs)
{
	struct rt_task *t;
	lua_State *co;

	luaL_checktype(L, -nargs - 1, LUA_TFUNCTION);
	t = lua_newuserdatauv(L, sizeof(*t), 3);
	memset(t, 0, sizeof(*t));
	t->heap_idx = NO_HEAP;
	t->id = next_id++;
	luaL_setmetatable(L, TASK_MT);
	co = lua_newthread(L);
	lua_setiuservalue(L, -2, UV_THREAD);
	/* stack: fn args... task; move fn and args into the coroutine */
	lua_insert(L, -nargs - 2);
	lua_xmove(L, co, nargs + 1);
	t->co = co;
	t->nargs = nargs;
	lua_pushvalue(L, -1);
	t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	live++;
	alive++;
	make_ready(t);
}

void rt_task_daemon(struct rt_task *t)
{
	if (!t->daemon && t->state != TASK_DONE) {
		t->daemon = true;
		live--;
	}
}

unsigned rt_task_count(void)
{
	return alive;
}

void rt_own(lua_State *L, int idx, unsigned *owner)
{
	struct rt_task *t = current;

	if (!t || *owner == t->id)
		return;
	*owner = t->id;
	idx = lua_absindex(L, idx);
	lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
	if (lua_getiuservalue(L, -1, UV_OWNED) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_getfield(L, LUA_REGISTRYINDEX, "lunik.weakkeys");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_setiuservalue(L, -3, UV_OWNED);
	}
	lua_pushvalue(L, idx);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 2);
}

static int abandon_one(lua_State *L)
{
	lua_call(L, 2, 0);
	return 0;
}

/* Closes what failed task (t) still owned: each object's __abandon(obj,
 * id) closes it if (t) is still its owner. An error there is logged. */
static void abandon(struct rt_task *t)
{
	lua_State *L = main_L;
	int owned;

	lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
	if (lua_getiuservalue(L, -1, UV_OWNED) != LUA_TTABLE) {
		lua_pop(L, 2);
		return;
	}
	owned = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, owned)) {
		lua_pop(L, 1);
		if (luaL_getmetafield(L, -1, "__abandon") != LUA_TNIL) {
			lua_pushcfunction(L, abandon_one);
			lua_insert(L, -2);
			lua_pushvalue(L, -3);
			lua_pushinteger(L, t->id);
			if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
				fprintf(stderr, "lunik: closing what task %u "
						"owned: %s\n", t->id,
					lua_tostring(L, -1));
				lua_pop(L, 1);
			}
		}
	}
	lua_pushnil(L);
	lua_setiuservalue(L, owned - 1, UV_OWNED);
	lua_pop(L, 2);
}

/* ---- the watchdog */

static void watchdog_hook(lua_State *L, lua_Debug *ar)
{
	double limit = (double)watchdog_ns / 1e9;

	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "stopped by the watchdog: the task ran for more than "
		      "%f s without yielding (task.yield() lets others run; "
		      "task.watchdog(seconds) changes the limit)", limit);
}

/* The alarm, in interrupt context: only notes, through lua_sethook
 * (which Lua allows from asynchronous contexts, as lua.c's SIGINT
 * handler does). */
static void on_alarm(void)
{
	uint64_t now = plat_monotonic_ns();

	alarm_armed = false;
	if (!current || !watchdog_ns || !rt_running_L)
		return; /* the loop was running, or idle: the next resume arms */
	if (now - run_started >= watchdog_ns) {
		lua_sethook(rt_running_L, watchdog_hook,
			    LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
		run_started = now; /* a pcall that catches it gets another limit */
	}
	alarm_armed = true;
	plat_alarm(run_started + watchdog_ns, on_alarm);
}

void rt_watchdog_set(uint64_t ns)
{
	watchdog_ns = ns;
	alarm_armed = false;
	plat_alarm(UINT64_MAX, NULL);
}

uint64_t rt_watchdog_get(void)
{
	return watchdog_ns;
}

/* ---- running tasks */

/* Ends (t): wakes its joiners and lets the registry drop it. */
static void finish(struct rt_task *t)
{
	t->state = TASK_DONE;
	if (!t->daemon)
		live--;
	alive--;
	rt_wake_all(&t->joiners);
	luaL_unref(main_L, LUA_REGISTRYINDEX, t->ref);
	t->ref = LUA_NOREF;
}

/* Logs the error that ended (t), with the coroutine's traceback, and keeps
 * the message for join. */
static void fail(struct rt_task *t)
{
	const char *msg = lua_tostring(t->co, -1);

	if (!msg) {
		if (luaL_callmeta(t->co, -1, "__tostring") &&
		    lua_type(t->co, -1) == LUA_TSTRING)
			msg = lua_tostring(t->co, -1);
		else
			msg = lua_pushfstring(t->co, "(error object is a %s value)",
					      luaL_typename(t->co, -1));
	}
	lua_rawgeti(main_L, LUA_REGISTRYINDEX, t->ref);
	lua_pushstring(main_L, msg);
	lua_setiuservalue(main_L, -2, UV_ERROR);
	lua_pop(main_L, 1);
	luaL_traceback(main_L, t->co, msg, 0);
	fflush(stdout);
	if (t->id == 1)
		fprintf(stderr, "lunik: %s\n", lua_tostring(main_L, -1));
	else
		fprintf(stderr, "lunik: task %u failed: %s\n", t->id,
			lua_tostring(main_L, -1));
	lua_pop(main_L, 1);
	t->failed = true;
	if (t->id == 1)
		exit_status = 1;
	abandon(t);
}

static void resume(struct rt_task *t)
{
	int nres, status, nargs = t->nargs;

	t->nargs = 0;
	t->state = TASK_RUNNING;
	if (lua_gethook(t->co) == watchdog_hook) /* it yielded in time after all */
		lua_sethook(t->co, NULL, 0, 0);
	run_started = plat_monotonic_ns();
	if (watchdog_ns && !alarm_armed) {
		alarm_armed = true;
		plat_alarm(run_started + watchdog_ns, on_alarm);
	}
	current = t;
	rt_running_L = t->co;
	status = lua_resume(t->co, NULL, nargs, &nres);
	rt_running_L = NULL;
	current = NULL;
	if (status == LUA_YIELD) {
		lua_pop(t->co, nres);
		if (t->state == TASK_RUNNING) /* task.yield or coroutine.yield */
			make_ready(t);
		return;
	}
	if (status == LUA_OK)
		t->nres = nres;
	else
		fail(t);
	finish(t);
}

/* Resumes the tasks that are ready now; those made ready meanwhile wait
 * for the next round, after the devices have been polled again. */
static void run_ready(void)
{
	struct rt_task *t = ready_head, *end = ready_tail;

	ready_head = ready_tail = NULL;
	while (t) {
		struct rt_task *next = t->rnext;
		bool last = t == end;

		t->rnext = NULL;
		resume(t);
		if (exit_status)
			return;
		if (last)
			break;
		t = next;
	}
}

/* Wakes every task whose deadline has passed. */
static void expire(uint64_t now)
{
	while (heap_len && heap[0]->deadline <= now)
		make_ready(heap[0]);
}

/* ---- the Lua side of a task object (bindings/task.c builds on these) */

struct rt_task *rt_check_task(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, TASK_MT);
}

bool rt_task_done(const struct rt_task *t)
{
	return t->state == TASK_DONE;
}

/* Pushes what join returns for a finished (t) at (idx): true and its
 * results, or nil and its error. Returns the count pushed. */
int rt_task_results(lua_State *L, int idx, struct rt_task *t)
{
	int base;

	if (t->failed) {
		luaL_pushfail(L);
		lua_getiuservalue(L, idx, UV_ERROR);
		return 2;
	}
	luaL_checkstack(L, t->nres + 1, "too many results");
	lua_pushboolean(L, 1);
	if (!lua_checkstack(t->co, t->nres))
		luaL_error(L, "too many results");
	base = lua_gettop(t->co) - t->nres;
	for (int i = 1; i <= t->nres; i++) /* copies: join may be repeated */
		lua_pushvalue(t->co, base + i);
	lua_xmove(t->co, L, t->nres);
	return t->nres + 1;
}

void rt_push_task(lua_State *L, struct rt_task *t)
{
	lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
}

struct rt_waitq *rt_task_joiners(struct rt_task *t)
{
	return &t->joiners;
}

static int m_tostring(lua_State *L)
{
	struct rt_task *t = rt_check_task(L, 1);
	static const char *const names[] = { "new", "ready", "running",
					     "waiting", "done" };

	lua_pushfstring(L, "task %d (%s)", (int)t->id, names[t->state]);
	return 1;
}

void sched_init(lua_State *L)
{
	const char *wd = getenv("lunik.watchdog");

	if (wd && *wd) { /* the boot argument lunik.watchdog=SECONDS (0: off) */
		char *end;
		double s = strtod(wd, &end);

		if (*end || !(s >= 0 && s < 1e9))
			fprintf(stderr, "lunik: lunik.watchdog=%s is not a number of "
					"seconds: the limit stays %g s\n",
				wd, (double)watchdog_ns / 1e9);
		else
			watchdog_ns = (uint64_t)(s * 1e9);
	}
	main_L = L;
	lua_newtable(L);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setfield(L, LUA_REGISTRYINDEX, "lunik.weakkeys");
	luaL_newmetatable(L, TASK_MT);
	lua_pushcfunction(L, m_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);
}

/* ---- the loop's view */

bool sched_runnable(void)
{
	return ready_head != NULL;
}

bool sched_idle(void)
{
	return live == 0 && holds == 0;
}

uint64_t sched_next_deadline(void)
{
	return heap_len ? heap[0]->deadline : UINT64_MAX;
}

int sched_exit_status(void)
{
	return exit_status;
}

void sched_round(uint64_t now)
{
	expire(now);
	run_ready();
}
