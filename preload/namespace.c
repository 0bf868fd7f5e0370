/*
 * namespace.c -- entry points that change or read the tree's names:
 * unlink, rmdir, remove, mkdir, mknod and mkfifo, rename, link, symlink,
 * readlink, the current directory (chdir, fchdir, getcwd), realpath,
 * umask.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "entry.h"
#include "shared.h"

/* the process's umask, kept here so creates in a pool can apply it */
static atomic_uint proc_umask = 022;

void
dxp_umask_init(void)
{
	mode_t old = REAL(umask)(022);

	REAL(umask)(old);
	atomic_store(&proc_umask, old);
}

DXP_EXPORT mode_t
umask(mode_t mask)
{
	mode_t old = REAL(umask)(mask);

	atomic_store(&proc_umask, mask & 0777);
	return old;
}

/*
 * dxp_create_mode -- the mode a create in 'pool' asks for: the library
 * applies its pool's umask when it has one (set to the process's), else
 * the layer applies the process's umask.
 */
mode_t
dxp_create_mode(daxfile_pool *pool, mode_t mode)
{
	mode_t mask = (mode_t)atomic_load(&proc_umask);

	if (DXP_HAVE(daxfile_umask)) {
		daxfile_umask(pool, mask);
		return mode;
	}
	return mode & ~mask;
}

DXP_EXPORT int
unlink(const char *path)
{
	return unlinkat(AT_FDCWD, path, 0);
}

DXP_EXPORT int
rmdir(const char *path)
{
	return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

DXP_EXPORT int
unlinkat(int dirfd, const char *path, int flags)
{
	if (flags & ~AT_REMOVEDIR) {
		errno = EINVAL;
		return -1;
	}
	DXP_PATH_CALL(dirfd, path, 0, REAL(unlinkat)(w.dirfd, w.host, flags),
		DXP_AT(w, daxfile_unlinkat(pool, w.dirf, w.path, flags),
		(flags & AT_REMOVEDIR) ? daxfile_rmdir(pool, w.path) :
		daxfile_unlink(pool, w.path)));
}

/* remove -- unlink, or rmdir where unlink says EISDIR, as the C library's */
DXP_EXPORT int
remove(const char *path)
{
	if (unlinkat(AT_FDCWD, path, 0) == 0)
		return 0;
	return errno == EISDIR ? unlinkat(AT_FDCWD, path, AT_REMOVEDIR) : -1;
}

DXP_EXPORT int
mkdir(const char *path, mode_t mode)
{
	return mkdirat(AT_FDCWD, path, mode);
}

DXP_EXPORT int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	DXP_PATH_CALL(dirfd, path, 0, REAL(mkdirat)(w.dirfd, w.host, mode),
		DXP_AT(w, daxfile_mkdirat(pool, w.dirf, w.path,
		dxp_create_mode(pool, mode)),
		daxfile_mkdir(pool, w.path, dxp_create_mode(pool, mode))));
}

/* mknod_pool -- a pool holds regular files, directories and links only. */
static int
mknod_pool(daxfile_pool *pool, daxfile_file *dir, const char *path,
	mode_t mode)
{
	int flags = O_CREAT | O_EXCL | O_WRONLY;
	daxfile_file *f;

	if (!S_ISREG(mode) && (mode & S_IFMT) != 0)
		return errno = EPERM, -1;
	mode = dxp_create_mode(pool, mode & 07777);
	f = dir != NULL ? daxfile_openat(pool, dir, path, flags, mode) :
		daxfile_open(pool, path, flags, mode);
	return f == NULL ? -1 : daxfile_close(f);
}

DXP_EXPORT int
mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	DXP_PATH_CALL(dirfd, path, 0, REAL(mknodat)(w.dirfd, w.host, mode, dev),
		mknod_pool(pool, w.dirf, w.path, mode));
}

DXP_EXPORT int
mknod(const char *path, mode_t mode, dev_t dev)
{
	return mknodat(AT_FDCWD, path, mode, dev);
}

DXP_EXPORT int
__xmknod(int ver, const char *path, mode_t mode, dev_t *dev)
{
	return mknodat(AT_FDCWD, path, mode, *dev);
}

DXP_EXPORT int
__xmknodat(int ver, int dirfd, const char *path, mode_t mode, dev_t *dev)
{
	return mknodat(dirfd, path, mode, *dev);
}

DXP_EXPORT int
mkfifo(const char *path, mode_t mode)
{
	return mknodat(AT_FDCWD, path, S_IFIFO | (mode & 07777), 0);
}

DXP_EXPORT int
mkfifoat(int dirfd, const char *path, mode_t mode)
{
	return mknodat(dirfd, path, S_IFIFO | (mode & 07777), 0);
}

/* two_paths_put -- drop what two_paths took of the bases. */
static void
two_paths_put(struct dxp_where *a, struct dxp_where *b)
{
	dxp_where_put(a);
	dxp_where_put(b);
}

/*
 * two_paths -- resolve both paths of rename or link; 1 if both are host
 * paths, 0 if both are in one pool (with a use taken), -1 with EXDEV when
 * they are on different sides (as across mounts) or another error.
 */
static int
two_paths(int d1, const char *p1, struct dxp_where *a, int d2, const char *p2,
	struct dxp_where *b, daxfile_pool **pool)
{
	if (dxp_resolve_at(d1, p1, a, 0) != 0)
		return -1;
	if (dxp_resolve_at(d2, p2, b, 0) != 0) {
		dxp_where_put(a);
		return -1;
	}
	if (a->m == NULL && b->m == NULL)
		return 1;
	if (a->m != b->m) {
		two_paths_put(a, b);
		return errno = EXDEV, -1;
	}
	*pool = dxp_mount_get(a->m);
	if (*pool == NULL) {
		two_paths_put(a, b);
		return -1;
	}
	return 0;
}

DXP_EXPORT int
renameat2(int d1, const char *p1, int d2, const char *p2, unsigned flags)
{
	struct dxp_where a, b;
	daxfile_pool *pool;
	int r = two_paths(d1, p1, &a, d2, p2, &b, &pool);

	if (r == 1)
		return REAL(renameat2)(a.dirfd, a.host, b.dirfd, b.host, flags);
	if (r < 0)
		return -1;
	if (a.dirf != NULL || b.dirf != NULL)
		r = daxfile_renameat2(pool, a.dirf, a.path, b.dirf, b.path, flags);
	else if (flags == 0)
		r = daxfile_rename(pool, a.path, b.path);
	else if (DXP_HAVE(daxfile_renameat2))
		r = daxfile_renameat2(pool, NULL, a.path, NULL, b.path, flags);
	else
		r = dxp_lib_missing("daxfile_renameat2");
	/* for the descriptions of the tree given up meanwhile (shared.h) */
	if (r == 0)
		dxp_shared_rename(a.m->index, a.norm, b.norm,
			(flags & RENAME_EXCHANGE) != 0);
	two_paths_put(&a, &b);
	return (int)dxp_mret(a.m, r);
}

DXP_EXPORT int
renameat(int d1, const char *p1, int d2, const char *p2)
{
	return renameat2(d1, p1, d2, p2, 0);
}

DXP_EXPORT int
rename(const char *p1, const char *p2)
{
	return renameat2(AT_FDCWD, p1, AT_FDCWD, p2, 0);
}

DXP_EXPORT int
linkat(int d1, const char *p1, int d2, const char *p2, int flags)
{
	struct dxp_where a, b;
	daxfile_pool *pool;
	int r;

	if ((flags & AT_EMPTY_PATH) && p1 != NULL && p1[0] == '\0' &&
	    dxp_fd_is_pool(d1)) {
		if (dxp_fd_vpath(d1, a.buf, sizeof(a.buf)) != 0)
			return -1;
		p1 = a.buf;
		d1 = AT_FDCWD;
	}
	r = two_paths(d1, p1, &a, d2, p2, &b, &pool);
	if (r == 1)
		return REAL(linkat)(a.dirfd, a.host, b.dirfd, b.host, flags);
	if (r < 0)
		return -1;
	if (!DXP_HAVE(daxfile_linkat))
		r = dxp_lib_missing("daxfile_linkat");
	else
		r = daxfile_linkat(pool, a.dirf, a.path, b.dirf, b.path,
			flags & AT_SYMLINK_FOLLOW);
	two_paths_put(&a, &b);
	return (int)dxp_mret(a.m, r);
}

DXP_EXPORT int
link(const char *p1, const char *p2)
{
	return linkat(AT_FDCWD, p1, AT_FDCWD, p2, 0);
}

DXP_EXPORT int
symlinkat(const char *target, int dirfd, const char *path)
{
	DXP_PATH_CALL(dirfd, path, 0, REAL(symlinkat)(target, w.dirfd, w.host),
		DXP_AT(w, daxfile_symlinkat(pool, target, w.dirf, w.path),
		DXP_HAVE(daxfile_symlink) ? daxfile_symlink(pool, target, w.path) :
		dxp_lib_missing("daxfile_symlink")));
}

DXP_EXPORT int
symlink(const char *target, const char *path)
{
	return symlinkat(target, AT_FDCWD, path);
}

DXP_EXPORT ssize_t
readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	DXP_PATH_CALL(dirfd, path, 0, REAL(readlinkat)(w.dirfd, w.host, buf, size),
		DXP_AT(w, daxfile_readlinkat(pool, w.dirf, w.path, buf, size),
		DXP_HAVE(daxfile_readlink) ?
		daxfile_readlink(pool, w.path, buf, size) :
		dxp_lib_missing("daxfile_readlink")));
}

DXP_EXPORT ssize_t
readlink(const char *path, char *buf, size_t size)
{
	return readlinkat(AT_FDCWD, path, buf, size);
}

DXP_EXPORT ssize_t
__readlink_chk(const char *path, char *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();
	return readlinkat(AT_FDCWD, path, buf, n);
}

DXP_EXPORT ssize_t
__readlinkat_chk(int dirfd, const char *path, char *buf, size_t n,
	size_t buflen)
{
	if (n > buflen)
		abort();
	return readlinkat(dirfd, path, buf, n);
}

/*
 * cwd_to -- the current directory becomes directory description 'o' (a
 * reference the call takes) if it is one and the caller may search it.
 */
static int
cwd_to(struct dxp_ofd *o)
{
	if (!o->isdir)
		return (int)dxp_oret(o, (errno = ENOTDIR, -1));
	if (DXP_HAVE(daxfile_faccessat)) {
		daxfile_file *f = dxp_ofd_file(o);

		/* the search permission chdir(2) asks, with the thread's fs ids */
		if (f == NULL || daxfile_faccessat(dxp_ofd_pool(o), f, "", X_OK,
		    AT_EACCESS | AT_EMPTY_PATH) != 0)
			return (int)dxp_oret(o, -1);
	}
	dxp_cwd_set_pool(o->m, o->path, o);
	return 0;
}

/*
 * chdir_pool -- the current directory becomes a directory of a pool:
 * 'path' as the library walks it (from directory handle 'dir' if not NULL),
 * kept as a description of the directory for relative paths.
 */
static int
chdir_pool(struct dxp_mount *m, daxfile_file *dir, const char *path,
	const char *norm)
{
	struct dxp_ofd *o = dxp_ofd_open(m, dir, path, norm,
		O_PATH | O_DIRECTORY | O_CLOEXEC, 0);

	return o == NULL ? -1 : cwd_to(o);
}

DXP_EXPORT int
chdir(const char *path)
{
	struct dxp_where w;
	int r;

	if (dxp_resolve_at(AT_FDCWD, path, &w, 0) != 0)
		return -1;
	if (w.m != NULL) {
		r = chdir_pool(w.m, w.dirf, w.path, w.norm);
		dxp_where_put(&w);
		return r;
	}
	if (REAL(chdir)(w.host) != 0)
		return -1;
	dxp_cwd_set_host();
	return 0;
}

DXP_EXPORT int
fchdir(int fd)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL) {
		if (REAL(fchdir)(fd) != 0)
			return -1;
		dxp_cwd_set_host();
		return 0;
	}
	return cwd_to(o);
}

DXP_EXPORT char *
getcwd(char *buf, size_t size)
{
	char tmp[PATH_MAX];

	if (dxp_cwd_pool() == NULL)
		return REAL(getcwd)(buf, size);
	if (dxp_cwd_refresh() != 0 || dxp_cwd_get(tmp, sizeof(tmp)) == NULL)
		return NULL;
	if (buf == NULL) {
		if (size != 0 && strlen(tmp) + 1 > size)
			return errno = ERANGE, NULL;
		return strdup(tmp);
	}
	if (size == 0)
		return errno = EINVAL, NULL;
	if (strlen(tmp) + 1 > size)
		return errno = ERANGE, NULL;
	return strcpy(buf, tmp);
}

DXP_EXPORT char *
__getcwd_chk(char *buf, size_t size, size_t buflen)
{
	if (size > buflen)
		abort();
	return getcwd(buf, size);
}

DXP_EXPORT char *
get_current_dir_name(void)
{
	return getcwd(NULL, 0);
}

DXP_EXPORT char *
getwd(char *buf)
{
	return getcwd(buf, PATH_MAX);
}

/*
 * realpath_pool -- realpath(3) of a path in a pool: every component a
 * directory (or the last anything), symbolic links followed through the
 * layer, so a link that leaves the pool is followed too.
 */
static char *
realpath_pool(const char *vpath, char *out, int depth)
{
	char cur[PATH_MAX] = "", link[PATH_MAX];
	const char *p = vpath;

	if (depth > 40)
		return errno = ELOOP, NULL;
	while (*p != '\0') {
		char next[PATH_MAX];
		struct stat st;
		const char *e;
		ssize_t n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchrnul(p, '/');
		if (snprintf(next, sizeof(next), "%s/%.*s", cur, (int)(e - p), p) >=
		    (int)sizeof(next))
			return errno = ENAMETOOLONG, NULL;
		if (dxp_path_normalize(next, next, sizeof(next)) != 0)
			return NULL;
		if (dxp_path_above_mount(next)) {
			strcpy(cur, next);
			p = e;
			continue;
		}
		if (lstat(next, &st) != 0)
			return NULL;
		if (S_ISLNK(st.st_mode)) {
			char joined[2 * PATH_MAX + 2];

			n = readlink(next, link, sizeof(link) - 1);
			if (n < 0)
				return NULL;
			link[n] = '\0';
			snprintf(joined, sizeof(joined), "%s/%s%s",
				link[0] == '/' ? "" : cur, link, e);
			if (dxp_path_normalize(joined, next, sizeof(next)) != 0)
				return NULL;
			return realpath_pool(next, out, depth + 1);
		}
		if (*e == '/' && !S_ISDIR(st.st_mode))
			return errno = ENOTDIR, NULL;
		strcpy(cur, next);
		p = e;
	}
	if (cur[0] == '\0')
		strcpy(cur, "/");
	if (out == NULL)
		return strdup(cur);
	return strcpy(out, cur);
}

DXP_EXPORT char *
realpath(const char *path, char *resolved)
{
	struct dxp_where w;
	char v[PATH_MAX];

	if (path == NULL)
		return errno = EINVAL, NULL;
	if (dxp_resolve_by_name(AT_FDCWD, path, &w, false) != 0)
		return NULL;
	if (w.m == NULL)
		return REAL(realpath)(w.host, resolved);
	snprintf(v, sizeof(v), "%s%s", w.m->dir,
		strcmp(w.norm, "/") == 0 ? "" : w.norm);
	return realpath_pool(v, resolved, 0);
}

DXP_EXPORT char *
__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
	if (resolvedlen < PATH_MAX)
		abort();
	return realpath(path, resolved);
}

DXP_EXPORT char *
canonicalize_file_name(const char *path)
{
	return realpath(path, NULL);
}
