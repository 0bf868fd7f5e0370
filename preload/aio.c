/*
 * aio.c -- POSIX asynchronous I/O on pool files: aio_read, aio_write,
 * aio_fsync and lio_listio (and their 64-bit names).  glibc runs requests
 * in helper threads that call the kernel from inside the C library, so a
 * request on a pool descriptor is done by the layer at once, in the
 * caller: it is complete when the call returns, which POSIX allows.
 * aio_error, aio_return and aio_suspend read the request's own fields,
 * which the layer fills as glibc does, so they need no interposition.
 */
#define _GNU_SOURCE 1
#include <aio.h>
#include <pthread.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "entry.h"

/* notify_thread -- SIGEV_THREAD: the function runs in a thread of its own. */
struct notify {
	void (*fn)(union sigval);
	union sigval v;
};

static void *
notify_main(void *arg)
{
	struct notify n = *(struct notify *)arg;

	free(arg);
	n.fn(n.v);
	return NULL;
}

/* notify -- tell the program a request completed, as 'ev' asks. */
static void
notify(const struct sigevent *ev)
{
	if (ev == NULL || ev->sigev_notify == SIGEV_NONE)
		return;
	if (ev->sigev_notify == SIGEV_SIGNAL) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		si.si_signo = ev->sigev_signo;
		si.si_code = SI_ASYNCIO;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value = ev->sigev_value;
		REAL(syscall)(SYS_rt_sigqueueinfo, getpid(), ev->sigev_signo, &si);
	} else if (ev->sigev_notify == SIGEV_THREAD) {
		struct notify *n = malloc(sizeof(*n));
		pthread_attr_t attr, *ap = ev->sigev_notify_attributes;
		pthread_t t;

		if (n == NULL)
			return;
		n->fn = ev->sigev_notify_function;
		n->v = ev->sigev_value;
		if (ap == NULL) {
			pthread_attr_init(&attr);
			ap = &attr;
		}
		pthread_attr_setdetachstate(ap, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, ap, notify_main, n) != 0)
			free(n);
		if (ap == &attr)
			pthread_attr_destroy(&attr);
	}
}

/* run -- do a request on a pool descriptor; its result in the aiocb. */
static void
run(struct aiocb *cb, int op)
{
	ssize_t r;

	switch (op) {
	case LIO_READ:
		r = pread(cb->aio_fildes, (void *)cb->aio_buf, cb->aio_nbytes,
			cb->aio_offset);
		break;
	case LIO_WRITE:
		r = (fcntl(cb->aio_fildes, F_GETFL) & O_APPEND) ?
			write(cb->aio_fildes, (const void *)cb->aio_buf, cb->aio_nbytes) :
			pwrite(cb->aio_fildes, (const void *)cb->aio_buf,
				cb->aio_nbytes, cb->aio_offset);
		break;
	case O_SYNC:
		r = fsync(cb->aio_fildes);
		break;
	case O_DSYNC:
		r = fdatasync(cb->aio_fildes);
		break;
	default:
		r = 0;
	}
	cb->__return_value = r;
	cb->__error_code = r < 0 ? errno : 0;
}

/* submit -- one request: the layer's if on a pool file, else glibc's. */
static int
submit(struct aiocb *cb, int op, bool notify_it)
{
	if (op != LIO_NOP && !dxp_fd_is_pool(cb->aio_fildes))
		return 1;
	if (cb->aio_reqprio < 0 || (op != LIO_NOP && op != O_SYNC &&
	    op != O_DSYNC && cb->aio_offset < 0))
		return errno = EINVAL, -1;
	run(cb, op);
	if (notify_it)
		notify(&cb->aio_sigevent);
	return 0;
}

DXP_EXPORT int
aio_read(struct aiocb *cb)
{
	int r = submit(cb, LIO_READ, true);

	return r == 1 ? REAL(aio_read)(cb) : r;
}

DXP_EXPORT int
aio_write(struct aiocb *cb)
{
	int r = submit(cb, LIO_WRITE, true);

	return r == 1 ? REAL(aio_write)(cb) : r;
}

DXP_EXPORT int
aio_fsync(int op, struct aiocb *cb)
{
	int r;

	if (op != O_SYNC && op != O_DSYNC)
		return errno = EINVAL, -1;
	r = submit(cb, op, true);
	return r == 1 ? REAL(aio_fsync)(op, cb) : r;
}

/* the 64-bit names: the same structure on this ABI */
DXP_EXPORT int
aio_read64(struct aiocb64 *cb)
{
	return aio_read((struct aiocb *)cb);
}

DXP_EXPORT int
aio_write64(struct aiocb64 *cb)
{
	return aio_write((struct aiocb *)cb);
}

DXP_EXPORT int
aio_fsync64(int op, struct aiocb64 *cb)
{
	return aio_fsync(op, (struct aiocb *)cb);
}

DXP_EXPORT int
lio_listio(int mode, struct aiocb *const list[], int n, struct sigevent *ev)
{
	bool pool = false;
	int ret = 0;

	for (int i = 0; i < n; i++)
		pool |= list[i] != NULL && list[i]->aio_lio_opcode != LIO_NOP &&
			dxp_fd_is_pool(list[i]->aio_fildes);
	if (!pool)
		return REAL(lio_listio)(mode, list, n, ev);
	if (mode != LIO_WAIT && mode != LIO_NOWAIT)
		return errno = EINVAL, -1;
	/* the pool's requests now, the host's through glibc, then wait */
	for (int i = 0; i < n; i++) {
		struct aiocb *cb = list[i];
		int op, r;

		if (cb == NULL || (op = cb->aio_lio_opcode) == LIO_NOP)
			continue;
		r = submit(cb, op, false);
		if (r == 1)
			r = op == LIO_READ ? REAL(aio_read)(cb) :
				REAL(aio_write)(cb);
		if (r != 0)
			ret = -1;
	}
	for (int i = 0; i < n; i++) {
		const struct aiocb *one[1] = {list[i]};

		while (list[i] != NULL && aio_error(list[i]) == EINPROGRESS)
			aio_suspend(one, 1, NULL);
	}
	if (mode == LIO_NOWAIT)
		notify(ev);
	if (ret != 0)
		errno = EIO;
	return ret;
}

DXP_EXPORT int
lio_listio64(int mode, struct aiocb64 *const list[], int n,
	struct sigevent *ev)
{
	return lio_listio(mode, (struct aiocb *const *)list, n, ev);
}
