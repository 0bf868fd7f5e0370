/*
 * crash.h -- deterministic crash injection for the crash-test harness.
 *
 * In debug builds (configure --enable-debug), DAXFILE_CRASH_AT=N makes the
 * process kill itself with SIGKILL at the Nth persistence point (before a
 * transaction commits, after data is flushed); DAXFILE_CRASH_COUNT=FILE
 * writes the number of points passed to FILE at exit, so a harness can
 * enumerate them.  A forked child counts from zero and reads its own
 * environment.  In other builds the hooks compile to nothing.
 */
#ifndef DX_CRASH_H
#define DX_CRASH_H 1

#ifdef DX_DEBUG
void dx_crash_point(const char *what);
#else
#define dx_crash_point(what) ((void)0)
#endif

#endif /* DX_CRASH_H */
