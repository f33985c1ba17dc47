/*
 * net.c -- the `net` module: TCP (net_tcp.c) and UDP (net_udp.c) sockets
 * with LuaSocket's shapes, name resolution, and the interface's settings.
 * Every blocking call yields the calling task only; failures of the world
 * return nil and a short message: "timeout", "closed", "connection
 * refused", "connection reset", "host not found", "address in use",
 * "network unreachable", "out of memory".
 *
 *   net.listen(host, port [, opts]) -> server     net.connect(host, port [, timeout]) -> conn
 *   net.udp([host, port]) -> sock                 net.resolve(name [, timeout]) -> { "A.B.C.D" }
 *   net.info() -> { ip=, netmask=, gateway=, dns={...}, mac=, config= }
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/dns.h>

#include "net.h"

const char *net_strerror(err_t err, bool connecting)
{
	switch (err) {
	case ERR_OK:
		return "ok";
	case ERR_MEM:
	case ERR_BUF:
		return "out of memory";
	case ERR_TIMEOUT:
		return "timeout";
	case ERR_RTE:
		return "network unreachable";
	case ERR_USE:
		return "address in use";
	case ERR_RST:
		return connecting ? "connection refused" : "connection reset";
	case ERR_ABRT:
		return connecting ? "connection refused" : "connection aborted";
	case ERR_CLSD:
	case ERR_CONN:
		return "closed";
	default:
		return lwip_strerr(err);
	}
}

int net_fail(lua_State *L, const char *msg)
{
	luaL_pushfail(L);
	lua_pushstring(L, msg);
	return 2;
}

void net_push_addr(lua_State *L, const ip_addr_t *a)
{
	char buf[IP4ADDR_STRLEN_MAX];

	lua_pushstring(L, ip4addr_ntoa_r(ip_2_ip4(a), buf, sizeof(buf)));
}

bool net_parse_addr(const char *s, ip_addr_t *a)
{
	if (!*s || strcmp(s, "*") == 0) {
		ip_addr_set_any(false, a);
		return true;
	}
	if (!ip4addr_aton(s, ip_2_ip4(a)))
		return false;
	IP_SET_TYPE_VAL(*a, IPADDR_TYPE_V4);
	return true;
}

uint16_t net_check_port(lua_State *L, int idx)
{
	lua_Integer p = luaL_checkinteger(L, idx);

	luaL_argcheck(L, p >= 0 && p <= 65535, idx, "port must be 0..65535");
	return (uint16_t)p;
}

/* ---- name lookups: lwIP's DNS client calls back from the loop; a lookup
 * whose task gave up is freed when the answer comes. */
struct net_lookup {
	ip_addr_t addr;
	int state; /* 1 pending, 0 found, -1 not found */
	bool abandoned;
	struct rt_waitq wq;
};

static void found(const char *name, const ip_addr_t *ip, void *arg)
{
	struct net_lookup *lk = arg;

	if (lk->abandoned) {
		free(lk);
		return;
	}
	if (ip) {
		lk->addr = *ip;
		lk->state = 0;
	} else {
		lk->state = -1;
	}
	rt_wake_all(&lk->wq);
}

struct net_lookup *net_lookup_start(const char *name, ip_addr_t *addr,
				    int *status)
{
	struct net_lookup *lk;
	err_t err;

	if (net_parse_addr(name, addr)) {
		*status = 0;
		return NULL;
	}
	lk = calloc(1, sizeof(*lk));
	if (!lk) {
		*status = -1;
		return NULL;
	}
	lk->state = 1;
	err = dns_gethostbyname(name, &lk->addr, found, lk);
	if (err == ERR_INPROGRESS)
		return lk;
	*status = err == ERR_OK ? 0 : -1;
	if (err == ERR_OK)
		*addr = lk->addr;
	free(lk);
	return NULL;
}

struct rt_waitq *net_lookup_queue(struct net_lookup *lk)
{
	return &lk->wq;
}

int net_lookup_finish(struct net_lookup *lk, ip_addr_t *addr)
{
	int state = lk->state;

	if (state == 1)
		return 1;
	if (state == 0)
		*addr = lk->addr;
	free(lk);
	return state;
}

void net_lookup_abandon(struct net_lookup *lk)
{
	if (lk->state == 1)
		lk->abandoned = true;
	else
		free(lk);
}

/* net.resolve(name [, timeout]): stack [name, timeout, lookup] */
static int resolve_k(lua_State *L, int status, lua_KContext deadline)
{
	struct net_lookup *lk = lua_touserdata(L, 3);
	ip_addr_t addr;

	switch (net_lookup_finish(lk, &addr)) {
	case 0:
		lua_createtable(L, 1, 0);
		net_push_addr(L, &addr);
		lua_rawseti(L, -2, 1);
		return 1;
	case -1:
		return net_fail(L, "host not found");
	}
	if (plat_monotonic_ns() >= (uint64_t)deadline) {
		net_lookup_abandon(lk);
		return net_fail(L, "timeout");
	}
	return rt_wait(L, net_lookup_queue(lk), (uint64_t)deadline, deadline,
		       resolve_k);
}

static int m_resolve(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	uint64_t deadline = rt_check_deadline(L, 2);
	struct net_lookup *lk;
	ip_addr_t addr;
	int status;

	luaL_argcheck(L, *name && strcmp(name, "*") != 0, 1, "empty name");
	lk = net_lookup_start(name, &addr, &status);
	if (!lk) {
		if (status < 0)
			return net_fail(L, "host not found");
		lua_createtable(L, 1, 0);
		net_push_addr(L, &addr);
		lua_rawseti(L, -2, 1);
		return 1;
	}
	lua_settop(L, 2);
	lua_pushlightuserdata(L, lk);
	return rt_wait(L, net_lookup_queue(lk), deadline, (lua_KContext)deadline,
		       resolve_k);
}

int net_ready(lua_State *L, int idx, bool write, struct rt_waitq **q)
{
	int r = net_tcp_ready(L, idx, write, q);

	return r >= 0 ? r : net_udp_ready(L, idx, write, q);
}

static void set_addr(lua_State *L, const char *key, uint32_t a)
{
	ip_addr_t ip;

	ip_addr_set_ip4_u32(&ip, a);
	net_push_addr(L, &ip);
	lua_setfield(L, -2, key);
}

/* net.info() */
static int m_info(lua_State *L)
{
	struct net_info ni;
	char mac[18];

	net_info(&ni);
	lua_createtable(L, 0, 7);
	lua_pushstring(L, ni.config);
	lua_setfield(L, -2, "config");
	if (!ni.up)
		return 1;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ni.mac[0],
		 ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5]);
	lua_pushstring(L, mac);
	lua_setfield(L, -2, "mac");
	set_addr(L, "ip", ni.addr);
	set_addr(L, "netmask", ni.netmask);
	set_addr(L, "gateway", ni.gateway);
	lua_newtable(L);
	for (int i = 0, n = 0; i < 2; i++) {
		ip_addr_t ip;

		if (!ni.dns[i])
			continue;
		ip_addr_set_ip4_u32(&ip, ni.dns[i]);
		net_push_addr(L, &ip);
		lua_rawseti(L, -2, ++n);
	}
	lua_setfield(L, -2, "dns");
	return 1;
}

static const char *const tcp_state_names[NET_TCP_STATES] = {
	"closed", "listen", "syn_sent", "syn_received", "established",
	"fin_wait_1", "fin_wait_2", "close_wait", "closing", "last_ack",
	"time_wait",
};

/* net.stats() -> the interface's counters since boot, and .tcp: the TCP
 * connections now by state */
static int m_stats(lua_State *L)
{
	struct net_stats st;

	net_get_stats(&st);
	lua_createtable(L, 0, 9);
#define F(name)                                         \
	lua_pushinteger(L, (lua_Integer)st.name);       \
	lua_setfield(L, -2, #name)
	F(rx_frames);
	F(tx_frames);
	F(rx_dropped);
	F(rx_nomem);
	F(tx_delayed);
	F(tx_dropped);
	F(time_wait_freed);
	F(loop_packets);
	F(loop_acks_dropped);
	F(time_wait);
	F(tx_queue);
	F(rx_bytes);
	F(tx_bytes);
	F(ip_dropped);
	F(tcp_dropped);
	F(udp_dropped);
	F(tcp_mem_errors);
	F(mem_errors);
#undef F
	lua_createtable(L, 0, NET_TCP_STATES);
	for (int i = 0; i < NET_TCP_STATES; i++) {
		lua_pushinteger(L, st.tcp_states[i]);
		lua_setfield(L, -2, tcp_state_names[i]);
	}
	lua_setfield(L, -2, "tcp");
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "stats", m_stats },
	{ "listen", net_listen },
	{ "connect", net_connect },
	{ "udp", net_udp },
	{ "resolve", m_resolve },
	{ "info", m_info },
	{ NULL, NULL },
};

int luaopen_net(lua_State *L)
{
	net_tcp_open(L);
	net_udp_open(L);
	luaL_newlib(L, funcs);
	return 1;
}

RT_MODULE("net", luaopen_net);
