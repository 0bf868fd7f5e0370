/*
 * probe.h -- running daxfile-probe, the helper that opens a pool with
 * libpmemobj in a process of its own (tools/probe.c): libpmemobj 1.12 can
 * crash or loop on a pool whose own metadata is damaged.  The helper is
 * started with posix_spawn (no code of ours runs in a forked copy of a
 * threaded process); $DAXFILE_PROBE names it, else the installed one for
 * the installed library, the build tree's for a library of a build tree.
 * It writes a word when it starts, one per inode it lists, and its verdict
 * last, so that a stall is seen within seconds and the verdict does not
 * depend on an exit status (lost to a caller that ignores SIGCHLD).
 */
#ifndef DX_PROBE_H
#define DX_PROBE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* What the helper writes, word by word, besides inode offsets. */
#define DX_PROBE_STARTED 0ULL			/* first: it runs */
#define DX_PROBE_SAYS_OPENED UINT64_MAX		/* last: opened (list whole) */
#define DX_PROBE_SAYS_REFUSED (UINT64_MAX - 1)	/* last: refused */

/* How the helper ended. */
enum dx_probe_status {
	DX_PROBE_OPENED,	/* libpmemobj opened the pool */
	DX_PROBE_REFUSED,	/* libpmemobj refused it (the real open says why) */
	DX_PROBE_CRASHED,	/* libpmemobj crashed on it */
	DX_PROBE_HUNG,		/* no progress for too long: killed */
};

/*
 * dx_probe_run -- run the helper on 'pool'; with 'offs', also collect the
 * offsets of the pool's inode objects (allocated in 'arena', count in
 * '*n').  The status, or -1 with errno and a message if the helper cannot
 * be found or run.
 */
int dx_probe_run(const char *pool, uint64_t **offs, size_t *n, dx_arena arena);

#endif /* DX_PROBE_H */
