/*
 * path.c -- resolving paths to a pool or to the host (path.h).
 *
 * The test is lexical: a path leads into a pool when, joined with its base
 * directory and with "." and ".." resolved, it is at or under a mount
 * point.  Symbolic links inside a pool are followed by the library; the
 * host's are followed by the kernel, which is why a host path never needs
 * more than a string test: a program that touches no mount point pays a
 * comparison or two per call.  Relative paths are joined with their base
 * only when they could reach a mount point: when they climb with "..", or
 * when their first component is a component of a mount point's path.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "entry.h"
#include "fdtable.h"
#include "hidefd.h"
#include "lib.h"
#include "path.h"
#include "real.h"
#include "shared.h"

/*
 * The current directory.  In a pool it is also a description of the
 * directory (O_PATH) under a number of the layer's own (hidefd.h), so that
 * relative paths are walked from the directory itself, as the kernel's
 * are: a rename of it or of its ancestors, or an ancestor without search
 * permission, changes nothing for them.  The description goes through the
 * pool's hand-overs like any other.
 */
static struct {
	pthread_mutex_t lock;
	char vpath[PATH_MAX];	/* what getcwd reports */
	atomic_bool valid;	/* vpath is known */
	int fd;			/* the description's number; -1: not open */
	unsigned long gen;	/* changes of directory */
} cwd = {PTHREAD_MUTEX_INITIALIZER, "", false, -1, 0};

/* the mount the current directory is in, or NULL */
static struct dxp_mount *_Atomic cwd_mount;
/* the current directory is an ancestor of some mount point */
static atomic_bool cwd_near_mount;

int
dxp_path_normalize(const char *in, char *out, size_t size)
{
	size_t len = 0;
	const char *p = in;

	if (size < 2)
		return errno = ENAMETOOLONG, -1;
	out[len++] = '/';
	while (*p != '\0') {
		const char *e;
		size_t n;

		while (*p == '/')
			p++;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 1 && out[len - 1] != '/')
				len--;
			if (len > 1)
				len--;
		} else {
			if (len + (len > 1) + n + 1 > size)
				return errno = ENAMETOOLONG, -1;
			if (len > 1)
				out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p = e;
	}
	out[len] = '\0';
	return 0;
}

/* has_dotdot -- does the path have a ".." component? */
static bool
has_dotdot(const char *p)
{
	for (const char *s = strstr(p, ".."); s != NULL; s = strstr(s + 2, ".."))
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return true;
	return false;
}

/* first_is_mount_component -- is the first component part of a mount path? */
static bool
first_is_mount_component(const char *p)
{
	size_t n = strcspn(p, "/");

	for (int i = 0; i < dxp_nmounts; i++) {
		const char *d = dxp_mounts[i].dir;

		while (*d == '/') {
			size_t k = strcspn(d + 1, "/");

			if (k == n && strncmp(d + 1, p, n) == 0)
				return true;
			d += 1 + k;
		}
	}
	return false;
}

/*
 * first_is_mount_first -- does an absolute path start with the first
 * component of a mount point ("//x" and "/./x" count as possible)?
 */
static bool
first_is_mount_first(const char *path)
{
	const char *p = path + 1;
	size_t n = strcspn(p, "/");

	if (n == 0 || (n == 1 && p[0] == '.'))
		return true;
	for (int i = 0; i < dxp_nmounts; i++) {
		const char *d = dxp_mounts[i].dir + 1;

		if (strncmp(d, p, n) == 0 && (d[n] == '/' || d[n] == '\0'))
			return true;
	}
	return false;
}

/* passes_mount -- does an absolute path go through a mount point? */
static bool
passes_mount(const char *path)
{
	char prefix[PATH_MAX];
	const char *p = path;

	while (*p != '\0') {
		const char *e;

		while (*p == '/')
			p++;
		e = strchrnul(p, '/');
		if ((size_t)(e - path) >= sizeof(prefix))
			return false;
		memcpy(prefix, path, (size_t)(e - path));
		prefix[e - path] = '\0';
		if (dxp_path_normalize(prefix, prefix, sizeof(prefix)) == 0 &&
		    dxp_mount_match(prefix, &(const char *){NULL}) != NULL)
			return true;
		p = e;
	}
	return false;
}

/*
 * raw_rest -- 'base' (a normalized path inside a pool) joined with 'rel'
 * as written, into 'out'; -1 if 'rel' climbs above the pool's root on the
 * way (the host's walk would leave the pool there) or it does not fit.
 */
static int
raw_rest(const char *base, const char *rel, char *out, size_t size)
{
	long depth = 0;
	int n;

	for (const char *p = base; *p != '\0'; p++)
		depth += p[0] == '/' && p[1] != '\0';
	for (const char *p = rel; *p != '\0';) {
		size_t k;

		while (*p == '/')
			p++;
		k = strcspn(p, "/");
		if (k == 2 && p[0] == '.' && p[1] == '.' && --depth < 0)
			return -1;
		depth += k > 0 && !(k == 1 && p[0] == '.') &&
			!(k == 2 && p[0] == '.' && p[1] == '.');
		p += k;
	}
	n = snprintf(out, size, "%s%s%s", base, base[1] != '\0' ? "/" : "", rel);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * where_from -- fill 'w' from the absolute normalized virtual path 'v';
 * in a pool, 'raw' (if not NULL) is the path as written inside it.
 */
static int
where_from(const char *v, const char *raw, struct dxp_where *w)
{
	const char *rest;

	w->m = dxp_mount_match(v, &rest);
	if (w->m != NULL) {
		if (rest[0] == '\0')
			rest = "/";
		memmove(w->buf, rest, strlen(rest) + 1);
		w->norm = w->buf;
		memcpy(w->path, raw != NULL ? raw : w->buf,
			strlen(raw != NULL ? raw : w->buf) + 1);
		return 0;
	}
	if (v != w->buf)
		memmove(w->buf, v, strlen(v) + 1);
	w->dirfd = AT_FDCWD;
	w->host = w->buf;
	return 0;
}

/*
 * join -- normalize base + "/" + rel into 'w'; where both lead into one
 * pool, the pool path keeps 'rel' as written (raw_rest).
 */
static int
join(const char *base, const char *rel, struct dxp_where *w)
{
	char tmp[2 * PATH_MAX], raw[PATH_MAX];
	const char *brest;
	struct dxp_mount *bm;
	bool have_raw = false;

	if (snprintf(tmp, sizeof(tmp), "%s/%s", base, rel) >= (int)sizeof(tmp))
		return errno = ENAMETOOLONG, -1;
	bm = rel[0] != '\0' ? dxp_mount_match(base, &brest) : NULL;
	if (bm != NULL)
		have_raw = raw_rest(brest[0] != '\0' ? brest : "/", rel, raw,
			sizeof(raw)) == 0;
	if (dxp_path_normalize(tmp, w->path, sizeof(w->path)) != 0)
		return -1;
	if (have_raw && dxp_mount_match(w->path, &(const char *){NULL}) != bm)
		have_raw = false;
	return where_from(w->path, have_raw ? raw : NULL, w);
}

/*
 * absolute_raw -- an absolute 'path' that names mount 'm' literally
 * ("/mnt/one/x/..") as the pool path 'raw' ("/x/.."); false otherwise.
 */
static bool
absolute_raw(const char *path, const struct dxp_mount *m, char *raw,
	size_t size)
{
	if (m == NULL || strncmp(path, m->dir, m->dirlen) != 0 ||
	    (path[m->dirlen] != '/' && path[m->dirlen] != '\0'))
		return false;
	return raw_rest("/", path + m->dirlen, raw, size) == 0;
}

int
dxp_fd_vpath(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	if (dxp_ofd_vpath(fd, buf, size) == 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n < 0 || buf[0] != '/')
		return errno = EBADF, -1;
	buf[n] = '\0';
	return 0;
}

/*
 * names_dir -- does 'path' end in a slash or "/." (or is it "."), so that
 * it must name a directory?  Normalizing drops that, the walk must not.
 */
static bool
names_dir(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '.' && path[n - 2] == '/')
		n -= 2;
	return (n > 0 && path[n - 1] == '/') || (n == 1 && path[0] == '.');
}

static int resolve(int dirfd, const char *path, struct dxp_where *w,
	bool empty_ok);

int
dxp_resolve(int dirfd, const char *path, struct dxp_where *w, bool empty_ok)
{
	size_t n;

	if (resolve(dirfd, path, w, empty_ok) != 0)
		return -1;
	/* a trailing slash stays: open("x/", O_CREAT) is EISDIR, "file/" ENOTDIR */
	if (w->m != NULL && names_dir(path) && strcmp(w->path, w->norm) == 0 &&
	    (n = strlen(w->path)) > 1 && n + 1 < sizeof(w->path)) {
		w->path[n] = '/';
		w->path[n + 1] = '\0';
	}
	return 0;
}

int
dxp_resolve_by_name(int dirfd, const char *path, struct dxp_where *w,
	bool empty_ok)
{
	if (dirfd == AT_FDCWD && path != NULL && path[0] != '/' &&
	    atomic_load(&cwd_mount) != NULL)
		(void)dxp_cwd_refresh();	/* removed: the walk says ENOENT */
	return dxp_resolve(dirfd, path, w, empty_ok);
}

static struct dxp_ofd *cwd_description(struct dxp_mount *m, char *base,
	size_t size);

/* at_calls -- has the library every *at call that dxp_resolve_at's users make? */
static bool
at_calls(void)
{
	return DXP_HAVE(daxfile_openat) && DXP_HAVE(daxfile_mkdirat) &&
		DXP_HAVE(daxfile_unlinkat) && DXP_HAVE(daxfile_renameat2) &&
		DXP_HAVE(daxfile_linkat) && DXP_HAVE(daxfile_symlinkat) &&
		DXP_HAVE(daxfile_readlinkat) && DXP_HAVE(daxfile_fstatat) &&
		DXP_HAVE(daxfile_statx) && DXP_HAVE(daxfile_fchmodat) &&
		DXP_HAVE(daxfile_fchownat) && DXP_HAVE(daxfile_faccessat) &&
		DXP_HAVE(daxfile_utimensat);
}

int
dxp_resolve_at(int dirfd, const char *path, struct dxp_where *w, int how)
{
	char raw[PATH_MAX], base[PATH_MAX];
	struct dxp_ofd *o;
	daxfile_file *f;
	size_t n;

	if (how & DXP_BY_NAME)
		return dxp_resolve_by_name(dirfd, path, w, how & DXP_EMPTY_OK);
	if (dxp_resolve(dirfd, path, w, how & DXP_EMPTY_OK) != 0)
		return -1;
	if (w->m == NULL || path[0] == '/' || path[0] == '\0' || !at_calls())
		return 0;
	if (dirfd == AT_FDCWD)
		o = cwd_description(w->m, base, sizeof(base));
	else
		o = dxp_fd_is_pool(dirfd) ? dxp_fd_get(dirfd) : NULL;
	if (o == NULL)
		return 0;
	/* a path that climbs above the pool's root on its text left it */
	n = strlen(path);
	if (o->m != w->m || !o->isdir || n >= sizeof(w->path) ||
	    raw_rest(dirfd == AT_FDCWD ? base : o->path, path, raw,
	    sizeof(raw)) != 0) {
		dxp_ofd_put(o);
		return 0;
	}
	f = dxp_ofd_file(o);
	if (f == NULL) {
		/* a directory removed while another process had the pool */
		int e = errno == ESTALE ? ENOENT : errno;

		dxp_ofd_put(o);
		errno = e;
		return -1;
	}
	w->dir = o;
	w->dirf = f;
	memcpy(w->path, path, n + 1);
	return 0;
}

void
dxp_where_put(struct dxp_where *w)
{
	if (w->dir != NULL) {
		int e = errno;

		dxp_ofd_put(w->dir);
		errno = e;
		w->dir = NULL;
		w->dirf = NULL;
	}
}

bool
dxp_path_in_pool_at(int dirfd, const char *path)
{
	struct dxp_where w;

	return dxp_nmounts != 0 && dxp_resolve(dirfd, path, &w, false) == 0 &&
		w.m != NULL;
}

bool
dxp_path_in_pool(const char *path)
{
	return dxp_path_in_pool_at(AT_FDCWD, path);
}

/* resolve -- dxp_resolve, the trailing slash aside. */
static int
resolve(int dirfd, const char *path, struct dxp_where *w, bool empty_ok)
{
	char base[PATH_MAX];

	w->m = NULL;
	w->dir = NULL;
	w->dirf = NULL;
	w->dirfd = dirfd;
	w->host = path;
	if (path == NULL)
		return errno = EFAULT, -1;
	if (dxp_nmounts == 0)
		return 0;
	if (path[0] == '/') {
		/* the common case: a first component no mount point shares */
		if (!first_is_mount_first(path) && !has_dotdot(path))
			return 0;
		struct dxp_mount *m;
		char raw[PATH_MAX];

		if (dxp_path_normalize(path, w->path, sizeof(w->path)) != 0)
			return -1;
		m = dxp_mount_match(w->path, &(const char *){NULL});
		if (m == NULL) {
			/* climbing out of a mount point: the kernel cannot walk it */
			if (has_dotdot(path) && passes_mount(path))
				return where_from(w->path, NULL, w);
			w->host = path;
			return 0;
		}
		return where_from(w->path, absolute_raw(path, m, raw,
			sizeof(raw)) ? raw : NULL, w);
	}
	if (path[0] == '\0' && !empty_ok)
		return errno = ENOENT, -1;
	if (dirfd == AT_FDCWD) {
		if (atomic_load(&cwd_mount) == NULL && !atomic_load(&cwd_near_mount) &&
		    !has_dotdot(path))
			return 0;
		if (dxp_cwd_get(base, sizeof(base)) == NULL)
			return -1;
		return join(base, path, w);
	}
	if (!dxp_fd_is_pool(dirfd) && !has_dotdot(path) &&
	    !first_is_mount_component(path))
		return 0;
	if (dxp_fd_vpath(dirfd, base, sizeof(base)) != 0)
		return -1;
	if (!dxp_fd_is_pool(dirfd) && path[0] != '\0') {
		if (join(base, path, w) != 0)
			return -1;
		if (w->m == NULL) {
			/* stays on the host: the kernel resolves it from dirfd */
			w->dirfd = dirfd;
			w->host = path;
		}
		return 0;
	}
	return join(base, path, w);
}

/* cwd_update_near -- is the current directory an ancestor of a mount point? */
static void
cwd_update_near(const char *v)
{
	atomic_store(&cwd_near_mount, dxp_path_above_mount(v));
}

void
dxp_cwd_init(void)
{
	pthread_mutex_lock(&cwd.lock);
	if (REAL(getcwd)(cwd.vpath, sizeof(cwd.vpath)) != NULL) {
		atomic_store(&cwd.valid, true);
		cwd_update_near(cwd.vpath);
	} else {
		atomic_store(&cwd_near_mount, true);
	}
	pthread_mutex_unlock(&cwd.lock);
}

/*
 * kernel_cwd_away -- the current directory moves into a pool: the
 * kernel's goes to a directory made and removed at once, in which nothing
 * can be found or made (ENOENT), so that a relative path used inside the
 * C library by a call the layer does not serve fails instead of reaching
 * host files in the directory the program left.
 */
static void
kernel_cwd_away(void)
{
	char dir[] = "/tmp/daxfile-cwd.XXXXXX";

	if (REAL(mkdtemp)(dir) == NULL)
		return;
	(void)REAL(chdir)(dir);
	(void)REAL(rmdir)(dir);
}

/* cwd_close -- drop the layer's number 'fd' of a former current directory. */
static void
cwd_close(int fd)
{
	if (fd < 0)
		return;
	dxp_fd_unhide(fd);
	(void)close(fd);
}

/* the library's current directory, which dxp_dir_path borrows */
static pthread_mutex_t libcwd_lock = PTHREAD_MUTEX_INITIALIZER;

int
dxp_dir_path(daxfile_pool *pool, daxfile_file *dir, char *buf, size_t size)
{
	int r = -1;

	if (!DXP_HAVE(daxfile_fchdir) || !DXP_HAVE(daxfile_getcwd))
		return -1;
	pthread_mutex_lock(&libcwd_lock);
	if (daxfile_fchdir(dir) == 0 && daxfile_getcwd(pool, buf, size) != NULL)
		r = 0;
	pthread_mutex_unlock(&libcwd_lock);
	return r;
}

void
dxp_dir_path_refresh(struct dxp_ofd *o, daxfile_pool *pool, daxfile_file *f)
{
	char buf[PATH_MAX];

	if (o->isdir && dxp_dir_path(pool, f, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, o->path) != 0)
		snprintf(o->path, sizeof(o->path), "%s", buf);
}

/*
 * cwd_true_path -- the path of directory 'o' from its pool's root as it is
 * now (a relative chdir from a renamed directory, an fchdir to one);
 * 'path' if the library cannot tell.
 */
static const char *
cwd_true_path(struct dxp_ofd *o, const char *path, char *buf, size_t size)
{
	daxfile_file *f;

	if (o == NULL)
		return path;
	f = dxp_ofd_file(o);
	if (f == NULL || dxp_dir_path(dxp_ofd_pool(o), f, buf, size) != 0)
		return path;
	return buf;
}

/* cwd_set_vpath -- what getcwd reports: 'path' of mount 'm'; cwd.lock held. */
static void
cwd_set_vpath(struct dxp_mount *m, const char *path)
{
	size_t n;

	snprintf(cwd.vpath, sizeof(cwd.vpath), "%s%s", m->dir,
		strcmp(path, "/") == 0 ? "" : path);
	/* "chdir dir/": the directory, not its trailing slash */
	for (n = strlen(cwd.vpath); n > 1 && cwd.vpath[n - 1] == '/'; n--)
		cwd.vpath[n - 1] = '\0';
	cwd_update_near(cwd.vpath);
}

/*
 * cwd_ref -- a reference on the current directory's description if it is
 * in mount 'm' and open, else NULL; in any case the change count in *gen
 * and, if 'path' is not NULL, its path from the pool's root.
 */
static struct dxp_ofd *
cwd_ref(struct dxp_mount *m, unsigned long *gen, char *path, size_t size)
{
	struct dxp_ofd *o = NULL;

	pthread_mutex_lock(&cwd.lock);
	if (atomic_load(&cwd_mount) == m && cwd.fd >= 0)
		o = dxp_fd_get(cwd.fd);
	*gen = cwd.gen;
	if (path != NULL)
		snprintf(path, size, "%s", cwd.vpath[m->dirlen] != '\0' ?
			cwd.vpath + m->dirlen : "/");
	pthread_mutex_unlock(&cwd.lock);
	return o;
}

void
dxp_cwd_set_pool(struct dxp_mount *m, const char *path, struct dxp_ofd *o)
{
	char buf[PATH_MAX];
	int fd, old;

	if (atomic_load(&cwd_mount) == NULL)
		kernel_cwd_away();
	pthread_mutex_lock(&cwd.lock);
	path = cwd_true_path(o, path, buf, sizeof(buf));
	/* a description no descriptor names yet (chdir's) is named by it too:
	   after a hand-over it is opened again at that path */
	if (o != NULL && atomic_load(&o->nslots) == 0 && path == buf)
		snprintf(o->path, sizeof(o->path), "%s", buf);
	fd = o != NULL ? dxp_fd_install_hidden(o) : -1;
	cwd_set_vpath(m, path);
	atomic_store(&cwd.valid, true);
	atomic_store(&cwd_mount, m);
	old = cwd.fd;
	cwd.fd = fd;
	cwd.gen++;
	pthread_mutex_unlock(&cwd.lock);
	cwd_close(old);
}

void
dxp_cwd_set_host(void)
{
	int old;

	pthread_mutex_lock(&cwd.lock);
	atomic_store(&cwd_mount, NULL);
	old = cwd.fd;
	cwd.fd = -1;
	cwd.gen++;
	pthread_mutex_unlock(&cwd.lock);
	cwd_close(old);
	dxp_cwd_init();
}

/*
 * cwd_description -- a reference on the current directory's description
 * if it is in mount 'm', opened by its path at the first use after an exec
 * (which hands over the path only), and that path from the pool's root in
 * 'path'; NULL if it is not in 'm' or cannot be opened (the caller then
 * walks the path).
 */
static struct dxp_ofd *
cwd_description(struct dxp_mount *m, char *path, size_t size)
{
	struct dxp_ofd *o;
	unsigned long gen;
	int fd;

	if (atomic_load(&cwd_mount) != m)
		return NULL;
	o = cwd_ref(m, &gen, path, size);
	if (o != NULL || atomic_load(&cwd_mount) != m)
		return o;
	o = dxp_ofd_open(m, NULL, path, NULL, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (o == NULL)
		return NULL;
	atomic_fetch_add(&o->refs, 1);		/* the caller's */
	fd = dxp_fd_install_hidden(o);
	pthread_mutex_lock(&cwd.lock);
	if (fd >= 0 && cwd.gen == gen && cwd.fd < 0) {
		cwd.fd = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&cwd.lock);
	cwd_close(fd);
	return o;
}

int
dxp_cwd_refresh(void)
{
	struct dxp_mount *m = atomic_load(&cwd_mount);
	char buf[PATH_MAX];
	const char *path = NULL;
	struct dxp_ofd *o;
	unsigned long gen;
	daxfile_file *f;
	int r = 0;

	if (m == NULL)
		return 0;
	o = cwd_ref(m, &gen, NULL, 0);
	if (o == NULL)
		return 0;
	/* our reference keeps a hand-over from closing f under us */
	f = atomic_load(&o->file);
	if (f != NULL && dxp_mount_tryget(m)) {
		if (dxp_dir_path(atomic_load(&m->pool), f, buf, sizeof(buf)) == 0)
			path = buf;
		else if (errno == ENOENT)
			r = -1;		/* removed: getcwd(2) says ENOENT */
		dxp_mount_put(m);
	} else if (f == NULL) {
		/* named as it was when the pool went to another process,
		   through the renames made since */
		snprintf(buf, sizeof(buf), "%s", o->path);
		if (dxp_shared_follow(m->index, o->renames_seen, buf,
		    sizeof(buf)) != 0)
			snprintf(buf, sizeof(buf), "%s", o->path);
		path = buf;
	}
	pthread_mutex_lock(&cwd.lock);
	if (path != NULL && cwd.gen == gen)
		cwd_set_vpath(m, path);
	pthread_mutex_unlock(&cwd.lock);
	r = r != 0 ? (int)dxp_oret(o, -1) : (int)dxp_oret(o, 0);
	if (r != 0)
		errno = ENOENT;
	return r;
}

void
dxp_cwd_forked(void)
{
	pthread_mutex_init(&cwd.lock, NULL);
	pthread_mutex_init(&libcwd_lock, NULL);
}

char *
dxp_cwd_get(char *buf, size_t size)
{
	char *ret = buf;

	pthread_mutex_lock(&cwd.lock);
	if (atomic_load(&cwd_mount) == NULL &&
	    REAL(getcwd)(cwd.vpath, sizeof(cwd.vpath)) == NULL) {
		pthread_mutex_unlock(&cwd.lock);
		return NULL;
	}
	if (strlen(cwd.vpath) + 1 > size) {
		errno = ERANGE;
		ret = NULL;
	} else {
		strcpy(buf, cwd.vpath);
	}
	pthread_mutex_unlock(&cwd.lock);
	return ret;
}

struct dxp_mount *
dxp_cwd_pool(void)
{
	return atomic_load(&cwd_mount);
}

bool
dxp_path_above_mount(const char *v)
{
	size_t n = strlen(v);

	for (int i = 0; i < dxp_nmounts; i++) {
		const char *d = dxp_mounts[i].dir;

		if (n == 1 || (strncmp(d, v, n) == 0 && d[n] == '/'))
			return true;
	}
	return false;
}
