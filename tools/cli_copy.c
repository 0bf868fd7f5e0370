/*
 * cli_copy.c -- the daxfile cp command: copies a file, or with -r a
 * directory tree, between the host and the pool, either way, or within the
 * pool.  Arguments written pool:PATH name files of the pool (a relative
 * PATH is taken from the pool's root); the others name files of the host.
 * A copy that fails part way is removed (with -k it is kept), so that a
 * full pool is not left fuller by a file nobody asked for.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* endpoint -- one side of a copy: a file of the host or of the pool. */
struct endpoint {
	char label[sizeof(CLI_POOL_PREFIX) + PATH_MAX];	/* as shown */
	const char *path;	/* the path proper, inside label */
	daxfile_pool *pool;	/* NULL for a file of the host */
	daxfile_file *file;	/* when open in the pool */
	int fd;			/* when open on the host */
};

/* copy_opts -- the options of one cp. */
struct copy_opts {
	bool recursive;		/* -r */
	bool keep;		/* -k: keep what a failed copy wrote */
};

/* in_pool -- whether an argument names a file of the pool. */
static bool
in_pool(const char *arg)
{
	return strncmp(arg, CLI_POOL_PREFIX, strlen(CLI_POOL_PREFIX)) == 0;
}

/*
 * ep_init -- the endpoint an argument names; 'pool' serves pool:PATH, and
 * a relative PATH becomes absolute there.
 */
static int
ep_init(const struct cli *cli, struct endpoint *ep, const char *arg,
	daxfile_pool *pool)
{
	bool pooled = in_pool(arg);
	const char *path = pooled ? arg + strlen(CLI_POOL_PREFIX) : arg;
	const char *sep = pooled && path[0] != '/' ? "/" : "";
	int n = snprintf(ep->label, sizeof(ep->label), "%s%s%s",
		pooled ? CLI_POOL_PREFIX : "", sep, path);

	if (n < 0 || (size_t)n >= sizeof(ep->label) ||
	    strlen(path) + strlen(sep) >= PATH_MAX)
		return cli_fail_host(cli, arg, ENAMETOOLONG);
	ep->path = ep->label + (pooled ? strlen(CLI_POOL_PREFIX) : 0);
	ep->pool = pooled ? pool : NULL;
	ep->file = NULL;
	ep->fd = -1;
	return CLI_OK;
}

/* ep_child -- the endpoint of entry 'name' of the directory 'dir'. */
static int
ep_child(const struct cli *cli, const struct endpoint *dir, const char *name,
	struct endpoint *child)
{
	size_t prefix = (size_t)(dir->path - dir->label);
	size_t len = strlen(dir->path);
	const char *sep = len > 0 && dir->path[len - 1] == '/' ? "" : "/";
	int n = snprintf(child->label, sizeof(child->label), "%s%s%s",
		dir->label, sep, name);

	if (n < 0 || (size_t)n >= sizeof(child->label) ||
	    (size_t)n - prefix >= PATH_MAX)
		return cli_fail_host(cli, dir->label, ENAMETOOLONG);
	child->path = child->label + prefix;
	child->pool = dir->pool;
	child->file = NULL;
	child->fd = -1;
	return CLI_OK;
}

/* ep_fail -- report a failure on an endpoint as the side it is on wants. */
static int
ep_fail(const struct cli *cli, const struct endpoint *ep, int err)
{
	if (ep->pool)
		return cli_fail(cli, ep->label, err);
	return cli_fail_host(cli, ep->label, err);
}

/* ep_stat -- stat(2) of the endpoint's path; lstat(2) on the host if 'l'. */
static int
ep_stat(const struct endpoint *ep, struct stat *st, bool l)
{
	if (ep->pool)
		return daxfile_stat(ep->pool, ep->path, st);
	return l ? lstat(ep->path, st) : stat(ep->path, st);
}

/* ep_open -- open(2) of the endpoint's path. */
static int
ep_open(struct endpoint *ep, int flags, mode_t mode)
{
	if (ep->pool) {
		ep->file = daxfile_open(ep->pool, ep->path, flags, mode);
		return ep->file ? 0 : -1;
	}
	ep->fd = open(ep->path, flags | O_CLOEXEC, mode);
	return ep->fd >= 0 ? 0 : -1;
}

/* ep_fstat -- fstat(2) of the open endpoint. */
static int
ep_fstat(const struct endpoint *ep, struct stat *st)
{
	if (ep->pool)
		return daxfile_fstat(ep->file, st);
	return fstat(ep->fd, st);
}

/* ep_read -- read(2) from the open endpoint. */
static ssize_t
ep_read(struct endpoint *ep, void *buf, size_t len)
{
	if (ep->pool)
		return daxfile_read(ep->file, buf, len);
	return cli_host_read(ep->fd, buf, len);
}

/* ep_write_all -- write all of buf to the open endpoint. */
static int
ep_write_all(struct endpoint *ep, const void *buf, size_t len)
{
	if (ep->pool)
		return cli_file_write_all(ep->file, buf, len);
	return cli_host_write_all(ep->fd, buf, len);
}

/* ep_close -- close(2) of the open endpoint. */
static int
ep_close(struct endpoint *ep)
{
	int ret;

	if (ep->pool) {
		ret = daxfile_close(ep->file);
		ep->file = NULL;
	} else {
		ret = close(ep->fd);
		ep->fd = -1;
	}
	return ret;
}

/* ep_unlink -- unlink(2) of the endpoint's path. */
static int
ep_unlink(const struct endpoint *ep)
{
	if (ep->pool)
		return daxfile_unlink(ep->pool, ep->path);
	return unlink(ep->path);
}

/* ep_mkdir -- mkdir(2) of the endpoint's path. */
static int
ep_mkdir(const struct endpoint *ep, mode_t mode)
{
	if (ep->pool)
		return daxfile_mkdir(ep->pool, ep->path, mode);
	return mkdir(ep->path, mode);
}

/* A directory stream of either side. */
struct ep_dir {
	daxfile_dir *pool_dir;
	DIR *host_dir;
};

/* ep_opendir -- opendir(3) of the endpoint's path. */
static int
ep_opendir(const struct endpoint *ep, struct ep_dir *d)
{
	d->pool_dir = NULL;
	d->host_dir = NULL;
	if (ep->pool) {
		d->pool_dir = daxfile_opendir(ep->pool, ep->path);
		return d->pool_dir ? 0 : -1;
	}
	d->host_dir = opendir(ep->path);
	return d->host_dir ? 0 : -1;
}

/* ep_readdir -- the next entry but "." and ".."; NULL at the end. */
static struct dirent *
ep_readdir(struct ep_dir *d)
{
	struct dirent *de;

	do {
		de = d->pool_dir ? daxfile_readdir(d->pool_dir) :
			readdir(d->host_dir);
	} while (de != NULL && cli_is_dot(de->d_name));
	return de;
}

/* ep_closedir -- closedir(3). */
static int
ep_closedir(struct ep_dir *d)
{
	return d->pool_dir ? daxfile_closedir(d->pool_dir) :
		closedir(d->host_dir);
}

/* base_name -- the last component of 'path' and its length, no '/' in it. */
static const char *
base_name(const char *path, size_t *len)
{
	size_t end = strlen(path);
	size_t start;

	while (end > 1 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	*len = end - start;
	return path + start;
}

/*
 * into_dir -- when the target is an existing directory, make it name the
 * source's base name inside it, as cp(1) does.
 */
static int
into_dir(const struct cli *cli, struct endpoint *dst,
	const struct endpoint *src)
{
	size_t path_len = strlen(dst->path);
	size_t label_len = strlen(dst->label);
	size_t sep, name_len;
	const char *name;
	struct stat st;

	/* A target that cannot be stat'ed is left for open(2) to judge. */
	if (ep_stat(dst, &st, false) < 0 || !S_ISDIR(st.st_mode))
		return CLI_OK;

	name = base_name(src->path, &name_len);
	sep = path_len > 0 && dst->path[path_len - 1] != '/';
	if (path_len + sep + name_len >= PATH_MAX)
		return cli_fail_host(cli, dst->label, ENAMETOOLONG);
	if (sep)
		dst->label[label_len++] = '/';
	memcpy(dst->label + label_len, name, name_len);
	dst->label[label_len + name_len] = '\0';
	return CLI_OK;
}

/*
 * same_file -- whether the target is the source itself, which O_TRUNC
 * would empty before it is read.
 */
static bool
same_file(const struct endpoint *dst, const struct endpoint *src,
	const struct stat *src_st)
{
	struct stat st;

	/* Host and pool never share a file; two host files are not copied. */
	if (!dst->pool || !src->pool || ep_stat(dst, &st, false) < 0)
		return false;
	return st.st_ino == src_st->st_ino && st.st_dev == src_st->st_dev;
}

/*
 * is_pool_file -- whether a target on the host is the pool file itself,
 * which truncating would destroy under the open pool.
 */
static bool
is_pool_file(const struct cli *cli, const struct endpoint *dst)
{
	struct stat st, pool_st;

	if (dst->pool || stat(dst->path, &st) < 0 ||
	    stat(cli->pool_path, &pool_st) < 0)
		return false;
	return st.st_ino == pool_st.st_ino && st.st_dev == pool_st.st_dev;
}

/* copy_data -- copy the open source to the open target, in chunks. */
static int
copy_data(const struct cli *cli, struct endpoint *src, struct endpoint *dst,
	uint64_t size)
{
	struct cli_progress progress;
	struct endpoint *failed = NULL;
	char *buf = malloc(CLI_CHUNK);
	uint64_t done = 0;
	int err = 0;
	ssize_t n;

	if (!buf)
		return cli_fail_host(cli, "buffer", errno);
	cli_progress_start(&progress, size);
	for (;;) {
		n = ep_read(src, buf, CLI_CHUNK);
		if (n < 0) {
			failed = src;
			err = errno;
			break;
		}
		if (n == 0)
			break;
		if (ep_write_all(dst, buf, (size_t)n) < 0) {
			failed = dst;
			err = errno;
			break;
		}
		done += (uint64_t)n;
		cli_progress_update(&progress, done);
	}
	/* The bar goes first, or a report would share its line. */
	cli_progress_end(&progress);
	free(buf);
	if (failed)
		return ep_fail(cli, failed, err);
	return CLI_OK;
}

/*
 * copy_to -- create or truncate the target (a file, with the source's
 * permission bits) and copy the open source into it; on failure, remove
 * what was written unless -k.
 */
static int
copy_to(const struct cli *cli, struct endpoint *dst, struct endpoint *src,
	const struct stat *src_st, const struct copy_opts *o)
{
	mode_t mode = cli_create_mode(src_st->st_mode & 0777);
	int status;

	if (same_file(dst, src, src_st)) {
		cli_msg(cli, "%s and %s are the same file", src->label,
			dst->label);
		return CLI_FAILURE;
	}
	if (is_pool_file(cli, dst)) {
		cli_msg(cli, "%s is the pool file", dst->label);
		return CLI_FAILURE;
	}
	if (ep_open(dst, O_WRONLY | O_CREAT | O_TRUNC, mode) < 0)
		return ep_fail(cli, dst, errno);

	status = copy_data(cli, src, dst, (uint64_t)src_st->st_size);
	/* A pool on ordinary storage keeps written bytes only after fsync. */
	if (status == CLI_OK && dst->pool && daxfile_fsync(dst->file) < 0)
		status = ep_fail(cli, dst, errno);
	if (ep_close(dst) < 0 && status == CLI_OK)
		status = ep_fail(cli, dst, errno);
	if (status == CLI_OK)
		return CLI_OK;
	if (o->keep)
		cli_msg(cli, "%s: kept the partial copy (-k)", dst->label);
	else if (ep_unlink(dst) == 0)
		cli_msg(cli, "%s: removed the partial copy (-k keeps it)",
			dst->label);
	else
		ep_fail(cli, dst, errno);
	return status;
}

/* copy_file -- copy the file 'src' names to what 'dst' names. */
static int
copy_file(const struct cli *cli, struct endpoint *src, struct endpoint *dst,
	const struct copy_opts *o)
{
	struct stat st;
	int status;

	if (ep_open(src, O_RDONLY, 0) < 0)
		return ep_fail(cli, src, errno);
	if (ep_fstat(src, &st) < 0)
		status = ep_fail(cli, src, errno);
	else if (S_ISDIR(st.st_mode))
		status = cli_fail_host(cli, src->label, EISDIR);
	else
		status = copy_to(cli, dst, src, &st, o);
	if (ep_close(src) < 0 && status == CLI_OK)
		status = ep_fail(cli, src, errno);
	return status;
}

static int copy_tree(const struct cli *cli, struct endpoint *src,
	struct endpoint *dst, const struct stat *st, const struct copy_opts *o);

/* copy_dir -- with -r: make the target directory and copy each entry. */
static int
copy_dir(const struct cli *cli, struct endpoint *src, struct endpoint *dst,
	const struct stat *src_st, const struct copy_opts *o)
{
	struct ep_dir d;
	struct dirent *de;
	struct stat st;
	int status = CLI_OK;

	/* as cp -r: into a directory that exists, else a new one */
	if (ep_mkdir(dst, cli_create_mode(src_st->st_mode & 0777) | 0700) < 0) {
		int err = errno;

		if (err != EEXIST || ep_stat(dst, &st, false) < 0 ||
		    !S_ISDIR(st.st_mode))
			return ep_fail(cli, dst, err);
	}
	if (ep_opendir(src, &d) < 0)
		return ep_fail(cli, src, errno);
	for (;;) {
		struct endpoint s, t;

		errno = 0;
		de = ep_readdir(&d);
		if (de == NULL) {
			if (errno)
				status = ep_fail(cli, src, errno);
			break;
		}
		if (ep_child(cli, src, de->d_name, &s) != CLI_OK ||
		    ep_child(cli, dst, de->d_name, &t) != CLI_OK) {
			status = CLI_FAILURE;
			continue;
		}
		if (ep_stat(&s, &st, true) < 0) {
			status = ep_fail(cli, &s, errno);
			continue;
		}
		if (copy_tree(cli, &s, &t, &st, o) != CLI_OK)
			status = CLI_FAILURE;
	}
	if (ep_closedir(&d) < 0 && status == CLI_OK)
		status = ep_fail(cli, src, errno);
	return status;
}

/* copy_tree -- copy a file or, with -r, a directory and all it holds. */
static int
copy_tree(const struct cli *cli, struct endpoint *src, struct endpoint *dst,
	const struct stat *st, const struct copy_opts *o)
{
	if (S_ISDIR(st->st_mode)) {
		if (!o->recursive) {
			cli_msg(cli, "%s: is a directory (-r copies it)",
				src->label);
			return CLI_FAILURE;
		}
		return copy_dir(cli, src, dst, st, o);
	}
	if (!S_ISREG(st->st_mode)) {
		cli_msg(cli, "%s: not copied: only regular files and directories go into a pool",
			src->label);
		return CLI_FAILURE;
	}
	return copy_file(cli, src, dst, o);
}

/*
 * inside -- whether pool path 'dst' is 'src' or below it, which a copy of
 * the directory 'src' would never finish filling.
 */
static bool
inside(const struct endpoint *src, const struct endpoint *dst)
{
	size_t len = strlen(src->path);

	while (len > 1 && src->path[len - 1] == '/')
		len--;
	return src->pool && dst->pool && strncmp(dst->path, src->path, len) == 0 &&
		(dst->path[len] == '\0' || dst->path[len] == '/' || len == 1);
}

/* copy -- copy what 'src' names to what 'dst' names. */
static int
copy(const struct cli *cli, struct endpoint *src, struct endpoint *dst,
	const struct copy_opts *o)
{
	struct stat st;

	if (ep_stat(src, &st, false) < 0)
		return ep_fail(cli, src, errno);
	if (into_dir(cli, dst, src) != CLI_OK)
		return CLI_FAILURE;
	if (S_ISDIR(st.st_mode) && o->recursive && inside(src, dst)) {
		cli_msg(cli, "cannot copy %s into itself, %s", src->label,
			dst->label);
		return CLI_FAILURE;
	}
	return copy_tree(cli, src, dst, &st, o);
}

/* cmd_cp -- copy files between the host and the pool, or within the pool. */
int
cmd_cp(const struct cli *cli, int argc, char **argv)
{
	struct copy_opts o = { false, false };
	struct endpoint src, dst;
	daxfile_pool *pool;
	int status = CLI_FAILURE;
	int opt;

	while ((opt = getopt(argc, argv, "rRk")) != -1) {
		switch (opt) {
		case 'r':
		case 'R':
			o.recursive = true;
			break;
		case 'k':
			o.keep = true;
			break;
		default:
			return cli_usage(cli);
		}
	}
	if (argc - optind != 2)
		return cli_usage(cli);
	if (!in_pool(argv[optind]) && !in_pool(argv[optind + 1])) {
		cli_msg(cli, "SRC or DST must be a file of the pool, written "
			CLI_POOL_PREFIX "PATH");
		return cli_usage(cli);
	}
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	if (ep_init(cli, &src, argv[optind], pool) == CLI_OK &&
	    ep_init(cli, &dst, argv[optind + 1], pool) == CLI_OK)
		status = copy(cli, &src, &dst, &o);
	return cli_pool_close(cli, pool, status);
}
