/*
 * service.c -- giving idle pools to the processes that ask (service.h).
 *
 * Two threads with every signal blocked, started at the first attach.  The
 * listener owns the socket "\0daxfile-preload/<pid>" (SOCK_SEQPACKET) in a
 * descriptor table of its own (close_range's CLOSE_RANGE_UNSHARE, empty):
 * a connection accepted in the program's table would take its lowest free
 * number, which a shell between its close(1) and its dup2(fd, 1) expects
 * to stay free, and the dup2 would then put the program's file in the
 * connection's place, to be read, written and closed as the connection.
 * The releaser stays in the program's table, where the pools' descriptors
 * are, and closes the pools; the listener passes it one request at a time.
 * A request is the pool file's path; the answer one byte: 'y' released,
 * 'w' a call is running (ask again), 'n' something of the pool is open.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
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

/* How long a requester waits for an answer. */
#define SERVICE_TIMEOUT_MS 5000

static pthread_mutex_t service_lock = PTHREAD_MUTEX_INITIALIZER;
static bool started;		/* the threads run */

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

/* service_answer -- the answer to a request for the pool at 'path'. */
static char
service_answer(const char *path)
{
	char ans = 'y';

	pthread_mutex_lock(&answer_lock);
	if (exiting) {
		ans = 'w';
	} else {
		for (int i = 0; i < dxp_nmounts; i++) {
			int r;

			if (strcmp(dxp_mounts[i].pool_path, path) != 0)
				continue;
			r = dxp_mount_release(&dxp_mounts[i]);
			if (r == 0)
				dxp_mount_handed(&dxp_mounts[i]);
			if (r < 0)
				ans = 'n';
			else if (r > 0 && ans == 'y')
				ans = 'w';
		}
	}
	pthread_mutex_unlock(&answer_lock);
	return ans;
}

void
dxp_service_release_idle(void)
{
	pthread_mutex_lock(&answer_lock);
	if (!exiting)
		release_idle();
	pthread_mutex_unlock(&answer_lock);
}

/* The request in passing from the listener to the releaser. */
static pthread_mutex_t pass_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pass_cond = PTHREAD_COND_INITIALIZER;
static enum {
	PASS_IDLE,
	PASS_ASKED,		/* pass_path is set */
	PASS_ANSWERED,		/* pass_answer is set */
} pass_state;
static char pass_path[PATH_MAX];
static char pass_answer;
static int listening;		/* 0 starting, 1 listening, -1 failed */

/* service_release_main -- the releaser: answers what the listener passes. */
static void *
service_release_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pass_lock);
	for (;;) {
		char ans;

		while (pass_state != PASS_ASKED)
			pthread_cond_wait(&pass_cond, &pass_lock);
		pthread_mutex_unlock(&pass_lock);
		ans = service_answer(pass_path);
		pthread_mutex_lock(&pass_lock);
		pass_answer = ans;
		pass_state = PASS_ANSWERED;
		pthread_cond_broadcast(&pass_cond);
	}
	return NULL;
}

/* service_pass -- from the listener: the releaser's answer for 'path'. */
static char
service_pass(const char *path, size_t len)
{
	char ans;

	pthread_mutex_lock(&pass_lock);
	memcpy(pass_path, path, len);
	pass_path[len] = '\0';
	pass_state = PASS_ASKED;
	pthread_cond_broadcast(&pass_cond);
	while (pass_state != PASS_ANSWERED)
		pthread_cond_wait(&pass_cond, &pass_lock);
	ans = pass_answer;
	pass_state = PASS_IDLE;
	pthread_mutex_unlock(&pass_lock);
	return ans;
}

/* service_listen -- the listening socket, in the listener's own table. */
static int
service_listen(void)
{
	struct sockaddr_un sa;
	int fd;

	if (REAL(close_range)(0, ~0u, CLOSE_RANGE_UNSHARE) != 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (REAL(bind)(fd, (struct sockaddr *)&sa,
	    service_addr(getpid(), &sa)) != 0 || listen(fd, 16) != 0) {
		REAL(close)(fd);
		return -1;
	}
	return fd;
}

/* service_listen_main -- the listener: one connection, one request. */
static void *
service_listen_main(void *arg)
{
	char path[PATH_MAX];
	int fd = service_listen();

	(void)arg;
	pthread_mutex_lock(&pass_lock);
	listening = fd >= 0 ? 1 : -1;
	pthread_cond_broadcast(&pass_cond);
	pthread_mutex_unlock(&pass_lock);
	while (fd >= 0) {
		ssize_t n;
		char ans;
		int c;

		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;	/* EINTR, ECONNABORTED, ENOBUFS */
		n = recv(c, path, sizeof(path) - 1, 0);
		if (n > 0) {
			ans = service_pass(path, (size_t)n);
			send(c, &ans, 1, MSG_NOSIGNAL);
		}
		REAL(close)(c);
	}
	return NULL;
}

/* service_thread -- start 'fn' detached; 0 or an errno value. */
static int
service_thread(void *(*fn)(void *))
{
	pthread_attr_t attr;
	pthread_t t;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = REAL(pthread_create)(&t, &attr, fn, NULL);
	pthread_attr_destroy(&attr);
	return err;
}

void
dxp_service_start(void)
{
	sigset_t all, old;

	/* registered after libpmemobj was loaded: runs before its destructor */
	pthread_once(&exit_once, service_exit_register);
	pthread_mutex_lock(&service_lock);
	if (started)
		goto out;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (service_thread(service_release_main) == 0) {
		started = true;
		/* without a listener, askers wait for the pool to be let go */
		if (service_thread(service_listen_main) == 0) {
			pthread_mutex_lock(&pass_lock);
			while (listening == 0)
				pthread_cond_wait(&pass_cond, &pass_lock);
			pthread_mutex_unlock(&pass_lock);
		}
	}
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
	int fd, ret = -2;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -2;
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
	/* the parent's threads and its listener's table are not the child's */
	started = false;
	listening = 0;
	pass_state = PASS_IDLE;
	pthread_mutex_init(&service_lock, NULL);
	pthread_mutex_init(&answer_lock, NULL);
	pthread_mutex_init(&pass_lock, NULL);
	pthread_cond_init(&pass_cond, NULL);
}
