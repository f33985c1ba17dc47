/*
 * stream.h -- LuaSocket's receive over a byte stream, written once for
 * the two kinds of connection that have it: net.tcp (net_tcp.c) and
 * tls.conn (tls_io.c). stream.c keeps the bytes received and not yet
 * taken, answers the patterns "*l", "*a" and byte counts with a prefix,
 * receiveany, returns nil, err, partial on failure and waits until a
 * per-call deadline. Each kind of connection supplies a source: where its
 * buffer is, how more bytes come into it and how to wait for them. Also
 * here: what send and settimeout take, the same on both.
 */
#ifndef LUNIK_BINDINGS_STREAM_H
#define LUNIK_BINDINGS_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#ifndef container_of
#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))
#endif

/* Received bytes not yet taken: [start, end) of b; scanned: where the
 * search for a line's LF goes on. All zero is an empty buffer. */
struct stream_buf {
	char *b;
	size_t start, end, cap, scanned;
};

/* How a stream ended: why a receive that wants more than is buffered
 * fails, and why "*a" does (NULL: the end was clean, "*a" returns all
 * that came). */
struct stream_end {
	const char *why, *why_all;
};

/* A kind of connection, the object at stack index 1 of its methods. */
struct stream_source {
	/* The buffer of the connection at 1, or NULL once it was closed
	 * here. Called as each receive call and continuation begins. */
	struct stream_buf *(*enter)(lua_State *L);
	/* Brings what can come now into (s): returns > 0 when bytes came,
	 * 0 once no more will ever come (*end says why), or a negative code
	 * to wait with. May raise (out of memory). */
	int (*fill)(lua_State *L, struct stream_buf *s, struct stream_end *end);
	/* Waits (as `return rt_wait(...)`) for more in (s), (code) being
	 * fill's, until (deadline), then continues with (k), the deadline
	 * its context. (more): a pattern asks for more than is buffered,
	 * so flow control may let the peer send past its usual window. */
	int (*wait)(lua_State *L, struct stream_buf *s, int code, bool more,
		    uint64_t deadline, lua_KFunction k);
	/* Called after bytes were taken from (s); may be NULL. */
	void (*taken)(struct stream_buf *s);
};

/* Makes room for (n) more bytes at the end of (s): moves what is buffered
 * to the front, then grows the buffer (from (first) bytes, doubling).
 * Returns false, (s) unchanged, when out of memory. */
bool stream_reserve(struct stream_buf *s, size_t n, size_t first);

/* Takes (n) bytes from the front of (s). */
void stream_take(struct stream_buf *s, size_t n);

/* Frees the buffer of (s) and empties it. */
void stream_free(struct stream_buf *s);

/* How many bytes (s) holds. */
static inline size_t stream_buffered(const struct stream_buf *s)
{
	return s->end - s->start;
}

/* conn:receive([pattern [, prefix]]) of (src)'s connection at 1:
 * "*l" (default; LF ends a line, a CR before it goes too), "*a" (until
 * the stream ends cleanly) or a byte count. Returns the data, or nil, err,
 * partial ("closed", "timeout" or the source's reason); waits at most
 * (timeout) ns (UINT64_MAX: no bound). Misuse raises. */
int stream_receive(lua_State *L, const struct stream_source *src,
		   uint64_t timeout);

/* conn:receiveany([max]): whatever is buffered or comes first, at most
 * max (default 65536) bytes, or nil, err. */
int stream_receiveany(lua_State *L, const struct stream_source *src,
		      uint64_t timeout);

/* Checks send's arguments (data [, i [, j]]) after the connection at 1,
 * with string.sub's rules for i and j, and leaves the stack as
 * [conn, data, i, j, i - 1] (the last index sent so far). */
void stream_send_args(lua_State *L);

/* The per-call timeout in ns that conn:settimeout(seconds or nil) sets
 * from the argument at (idx); UINT64_MAX for none. Misuse raises. */
uint64_t stream_check_timeout(lua_State *L, int idx);

/* The deadline of an operation starting now with (timeout) ns; UINT64_MAX
 * stays none. */
uint64_t stream_deadline(uint64_t timeout);

#endif
