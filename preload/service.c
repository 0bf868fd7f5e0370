/*
 * service.c -- giving idle pools to the processes that ask (service.h).
 *
 * The listener is a thread with every signal blocked, started at the first
 * attach; its socket is "\0daxfile-preload/<pid>" (SOCK_SEQPACKET).  A
 * request is the pool file's path; the answer one byte: 'y' released,
 * 'n' busy.
 */
#define _GNU_SOURCE 1
#include <errno.h>
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
static int service_fd = -1;

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
	if (n > 0) {
		path[n] = '\0';
		ans = 'y';
		for (int i = 0; i < dxp_nmounts; i++)
			if (strcmp(dxp_mounts[i].pool_path, path) == 0 &&
			    dxp_mount_release(&dxp_mounts[i]) != 0)
				ans = 'n';
		send(c, &ans, 1, MSG_NOSIGNAL);
	}
	REAL(close)(c);
}

static void *
service_main(void *arg)
{
	int fd = (int)(long)arg;

	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c >= 0)
			service_answer(c);
		else if (errno != EINTR && errno != ECONNABORTED)
			return NULL;
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

	pthread_mutex_lock(&service_lock);
	if (service_fd >= 0)
		goto out;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	if (bind(fd, (struct sockaddr *)&sa, service_addr(getpid(), &sa)) != 0 ||
	    listen(fd, 16) != 0) {
		REAL(close)(fd);
		goto out;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (REAL(pthread_create)(&t, &attr, service_main, (void *)(long)fd) == 0)
		service_fd = fd;
	else
		REAL(close)(fd);
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
	if (connect(fd, (struct sockaddr *)&sa, service_addr(holder, &sa)) != 0)
		goto out;
	if (send(fd, pool_path, strlen(pool_path), MSG_NOSIGNAL) < 0)
		goto out;
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, SERVICE_TIMEOUT_MS) == 1 && recv(fd, &ans, 1, 0) == 1 &&
	    ans == 'y')
		ret = 0;
out:
	REAL(close)(fd);
	return ret;
}

void
dxp_service_forget(void)
{
	if (service_fd >= 0)
		REAL(close)(service_fd);
	service_fd = -1;
	pthread_mutex_init(&service_lock, NULL);
}
