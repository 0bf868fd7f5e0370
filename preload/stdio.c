/*
 * stdio.c -- stdio streams on pool files.  glibc's streams make their
 * system calls inside the C library, out of reach of symbol interposition,
 * so fopen, fdopen and freopen of a pool file return a stream made with
 * fopencookie whose reads, writes, seeks and close go through the layer
 * (its fileno is the pool descriptor).  When descriptor 0, 1 or 2 becomes
 * a pool file (a shell's redirection, dup2, or a descriptor inherited
 * across exec), stdin, stdout or stderr is pointed at such a stream, and
 * back at the C library's own when the descriptor leaves the pool.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"

struct cookie {
	int fd;
	bool keep_fd;		/* a standard stream's: close leaves fd open */
};

static ssize_t
ck_read(void *c, char *buf, size_t n)
{
	return read(((struct cookie *)c)->fd, buf, n);
}

static ssize_t
ck_write(void *c, const char *buf, size_t n)
{
	ssize_t done = 0;

	/* a cookie write that returns short loses the rest: loop */
	while ((size_t)done < n) {
		ssize_t r = write(((struct cookie *)c)->fd, buf + done,
			n - (size_t)done);

		if (r <= 0)
			return done ? done : -1;
		done += r;
	}
	return done;
}

static int
ck_seek(void *c, off64_t *off, int whence)
{
	off_t r = lseek(((struct cookie *)c)->fd, *off, whence);

	if (r < 0)
		return -1;
	*off = r;
	return 0;
}

static int
ck_close(void *c)
{
	struct cookie *ck = c;
	int r = ck->keep_fd ? 0 : close(ck->fd);

	free(ck);
	return r;
}

static const cookie_io_functions_t ck_funcs = {
	ck_read, ck_write, ck_seek, ck_close,
};

/*
 * mode_flags -- fopen's mode string as open flags; -1 with EINVAL if it
 * does not start with r, w or a.
 */
static int
mode_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r':
		flags = O_RDONLY;
		break;
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return errno = EINVAL, -1;
	}
	for (const char *m = mode + 1; *m != '\0' && *m != ','; m++) {
		if (*m == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'x')
			flags |= O_EXCL;
		else if (*m == 'e')
			flags |= O_CLOEXEC;
	}
	return flags;
}

/* stream_on -- a cookie stream on pool descriptor 'fd'. */
static FILE *
stream_on(int fd, const char *mode, bool keep_fd)
{
	struct cookie *ck = malloc(sizeof(*ck));
	FILE *fp;

	if (ck == NULL)
		return errno = ENOMEM, NULL;
	ck->fd = fd;
	ck->keep_fd = keep_fd;
	fp = fopencookie(ck, mode, ck_funcs);
	if (fp == NULL) {
		free(ck);
		return NULL;
	}
	/* fileno() reports the pool descriptor; glibc never calls the
	 * kernel with a cookie stream's number */
	fp->_fileno = fd;
	if (mode[0] == 'a')
		fseeko(fp, 0, SEEK_END);
	return fp;
}

/* open_stream -- fopen of a path in a pool. */
static FILE *
open_stream(struct dxp_where *w, const char *mode)
{
	int flags = mode_flags(mode), fd;
	FILE *fp;

	if (flags < 0)
		return NULL;
	fd = dxp_open_pool_at(w->m, w->dirf, w->path, w->norm, flags, 0666);
	if (fd < 0)
		return NULL;
	fp = stream_on(fd, mode, false);
	if (fp == NULL) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return fp;
}

DXP_EXPORT FILE *
fopen(const char *path, const char *mode)
{
	struct dxp_where w;

	FILE *fp;

	if (dxp_resolve_at(AT_FDCWD, path, &w, 0) != 0)
		return NULL;
	if (w.m == NULL)
		return REAL(fopen64)(w.host, mode);
	fp = open_stream(&w, mode);
	dxp_where_put(&w);
	return fp;
}

DXP_EXPORT FILE *
fopen64(const char *path, const char *mode)
{
	return fopen(path, mode);
}

DXP_EXPORT FILE *
fdopen(int fd, const char *mode)
{
	int flags;

	if (!dxp_fd_is_pool(fd))
		return REAL(fdopen)(fd, mode);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || mode_flags(mode) < 0)
		return NULL;
	if (mode[0] == 'a' && !(flags & O_APPEND) &&
	    fcntl(fd, F_SETFL, flags | O_APPEND) != 0)
		return NULL;
	return stream_on(fd, mode, false);
}

/* the C library's standard streams, and the layer's when a descriptor is a pool file */
static FILE *std_orig[3];
static FILE *std_pool[3];
static pthread_mutex_t std_lock = PTHREAD_MUTEX_INITIALIZER;

/* std_ptr -- the variable behind stdin, stdout or stderr. */
static FILE **
std_ptr(int fd)
{
	return fd == 0 ? &stdin : fd == 1 ? &stdout : &stderr;
}

void
dxp_std_flush(int fd)
{
	FILE *fp;

	if (fd < 0 || fd > 2)
		return;
	fp = *std_ptr(fd);
	if (fp != NULL && fd != 0)
		fflush(fp);
}

void
dxp_std_adopt(int fd)
{
	FILE **p = std_ptr(fd);
	bool pool = dxp_fd_is_pool(fd);

	pthread_mutex_lock(&std_lock);
	if (std_orig[fd] == NULL)
		std_orig[fd] = *p;
	if (pool && std_pool[fd] == NULL) {
		FILE *fp = stream_on(fd, fd == 0 ? "r" : "w", true);

		if (fp != NULL) {
			if (fd == 2)
				setvbuf(fp, NULL, _IONBF, 0);
			std_pool[fd] = fp;
			*p = fp;
		}
	} else if (!pool && std_pool[fd] != NULL) {
		FILE *fp = std_pool[fd];

		std_pool[fd] = NULL;
		*p = std_orig[fd];
		fclose(fp);
	}
	pthread_mutex_unlock(&std_lock);
}

DXP_EXPORT FILE *
freopen(const char *path, const char *mode, FILE *fp)
{
	struct dxp_where w;
	int fd, old = fp ? fileno(fp) : -1;
	bool std = fp == stdin || fp == stdout || fp == stderr;

	if (path == NULL)
		return REAL(freopen64)(path, mode, fp);
	if (dxp_resolve_by_name(AT_FDCWD, path, &w, false) != 0)
		return NULL;
	if (w.m == NULL && !dxp_fd_is_pool(old))
		return REAL(freopen64)(w.host, mode, fp);
	if (!std || old < 0 || old > 2) {
		fclose(fp);
		if (w.m == NULL)
			return REAL(fopen64)(w.host, mode);
		return open_stream(&w, mode);
	}
	/* a standard stream: the descriptor changes under the variable */
	fflush(fp);
	fd = w.m ? dxp_open_pool(w.m, w.path, mode_flags(mode), 0666) :
		REAL(open)(w.host, mode_flags(mode), 0666);
	if (fd < 0)
		return NULL;
	if (dup2(fd, old) < 0) {
		close(fd);
		return NULL;
	}
	close(fd);
	return *std_ptr(old);
}

DXP_EXPORT FILE *
freopen64(const char *path, const char *mode, FILE *fp)
{
	return freopen(path, mode, fp);
}
