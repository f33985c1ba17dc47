/*
 * strtod.c -- strtod for Lua (luaconf's lua_str2number calls strtod, and
 * Lua is built with -Dstrtod=rt_strtod): the C syntax of a decimal number
 * rewritten as JSON's and read by rt_read_float, exactly and in linear
 * time. newlib's strtod stays for what is rare and cheap: hexadecimal
 * floats, infinity and NaN.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#undef strtod /* newlib's, for the forms above */

#define SMALL 128

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

double rt_strtod(const char *s, char **end)
{
	const char *p = s, *ip, *ie, *fp = NULL, *fe = NULL, *ep = NULL;
	char small[SMALL], *buf = small, *w;
	long exp = 0;
	int neg = 0;
	size_t need;
	double v;

	while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!digit(*p) && !(*p == '.' && digit(p[1])))
		return strtod(s, end); /* inf, nan, or no number at all */
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return strtod(s, end);
	while (*p == '0' && digit(p[1]))
		p++; /* JSON has no leading zeros */
	ip = p;
	while (digit(*p))
		p++;
	ie = p;
	if (*p == '.') {
		fp = ++p;
		while (digit(*p))
			p++;
		fe = p;
	}
	if ((*p == 'e' || *p == 'E') &&
	    (digit(p[1]) || ((p[1] == '+' || p[1] == '-') && digit(p[2])))) {
		const char *q = p + 1;
		int eneg = *q == '-';

		if (*q == '+' || *q == '-')
			q++;
		for (; digit(*q); q++)
			if (exp < 100000000)
				exp = exp * 10 + (*q - '0');
		if (eneg)
			exp = -exp;
		ep = q;
	}
	if (end)
		*end = (char *)(ep ? ep : p);
	/* "-" int "." frac "e" exp, as JSON writes it */
	need = 1 + (size_t)(ie - ip) + 1 + 1 + (fp ? (size_t)(fe - fp) : 0) + 16;
	if (need > SMALL && !(buf = malloc(need)))
		return strtod(s, end);
	w = buf;
	if (neg)
		*w++ = '-';
	if (ie == ip)
		*w++ = '0';
	memcpy(w, ip, (size_t)(ie - ip));
	w += ie - ip;
	if (fp && fe > fp) {
		*w++ = '.';
		memcpy(w, fp, (size_t)(fe - fp));
		w += fe - fp;
	}
	if (exp) {
		*w++ = 'e';
		w += snprintf(w, 16, "%ld", exp);
	}
	v = rt_read_float(buf, w);
	if (buf != small)
		free(buf);
	if (isinf(v))
		errno = ERANGE;
	return v;
}
