/*
 * service.c -- giving idle pools to the processes that ask (service.h).
 *
 * The listener is a thread with every signal blocked, started at the first
 * attach; its socket is "\0daxfile-preload/<pid>" (SOCK_SEQPACKET).  A
 * request is the pool file's path; the answer one byte: 'y' released,
 * 'w' a call is running (ask again), 'n' something of the pool is open.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mount.h"
#include "real.h"
#include "service.h"
#include "hidefd.h"

/* How long a requester waits for an answer. */
#define SERVICE_TIMEOUT_MS 5000

static pthread_mutex_t service_lock = PTHREAD_MUTEX_INITIALIZER;
static int service_fd = -1;

/*
 * A process in exit() gives nothing up once its libraries' destructors
 * (the library's, libpmemobj's) may be running: a pool closed beside them
 * could touch what they free.  So its exit handler, which runs before
 * them, closes the pools nothing of which is open (sealed: the next
 * process opens them without the probe) and then refuses; an answer and
 * the exit are ordered by answer_lock, and askers are told to ask again
 * ('w') until the process is gone and its lock on the pool file with it.
 */
static pthread_mutex_t answer_lock = PTHREAD_MUTEX_INITIALIZER;
static bool exiting;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

/* release_idle -- give up the pools this process attached that are idle. */
static void
release_idle(void)
{
	pid_t self = getpid();

	for (int i = 0; i < dxp_nmounts; i++)
		if (atomic_load(&dxp_mounts[i].pool) != NULL &&
		    dxp_mounts[i].pid == self)
			(void)dxp_mount_release(&dxp_mounts[i]);
}

/* service_exit -- at exit (atexit: before any library's destructor). */
static void
service_exit(void)
{
	pthread_mutex_lock(&answer_lock);
	release_idle();
	exiting = true;
	pthread_mutex_unlock(&answer_lock);
}

static void
service_exit_register(void)
{
	atexit(service_exit);
}

/* service_addr -- the socket address of process 'pid'. */
static socklen_t
service_addr(pid_t pid, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
		"daxfile-preload/%d", (int)pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* service_answer -- serve one request on connection 'c'. */
static void
service_answer(int c)
{
	char path[PATH_MAX];
	char ans = 'n';
	ssize_t n;

	n = recv(c, path, sizeof(path) - 1, 0);
	pthread_mutex_lock(&answer_lock);
	if (n > 0 && exiting) {
		ans = 'w';
		send(c, &ans, 1, MSG_NOSIGNAL);
	} else if (n > 0) {
		path[n] = '\0';
		ans = 'y';
		for (int i = 0; i < dxp_nmounts; i++) {
			int r;

			if (strcmp(dxp_mounts[i].pool_path, path) != 0)
				continue;
			r = dxp_mount_release(&dxp_mounts[i]);
			if (r < 0)
				ans = 'n';
			else if (r > 0 && ans == 'y')
				ans = 'w';
		}
		send(c, &ans, 1, MSG_NOSIGNAL);
	}
	pthread_mutex_unlock(&answer_lock);
	REAL(close)(c);
}

void
dxp_service_release_idle(void)
{
	pthread_mutex_lock(&answer_lock);
	if (!exiting)
		release_idle();
	pthread_mutex_unlock(&answer_lock);
}

/*
 * service_main -- the listener.  It waits in poll, not in accept: a
 * blocked accept holds the lowest free descriptor number reserved, which
 * would make the program's dup2 onto that number fail with EBUSY and its
 * open skip it.
 */
static void *
service_main(void *arg)
{
	struct pollfd p = {(int)(long)arg, POLLIN, 0};

	for (;;) {
		int c;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return NULL;
		c = accept4(p.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c >= 0) {
			fcntl(c, F_SETFL, 0);
			service_answer(c);
		}
	}
}

void
dxp_service_start(void)
{
	struct sockaddr_un sa;
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int fd;

	/* registered after libpmemobj was loaded: runs before its destructor */
	pthread_once(&exit_once, service_exit_register);
	pthread_mutex_lock(&service_lock);
	if (service_fd >= 0)
		goto out;
	fd = dxp_fd_hide(socket(AF_UNIX,
		SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (fd < 0)
		goto out;
	if (bind(fd, (struct sockaddr *)&sa, service_addr(getpid(), &sa)) != 0 ||
	    listen(fd, 16) != 0) {
		dxp_fd_unhide(fd);
		REAL(close)(fd);
		goto out;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (REAL(pthread_create)(&t, &attr, service_main, (void *)(long)fd) == 0) {
		service_fd = fd;
	} else {
		dxp_fd_unhide(fd);
		REAL(close)(fd);
	}
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	pthread_mutex_unlock(&service_lock);
}

int
dxp_service_request(pid_t holder, const char *pool_path)
{
	struct sockaddr_un sa;
	struct pollfd p;
	char ans = 'n';
	int fd, ret = -1;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, service_addr(holder, &sa)) != 0) {
		/* no listener: the damaged-pool probe, a process still
		   attaching the pool, or one outside the layer */
		ret = 2;
		goto out;
	}
	if (send(fd, pool_path, strlen(pool_path), MSG_NOSIGNAL) < 0) {
		/* it closed its listener between our connect and our send:
		   exiting, as when it goes away without answering */
		if (errno == EPIPE || errno == ECONNRESET || errno == ECONNREFUSED)
			ret = 2;
		goto out;
	}
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, SERVICE_TIMEOUT_MS) == 1) {
		ssize_t n = recv(fd, &ans, 1, 0);

		if (n == 1)
			ret = ans == 'y' ? 0 : ans == 'w' ? 1 : -1;
		else if (n == 0 || errno == ECONNRESET)
			ret = 2;	/* it went away without answering: exiting */
	}
out:
	REAL(close)(fd);
	return ret;
}

void
dxp_service_fork_prepare(void)
{
	pthread_mutex_lock(&answer_lock);
}

void
dxp_service_fork_parent(void)
{
	pthread_mutex_unlock(&answer_lock);
}

void
dxp_service_forget(void)
{
	if (service_fd >= 0) {
		dxp_fd_unhide(service_fd);
		REAL(close)(service_fd);
	}
	service_fd = -1;
	pthread_mutex_init(&service_lock, NULL);
	pthread_mutex_init(&answer_lock, NULL);
}
