/*
 * lwipopts.h -- lunik's configuration of lwIP 2.2 (every option is
 * documented in lwIP's src/include/lwip/opt.h; only departures from its
 * defaults are here, each with its reason).
 *
 * The shape: NO_SYS (one CPU, no threads; the event loop in runtime/
 * drives lwIP's input, timers and loopback), the raw API only, IPv4 with
 * TCP, UDP, ICMP (ping answers), DHCP, DNS and ARP, memory from newlib's
 * malloc. Sized for a server: about a thousand concurrent connections,
 * limited by RAM rather than by static pools, with windows that keep a
 * 1 Gbit/s path full at sub-millisecond round trips.
 */
#ifndef LUNIK_LWIPOPTS_H
#define LUNIK_LWIPOPTS_H

/* ---- System: no threads, no OS, no locking (the loop is the only
 * caller). */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_ERRNO_STDINCLUDE 1

/* ---- Memory. Everything from malloc: pools sized at compile time would
 * cap connections at a guess, and run out under load in ways that look
 * like network faults. A failed malloc surfaces as ERR_MEM, which the
 * bindings report as "out of memory". */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
/* Only read when MEMP_MEM_MALLOC is off, and by the sanity checks that
 * count pbufs queued on a pcb. */
#define PBUF_POOL_SIZE 512
#define MEMP_NUM_TCP_PCB 1024
#define MEMP_NUM_TCP_SEG 8192

/* ---- Protocols. */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_IGMP 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
/* No address conflict detection (ARP probes) of the offered address: it
 * costs seconds at every boot, and the address comes from QEMU or a DHCP
 * server that owns the subnet. lwIP 2.2 turns it on with DHCP by default
 * (its ACD module replaced 2.1's DHCP_DOES_ARP_CHECK, which was off). */
#define LWIP_DHCP_DOES_ACD_CHECK 0
#define LWIP_ACD 0
#define LWIP_DNS 1
#define DNS_TABLE_SIZE 64 /* the cache, with the answers' TTLs */
#define DNS_MAX_NAME_LENGTH 255
#define DNS_MAX_SERVERS 2
#define DNS_LOCAL_HOSTLIST 1
#define DNS_LOCAL_HOSTLIST_INIT \
	{ DNS_LOCAL_HOSTLIST_ELEM("localhost", IPADDR4_INIT_BYTES(127, 0, 0, 1)) }
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1

/* ---- Loopback: 127.0.0.1, and packets to the guest's own address.
 * NO_SYS: the loop calls netif_poll_all(). */
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1

/* ---- TCP. MSS for a 1500-byte Ethernet MTU. Windows of 44 segments
 * (64240 bytes, the largest without window scaling); the receive window
 * only reopens as the application reads (bindings call tcp_recved() then),
 * so a connection buffers at most one window and a slow reader slows its
 * sender instead of growing the heap. */
#define TCP_MSS 1460
#define TCP_WND (44 * TCP_MSS)
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_KEEPALIVE 1
#define SO_REUSE 1
/* The accept queue is the binding's (net.listen's backlog). */
#define TCP_LISTEN_BACKLOG 0
/* TIME_WAIT lasts 2 * MSL. lwIP's default MSL of 60 s keeps a closed
 * connection's pcb for two minutes; under load runs that is tens of
 * thousands of pcbs that every incoming segment walks past (the collapse
 * of unikraft/catalog-core#77). 2 s is ample on the networks a unikernel
 * sits on; runtime/net_stack.c also caps the TIME_WAIT list's length. */
#define TCP_MSL 2000UL

/* ---- Checksums in software (the virtio-net driver negotiates no
 * offloads). */
#define LWIP_CHECKSUM_ON_COPY 1

/* ---- Statistics: protocol drops, retransmissions and allocation
 * failures, for net.stats() and the metrics (a counter increment per
 * event); no per-pool or per-interface tables, no display code. No debug
 * output (LWIP_DEBUG undefined); assertions stay on. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 0
#define ETHARP_STATS 0
#define IPFRAG_STATS 0
#define ICMP_STATS 0
#define IGMP_STATS 0
#define MEM_STATS 1
#define MEMP_STATS 0
#define SYS_STATS 0
#define IP_STATS 1
#define TCP_STATS 1
#define UDP_STATS 1
#define MIB2_STATS 0

#endif
