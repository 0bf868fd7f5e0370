/*
 * poll.c -- readiness of pool descriptors.  A pool file is a regular
 * file: poll and ppoll find it readable and writable at once (the kernel's
 * answer for a file without a poll method), and epoll refuses it with
 * EPERM.  The kernel sees the reserved O_PATH descriptor, which it would
 * call invalid (POLLNVAL) or not open (EBADF), so the layer answers for
 * pool entries and passes the others on.
 */
#define _GNU_SOURCE 1
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/epoll.h>

#include "entry.h"

/* what poll(2) reports for a regular file: DEFAULT_POLLMASK */
#define FILE_READY (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

static bool
is_pool_entry(const struct pollfd *p)
{
	return p->fd >= 0 && dxp_fd_is_pool(p->fd);
}

/*
 * poll_any -- poll or ppoll: with no pool entry, the kernel's call; else
 * the kernel's over a copy in which the pool entries' descriptors are
 * negative (the kernel skips them, and they tell the copy's pool entries
 * from the others), not waiting if a pool entry is ready.
 */
static int
poll_any(struct pollfd *fds, nfds_t n, int timeout_ms,
	const struct timespec *tmo, const sigset_t *mask, bool is_ppoll)
{
	static const struct timespec zero;
	struct pollfd small[16], *copy = small;
	int ready = 0, r;
	nfds_t i = n;

	if (atomic_load_explicit(&dxp_nfds, memory_order_relaxed) != 0 &&
	    fds != NULL)
		for (i = 0; i < n && !is_pool_entry(&fds[i]); i++)
			;
	if (i == n)
		return is_ppoll ? REAL(ppoll)(fds, n, tmo, mask) :
			REAL(poll)(fds, n, timeout_ms);
	if (n > 16 && (copy = malloc(n * sizeof(*copy))) == NULL)
		return errno = ENOMEM, -1;
	for (i = 0; i < n; i++) {
		copy[i] = fds[i];
		if (is_pool_entry(&fds[i])) {
			copy[i].fd = -1;
			ready += (fds[i].events & FILE_READY) != 0;
		}
	}
	if (is_ppoll)
		r = REAL(ppoll)(copy, n, ready > 0 ? &zero : tmo, mask);
	else
		r = REAL(poll)(copy, n, ready > 0 ? 0 : timeout_ms);
	if (r >= 0) {
		for (i = 0; i < n; i++)
			fds[i].revents = copy[i].fd != fds[i].fd ?
				(short)(fds[i].events & FILE_READY) :
				copy[i].revents;
		r += ready;
	}
	if (copy != small) {
		int e = errno;

		free(copy);
		errno = e;
	}
	return r;
}

DXP_EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	return poll_any(fds, n, timeout_ms, NULL, NULL, false);
}

DXP_EXPORT int
__poll_chk(struct pollfd *fds, nfds_t n, int timeout_ms, size_t fdslen)
{
	(void)fdslen;
	return poll_any(fds, n, timeout_ms, NULL, NULL, false);
}

DXP_EXPORT int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
	const sigset_t *mask)
{
	return poll_any(fds, n, 0, tmo, mask, true);
}

DXP_EXPORT int
__ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
	const sigset_t *mask, size_t fdslen)
{
	(void)fdslen;
	return poll_any(fds, n, 0, tmo, mask, true);
}

/* the sets of select: three bit arrays of 'nfds' bits */
struct sets {
	fd_set *in[3];		/* the caller's (NULL: not asked) */
	unsigned long *copy[3];	/* passed to the kernel */
	unsigned long small[3][FD_SETSIZE / (8 * sizeof(long))];
	size_t words;
};

#define BIT(v, fd) ((v)[(fd) / (8 * sizeof(long))] & \
	(1UL << ((fd) % (8 * sizeof(long)))))

/*
 * sets_split -- copies of the sets without pool descriptors; how many
 * bits the pool descriptors set (read and write, never exceptional), or
 * -1 if none is asked about (nothing is copied then).  *err set on ENOMEM.
 */
static int
sets_split(struct sets *s, int nfds, int *err)
{
	int ready = 0, first = -1;

	*err = 0;
	s->words = ((size_t)nfds + 8 * sizeof(long) - 1) / (8 * sizeof(long));
	for (int k = 0; k < 3; k++)
		s->copy[k] = NULL;
	/* no copy (nor memory for one) unless a pool descriptor is asked */
	for (int fd = 0; fd < nfds && first < 0; fd++) {
		bool asked = false;

		for (int k = 0; k < 3; k++)
			asked |= s->in[k] != NULL &&
				BIT((unsigned long *)s->in[k], fd);
		if (asked && dxp_fd_is_pool(fd))
			first = fd;
	}
	if (first < 0)
		return -1;
	for (int k = 0; k < 3; k++) {
		if (s->in[k] == NULL)
			continue;
		s->copy[k] = s->words <= FD_SETSIZE / (8 * sizeof(long)) ?
			s->small[k] : malloc(s->words * sizeof(long));
		if (s->copy[k] == NULL) {
			*err = ENOMEM;
			return -1;
		}
		memcpy(s->copy[k], s->in[k], s->words * sizeof(long));
	}
	for (int fd = first; fd < nfds; fd++) {
		bool asked = false;

		for (int k = 0; k < 3; k++)
			asked |= s->copy[k] != NULL && BIT(s->copy[k], fd);
		if (!asked || !dxp_fd_is_pool(fd))
			continue;
		for (int k = 0; k < 3; k++) {
			if (s->copy[k] == NULL || !BIT(s->copy[k], fd))
				continue;
			s->copy[k][fd / (8 * sizeof(long))] &=
				~(1UL << (fd % (8 * sizeof(long))));
			ready += k < 2;
		}
	}
	return ready;
}

/* sets_join -- the kernel's bits and the pool descriptors' into the sets */
static void
sets_join(struct sets *s, int nfds)
{
	for (int k = 0; k < 3; k++) {
		if (s->copy[k] == NULL)
			continue;
		for (int fd = 0; fd < nfds && k < 2; fd++)
			if (BIT((unsigned long *)s->in[k], fd) &&
			    !BIT(s->copy[k], fd) && dxp_fd_is_pool(fd))
				s->copy[k][fd / (8 * sizeof(long))] |=
					1UL << (fd % (8 * sizeof(long)));
		memcpy(s->in[k], s->copy[k], s->words * sizeof(long));
	}
}

static void
sets_free(struct sets *s)
{
	for (int k = 0; k < 3; k++)
		if (s->copy[k] != s->small[k])
			free(s->copy[k]);
}

/*
 * select_any -- select or pselect: with no pool descriptor asked about,
 * the kernel's call; else the kernel's over the others, not waiting if a
 * pool descriptor is ready.
 */
static int
select_any(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv,
	const struct timespec *tmo, const sigset_t *mask, bool is_pselect)
{
	struct sets s = {.in = {r, w, e}};
	struct timeval tv0 = {0, 0};
	struct timespec ts0 = {0, 0};
	int ready, ret, err;

	if (atomic_load_explicit(&dxp_nfds, memory_order_relaxed) == 0 ||
	    nfds <= 0)
		goto kernel;
	ready = sets_split(&s, nfds, &err);
	if (ready < 0) {
		sets_free(&s);
		if (err != 0)
			return errno = err, -1;
		goto kernel;
	}
	if (is_pselect)
		ret = REAL(pselect)(nfds, (fd_set *)s.copy[0],
			(fd_set *)s.copy[1], (fd_set *)s.copy[2],
			ready > 0 ? &ts0 : tmo, mask);
	else
		ret = REAL(select)(nfds, (fd_set *)s.copy[0],
			(fd_set *)s.copy[1], (fd_set *)s.copy[2],
			ready > 0 ? &tv0 : tv);
	if (ret >= 0) {
		sets_join(&s, nfds);
		ret += ready;
	}
	err = errno;
	sets_free(&s);
	errno = err;
	return ret;
kernel:
	return is_pselect ? REAL(pselect)(nfds, r, w, e, tmo, mask) :
		REAL(select)(nfds, r, w, e, tv);
}

DXP_EXPORT int
select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	return select_any(nfds, r, w, e, tv, NULL, NULL, false);
}

DXP_EXPORT int
pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
	const struct timespec *tmo, const sigset_t *mask)
{
	return select_any(nfds, r, w, e, NULL, tmo, mask, true);
}

/* epoll_ctl -- a regular file cannot be polled: EPERM, as the kernel says. */
DXP_EXPORT int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (dxp_fd_is_pool(fd))
		return errno = EPERM, -1;
	return REAL(epoll_ctl)(epfd, op, fd, ev);
}
