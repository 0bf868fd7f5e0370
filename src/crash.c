/*
 * crash.c -- crash injection at persistence points (crash.h).
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "crash.h"

/* Armed when the environment asks, or to re-read it in a forked child. */
bool dx_crash_armed;

static bool crash_stale;	/* a forked child: read the environment again */
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

static void
crash_read_env(void)
{
	const char *at = getenv("DAXFILE_CRASH_AT");

	crash_at = at ? strtol(at, NULL, 10) : 0;
	crash_count_file = getenv("DAXFILE_CRASH_COUNT");
	crash_stale = false;
	__atomic_store_n(&dx_crash_armed, crash_at > 0 || crash_count_file,
		__ATOMIC_RELAXED);
}

/* crash_fork_child -- the child counts its own points, from its own env. */
static void
crash_fork_child(void)
{
	atomic_store(&crash_points, 0);
	crash_stale = true;
	__atomic_store_n(&dx_crash_armed, true, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void
crash_load(void)
{
	crash_read_env();
	atexit(crash_count_write);
	pthread_atfork(NULL, NULL, crash_fork_child);
}

void
dx_crash_point_(const char *what)
{
	long n;

	if (crash_stale) {
		crash_read_env();
		if (!dx_crash_armed)
			return;
	}
	n = atomic_fetch_add(&crash_points, 1) + 1;
	if (crash_at != 0 && n == crash_at) {
		if (getenv("DAXFILE_CRASH_VERBOSE") != NULL)
			fprintf(stderr, "libdaxfile: crash point %ld: %s\n", n,
				what);
		raise(SIGKILL);
	}
}
