# The kernel's objects (kernel/), built with the freestanding KERNEL_CFLAGS
# of mk/toolchain.mk. The top-level Makefile includes mk/toolchain.mk,
# then this file, links $(KERNEL_OBJS) into build/lunik.o, and images are
# linked with $(KERNEL_LDS). Quiet unless V=1. Objects are named after
# their source without its suffix, so kernel/ never has foo.c and foo.S.

KERNEL_SRCS := $(sort $(wildcard kernel/*.c) $(wildcard kernel/*.S))
KERNEL_OBJS := $(patsubst %,$(BUILD)/%.o,$(basename $(KERNEL_SRCS)))
KERNEL_LDS  := kernel/link.ld

KERNEL_Q := $(if $(V),,@)

$(BUILD)/kernel/%.o: kernel/%.c
	@mkdir -p $(dir $@)
	@$(if $(KERNEL_Q),echo "  CC    $<")
	$(KERNEL_Q)$(TARGET_CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/kernel/%.o: kernel/%.S
	@mkdir -p $(dir $@)
	@$(if $(KERNEL_Q),echo "  AS    $<")
	$(KERNEL_Q)$(TARGET_CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

-include $(KERNEL_OBJS:.o=.d)

# kernel/newlib.c is newlib's port: it includes the C library's headers,
# which exist once newlib is built (the other kernel files use none).
$(BUILD)/kernel/newlib.o: $(DEPS_NEWLIB_LIBS)
