/*
 * net_stack.c -- lwIP in NO_SYS mode, driven by the event loop, over the
 * platform's first network device.
 *
 * At start-up: lwIP, the loopback interface (127.0.0.1), and when the
 * machine has a network device an Ethernet interface configured from the
 * boot arguments (ip=A.B.C.D/N gw=A.B.C.D dns=A.B.C.D[,A.B.C.D]) or by DHCP.
 * Boot waits for DHCP up to dhcp_timeout= seconds (default 3), then goes on
 * without an address, saying so; DHCP keeps trying in the background.
 *
 * In the loop (net_poll): frames from the device go to lwIP, the loopback
 * queue is drained, lwIP's timers run, and frames the device could not take
 * are retried. lwIP's callbacks, run from here, only ever wake tasks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/dhcp.h>
#include <lwip/dns.h>
#include <lwip/etharp.h>
#include <lwip/init.h>
#include <lwip/netif.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>
#include <netif/ethernet.h>

#include "internal.h"
#include "runtime.h"

#define NET_DEV 0
#define FRAME_MAX (1514 + 4) /* Ethernet header, 1500, room for a VLAN tag */
#define RX_BUDGET 256	     /* frames per poll, so tasks run between */
#define TXQ_MAX 512	     /* frames waiting for room in the device */
#define TW_MAX 1024	     /* TIME_WAIT pcbs kept; older ones are freed */
#define TW_CHECK_NS 250000000ull
#define DHCP_TIMEOUT_S 3.0

static struct netif eth;
static bool have_eth;
static const char *config = "none";
static struct pbuf *txq[TXQ_MAX];
static unsigned txq_head, txq_len;
static uint64_t next_tw_check;
static uint64_t rand_state;
static bool rx_more; /* the last poll left frames in the device */
static struct net_stats stats;

u32_t sys_now(void)
{
	return (u32_t)(plat_monotonic_ns() / 1000000);
}

uint32_t net_rand(void)
{
	/* xorshift64*, seeded from hardware entropy when there is some */
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return (uint32_t)((rand_state * 0x2545f4914f6cdd1dull) >> 32);
}

void net_assert(const char *msg, const char *file, int line)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "lwIP assertion \"%s\" failed at %s:%d",
		 msg, file, line);
	plat_panic(__FILE__, __LINE__, buf);
}

/* ---- the Ethernet interface */

/* Hands (p) to the device; false when its queue is full. */
static bool send_frame(struct pbuf *p)
{
	struct plat_iov iov[16];
	unsigned n = 0;

	for (struct pbuf *q = p; q; q = q->next) {
		if (n == 16) { /* a long chain: flatten it */
			static uint8_t flat[FRAME_MAX];
			u16_t len = pbuf_copy_partial(p, flat, sizeof(flat), 0);

			iov[0] = (struct plat_iov){ flat, len };
			n = 1;
			break;
		}
		iov[n++] = (struct plat_iov){ q->payload, q->len };
	}
	return plat_net_send(NET_DEV, iov, n) != -EAGAIN;
}

static void flush_txq(void)
{
	while (txq_len && send_frame(txq[txq_head])) {
		stats.tx_frames++;
		pbuf_free(txq[txq_head]);
		txq_head = (txq_head + 1) % TXQ_MAX;
		txq_len--;
	}
}

static err_t eth_output(struct netif *netif, struct pbuf *p)
{
	flush_txq();
	if (!txq_len && send_frame(p)) {
		stats.tx_frames++;
		return ERR_OK;
	}
	if (txq_len == TXQ_MAX) {
		stats.tx_dropped++;
		return ERR_MEM; /* dropped: TCP will retransmit */
	}
	stats.tx_delayed++;
	pbuf_ref(p);
	txq[(txq_head + txq_len++) % TXQ_MAX] = p;
	return ERR_OK;
}

static err_t eth_init(struct netif *netif)
{
	struct plat_net_info info;

	plat_net_info(NET_DEV, &info);
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->output = etharp_output;
	netif->linkoutput = eth_output;
	netif->mtu = info.mtu;
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, info.mac, ETH_HWADDR_LEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		       NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	netif_set_hostname(netif, "lunik");
	return ERR_OK;
}

/* Feeds lwIP up to RX_BUDGET frames. The device re-enables its receive
 * interrupt only when plat_net_recv returns 0, so a poll that stops at the
 * budget has the loop come back at once rather than wait (rx_more). */
static void receive_frames(void)
{
	rx_more = true;
	for (int i = 0; i < RX_BUDGET; i++) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, FRAME_MAX, PBUF_RAM);
		int n;

		if (!p) {
			stats.rx_nomem++;
			return; /* out of memory: the frames wait in the device */
		}
		n = plat_net_recv(NET_DEV, p->payload, FRAME_MAX);
		if (n <= 0) {
			pbuf_free(p);
			if (n == 0) {
				rx_more = false;
				return;
			}
			stats.rx_dropped++;
			continue; /* oversized frame, dropped */
		}
		stats.rx_frames++;
		pbuf_realloc(p, (u16_t)n);
		if (eth.input(p, &eth) != ERR_OK)
			pbuf_free(p);
	}
}

/* Frees the oldest TIME_WAIT pcbs beyond TW_MAX. New ones are at the head
 * of the list (tcp_priv.h's TCP_REG), so the tail is the oldest. */
static void cap_time_wait(void)
{
	struct tcp_pcb *pcb = tcp_tw_pcbs, *next;
	unsigned n = 0;

	while (pcb && ++n < TW_MAX)
		pcb = pcb->next;
	if (!pcb)
		return;
	for (pcb = pcb->next; pcb; pcb = next) {
		next = pcb->next;
		tcp_abort(pcb);
		stats.time_wait_freed++;
	}
}

void net_poll(void)
{
	uint64_t now = plat_monotonic_ns();

	if (have_eth) {
		flush_txq();
		receive_frames();
	}
	netif_poll_all();
	sys_check_timeouts();
	if (now >= next_tw_check) {
		next_tw_check = now + TW_CHECK_NS;
		cap_time_wait();
	}
}

void net_get_stats(struct net_stats *s)
{
	unsigned tw = 0;

	for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb; pcb = pcb->next)
		tw++;
	*s = stats;
	s->time_wait = tw;
	s->tx_queue = txq_len;
}

uint64_t net_deadline(void)
{
	u32_t ms = sys_timeouts_sleeptime();
	struct netif *n;

	if (rx_more)
		return 0;
	NETIF_FOREACH(n) /* packets a task sent to itself: deliver them now */
		if (n->loop_first)
			return 0;

	if (txq_len) /* the device frees room without telling us */
		return plat_monotonic_ns() + 1000000;
	if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE)
		return UINT64_MAX;
	return plat_monotonic_ns() + (uint64_t)ms * 1000000;
}

/* ---- configuration */

/* Parses "A.B.C.D" or, when (prefix) is given, "A.B.C.D/N". */
static bool parse_addr(const char *s, ip4_addr_t *addr, int *prefix)
{
	char buf[32];
	char *slash;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		char *end;
		long n;

		if (!prefix)
			return false;
		*slash = '\0';
		n = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || n < 0 || n > 32)
			return false;
		*prefix = (int)n;
	}
	return ip4addr_aton(buf, addr) != 0;
}

static void config_dns(void)
{
	const char *s = getenv("dns");
	char buf[64], *p, *save = NULL;
	u8_t n = 0;

	if (!s)
		return;
	snprintf(buf, sizeof(buf), "%s", s);
	for (p = strtok_r(buf, ",", &save); p && n < DNS_MAX_SERVERS;
	     p = strtok_r(NULL, ",", &save)) {
		ip_addr_t a;

		if (!ip4addr_aton(p, ip_2_ip4(&a))) {
			printf("lunik: net: dns=%s: not an IPv4 address, ignored\n", p);
			continue;
		}
		IP_SET_TYPE_VAL(a, IPADDR_TYPE_V4);
		dns_setserver(n++, &a);
	}
}

/* ip=A.B.C.D/N [gw=A.B.C.D]; returns false (and says why) if malformed. */
static bool config_static(const char *ip)
{
	ip4_addr_t addr, mask, gw;
	int prefix = 24;
	const char *g = getenv("gw");

	if (!parse_addr(ip, &addr, &prefix)) {
		printf("lunik: net: ip=%s: expected A.B.C.D/N, using DHCP\n", ip);
		return false;
	}
	ip4_addr_set_u32(&mask, prefix ? lwip_htonl(0xffffffffu << (32 - prefix)) : 0);
	ip4_addr_set_zero(&gw);
	if (g && !parse_addr(g, &gw, NULL))
		printf("lunik: net: gw=%s: not an IPv4 address, no gateway\n", g);
	netif_set_addr(&eth, &addr, &mask, &gw);
	config = "static";
	return true;
}

static void wait_dhcp(void)
{
	const char *s = getenv("dhcp_timeout");
	double secs = s ? strtod(s, NULL) : DHCP_TIMEOUT_S;
	uint64_t deadline = plat_monotonic_ns() + (uint64_t)(secs * 1e9);

	while (!dhcp_supplied_address(&eth) && plat_monotonic_ns() < deadline) {
		uint64_t d = net_deadline();

		plat_wait(d < deadline ? d : deadline);
		net_poll();
	}
	if (dhcp_supplied_address(&eth)) {
		config = "dhcp";
		return;
	}
	printf("lunik: net: no DHCP answer in %g s: no address yet (DHCP goes "
	       "on; or boot with ip=A.B.C.D/N gw=A.B.C.D dns=A.B.C.D)\n", secs);
}

void net_stack_init(void)
{
	struct plat_net_info info;
	const char *ip = getenv("ip");
	uint64_t seed = 0;

	if (plat_random(&seed, sizeof(seed)) != sizeof(seed))
		seed ^= plat_monotonic_ns() * 0x9e3779b97f4a7c15ull;
	rand_state = seed | 1;
	lwip_init();
	rt_add_poller(net_poll, net_deadline);
	if (plat_net_info(NET_DEV, &info) != 0)
		return;
	have_eth = netif_add(&eth, NULL, NULL, NULL, NULL, eth_init,
			     ethernet_input) != NULL;
	if (!have_eth)
		return;
	netif_set_default(&eth);
	netif_set_up(&eth);
	config_dns();
	if (!ip || !config_static(ip)) {
		dhcp_start(&eth);
		wait_dhcp();
	}
}

void net_info(struct net_info *ni)
{
	memset(ni, 0, sizeof(*ni));
	ni->config = config;
	if (!have_eth)
		return;
	ni->up = true;
	memcpy(ni->mac, eth.hwaddr, 6);
	ni->addr = ip4_addr_get_u32(netif_ip4_addr(&eth));
	ni->netmask = ip4_addr_get_u32(netif_ip4_netmask(&eth));
	ni->gateway = ip4_addr_get_u32(netif_ip4_gw(&eth));
	for (int i = 0; i < 2; i++) {
		const ip_addr_t *d = dns_getserver((u8_t)i);

		ni->dns[i] = d ? ip4_addr_get_u32(ip_2_ip4(d)) : 0;
	}
}
