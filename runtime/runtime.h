/*
 * runtime.h -- what runtime/ offers bindings/: the mounted ROM, path
 * resolution, the boot timeline, memory figures, waiting, random bytes, and
 * the linker set through which bindings register their Lua modules.
 *
 * runtime/ turns the platform (kernel/platform.h) into a C environment for
 * newlib and Lua. Bindings use this header and the platform header; nothing
 * else below them.
 */
#ifndef LUNIK_RUNTIME_H
#define LUNIK_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"
#include "rom.h"

struct lua_State;

/* The image's read-only archive, mounted at boot. */
extern struct rom rt_rom;

/* Maps a path as Lua code sees it to a ROM name: relative paths are under
 * the app ("data/x.txt" -> "app/data/x.txt"), "/app/..." and "/stdlib/..."
 * are absolute; "." and ".." are folded. Writes the NUL-terminated name to
 * (out) of (size) bytes and returns its length, or -1 if it escapes the ROM
 * root or does not fit. */
int rt_path_to_rom(const char *path, char *out, size_t size);

/* Records boot phase (name) (a string literal) at the current time. */
void rt_mark(const char *name);

/* Fills (out) with up to (max) phases, kernel's first, and returns the
 * total number of phases. */
size_t rt_timeline(struct plat_phase *out, size_t max);


/* ---- Tasks and the event loop (sched.c, loop.c).
 *
 * A task is a Lua coroutine the scheduler resumes; main.lua is the first.
 * One runs at a time, until it finishes or waits. A C function that would
 * block calls rt_wait() as its last act; the loop resumes the task when
 * the thing it waits on is signalled through the wait queue, or when its
 * deadline passes, by calling the continuation given to rt_wait. Wakes are
 * hints: the continuation re-checks its condition and may wait again.
 * Device and lwIP callbacks only ever wake tasks; Lua runs in tasks only.
 */
struct rt_task;
struct rt_waiter;

/* Tasks waiting for one thing; zero-initialised is empty. */
struct rt_waitq {
	struct rt_waiter *head, *tail;
};

/* Suspends the running task of (L) until rt_wake_*(q) or until the
 * monotonic clock reaches (deadline_ns), then continues with (k)(L,
 * LUA_YIELD, ctx) (a lua_KFunction, with the stack as it was). (q) NULL
 * waits for the deadline alone; (deadline_ns) UINT64_MAX means none. Use
 * as `return rt_wait(L, ...)`. Raises an error when (L) cannot yield: not in
 * a task, or inside require, a metamethod, table.sort, a string.gsub
 * callback or __gc (Lua cannot yield across those). */
int rt_wait(struct lua_State *L, struct rt_waitq *q, uint64_t deadline_ns,
	    intptr_t ctx, int (*k)(struct lua_State *, int, intptr_t));

/* rt_wait on the (n) queues (qs) at once (NULL entries are skipped): a
 * wake of any of them, or the deadline, resumes the task, off all of them.
 * For calls that only look (socket.select): rt_wake_one does not count
 * such a waiter as the one it wakes. Raises as rt_wait does, and when out
 * of memory. */
int rt_wait_many(struct lua_State *L, struct rt_waitq *const *qs, size_t n,
		 uint64_t deadline_ns, intptr_t ctx,
		 int (*k)(struct lua_State *, int, intptr_t));

/* Makes the first, or every, task waiting on (q) ready to run; a task in
 * rt_wait_many is woken on the way to the first that is not. */
void rt_wake_one(struct rt_waitq *q);
void rt_wake_all(struct rt_waitq *q);

/* Whether no task waits on (q). */
bool rt_waitq_empty(const struct rt_waitq *q);

/* The deadline for a timeout argument at (idx): a number of seconds from
 * now (>= 0), or nil / none for UINT64_MAX. Misuse raises. */
uint64_t rt_check_deadline(struct lua_State *L, int idx);

/* Spawns a task running the function below (nargs) arguments on (L)'s
 * stack (popping them) and pushes its task object ("task.Task"). It runs
 * once the current task waits or yields. */
void rt_spawn(struct lua_State *L, int nargs);

/* The watchdog's limit in nanoseconds (0: off; default 5 s, or the boot
 * argument lunik.watchdog=SECONDS): a task that runs longer than it without
 * yielding gets an error raised where it runs (sched.c). */
void rt_watchdog_set(uint64_t ns);
uint64_t rt_watchdog_get(void);

/* Makes (t) a daemon: a task that does not keep the machine running (it
 * ends when only daemons are left), such as the status line's. */
void rt_task_daemon(struct rt_task *t);

/* How many tasks have not ended, daemons included. */
unsigned rt_task_count(void);

/* The running task (NULL outside tasks) and its number (1: main.lua). */
struct rt_task *rt_current(void);
unsigned rt_task_id(const struct rt_task *t);

/* Pushes the object of (t), which must not have ended. */
void rt_push_task(struct lua_State *L, struct rt_task *t);

/* The task object at (idx) ("task.Task"; misuse raises); whether it has
 * ended; the wait queue its joiners wait on. */
struct rt_task *rt_check_task(struct lua_State *L, int idx);
bool rt_task_done(const struct rt_task *t);
struct rt_waitq *rt_task_joiners(struct rt_task *t);

/* Pushes what joining the ended task (t), whose object is at (idx),
 * returns: true and its results, or nil and its error message. Returns the
 * number of values pushed. */
int rt_task_results(struct lua_State *L, int idx, struct rt_task *t);

/* Makes the running task the owner of the object at (idx) (a socket...),
 * whose owner's task id is kept in (*owner); does nothing outside tasks or
 * when it owns it already. When a task fails, each object it still owns
 * gets its metatable's __abandon(obj, task id) called, which closes it if
 * that task is still its owner (docs/design.md: an error closes what the task
 * owned). Objects change owner as tasks use them. */
void rt_own(struct lua_State *L, int idx, unsigned *owner);

/* Keeps the loop running while nothing else would, e.g. an open server
 * that no task is accepting on; each rt_hold() needs an rt_release(). */
void rt_hold(void);
void rt_release(void);

/* A device's part of the event loop: (poll) takes its completions and
 * wakes tasks; (deadline) (may be NULL) is when it next needs polling,
 * UINT64_MAX for only on an interrupt. Up to 8, registered at start-up. */
void rt_add_poller(void (*poll)(void), uint64_t (*deadline)(void));

/* Runs the loop until no task is left and nothing holds it; returns the
 * exit status: 0, or 1 when main.lua ended with an error. */
int rt_loop_run(struct lua_State *L);

/* plat_wait() for everything above the seam: halts until (deadline_ns) or
 * a device event, and counts the halted time. rt_cpu_ns() is the time
 * since boot the CPU did not spend halted (a guest's CPU time). */
void rt_halt(uint64_t deadline_ns);
uint64_t rt_cpu_ns(void);

/* ---- The network stack (net_stack.c): lwIP over the first network
 * device and the loopback interface. Bindings use lwIP's raw API directly;
 * its callbacks run from the event loop. */

/* What net.info() shows; addresses in network byte order. */
struct net_info {
	bool up;		/* an Ethernet interface exists */
	const char *config;	/* "static", "dhcp" or "none" */
	uint8_t mac[6];
	uint32_t addr, netmask, gateway, dns[2];
};
void net_info(struct net_info *ni);

/* Counters of the interface since boot, for net.stats(). */
struct net_stats {
	uint64_t rx_frames, tx_frames;
	uint64_t rx_dropped;	 /* oversized frames */
	uint64_t rx_nomem;	 /* polls cut short by a failed allocation */
	uint64_t tx_delayed;	 /* frames that waited for room in the device */
	uint64_t tx_dropped;	 /* frames dropped: the wait queue was full */
	uint64_t time_wait_freed; /* TIME_WAIT pcbs freed early (the cap) */
	uint64_t loop_packets;	 /* delivered over the loopback */
	uint64_t loop_acks_dropped; /* repeated ACKs between our own pcbs */
	uint64_t rx_bytes, tx_bytes; /* of those frames */
	unsigned time_wait;	 /* TIME_WAIT pcbs now */
	unsigned tx_queue;	 /* frames waiting for the device now */
	/* TCP connections now, by state (lwIP's enum tcp_state order:
	 * CLOSED, LISTEN, SYN_SENT, SYN_RCVD, ESTABLISHED, FIN_WAIT_1,
	 * FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT) */
	unsigned tcp_states[11];
	/* lwIP's own counters: segments dropped by IP, TCP and UDP (bad
	 * checksum, no such port, no memory...), TCP segments lost for want
	 * of memory, and failed allocations of its heap */
	uint64_t ip_dropped, tcp_dropped, udp_dropped, tcp_mem_errors;
	uint64_t mem_errors;
};
#define NET_TCP_STATES 11
void net_get_stats(struct net_stats *s);

/* ---- Numbers (float_read.c, strtod.c). newlib's strtod rounds some ties
 * the wrong way and takes quadratic time on long inputs (seconds for a
 * 100 KB number), so Lua's tonumber and the json decoder use these. */

/* The double nearest the JSON number text from (p) to (end) (valid by RFC
 * 8259 section 6), ties to even; +-HUGE_VAL when it is beyond the largest
 * double. Exact for any length, in time linear in it. */
double rt_read_float(const char *p, const char *end);

/* The same for -(m) * 10^(e10) if (neg), else m * 10^(e10); m > 0. */
double rt_scale_float(uint64_t m, long e10, int neg);

/* strtod's contract (C11 7.22.1.3), decimal forms read exactly as
 * rt_read_float does, in linear time; hexadecimal, infinity and NaN forms
 * go to newlib's. Lua is compiled with -Dstrtod=rt_strtod. */
double rt_strtod(const char *s, char **end);

/* The boot arguments as a table: "key=value" words as strings, bare words
 * as true. Pushes it on (L)'s stack. */
void rt_push_args(struct lua_State *L);

/* Random bytes (entropy.c). Fills (buf) with (len) bytes from the
 * runtime's CTR-DRBG (AES-256), seeded on first use from the platform's
 * entropy source (plat_random) and reseeded from it every 10000 requests.
 * Returns 0, or a negative errno with (buf) zeroed: -ENODEV when the
 * machine has no entropy source, -ETIMEDOUT when the source gave too
 * little within about a second, -EIO when it failed. Never falls back to
 * a weak source. Seeding may wait (plat_wait) for a busy virtio-rng. */
int rt_random(void *buf, size_t len);

/* rt_random in mbedTLS's f_rng shape (mbedtls_ssl_conf_rng, signing):
 * (ctx) is unused; returns 0 or MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED. */
int rt_random_mbedtls(void *ctx, unsigned char *buf, size_t len);

/* A message for an error of rt_random, e.g. "no entropy source: ...". */
const char *rt_random_strerror(int err);

/* Starts PSA crypto (TLS 1.3's) on the first call, once: returns NULL
 * when it runs, else why it did not start (mbedtls_port.c). */
const char *rt_crypto_start(void);

/* The entropy source behind rt_random and every mbedTLS entropy pool:
 * plat_random, with its contract. Defined weak, so a test image can link
 * a simulated source in its place (tests/system/rng_stub.c); nothing else
 * should define or call it. */
long rt_entropy_read(void *buf, size_t len);

/* A Lua module written in C, registered in package.preload at start-up.
 * Declare one per module with RT_MODULE("name", luaopen_name). */
struct rt_module {
	const char *name;
	int (*open)(struct lua_State *L);
};

#define RT_MODULE(modname, fn)                                              \
	static const struct rt_module rt_module_##fn                        \
		__attribute__((used, section("lunik_modules"), aligned(8))) = { \
			modname, fn                                         \
		}

#endif
