/*
 * time.c -- gmtime, localtime and mktime for Lua's os.date and os.time.
 *
 * newlib's versions wrap silently on values whose year does not fit in
 * struct tm's int (os.date("%Y", 2^60) gave -2120075616) and loop year
 * by year in mktime. Lua's loslib is compiled with -Dgmtime=rt_gmtime
 * -Dlocaltime=rt_localtime -Dmktime=rt_mktime (mk/deps.mk), so these
 * answer instead: NULL or -1 when the result cannot be represented, which
 * Lua turns into its own errors ("date result cannot be represented",
 * "time result cannot be represented"), as on a glibc host. Dates are
 * proleptic Gregorian in 64-bit arithmetic (H. Hinnant's days_from_civil
 * and civil_from_days). Without a TZ boot argument local time is UTC;
 * with one, newlib's localtime and mktime apply it where they can.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define SECS_PER_DAY 86400

struct tm *rt_gmtime(const time_t *t);
struct tm *rt_localtime(const time_t *t);
time_t rt_mktime(struct tm *tm);

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days from 1970-01-01 to year (y), month (m) 1..12, day 1. */
static int64_t days_from_civil(int64_t y, unsigned m)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Fills (tm) for (t) seconds since the epoch, UTC; false when its year
 * does not fit in tm_year. */
static bool civil_from_time(int64_t t, struct tm *tm)
{
	int64_t days = floor_div(t, SECS_PER_DAY), z = days + 719468;
	int64_t secs = t - days * SECS_PER_DAY;
	int64_t era = floor_div(z, 146097), y;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;

	y = (int64_t)yoe + era * 400 + (m <= 2);
	if (y - 1900 < INT_MIN || y - 1900 > INT_MAX)
		return false;
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = (int)m - 1;
	tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->tm_yday = (int)(days - days_from_civil(y, 1));
	tm->tm_wday = (int)(days - floor_div(days + 4, 7) * 7 + 4);
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
	tm->tm_isdst = 0;
	return true;
}

/* Whether the boot arguments name a time zone other than UTC. */
static bool have_tz(void)
{
	const char *tz = getenv("TZ");

	return tz && *tz;
}

/* newlib's time zone code stays within years it computes exactly. */
static bool newlib_range(const struct tm *tm)
{
	return tm->tm_year > -10000 && tm->tm_year < 10000;
}

struct tm *rt_gmtime(const time_t *t)
{
	static struct tm tm;

	return civil_from_time((int64_t)*t, &tm) ? &tm : NULL;
}

struct tm *rt_localtime(const time_t *t)
{
	static struct tm tm;

	if (!civil_from_time((int64_t)*t, &tm))
		return NULL;
	if (have_tz() && newlib_range(&tm))
		return localtime(t);
	return &tm;
}

time_t rt_mktime(struct tm *tm)
{
	int64_t mon = tm->tm_mon;
	int64_t y = (int64_t)tm->tm_year + 1900 + floor_div(mon, 12);
	int64_t t = (days_from_civil(y, (unsigned)(mon - floor_div(mon, 12) * 12) + 1) +
		     (int64_t)tm->tm_mday - 1) * SECS_PER_DAY +
		    (int64_t)tm->tm_hour * 3600 + (int64_t)tm->tm_min * 60 +
		    tm->tm_sec;
	struct tm norm;

	if (!civil_from_time(t, &norm))
		return (time_t)-1;
	if (have_tz() && newlib_range(&norm)) {
		norm.tm_isdst = tm->tm_isdst;
		*tm = norm;
		return mktime(tm);
	}
	*tm = norm;
	return (time_t)t;
}
