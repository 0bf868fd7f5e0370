/*
 * hidefd.c -- the layer's and the library's own descriptors (hidefd.h).
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/resource.h>

#include "hidefd.h"
#include "real.h"

#define MAX_HIDDEN 160

static atomic_int hidden[MAX_HIDDEN];	/* fd + 1, 0 for a free slot */
static atomic_int hidden_min = 1 << 30;	/* no hidden descriptor below */

int
dxp_fd_hidden_floor(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 256 &&
	    rl.rlim_cur != RLIM_INFINITY)
		return (int)(rl.rlim_cur - rl.rlim_cur / 16);
	return 1000;
}

void
dxp_fd_hide_number(int fd)
{
	for (int i = 0; i < MAX_HIDDEN; i++) {
		int zero = 0;

		if (atomic_compare_exchange_strong(&hidden[i], &zero, fd + 1)) {
			int m = atomic_load(&hidden_min);

			while (fd < m && !atomic_compare_exchange_weak(&hidden_min,
			    &m, fd))
				;
			return;
		}
	}
}

int
dxp_fd_hide(int fd)
{
	int nfd, fl;

	if (fd < 0)
		return fd;
	fl = REAL(fcntl64)(fd, F_GETFD);
	nfd = REAL(fcntl64)(fd, (fl & FD_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD,
		dxp_fd_hidden_floor());
	if (nfd >= 0) {
		REAL(close)(fd);
		fd = nfd;
	}
	dxp_fd_hide_number(fd);
	return fd;
}

bool
dxp_fd_is_hidden(int fd)
{
	if (fd < atomic_load_explicit(&hidden_min, memory_order_relaxed))
		return false;
	for (int i = 0; i < MAX_HIDDEN; i++)
		if (atomic_load(&hidden[i]) == fd + 1)
			return true;
	return false;
}

void
dxp_fd_unhide(int fd)
{
	for (int i = 0; i < MAX_HIDDEN; i++) {
		int v = fd + 1;

		if (atomic_compare_exchange_strong(&hidden[i], &v, 0))
			return;
	}
}
