# Compiles lwIP 2.2's core for lunik: IPv4, TCP, UDP, ICMP, DHCP, DNS, ARP
# and the Ethernet layer, in NO_SYS mode (raw API, no threads, no sockets
# or netconn API), into one archive. mk/deps.mk runs it as
#   make -f deps/lwip/lwip.mk SRC=... OBJ=... OUT=... CC=... AR=... CFLAGS=...
# with our configuration (deps/lwip/lwipopts.h, deps/lwip/arch/cc.h) on
# the include path given in CFLAGS. Nothing of lwIP's own build is used.

LWIP_C := $(addprefix $(SRC)/core/, init.c def.c dns.c inet_chksum.c ip.c \
	mem.c memp.c netif.c pbuf.c raw.c stats.c sys.c tcp.c tcp_in.c \
	tcp_out.c timeouts.c udp.c) \
	$(addprefix $(SRC)/core/ipv4/, acd.c dhcp.c etharp.c icmp.c ip4.c \
	ip4_addr.c ip4_frag.c) \
	$(SRC)/netif/ethernet.c
LWIP_O := $(LWIP_C:$(SRC)/%.c=$(OBJ)/%.o)

$(OUT): $(LWIP_O)
	rm -f $@
	$(AR) rcsD $@ $(sort $^)

$(OBJ)/%.o: $(SRC)/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@
