/*
 * dir.c -- directory streams and entries: opendir, fdopendir, readdir
 * (and readdir64, the _r variants), closedir, dirfd, rewinddir, telldir,
 * seekdir, scandir (and scandirat, the 64-bit variants), getdents64,
 * getdirentries.  glibc's own streams make their system calls inside the
 * C library, out of reach of symbol interposition, so a stream on a pool
 * directory is the layer's own object; a stream on a host directory stays
 * glibc's, told apart by its first word.
 */
#define _GNU_SOURCE 1
#include <dirent.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"

/* the first word of a layer stream: negative as glibc's 'int fd' never is */
#define DIR_MAGIC 0x4458444952fffff0ULL

/*
 * A layer stream: on a pool directory ('o'), read through getdents64 of
 * its description into a buffer, as glibc reads a host directory, so that
 * it holds nothing of the pool but the description, which lets the pool
 * go to another process and comes back with its offset; or on a host
 * directory that holds mount points ('host'), whose names it adds to the
 * host's.
 */
struct dxp_dirstream {
	uint64_t magic;
	pthread_mutex_t lock;
	int fd;			/* the descriptor dirfd() names */
	struct dxp_ofd *o;	/* a reference on its description */
	char *buf;		/* getdents64 records of a pool directory */
	size_t len;		/* bytes of them in 'buf' */
	size_t cur;		/* the next one */
	long pos;		/* telldir: the d_off of the last entry returned */
	DIR *host;
	char vpath[PATH_MAX];	/* the host directory's path */
	int nextra;		/* mount point names returned so far */
	struct dirent64 extra;
};

/* bytes of getdents64 records a stream reads at once (glibc's size) */
#define STREAM_BUF 32768

/* is_ours -- is 'dir' a stream on a pool directory? */
static bool
is_ours(DIR *dir)
{
	return dir != NULL && *(uint64_t *)dir == DIR_MAGIC;
}

/* stream_new -- a stream over the pool directory open at 'fd'. */
static DIR *
stream_new(int fd)
{
	struct dxp_ofd *o = dxp_fd_get(fd);
	struct dxp_dirstream *s;

	if (o == NULL)
		return errno = EBADF, NULL;
	if (dxp_ofd_file(o) == NULL)
		return (DIR *)dxp_oret(o, 0);
	if (!o->isdir)
		return (DIR *)dxp_oret(o, (errno = ENOTDIR, 0));
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->buf = malloc(STREAM_BUF)) == NULL) {
		free(s);
		return (DIR *)dxp_oret(o, (errno = ENOMEM, 0));
	}
	s->magic = DIR_MAGIC;
	pthread_mutex_init(&s->lock, NULL);
	s->fd = fd;
	s->o = o;
	/* a reference that is not a call: the pool may still go (fdtable.c) */
	atomic_fetch_add(&o->nstreams, 1);
	return (DIR *)s;
}

/*
 * mount_name -- the name of the 'k'th mount point directly in directory
 * 'v', or NULL.
 */
static const char *
mount_name(const char *v, int k)
{
	size_t n = strlen(v);

	for (int i = 0; i < dxp_nmounts; i++) {
		const char *d = dxp_mounts[i].dir;
		const char *name = d + (n == 1 ? 1 : n + 1);

		if ((n == 1 || (strncmp(d, v, n) == 0 && d[n] == '/')) &&
		    strchr(name, '/') == NULL && k-- == 0)
			return name;
	}
	return NULL;
}

/* host_stream -- a glibc stream, wrapped if its directory holds mount points. */
static DIR *
host_stream(DIR *dir, const char *path)
{
	struct dxp_dirstream *s;
	char v[PATH_MAX];

	if (dxp_nmounts == 0 || (dir == NULL && (path == NULL || errno != ENOENT)))
		return dir;
	if (path != NULL) {
		char tmp[2 * PATH_MAX];

		if (path[0] == '/')
			snprintf(tmp, sizeof(tmp), "%s", path);
		else if (dxp_cwd_get(v, sizeof(v)) != NULL)
			snprintf(tmp, sizeof(tmp), "%s/%s", v, path);
		else
			return dir;
		if (dxp_path_normalize(tmp, v, sizeof(v)) != 0)
			return dir;
	} else if (dxp_fd_vpath(REAL(dirfd)(dir), v, sizeof(v)) != 0) {
		return dir;
	}
	if (mount_name(v, 0) == NULL) {
		if (dir == NULL)
			errno = ENOENT;
		return dir;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return dir;
	s->magic = DIR_MAGIC;
	pthread_mutex_init(&s->lock, NULL);
	s->host = dir;
	/* no host directory at all: only the mount points, on /dev/null's number */
	s->fd = dir ? REAL(dirfd)(dir) : REAL(open)("/dev/null", O_RDONLY | O_CLOEXEC);
	snprintf(s->vpath, sizeof(s->vpath), "%s", v);
	return (DIR *)s;
}

DXP_EXPORT DIR *
opendir(const char *path)
{
	struct dxp_where w;
	DIR *dir;
	int fd;

	if (dxp_resolve_at(AT_FDCWD, path, &w, 0) != 0)
		return NULL;
	if (w.m == NULL)
		return host_stream(REAL(opendir)(w.host), path);
	fd = dxp_open_pool_at(w.m, w.dirf, w.path, w.norm,
		O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	dxp_where_put(&w);
	if (fd < 0)
		return NULL;
	dir = stream_new(fd);
	if (dir == NULL) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return dir;
}

DXP_EXPORT DIR *
fdopendir(int fd)
{
	if (!dxp_fd_is_pool(fd))
		return host_stream(REAL(fdopendir)(fd), NULL);
	return stream_new(fd);
}

DXP_EXPORT int
closedir(DIR *dir)
{
	struct dxp_dirstream *s = (struct dxp_dirstream *)dir;
	int fd;

	if (!is_ours(dir))
		return REAL(closedir)(dir);
	if (s->host != NULL || s->o == NULL) {
		DIR *h = s->host;

		s->magic = 0;
		if (h == NULL)
			REAL(close)(s->fd);
		free(s);
		return h ? REAL(closedir)(h) : 0;
	}
	fd = s->fd;
	atomic_fetch_sub(&s->o->nstreams, 1);
	dxp_ofd_put(s->o);
	s->magic = 0;
	free(s->buf);
	free(s);
	return close(fd);
}

DXP_EXPORT int
dirfd(DIR *dir)
{
	if (!is_ours(dir))
		return REAL(dirfd)(dir);
	return ((struct dxp_dirstream *)dir)->fd;
}

/* host_next -- the next entry of a host directory with mount points. */
static struct dirent64 *
host_next(struct dxp_dirstream *s)
{
	struct dirent64 *de;
	const char *name;

	name = mount_name(s->vpath, s->nextra);
	if (name != NULL) {
		memset(&s->extra, 0, sizeof(s->extra));
		s->extra.d_ino = 1;
		s->extra.d_off = ++s->pos;
		s->extra.d_reclen = sizeof(s->extra);
		s->extra.d_type = DT_DIR;
		snprintf(s->extra.d_name, sizeof(s->extra.d_name), "%s", name);
		s->nextra++;
		return &s->extra;
	}
	/* the host's entries, less a directory standing at a mount point */
	for (;;) {
		bool dup = false;

		if (s->host == NULL)
			return NULL;
		de = REAL(readdir64)(s->host);
		if (de == NULL)
			return NULL;
		for (int k = 0; (name = mount_name(s->vpath, k)) != NULL; k++)
			dup |= strcmp(name, de->d_name) == 0;
		if (!dup) {
			s->pos++;
			return de;
		}
	}
}

static ssize_t dents_pool(struct dxp_ofd *o, void *buf, size_t size);

/* stream_next -- the next entry of a layer stream, or NULL at the end. */
static struct dirent64 *
stream_next(struct dxp_dirstream *s)
{
	struct dirent64 *de;

	if (s->host != NULL || s->o == NULL)
		return host_next(s);
	if (s->cur >= s->len) {
		int e = errno;
		ssize_t n = dents_pool(s->o, s->buf, STREAM_BUF);

		/* a removed directory reads ENOENT, the end for POSIX (glibc) */
		if (n < 0 && errno == ENOENT)
			errno = e;
		if (n <= 0)
			return NULL;	/* the end (errno unchanged), or an error */
		s->len = (size_t)n;
		s->cur = 0;
	}
	de = (struct dirent64 *)(s->buf + s->cur);
	s->cur += de->d_reclen;
	s->pos = de->d_off;
	return de;
}

DXP_EXPORT struct dirent64 *
readdir64(DIR *dir)
{
	struct dxp_dirstream *s = (struct dxp_dirstream *)dir;
	struct dirent64 *de;

	if (!is_ours(dir))
		return REAL(readdir64)(dir);
	pthread_mutex_lock(&s->lock);
	de = stream_next(s);
	pthread_mutex_unlock(&s->lock);
	return de;
}

DXP_EXPORT struct dirent *
readdir(DIR *dir)
{
	if (!is_ours(dir))
		return REAL(readdir)(dir);
	return (struct dirent *)readdir64(dir);
}

DXP_EXPORT int
readdir64_r(DIR *dir, struct dirent64 *entry, struct dirent64 **result)
{
	struct dxp_dirstream *s = (struct dxp_dirstream *)dir;
	struct dirent64 *de;
	int e = errno;

	if (!is_ours(dir)) {
		de = REAL(readdir64)(dir);
	} else {
		pthread_mutex_lock(&s->lock);
		errno = 0;
		de = stream_next(s);
		pthread_mutex_unlock(&s->lock);
	}
	if (de == NULL) {
		*result = NULL;
		if (errno != 0 && errno != e)
			return errno;
		errno = e;
		return 0;
	}
	memcpy(entry, de, offsetof(struct dirent64, d_name) +
		strlen(de->d_name) + 1);
	*result = entry;
	return 0;
}

DXP_EXPORT int
readdir_r(DIR *dir, struct dirent *entry, struct dirent **result)
{
	return readdir64_r(dir, (struct dirent64 *)entry,
		(struct dirent64 **)result);
}

/*
 * stream_seek -- position a layer stream at 'loc': a d_off of a pool
 * directory's entry, or the number of entries before it on a host stream.
 */
static void
stream_seek(struct dxp_dirstream *s, long loc)
{
	if (s->host != NULL || s->o == NULL) {
		if (s->host != NULL)
			REAL(rewinddir)(s->host);
		s->nextra = 0;
		s->pos = 0;
		while (s->pos < loc && host_next(s) != NULL)
			;
		return;
	}
	s->len = s->cur = 0;
	if (dxp_dir_seek(s->o, loc, SEEK_SET) >= 0)
		s->pos = loc;
}

DXP_EXPORT void
rewinddir(DIR *dir)
{
	struct dxp_dirstream *s = (struct dxp_dirstream *)dir;

	if (!is_ours(dir)) {
		REAL(rewinddir)(dir);
		return;
	}
	pthread_mutex_lock(&s->lock);
	stream_seek(s, 0);
	pthread_mutex_unlock(&s->lock);
}

DXP_EXPORT long
telldir(DIR *dir)
{
	if (!is_ours(dir))
		return REAL(telldir)(dir);
	return ((struct dxp_dirstream *)dir)->pos;
}

DXP_EXPORT void
seekdir(DIR *dir, long loc)
{
	struct dxp_dirstream *s = (struct dxp_dirstream *)dir;

	if (!is_ours(dir)) {
		REAL(seekdir)(dir, loc);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (loc != s->pos)
		stream_seek(s, loc);
	pthread_mutex_unlock(&s->lock);
}

/* scan -- scandir(3) over a stream of either kind. */
static int
scan(DIR *dir, struct dirent64 ***list,
	int (*sel)(const struct dirent64 *),
	int (*cmp)(const struct dirent64 **, const struct dirent64 **))
{
	struct dirent64 **v = NULL, *de;
	size_t n = 0, cap = 0;
	int e = errno;

	errno = 0;
	while ((de = readdir64(dir)) != NULL) {
		size_t len = offsetof(struct dirent64, d_name) +
			strlen(de->d_name) + 1;
		struct dirent64 *c;

		if (sel != NULL && !sel(de))
			continue;
		if (n == cap) {
			struct dirent64 **nv;

			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				goto err;
			v = nv;
		}
		c = malloc(len);
		if (c == NULL)
			goto err;
		memcpy(c, de, len);
		v[n++] = c;
		errno = 0;
	}
	if (errno != 0)
		goto err;
	if (cmp != NULL && n > 1)
		qsort(v, n, sizeof(*v), (int (*)(const void *, const void *))cmp);
	errno = e;
	*list = v;
	return (int)n;
err:
	e = errno ? errno : ENOMEM;
	while (n > 0)
		free(v[--n]);
	free(v);
	closedir(dir);
	errno = e;
	return -1;
}

DXP_EXPORT int
scandirat64(int dirfd, const char *path, struct dirent64 ***list,
	int (*sel)(const struct dirent64 *),
	int (*cmp)(const struct dirent64 **, const struct dirent64 **))
{
	struct dxp_where w;
	DIR *dir;
	int fd, n;

	if (dxp_resolve_at(dirfd, path, &w, 0) != 0)
		return -1;
	if (w.m == NULL)
		return REAL(scandirat64)(w.dirfd, w.host, list, sel, cmp);
	fd = dxp_open_pool_at(w.m, w.dirf, w.path, w.norm,
		O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	dxp_where_put(&w);
	if (fd < 0)
		return -1;
	dir = stream_new(fd);
	if (dir == NULL) {
		close(fd);
		return -1;
	}
	n = scan(dir, list, sel, cmp);
	if (n >= 0)
		closedir(dir);
	return n;
}

DXP_EXPORT int
scandirat(int dirfd, const char *path, struct dirent ***list,
	int (*sel)(const struct dirent *),
	int (*cmp)(const struct dirent **, const struct dirent **))
{
	return scandirat64(dirfd, path, (struct dirent64 ***)list,
		(int (*)(const struct dirent64 *))sel,
		(int (*)(const struct dirent64 **, const struct dirent64 **))cmp);
}

DXP_EXPORT int
scandir64(const char *path, struct dirent64 ***list,
	int (*sel)(const struct dirent64 *),
	int (*cmp)(const struct dirent64 **, const struct dirent64 **))
{
	return scandirat64(AT_FDCWD, path, list, sel, cmp);
}

DXP_EXPORT int
scandir(const char *path, struct dirent ***list,
	int (*sel)(const struct dirent *),
	int (*cmp)(const struct dirent **, const struct dirent **))
{
	return scandirat(AT_FDCWD, path, list, sel, cmp);
}

/* dents_pool -- getdents64(2) on a pool directory descriptor. */
static ssize_t
dents_pool(struct dxp_ofd *o, void *buf, size_t size)
{
	daxfile_pool *pool = dxp_ofd_pool(o);
	size_t used = 0;

	if (pool == NULL)
		return -1;
	if (!o->isdir)
		return errno = ENOTDIR, -1;
	if (DXP_HAVE(daxfile_getdents64))
		return daxfile_getdents64(atomic_load(&o->file), buf, size);
	pthread_mutex_lock(&o->lock);
	if (o->dir == NULL) {
		/* after a detach: on after the entries already returned */
		o->dir = daxfile_opendir(pool, o->path);
		for (off_t i = 0; o->dir != NULL && i < o->dir_pos; i++)
			if (daxfile_readdir(o->dir) == NULL)
				break;
	}
	while (o->dir != NULL) {
		struct dirent64 *de = o->has_pending ? &o->pending :
			(struct dirent64 *)daxfile_readdir(o->dir);
		size_t nlen, reclen;

		if (de == NULL)
			break;
		nlen = strlen(de->d_name);
		reclen = (offsetof(struct dirent64, d_name) + nlen + 1 + 7) & ~7ul;
		if (used + reclen > size) {
			if (!o->has_pending)
				memcpy(&o->pending, de, sizeof(o->pending));
			o->has_pending = true;
			if (used == 0) {
				pthread_mutex_unlock(&o->lock);
				return errno = EINVAL, -1;
			}
			break;
		}
		struct dirent64 *out = (struct dirent64 *)((char *)buf + used);

		out->d_ino = de->d_ino;
		out->d_off = ++o->dir_pos;
		out->d_reclen = (unsigned short)reclen;
		out->d_type = de->d_type;
		memcpy(out->d_name, de->d_name, nlen + 1);
		used += reclen;
		o->has_pending = false;
	}
	pthread_mutex_unlock(&o->lock);
	return o->dir == NULL ? -1 : (ssize_t)used;
}

off_t
dxp_dir_seek(struct dxp_ofd *o, off_t off, int whence)
{
	daxfile_file *f = dxp_ofd_file(o);

	if (f == NULL)
		return -1;
	if (DXP_HAVE(daxfile_getdents64)) {
		off = daxfile_lseek(f, off, whence);
		dxp_ofd_note_offset(o, f);
		return off;
	}
	/* positions count entries: dents_pool opens again and skips them */
	pthread_mutex_lock(&o->lock);
	if (whence == SEEK_CUR && off >= -o->dir_pos)
		off += o->dir_pos;
	else if (whence != SEEK_SET || off < 0)
		off = (errno = EINVAL, -1);
	if (off >= 0) {
		if (o->dir != NULL)
			daxfile_closedir(o->dir);
		o->dir = NULL;
		o->dir_pos = off;
		o->has_pending = false;
	}
	pthread_mutex_unlock(&o->lock);
	return off;
}

DXP_EXPORT ssize_t
getdents64(int fd, void *buf, size_t size)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(getdents64)(fd, buf, size);
	return dxp_oret(o, dents_pool(o, buf, size));
}
