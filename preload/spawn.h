/*
 * spawn.h -- posix_spawn with file actions that name a pool path or a pool
 * descriptor: run by the layer (fork, the actions through its calls, its
 * exec) rather than by the C library's child, which knows no pools.
 */
#ifndef DXP_SPAWN_H
#define DXP_SPAWN_H 1

#include <spawn.h>
#include <stdbool.h>

/* dxp_spawn_needs_layer -- do the actions of 'fa' involve a pool? */
bool dxp_spawn_needs_layer(const posix_spawn_file_actions_t *fa);

/*
 * dxp_spawn_fork -- posix_spawn(p) by fork: 0 with *pidp set, or the
 * error number of the attributes, the actions or the exec (the child then
 * reaped), as posix_spawn returns it.
 */
int dxp_spawn_fork(pid_t *pidp, const char *path,
	const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
	char *const argv[], char *const envp[], bool search);

#endif /* DXP_SPAWN_H */
