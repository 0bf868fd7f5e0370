/*
 * mem.h -- the library's own DRAM allocations.  With jemalloc they come from
 * a private arena (one per pool, plus one for process-wide state) so that the
 * application's malloc is never replaced or disturbed; without it, from libc.
 */
#ifndef DX_MEM_H
#define DX_MEM_H 1

#include <stddef.h>

/* An arena handle; DX_ARENA_GLOBAL serves process-wide structures. */
typedef unsigned dx_arena;
#define DX_ARENA_GLOBAL ((dx_arena)0)

/* dx_arena_create -- a new private arena for one pool (0 on failure, errno set). */
int dx_arena_create(dx_arena *arena);
/* dx_arena_destroy -- free the arena and everything still in it. */
void dx_arena_destroy(dx_arena arena);

void *dx_malloc(dx_arena arena, size_t size);
void *dx_zalloc(dx_arena arena, size_t size);
void *dx_realloc(dx_arena arena, void *ptr, size_t size);
void dx_free(dx_arena arena, void *ptr);
char *dx_strdup(dx_arena arena, const char *s);

#endif /* DX_MEM_H */
