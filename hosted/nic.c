/*
 * nic.c -- the network device of the hosted platform: Ethernet frames to
 * and from libslirp (QEMU's user-mode network: 10.0.2.15 by DHCP, the
 * gateway 10.0.2.2, DNS at 10.0.2.3, -p forwards from 127.0.0.1, no root),
 * or an existing tap device (--net tap:NAME). lwIP stays the TCP/IP stack
 * above: slirp sees the frames a virtio-net device would carry.
 *
 * Frames slirp sends to us queue in a ring until plat_net_recv takes
 * them (a full ring drops, as a NIC does: TCP retransmits). slirp's
 * sockets and timers are served from plat_wait, and from plat_net_recv
 * when the ring is empty, so a busy runtime still gets its input.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "hosted.h"

#define MTU 1500
#define FRAME_MAX (MTU + 14)
#define RING 512
#define MAX_FORWARDS 32
#define MAX_TIMERS 16

enum kind { NET_USER, NET_TAP, NET_NONE };

struct frame {
	uint16_t len;
	uint8_t data[FRAME_MAX];
};

struct forward {
	bool udp;
	int host, guest;
	const char *spec;
};

struct timer {
	bool used, armed;
	int64_t expire_ms;
	SlirpTimerId id;
	void *opaque;
};

static enum kind kind = NET_USER;
static const char *tap_name;
static int tap_fd = -1;
static Slirp *slirp;
static struct forward forwards[MAX_FORWARDS];
static unsigned nforwards;
static struct timer timers[MAX_TIMERS];
static struct frame *ring;
static unsigned ring_head, ring_count;
static struct pollfd *poll_base; /* for slirp's poll callbacks */
static int poll_first, poll_n, poll_max;

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

void nic_configure(const char *net)
{
	if (strcmp(net, "user") == 0)
		kind = NET_USER;
	else if (strcmp(net, "none") == 0)
		kind = NET_NONE;
	else if (strncmp(net, "tap:", 4) == 0 && net[4])
		kind = NET_TAP, tap_name = net + 4;
	else
		hosted_fail("--net %s: expected user, tap:NAME or none", net);
}

void nic_forward(const char *spec)
{
	struct forward *f = &forwards[nforwards];
	char proto[4] = "tcp";
	int n = 0;

	if (nforwards == MAX_FORWARDS)
		hosted_fail("-p %s: at most %d forwards", spec, MAX_FORWARDS);
	if (sscanf(spec, "%d:%d%n/%3[a-z]%n", &f->host, &f->guest, &n, proto,
		   &n) < 2 || spec[n] || (strcmp(proto, "tcp") &&
					  strcmp(proto, "udp")) ||
	    f->host < 1 || f->host > 65535 || f->guest < 1 || f->guest > 65535)
		hosted_fail("-p %s: expected HOSTPORT:GUESTPORT or "
			    "HOSTPORT:GUESTPORT/udp, e.g. -p 8080:80", spec);
	f->udp = strcmp(proto, "udp") == 0;
	f->spec = spec;
	nforwards++;
}

/* ---- slirp's callbacks */

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
	struct frame *f;

	if (len > FRAME_MAX || ring_count == RING)
		return (ssize_t)len; /* dropped, as a full NIC would */
	f = &ring[(ring_head + ring_count++) % RING];
	f->len = (uint16_t)len;
	memcpy(f->data, buf, len);
	return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
	fprintf(stderr, "lunik: slirp: %s\n", msg);
}

static int64_t clock_get_ns(void *opaque)
{
	return (int64_t)plat_monotonic_ns();
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	for (unsigned i = 0; i < MAX_TIMERS; i++) {
		if (!timers[i].used) {
			timers[i] = (struct timer){ .used = true, .id = id,
						    .opaque = cb_opaque };
			return &timers[i];
		}
	}
	return NULL;
}

static void timer_free(void *t, void *opaque)
{
	if (t)
		((struct timer *)t)->used = false;
}

static void timer_mod(void *t, int64_t expire_ms, void *opaque)
{
	if (t) {
		((struct timer *)t)->armed = true;
		((struct timer *)t)->expire_ms = expire_ms;
	}
}

static void no_fd(int fd, void *opaque)
{
}

static void notify(void *opaque)
{
}

static const SlirpCb callbacks = {
	.send_packet = send_packet,
	.guest_error = guest_error,
	.clock_get_ns = clock_get_ns,
	.timer_free = timer_free,
	.timer_mod = timer_mod,
	.register_poll_fd = no_fd,
	.unregister_poll_fd = no_fd,
	.notify = notify,
	.timer_new_opaque = timer_new_opaque,
};

static int add_poll(int fd, int events, void *opaque)
{
	struct pollfd *p;

	if (poll_first + poll_n >= poll_max)
		return -1;
	p = &poll_base[poll_first + poll_n];
	p->fd = fd;
	p->events = (events & SLIRP_POLL_IN ? POLLIN : 0) |
		    (events & SLIRP_POLL_OUT ? POLLOUT : 0) |
		    (events & SLIRP_POLL_PRI ? POLLPRI : 0);
	p->revents = 0;
	return poll_n++;
}

static int get_revents(int idx, void *opaque)
{
	short r;

	if (idx < 0 || idx >= poll_n)
		return 0;
	r = poll_base[poll_first + idx].revents;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) |
	       (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) |
	       (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

static void run_timers(void)
{
	int64_t now = (int64_t)(plat_monotonic_ns() / 1000000);

	for (unsigned i = 0; i < MAX_TIMERS; i++) {
		struct timer *t = &timers[i];
		if (t->used && t->armed && t->expire_ms <= now) {
			t->armed = false;
			slirp_handle_timer(slirp, t->id, t->opaque);
		}
	}
}

/* ---- set-up */

static void open_user(void)
{
	SlirpConfig cfg = {
		.version = 4,
		.in_enabled = true,
		.vnetwork = { htonl(0x0a000200) },	/* 10.0.2.0 */
		.vnetmask = { htonl(0xffffff00) },	/* /24 */
		.vhost = { htonl(0x0a000202) },		/* 10.0.2.2 */
		.vdhcp_start = { htonl(0x0a00020f) },	/* 10.0.2.15 */
		.vnameserver = { htonl(0x0a000203) },	/* 10.0.2.3 */
		.if_mtu = MTU,
		.if_mru = MTU,
	};
	struct in_addr lo = { htonl(0x7f000001) };
	struct in_addr guest = { htonl(0x0a00020f) };

	slirp = slirp_new(&cfg, &callbacks, NULL);
	if (!slirp)
		hosted_fail("--net user: libslirp did not start");
	for (unsigned i = 0; i < nforwards; i++) {
		struct forward *f = &forwards[i];
		if (slirp_add_hostfwd(slirp, f->udp, lo, f->host, guest,
				      f->guest) < 0)
			hosted_fail("-p: cannot forward %s port %d of "
				    "127.0.0.1: %s", f->udp ? "udp" : "tcp",
				    f->host, strerror(errno ? errno : EADDRINUSE));
	}
}

static void open_tap(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };

	if (strlen(tap_name) >= IFNAMSIZ)
		hosted_fail("--net tap:%s: the name is too long", tap_name);
	/* TUNSETIFF would make a device of a name that has none */
	if (!if_nametoindex(tap_name))
		hosted_fail("--net tap:%s: there is no network interface %s "
			    "(create it first: ip tuntap add %s mode tap)",
			    tap_name, tap_name, tap_name);
	strcpy(ifr.ifr_name, tap_name);
	tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (tap_fd < 0)
		hosted_fail("--net tap:%s: cannot open /dev/net/tun: %s",
			    tap_name, strerror(errno));
	if (ioctl(tap_fd, TUNSETIFF, &ifr) < 0)
		hosted_fail("--net tap:%s: %s", tap_name,
			    errno == EPERM || errno == EBUSY
				    ? "not a tap device this user may use"
				    : strerror(errno));
}

void nic_init(void)
{
	if (nforwards && kind != NET_USER)
		hosted_fail("-p forwards ports through user networking; it "
			    "does not go with --net %s",
			    kind == NET_TAP ? "tap" : "none");
	if (kind == NET_USER) {
		ring = calloc(RING, sizeof(*ring));
		if (!ring)
			hosted_fail("no memory for the network's ring");
		open_user();
	} else if (kind == NET_TAP) {
		open_tap();
	}
}

/* ---- plat_wait's part */

bool nic_pending(void)
{
	return ring_count > 0;
}

void nic_poll_fill(struct pollfd *fds, int *n, int max, int *timeout_ms)
{
	int64_t now_ms;

	if (kind == NET_TAP && *n < max) {
		fds[*n] = (struct pollfd){ .fd = tap_fd, .events = POLLIN };
		(*n)++;
	}
	if (kind != NET_USER)
		return;
	uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
	poll_base = fds;
	poll_first = *n;
	poll_n = 0;
	poll_max = max;
	slirp_pollfds_fill(slirp, &t, add_poll, NULL);
	now_ms = (int64_t)(plat_monotonic_ns() / 1000000);
	for (unsigned i = 0; i < MAX_TIMERS; i++) {
		if (timers[i].used && timers[i].armed) {
			int64_t left = timers[i].expire_ms - now_ms;
			if (left < 0)
				left = 0;
			if ((uint64_t)left < t)
				t = (uint32_t)left;
		}
	}
	*timeout_ms = t == UINT32_MAX ? -1 : (int)t;
	*n += poll_n;
}

void nic_poll_done(struct pollfd *fds, int n, bool error)
{
	if (kind != NET_USER)
		return;
	poll_base = fds;
	slirp_pollfds_poll(slirp, error, get_revents, NULL);
	run_timers();
}

/* Serves slirp's sockets without waiting: for plat_net_recv. */
static void poll_now(void)
{
	struct pollfd fds[256];
	int n = 0, timeout = 0;

	nic_poll_fill(fds, &n, (int)ARRAY_SIZE(fds), &timeout);
	nic_poll_done(fds, n, poll(fds, (nfds_t)n, 0) < 0);
}

/* ---- the seam */

int plat_net_info(unsigned dev, struct plat_net_info *info)
{
	if (dev != 0 || kind == NET_NONE)
		return -ENODEV;
	memcpy(info->mac, mac, sizeof(mac));
	info->mtu = MTU;
	return 0;
}

int plat_net_send(unsigned dev, const struct plat_iov *iov, unsigned n)
{
	uint8_t frame[FRAME_MAX];
	size_t len = 0;

	if (dev != 0 || kind == NET_NONE)
		return -ENODEV;
	for (unsigned i = 0; i < n; i++) {
		if (iov[i].len > sizeof(frame) - len)
			return -EMSGSIZE;
		memcpy(frame + len, iov[i].base, iov[i].len);
		len += iov[i].len;
	}
	if (kind == NET_USER) {
		slirp_input(slirp, frame, (int)len);
		return 0;
	}
	if (write(tap_fd, frame, len) < 0 && errno == EAGAIN)
		return -EAGAIN;
	return 0; /* other errors: the frame is lost, as on a wire */
}

int plat_net_recv(unsigned dev, void *buf, size_t size)
{
	struct frame *f;

	if (dev != 0 || kind == NET_NONE)
		return -ENODEV;
	if (kind == NET_TAP) {
		uint8_t frame[65536];
		ssize_t len = read(tap_fd, frame, sizeof(frame));
		if (len <= 0)
			return 0;
		if ((size_t)len > size)
			return -EMSGSIZE;
		memcpy(buf, frame, (size_t)len);
		return (int)len;
	}
	if (!ring_count)
		poll_now();
	if (!ring_count)
		return 0;
	f = &ring[ring_head];
	ring_head = (ring_head + 1) % RING;
	ring_count--;
	if (f->len > size)
		return -EMSGSIZE;
	memcpy(buf, f->data, f->len);
	return f->len;
}
