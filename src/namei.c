/*
 * namei.c -- path resolution.
 *
 * A walk starts at the root (an absolute path), at a directory handle or at
 * the pool's current directory (a relative one), and takes one component at
 * a time as the kernel's link_path_walk does, each after checking that the
 * caller may search the directory it is in.  It holds one directory lock
 * at a time: it takes a directory's DIR lock shared, finds the next
 * component and references its inode while still holding the lock (so an
 * unlink, which needs that lock exclusive, cannot free the inode in
 * between), then lets go and steps down.  ".." reads the directory's parent
 * pointer under the same lock.
 *
 * A symbolic link met on the way is followed: its target is walked from the
 * directory that holds the link (from the root if it is absolute), then the
 * rest of the path.  Targets never change once written, so the walk reads
 * them in the pool, with no lock, while it references the link; the rests
 * of the paths that led to nested links wait on a stack of at most
 * DX_MAXSYMLINKS entries.  The last component is left to the caller, who
 * decides whether to follow it (dx_namei_follow).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "dir.h"
#include "file.h"
#include "namei.h"
#include "out.h"
#include "permission.h"
#include "pool.h"
#include "symlink.h"

/* namei_check -- validate the path string as a whole. */
static int
namei_check(const char *path)
{
	size_t len;

	if (path == NULL)
		return dx_err(EFAULT, "path is NULL");
	len = strnlen(path, DX_PATH_MAX);
	if (len == 0)
		return dx_err(ENOENT, "empty path");
	if (len >= DX_PATH_MAX)
		return dx_err(ENAMETOOLONG, "path longer than %d bytes",
			DX_PATH_MAX - 1);
	return 0;
}

struct dx_inode *
dx_namei_at(struct daxfile_pool *pool, struct daxfile_file *dir)
{
	struct dx_inode *ip;

	if (dir == NULL) {
		ip = dx_islot_get(pool, &pool->cwd);
		return ip != NULL ? ip : dx_iget(pool, pool->sb->root_ino);
	}
	if (dx_file_check_any(dir) != 0)
		return NULL;
	if (dir->pool != pool) {
		dx_err(EBADF, "directory handle belongs to another pool");
		return NULL;
	}
	dx_ihold(dir->ip);
	return dir->ip;
}

/*
 * namei_dotdot -- the parent of 'dir' (caller holds its DIR lock): its
 * parent pointer, or for a removed directory the parent it had then,
 * which it keeps referenced (its pointer may name a freed inode by now).
 */
static struct dx_inode *
namei_dotdot(struct dx_inode *dir)
{
	if (dir->di->nlink == 0) {
		if (dir->gone_parent == NULL) {
			dx_err(ENOENT, "directory was removed");
			return NULL;
		}
		dx_ihold(dir->gone_parent);
		return dir->gone_parent;
	}
	return dx_iget(dir->pool, dx_dir_hdr(dir)->parent);
}

/* namei_lookup -- the referenced inode 'name' names in 'dir' (locked). */
static struct dx_inode *
namei_lookup(struct dx_inode *dir, const char *name, size_t len)
{
	unsigned type;
	uint64_t ino;

	if (len == 2 && name[0] == '.' && name[1] == '.')
		return namei_dotdot(dir);
	if (dir->di->nlink == 0) {
		dx_err(ENOENT, "directory was removed");
		return NULL;
	}
	ino = dx_dir_lookup(dir, name, len, &type);
	if (ino == 0) {
		if (errno == ENOENT)
			dx_err(ENOENT, "no entry '%.*s'", (int)len, name);
		return NULL;
	}
	return dx_iget(dir->pool, ino);
}

/* namei_step -- from directory 'dir', the referenced inode of 'name'. */
static struct dx_inode *
namei_step(struct dx_inode *dir, const char *name, size_t len)
{
	struct dx_inode *ip;

	if (len == 1 && name[0] == '.') {
		dx_ihold(dir);
		return dir;
	}
	dx_ilock(dir, DX_IOLOCK_SHARED);
	ip = namei_lookup(dir, name, len);
	dx_iunlock(dir, DX_IOLOCK_SHARED);
	return ip;
}

/* namei_set_dir -- the walk is in 'ip' now (its reference moves to nd). */
static void
namei_set_dir(struct dx_nameidata *nd, struct dx_inode *ip)
{
	dx_iput(nd->dir);
	nd->dir = ip;
}

/*
 * namei_link -- the walk met the link 'link' (a reference nd takes): its
 * target, with the walk moved to the root if the target is absolute (and
 * past the pool's mount point if the target starts with it);
 * NULL with ELOOP past DX_MAXSYMLINKS links.
 */
static const char *
namei_link(struct dx_nameidata *nd, struct dx_inode *link)
{
	const char *target;

	if (nd->nlinks == DX_MAXSYMLINKS) {
		dx_iput(link);
		dx_err(ELOOP, "more than %d symbolic links", DX_MAXSYMLINKS);
		return NULL;
	}
	nd->links[nd->nlinks++] = link;
	target = dx_symlink_target(link);
	if (target[0] == '/') {
		target = dx_symlink_absolute(nd->pool, target);
		struct dx_inode *root = dx_iget(nd->pool, nd->pool->sb->root_ino);

		if (root == NULL)
			return NULL;
		namei_set_dir(nd, root);
	}
	return target;
}

/* namei_set_last -- 'name' (len bytes) is the last component. */
static void
namei_set_last(struct dx_nameidata *nd, const char *name, size_t len,
	bool slash)
{
	nd->name = name;
	nd->len = len;
	nd->trailing_slash |= slash;
	if (len == 1 && name[0] == '.')
		nd->kind = DX_LAST_DOT;
	else if (len == 2 && name[0] == '.' && name[1] == '.')
		nd->kind = DX_LAST_DOTDOT;
	else
		nd->kind = DX_LAST_NAME;
}

/*
 * namei_walk -- walk 'name' from nd->dir up to its last component, which
 * is left in nd.  Components before it must be directories (or links to
 * them, which are followed).
 */
static int
namei_walk(struct dx_nameidata *nd, const char *name)
{
	const char *rest[DX_MAXSYMLINKS];
	unsigned depth = 0;

	for (;;) {
		const char *p;
		struct dx_inode *next;
		size_t len;

		while (*name == '/')
			name++;
		if (*name == '\0') {
			if (depth > 0) {
				/* a link to "/": the path goes on */
				name = rest[--depth];
				continue;
			}
			/* nothing but slashes: the directory itself */
			nd->name = "/";
			nd->len = 1;
			nd->kind = DX_LAST_ROOT;
			nd->trailing_slash = true;
			return 0;
		}
		if (!nd->dir->isdir)
			return dx_err(ENOTDIR, "'%.*s' is below a file that is not a directory",
				(int)strcspn(name, "/"), name);
		if (dx_perm_inode(nd->cred, nd->dir, DX_MAY_EXEC) != 0)
			return -1;
		len = strcspn(name, "/");
		if (len > DX_NAME_MAX)
			return dx_err(ENAMETOOLONG, "name '%.*s...' longer than %d bytes",
				32, name, DX_NAME_MAX);
		p = name + len;
		while (*p == '/')
			p++;
		if (*p == '\0' && depth == 0) {
			namei_set_last(nd, name, len, p != name + len);
			return 0;
		}
		next = namei_step(nd->dir, name, len);
		if (next == NULL)
			return -1;
		/* the component was the last of a link's target: resume */
		name = *p == '\0' ? rest[--depth] : p;
		if (next->islnk) {
			/* counted first: the stack holds one rest per link */
			const char *target = namei_link(nd, next);

			if (target == NULL)
				return -1;
			rest[depth++] = name;
			name = target;
			continue;
		}
		namei_set_dir(nd, next);
	}
}

/* namei_start -- nd at the directory 'path' starts from. */
static int
namei_start(struct daxfile_pool *pool, struct daxfile_file *at,
	const char *path, struct dx_cred *cr, struct dx_nameidata *nd)
{
	nd->pool = pool;
	nd->cred = cr;
	nd->nlinks = 0;
	nd->trailing_slash = false;
	if (namei_check(path) != 0)
		return -1;
	if (path[0] == '/')
		nd->dir = dx_iget(pool, pool->sb->root_ino);
	else
		nd->dir = dx_namei_at(pool, at);
	return nd->dir != NULL ? 0 : -1;
}

int
dx_namei_parent(struct daxfile_pool *pool, struct daxfile_file *at,
	const char *path, struct dx_cred *cr, struct dx_nameidata *nd)
{
	nd->dir = NULL;
	if (namei_start(pool, at, path, cr, nd) == 0 &&
	    namei_walk(nd, path) == 0)
		return 0;
	dx_namei_done(nd);
	return -1;
}

int
dx_namei_follow(struct dx_nameidata *nd, struct dx_inode *link)
{
	const char *target = namei_link(nd, link);

	if (target == NULL || namei_walk(nd, target) != 0)
		return -1;
	return 0;
}

struct dx_inode *
dx_namei_child(struct dx_nameidata *nd)
{
	struct dx_inode *dir = nd->dir;

	switch (nd->kind) {
	case DX_LAST_ROOT:
	case DX_LAST_DOT:
		dx_ihold(dir);
		return dir;
	default:
		return namei_lookup(dir, nd->name, nd->len);
	}
}

struct dx_inode *
dx_namei_last(struct dx_nameidata *nd, unsigned flags)
{
	struct dx_inode *ip;

	for (;;) {
		dx_ilock(nd->dir, DX_IOLOCK_SHARED);
		ip = dx_namei_child(nd);
		dx_iunlock(nd->dir, DX_IOLOCK_SHARED);
		if (ip == NULL || !ip->islnk ||
		    !((flags & DX_LOOKUP_FOLLOW) || nd->trailing_slash))
			break;
		if (dx_namei_follow(nd, ip) != 0) {
			ip = NULL;
			break;
		}
	}
	if (ip != NULL && nd->trailing_slash && !ip->isdir) {
		dx_err(ENOTDIR, "'%.*s' is not a directory", (int)nd->len,
			nd->name);
		dx_iput(ip);
		ip = NULL;
	}
	dx_namei_done(nd);
	return ip;
}

struct dx_inode *
dx_namei(struct daxfile_pool *pool, struct daxfile_file *at,
	const char *path, unsigned flags, struct dx_cred *cr)
{
	struct dx_nameidata nd;

	if ((flags & DX_LOOKUP_EMPTY) && path != NULL && path[0] == '\0')
		return dx_namei_at(pool, at);
	if (dx_namei_parent(pool, at, path, cr, &nd) != 0)
		return NULL;
	return dx_namei_last(&nd, flags);
}

void
dx_namei_done(struct dx_nameidata *nd)
{
	if (nd->dir != NULL)
		dx_iput(nd->dir);
	nd->dir = NULL;
	while (nd->nlinks > 0)
		dx_iput(nd->links[--nd->nlinks]);
}
