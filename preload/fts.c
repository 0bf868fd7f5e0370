/*
 * fts.c -- the C library's fts(3), which reads directories and stats files
 * inside the C library: when a root of fts_open leads into a pool, the
 * walk is the layer's own, over its lstat, stat and directory streams,
 * with the C library's order and answers (preorder FTS_D, postorder
 * FTS_DP, FTS_DNR, FTS_DC, FTS_NS, FTS_SL and FTS_SLNONE, FTS_DOT with
 * FTS_SEEDOT, FTS_XDEV, FTS_NOSTAT, the comparison function, fts_set and
 * fts_children).  It never changes the current directory: fts_accpath is
 * the whole path, as with FTS_NOCHDIR.  Walks that touch no pool are the C
 * library's.  On x86-64 the fts64 functions are the same functions.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "entry.h"

typedef int (*fts_cmp)(const FTSENT **, const FTSENT **);

/* A walk of the layer's: the FTS the program sees comes first. */
struct dxfts {
	FTS fts;
	FTSENT *roots;		/* the root list (before the first read) */
	FTSENT *rootparent;	/* the parent of the roots */
	bool started;
	struct dxfts *next;	/* in the list of the layer's walks */
};

static pthread_mutex_t fts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dxfts *fts_walks;

/* fts_ours -- is 'sp' a walk of the layer's? */
static struct dxfts *
fts_ours(FTS *sp)
{
	struct dxfts *w;

	pthread_mutex_lock(&fts_lock);
	for (w = fts_walks; w != NULL && &w->fts != sp; w = w->next)
		;
	pthread_mutex_unlock(&fts_lock);
	return w;
}

/* ent_new -- an entry for 'name' under 'parent' (path: parent's + name). */
static FTSENT *
ent_new(FTS *sp, FTSENT *parent, const char *name, size_t namelen,
	const char *path)
{
	size_t plen = strlen(path);
	FTSENT *p;

	if (namelen > 0xffff || plen > 0xffff) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	p = calloc(1, sizeof(*p) + namelen + sizeof(struct stat));
	if (p == NULL)
		return NULL;
	p->fts_path = strdup(path);
	if (p->fts_path == NULL) {
		free(p);
		return NULL;
	}
	memcpy(p->fts_name, name, namelen);
	p->fts_name[namelen] = '\0';
	p->fts_namelen = (unsigned short)namelen;
	p->fts_pathlen = (unsigned short)plen;
	p->fts_accpath = p->fts_path;
	p->fts_parent = parent;
	p->fts_level = parent ? (short)(parent->fts_level + 1) : FTS_ROOTLEVEL;
	p->fts_instr = FTS_NOINSTR;
	p->fts_symfd = -1;
	p->fts_statp = (struct stat *)((char *)(p + 1) + namelen);
	(void)sp;
	return p;
}

static void
ent_free(FTSENT *p)
{
	if (p != NULL) {
		free(p->fts_path);
		free(p);
	}
}

static void
list_free(FTSENT *p)
{
	while (p != NULL) {
		FTSENT *n = p->fts_link;

		ent_free(p);
		p = n;
	}
}

/* ent_stat -- what the entry is (fts_info), as the C library's fts_stat. */
static unsigned short
ent_stat(FTS *sp, FTSENT *p, bool follow)
{
	struct stat *st = p->fts_statp;
	int saved = errno;

	if ((sp->fts_options & FTS_LOGICAL) || follow) {
		if (stat(p->fts_accpath, st) != 0) {
			if (errno == ENOENT && lstat(p->fts_accpath, st) == 0) {
				errno = saved;
				return FTS_SLNONE;
			}
			p->fts_errno = errno;
			goto err;
		}
	} else if (lstat(p->fts_accpath, st) != 0) {
		p->fts_errno = errno;
err:
		memset(st, 0, sizeof(*st));
		errno = saved;
		return FTS_NS;
	}
	if (S_ISDIR(st->st_mode)) {
		p->fts_dev = st->st_dev;
		p->fts_ino = st->st_ino;
		p->fts_nlink = st->st_nlink;
		if (strcmp(p->fts_name, ".") == 0 || strcmp(p->fts_name, "..") == 0)
			return FTS_DOT;
		for (FTSENT *t = p->fts_parent;
		    t != NULL && t->fts_level >= FTS_ROOTLEVEL; t = t->fts_parent)
			if (t->fts_ino == p->fts_ino && t->fts_dev == p->fts_dev) {
				p->fts_cycle = t;
				return FTS_DC;
			}
		return FTS_D;
	}
	if (S_ISLNK(st->st_mode))
		return FTS_SL;
	return S_ISREG(st->st_mode) ? FTS_F : FTS_DEFAULT;
}

/* list_sort -- the list in the program's order, if it gave one. */
static FTSENT *
list_sort(FTS *sp, FTSENT *head, size_t n)
{
	FTSENT **v;

	if (sp->fts_compar == NULL || n < 2)
		return head;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
		return head;	/* as the C library: unsorted */
	for (size_t i = 0; i < n; i++, head = head->fts_link)
		v[i] = head;
	qsort(v, n, sizeof(*v), sp->fts_compar);
	for (size_t i = 0; i + 1 < n; i++)
		v[i]->fts_link = v[i + 1];
	v[n - 1]->fts_link = NULL;
	head = v[0];
	free(v);
	return head;
}

/*
 * dir_build -- the entries of directory 'cur', sorted; NULL when it has
 * none (cur becomes FTS_DP), cannot be read (FTS_DNR) or memory ran out
 * (FTS_ERR).  'nameonly': fts_children's FTS_NAMEONLY, no stat.
 */
static FTSENT *
dir_build(FTS *sp, FTSENT *cur, bool nameonly, bool reading)
{
	FTSENT *head = NULL, **tail = &head;
	struct dirent64 *de;
	size_t n = 0;
	DIR *d;

	d = opendir(cur->fts_accpath);
	if (d == NULL) {
		if (reading) {
			cur->fts_info = FTS_DNR;
			cur->fts_errno = errno;
		}
		return NULL;
	}
	while ((de = readdir64(d)) != NULL) {
		size_t nl = strlen(de->d_name), pl = strlen(cur->fts_path);
		char *path;
		FTSENT *p;

		if (!(sp->fts_options & FTS_SEEDOT) && (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0))
			continue;
		path = malloc(pl + nl + 2);
		if (path == NULL)
			goto nomem;
		memcpy(path, cur->fts_path, pl);
		if (pl == 0 || path[pl - 1] != '/')
			path[pl++] = '/';
		memcpy(path + pl, de->d_name, nl + 1);
		p = ent_new(sp, cur, de->d_name, nl, path);
		free(path);
		if (p == NULL)
			goto nomem;
		if (nameonly)
			p->fts_info = FTS_NSOK;
		else if ((sp->fts_options & FTS_NOSTAT) && de->d_type != DT_DIR &&
		    de->d_type != DT_UNKNOWN && !(sp->fts_options & FTS_SEEDOT &&
		    (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)))
			p->fts_info = FTS_NSOK;
		else
			p->fts_info = ent_stat(sp, p, false);
		*tail = p;
		tail = &p->fts_link;
		n++;
	}
	closedir(d);
	if (n == 0) {
		if (reading)
			cur->fts_info = FTS_DP;
		return NULL;
	}
	return list_sort(sp, head, n);
nomem:
	closedir(d);
	list_free(head);
	cur->fts_info = FTS_ERR;
	cur->fts_errno = errno;
	sp->fts_options |= FTS_STOP;
	return NULL;
}

static FTS *
walk_open(char *const *argv, int options, fts_cmp compar)
{
	struct dxfts *w;
	FTSENT *head = NULL, **tail = &head;
	size_t n = 0;

	if (options & ~FTS_OPTIONMASK) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	if (options & FTS_LOGICAL)
		options |= FTS_NOCHDIR;
	w->fts.fts_options = options;
	w->fts.fts_compar = (int (*)(const void *, const void *))compar;
	w->fts.fts_rfd = -1;
	w->rootparent = ent_new(&w->fts, NULL, "", 0, "");
	if (w->rootparent == NULL)
		goto err;
	w->rootparent->fts_level = FTS_ROOTPARENTLEVEL;
	for (; *argv != NULL; argv++) {
		size_t len = strlen(*argv);
		FTSENT *p;

		if (len == 0) {
			errno = ENOENT;
			goto err;
		}
		p = ent_new(&w->fts, w->rootparent, *argv, len, *argv);
		if (p == NULL)
			goto err;
		p->fts_level = FTS_ROOTLEVEL;
		p->fts_accpath = p->fts_path;
		p->fts_info = ent_stat(&w->fts, p,
			(options & FTS_COMFOLLOW) != 0);
		if (p->fts_info == FTS_DOT)
			p->fts_info = FTS_D;
		*tail = p;
		tail = &p->fts_link;
		n++;
	}
	w->roots = list_sort(&w->fts, head, n);
	head = NULL;
	pthread_mutex_lock(&fts_lock);
	w->next = fts_walks;
	fts_walks = w;
	pthread_mutex_unlock(&fts_lock);
	return &w->fts;
err:
	list_free(head);
	ent_free(w->rootparent);
	free(w);
	return NULL;
}

/*
 * root_load -- a root about to be returned: as the C library's fts_load,
 * its name, the whole argument until then, becomes what follows its last
 * slash.
 */
static FTSENT *
root_load(FTSENT *p)
{
	char *cp = strrchr(p->fts_name, '/');

	if (cp != NULL && (cp != p->fts_name || cp[1] != '\0')) {
		size_t len = strlen(++cp);

		memmove(p->fts_name, cp, len + 1);
		p->fts_namelen = (unsigned short)len;
	}
	return p;
}

/* walk_next -- the entry after 'p' (freed): its sibling, else its parent. */
static FTSENT *
walk_next(struct dxfts *w, FTSENT *p)
{
	FTS *sp = &w->fts;

	for (;;) {
		FTSENT *tmp = p;

		p = p->fts_link;
		if (p != NULL) {
			ent_free(tmp);
			if (p->fts_level == FTS_ROOTLEVEL) {
				sp->fts_dev = p->fts_dev;
				root_load(p);
			}
			if (p->fts_instr == FTS_SKIP)
				continue;
			if (p->fts_instr == FTS_FOLLOW) {
				p->fts_info = ent_stat(sp, p, true);
				p->fts_instr = FTS_NOINSTR;
			}
			return sp->fts_cur = p;
		}
		p = tmp->fts_parent;
		ent_free(tmp);
		if (p->fts_level == FTS_ROOTPARENTLEVEL) {
			/* done: errno 0 tells the end from an error */
			errno = 0;
			return sp->fts_cur = NULL;
		}
		p->fts_info = p->fts_errno ? FTS_ERR : FTS_DP;
		if (p->fts_errno)
			errno = p->fts_errno;
		return sp->fts_cur = p;
	}
}

static FTSENT *
walk_read(struct dxfts *w)
{
	FTS *sp = &w->fts;
	FTSENT *p = sp->fts_cur, *c;
	int instr;

	if (!w->started) {
		w->started = true;
		p = w->roots;
		w->roots = NULL;
		if (p == NULL)
			return NULL;
		sp->fts_dev = p->fts_dev;
		if (p->fts_instr == FTS_SKIP) {
			/* as a sibling skipped: go on from it */
			p->fts_instr = FTS_NOINSTR;
			return walk_next(w, p);
		}
		return sp->fts_cur = root_load(p);
	}
	if (p == NULL || (sp->fts_options & FTS_STOP))
		return NULL;
	instr = p->fts_instr;
	p->fts_instr = FTS_NOINSTR;
	if (instr == FTS_AGAIN) {
		p->fts_info = ent_stat(sp, p, false);
		return p;
	}
	if (instr == FTS_FOLLOW &&
	    (p->fts_info == FTS_SL || p->fts_info == FTS_SLNONE)) {
		p->fts_info = ent_stat(sp, p, true);
		return p;
	}
	if (p->fts_info == FTS_D) {
		if (instr == FTS_SKIP ||
		    ((sp->fts_options & FTS_XDEV) && p->fts_dev != sp->fts_dev)) {
			list_free(sp->fts_child);
			sp->fts_child = NULL;
			p->fts_info = FTS_DP;
			return p;
		}
		c = sp->fts_child;
		sp->fts_child = NULL;
		if (c != NULL && (sp->fts_options & FTS_NAMEONLY)) {
			sp->fts_options &= ~FTS_NAMEONLY;
			list_free(c);
			c = NULL;
		}
		if (c == NULL && (c = dir_build(sp, p, false, true)) == NULL)
			return (sp->fts_options & FTS_STOP) ? NULL : p;
		return sp->fts_cur = c;
	}
	return walk_next(w, p);
}

static FTSENT *
walk_children(struct dxfts *w, int instr)
{
	FTS *sp = &w->fts;
	FTSENT *p = sp->fts_cur;

	if (instr != 0 && instr != FTS_NAMEONLY) {
		errno = EINVAL;
		return NULL;
	}
	errno = 0;
	if (!w->started)
		return w->roots;
	if (p == NULL || (sp->fts_options & FTS_STOP) || p->fts_info != FTS_D)
		return NULL;
	list_free(sp->fts_child);
	if (instr == FTS_NAMEONLY)
		sp->fts_options |= FTS_NAMEONLY;
	else
		sp->fts_options &= ~FTS_NAMEONLY;
	sp->fts_child = dir_build(sp, p, instr == FTS_NAMEONLY, false);
	return sp->fts_child;
}

static int
walk_close(struct dxfts *w)
{
	FTS *sp = &w->fts;
	FTSENT *p = sp->fts_cur;

	pthread_mutex_lock(&fts_lock);
	for (struct dxfts **q = &fts_walks; *q != NULL; q = &(*q)->next)
		if (*q == w) {
			*q = w->next;
			break;
		}
	pthread_mutex_unlock(&fts_lock);
	list_free(sp->fts_child);
	list_free(w->roots);
	/* the current entry, its later siblings, and up to the roots' */
	while (p != NULL && p->fts_level >= FTS_ROOTLEVEL) {
		FTSENT *parent = p->fts_parent;

		list_free(p);
		p = parent;
	}
	ent_free(w->rootparent);
	free(w);
	return 0;
}

/* any_in_pool -- does a root lead into a pool? */
static bool
any_in_pool(char *const *argv)
{
	if (dxp_nmounts == 0 || argv == NULL)
		return false;
	for (; *argv != NULL; argv++)
		if (dxp_path_in_pool(*argv))
			return true;
	return false;
}

DXP_EXPORT FTS *
fts_open(char *const *argv, int options, fts_cmp compar)
{
	if (!any_in_pool(argv))
		return REAL(fts_open)(argv, options, compar);
	return walk_open(argv, options, compar);
}

DXP_EXPORT FTSENT *
fts_read(FTS *sp)
{
	struct dxfts *w = fts_ours(sp);

	return w ? walk_read(w) : REAL(fts_read)(sp);
}

DXP_EXPORT FTSENT *
fts_children(FTS *sp, int instr)
{
	struct dxfts *w = fts_ours(sp);

	return w ? walk_children(w, instr) : REAL(fts_children)(sp, instr);
}

DXP_EXPORT int
fts_set(FTS *sp, FTSENT *p, int instr)
{
	if (fts_ours(sp) == NULL)
		return REAL(fts_set)(sp, p, instr);
	if (instr != 0 && instr != FTS_AGAIN && instr != FTS_FOLLOW &&
	    instr != FTS_NOINSTR && instr != FTS_SKIP) {
		errno = EINVAL;
		return 1;
	}
	p->fts_instr = (unsigned short)instr;
	return 0;
}

DXP_EXPORT int
fts_close(FTS *sp)
{
	struct dxfts *w = fts_ours(sp);

	return w ? walk_close(w) : REAL(fts_close)(sp);
}

/* the fts64 functions: the same types on x86-64 (ino64_t, struct stat64) */
_Static_assert(sizeof(FTSENT) == sizeof(FTSENT64) &&
	sizeof(FTS) == sizeof(FTS64), "fts64 types differ");

DXP_EXPORT FTS64 *
fts64_open(char *const *argv, int options,
	int (*compar)(const FTSENT64 **, const FTSENT64 **))
{
	return (FTS64 *)fts_open(argv, options, (fts_cmp)compar);
}

DXP_EXPORT FTSENT64 *
fts64_read(FTS64 *sp)
{
	return (FTSENT64 *)fts_read((FTS *)sp);
}

DXP_EXPORT FTSENT64 *
fts64_children(FTS64 *sp, int instr)
{
	return (FTSENT64 *)fts_children((FTS *)sp, instr);
}

DXP_EXPORT int
fts64_set(FTS64 *sp, FTSENT64 *p, int instr)
{
	return fts_set((FTS *)sp, (FTSENT *)p, instr);
}

DXP_EXPORT int
fts64_close(FTS64 *sp)
{
	return fts_close((FTS *)sp);
}
