/*
 * crash.h -- deterministic crash injection for the crash-test harness.
 *
 * DAXFILE_CRASH_AT=N makes the process kill itself with SIGKILL at the Nth
 * persistence point (before a transaction commits, after it commits, after
 * data is flushed and before it is linked or its size published);
 * DAXFILE_CRASH_COUNT=FILE writes the number of points passed to FILE at
 * exit, so a harness can enumerate them.  A forked child counts from zero
 * and reads its own environment.  Without either variable a point costs a
 * load and a branch.
 */
#ifndef DX_CRASH_H
#define DX_CRASH_H 1

#include <stdbool.h>

extern bool dx_crash_armed;

void dx_crash_point_(const char *what);

/* dx_crash_point -- a persistence point named 'what'. */
static inline void
dx_crash_point(const char *what)
{
	if (__builtin_expect(__atomic_load_n(&dx_crash_armed, __ATOMIC_RELAXED), 0))
		dx_crash_point_(what);
}

#endif /* DX_CRASH_H */
