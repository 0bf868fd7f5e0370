/*
 * probe.c -- finding and running daxfile-probe (probe.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "out.h"
#include "probe.h"
#include "util.h"

extern char **environ;

/*
 * How long the helper may take to start (exec, loading libpmemobj: slow
 * under valgrind), and then to make progress: a healthy open of a pool of
 * any size takes milliseconds (under 0.1 s for 16 GiB on ext4, cold), a
 * few times what starting took, so silence for PROBE_STALL_FACTOR times
 * that, and at least PROBE_STALL_MS, means that libpmemobj loops on
 * damaged metadata.  The factor and the floor keep a machine that runs
 * everything slowly (valgrind, a heavy load: 3 s was seen to cut short a
 * sound pool's open at a low priority) from being taken for a stall.
 */
#define PROBE_START_MS 30000
#define PROBE_STALL_MS 5000
#define PROBE_STALL_FACTOR 20

/*
 * probe_dir_of_library -- the directory of the shared object that holds
 * this code, as a real path, into 'dir'; false if unknown, or if the code
 * is linked into the program itself (a static link).
 */
static bool
probe_dir_of_library(char *dir)
{
	struct link_map *lm = NULL;
	Dl_info info;
	char *slash;

	if (dladdr1((void *)dx_probe_run, &info, (void **)&lm,
	    RTLD_DL_LINKMAP) == 0 || lm == NULL || lm->l_name == NULL ||
	    lm->l_name[0] == '\0' || info.dli_fname == NULL ||
	    strchr(info.dli_fname, '/') == NULL ||
	    realpath(info.dli_fname, dir) == NULL)
		return false;
	slash = strrchr(dir, '/');
	*slash = '\0';
	return true;
}

/* probe_same_dir -- do 'a' and 'b' name the same directory? */
static bool
probe_same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	return realpath(a, ra) != NULL && realpath(b, rb) != NULL &&
		strcmp(ra, rb) == 0;
}

/*
 * probe_in_tree -- the helper of the build tree a program linked with the
 * library statically lives in (the unit tests: tests/unit/ or tests/unit/
 * .libs/), looked for in the program's directory and up to three above;
 * false if there is none.
 */
static bool
probe_in_tree(char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (realpath("/proc/self/exe", dir) == NULL)
		return false;
	for (int up = 0; up < 4; up++) {
		slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			return false;
		*slash = '\0';
		if (snprintf(path, PATH_MAX, "%s/tools/daxfile-probe", dir) <
		    PATH_MAX && access(path, X_OK) == 0)
			return true;
	}
	return false;
}

/*
 * probe_find -- the helper to run, into 'path': $DAXFILE_PROBE if set;
 * the installed helper for the installed library (in the library
 * directory, or the package's, where the LD_PRELOAD layer's build of it
 * lives); for a shared library
 * that is not installed, the helper of its own build tree (libtool keeps
 * the library in .libs/, the helper is tools/daxfile-probe beside it),
 * never an installed one, which may be of another version or missing;
 * for a library linked into the program, the build tree's if the program
 * is in one, else the installed one.  -1 with errno and a message naming
 * where it looked if there is none.
 */
static int
probe_find(char *path)
{
	const char *env = getenv("DAXFILE_PROBE");
	char dir[PATH_MAX];
	bool shared;
	size_t len;

	if (env != NULL && *env != '\0') {
		if (snprintf(path, PATH_MAX, "%s", env) >= PATH_MAX)
			return dx_err(ENAMETOOLONG, "DAXFILE_PROBE is too long");
		if (access(path, X_OK) != 0)
			return dx_err_keep("cannot run the helper '%s' that DAXFILE_PROBE names",
				path);
		return 0;
	}
	shared = probe_dir_of_library(dir);
	if (!shared && probe_in_tree(path))
		return 0;
	if (!shared || probe_same_dir(dir, DX_LIBDIR) ||
	    probe_same_dir(dir, DX_PKGLIBDIR)) {
		snprintf(path, PATH_MAX, "%s", DX_PROBE_PATH);
		if (access(path, X_OK) != 0)
			return dx_err_keep("cannot run the helper %s (install libdaxfile again, or name the helper in DAXFILE_PROBE)",
				path);
		return 0;
	}
	len = strlen(dir);
	if (len >= 6 && strcmp(dir + len - 6, "/.libs") == 0)
		dir[len - 6] = '\0';
	if (snprintf(path, PATH_MAX, "%s/tools/daxfile-probe", dir) >= PATH_MAX)
		return dx_err(ENAMETOOLONG, "the build tree's path is too long");
	if (access(path, X_OK) != 0)
		return dx_err_keep("this libdaxfile is not installed and its build tree has no helper %s (build it, install libdaxfile, or name the helper in DAXFILE_PROBE)",
			path);
	return 0;
}

/*
 * probe_collect -- read the helper's words until EOF or a stall: the
 * inode offsets into 'offs' (if asked), its verdict into '*verdict' (0 if
 * none came: it crashed).  False if it stalled.
 */
static bool
probe_collect(int fd, uint64_t **offs, size_t *n, dx_arena arena,
	uint64_t *verdict)
{
	struct timespec t0, t1;
	int stall_ms = 0;
	size_t cap = 0;

	*verdict = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		uint64_t off;
		ssize_t r;

		if (poll(&p, 1, stall_ms ? stall_ms : PROBE_START_MS) <= 0)
			return false;
		r = read(fd, &off, sizeof(off));
		if (r == 0)
			return true;
		if (r != sizeof(off))
			return false;
		if (stall_ms == 0) {
			long start_ms;

			clock_gettime(CLOCK_MONOTONIC, &t1);
			start_ms = (t1.tv_sec - t0.tv_sec) * 1000 +
				(t1.tv_nsec - t0.tv_nsec) / 1000000;
			stall_ms = (int)DX_MIN((long)PROBE_START_MS,
				DX_MAX((long)PROBE_STALL_MS,
				PROBE_STALL_FACTOR * start_ms));
			continue;
		}
		if (off == DX_PROBE_SAYS_OPENED || off == DX_PROBE_SAYS_REFUSED) {
			*verdict = off;
			continue;
		}
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
	char helper[PATH_MAX];
	char *argv[] = {helper, (char *)pool,
		offs ? (char *)"--list-inodes" : NULL, NULL};
	posix_spawn_file_actions_t fa;
	int pfd[2], status, err;
	uint64_t verdict;
	bool done;
	pid_t pid;

	if (probe_find(helper) != 0)
		return -1;
	if (pipe(pfd) != 0)
		return dx_err_keep("cannot run the helper %s", helper);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	err = posix_spawn(&pid, helper, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (err != 0) {
		close(pfd[0]);
		errno = err;
		return dx_err_keep("cannot run the helper %s", helper);
	}
	if (offs != NULL) {
		*offs = NULL;
		*n = 0;
	}
	done = probe_collect(pfd[0], offs, n, arena, &verdict);
	close(pfd[0]);
	if (!done)
		kill(pid, SIGKILL);
	/* ECHILD: the caller ignores SIGCHLD; the words said it all */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!done)
		return DX_PROBE_HUNG;
	if (verdict == DX_PROBE_SAYS_OPENED)
		return DX_PROBE_OPENED;
	if (verdict == DX_PROBE_SAYS_REFUSED)
		return DX_PROBE_REFUSED;
	/* no verdict: a signal, or a sanitizer runtime's report and exit */
	return DX_PROBE_CRASHED;
}
