/*
 * cli_namespace.c -- the daxfile commands that change the file tree but not
 * file contents: mkdir, rm and mv.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* mkdir_parents -- create 'path' and its missing ancestors, as mkdir -p. */
static int
mkdir_parents(const struct cli *cli, daxfile_pool *pool, const char *path,
	mode_t mode)
{
	char prefix[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;
	size_t i;

	if (len >= sizeof(prefix))
		return cli_fail_host(cli, path, ENAMETOOLONG);
	memcpy(prefix, path, len + 1);

	/* Each prefix that ends before a run of '/' or at the end. */
	for (i = 1; i <= len; i++) {
		if ((path[i] != '/' && path[i] != '\0') || path[i - 1] == '/')
			continue;
		prefix[i] = '\0';
		if (daxfile_mkdir(pool, prefix, mode) < 0 && errno != EEXIST)
			return cli_fail(cli, prefix, errno);
		prefix[i] = path[i];
	}

	/* EEXIST above is success only if what exists is a directory. */
	if (daxfile_stat(pool, path, &st) < 0)
		return cli_fail(cli, path, errno);
	if (!S_ISDIR(st.st_mode))
		return cli_fail_host(cli, path, EEXIST);
	return CLI_OK;
}

/* cmd_mkdir -- create directories, with -p their missing parents too. */
int
cmd_mkdir(const struct cli *cli, int argc, char **argv)
{
	mode_t mode = cli_create_mode(0777);
	daxfile_pool *pool;
	bool parents = false;
	int status = CLI_OK;
	int opt, i;

	while ((opt = getopt(argc, argv, "p")) != -1) {
		if (opt != 'p')
			return cli_usage(cli);
		parents = true;
	}
	if (optind == argc)
		return cli_usage(cli);
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	for (i = optind; i < argc; i++) {
		char buf[PATH_MAX];
		const char *path = cli_pool_path_or_fail(cli, argv[i], buf);

		if (path == NULL) {
			status = CLI_FAILURE;
		} else if (parents) {
			if (mkdir_parents(cli, pool, path, mode) != CLI_OK)
				status = CLI_FAILURE;
		} else if (daxfile_mkdir(pool, path, mode) < 0) {
			status = cli_fail(cli, path, errno);
		}
	}
	return cli_pool_close(cli, pool, status);
}

/* rm_children(), rm_dir() and rm_tree() recurse into each other. */
static int rm_tree(const struct cli *cli, daxfile_pool *pool, char *path,
	size_t len);

/* rm_file -- unlink 'path'. */
static int
rm_file(const struct cli *cli, daxfile_pool *pool, const char *path)
{
	if (daxfile_unlink(pool, path) < 0)
		return cli_fail(cli, path, errno);
	return CLI_OK;
}

/*
 * path_push -- append "/name" to 'path' of length 'len' in a PATH_MAX buffer;
 * the new length, or -1 with ENAMETOOLONG.
 */
static ssize_t
path_push(char *path, size_t len, const char *name)
{
	size_t sep = len == 0 || path[len - 1] != '/';
	size_t nlen = strlen(name);

	if (len + sep + nlen >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (sep)
		path[len] = '/';
	memcpy(path + len + sep, name, nlen + 1);
	return (ssize_t)(len + sep + nlen);
}

/*
 * rm_children -- remove what directory 'path' holds.  'path' is a buffer of
 * PATH_MAX bytes that each child's name is appended to in turn, so a deep
 * tree costs no stack for paths.  A stream sees the entries of the moment it
 * was opened, so removing them while reading it is safe.
 */
static int
rm_children(const struct cli *cli, daxfile_pool *pool, char *path, size_t len)
{
	daxfile_dir *dir = daxfile_opendir(pool, path);
	int status = CLI_OK;
	struct dirent *de;
	ssize_t child;

	if (!dir)
		return cli_fail(cli, path, errno);
	for (;;) {
		/* NULL is also the end, which leaves errno alone. */
		errno = 0;
		de = daxfile_readdir(dir);
		if (!de) {
			if (errno)
				status = cli_fail(cli, path, errno);
			break;
		}
		if (cli_is_dot(de->d_name))
			continue;
		child = path_push(path, len, de->d_name);
		if (child < 0)
			status = cli_fail_host(cli, path, errno);
		else if (rm_tree(cli, pool, path, (size_t)child) != CLI_OK)
			status = CLI_FAILURE;
		path[len] = '\0';
	}
	if (daxfile_closedir(dir) < 0 && status == CLI_OK)
		status = cli_fail(cli, path, errno);
	return status;
}

/* rm_dir -- remove directory 'path' (of length 'len') and its contents. */
static int
rm_dir(const struct cli *cli, daxfile_pool *pool, char *path, size_t len)
{
	int status = rm_children(cli, pool, path, len);

	/* A directory left non-empty would only add ENOTEMPTY to the report. */
	if (status != CLI_OK)
		return status;
	if (daxfile_rmdir(pool, path) < 0)
		return cli_fail(cli, path, errno);
	return CLI_OK;
}

/* rm_tree -- remove 'path' (of length 'len'), whatever it is. */
static int
rm_tree(const struct cli *cli, daxfile_pool *pool, char *path, size_t len)
{
	struct stat st;

	if (daxfile_stat(pool, path, &st) < 0)
		return cli_fail(cli, path, errno);
	if (S_ISDIR(st.st_mode))
		return rm_dir(cli, pool, path, len);
	return rm_file(cli, pool, path);
}

/* is_root -- whether 'st' is the root directory, which rm -r refuses. */
static bool
is_root(daxfile_pool *pool, const struct stat *st)
{
	struct stat root;

	if (daxfile_stat(pool, "/", &root) < 0)
		return false;
	return st->st_ino == root.st_ino && st->st_dev == root.st_dev;
}

/* rm_one -- remove one operand of rm: a file, or with -r also a directory. */
static int
rm_one(const struct cli *cli, daxfile_pool *pool, const char *path,
	bool recursive)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;

	if (daxfile_stat(pool, path, &st) < 0)
		return cli_fail(cli, path, errno);
	if (!S_ISDIR(st.st_mode))
		return rm_file(cli, pool, path);
	if (!recursive)
		return cli_fail_host(cli, path, EISDIR);
	if (is_root(pool, &st)) {
		cli_msg(cli, "%s: refusing to remove the root directory", path);
		return CLI_FAILURE;
	}
	if (len >= sizeof(buf))
		return cli_fail_host(cli, path, ENAMETOOLONG);
	memcpy(buf, path, len + 1);
	return rm_dir(cli, pool, buf, len);
}

/* cmd_rm -- remove files, with -r directories and what they hold too. */
int
cmd_rm(const struct cli *cli, int argc, char **argv)
{
	daxfile_pool *pool;
	bool recursive = false;
	int status = CLI_OK;
	int opt, i;

	while ((opt = getopt(argc, argv, "r")) != -1) {
		if (opt != 'r')
			return cli_usage(cli);
		recursive = true;
	}
	if (optind == argc)
		return cli_usage(cli);
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	for (i = optind; i < argc; i++) {
		char buf[PATH_MAX];
		const char *path = cli_pool_path_or_fail(cli, argv[i], buf);

		if (path == NULL || rm_one(cli, pool, path, recursive) != CLI_OK)
			status = CLI_FAILURE;
	}
	return cli_pool_close(cli, pool, status);
}

/* cmd_mv -- rename a file or directory, replacing the target. */
int
cmd_mv(const struct cli *cli, int argc, char **argv)
{
	char from_buf[PATH_MAX], to_buf[PATH_MAX];
	const char *from, *to;
	daxfile_pool *pool;
	int status = CLI_OK;
	int first = cli_operands(argc, argv);

	if (first < 0 || argc - first != 2)
		return cli_usage(cli);
	from = cli_pool_path_or_fail(cli, argv[first], from_buf);
	to = cli_pool_path_or_fail(cli, argv[first + 1], to_buf);
	if (from == NULL || to == NULL)
		return CLI_FAILURE;
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	if (daxfile_rename(pool, from, to) < 0)
		status = cli_fail(cli, from, errno);
	return cli_pool_close(cli, pool, status);
}
