/*
 * cc.h -- lwIP's compiler and platform hooks for lunik (lwIP's
 * doc/sys_arch.txt, "Compiler/platform abstraction"). lwIP runs over
 * newlib on one CPU, called only from the event loop and the tasks it
 * resumes (runtime/net_stack.c), never from interrupt handlers.
 */
#ifndef LUNIK_LWIP_ARCH_CC_H
#define LUNIK_LWIP_ARCH_CC_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* newlib's sys/types.h has ssize_t (a long) but no SSIZE_MAX, without
 * which lwIP's arch.h would typedef its own. BYTE_ORDER comes from newlib's
 * machine/endian.h. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

/* Byte swaps as single instructions, not lwIP's shifts and masks. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

/* runtime/net_stack.c: a random 32-bit number (initial sequence numbers,
 * ephemeral ports, DNS query ids and ports, DHCP transaction ids). */
uint32_t net_rand(void);
#define LWIP_RAND() net_rand()

/* runtime/net_stack.c: prints the failed assertion and panics. */
void net_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_ASSERT(x) net_assert((x), __FILE__, __LINE__)
#define LWIP_PLATFORM_DIAG(x) \
	do {                  \
		printf x;     \
	} while (0)

#endif
