#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
clock_rfc3339(int64_t ms, char out[25])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	int frac = (int)(ms % 1000);

	if (frac < 0) {
		frac += 1000;
		secs--;
	}
	gmtime_r(&secs, &tm);
	/* Fields are written by hand: each is in range, and snprintf's
	 * truncation warnings cannot see that. */
	unsigned f[7] = { (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)tm.tm_mon + 1,
	    (unsigned)tm.tm_mday, (unsigned)tm.tm_hour, (unsigned)tm.tm_min,
	    (unsigned)tm.tm_sec, (unsigned)frac };
	static const int width[7] = { 4, 2, 2, 2, 2, 2, 3 };
	static const char sep[7] = { '-', '-', 'T', ':', ':', '.', 'Z' };
	char *o = out;
	for (int i = 0; i < 7; i++) {
		for (int d = width[i] - 1; d >= 0; d--) {
			o[d] = (char)('0' + f[i] % 10);
			f[i] /= 10;
		}
		o += width[i];
		*o++ = sep[i];
	}
	*o = '\0';
}

static int
digits(const char **s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (**s - '0');
	}
	return v;
}

int
clock_parse_rfc3339(const char *s, int64_t *ms)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, frac = 0;

	memset(&tm, 0, sizeof tm);
	if ((y = digits(&s, 4)) < 0 || *s++ != '-' || (mo = digits(&s, 2)) < 1 || mo > 12 ||
	    *s++ != '-' || (d = digits(&s, 2)) < 1 || d > 31 ||
	    (*s != 'T' && *s != 't' && *s != ' ') || !*s++ ||
	    (h = digits(&s, 2)) < 0 || h > 23 || *s++ != ':' ||
	    (mi = digits(&s, 2)) < 0 || mi > 59 || *s++ != ':' ||
	    (sec = digits(&s, 2)) < 0 || sec > 60)
		return -1;
	if (*s == '.') {
		int scale = 100, nd = 0;
		for (s++; *s >= '0' && *s <= '9'; s++, nd++) {
			frac += (*s - '0') * scale;
			scale /= 10;
		}
		if (nd == 0)
			return -1;
	}
	int off = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om;
		if ((oh = digits(&s, 2)) < 0 || oh > 23 || *s++ != ':' ||
		    (om = digits(&s, 2)) < 0 || om > 59)
			return -1;
		off = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*s != '\0')
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
	return 0;
}

/* xoshiro256** seeded once from the kernel.  evkit's children exec at
 * once, so a forked copy of the state never makes ids. */
static _Thread_local uint64_t rs[4];	/* per thread: evbus-route delivers from several */
static _Thread_local int seeded;

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* splitmix64, to spread a weak seed over the whole state. */
static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* From the kernel; where it cannot give (an old kernel, a seccomp jail),
 * from the time, the process and the thread, which is enough for ids that
 * are to be unique, not secret. */
static void
seed(uint64_t s[4])
{
	ssize_t got;
	struct timespec ts;

	do
		got = getrandom(s, 4 * sizeof *s, 0);
	while (got < 0 && errno == EINTR);
	if (got == (ssize_t)(4 * sizeof *s))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	x ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)s;
	for (int i = 0; i < 4; i++)
		s[i] = splitmix(&x);
}

uint64_t
rand64(void)
{
	if (!seeded) {
		seed(rs);
		seeded = 1;
	}
	uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;
	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}

void
uuid_format(const unsigned char u[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	char *o = out;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[u[i] >> 4];
		*o++ = hex[u[i] & 15];
	}
	*o = '\0';
}

void
uuid_v4(char out[37])
{
	unsigned char u[16];
	uint64_t a = rand64(), b = rand64();

	memcpy(u, &a, 8);
	memcpy(u + 8, &b, 8);
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	uuid_format(u, out);
}

void
uuid_v7(char out[37])
{
	unsigned char u[16];
	uint64_t ms = (uint64_t)clock_now_ms(), b = rand64();

	for (int i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (40 - 8 * i));
	memcpy(u + 6, &b, 8);
	b = rand64();
	memcpy(u + 14, &b, 2);
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x70);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	uuid_format(u, out);
}
