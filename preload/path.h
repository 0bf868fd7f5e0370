/*
 * path.h -- where a path leads: to a pool (which one, and the path inside
 * it) or to the host, after joining it with the current directory or a
 * directory descriptor and resolving "." and ".." on the text to find the
 * pool; and the process's current directory, which may be inside a pool.
 */
#ifndef DXP_PATH_H
#define DXP_PATH_H 1

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>

#include <daxfile.h>

#include "mount.h"

struct dxp_ofd;

/*
 * Where a path leads.  In a pool, 'path' is the path to give the library:
 * the components as the program wrote them ("x/..", "f/.", "." last),
 * after the mount point or the current directory, whenever the path never
 * climbs above the pool's root on the way, so that the library walks them
 * as the kernel would (ENOENT for a missing "x" in "x/..", ENOTDIR for a
 * file, EINVAL for rmdir of "d/.", no parent removed by rmdir of "d/..");
 * else it is 'norm'.  'norm' is the same place resolved lexically (the
 * name the layer keeps for a current directory or an open file).
 */
struct dxp_where {
	struct dxp_mount *m;	/* the pool's mount, or NULL for the host */
	int dirfd;		/* host: the directory descriptor to pass */
	const char *host;	/* host: the path to pass */
	const char *norm;	/* pool: the path resolved lexically */
	struct dxp_ofd *dir;	/* pool, dxp_resolve_at: the base directory */
	daxfile_file *dirf;	/* ... its handle: 'path' is relative to it */
	char path[PATH_MAX];	/* pool: the path inside the pool */
	char buf[PATH_MAX];	/* host: room for a rewritten path; pool: norm */
};

/*
 * dxp_path_normalize -- an absolute path with "//", "." and ".." resolved
 * lexically ("/.." is "/"); -1 with ENAMETOOLONG if it does not fit.
 */
int dxp_path_normalize(const char *in, char *out, size_t size);

/*
 * dxp_resolve -- where (dirfd, path) leads.  0 and *w filled, or -1 with
 * errno (ENOENT for "", EBADF, ENAMETOOLONG, EFAULT).  'empty_ok': an empty
 * path names 'dirfd' itself (AT_EMPTY_PATH).
 */
int dxp_resolve(int dirfd, const char *path, struct dxp_where *w,
	bool empty_ok);

/*
 * dxp_resolve_by_name -- dxp_resolve for the calls that give the library
 * a path from the pool's root (it has no *at form of them): a relative
 * path from a current directory in a pool is joined with the directory's
 * path as it is now, after renames (dxp_cwd_refresh), not as it was
 * entered.  Still walked from the root: it needs search permission above.
 */
int dxp_resolve_by_name(int dirfd, const char *path, struct dxp_where *w,
	bool empty_ok);

/* dxp_resolve_at's 'how': an empty path names the directory itself */
#define DXP_EMPTY_OK AT_EMPTY_PATH
/* ... by name only (dxp_resolve_by_name): no *at call of the library to give it */
#define DXP_BY_NAME 0x40000000

/*
 * dxp_resolve_at -- dxp_resolve for the *at calls: a relative path from a
 * directory descriptor of a pool, or from a current directory in a pool,
 * that stays in the pool on its text is given to the library relative to
 * that directory's handle ('dir' holds a reference on its description,
 * 'dirf' its handle), so that it follows the directory as the kernel does
 * when the directory is renamed, or the symbolic link it was opened
 * through changes, and needs no search permission above it; else (and
 * with DXP_BY_NAME) as dxp_resolve, with 'dirf' NULL.  Calls given a
 * 'dirf' use the library's *at calls.  Every success is followed by
 * dxp_where_put.
 */
int dxp_resolve_at(int dirfd, const char *path, struct dxp_where *w,
	int how);

/* dxp_where_put -- drop what dxp_resolve_at took (nothing after dxp_resolve). */
void dxp_where_put(struct dxp_where *w);

/*
 * DXP_AT -- 'atcall' (the library's *at call, given w.dirf) where the
 * path is relative to a directory handle, else 'call'.
 */
#define DXP_AT(w, atcall, call) ((w).dirf != NULL ? (atcall) : (call))

/*
 * dxp_path_in_pool -- does 'path' (from the current directory) lead into a
 * pool?  The test of the calls that hand other paths to the C library.
 */
bool dxp_path_in_pool(const char *path);

/* dxp_path_in_pool_at -- the same for 'path' from directory 'dirfd'. */
bool dxp_path_in_pool_at(int dirfd, const char *path);

/*
 * dxp_path_above_mount -- is the normalized path a strict ancestor of a
 * mount point (a directory that exists for the program even if the host
 * has none)?
 */
bool dxp_path_above_mount(const char *v);

/* dxp_cwd_init -- the host's current directory, at start. */
void dxp_cwd_init(void);

/*
 * dxp_cwd_set_pool -- the current directory becomes 'path' of mount 'm',
 * whose description is 'o' (the reference is taken; NULL: opened by the
 * path at its first use).
 */
void dxp_cwd_set_pool(struct dxp_mount *m, const char *path,
	struct dxp_ofd *o);

/* dxp_cwd_set_host -- the current directory is the kernel's again. */
void dxp_cwd_set_host(void);

/*
 * dxp_cwd_get -- the current directory as the program sees it: a path
 * under a mount point when inside a pool.  Copies into 'buf'; NULL with
 * ERANGE if it does not fit.
 */
char *dxp_cwd_get(char *buf, size_t size);

/*
 * dxp_dir_path -- the path of directory handle 'dir' from its pool's root
 * as it is now (after renames), through the library's current directory,
 * which the layer uses for nothing else; 0, or -1 if the library cannot
 * tell.
 */
int dxp_dir_path(daxfile_pool *pool, daxfile_file *dir, char *buf,
	size_t size);

/*
 * dxp_dir_path_refresh -- a directory's description 'o', attached as 'f',
 * is named by its path as it is now: it is opened again by its name after
 * a fork or a hand-over.
 */
void dxp_dir_path_refresh(struct dxp_ofd *o, daxfile_pool *pool,
	daxfile_file *f);

/*
 * dxp_cwd_refresh -- before getcwd: the current directory's path as it is
 * now (renamed since it was entered), if this process has its pool, or as
 * it was when the pool went to another process; -1 with ENOENT if it was
 * removed.
 */
int dxp_cwd_refresh(void);

/* dxp_cwd_forked -- in a forked child: the locks anew. */
void dxp_cwd_forked(void);

/* dxp_cwd_pool -- the mount the current directory is in, or NULL. */
struct dxp_mount *dxp_cwd_pool(void);

/* dxp_fd_vpath -- the path a descriptor was opened at (pool or host). */
int dxp_fd_vpath(int fd, char *buf, size_t size);

#endif /* DXP_PATH_H */
