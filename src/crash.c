/*
 * crash.c -- crash injection at persistence points (debug builds only).
 */
#include "config.h"

#ifdef DX_DEBUG

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "crash.h"

static pthread_once_t crash_once = PTHREAD_ONCE_INIT;
static long crash_at;		/* 0: never */
static const char *crash_count_file;
static atomic_long crash_points;

static void
crash_count_write(void)
{
	FILE *f = fopen(crash_count_file, "w");

	if (f == NULL)
		return;
	fprintf(f, "%ld\n", atomic_load(&crash_points));
	fclose(f);
}

static void
crash_init(void)
{
	const char *at = getenv("DAXFILE_CRASH_AT");

	crash_at = at ? strtol(at, NULL, 10) : 0;
	crash_count_file = getenv("DAXFILE_CRASH_COUNT");
	if (crash_count_file != NULL)
		atexit(crash_count_write);
}

void
dx_crash_point(const char *what)
{
	long n;

	pthread_once(&crash_once, crash_init);
	n = atomic_fetch_add(&crash_points, 1) + 1;
	if (crash_at != 0 && n == crash_at) {
		if (getenv("DAXFILE_CRASH_VERBOSE") != NULL)
			fprintf(stderr, "libdaxfile: crash point %ld: %s\n", n,
				what);
		raise(SIGKILL);
	}
}

#endif /* DX_DEBUG */
