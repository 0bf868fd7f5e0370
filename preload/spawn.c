/*
 * spawn.c -- posix_spawn's file actions where a pool is involved.  The C
 * library runs the actions in its child with bare system calls: an open
 * of a pool path would reach the host, a dup2 or close of a pool
 * descriptor would act on its reserved O_PATH number, and the state handed
 * to the new image would no longer match the child's descriptors.  So the
 * layer keeps its own copy of each action list (the add functions are
 * interposed; the C library's object stays as it is), and a spawn whose
 * actions name a pool path or a pool descriptor, or close a range holding
 * one, runs as fork, the actions through the layer's own calls, the
 * attributes as the C library applies them, and the layer's exec.  The
 * exec's failure reaches the parent as posix_spawn's return value, the
 * child reaped, as the C library does.  Other spawns are the C library's.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "entry.h"
#include "hidefd.h"
#include "spawn.h"

/* One file action, as the program added it. */
struct sa_action {
	enum { SA_OPEN, SA_CLOSE, SA_DUP2, SA_CHDIR, SA_FCHDIR, SA_CLOSEFROM,
		SA_TCSETPGRP } kind;
	int fd;		/* the descriptor acted on (dup2: the source) */
	int newfd;	/* dup2's target */
	int oflag;
	mode_t mode;
	char *path;	/* open, chdir */
};

/* The actions of one posix_spawn_file_actions_t. */
struct sa_list {
	const posix_spawn_file_actions_t *fa;
	struct sa_action *v;
	size_t n, cap;
	bool broken;	/* an action could not be copied: never ours */
	struct sa_list *next;
};

static pthread_mutex_t sa_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sa_list *sa_head;

/* sa_find -- the list of 'fa' (sa_lock held); its link in *prevp. */
static struct sa_list *
sa_find(const posix_spawn_file_actions_t *fa, struct sa_list ***prevp)
{
	struct sa_list **p = &sa_head;

	for (; *p != NULL; p = &(*p)->next)
		if ((*p)->fa == fa)
			break;
	if (prevp != NULL)
		*prevp = p;
	return *p;
}

/* sa_drop -- forget the list of 'fa', if any. */
static void
sa_drop(const posix_spawn_file_actions_t *fa)
{
	struct sa_list **prev, *l;

	pthread_mutex_lock(&sa_lock);
	l = sa_find(fa, &prev);
	if (l != NULL) {
		*prev = l->next;
		for (size_t i = 0; i < l->n; i++)
			free(l->v[i].path);
		free(l->v);
		free(l);
	}
	pthread_mutex_unlock(&sa_lock);
}

/* sa_add -- note an action the C library accepted. */
static void
sa_add(const posix_spawn_file_actions_t *fa, struct sa_action a)
{
	struct sa_list **prev, *l;

	pthread_mutex_lock(&sa_lock);
	l = sa_find(fa, &prev);
	if (l == NULL) {
		l = calloc(1, sizeof(*l));
		if (l == NULL)
			goto out;
		l->fa = fa;
		*prev = l;
	}
	if (l->broken)
		goto out;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct sa_action *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			l->broken = true;
			goto out;
		}
		l->v = v;
		l->cap = cap;
	}
	if (a.path != NULL && (a.path = strdup(a.path)) == NULL) {
		l->broken = true;
		goto out;
	}
	l->v[l->n++] = a;
out:
	pthread_mutex_unlock(&sa_lock);
}

/* --- the add functions ------------------------------------------------------- */

DXP_EXPORT int
posix_spawn_file_actions_init(posix_spawn_file_actions_t *fa)
{
	sa_drop(fa);
	return REAL(posix_spawn_file_actions_init)(fa);
}

DXP_EXPORT int
posix_spawn_file_actions_destroy(posix_spawn_file_actions_t *fa)
{
	sa_drop(fa);
	return REAL(posix_spawn_file_actions_destroy)(fa);
}

DXP_EXPORT int
posix_spawn_file_actions_addopen(posix_spawn_file_actions_t *fa, int fd,
	const char *path, int oflag, mode_t mode)
{
	int r = REAL(posix_spawn_file_actions_addopen)(fa, fd, path, oflag, mode);

	if (r == 0)
		sa_add(fa, (struct sa_action){SA_OPEN, fd, -1, oflag, mode,
			(char *)path});
	return r;
}

DXP_EXPORT int
posix_spawn_file_actions_addclose(posix_spawn_file_actions_t *fa, int fd)
{
	int r = REAL(posix_spawn_file_actions_addclose)(fa, fd);

	if (r == 0)
		sa_add(fa, (struct sa_action){SA_CLOSE, fd, -1, 0, 0, NULL});
	return r;
}

DXP_EXPORT int
posix_spawn_file_actions_adddup2(posix_spawn_file_actions_t *fa, int fd,
	int newfd)
{
	int r = REAL(posix_spawn_file_actions_adddup2)(fa, fd, newfd);

	if (r == 0)
		sa_add(fa, (struct sa_action){SA_DUP2, fd, newfd, 0, 0, NULL});
	return r;
}

DXP_EXPORT int
posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *fa,
	const char *path)
{
	int r = REAL(posix_spawn_file_actions_addchdir_np)(fa, path);

	if (r == 0)
		sa_add(fa, (struct sa_action){SA_CHDIR, -1, -1, 0, 0,
			(char *)path});
	return r;
}

DXP_EXPORT int
posix_spawn_file_actions_addfchdir_np(posix_spawn_file_actions_t *fa, int fd)
{
	int r = REAL(posix_spawn_file_actions_addfchdir_np)(fa, fd);

	if (r == 0)
		sa_add(fa, (struct sa_action){SA_FCHDIR, fd, -1, 0, 0, NULL});
	return r;
}

DXP_EXPORT int
posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *fa,
	int from)
{
	int r = REAL(posix_spawn_file_actions_addclosefrom_np)(fa, from);

	if (r == 0)
		sa_add(fa, (struct sa_action){SA_CLOSEFROM, from, -1, 0, 0,
			NULL});
	return r;
}

DXP_EXPORT int
posix_spawn_file_actions_addtcsetpgrp_np(posix_spawn_file_actions_t *fa,
	int fd)
{
	int r = REAL(posix_spawn_file_actions_addtcsetpgrp_np)(fa, fd);

	if (r == 0)
		sa_add(fa, (struct sa_action){SA_TCSETPGRP, fd, -1, 0, 0,
			NULL});
	return r;
}

/* --- the spawn ------------------------------------------------------------- */

/* A closefrom's range, and whether a pool descriptor is in it. */
struct sa_range {
	int from;
	bool found;
};

static void
sa_fd_seen(int fd, struct dxp_ofd *o, bool cloexec, void *arg)
{
	struct sa_range *r = arg;

	(void)o;
	(void)cloexec;
	if (fd >= r->from)
		r->found = true;
}

/* sa_pool_fd_from -- is a descriptor >= 'from' a pool file's? */
static bool
sa_pool_fd_from(int from)
{
	struct sa_range r = {from < 0 ? 0 : from, false};

	dxp_fd_each(sa_fd_seen, &r);
	return r.found;
}

bool
dxp_spawn_needs_layer(const posix_spawn_file_actions_t *fa)
{
	bool ours = false;
	struct sa_list *l;

	if (fa == NULL || dxp_nmounts == 0)
		return false;
	pthread_mutex_lock(&sa_lock);
	l = sa_find(fa, NULL);
	for (size_t i = 0; l != NULL && !l->broken && !ours && i < l->n; i++) {
		const struct sa_action *a = &l->v[i];

		switch (a->kind) {
		case SA_OPEN:
			ours = dxp_fd_is_pool(a->fd) || dxp_path_in_pool(a->path);
			break;
		case SA_CHDIR:
			ours = dxp_path_in_pool(a->path);
			break;
		case SA_DUP2:
			ours = dxp_fd_is_pool(a->fd) || dxp_fd_is_pool(a->newfd);
			break;
		case SA_CLOSE:
		case SA_FCHDIR:
		case SA_TCSETPGRP:
			ours = dxp_fd_is_pool(a->fd);
			break;
		case SA_CLOSEFROM:
			ours = sa_pool_fd_from(a->fd);
			break;
		}
	}
	pthread_mutex_unlock(&sa_lock);
	return ours;
}

/* sa_attrs -- apply the attributes, as the C library's child does. */
static int
sa_attrs(const posix_spawnattr_t *attr)
{
	short flags = 0;
	sigset_t set;
	struct sched_param sp;
	pid_t pg;
	int policy;

	if (attr == NULL)
		return 0;
	posix_spawnattr_getflags(attr, &flags);
	if ((flags & POSIX_SPAWN_SETSID) && setsid() < 0)
		return -1;
	if (flags & POSIX_SPAWN_SETPGROUP) {
		posix_spawnattr_getpgroup(attr, &pg);
		if (setpgid(0, pg) != 0)
			return -1;
	}
	if (flags & POSIX_SPAWN_SETSCHEDULER) {
		posix_spawnattr_getschedpolicy(attr, &policy);
		posix_spawnattr_getschedparam(attr, &sp);
		if (sched_setscheduler(0, policy, &sp) == -1)
			return -1;
	} else if (flags & POSIX_SPAWN_SETSCHEDPARAM) {
		posix_spawnattr_getschedparam(attr, &sp);
		if (sched_setparam(0, &sp) != 0)
			return -1;
	}
	if ((flags & POSIX_SPAWN_RESETIDS) &&
	    (setgid(getgid()) != 0 || setuid(getuid()) != 0))
		return -1;
	if (flags & POSIX_SPAWN_SETSIGDEF) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};

		posix_spawnattr_getsigdefault(attr, &set);
		for (int s = 1; s < NSIG; s++)
			if (sigismember(&set, s) == 1)
				sigaction(s, &dfl, NULL);
	}
	if (flags & POSIX_SPAWN_SETSIGMASK) {
		posix_spawnattr_getsigmask(attr, &set);
		sigprocmask(SIG_SETMASK, &set, NULL);
	}
	return 0;
}

/* sa_run -- the actions, in order, through the layer's calls. */
static int
sa_run(const struct sa_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct sa_action *a = &l->v[i];
		int fd;

		switch (a->kind) {
		case SA_OPEN:
			fd = open(a->path, a->oflag, a->mode);
			if (fd < 0)
				return -1;
			if (fd != a->fd) {
				if (dup2(fd, a->fd) < 0)
					return -1;
				close(fd);
			}
			break;
		case SA_CLOSE:
			/* as the C library: closing a descriptor not open is fine */
			if (close(a->fd) != 0 && errno != EBADF)
				return -1;
			break;
		case SA_DUP2:
			if (a->fd == a->newfd) {
				int f = fcntl(a->fd, F_GETFD);

				if (f < 0 || fcntl(a->fd, F_SETFD, f & ~FD_CLOEXEC) < 0)
					return -1;
			} else if (dup2(a->fd, a->newfd) < 0) {
				return -1;
			}
			break;
		case SA_CHDIR:
			if (chdir(a->path) != 0)
				return -1;
			break;
		case SA_FCHDIR:
			if (fchdir(a->fd) != 0)
				return -1;
			break;
		case SA_CLOSEFROM:
			closefrom(a->fd);
			break;
		case SA_TCSETPGRP:
			if (tcsetpgrp(a->fd, getpgrp()) != 0)
				return -1;
			break;
		}
	}
	return 0;
}

int
dxp_spawn_fork(pid_t *pidp, const char *path,
	const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
	char *const argv[], char *const envp[], bool search)
{
	struct sa_list *l;
	int p[2], err = 0, status;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return errno;
	/* the child's report: above the program's descriptors, kept from its
	   closes (closefrom actions included) */
	p[1] = dxp_fd_hide(p[1]);
	pthread_mutex_lock(&sa_lock);
	pid = fork();
	if (pid == 0) {
		/* the list is the parent's copy: the child reads it alone */
		pthread_mutex_init(&sa_lock, NULL);
		l = sa_find(fa, NULL);
		REAL(close)(p[0]);
		/* the parent's unwritten stdio bytes are not the child's to
		   write (a dup2 onto 1 or 2 flushes the stream first) */
		__fpurge(stdout);
		__fpurge(stderr);
		if (sa_attrs(attr) == 0 && (l == NULL || sa_run(l) == 0)) {
			if (search)
				execvpe(path, argv, envp);
			else
				execve(path, argv, envp);
		}
		err = errno;
		(void)!REAL(write)(p[1], &err, sizeof(err));
		_exit(127);
	}
	err = errno;
	pthread_mutex_unlock(&sa_lock);
	dxp_fd_unhide(p[1]);
	REAL(close)(p[1]);
	if (pid < 0) {
		REAL(close)(p[0]);
		return err;
	}
	do {
		n = REAL(read)(p[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	REAL(close)(p[0]);
	if (n == (ssize_t)sizeof(err)) {
		/* the exec failed: as the C library, reap the child, say why */
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return err;
	}
	if (pidp != NULL)
		*pidp = pid;
	return 0;
}
