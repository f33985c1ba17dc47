/*
 * stack_dns.c -- whole-stack fuzz target: the DNS replies lwIP's resolver
 * parses (lwIP's dns.c under net.resolve). The app's DNS server is a Lua
 * UDP socket on 127.0.0.1:53, the resolver's server (dns=127.0.0.1): it
 * answers each query with the input, the query's id and question laid
 * over it so that lwIP reads on. Each input resolves a fresh name (the
 * cache would answer a known one). Seeds in corpus/stack_dns/: answers
 * with A records, CNAMEs, compression, NXDOMAIN.
 *
 * stack: apps/dns
 */
#include <stdlib.h>

#define STACK_ARGS "--net", "user", "--mem", "256M", "--", "log=off", \
	"ip=10.0.2.15/24", "gw=10.0.2.2", "dns=127.0.0.1"
#include "stack.h"
