/*
 * net_tcp.c -- TCP connections ("net.tcp") over lwIP's raw API, with
 * LuaSocket's method shapes, and their C view (net.h). How connections
 * come to be, net.connect and servers ("net.server"), is net_tcp_setup.c;
 * receive's patterns and partial results are stream.c's, over the source
 * at the end of this file.
 *
 * A connection's state is a malloc'd struct conn, since a server's accept
 * callback makes one before any task asks for it; the Lua object holds a
 * pointer and frees it on close (or __gc). Received bytes are copied out of
 * lwIP's pbufs into the connection's buffer at once, and the receive window
 * reopens (tcp_recved) once more than RX_KEEP bytes wait only as the app
 * takes bytes, so a slow reader slows
 * its sender instead of growing the heap. While a receive waits for more
 * than is buffered (a byte count over a window, "*a", a long line), the
 * window stays open whatever the buffer holds: the app asked for those
 * bytes. send copies into lwIP's send
 * buffer as room appears and yields meanwhile: nothing queues unbounded.
 */
#include <stdlib.h>
#include <string.h>

#include "net_tcp.h"

#define BUF_MIN 4096
#define OOM_RETRY_NS 10000000ull /* when lwIP is out of memory: try again */
#define RX_KEEP (64 * 1024)	 /* bytes buffered before the window closes */

/* ---- lwIP callbacks: they only record and wake */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;

	if (!p) {
		c->eof = true;
		rt_wake_all(&c->rq);
		return ERR_OK;
	}
	if (!stream_reserve(&c->rx, p->tot_len, BUF_MIN))
		return ERR_MEM; /* lwIP keeps p and offers it again */
	pbuf_copy_partial(p, c->rx.b + c->rx.end, p->tot_len, 0);
	c->rx.end += p->tot_len;
	if (c->reading || stream_buffered(&c->rx) <= RX_KEEP)
		tcp_recved(pcb, p->tot_len);
	else
		c->held += p->tot_len;
	pbuf_free(p);
	rt_wake_all(&c->rq);
	return ERR_OK;
}

/* Reopens the window by what was held back, once the buffer is small
 * again or a reader wants more. */
static void release(struct conn *c)
{
	if (!c->held || !c->pcb ||
	    (!c->reading && stream_buffered(&c->rx) > RX_KEEP))
		return;
	while (c->held) {
		u16_t k = c->held > 0xffff ? 0xffff : (u16_t)c->held;

		tcp_recved(c->pcb, k);
		c->held -= k;
	}
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	rt_wake_all(&((struct conn *)arg)->wq);
	return ERR_OK;
}

/* The pcb is gone (reset, aborted, or failed to connect); lwIP frees it. */
static void on_err(void *arg, err_t err)
{
	struct conn *c = arg;

	c->pcb = NULL;
	c->err = err;
	rt_wake_all(&c->rq);
	rt_wake_all(&c->wq);
}

struct conn *net_tcp_conn_new(struct tcp_pcb *pcb)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->pcb = pcb;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_nagle_disable(pcb); /* request/response: no 40 ms stalls */
	return c;
}

void net_tcp_conn_free(struct conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	if (pcb) {
		size_t unread = c->held;

		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		/* a window not reopened makes tcp_close answer with a RST */
		while (unread) {
			u16_t n = unread > 0xffff ? 0xffff : (u16_t)unread;

			tcp_recved(pcb, n);
			unread -= n;
		}
		if (tcp_close(pcb) != ERR_OK)
			tcp_abort(pcb);
	}
	rt_wake_all(&c->rq);
	rt_wake_all(&c->wq);
	stream_free(&c->rx);
	free(c);
}

/* Takes (n) received bytes. */
static void consume(struct conn *c, size_t n)
{
	stream_take(&c->rx, n);
	release(c);
}

/* ---- the connection object */

struct conn_ud *net_tcp_check(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, CONN_MT);
}

void net_tcp_push_conn(lua_State *L, struct conn *c)
{
	struct conn_ud *ud = lua_newuserdatauv(L, sizeof(*ud), 0);

	ud->c = c;
	ud->timeout = UINT64_MAX;
	ud->owner = 0;
	luaL_setmetatable(L, CONN_MT);
	rt_own(L, -1, &ud->owner);
}

/* Why no more bytes will come: "closed" (FIN or closed here) or the
 * pcb's error. */
static const char *why_closed(const struct conn *c)
{
	return !c || c->eof || !c->err ? "closed" : net_strerror(c->err, false);
}

static const struct stream_source source;

/* conn:receive([pattern [, prefix]]): "*l" (default), "*a" or a count */
static int m_receive(lua_State *L)
{
	struct conn_ud *ud = net_tcp_check(L, 1);

	rt_own(L, 1, &ud->owner);
	return stream_receive(L, &source, ud->timeout);
}

/* conn:receiveany([max]): whatever has arrived, up to max bytes */
static int m_receiveany(lua_State *L)
{
	struct conn_ud *ud = net_tcp_check(L, 1);

	rt_own(L, 1, &ud->owner);
	return stream_receiveany(L, &source, ud->timeout);
}

/* send: stack [conn, data, i, j, sent-up-to]; ctx: the deadline. */
static int send_k(lua_State *L, int status, lua_KContext deadline)
{
	struct conn *c = net_tcp_check(L, 1)->c;
	size_t len;
	const char *data = lua_tolstring(L, 2, &len);
	lua_Integer j = lua_tointeger(L, 4), pos = lua_tointeger(L, 5);
	uint64_t wait = (uint64_t)deadline;

	if (!c || !c->pcb) {
		luaL_pushfail(L);
		lua_pushstring(L, c ? why_closed(c) : "closed");
		lua_pushinteger(L, pos);
		return 3;
	}
	while (pos < j) {
		size_t room = tcp_sndbuf(c->pcb), n = (size_t)(j - pos);
		err_t err;

		if (room == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN)
			break;
		if (n > room)
			n = room;
		err = tcp_write(c->pcb, data + pos, (u16_t)n,
				TCP_WRITE_FLAG_COPY |
					(pos + (lua_Integer)n < j ? TCP_WRITE_FLAG_MORE : 0));
		if (err == ERR_MEM) {
			if (!c->pcb->unsent && !c->pcb->unacked) {
				/* nothing in flight: no sent callback will come */
				uint64_t retry = plat_monotonic_ns() + OOM_RETRY_NS;

				wait = retry < wait ? retry : wait;
			}
			break;
		}
		if (err != ERR_OK) {
			luaL_pushfail(L);
			lua_pushstring(L, net_strerror(err, false));
			lua_pushinteger(L, pos);
			return 3;
		}
		pos += (lua_Integer)n;
	}
	tcp_output(c->pcb);
	if (pos == j) {
		lua_pushinteger(L, j);
		return 1;
	}
	if (plat_monotonic_ns() >= (uint64_t)deadline) {
		luaL_pushfail(L);
		lua_pushliteral(L, "timeout");
		lua_pushinteger(L, pos);
		return 3;
	}
	lua_pushinteger(L, pos);
	lua_replace(L, 5);
	return rt_wait(L, &c->wq, wait, deadline, send_k);
}

/* conn:send(data [, i [, j]]) -> index of the last byte sent */
static int m_send(lua_State *L)
{
	struct conn_ud *ud = net_tcp_check(L, 1);

	rt_own(L, 1, &ud->owner);
	stream_send_args(L);
	return send_k(L, LUA_OK, (lua_KContext)stream_deadline(ud->timeout));
}

/* conn:settimeout(seconds or nil) */
static int m_settimeout(lua_State *L)
{
	net_tcp_check(L, 1)->timeout = stream_check_timeout(L, 2);
	lua_pushinteger(L, 1);
	return 1;
}

/* conn:close(): idempotent */
int net_tcp_close(lua_State *L)
{
	struct conn_ud *ud = net_tcp_check(L, 1);

	if (ud->c) {
		struct conn *c = ud->c;

		ud->c = NULL;
		net_tcp_conn_free(c);
	}
	lua_pushinteger(L, 1);
	return 1;
}

/* __abandon(conn, task id): closes it if that failed task owned it last */
static int m_abandon(lua_State *L)
{
	struct conn_ud *ud = net_tcp_check(L, 1);

	if (ud->owner == (unsigned)luaL_checkinteger(L, 2))
		return net_tcp_close(L);
	return 0;
}

/* conn:shutdown(["send" | "receive" | "both"]) */
static int m_shutdown(lua_State *L)
{
	static const char *const how[] = { "send", "receive", "both", NULL };
	struct conn *c = net_tcp_check(L, 1)->c;
	int h = luaL_checkoption(L, 2, "both", how);
	err_t err;

	if (!c || !c->pcb)
		return net_fail(L, "closed");
	err = tcp_shutdown(c->pcb, h != 0, h != 1);
	if (err != ERR_OK)
		return net_fail(L, net_strerror(err, false));
	lua_pushinteger(L, 1);
	return 1;
}

int net_tcp_push_endpoint(lua_State *L, const ip_addr_t *ip, u16_t port)
{
	net_push_addr(L, ip);
	lua_pushinteger(L, port);
	return 2;
}

/* conn:getpeername() -> ip, port */
static int m_getpeername(lua_State *L)
{
	struct conn *c = net_tcp_check(L, 1)->c;

	if (!c || !c->pcb)
		return net_fail(L, "closed");
	return net_tcp_push_endpoint(L, &c->pcb->remote_ip, c->pcb->remote_port);
}

/* conn:getsockname() -> ip, port */
static int m_getsockname(lua_State *L)
{
	struct conn *c = net_tcp_check(L, 1)->c;

	if (!c || !c->pcb)
		return net_fail(L, "closed");
	return net_tcp_push_endpoint(L, &c->pcb->local_ip, c->pcb->local_port);
}

/* conn:setoption("tcp-nodelay" | "keepalive", bool) */
static int m_setoption(lua_State *L)
{
	static const char *const opts[] = { "tcp-nodelay", "keepalive", NULL };
	struct conn *c = net_tcp_check(L, 1)->c;
	int opt = luaL_checkoption(L, 2, NULL, opts);
	bool on = lua_toboolean(L, 3);

	if (!c || !c->pcb)
		return net_fail(L, "closed");
	if (opt == 0) {
		if (on)
			tcp_nagle_disable(c->pcb);
		else
			tcp_nagle_enable(c->pcb);
	} else if (on) {
		ip_set_option(c->pcb, SOF_KEEPALIVE);
	} else {
		ip_reset_option(c->pcb, SOF_KEEPALIVE);
	}
	lua_pushinteger(L, 1);
	return 1;
}

/* conn:dirty(): bytes are waiting to be received (Copas asks) */
static int m_dirty(lua_State *L)
{
	struct conn *c = net_tcp_check(L, 1)->c;

	lua_pushboolean(L, c && stream_buffered(&c->rx));
	return 1;
}

static int m_conn_tostring(lua_State *L)
{
	struct conn *c = net_tcp_check(L, 1)->c;

	if (!c || !c->pcb) {
		lua_pushfstring(L, "tcp connection (%s)", c ? why_closed(c) : "closed");
		return 1;
	}
	lua_pushliteral(L, "tcp connection to ");
	net_push_addr(L, &c->pcb->remote_ip);
	lua_pushfstring(L, ":%d", (int)c->pcb->remote_port);
	lua_concat(L, 3);
	return 1;
}

/* ---- the C view, for bindings layered on connections (net.h) */

int net_tcp_ready(lua_State *L, int idx, bool write, struct rt_waitq **q)
{
	struct conn_ud *ud = luaL_testudata(L, idx, CONN_MT);
	struct conn *c;

	*q = NULL;
	if (ud) {
		c = ud->c;
		if (!c || !c->pcb)
			return 1;
		if (write) {
			*q = &c->wq;
			return tcp_sndbuf(c->pcb) > 0 &&
			       tcp_sndqueuelen(c->pcb) < TCP_SND_QUEUELEN;
		}
		*q = &c->rq;
		return stream_buffered(&c->rx) || c->eof;
	}
	return net_server_ready(L, idx, write, q);
}

struct conn *net_tcp_conn(lua_State *L, int idx)
{
	return net_tcp_check(L, idx)->c;
}

void net_tcp_disown(lua_State *L, int idx)
{
	net_tcp_check(L, idx)->owner = 0; /* task ids start at 1 */
}

long net_conn_read(struct conn *c, void *buf, size_t len)
{
	size_t have = stream_buffered(&c->rx);

	if (have) {
		if (len > have)
			len = have;
		memcpy(buf, c->rx.b + c->rx.start, len);
		consume(c, len);
		return (long)len;
	}
	return c->eof || !c->pcb ? -1 : 0;
}

long net_conn_write(struct conn *c, const void *buf, size_t len)
{
	size_t room;
	err_t err;

	if (!c->pcb)
		return -1;
	room = tcp_sndbuf(c->pcb);
	if (room == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN)
		return 0;
	if (len > room)
		len = room;
	err = tcp_write(c->pcb, buf, (u16_t)len, TCP_WRITE_FLAG_COPY);
	if (err == ERR_MEM)
		return 0;
	if (err != ERR_OK)
		return -1;
	tcp_output(c->pcb);
	return (long)len;
}

bool net_conn_write_wakes(const struct conn *c)
{
	return !c->pcb || c->pcb->unsent || c->pcb->unacked;
}

struct rt_waitq *net_conn_readers(struct conn *c)
{
	return &c->rq;
}

struct rt_waitq *net_conn_writers(struct conn *c)
{
	return &c->wq;
}

const char *net_conn_error(const struct conn *c)
{
	return why_closed(c);
}

/* ---- the byte source of receive (stream.h) */

static struct stream_buf *src_enter(lua_State *L)
{
	struct conn *c = net_tcp_check(L, 1)->c;

	if (!c)
		return NULL;
	c->reading = false;
	return &c->rx;
}

/* Bytes arrive by themselves (on_recv): there is only the end to tell. */
static int src_fill(lua_State *L, struct stream_buf *s, struct stream_end *end)
{
	struct conn *c = container_of(s, struct conn, rx);

	if (!c->eof && c->pcb)
		return -1;
	end->why = why_closed(c);
	end->why_all = c->eof ? NULL : end->why;
	return 0;
}

/* A pattern waiting for more than is buffered keeps the window open. */
static int src_wait(lua_State *L, struct stream_buf *s, int code, bool more,
		    uint64_t deadline, lua_KFunction k)
{
	struct conn *c = container_of(s, struct conn, rx);

	if (more) {
		c->reading = true;
		release(c);
	}
	return rt_wait(L, &c->rq, deadline, (lua_KContext)deadline, k);
}

static void src_taken(struct stream_buf *s)
{
	release(container_of(s, struct conn, rx));
}

static const struct stream_source source = {
	src_enter, src_fill, src_wait, src_taken,
};

static const luaL_Reg conn_methods[] = {
	{ "receive", m_receive },
	{ "receiveany", m_receiveany },
	{ "send", m_send },
	{ "settimeout", m_settimeout },
	{ "close", net_tcp_close },
	{ "shutdown", m_shutdown },
	{ "getpeername", m_getpeername },
	{ "getsockname", m_getsockname },
	{ "setoption", m_setoption },
	{ "dirty", m_dirty },
	{ NULL, NULL },
};

void net_tcp_class(lua_State *L, const char *name, const luaL_Reg *methods,
		      lua_CFunction close, lua_CFunction tostring,
		      lua_CFunction abandon)
{
	luaL_newmetatable(L, name);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, close);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushcfunction(L, abandon);
	lua_setfield(L, -2, "__abandon");
	lua_pop(L, 1);
}

void net_tcp_open(lua_State *L)
{
	net_tcp_class(L, CONN_MT, conn_methods, net_tcp_close, m_conn_tostring,
		      m_abandon);
	net_server_open(L);
}
