/*
 * entry.h -- what the interposed entry points share: the bodies of a call
 * on a path and of a call on a descriptor, the pool a path leads to taken
 * with a use, errno kept across the release of references.
 */
#ifndef DXP_ENTRY_H
#define DXP_ENTRY_H 1

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>

#include "fdtable.h"
#include "lib.h"
#include "mount.h"
#include "path.h"
#include "real.h"

#define DXP_EXPORT __attribute__((visibility("default")))

/* dxp_oret -- return 'r', dropping the reference on 'o' (errno kept). */
static inline long
dxp_oret(struct dxp_ofd *o, long r)
{
	int e = errno;

	dxp_ofd_put(o);
	errno = e;
	return r;
}

/* dxp_mret -- return 'r', dropping a use of mount 'm' (errno kept). */
static inline long
dxp_mret(struct dxp_mount *m, long r)
{
	int e = errno;

	dxp_mount_put(m);
	errno = e;
	return r;
}

/*
 * DXP_PATH_CALL -- the body of a call on (dirfd, path): resolve it
 * (dxp_resolve_at, as 'how' says), then return 'host' if it is the host's,
 * or 'poolcall' with 'pool' and 'w' set (w.path; w.dirf, the base
 * directory's handle, or NULL).
 */
#define DXP_PATH_CALL(dirfd, path, how, host, poolcall) do { \
	struct dxp_where w; \
	daxfile_pool *pool; \
	long r_; \
	if (dxp_resolve_at((dirfd), (path), &w, (how)) != 0) \
		return -1; \
	if (w.m == NULL) \
		return (host); \
	pool = dxp_mount_get(w.m); \
	if (pool == NULL) { \
		dxp_where_put(&w); \
		return -1; \
	} \
	r_ = (poolcall); \
	dxp_where_put(&w); \
	return dxp_mret(w.m, r_); \
} while (0)

/*
 * DXP_FD_CALL -- the body of a call on descriptor 'fd': 'host' if it is
 * the host's, else 'poolcall' with 'f' set; EBADF on an O_PATH
 * descriptor, as the kernel's fdget gives.
 */
#define DXP_FD_CALL(fd, host, poolcall) do { \
	struct dxp_ofd *o_ = dxp_fd_get(fd); \
	daxfile_file *f; \
	if (o_ == NULL) \
		return (host); \
	f = dxp_ofd_file(o_); \
	if (f == NULL) \
		return dxp_oret(o_, -1); \
	if (o_->flags & O_PATH) { \
		errno = EBADF; \
		return dxp_oret(o_, -1); \
	} \
	return dxp_oret(o_, (poolcall)); \
} while (0)

/* dxp_open_pool -- open 'path' in mount 'm' as a new descriptor. */
int dxp_open_pool(struct dxp_mount *m, const char *path, int flags,
	mode_t mode);

/*
 * dxp_ofd_open -- open 'path' in mount 'm' (from directory handle 'dir' if
 * not NULL) as a new description, with no descriptor number; it keeps
 * 'name' (NULL: 'path' resolved lexically) as its path in the pool.  NULL
 * with errno on failure.
 */
struct dxp_ofd *dxp_ofd_open(struct dxp_mount *m, daxfile_file *dir,
	const char *path, const char *name, int flags, mode_t mode);

/*
 * dxp_open_pool_at -- the same, 'path' relative to directory handle 'dir'
 * if not NULL; the description keeps 'name' (NULL: 'path' resolved
 * lexically) as its path in the pool.
 */
int dxp_open_pool_at(struct dxp_mount *m, daxfile_file *dir, const char *path,
	const char *name, int flags, mode_t mode);

/*
 * dxp_dir_seek -- lseek(2) on a pool directory's description: a position
 * getdents64 gave in d_off (dir.c).
 */
off_t dxp_dir_seek(struct dxp_ofd *o, off_t off, int whence);

/* dxp_create_mode -- the mode for a create in 'pool', umask applied. */
mode_t dxp_create_mode(daxfile_pool *pool, mode_t mode);

/* dxp_umask_init -- learn the process's umask. */
void dxp_umask_init(void);

/* dxp_std_adopt -- fd 0, 1 or 2 changed: point stdin/out/err at it. */
void dxp_std_adopt(int fd);

/*
 * dxp_from_lib -- was the call that returns to 'ret' made by libdaxfile
 * itself?  (Its own mappings, and its helper process, are not the
 * program's.)
 */
bool dxp_from_lib(void *ret);

/* dxp_mmap_forget -- in a forked child: the parent's mappings are not ours. */
void dxp_mmap_forget(void);

/* dxp_std_flush -- before fd 0, 1 or 2 changes: flush its stream. */
void dxp_std_flush(int fd);

#endif /* DXP_ENTRY_H */
