/*
 * rtc.c -- the CMOS real-time clock (Motorola MC146818A, which QEMU
 * emulates at ports 0x70/0x71), read once at boot for the wall time when
 * the hypervisor offers no wall clock of its own. Resolution: 1 s.
 *
 * The chip updates its registers once a second, and reads during an update
 * can be torn: wait for "update in progress" to clear, read everything,
 * and read again until two passes agree (the datasheet's method 3 in
 * spirit). Register B says whether values are BCD or binary and whether
 * hours are 12- or 24-hour. QEMU keeps the RTC in UTC (its default
 * -rtc base=utc), which is what the Unix epoch counts.
 */
#include "kernel.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define NMI_DISABLE 0x80 /* bit 7 of the index port */

#define REG_SEC 0x00
#define REG_MIN 0x02
#define REG_HOUR 0x04
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_CENTURY 0x32 /* by convention (ACPI FADT's default) */

#define A_UIP 0x80    /* update in progress */
#define B_24H 0x02
#define B_BINARY 0x04
#define HOUR_PM 0x80  /* in 12-hour mode */

struct rtc_time {
	uint8_t sec, min, hour, day, month, year, century;
};

static uint8_t cmos(uint8_t reg)
{
	outb(CMOS_INDEX, NMI_DISABLE | reg);
	return inb(CMOS_DATA);
}

/* Waits for no update in progress; false if it never clears. An update
 * takes under 2 ms, so a few thousand reads (each a port access) do. */
static bool settle(void)
{
	for (int i = 0; i < 100000; i++)
		if (!(cmos(REG_A) & A_UIP))
			return true;
	return false;
}

static void read_all(struct rtc_time *t)
{
	t->sec = cmos(REG_SEC);
	t->min = cmos(REG_MIN);
	t->hour = cmos(REG_HOUR);
	t->day = cmos(REG_DAY);
	t->month = cmos(REG_MONTH);
	t->year = cmos(REG_YEAR);
	t->century = cmos(REG_CENTURY);
}

static bool same(const struct rtc_time *a, const struct rtc_time *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour &&
	       a->day == b->day && a->month == b->month && a->year == b->year &&
	       a->century == b->century;
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

/* Days from 1970-01-01 to (y)-(m)-(d), proleptic Gregorian (Howard
 * Hinnant's days_from_civil, public domain). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int64_t rtc_read(void)
{
	struct rtc_time a, b;
	unsigned sec, min, hour, day, month, year, century;
	uint8_t regb;
	bool pm;
	int tries = 0;

	/* No RTC: the ports read as all ones. */
	if (cmos(REG_B) == 0xff && cmos(REG_A) == 0xff)
		return -1;
	do {
		if (!settle() || ++tries > 10)
			return -1;
		read_all(&a);
		if (!settle())
			return -1;
		read_all(&b);
	} while (!same(&a, &b));

	regb = cmos(REG_B);
	pm = !(regb & B_24H) && (a.hour & HOUR_PM);
	a.hour &= ~HOUR_PM;
	sec = a.sec, min = a.min, hour = a.hour, day = a.day;
	month = a.month, year = a.year, century = a.century;
	if (!(regb & B_BINARY)) {
		sec = bcd(a.sec), min = bcd(a.min), hour = bcd(a.hour);
		day = bcd(a.day), month = bcd(a.month), year = bcd(a.year);
		century = bcd(a.century);
	}
	if (!(regb & B_24H))
		hour = hour % 12 + (pm ? 12 : 0); /* 12 AM is 0h, 12 PM 12h */
	if (century >= 19 && century <= 21)
		year += century * 100;
	else
		year += year < 70 ? 2000 : 1900;
	if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
	    min > 59 || sec > 59)
		return -1;
	return days_from_civil(year, month, day) * 86400 + hour * 3600 +
	       min * 60 + sec;
}
