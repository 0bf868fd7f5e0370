/*
 * cli_copy.c -- the daxfile cp command: copies a file between the host and
 * the pool, either way, or within the pool.  Arguments written pool:PATH
 * name files of the pool; the others name files of the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* endpoint -- one side of a copy: a file of the host or of the pool. */
struct endpoint {
	char label[sizeof(CLI_POOL_PREFIX) + PATH_MAX];	/* as written */
	const char *path;	/* the path proper, inside label */
	daxfile_pool *pool;	/* NULL for a file of the host */
	daxfile_file *file;	/* when open in the pool */
	int fd;			/* when open on the host */
};

/* in_pool -- whether an argument names a file of the pool. */
static bool
in_pool(const char *arg)
{
	return strncmp(arg, CLI_POOL_PREFIX, strlen(CLI_POOL_PREFIX)) == 0;
}

/* ep_init -- the endpoint an argument names; 'pool' serves pool:PATH. */
static int
ep_init(const struct cli *cli, struct endpoint *ep, const char *arg,
	daxfile_pool *pool)
{
	size_t prefix = in_pool(arg) ? strlen(CLI_POOL_PREFIX) : 0;
	size_t len = strlen(arg);

	if (len - prefix >= PATH_MAX)
		return cli_fail_host(cli, arg, ENAMETOOLONG);
	memcpy(ep->label, arg, len + 1);
	ep->path = ep->label + prefix;
	ep->pool = prefix ? pool : NULL;
	ep->file = NULL;
	ep->fd = -1;
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

/* ep_stat -- stat(2) of the endpoint's path. */
static int
ep_stat(const struct endpoint *ep, struct stat *st)
{
	if (ep->pool)
		return daxfile_stat(ep->pool, ep->path, st);
	return stat(ep->path, st);
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
	if (ep_stat(dst, &st) < 0 || !S_ISDIR(st.st_mode))
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
	if (!dst->pool || !src->pool || ep_stat(dst, &st) < 0)
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
 * copy_to -- create or truncate the target with the source's permission
 * bits and copy the open source into it.
 */
static int
copy_to(const struct cli *cli, struct endpoint *dst, struct endpoint *src,
	const struct stat *src_st)
{
	mode_t mode = cli_create_mode(src_st->st_mode & 0777);
	int status;

	if (into_dir(cli, dst, src) != CLI_OK)
		return CLI_FAILURE;
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
	return status;
}

/* copy -- copy the file 'src' names to what 'dst' names. */
static int
copy(const struct cli *cli, struct endpoint *src, struct endpoint *dst)
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
		status = copy_to(cli, dst, src, &st);
	if (ep_close(src) < 0 && status == CLI_OK)
		status = ep_fail(cli, src, errno);
	return status;
}

/* cmd_cp -- copy a file between the host and the pool, or within the pool. */
int
cmd_cp(const struct cli *cli, int argc, char **argv)
{
	struct endpoint src, dst;
	daxfile_pool *pool;
	int first = cli_operands(argc, argv);
	int status = CLI_FAILURE;

	if (first < 0 || argc - first != 2)
		return cli_usage(cli);
	if (!in_pool(argv[first]) && !in_pool(argv[first + 1])) {
		cli_msg(cli, "SRC or DST must be a file of the pool, written "
			CLI_POOL_PREFIX "PATH");
		return cli_usage(cli);
	}
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	if (ep_init(cli, &src, argv[first], pool) == CLI_OK &&
	    ep_init(cli, &dst, argv[first + 1], pool) == CLI_OK)
		status = copy(cli, &src, &dst);
	return cli_pool_close(cli, pool, status);
}
