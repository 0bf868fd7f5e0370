/*
 * stat.c -- entry points that describe files and file systems: the stat
 * family (with the legacy __xstat variants), statx, access and its
 * relatives, statfs, statvfs, pathconf.
 */
#define _GNU_SOURCE 1
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include "entry.h"

/* the f_type statfs reports for a pool: "DAXF" */
#define DXP_FS_MAGIC 0x44415846

/* stat_pool -- stat or lstat of 'path' in mount 'm', from 'dir' if not NULL. */
static int
stat_pool(struct dxp_mount *m, daxfile_file *dir, const char *path,
	struct stat *st, bool follow)
{
	daxfile_pool *pool = dxp_mount_get(m);
	int r;

	if (pool == NULL)
		return -1;
	if (dir != NULL)
		r = daxfile_fstatat(pool, dir, path, st,
			follow ? 0 : AT_SYMLINK_NOFOLLOW);
	else if (!follow && DXP_HAVE(daxfile_lstat))
		r = daxfile_lstat(pool, path, st);
	else
		r = daxfile_stat(pool, path, st);
	return (int)dxp_mret(m, r);
}

/* fstat_pool -- fstat of a pool description (O_PATH included). */
static int
fstat_pool(struct dxp_ofd *o, struct stat *st)
{
	daxfile_file *f = dxp_ofd_file(o);

	return (int)dxp_oret(o, f ? daxfile_fstat(f, st) : -1);
}

/*
 * above_mount -- a host path that does not exist but leads to a mount
 * point is a directory for the program (a mount point needs no host
 * directory, nor do its parents); else the host's error stands.
 */
static int
above_mount(const char *path, struct stat *st)
{
	char v[PATH_MAX];
	int err = errno;

	if (err != ENOENT || path[0] != '/' ||
	    dxp_path_normalize(path, v, sizeof(v)) != 0 ||
	    !dxp_path_above_mount(v)) {
		errno = err;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0755;
	st->st_nlink = 2;
	st->st_blksize = 4096;
	st->st_ino = 1;
	return 0;
}

/* fstatat_any -- fstatat(2) for every variant. */
static int
fstatat_any(int dirfd, const char *path, struct stat *st, int flags)
{
	struct dxp_where w;
	struct dxp_ofd *o;
	int r;

	if (path != NULL && path[0] == '\0' && (flags & AT_EMPTY_PATH) &&
	    (o = dxp_fd_get(dirfd)) != NULL)
		return fstat_pool(o, st);
	if (dxp_resolve_at(dirfd, path, &w, flags & DXP_EMPTY_OK) != 0)
		return -1;
	if (w.m == NULL) {
		if (REAL(fstatat64)(w.dirfd, w.host, (struct stat64 *)st, flags) == 0)
			return 0;
		return above_mount(path, st);
	}
	r = stat_pool(w.m, w.dirf, w.path, st, !(flags & AT_SYMLINK_NOFOLLOW));
	dxp_where_put(&w);
	return r;
}

DXP_EXPORT int
stat(const char *path, struct stat *st)
{
	return fstatat_any(AT_FDCWD, path, st, 0);
}

DXP_EXPORT int
stat64(const char *path, struct stat64 *st)
{
	return fstatat_any(AT_FDCWD, path, (struct stat *)st, 0);
}

DXP_EXPORT int
lstat(const char *path, struct stat *st)
{
	return fstatat_any(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

DXP_EXPORT int
lstat64(const char *path, struct stat64 *st)
{
	return fstatat_any(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

DXP_EXPORT int
fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return fstatat_any(dirfd, path, st, flags);
}

DXP_EXPORT int
fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat_any(dirfd, path, (struct stat *)st, flags);
}

DXP_EXPORT int
fstat(int fd, struct stat *st)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	return o ? fstat_pool(o, st) : REAL(fstat64)(fd, (struct stat64 *)st);
}

DXP_EXPORT int
fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

DXP_EXPORT int
__xstat(int ver, const char *path, struct stat *st)
{
	return fstatat_any(AT_FDCWD, path, st, 0);
}

DXP_EXPORT int
__xstat64(int ver, const char *path, struct stat64 *st)
{
	return fstatat_any(AT_FDCWD, path, (struct stat *)st, 0);
}

DXP_EXPORT int
__lxstat(int ver, const char *path, struct stat *st)
{
	return fstatat_any(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

DXP_EXPORT int
__lxstat64(int ver, const char *path, struct stat64 *st)
{
	return fstatat_any(AT_FDCWD, path, (struct stat *)st, AT_SYMLINK_NOFOLLOW);
}

DXP_EXPORT int
__fxstat(int ver, int fd, struct stat *st)
{
	return fstat(fd, st);
}

DXP_EXPORT int
__fxstat64(int ver, int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

DXP_EXPORT int
__fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags)
{
	return fstatat_any(dirfd, path, st, flags);
}

DXP_EXPORT int
__fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
	int flags)
{
	return fstatat_any(dirfd, path, (struct stat *)st, flags);
}

/* statx_from_stat -- a statx record from a stat one, for a pool file. */
static void
statx_from_stat(const struct stat *st, unsigned mask, struct statx *stx)
{
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st->st_blksize;
	stx->stx_nlink = (uint32_t)st->st_nlink;
	stx->stx_uid = st->st_uid;
	stx->stx_gid = st->st_gid;
	stx->stx_mode = (uint16_t)st->st_mode;
	stx->stx_ino = st->st_ino;
	stx->stx_size = (uint64_t)st->st_size;
	stx->stx_blocks = (uint64_t)st->st_blocks;
	stx->stx_attributes_mask = STATX_ATTR_DAX;
	if (S_ISREG(st->st_mode))
		stx->stx_attributes = STATX_ATTR_DAX;
	stx->stx_atime.tv_sec = st->st_atim.tv_sec;
	stx->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
	stx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
	stx->stx_mtime.tv_nsec = (uint32_t)st->st_mtim.tv_nsec;
	stx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
	stx->stx_ctime.tv_nsec = (uint32_t)st->st_ctim.tv_nsec;
	stx->stx_dev_major = major(st->st_dev);
	stx->stx_dev_minor = minor(st->st_dev);
}

/* statx_pool -- statx of a path in a pool or of a pool description. */
static int
statx_pool(struct dxp_mount *m, struct dxp_ofd *o, daxfile_file *dir,
	const char *path, int flags, unsigned mask, struct statx *stx)
{
	struct stat st;
	int r;

	if (o != NULL) {
		daxfile_file *f = dxp_ofd_file(o);

		if (f == NULL)
			return -1;
		/* the library's own statx also knows the birth time */
		if (DXP_HAVE(daxfile_statx))
			return daxfile_statx(dxp_ofd_pool(o), f, "",
				AT_EMPTY_PATH, mask, stx);
		if (daxfile_fstat(f, &st) != 0)
			return -1;
		statx_from_stat(&st, mask, stx);
		return 0;
	}
	if (DXP_HAVE(daxfile_statx)) {
		daxfile_pool *pool = dxp_mount_get(m);

		if (pool == NULL)
			return -1;
		r = daxfile_statx(pool, dir, path, flags & AT_SYMLINK_NOFOLLOW,
			mask, stx);
		return (int)dxp_mret(m, r);
	}
	if (stat_pool(m, dir, path, &st, !(flags & AT_SYMLINK_NOFOLLOW)) != 0)
		return -1;
	statx_from_stat(&st, mask, stx);
	return 0;
}

DXP_EXPORT int
statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *stx)
{
	struct dxp_where w;
	struct dxp_ofd *o;
	int r;

	if (path != NULL && path[0] == '\0' && (flags & AT_EMPTY_PATH) &&
	    (o = dxp_fd_get(dirfd)) != NULL)
		return (int)dxp_oret(o, statx_pool(o->m, o, NULL, "", flags, mask,
			stx));
	if (dxp_resolve_at(dirfd, path, &w, flags & DXP_EMPTY_OK) != 0)
		return -1;
	if (w.m == NULL) {
		struct stat st;

		if (REAL(statx)(w.dirfd, w.host, flags, mask, stx) == 0)
			return 0;
		if (above_mount(path, &st) != 0)
			return -1;
		statx_from_stat(&st, mask, stx);
		return 0;
	}
	r = statx_pool(w.m, NULL, w.dirf, w.path, flags, mask, stx);
	dxp_where_put(&w);
	return r;
}

/* in_group -- is 'gid' the caller's effective or a supplementary group? */
static bool
in_group(gid_t gid, bool real)
{
	gid_t groups[256];
	int n;

	if (gid == (real ? getgid() : getegid()))
		return true;
	n = getgroups(256, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* access_pool -- faccessat(2) in a pool. */
static int
access_pool(struct dxp_mount *m, daxfile_file *dir, const char *path,
	int mode, int flags)
{
	daxfile_pool *pool;
	struct stat st;
	uid_t uid;
	int r;

	if (mode & ~(R_OK | W_OK | X_OK))
		return errno = EINVAL, -1;
	pool = dxp_mount_get(m);
	if (pool == NULL)
		return -1;
	if (DXP_HAVE(daxfile_faccessat))
		return (int)dxp_mret(m, daxfile_faccessat(pool, dir, path, mode,
			flags));
	/* this library has no access call: the same test on stat's answer */
	r = (flags & AT_SYMLINK_NOFOLLOW) && DXP_HAVE(daxfile_lstat) ?
		daxfile_lstat(pool, path, &st) : daxfile_stat(pool, path, &st);
	dxp_mount_put(m);
	if (r != 0 || mode == F_OK)
		return r;
	uid = (flags & AT_EACCESS) ? geteuid() : getuid();
	if (uid == 0) {
		if ((mode & X_OK) && !S_ISDIR(st.st_mode) &&
		    !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return errno = EACCES, -1;
		return 0;
	}
	int bits = st.st_uid == uid ? (int)(st.st_mode >> 6) & 7 :
		in_group(st.st_gid, !(flags & AT_EACCESS)) ?
		(int)(st.st_mode >> 3) & 7 : (int)st.st_mode & 7;
	return (bits & mode) == mode ? 0 : (errno = EACCES, -1);
}

/* faccessat_any -- every access variant. */
static int
faccessat_any(int dirfd, const char *path, int mode, int flags)
{
	struct dxp_where w;
	int r;

	if (dxp_resolve_at(dirfd, path, &w, flags & DXP_EMPTY_OK) != 0)
		return -1;
	if (w.m == NULL)
		return REAL(faccessat)(w.dirfd, w.host, mode, flags);
	r = access_pool(w.m, w.dirf, w.path, mode, flags);
	dxp_where_put(&w);
	return r;
}

DXP_EXPORT int
access(const char *path, int mode)
{
	return faccessat_any(AT_FDCWD, path, mode, 0);
}

DXP_EXPORT int
faccessat(int dirfd, const char *path, int mode, int flags)
{
	return faccessat_any(dirfd, path, mode, flags);
}

DXP_EXPORT int
euidaccess(const char *path, int mode)
{
	return faccessat_any(AT_FDCWD, path, mode, AT_EACCESS);
}

DXP_EXPORT int
eaccess(const char *path, int mode)
{
	return faccessat_any(AT_FDCWD, path, mode, AT_EACCESS);
}

/* statvfs_mount -- statvfs of a mount's pool. */
static int
statvfs_mount(struct dxp_mount *m, struct statvfs *sv)
{
	daxfile_pool *pool = dxp_mount_get(m);

	if (pool == NULL)
		return -1;
	return (int)dxp_mret(m, daxfile_statvfs(pool, sv));
}

/* statfs_mount -- statfs of a mount's pool. */
static int
statfs_mount(struct dxp_mount *m, struct statfs *sf)
{
	struct statvfs sv;

	if (statvfs_mount(m, &sv) != 0)
		return -1;
	memset(sf, 0, sizeof(*sf));
	sf->f_type = DXP_FS_MAGIC;
	sf->f_bsize = (long)sv.f_bsize;
	sf->f_frsize = (long)sv.f_frsize;
	sf->f_blocks = sv.f_blocks;
	sf->f_bfree = sv.f_bfree;
	sf->f_bavail = sv.f_bavail;
	sf->f_files = sv.f_files;
	sf->f_ffree = sv.f_ffree;
	memcpy(&sf->f_fsid, &sv.f_fsid, sizeof(sf->f_fsid));
	sf->f_namelen = (long)sv.f_namemax;
	return 0;
}

/* where_mount -- the mount a path leads to (NULL: host) or -1 on error. */
static int
where_mount(const char *path, struct dxp_where *w)
{
	return dxp_resolve_by_name(AT_FDCWD, path, w, false);
}

DXP_EXPORT int
statfs(const char *path, struct statfs *sf)
{
	struct dxp_where w;

	if (where_mount(path, &w) != 0)
		return -1;
	if (w.m == NULL)
		return REAL(statfs64)(w.host, (struct statfs64 *)sf);
	if (stat_pool(w.m, NULL, w.path, &(struct stat){0}, true) != 0)
		return -1;
	return statfs_mount(w.m, sf);
}

DXP_EXPORT int
statfs64(const char *path, struct statfs64 *sf)
{
	return statfs(path, (struct statfs *)sf);
}

DXP_EXPORT int
fstatfs(int fd, struct statfs *sf)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(fstatfs64)(fd, (struct statfs64 *)sf);
	return (int)dxp_oret(o, statfs_mount(o->m, sf));
}

DXP_EXPORT int
fstatfs64(int fd, struct statfs64 *sf)
{
	return fstatfs(fd, (struct statfs *)sf);
}

DXP_EXPORT int
statvfs(const char *path, struct statvfs *sv)
{
	struct dxp_where w;

	if (where_mount(path, &w) != 0)
		return -1;
	if (w.m == NULL)
		return REAL(statvfs64)(w.host, (struct statvfs64 *)sv);
	if (stat_pool(w.m, NULL, w.path, &(struct stat){0}, true) != 0)
		return -1;
	return statvfs_mount(w.m, sv);
}

DXP_EXPORT int
statvfs64(const char *path, struct statvfs64 *sv)
{
	return statvfs(path, (struct statvfs *)sv);
}

DXP_EXPORT int
fstatvfs(int fd, struct statvfs *sv)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(fstatvfs64)(fd, (struct statvfs64 *)sv);
	return (int)dxp_oret(o, statvfs_mount(o->m, sv));
}

DXP_EXPORT int
fstatvfs64(int fd, struct statvfs64 *sv)
{
	return fstatvfs(fd, (struct statvfs *)sv);
}

/* pathconf_pool -- the limits of a pool file system. */
static long
pathconf_pool(int name)
{
	switch (name) {
	case _PC_NAME_MAX:
		return 255;
	case _PC_PATH_MAX:
		return 4096;
	case _PC_LINK_MAX:
		return 2147483647;
	case _PC_FILESIZEBITS:
		return 64;
	case _PC_PIPE_BUF:
		return 4096;
	case _PC_REC_XFER_ALIGN:
	case _PC_ALLOC_SIZE_MIN:
	case _PC_REC_MIN_XFER_SIZE:
		return 4096;
	default:
		return REAL(pathconf)("/", name);
	}
}

DXP_EXPORT long
pathconf(const char *path, int name)
{
	struct dxp_where w;

	if (where_mount(path, &w) != 0)
		return -1;
	if (w.m == NULL)
		return REAL(pathconf)(w.host, name);
	if (stat_pool(w.m, NULL, w.path, &(struct stat){0}, true) != 0)
		return -1;
	return pathconf_pool(name);
}

DXP_EXPORT long
fpathconf(int fd, int name)
{
	struct dxp_ofd *o = dxp_fd_get(fd);

	if (o == NULL)
		return REAL(fpathconf)(fd, name);
	return dxp_oret(o, pathconf_pool(name));
}
