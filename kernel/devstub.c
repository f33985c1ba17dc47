/*
 * devstub.c -- TEMPORARY: weak stand-ins for the device calls of
 * platform.h until the virtio drivers land; every one says "no device".
 */
#include "kernel.h"

#define ENODEV 19

__attribute__((weak)) int plat_net_info(unsigned dev, struct plat_net_info *info)
{
	return -ENODEV;
}

__attribute__((weak)) int plat_net_send(unsigned dev, const struct plat_iov *iov, unsigned n)
{
	return -ENODEV;
}

__attribute__((weak)) int plat_net_recv(unsigned dev, void *buf, size_t size)
{
	return -ENODEV;
}

__attribute__((weak)) long plat_random(void *buf, size_t len)
{
	return -ENODEV;
}
