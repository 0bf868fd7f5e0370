/*
 * namei.c -- path resolution.
 *
 * The walk holds one directory lock at a time: it takes a directory's DIR
 * lock shared, finds the next component and references its inode while
 * still holding the lock (so an unlink, which needs that lock exclusive,
 * cannot free the inode in between), then lets go and steps down.  ".."
 * reads the directory's parent pointer under the same lock.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "dir.h"
#include "namei.h"
#include "out.h"
#include "pool.h"

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
	if (path[0] != '/')
		return dx_err(EINVAL, "path '%s' is not absolute", path);
	return 0;
}

/* namei_step -- from directory 'dir', the referenced inode of 'name'. */
static struct dx_inode *
namei_step(struct dx_inode *dir, const char *name, size_t len)
{
	struct daxfile_pool *pool = dir->pool;
	struct dx_inode *ip = NULL;
	unsigned type;
	uint64_t ino;

	dx_ilock(dir, DX_IOLOCK_SHARED);
	if (len == 2 && name[0] == '.' && name[1] == '.')
		ino = dx_dir_hdr(dir)->parent;
	else if (dir->di->nlink == 0)
		ino = 0, errno = ENOENT; /* removed while we walked */
	else
		ino = dx_dir_lookup(dir, name, len, &type);
	if (ino != 0)
		ip = dx_iget(pool, ino);
	else if (errno == ENOENT)
		dx_err(ENOENT, "no entry '%.*s'", (int)len, name);
	dx_iunlock(dir, DX_IOLOCK_SHARED);
	return ip;
}

/* next_component -- skip slashes; the component at *p and its length. */
static size_t
next_component(const char **p)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == '/')
		s++;
	*p = s;
	while (s[n] != '\0' && s[n] != '/')
		n++;
	return n;
}

int
dx_namei_parent(struct daxfile_pool *pool, const char *path,
	struct dx_nameidata *nd)
{
	struct dx_inode *dir;
	const char *p = path;
	size_t len;

	if (namei_check(path) != 0)
		return -1;
	dir = dx_iget(pool, pool->sb->root_ino);
	if (dir == NULL)
		return -1;
	len = next_component(&p);
	while (len != 0) {
		const char *q = p + len;
		size_t nlen = next_component(&q);
		struct dx_inode *next;

		if (len > DX_NAME_MAX) {
			dx_iput(dir);
			return dx_err(ENAMETOOLONG, "name '%.*s...' longer than %d bytes",
				32, p, DX_NAME_MAX);
		}
		if (nlen == 0) {
			/* p is the last component */
			nd->dir = dir;
			nd->name = p;
			nd->len = len;
			nd->trailing_slash = p[len] == '/';
			if (len == 1 && p[0] == '.')
				nd->kind = DX_LAST_DOT;
			else if (len == 2 && p[0] == '.' && p[1] == '.')
				nd->kind = DX_LAST_DOTDOT;
			else
				nd->kind = DX_LAST_NAME;
			return 0;
		}
		if (len == 1 && p[0] == '.') {
			next = dir;
		} else {
			next = namei_step(dir, p, len);
			dx_iput(dir);
			if (next == NULL)
				return -1;
			if (!next->isdir) {
				dx_iput(next);
				return dx_err(ENOTDIR, "'%.*s' is not a directory",
					(int)len, p);
			}
		}
		dir = next;
		p = q;
		len = nlen;
	}
	nd->dir = dir;
	nd->name = "/";
	nd->len = 1;
	nd->kind = DX_LAST_ROOT;
	nd->trailing_slash = true;
	return 0;
}

struct dx_inode *
dx_namei_child(struct dx_nameidata *nd)
{
	struct dx_inode *dir = nd->dir;
	struct dx_inode *ip;
	unsigned type;
	uint64_t ino;

	switch (nd->kind) {
	case DX_LAST_ROOT:
	case DX_LAST_DOT:
		dx_ihold(dir);
		return dir;
	case DX_LAST_DOTDOT:
		ino = dx_dir_hdr(dir)->parent;
		break;
	default:
		if (dir->di->nlink == 0) {
			dx_err(ENOENT, "directory was removed");
			return NULL;
		}
		ino = dx_dir_lookup(dir, nd->name, nd->len, &type);
		if (ino == 0) {
			if (errno == ENOENT)
				dx_err(ENOENT, "no entry '%.*s'", (int)nd->len,
					nd->name);
			return NULL;
		}
	}
	ip = dx_iget(dir->pool, ino);
	if (ip != NULL && nd->trailing_slash && !ip->isdir) {
		dx_iput(ip);
		dx_err(ENOTDIR, "'%.*s' is not a directory", (int)nd->len,
			nd->name);
		return NULL;
	}
	return ip;
}

struct dx_inode *
dx_namei(struct daxfile_pool *pool, const char *path)
{
	struct dx_nameidata nd;
	struct dx_inode *ip;

	if (dx_namei_parent(pool, path, &nd) != 0)
		return NULL;
	dx_ilock(nd.dir, DX_IOLOCK_SHARED);
	ip = dx_namei_child(&nd);
	dx_iunlock(nd.dir, DX_IOLOCK_SHARED);
	dx_namei_done(&nd);
	return ip;
}

void
dx_namei_done(struct dx_nameidata *nd)
{
	if (nd->dir != NULL)
		dx_iput(nd->dir);
	nd->dir = NULL;
}
