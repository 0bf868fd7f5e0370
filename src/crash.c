/*
 * crash.c -- crash injection at persistence points (debug builds only).
 */
#include "config.h"

#ifdef DX_DEBUG

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "crash.h"

static pthread_once_t crash_once = PTHREAD_ONCE_INIT;
static atomic_bool crash_read;	/* the environment was read */
static long crash_at;		/* 0: never */
static const char *crash_count_file;
static atomic_long crash_points;

static void
crash_count_write(void)
{
	FILE *f;

	if (crash_count_file == NULL)
		return;
	f = fopen(crash_count_file, "w");
	if (f == NULL)
		return;
	fprintf(f, "%ld\n", atomic_load(&crash_points));
	fclose(f);
}

/* crash_fork_child -- a child counts its own points, from its environment. */
static void
crash_fork_child(void)
{
	atomic_store(&crash_points, 0);
	atomic_store(&crash_read, false);
}

static void
crash_init(void)
{
	atexit(crash_count_write);
	pthread_atfork(NULL, NULL, crash_fork_child);
}

void
dx_crash_point(const char *what)
{
	long n;

	pthread_once(&crash_once, crash_init);
	if (!atomic_exchange(&crash_read, true)) {
		const char *at = getenv("DAXFILE_CRASH_AT");

		crash_at = at ? strtol(at, NULL, 10) : 0;
		crash_count_file = getenv("DAXFILE_CRASH_COUNT");
	}
	n = atomic_fetch_add(&crash_points, 1) + 1;
	if (crash_at != 0 && n == crash_at) {
		if (getenv("DAXFILE_CRASH_VERBOSE") != NULL)
			fprintf(stderr, "libdaxfile: crash point %ld: %s\n", n,
				what);
		raise(SIGKILL);
	}
}

#endif /* DX_DEBUG */
