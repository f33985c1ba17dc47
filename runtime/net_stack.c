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
#include <lwip/ip.h>
#include <lwip/netif.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/prot/ip.h>
#include <lwip/prot/tcp.h>
#include <lwip/tcp.h>
#include <lwip/stats.h>
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
		stats.tx_bytes += txq[txq_head]->tot_len;
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
		stats.tx_bytes += p->tot_len;
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
		stats.rx_bytes += (unsigned)n;
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

/* Two of our own pcbs talking over the loopback can ACK each other
 * without end, which a Linux peer never lets happen (its
 * tcp_invalid_ratelimit). Two ways, both when windows are full (two tasks
 * sending to each other over 127.0.0.1, neither reading):
 * - lwIP 2.1.3's tcp_receive tests an empty segment's seqno against
 *   [rcv_nxt, rcv_nxt + rcv_wnd - 1], empty when the window is zero, so it
 *   answers an acceptable pure ACK at rcv_nxt (RFC 9293 3.10.7.4) with an
 *   ACK: that segment is delivered with a window of one for its duration;
 * - after zero-window probes both ways, each side's pure ACKs carry a
 *   sequence number past the other's window, and each is answered (rightly,
 *   by RFC 9293) with an ACK just like it: an ACK identical to the last one
 *   of its flow within LOOP_ACK_NS is dropped, as Linux rate-limits them.
 * Window updates and new acknowledgements differ, so they always pass. */
#define LOOP_ACK_NS 500000000ull
#define LOOP_FLOWS 16

static struct loop_ack {
	uint16_t sport, dport;
	uint32_t seq, ack, wnd;
	uint64_t at;
} loop_acks[LOOP_FLOWS];

struct tcp_seg_view {
	uint16_t sport, dport;
	uint32_t seq, ack, wnd;
};

/* Whether (p) is an empty pure ACK over TCP; fills (v). */
static bool pure_ack(struct pbuf *p, struct tcp_seg_view *v)
{
	const uint8_t *ip = p->payload, *t;
	unsigned ihl, thl;

	if (p->len < 40 || (ip[0] >> 4) != 4 || ip[9] != IP_PROTO_TCP)
		return false;
	ihl = (ip[0] & 15u) * 4;
	if (p->len < ihl + 20)
		return false;
	t = ip + ihl;
	thl = (t[12] >> 4) * 4u;
	if ((t[13] & 0x3f) != TCP_ACK || p->tot_len != ihl + thl)
		return false;
	v->sport = (uint16_t)(t[0] << 8 | t[1]);
	v->dport = (uint16_t)(t[2] << 8 | t[3]);
	v->seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | t[6] << 8 | t[7];
	v->ack = (uint32_t)t[8] << 24 | (uint32_t)t[9] << 16 | t[10] << 8 | t[11];
	v->wnd = (uint32_t)(t[14] << 8 | t[15]);
	return true;
}

/* Whether the ACK (v) repeats its flow's last one too soon (and notes it). */
static bool repeated_ack(const struct tcp_seg_view *v, uint64_t now)
{
	struct loop_ack *slot = &loop_acks[0];

	for (int i = 0; i < LOOP_FLOWS; i++) {
		struct loop_ack *a = &loop_acks[i];

		if (a->sport == v->sport && a->dport == v->dport) {
			if (a->seq == v->seq && a->ack == v->ack &&
			    a->wnd == v->wnd && now - a->at < LOOP_ACK_NS)
				return true;
			slot = a;
			break;
		}
		if (a->at < slot->at)
			slot = a;
	}
	*slot = (struct loop_ack){ v->sport, v->dport, v->seq, v->ack, v->wnd,
				   now };
	return false;
}

/* The pcb the pure ACK (v) goes to if it is acceptable at a zero window. */
static struct tcp_pcb *zero_window_ack(const struct tcp_seg_view *v)
{
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
		if (pcb->local_port == v->dport && pcb->remote_port == v->sport &&
		    ip_addr_isloopback(&pcb->local_ip) && pcb->rcv_wnd == 0 &&
		    pcb->rcv_nxt == v->seq)
			return pcb;
	return NULL;
}

/* Whether (pcb) is still an active pcb (the segment may have closed it). */
static bool tcp_pcb_alive(const struct tcp_pcb *pcb)
{
	for (struct tcp_pcb *q = tcp_active_pcbs; q; q = q->next)
		if (q == pcb)
			return true;
	return false;
}

static void poll_loopback(void)
{
	uint64_t now = plat_monotonic_ns();
	struct netif *n;

	NETIF_FOREACH(n) {
		struct pbuf *p = n->loop_first, *last = n->loop_last;
		struct tcp_pcb *pcb;
		struct tcp_seg_view v;

		if (!p)
			continue;
		n->loop_first = n->loop_last = NULL;
		while (p) {
			struct pbuf *end = p, *next;

			while (end->len != end->tot_len) /* a chained packet */
				end = end->next;
			next = end == last ? NULL : end->next;
			end->next = NULL;
			p->if_idx = netif_get_index(n);
			stats.loop_packets++;
			pcb = NULL;
			if (pure_ack(p, &v)) {
				if (repeated_ack(&v, now)) {
					stats.loop_acks_dropped++;
					pbuf_free(p);
					p = next;
					continue;
				}
				pcb = zero_window_ack(&v);
			}
			if (pcb) /* a window of one byte for this segment only */
				pcb->rcv_wnd = 1;
			if (ip_input(p, n) != ERR_OK)
				pbuf_free(p);
			if (pcb && tcp_pcb_alive(pcb) && pcb->rcv_wnd == 1)
				pcb->rcv_wnd = 0;
			p = next;
		}
	}
}

void net_poll(void)
{
	uint64_t now = plat_monotonic_ns();

	if (have_eth) {
		flush_txq();
		receive_frames();
	}
	poll_loopback();
	sys_check_timeouts();
	if (now >= next_tw_check) {
		next_tw_check = now + TW_CHECK_NS;
		cap_time_wait();
	}
}

void net_get_stats(struct net_stats *s)
{
	unsigned tw = 0;

	*s = stats;
	for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb; pcb = pcb->next)
		tw++;
	for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
		if ((unsigned)pcb->state < NET_TCP_STATES)
			s->tcp_states[pcb->state]++;
	for (struct tcp_pcb_listen *l = tcp_listen_pcbs.listen_pcbs; l;
	     l = l->next)
		s->tcp_states[LISTEN]++;
	s->tcp_states[TIME_WAIT] += tw;
	s->time_wait = tw;
	s->tx_queue = txq_len;
#if LWIP_STATS
	s->ip_dropped = lwip_stats.ip.drop;
	s->tcp_dropped = lwip_stats.tcp.drop;
	s->udp_dropped = lwip_stats.udp.drop;
	s->tcp_mem_errors = lwip_stats.tcp.memerr;
	s->mem_errors = lwip_stats.mem.err;
#endif
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

		rt_halt(d < deadline ? d : deadline);
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
