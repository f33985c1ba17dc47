/*
 * net_tcp_setup.c -- how TCP connections come to be: net.connect (a name
 * lookup, then lwIP's connect) and servers ("net.server"), whose accept
 * callback queues connections in a bounded backlog until the app accepts
 * them (a full backlog refuses with a RST). The connections themselves
 * are net_tcp.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_tcp.h"

#define BACKLOG_DEFAULT 511

struct server {
	struct tcp_pcb *pcb;	/* the listening pcb; NULL once closed */
	struct conn **backlog;	/* accepted by lwIP, not yet by the app */
	unsigned head, len, cap;
	uint64_t timeout;
	unsigned owner;
	struct rt_waitq aq;
};

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn *c = arg;

	c->connected = true;
	rt_wake_all(&c->wq);
	return ERR_OK;
}

/* ---- connecting: stack [host, port, timeout, lookup | conn] */

static int connect_k(lua_State *L, int status, lua_KContext deadline)
{
	struct conn_ud *ud = net_tcp_check(L, 4);
	struct conn *c = ud->c;

	if (c && c->connected) {
		if (c->pcb)
			return 1;
		return net_fail(L, net_strerror(c->err, false));
	}
	if (!c || !c->pcb) {
		const char *err = c ? net_strerror(c->err, true) : "closed";

		lua_pushcfunction(L, net_tcp_close);
		lua_pushvalue(L, 4);
		lua_call(L, 1, 0);
		return net_fail(L, err);
	}
	if (plat_monotonic_ns() >= (uint64_t)deadline) {
		lua_pushcfunction(L, net_tcp_close);
		lua_pushvalue(L, 4);
		lua_call(L, 1, 0);
		return net_fail(L, "timeout");
	}
	return rt_wait(L, &c->wq, (uint64_t)deadline, deadline, connect_k);
}

static int start_connect(lua_State *L, const ip_addr_t *addr, uint64_t deadline)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	struct conn *c;
	err_t err;

	if (!pcb)
		return net_fail(L, "out of memory");
	c = net_tcp_conn_new(pcb);
	if (!c) {
		tcp_abort(pcb);
		return net_fail(L, "out of memory");
	}
	lua_settop(L, 3);
	net_tcp_push_conn(L, c); /* owns c from here on, closed by __gc if need be */
	err = tcp_connect(pcb, addr, (u16_t)lua_tointeger(L, 2), on_connected);
	if (err != ERR_OK) {
		if (c->pcb) { /* tcp_connect failed before sending anything */
			tcp_arg(pcb, NULL);
			tcp_err(pcb, NULL);
			tcp_abort(pcb);
			c->pcb = NULL;
		}
		c->err = err;
	}
	return connect_k(L, LUA_OK, (lua_KContext)deadline);
}

static int lookup_k(lua_State *L, int status, lua_KContext deadline)
{
	struct net_lookup *lk = lua_touserdata(L, 4);
	ip_addr_t addr;

	switch (net_lookup_finish(lk, &addr)) {
	case 0:
		return start_connect(L, &addr, (uint64_t)deadline);
	case -1:
		return net_fail(L, "host not found");
	}
	if (plat_monotonic_ns() >= (uint64_t)deadline) {
		net_lookup_abandon(lk);
		return net_fail(L, "timeout");
	}
	return rt_wait(L, net_lookup_queue(lk), (uint64_t)deadline, deadline,
		       lookup_k);
}

/* net.connect(host, port [, timeout]) -> conn */
int net_connect(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	uint64_t deadline;
	struct net_lookup *lk;
	ip_addr_t addr;
	int st;

	net_check_port(L, 2);
	deadline = rt_check_deadline(L, 3);
	luaL_argcheck(L, *host && strcmp(host, "*") != 0, 1, "no host given");
	lk = net_lookup_start(host, &addr, &st);
	if (!lk) {
		if (st < 0)
			return net_fail(L, "host not found");
		return start_connect(L, &addr, deadline);
	}
	lua_settop(L, 3);
	lua_pushlightuserdata(L, lk);
	return rt_wait(L, net_lookup_queue(lk), deadline, (lua_KContext)deadline,
		       lookup_k);
}

/* ---- servers */

static struct server *check_server(lua_State *L)
{
	return luaL_checkudata(L, 1, SERVER_MT);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct server *s = arg;
	struct conn *c;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	if (s->len == s->cap || !(c = net_tcp_conn_new(pcb))) {
		tcp_abort(pcb); /* the backlog is full: refuse with a RST */
		return ERR_ABRT;
	}
	s->backlog[(s->head + s->len++) % s->cap] = c;
	rt_wake_one(&s->aq);
	return ERR_OK;
}

/* net.listen(host, port [, {backlog = n}]) -> server */
int net_listen(lua_State *L)
{
	const char *host = luaL_optstring(L, 1, "*");
	uint16_t port = net_check_port(L, 2);
	lua_Integer backlog = BACKLOG_DEFAULT;
	struct tcp_pcb *pcb, *lpcb;
	struct server *s;
	ip_addr_t addr;
	err_t err;

	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		lua_getfield(L, 3, "backlog");
		backlog = luaL_optinteger(L, -1, BACKLOG_DEFAULT);
		luaL_argcheck(L, backlog > 0 && backlog <= 65535, 3,
			      "backlog must be 1..65535");
		lua_pop(L, 1);
	}
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	luaL_argcheck(L, net_parse_addr(host, &addr), 1,
		      "expected an IPv4 address, \"*\" or \"localhost\"");
	s = lua_newuserdatauv(L, sizeof(*s), 0);
	memset(s, 0, sizeof(*s));
	s->timeout = UINT64_MAX;
	luaL_setmetatable(L, SERVER_MT);
	s->backlog = malloc((size_t)backlog * sizeof(*s->backlog));
	pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
	if (!s->backlog || !pcb) {
		if (pcb)
			tcp_abort(pcb);
		return net_fail(L, "out of memory");
	}
	s->cap = (unsigned)backlog;
	ip_set_option(pcb, SOF_REUSEADDR);
	err = tcp_bind(pcb, &addr, port);
	if (err != ERR_OK) {
		tcp_abort(pcb);
		return net_fail(L, net_strerror(err, false));
	}
	lpcb = tcp_listen_with_backlog_and_err(pcb, TCP_DEFAULT_LISTEN_BACKLOG,
					       &err);
	if (!lpcb) { /* ERR_USE: another listener has the port */
		tcp_abort(pcb);
		return net_fail(L, net_strerror(err, false));
	}
	s->pcb = lpcb;
	tcp_arg(lpcb, s);
	tcp_accept(lpcb, on_accept);
	rt_own(L, -1, &s->owner);
	rt_hold(); /* an open server keeps the machine up */
	/* The readiness report `lunik run` waits for before it passes the
	 * -p host ports' connections on (tools/lunikcli/console.py). */
	printf("lunik: listening on tcp port %u\n", (unsigned)lpcb->local_port);
	fflush(stdout);
	return 1;
}

static int accept_k(lua_State *L, int status, lua_KContext deadline)
{
	struct server *s = check_server(L);

	if (s->len) {
		struct conn *c = s->backlog[s->head];

		s->head = (s->head + 1) % s->cap;
		s->len--;
		net_tcp_push_conn(L, c);
		return 1;
	}
	if (!s->pcb)
		return net_fail(L, "closed");
	if (plat_monotonic_ns() >= (uint64_t)deadline)
		return net_fail(L, "timeout");
	return rt_wait(L, &s->aq, (uint64_t)deadline, deadline, accept_k);
}

/* server:accept([timeout]) -> conn; timeout defaults to settimeout's */
static int m_accept(lua_State *L)
{
	struct server *s = check_server(L);

	rt_own(L, 1, &s->owner);
	uint64_t d = lua_isnoneornil(L, 2) ? stream_deadline(s->timeout)
					   : rt_check_deadline(L, 2);

	lua_settop(L, 1);
	return accept_k(L, LUA_OK, (lua_KContext)d);
}

/* server:close(): idempotent; connections not yet accepted are closed */
static int m_server_close(lua_State *L)
{
	struct server *s = check_server(L);

	if (s->pcb) {
		tcp_arg(s->pcb, NULL);
		tcp_accept(s->pcb, NULL);
		tcp_close(s->pcb); /* cannot fail for a listening pcb */
		s->pcb = NULL;
		rt_release();
	}
	while (s->len) {
		net_tcp_conn_free(s->backlog[s->head]);
		s->head = (s->head + 1) % s->cap;
		s->len--;
	}
	free(s->backlog);
	s->backlog = NULL;
	rt_wake_all(&s->aq);
	lua_pushinteger(L, 1);
	return 1;
}

static int m_server_abandon(lua_State *L)
{
	struct server *s = check_server(L);

	if (s->owner == (unsigned)luaL_checkinteger(L, 2))
		return m_server_close(L);
	return 0;
}

/* server:getsockname() -> ip, port */
static int m_server_getsockname(lua_State *L)
{
	struct server *s = check_server(L);

	if (!s->pcb)
		return net_fail(L, "closed");
	return net_tcp_push_endpoint(L, &s->pcb->local_ip, s->pcb->local_port);
}

/* server:settimeout(seconds or nil): accept's default */
static int m_server_settimeout(lua_State *L)
{
	check_server(L)->timeout = stream_check_timeout(L, 2);
	lua_pushinteger(L, 1);
	return 1;
}

static int m_server_tostring(lua_State *L)
{
	struct server *s = check_server(L);

	if (!s->pcb) {
		lua_pushliteral(L, "tcp server (closed)");
		return 1;
	}
	lua_pushliteral(L, "tcp server on ");
	net_push_addr(L, &s->pcb->local_ip);
	lua_pushfstring(L, ":%d", (int)s->pcb->local_port);
	lua_concat(L, 3);
	return 1;
}

/* net_tcp_ready for a "net.server" at (idx); -1 for anything else. */
int net_server_ready(lua_State *L, int idx, bool write, struct rt_waitq **q)
{
	struct server *s;

	s = luaL_testudata(L, idx, SERVER_MT);
	if (!s)
		return -1;
	if (!s->pcb)
		return 1;
	if (write)
		return 0; /* a listener never becomes writable */
	*q = &s->aq;
	return s->len > 0;
}

static const luaL_Reg server_methods[] = {
	{ "accept", m_accept },
	{ "close", m_server_close },
	{ "getsockname", m_server_getsockname },
	{ "settimeout", m_server_settimeout },
	{ NULL, NULL },
};

void net_server_open(lua_State *L)
{
	net_tcp_class(L, SERVER_MT, server_methods, m_server_close,
		      m_server_tostring, m_server_abandon);
}
