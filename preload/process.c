/*
 * process.c -- pool descriptors and the current directory across exec
 * (process.h), and the entry points that start programs: the exec family,
 * posix_spawn, system, popen.  The C library's execvp, system and popen
 * call execve and posix_spawn inside it, out of reach of interposition, so
 * the layer provides them over its own execve and posix_spawn.  A program
 * stored in a pool runs from a memfd copy of it.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <paths.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "entry.h"
#include "process.h"
#include "spawn.h"
#include "shared.h"
#include "service.h"

extern char **environ;

/* state_fd -- one descriptor's line of the state. */
static void
state_fd(int fd, struct dxp_ofd *o, bool cloexec, void *arg)
{
	int sfd = *(int *)arg;
	daxfile_file *f;
	off_t off;

	if (cloexec)
		return;
	/* busy: an attach or detach in this thread or another; as it was */
	if (pthread_mutex_trylock(&o->lock) == 0) {
		f = atomic_load(&o->file);
		if (f == NULL)
			dxp_ofd_follow(o);	/* renamed while given up */
		if (f != NULL && !o->isdir) {
			off_t cur = daxfile_lseek(f, 0, SEEK_CUR);

			if (cur >= 0)
				atomic_store(&o->sh->offset, cur);
		}
		pthread_mutex_unlock(&o->lock);
	}
	off = atomic_load(&o->sh->offset);
	dprintf(sfd, "fd %d %d %d %lu %lld %llu %ld %ld %zu:%s\n", fd,
		o->m->index, o->flags, (unsigned long)o->ino,
		(long long)o->btime_ns, (unsigned long long)o->gen, (long)off,
		dxp_shared_index(o->sh), strlen(o->path), o->path);
}

/*
 * state_build -- the state for a new image in a memfd (not FD_CLOEXEC);
 * -1 if there is nothing to hand over.
 */
static int
state_build(void)
{
	struct dxp_mount *cm = dxp_cwd_pool();
	int sfd;

	if (dxp_nmounts == 0 || (atomic_load(&dxp_nfds) == 0 && cm == NULL))
		return -1;
	sfd = memfd_create("daxfile-preload-state", 0);
	if (sfd < 0)
		return -1;
	if (dxp_shared_fd() >= 0) {
		/* the new image maps the records; the descriptor goes across */
		REAL(fcntl64)(dxp_shared_fd(), F_SETFD, 0);
		dprintf(sfd, "shared %d\n", dxp_shared_fd());
	}
	if (cm != NULL) {
		char v[PATH_MAX];

		if (dxp_cwd_refresh() == 0 && dxp_cwd_get(v, sizeof(v)) != NULL)
			dprintf(sfd, "cwd %zu:%s\n", strlen(v), v);
	}
	dxp_fd_each(state_fd, &sfd);
	return sfd;
}

/* env_with -- 'envp' with DXP_STATE_ENV set to 'sfd', in 'out' (size n+2). */
static char **
env_with(char *const envp[], int sfd, char **out, char *var, size_t varsize)
{
	size_t n = 0;

	snprintf(var, varsize, "%s=%d", DXP_STATE_ENV, sfd);
	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
		if (strncmp(envp[i], DXP_STATE_ENV "=", sizeof(DXP_STATE_ENV)) != 0)
			out[n++] = envp[i];
	out[n++] = var;
	out[n] = NULL;
	return out;
}

/* env_count -- the entries of an environment. */
static size_t
env_count(char *const envp[])
{
	size_t n = 0;

	while (envp != NULL && envp[n] != NULL)
		n++;
	return n;
}

/*
 * pool_program -- a memfd copy of a program stored in a pool, not
 * FD_CLOEXEC when it is a script (its interpreter opens /dev/fd/N); -1
 * with errno on failure.
 */
static int
pool_program(struct dxp_where *w)
{
	char buf[1 << 16];
	struct stat st;
	int fd, mfd;
	ssize_t n;

	fd = dxp_open_pool(w->m, w->path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
		close(fd);
		return errno = EACCES, -1;
	}
	n = read(fd, buf, 2);
	mfd = memfd_create(strrchr(w->norm, '/') + 1,
		n == 2 && buf[0] == '#' && buf[1] == '!' ? 0 : MFD_CLOEXEC);
	if (mfd < 0 || lseek(fd, 0, SEEK_SET) != 0)
		goto err;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (REAL(write)(mfd, buf, (size_t)n) != n)
			goto err;
	if (n < 0)
		goto err;
	close(fd);
	return mfd;
err: {
	int e = errno;

	close(fd);
	if (mfd >= 0)
		REAL(close)(mfd);
	errno = e;
	return -1;
	}
}

/* exec_at -- execveat with the state handed over. */
static int
exec_at(int dirfd, const char *path, char *const argv[], char *const envp[],
	int flags)
{
	size_t n = env_count(envp);
	char *env[n + 2], var[64];
	struct dxp_where w;
	int sfd, pfd = -1, r, e;

	if (dxp_resolve_by_name(dirfd, path, &w, flags & AT_EMPTY_PATH) != 0)
		return -1;
	if (w.m != NULL) {
		pfd = pool_program(&w);
		if (pfd < 0)
			return -1;
	}
	sfd = state_build();
	if (sfd >= 0)
		envp = env_with(envp, sfd, env, var, sizeof(var));
	/*
	 * An exec would leave an attached pool unsealed (libpmemobj's lock
	 * goes with the old image, its close never runs), and the next open
	 * of it, by the new image or another process, would run the probe:
	 * tens of milliseconds each time a shell script runs a command.  A
	 * pool that the handed-over state does not use is closed first; if
	 * the exec fails, the next call attaches it again.
	 */
	dxp_service_release_idle();
	if (pfd >= 0)
		r = (int)REAL(syscall)(SYS_execveat, pfd, "", argv, envp, AT_EMPTY_PATH);
	else if (w.dirfd == AT_FDCWD && flags == 0)
		r = REAL(execve)(w.host, argv, envp);
	else
		r = (int)REAL(syscall)(SYS_execveat, w.dirfd, w.host, argv, envp, flags);
	e = errno;
	if (sfd >= 0) {
		REAL(close)(sfd);
		REAL(fcntl64)(dxp_shared_fd(), F_SETFD, FD_CLOEXEC);
	}
	if (pfd >= 0)
		REAL(close)(pfd);
	errno = e;
	return r;
}

DXP_EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	return exec_at(AT_FDCWD, path, argv, envp, 0);
}

DXP_EXPORT int
execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
	int flags)
{
	return exec_at(dirfd, path, argv, envp, flags);
}

DXP_EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	return exec_at(fd, "", argv, envp, AT_EMPTY_PATH);
}

DXP_EXPORT int
execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

/* exec_script -- run 'file' with /bin/sh, as execvp does on ENOEXEC. */
static void
exec_script(const char *file, char *const argv[], char *const envp[])
{
	size_t n = 0;

	while (argv[n] != NULL)
		n++;
	char *sargv[n + 2];

	sargv[0] = (char *)_PATH_BSHELL;
	sargv[1] = (char *)file;
	for (size_t i = 1; i <= n; i++)
		sargv[i + 1] = argv[i];
	execve(_PATH_BSHELL, sargv, envp);
}

DXP_EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	const char *path, *p;
	bool eacces = false;

	if (file == NULL || file[0] == '\0')
		return errno = ENOENT, -1;
	if (strchr(file, '/') != NULL) {
		execve(file, argv, envp);
		if (errno == ENOEXEC)
			exec_script(file, argv, envp);
		return -1;
	}
	path = getenv("PATH");
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p++) {
		const char *e = strchrnul(p, ':');
		char full[PATH_MAX];

		if (snprintf(full, sizeof(full), "%.*s%s%s", (int)(e - p), p,
		    e == p ? "" : "/", file) < (int)sizeof(full)) {
			execve(full, argv, envp);
			if (errno == ENOEXEC)
				exec_script(full, argv, envp);
			if (errno == EACCES)
				eacces = true;
			else if (errno != ENOENT && errno != ENOTDIR &&
			    errno != ESTALE && errno != ENODEV && errno != ETIMEDOUT)
				return -1;
		}
		if (*e == '\0')
			break;
		p = e;
	}
	errno = eacces ? EACCES : ENOENT;
	return -1;
}

DXP_EXPORT int
execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* ARGV_FROM_VA -- collect execl's variadic arguments into 'argv'. */
#define ARGV_FROM_VA(arg, argv, n) \
	size_t n = 1; \
	va_list ap; \
	va_start(ap, arg); \
	while (va_arg(ap, char *) != NULL) \
		n++; \
	va_end(ap); \
	char *argv[n + 1]; \
	argv[0] = (char *)(arg); \
	va_start(ap, arg); \
	for (size_t i_ = 1; i_ <= n; i_++) \
		argv[i_] = va_arg(ap, char *)

DXP_EXPORT int
execl(const char *path, const char *arg, ...)
{
	ARGV_FROM_VA(arg, argv, n);
	va_end(ap);
	return execve(path, argv, environ);
}

DXP_EXPORT int
execlp(const char *file, const char *arg, ...)
{
	ARGV_FROM_VA(arg, argv, n);
	va_end(ap);
	return execvpe(file, argv, environ);
}

DXP_EXPORT int
execle(const char *path, const char *arg, ...)
{
	ARGV_FROM_VA(arg, argv, n);
	char *const *envp = va_arg(ap, char *const *);

	va_end(ap);
	return execve(path, argv, envp);
}

/*
 * spawn_search -- posix_spawnp's search of PATH where the C library's
 * would go wrong: a relative entry ("", ".") while the current directory
 * is in a pool (the kernel's is a removed directory then), or an entry in
 * a pool.  The first executable regular file found, in 'out'; 0, 1 if
 * the C library can search, or an error number (ENOENT, EACCES).
 */
static int
spawn_search(const char *file, char *out, size_t size)
{
	const char *path = getenv("PATH"), *p;
	bool ours = dxp_cwd_pool() != NULL, eacces = false;

	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path; !ours; p++) {
		const char *e = strchrnul(p, ':');
		char dir[PATH_MAX];

		if (e > p && (size_t)(e - p) < sizeof(dir)) {
			memcpy(dir, p, (size_t)(e - p));
			dir[e - p] = '\0';
			ours = dxp_path_in_pool(dir);
		}
		if (*e == '\0')
			break;
		p = e;
	}
	if (!ours)
		return 1;
	for (p = path;; p++) {
		const char *e = strchrnul(p, ':');
		struct stat st;

		if (snprintf(out, size, "%.*s%s%s", (int)(e - p), p,
		    e == p ? "" : "/", file) < (int)size &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			eacces = true;
		}
		if (*e == '\0')
			break;
		p = e;
	}
	return eacces ? EACCES : ENOENT;
}

/* spawn -- posix_spawn(p) with the state handed over. */
static int
spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
	const posix_spawnattr_t *attr, char *const argv[], char *const envp[],
	bool search)
{
	size_t n = env_count(envp);
	char *env[n + 2], var[64], prog[64];
	struct dxp_where w;
	int sfd, pfd = -1, r;

	char found[PATH_MAX];

	if (search && dxp_nmounts != 0 && strchr(path, '/') == NULL) {
		r = spawn_search(path, found, sizeof(found));
		if (r > 1)
			return r;
		if (r == 0) {
			path = found;
			search = false;
		}
	}
	if (dxp_spawn_needs_layer(fa))
		return dxp_spawn_fork(pid, path, fa, attr, argv, envp, search);
	if (strchr(path, '/') != NULL) {
		if (dxp_resolve_by_name(AT_FDCWD, path, &w, false) != 0)
			return errno;
		if (w.m != NULL) {
			pfd = pool_program(&w);
			if (pfd < 0)
				return errno;
			/* the child inherits it: a script's interpreter opens it */
			REAL(fcntl64)(pfd, F_SETFD, 0);
			snprintf(prog, sizeof(prog), "/proc/self/fd/%d", pfd);
			path = prog;
		} else {
			path = w.host;
		}
	}
	sfd = state_build();
	if (sfd >= 0)
		envp = env_with(envp, sfd, env, var, sizeof(var));
	r = search ? REAL(posix_spawnp)(pid, path, fa, attr, argv, envp) :
		REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
	if (sfd >= 0) {
		REAL(close)(sfd);
		REAL(fcntl64)(dxp_shared_fd(), F_SETFD, FD_CLOEXEC);
	}
	if (pfd >= 0)
		REAL(close)(pfd);
	return r;
}

DXP_EXPORT int
posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
	const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	/* the library's own helper gets none of the program's state */
	if (dxp_from_lib(__builtin_return_address(0)))
		return REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
	return spawn(pid, path, fa, attr, argv, envp, false);
}

DXP_EXPORT int
posix_spawnp(pid_t *pid, const char *file,
	const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
	char *const argv[], char *const envp[])
{
	return spawn(pid, file, fa, attr, argv, envp, true);
}

DXP_EXPORT int
system(const char *cmd)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, oint, oquit;
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)cmd, NULL};
	posix_spawnattr_t attr;
	sigset_t chld, omask, dfl;
	int status = -1, r;
	pid_t pid;

	if (cmd == NULL)
		return 1;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &omask);
	sigemptyset(&dfl);
	if (oint.sa_handler != SIG_IGN)
		sigaddset(&dfl, SIGINT);
	if (oquit.sa_handler != SIG_IGN)
		sigaddset(&dfl, SIGQUIT);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &omask);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
		POSIX_SPAWN_SETSIGDEF);
	r = spawn(&pid, _PATH_BSHELL, NULL, &attr, argv, environ, false);
	posix_spawnattr_destroy(&attr);
	if (r == 0) {
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				status = -1;
				break;
			}
	} else {
		status = 127 << 8;
	}
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	sigprocmask(SIG_SETMASK, &omask, NULL);
	return status;
}

/* the streams popen made, with their children */
struct popen_ent {
	FILE *fp;
	pid_t pid;
	struct popen_ent *next;
};
static struct popen_ent *popen_list;
static pthread_mutex_t popen_lock = PTHREAD_MUTEX_INITIALIZER;

DXP_EXPORT FILE *
popen(const char *cmd, const char *mode)
{
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)cmd, NULL};
	bool rd = mode[0] == 'r', cloexec = strchr(mode, 'e') != NULL;
	posix_spawn_file_actions_t fa;
	struct popen_ent *ent;
	int p[2], r;

	if ((mode[0] != 'r' && mode[0] != 'w') ||
	    (mode[1] != '\0' && mode[1] != 'e'))
		return errno = EINVAL, NULL;
	ent = malloc(sizeof(*ent));
	if (ent == NULL || pipe2(p, O_CLOEXEC) != 0) {
		free(ent);
		return NULL;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[rd ? 1 : 0], rd ? 1 : 0);
	pthread_mutex_lock(&popen_lock);
	for (struct popen_ent *e = popen_list; e != NULL; e = e->next)
		posix_spawn_file_actions_addclose(&fa, fileno(e->fp));
	r = spawn(&ent->pid, _PATH_BSHELL, &fa, NULL, argv, environ, false);
	posix_spawn_file_actions_destroy(&fa);
	REAL(close)(p[rd ? 1 : 0]);
	if (r != 0) {
		pthread_mutex_unlock(&popen_lock);
		REAL(close)(p[rd ? 0 : 1]);
		free(ent);
		errno = r;
		return NULL;
	}
	if (!cloexec)
		REAL(fcntl64)(p[rd ? 0 : 1], F_SETFD, 0);
	ent->fp = REAL(fdopen)(p[rd ? 0 : 1], rd ? "r" : "w");
	ent->next = popen_list;
	popen_list = ent;
	pthread_mutex_unlock(&popen_lock);
	return ent->fp;
}

DXP_EXPORT int
pclose(FILE *fp)
{
	struct popen_ent **pp, *ent = NULL;
	int status;
	pid_t pid;

	pthread_mutex_lock(&popen_lock);
	for (pp = &popen_list; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->fp == fp) {
			ent = *pp;
			*pp = ent->next;
			break;
		}
	pthread_mutex_unlock(&popen_lock);
	if (ent == NULL)
		return errno = ECHILD, -1;
	pid = ent->pid;
	free(ent);
	fclose(fp);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* restore_line -- one line of the state. */
static void
restore_line(char *line)
{
	int fd, idx, flags, off;
	unsigned long ino;
	long long btime;
	unsigned long long gen;
	long pos, shidx;
	size_t len;

	if (sscanf(line, "shared %d", &fd) == 1) {
		dxp_shared_adopt(fd);
		return;
	}
	if (sscanf(line, "cwd %zu:%n", &len, &off) == 1) {
		struct dxp_where w;

		line[off + len] = '\0';
		if (dxp_resolve(AT_FDCWD, line + off, &w, false) == 0 && w.m)
			dxp_cwd_set_pool(w.m, w.norm, NULL);
		return;
	}
	if (sscanf(line, "fd %d %d %d %lu %lld %llu %ld %ld %zu:%n", &fd, &idx,
	    &flags, &ino, &btime, &gen, &pos, &shidx, &len, &off) == 9 &&
	    idx >= 0 &&
	    idx < dxp_nmounts &&
	    len < PATH_MAX) {
		struct stat fst, pst;
		struct dxp_ofd *o;

		/* the descriptor must still be the one reserved for the file */
		if (REAL(fstat64)(fd, (struct stat64 *)&fst) != 0 ||
		    REAL(stat64)(dxp_mounts[idx].pool_path,
		    (struct stat64 *)&pst) != 0 ||
		    fst.st_ino != pst.st_ino || fst.st_dev != pst.st_dev)
			return;
		line[off + len] = '\0';
		o = dxp_ofd_new(&dxp_mounts[idx], NULL, line + off, flags);
		if (o == NULL)
			return;
		o->ino = ino;
		o->btime_ns = btime;
		o->gen = gen;
		atomic_store(&o->crossed, true);
		if (dxp_shared_at(shidx) != NULL)
			o->sh = dxp_shared_at(shidx);
		else
			atomic_store(&o->sh->offset, pos);
		dxp_fd_install(fd, o, false);
	}
}

void
dxp_process_restore(void)
{
	const char *v = getenv(DXP_STATE_ENV);
	char *buf, *line, *save = NULL;
	struct stat st;
	int sfd;

	if (v == NULL)
		return;
	sfd = atoi(v);
	unsetenv(DXP_STATE_ENV);
	if (REAL(fstat64)(sfd, (struct stat64 *)&st) != 0 || st.st_size <= 0)
		return;
	buf = malloc((size_t)st.st_size + 1);
	if (buf != NULL &&
	    REAL(pread64)(sfd, buf, (size_t)st.st_size, 0) == st.st_size) {
		buf[st.st_size] = '\0';
		for (line = strtok_r(buf, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			restore_line(line);
	}
	free(buf);
	REAL(close)(sfd);
}

void
dxp_process_forked(void)
{
	pthread_mutex_init(&popen_lock, NULL);
}
