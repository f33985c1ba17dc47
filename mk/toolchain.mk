# Toolchain and flags shared by every target-side object (kernel, runtime,
# bindings, and the third-party libraries built under build/).
#
# The guest is x86-64 baseline (QEMU's qemu64 CPU has SSE2 and no more),
# identity-mapped below 4 GiB, built with the host's gcc as a freestanding
# compiler. Frame pointers stay on everywhere so a panic can walk the stack.

BUILD    ?= build
SYSROOT  := $(BUILD)/sysroot

TARGET_CC      := gcc
TARGET_LD      := ld
TARGET_AR      := ar
TARGET_OBJCOPY := objcopy
GCC_INCLUDE    := $(shell $(TARGET_CC) -print-file-name=include)
LIBGCC         := $(shell $(TARGET_CC) -print-libgcc-file-name)

# Code generation, common to our code and third-party code.
TARGET_ARCH_FLAGS := -m64 -march=x86-64 -mtune=generic -mno-red-zone \
	-fno-pic -fno-pie -mcmodel=small -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-unwind-tables -ffunction-sections -fdata-sections

TARGET_OPT := -O2 -g

# Headers: newlib's, then gcc's own (stddef.h, stdarg.h, float.h), nothing
# from the host.
TARGET_INCLUDES := -nostdinc -isystem $(SYSROOT)/include -isystem $(GCC_INCLUDE)

# Our own code is held to a stricter standard than third-party code.
TARGET_WARN := -std=gnu11 -Wall -Wextra -Werror=implicit-function-declaration \
	-Wno-unused-parameter

# Third-party libraries: hosted C over newlib.
TARGET_CFLAGS := $(TARGET_ARCH_FLAGS) $(TARGET_OPT) $(TARGET_INCLUDES)

# kernel/: freestanding, and no SSE of its own so interrupt paths stay cheap.
KERNEL_CFLAGS := $(TARGET_CFLAGS) $(TARGET_WARN) -ffreestanding -mgeneral-regs-only

# runtime/ and bindings/: hosted C over newlib and Lua.
RUNTIME_CFLAGS := $(TARGET_CFLAGS) $(TARGET_WARN) -Ikernel
