/*
 * probe.c -- running daxfile-probe (probe.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

/* Without progress for this long, the helper is taken to hang. */
#define PROBE_STALL_MS 10000

static const char *
probe_path(void)
{
	const char *p = getenv("DAXFILE_PROBE");

	return p != NULL ? p : DX_PROBE_PATH;
}

/* probe_collect -- read offsets from the helper until EOF or a stall. */
static bool
probe_collect(int fd, uint64_t **offs, size_t *n, dx_arena arena)
{
	size_t cap = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		uint64_t off;
		ssize_t r;

		if (poll(&p, 1, PROBE_STALL_MS) <= 0)
			return false;
		r = read(fd, &off, sizeof(off));
		if (r == 0)
			return true;
		if (r != sizeof(off))
			return false;
		if (offs == NULL)
			continue;
		if (*n == cap) {
			uint64_t *o;

			cap = cap ? 2 * cap : 1024;
			o = dx_realloc(arena, *offs, cap * sizeof(*o));
			if (o == NULL)
				return false;
			*offs = o;
		}
		(*offs)[(*n)++] = off;
	}
}

int
dx_probe_run(const char *pool, uint64_t **offs, size_t *n, dx_arena arena)
{
	const char *helper = probe_path();
	char *argv[] = {(char *)helper, (char *)pool,
		offs ? (char *)"--list-inodes" : NULL, NULL};
	posix_spawn_file_actions_t fa;
	int pfd[2], status, err;
	bool done;
	pid_t pid;

	if (access(helper, X_OK) != 0 || pipe(pfd) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	err = posix_spawn(&pid, helper, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (err != 0) {
		close(pfd[0]);
		errno = err;
		return -1;
	}
	if (offs != NULL) {
		*offs = NULL;
		*n = 0;
	}
	done = probe_collect(pfd[0], offs, n, arena);
	close(pfd[0]);
	if (!done)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!done && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return DX_PROBE_HUNG;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && done)
		return DX_PROBE_OPENED;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		return DX_PROBE_REFUSED;
	/* a signal, or a sanitizer runtime's report and exit */
	return DX_PROBE_CRASHED;
}
