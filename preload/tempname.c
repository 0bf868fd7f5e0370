/*
 * tempname.c -- the C library's temporary names: mkstemp and its variants,
 * mkdtemp and mktemp make and test their names inside the C library (its
 * own open, mkdir and lstat), so a template that names a place in a pool
 * is served here, through the layer's calls: the same names (six letters
 * and digits for the XXXXXX), the same flags and modes (0600 files, 0700
 * directories) and the same errno values.  Other templates go to the C
 * library.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"

/* What a template is made into. */
enum temp_kind { TEMP_FILE, TEMP_DIR, TEMP_NAME };

/* As glibc: 62 letters and digits, and as many tries as TMP_MAX. */
static const char temp_letters[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
#define TEMP_TRIES (62u * 62u * 62u)

/* temp_random -- 64 random bits, from the clock if getrandom has none. */
static uint64_t
temp_random(uint64_t prev)
{
	uint64_t v;
	struct timespec ts;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v = prev ^ ((uint64_t)ts.tv_nsec << 16) ^ (uint64_t)ts.tv_sec ^
		((uint64_t)getpid() << 40);
	return v * 0x9E3779B97F4A7C15ULL;
}

/*
 * temp_make -- fill the XXXXXX before the last 'suffixlen' bytes of
 * 'tmpl' and make what 'kind' asks for.  A descriptor (TEMP_FILE), or 0;
 * -1 with EINVAL for a bad template, EEXIST when every try was taken, or
 * the errno of the failed call.
 */
static int
temp_make(char *tmpl, int suffixlen, int flags, enum temp_kind kind)
{
	size_t len = strlen(tmpl);
	uint64_t v = 0;
	struct stat st;
	char *x;

	if (suffixlen < 0 || len < 6 + (size_t)suffixlen ||
	    memcmp(tmpl + len - (size_t)suffixlen - 6, "XXXXXX", 6) != 0)
		return errno = EINVAL, -1;
	x = tmpl + len - (size_t)suffixlen - 6;
	for (unsigned tries = 0; tries < TEMP_TRIES; tries++) {
		int fd;

		v = temp_random(v + tries);
		for (int i = 0; i < 6; i++, v /= 62)
			x[i] = temp_letters[v % 62];
		switch (kind) {
		case TEMP_FILE:
			fd = open(tmpl, (flags & ~O_ACCMODE) | O_RDWR | O_CREAT |
				O_EXCL, S_IRUSR | S_IWUSR);
			if (fd >= 0)
				return fd;
			break;
		case TEMP_DIR:
			if (mkdir(tmpl, S_IRWXU) == 0)
				return 0;
			break;
		case TEMP_NAME:
			if (lstat(tmpl, &st) != 0)
				return errno == ENOENT ? 0 : -1;
			errno = EEXIST;
			break;
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

DXP_EXPORT int
mkostemps64(char *tmpl, int suffixlen, int flags)
{
	if (!dxp_path_in_pool(tmpl))
		return REAL(mkostemps64)(tmpl, suffixlen, flags);
	return temp_make(tmpl, suffixlen, flags, TEMP_FILE);
}

DXP_EXPORT int
mkostemps(char *tmpl, int suffixlen, int flags)
{
	return mkostemps64(tmpl, suffixlen, flags);
}

DXP_EXPORT int
mkstemps64(char *tmpl, int suffixlen)
{
	return mkostemps64(tmpl, suffixlen, 0);
}

DXP_EXPORT int
mkstemps(char *tmpl, int suffixlen)
{
	return mkostemps64(tmpl, suffixlen, 0);
}

DXP_EXPORT int
mkostemp64(char *tmpl, int flags)
{
	return mkostemps64(tmpl, 0, flags);
}

DXP_EXPORT int
mkostemp(char *tmpl, int flags)
{
	return mkostemps64(tmpl, 0, flags);
}

DXP_EXPORT int
mkstemp64(char *tmpl)
{
	return mkostemps64(tmpl, 0, 0);
}

DXP_EXPORT int
mkstemp(char *tmpl)
{
	return mkostemps64(tmpl, 0, 0);
}

DXP_EXPORT char *
mkdtemp(char *tmpl)
{
	if (!dxp_path_in_pool(tmpl))
		return REAL(mkdtemp)(tmpl);
	return temp_make(tmpl, 0, 0, TEMP_DIR) == 0 ? tmpl : NULL;
}

DXP_EXPORT char *
mktemp(char *tmpl)
{
	if (!dxp_path_in_pool(tmpl))
		return REAL(mktemp)(tmpl);
	if (temp_make(tmpl, 0, 0, TEMP_NAME) != 0)
		tmpl[0] = '\0';
	return tmpl;
}
