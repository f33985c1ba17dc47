/*
 * net_udp.c -- UDP sockets ("net.udp") over lwIP's raw API, with
 * LuaSocket's unconnected methods (sendto, receivefrom) and its connected
 * ones (setpeername, send, receive).
 *
 * Datagrams wait in a bounded queue of the socket (their pbufs kept as
 * lwIP gave them); when it is full, new ones are dropped, as a kernel's
 * socket buffer would. A read takes one whole datagram; bytes past the
 * size asked for are discarded, as recvfrom does.
 */
#include <stdlib.h>
#include <string.h>

#include <lwip/udp.h>

#include "net.h"

#define UDP_MT "net.udp"
#define QUEUE_MAX 256
#define DGRAM_MAX 65507 /* what fits in one IPv4 datagram */

struct dgram {
	struct pbuf *p;
	ip_addr_t from;
	u16_t port;
};

struct udp_sock {
	struct udp_pcb *pcb; /* NULL once closed */
	struct dgram q[QUEUE_MAX];
	unsigned head, len;
	uint64_t timeout;
	unsigned owner;
	struct rt_waitq rq;
};

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
		    const ip_addr_t *addr, u16_t port)
{
	struct udp_sock *u = arg;

	if (u->len == QUEUE_MAX) {
		pbuf_free(p);
		return;
	}
	u->q[(u->head + u->len++) % QUEUE_MAX] =
		(struct dgram){ p, *addr, port };
	rt_wake_one(&u->rq);
}

static struct udp_sock *check_sock(lua_State *L)
{
	return luaL_checkudata(L, 1, UDP_MT);
}

/* net.udp([host, port]) -> sock, bound to host:port when given (else to
 * any address and an ephemeral port at the first send) */
int net_udp(lua_State *L)
{
	struct udp_sock *u;

	lua_settop(L, 2);
	u = lua_newuserdatauv(L, sizeof(*u), 0);

	memset(u, 0, sizeof(*u));
	u->timeout = UINT64_MAX;
	luaL_setmetatable(L, UDP_MT);
	rt_own(L, -1, &u->owner);
	u->pcb = udp_new_ip_type(IPADDR_TYPE_V4);
	if (!u->pcb)
		return net_fail(L, "out of memory");
	udp_recv(u->pcb, on_recv, u);
	if (!lua_isnil(L, 1) || !lua_isnil(L, 2)) {
		const char *host = luaL_optstring(L, 1, "*");
		uint16_t port = net_check_port(L, 2);
		ip_addr_t addr;
		err_t err;

		if (strcmp(host, "localhost") == 0)
			host = "127.0.0.1";
		luaL_argcheck(L, net_parse_addr(host, &addr), 1,
			      "expected an IPv4 address, \"*\" or \"localhost\"");
		ip_set_option(u->pcb, SOF_REUSEADDR);
		err = udp_bind(u->pcb, &addr, port);
		if (err != ERR_OK)
			return net_fail(L, net_strerror(err, false));
	}
	return 1;
}

static err_t send_to(struct udp_sock *u, const char *data, size_t len,
		     const ip_addr_t *to, u16_t port)
{
	struct pbuf *p;
	err_t err;

	p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return ERR_MEM;
	memcpy(p->payload, data, len);
	err = to ? udp_sendto(u->pcb, p, to, port) : udp_send(u->pcb, p);
	pbuf_free(p);
	return err;
}

static int send_result(lua_State *L, err_t err)
{
	if (err != ERR_OK)
		return net_fail(L, net_strerror(err, false));
	lua_pushboolean(L, 1);
	return 1;
}

/* sock:sendto(data, ip, port) -> true: ip is a numeric address */
static int m_sendto(lua_State *L)
{
	struct udp_sock *u = check_sock(L);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);
	const char *host = luaL_checkstring(L, 3);
	uint16_t port = net_check_port(L, 4);
	ip_addr_t to;

	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	luaL_argcheck(L, net_parse_addr(host, &to) && *host && *host != '*', 3,
		      "expected an IPv4 address (resolve names with net.resolve)");
	luaL_argcheck(L, len <= DGRAM_MAX, 2, "datagram over 65507 bytes");
	if (!u->pcb)
		return net_fail(L, "closed");
	return send_result(L, send_to(u, data, len, &to, port));
}

/* sock:setpeername(ip, port): send and receive then use that peer only */
static int m_setpeername(lua_State *L)
{
	struct udp_sock *u = check_sock(L);
	const char *host = luaL_checkstring(L, 2);
	uint16_t port = net_check_port(L, 3);
	ip_addr_t to;
	err_t err;

	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	luaL_argcheck(L, net_parse_addr(host, &to) && *host && *host != '*', 2,
		      "expected an IPv4 address");
	if (!u->pcb)
		return net_fail(L, "closed");
	err = udp_connect(u->pcb, &to, port);
	return send_result(L, err);
}

/* sock:send(data) -> true, to the peer set by setpeername */
static int m_send(lua_State *L)
{
	struct udp_sock *u = check_sock(L);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);

	luaL_argcheck(L, len <= DGRAM_MAX, 2, "datagram over 65507 bytes");
	if (!u->pcb)
		return net_fail(L, "closed");
	if (!(u->pcb->flags & UDP_FLAGS_CONNECTED))
		return net_fail(L, "not connected: use setpeername or sendto");
	return send_result(L, send_to(u, data, len, NULL, 0));
}

/* receive: stack [sock, max, with_sender]; ctx: the deadline */
static int receive_k(lua_State *L, int status, lua_KContext deadline)
{
	struct udp_sock *u = check_sock(L);
	size_t max = (size_t)lua_tointeger(L, 2);

	if (u->len) {
		struct dgram *d = &u->q[u->head];
		size_t n = d->p->tot_len < max ? d->p->tot_len : max;
		luaL_Buffer b;

		luaL_buffinitsize(L, &b, n);
		pbuf_copy_partial(d->p, luaL_prepbuffsize(&b, n), (u16_t)n, 0);
		luaL_addsize(&b, n);
		luaL_pushresult(&b);
		u->head = (u->head + 1) % QUEUE_MAX;
		u->len--;
		pbuf_free(d->p);
		if (!lua_toboolean(L, 3))
			return 1;
		net_push_addr(L, &d->from);
		lua_pushinteger(L, d->port);
		return 3;
	}
	if (!u->pcb)
		return net_fail(L, "closed");
	if (plat_monotonic_ns() >= (uint64_t)deadline)
		return net_fail(L, "timeout");
	return rt_wait(L, &u->rq, (uint64_t)deadline, deadline, receive_k);
}

static int receive(lua_State *L, bool with_sender)
{
	struct udp_sock *u = check_sock(L);
	lua_Integer max = luaL_optinteger(L, 2, DGRAM_MAX);
	uint64_t deadline = u->timeout == UINT64_MAX
				    ? UINT64_MAX
				    : plat_monotonic_ns() + u->timeout;

	luaL_argcheck(L, max > 0, 2, "size must be positive");
	rt_own(L, 1, &u->owner);
	lua_settop(L, 1);
	lua_pushinteger(L, max);
	lua_pushboolean(L, with_sender);
	return receive_k(L, LUA_OK, (lua_KContext)deadline);
}

/* sock:receivefrom([size]) -> data, ip, port */
static int m_receivefrom(lua_State *L)
{
	return receive(L, true);
}

/* sock:receive([size]) -> data */
static int m_receive(lua_State *L)
{
	return receive(L, false);
}

/* sock:settimeout(seconds or nil) */
static int m_settimeout(lua_State *L)
{
	struct udp_sock *u = check_sock(L);
	uint64_t d = rt_check_deadline(L, 2);

	u->timeout = d == UINT64_MAX ? UINT64_MAX : d - plat_monotonic_ns();
	lua_pushinteger(L, 1);
	return 1;
}

/* sock:getsockname() -> ip, port */
static int m_getsockname(lua_State *L)
{
	struct udp_sock *u = check_sock(L);

	if (!u->pcb)
		return net_fail(L, "closed");
	net_push_addr(L, &u->pcb->local_ip);
	lua_pushinteger(L, u->pcb->local_port);
	return 2;
}

/* sock:close(): idempotent; queued datagrams are dropped */
static int m_close(lua_State *L)
{
	struct udp_sock *u = check_sock(L);

	if (u->pcb) {
		udp_remove(u->pcb);
		u->pcb = NULL;
	}
	while (u->len) {
		pbuf_free(u->q[u->head].p);
		u->head = (u->head + 1) % QUEUE_MAX;
		u->len--;
	}
	rt_wake_all(&u->rq);
	lua_pushinteger(L, 1);
	return 1;
}

static int m_abandon(lua_State *L)
{
	struct udp_sock *u = check_sock(L);

	if (u->owner == (unsigned)luaL_checkinteger(L, 2))
		return m_close(L);
	return 0;
}

static int m_tostring(lua_State *L)
{
	struct udp_sock *u = check_sock(L);

	if (!u->pcb) {
		lua_pushliteral(L, "udp socket (closed)");
		return 1;
	}
	lua_pushliteral(L, "udp socket on ");
	net_push_addr(L, &u->pcb->local_ip);
	lua_pushfstring(L, ":%d", (int)u->pcb->local_port);
	lua_concat(L, 3);
	return 1;
}

int net_udp_ready(lua_State *L, int idx, bool write, struct rt_waitq **q)
{
	struct udp_sock *u = luaL_testudata(L, idx, UDP_MT);

	*q = NULL;
	if (!u)
		return -1;
	if (write || !u->pcb)
		return 1; /* a datagram is sent or dropped at once */
	*q = &u->rq;
	return u->len > 0;
}

static const luaL_Reg methods[] = {
	{ "sendto", m_sendto },
	{ "receivefrom", m_receivefrom },
	{ "setpeername", m_setpeername },
	{ "send", m_send },
	{ "receive", m_receive },
	{ "settimeout", m_settimeout },
	{ "getsockname", m_getsockname },
	{ "close", m_close },
	{ NULL, NULL },
};

void net_udp_open(lua_State *L)
{
	luaL_newmetatable(L, UDP_MT);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, m_close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, m_close);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, m_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushcfunction(L, m_abandon);
	lua_setfield(L, -2, "__abandon");
	lua_pop(L, 1);
}
