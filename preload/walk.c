/*
 * walk.c -- the C library's tree walkers and pattern matching, which read
 * directories inside the C library: nftw and ftw are the layer's own walk
 * over its stat and directory streams when the tree is in a pool; glob
 * runs with GLOB_ALTDIRFUNC pointed at the layer's directory and stat
 * calls.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "entry.h"

struct walk {
	int (*fn)(const char *, const struct stat *, int, struct FTW *);
	int flags;
	dev_t dev;
	char path[PATH_MAX];
};

/* walk_one -- visit w->path (of length 'len', name at 'base'). */
static int
walk_one(struct walk *w, size_t len, int base, int level)
{
	struct FTW ftw = {base, level};
	struct stat st;
	int type, r;
	DIR *d;

	if (((w->flags & FTW_PHYS) ? lstat(w->path, &st) : stat(w->path, &st)) != 0) {
		type = (!(w->flags & FTW_PHYS) && lstat(w->path, &st) == 0 &&
			S_ISLNK(st.st_mode)) ? FTW_SLN : FTW_NS;
		return w->fn(w->path, &st, type, &ftw);
	}
	if ((w->flags & FTW_MOUNT) && level > 0 && st.st_dev != w->dev)
		return 0;
	if (S_ISLNK(st.st_mode))
		return w->fn(w->path, &st, FTW_SL, &ftw);
	if (!S_ISDIR(st.st_mode))
		return w->fn(w->path, &st, FTW_F, &ftw);
	d = opendir(w->path);
	if (d == NULL)
		return w->fn(w->path, &st, FTW_DNR, &ftw);
	if (!(w->flags & FTW_DEPTH)) {
		r = w->fn(w->path, &st, FTW_D, &ftw);
		if (r != 0) {
			closedir(d);
			if (r == FTW_SKIP_SUBTREE && (w->flags & FTW_ACTIONRETVAL))
				return 0;
			return r;
		}
	}
	r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d)) != NULL;) {
		size_t n = strlen(de->d_name);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (len + 1 + n >= sizeof(w->path)) {
			errno = ENAMETOOLONG;
			r = -1;
			break;
		}
		w->path[len] = '/';
		memcpy(w->path + len + 1, de->d_name, n + 1);
		r = walk_one(w, len + 1 + n, (int)len + 1, level + 1);
		w->path[len] = '\0';
		if (r == FTW_SKIP_SIBLINGS && (w->flags & FTW_ACTIONRETVAL))
			break;
	}
	closedir(d);
	if (r == FTW_SKIP_SIBLINGS && (w->flags & FTW_ACTIONRETVAL))
		r = 0;
	if (r == 0 && (w->flags & FTW_DEPTH))
		r = w->fn(w->path, &st, FTW_DP, &ftw);
	return r;
}

DXP_EXPORT int
nftw(const char *path, int (*fn)(const char *, const struct stat *, int,
	struct FTW *), int nopenfd, int flags)
{
	struct walk w = {fn, flags, 0, ""};
	size_t len = strlen(path);
	struct stat st;
	const char *slash;

	if (!dxp_path_in_pool(path))
		return REAL(nftw)(path, fn, nopenfd, flags);
	if (len >= sizeof(w.path))
		return errno = ENAMETOOLONG, -1;
	memcpy(w.path, path, len + 1);
	while (len > 1 && w.path[len - 1] == '/')
		w.path[--len] = '\0';
	if (stat(w.path, &st) == 0)
		w.dev = st.st_dev;
	slash = strrchr(w.path, '/');
	return walk_one(&w, len, slash ? (int)(slash - w.path) + 1 : 0, 0);
}

DXP_EXPORT int
nftw64(const char *path, int (*fn)(const char *, const struct stat64 *, int,
	struct FTW *), int nopenfd, int flags)
{
	return nftw(path, (int (*)(const char *, const struct stat *, int,
		struct FTW *))fn, nopenfd, flags);
}

/* ftw: nftw's walk, its callback without the struct FTW */
static __thread int (*ftw_fn)(const char *, const struct stat *, int);

static int
ftw_adapt(const char *path, const struct stat *st, int type, struct FTW *f)
{
	return ftw_fn(path, st, type == FTW_SLN ? FTW_NS : type);
}

DXP_EXPORT int
ftw(const char *path, int (*fn)(const char *, const struct stat *, int),
	int nopenfd)
{
	int (*outer)(const char *, const struct stat *, int) = ftw_fn;
	int r;

	if (!dxp_path_in_pool(path))
		return REAL(ftw)(path, fn, nopenfd);
	ftw_fn = fn;
	r = nftw(path, ftw_adapt, nopenfd, 0);
	ftw_fn = outer;
	return r;
}

DXP_EXPORT int
ftw64(const char *path, int (*fn)(const char *, const struct stat64 *, int),
	int nopenfd)
{
	return ftw(path, (int (*)(const char *, const struct stat *, int))fn,
		nopenfd);
}

/* glob's directory calls: the layer's */
static void *
glob_opendir(const char *path)
{
	return opendir(path);
}

static struct dirent *
glob_readdir(void *d)
{
	return readdir(d);
}

static void
glob_closedir(void *d)
{
	closedir(d);
}

DXP_EXPORT int
glob(const char *pattern, int flags, int (*errfunc)(const char *, int),
	glob_t *g)
{
	if (dxp_nmounts == 0 || (flags & GLOB_ALTDIRFUNC))
		return REAL(glob)(pattern, flags, errfunc, g);
	g->gl_opendir = glob_opendir;
	g->gl_readdir = glob_readdir;
	g->gl_closedir = glob_closedir;
	g->gl_stat = stat;
	g->gl_lstat = lstat;
	return REAL(glob)(pattern, flags | GLOB_ALTDIRFUNC, errfunc, g);
}

DXP_EXPORT int
glob64(const char *pattern, int flags, int (*errfunc)(const char *, int),
	glob64_t *g)
{
	return glob(pattern, flags, errfunc, (glob_t *)g);
}
