/*
 * acpi.c -- what lunik takes from the firmware's ACPI tables (ACPI 6.4):
 * the ways to power off and reset, the MADT's interrupt source overrides,
 * and the power button behind plat_power_button(). No AML is run: two
 * byte patterns of the DSDT are read (the \_S5 package, QEMU microvm's
 * Generic Event Device), as small kernels commonly do.
 *
 * Tables: the RSDP from PVH start_info (QEMU's PVH loader finds it),
 * else a search of the BIOS area (5.2.5.1); then the XSDT (or RSDT), the
 * FADT ("FACP", 5.2.9), its DSDT, and the MADT ("APIC", 5.2.12). Each
 * table is mapped read-only as it is read and its checksum checked.
 *
 * Power off (S5, 7.4.2 and 16.1.7): on a hardware-reduced machine (QEMU
 * microvm) SLP_TYP and SLP_EN go to the FADT's sleep control register
 * (4.8.3.7); otherwise (pc, q35) to PM1a_CNT (and PM1b_CNT), bits 10-13.
 * SLP_TYP comes from the DSDT's \_S5 package. Reset: the FADT's reset
 * register (4.8.3.6) when the FADT says it is supported.
 *
 * The power button. Hardware-reduced: QEMU's GED (ACPI0013: an edge
 * interrupt from its _CRS and a 32-bit event selector, EREG, that reads
 * and clears the pending events; bit 1 is the power-down event, as the
 * DSDT's _EVT method shows). Otherwise the fixed-feature button: the
 * PWRBTN_STS bit of PM1 status (write 1 to clear), enabled in PM1 enable,
 * signalled on the SCI (4.8.4.1), with ACPI mode entered through SMI_CMD
 * if the firmware has not (16.3.1). QEMU's system_powerdown (virsh
 * shutdown) presses it. The handler only counts presses.
 */
#include "irq.h"
#include "kernel.h"

#define RSDP_SIG "RSD PTR "
#define BIOS_AREA 0xe0000
#define BIOS_AREA_END 0x100000
#define HEADER_LEN 36
#define TABLES_MAX 32

/* FADT fields (5.2.9, table 5.9). */
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_EVT 56
#define FADT_PM1B_EVT 60
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_PM1_EVT_LEN 88
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_DSDT 140
#define FADT_SLEEP_CTL 244
#define FLAG_RESET_REG_SUP (1u << 10)
#define FLAG_HW_REDUCED (1u << 20)

/* PM1 registers (4.8.3). */
#define PM1_PWRBTN (1u << 8) /* in status and in enable */
#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << 10)
#define PM1_SLP_EN (1u << 13)
#define SLEEP_CTL_TYP_SHIFT 2
#define SLEEP_CTL_EN (1u << 5)

#define GED_PWR_DOWN (1u << 1)
#define GAS_MEMORY 0
#define GAS_IO 1
#define ACPI_ENABLE_SPINS 100000

/* A Generic Address Structure (5.2.3.2), as read. */
struct gas {
	uint8_t space, width;
	uint64_t addr;
};

struct iso {
	uint8_t irq;
	unsigned gsi, flags;
};

static struct {
	bool found, hw_reduced;
	uint16_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, smi_cmd;
	uint8_t pm1_evt_len, acpi_enable, reset_value;
	uint16_t sci;
	struct gas reset, sleep_ctl;
	bool have_s5;
	uint8_t s5a, s5b;
	uintptr_t ged_sel;
	unsigned ged_gsi, ged_flags;
	struct iso isos[16];
	unsigned nisos;
} acpi;

static volatile unsigned presses, taken;

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool same(const uint8_t *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)s[i])
			return false;
	return true;
}

static bool checksum_ok(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

/* The table at (paddr), mapped whole, if its checksum holds; else NULL. */
static const uint8_t *table(uint64_t paddr, uint32_t *len)
{
	const uint8_t *t = (const uint8_t *)(uintptr_t)paddr;

	if (!paddr || paddr >= (1ull << 32))
		return NULL;
	mmu_map((uintptr_t)paddr, HEADER_LEN, false);
	*len = le32(t + 4);
	if (*len < HEADER_LEN || *len > (16u << 20))
		return NULL;
	mmu_map((uintptr_t)paddr, *len, false);
	if (!checksum_ok(t, *len)) {
		kprintf("lunik: acpi: table %c%c%c%c at 0x%lx has a bad checksum; "
			"ignored\n", t[0], t[1], t[2], t[3], (unsigned long)paddr);
		return NULL;
	}
	return t;
}

static uint64_t find_rsdp(void)
{
	uint64_t p = pvh_rsdp();

	if (p) {
		mmu_map((uintptr_t)p, 36, false);
		return p;
	}
	mmu_map(BIOS_AREA, BIOS_AREA_END - BIOS_AREA, false);
	for (p = BIOS_AREA; p < BIOS_AREA_END; p += 16)
		if (same((const uint8_t *)(uintptr_t)p, RSDP_SIG, 8) &&
		    checksum_ok((const uint8_t *)(uintptr_t)p, 20))
			return p;
	return 0;
}

static struct gas gas_at(const uint8_t *p)
{
	return (struct gas){ .space = p[0], .width = p[1], .addr = le64(p + 4) };
}

/* Writes (v) to the register (g) describes (memory or I/O, 8 to 32
 * bits); false for any other kind. */
static bool gas_write(const struct gas *g, uint32_t v)
{
	if (!g->addr || g->width > 32)
		return false;
	if (g->space == GAS_IO && g->addr <= 0xffff) {
		if (g->width == 32)
			outl((uint16_t)g->addr, v);
		else if (g->width == 16)
			outw((uint16_t)g->addr, (uint16_t)v);
		else
			outb((uint16_t)g->addr, (uint8_t)v);
		return true;
	}
	if (g->space == GAS_MEMORY && g->addr < (1ull << 32)) {
		mmu_map((uintptr_t)g->addr, 4, true);
		if (g->width == 32)
			mmio_write32((uintptr_t)g->addr, v);
		else if (g->width == 16)
			mmio_write16((uintptr_t)g->addr, (uint16_t)v);
		else
			mmio_write8((uintptr_t)g->addr, (uint8_t)v);
		return true;
	}
	return false;
}

/* An AML integer at (*p): ZeroOp, OneOp, or a Byte/Word/DWord/QWord
 * prefix (20.2.3); advances (*p); false for anything else. */
static bool aml_int(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *s = *p;
	unsigned n = 0;

	if (s >= end)
		return false;
	switch (*s) {
	case 0x00: *v = 0; *p = s + 1; return true;
	case 0x01: *v = 1; *p = s + 1; return true;
	case 0x0a: n = 1; break;
	case 0x0b: n = 2; break;
	case 0x0c: n = 4; break;
	case 0x0e: n = 8; break;
	default: return false;
	}
	if (s + 1 + n > end)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)s[1 + i] << 8 * i;
	*p = s + 1 + n;
	return true;
}

/* Name (_S5, Package () { SLP_TYPa, SLP_TYPb, ... }) (7.4.2). */
static void find_s5(const uint8_t *t, uint32_t len)
{
	const uint8_t *end = t + len;
	uint64_t a, b;

	for (const uint8_t *p = t + HEADER_LEN + 1; p + 8 < end; p++) {
		if (!same(p, "_S5_", 4) ||
		    (p[-1] != 0x08 && !(p[-1] == '\\' && p[-2] == 0x08)))
			continue;
		p += 4;
		if (*p++ != 0x12) /* PackageOp */
			return;
		p += 1 + (*p >> 6); /* PkgLength, then NumElements */
		p++;
		if (aml_int(&p, end, &a) && aml_int(&p, end, &b)) {
			acpi.s5a = (uint8_t)(a & 7);
			acpi.s5b = (uint8_t)(b & 7);
			acpi.have_s5 = true;
		}
		return;
	}
}

/* QEMU's GED: Device { _HID "ACPI0013", _CRS { Interrupt () { gsi } },
 * OperationRegion (EREG, SystemMemory, addr, 4) ... }: the interrupt
 * (an Extended Interrupt descriptor, 6.4.3.6) and the region's address,
 * looked for in the bytes after the _HID. */
static void find_ged(const uint8_t *t, uint32_t len)
{
	const uint8_t *end = t + len, *p, *stop;
	uint64_t addr;
	bool irq = false;

	for (p = t + HEADER_LEN; p + 9 < end; p++)
		if (same(p, "ACPI0013", 9)) /* the string, NUL included */
			break;
	if (p + 9 >= end)
		return;
	stop = p + 256 < end ? p + 256 : end;
	for (; p + 9 < stop; p++) {
		if (!irq && p[0] == 0x89 && p[1] >= 6 && p[2] == 0 && p[4] >= 1) {
			acpi.ged_gsi = le32(p + 5);
			acpi.ged_flags = (p[3] & 2 ? IRQ_EDGE : IRQ_LEVEL) |
					 (p[3] & 4 ? IRQ_ACTIVE_LOW : 0);
			irq = true;
		}
		if (irq && p[0] == 0x5b && p[1] == 0x80 && p[6] == GAS_MEMORY) {
			const uint8_t *q = p + 7;

			if (aml_int(&q, stop, &addr) && addr && addr < (1ull << 32))
				acpi.ged_sel = (uintptr_t)addr;
			return;
		}
	}
}

static void read_fadt(const uint8_t *f, uint32_t len)
{
	uint32_t flags = len >= FADT_FLAGS + 4 ? le32(f + FADT_FLAGS) : 0;
	uint64_t dsdt = le32(f + FADT_DSDT);
	const uint8_t *d;
	uint32_t dlen;

	acpi.hw_reduced = flags & FLAG_HW_REDUCED;
	acpi.sci = (uint16_t)(f[FADT_SCI_INT] | f[FADT_SCI_INT + 1] << 8);
	acpi.smi_cmd = (uint16_t)le32(f + FADT_SMI_CMD);
	acpi.acpi_enable = f[FADT_ACPI_ENABLE];
	acpi.pm1a_evt = (uint16_t)le32(f + FADT_PM1A_EVT);
	acpi.pm1b_evt = (uint16_t)le32(f + FADT_PM1B_EVT);
	acpi.pm1a_cnt = (uint16_t)le32(f + FADT_PM1A_CNT);
	acpi.pm1b_cnt = (uint16_t)le32(f + FADT_PM1B_CNT);
	acpi.pm1_evt_len = f[FADT_PM1_EVT_LEN];
	if (len >= FADT_RESET_VALUE + 1 && (flags & FLAG_RESET_REG_SUP)) {
		acpi.reset = gas_at(f + FADT_RESET_REG);
		acpi.reset_value = f[FADT_RESET_VALUE];
	}
	if (len >= FADT_X_DSDT + 8 && le64(f + FADT_X_DSDT))
		dsdt = le64(f + FADT_X_DSDT);
	if (len >= FADT_SLEEP_CTL + 12)
		acpi.sleep_ctl = gas_at(f + FADT_SLEEP_CTL);
	if ((d = table(dsdt, &dlen))) {
		find_s5(d, dlen);
		if (acpi.hw_reduced)
			find_ged(d, dlen);
	}
}

/* Interrupt source overrides (5.2.12.5): MPS INTI flags, polarity in
 * bits 0-1 (3: active low), trigger mode in bits 2-3 (3: level). */
static void read_madt(const uint8_t *m, uint32_t len)
{
	for (uint32_t at = 44; at + 2 <= len && m[at + 1] >= 2; at += m[at + 1]) {
		const uint8_t *e = m + at;
		unsigned fl;

		if (e[0] != 2 || e[1] < 10 || at + 10 > len ||
		    acpi.nisos == ARRAY_SIZE(acpi.isos))
			continue;
		fl = e[8] | e[9] << 8;
		acpi.isos[acpi.nisos++] = (struct iso){
			.irq = e[3], .gsi = le32(e + 4),
			.flags = ((fl & 3) == 3 ? IRQ_ACTIVE_LOW : 0) |
				 ((fl >> 2 & 3) == 3 ? IRQ_LEVEL : IRQ_EDGE),
		};
	}
}

bool acpi_isa_irq(unsigned irq, unsigned *gsi, unsigned *flags)
{
	for (unsigned i = 0; i < acpi.nisos; i++)
		if (acpi.isos[i].irq == irq) {
			*gsi = acpi.isos[i].gsi;
			*flags = acpi.isos[i].flags;
			return true;
		}
	return false;
}

static void ged_interrupt(void *arg)
{
	if (mmio_read32(acpi.ged_sel) & GED_PWR_DOWN)
		presses++;
}

static void sci_interrupt(void *arg)
{
	if (inw(acpi.pm1a_evt) & PM1_PWRBTN) {
		outw(acpi.pm1a_evt, PM1_PWRBTN);
		presses++;
	}
}

/* Enters ACPI mode when the firmware left the machine in legacy mode
 * (SCI_EN clear): ACPI_ENABLE to SMI_CMD, then wait for SCI_EN. */
static void enter_acpi_mode(void)
{
	if ((inw(acpi.pm1a_cnt) & PM1_SCI_EN) || !acpi.smi_cmd ||
	    !acpi.acpi_enable)
		return;
	outb(acpi.smi_cmd, acpi.acpi_enable);
	for (int i = 0; i < ACPI_ENABLE_SPINS; i++)
		if (inw(acpi.pm1a_cnt) & PM1_SCI_EN)
			return;
}

static void power_button_init(void)
{
	unsigned gsi, flags;
	uint16_t pm1_en;

	if (acpi.hw_reduced) {
		if (!acpi.ged_sel)
			return;
		mmu_map(acpi.ged_sel, 4, true);
		mmio_read32(acpi.ged_sel); /* drop events from before */
		irq_route(acpi.ged_gsi, acpi.ged_flags, ged_interrupt, NULL);
		return;
	}
	if (!acpi.pm1a_evt || acpi.pm1_evt_len < 4 || !acpi.pm1a_cnt)
		return;
	enter_acpi_mode();
	/* The SCI: level and active low unless the MADT says otherwise. */
	if (!acpi_isa_irq(acpi.sci, &gsi, &flags)) {
		gsi = acpi.sci;
		flags = IRQ_LEVEL | IRQ_ACTIVE_LOW;
	}
	pm1_en = (uint16_t)(acpi.pm1a_evt + acpi.pm1_evt_len / 2);
	outw(acpi.pm1a_evt, PM1_PWRBTN);
	if (irq_route(gsi, flags, sci_interrupt, NULL) == 0)
		outw(pm1_en, inw(pm1_en) | PM1_PWRBTN);
}

void acpi_init(void)
{
	uint64_t rsdp = find_rsdp(), root;
	const uint8_t *r, *t;
	uint32_t len, tlen;
	unsigned entry;

	if (!rsdp)
		return;
	r = (const uint8_t *)(uintptr_t)rsdp;
	/* ACPI 2.0+ (revision 2): the XSDT, 64-bit entries. */
	entry = r[15] >= 2 && le64(r + 24) ? 8 : 4;
	root = entry == 8 ? le64(r + 24) : le32(r + 16);
	if (!(r = table(root, &len)))
		return;
	acpi.found = true;
	for (uint32_t at = HEADER_LEN, n = 0; at + entry <= len && n < TABLES_MAX;
	     at += entry, n++) {
		uint64_t p = entry == 8 ? le64(r + at) : le32(r + at);

		if (!(t = table(p, &tlen)))
			continue;
		if (same(t, "FACP", 4))
			read_fadt(t, tlen);
		else if (same(t, "APIC", 4))
			read_madt(t, tlen);
	}
	power_button_init();
}

bool plat_power_button(void)
{
	if (taken == presses)
		return false;
	taken++;
	return true;
}

void acpi_power_off(void)
{
	if (!acpi.found || !acpi.have_s5)
		return;
	if (acpi.hw_reduced) {
		gas_write(&acpi.sleep_ctl, (uint32_t)acpi.s5a << SLEEP_CTL_TYP_SHIFT |
						   SLEEP_CTL_EN);
	} else if (acpi.pm1a_cnt) {
		uint16_t v = inw(acpi.pm1a_cnt) & (uint16_t)~PM1_SLP_TYP_MASK;

		outw(acpi.pm1a_cnt, (uint16_t)(v | acpi.s5a << PM1_SLP_TYP_SHIFT |
					       PM1_SLP_EN));
		if (acpi.pm1b_cnt) {
			v = inw(acpi.pm1b_cnt) & (uint16_t)~PM1_SLP_TYP_MASK;
			outw(acpi.pm1b_cnt, (uint16_t)(v | acpi.s5b << PM1_SLP_TYP_SHIFT |
						       PM1_SLP_EN));
		}
	}
	for (int i = 0; i < ACPI_ENABLE_SPINS; i++)
		__asm__ volatile("pause");
}

void acpi_reset(void)
{
	if (!gas_write(&acpi.reset, acpi.reset_value))
		return;
	for (int i = 0; i < ACPI_ENABLE_SPINS; i++)
		__asm__ volatile("pause");
}
