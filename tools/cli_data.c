/*
 * cli_data.c -- the daxfile commands that read or reshape the contents of
 * one file in place: cat, truncate and fallocate.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

/*
 * cat_file -- copy one file of the pool to stdout through 'buf' of
 * CLI_CHUNK bytes.  Sets *out_failed when stdout fails, which ends cat.
 */
static int
cat_file(const struct cli *cli, daxfile_pool *pool, const char *path,
	char *buf, bool *out_failed)
{
	daxfile_file *file = daxfile_open(pool, path, O_RDONLY);
	int status = CLI_OK;
	ssize_t n;

	if (!file)
		return cli_fail(cli, path, errno);
	while ((n = daxfile_read(file, buf, CLI_CHUNK)) > 0) {
		if (cli_host_write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
			status = cli_fail_host(cli, "standard output", errno);
			*out_failed = true;
			break;
		}
	}
	if (n < 0)
		status = cli_fail(cli, path, errno);
	if (daxfile_close(file) < 0 && status == CLI_OK)
		status = cli_fail(cli, path, errno);
	return status;
}

/* cmd_cat -- write files of the pool to standard output, in order. */
int
cmd_cat(const struct cli *cli, int argc, char **argv)
{
	bool out_failed = false;
	daxfile_pool *pool;
	int status = CLI_OK;
	int first = cli_operands(argc, argv);
	char *buf;
	int i;

	if (first < 0 || first == argc)
		return cli_usage(cli);
	buf = malloc(CLI_CHUNK);
	if (!buf)
		return cli_fail_host(cli, "buffer", errno);
	pool = cli_pool_open(cli);
	if (!pool) {
		free(buf);
		return CLI_FAILURE;
	}

	for (i = first; i < argc && !out_failed; i++) {
		char pbuf[PATH_MAX];
		const char *path = cli_pool_path_or_fail(cli, argv[i], pbuf);

		if (path == NULL ||
		    cat_file(cli, pool, path, buf, &out_failed) != CLI_OK)
			status = CLI_FAILURE;
	}
	free(buf);
	return cli_pool_close(cli, pool, status);
}

/* cmd_truncate -- set the size of an existing file of the pool. */
int
cmd_truncate(const struct cli *cli, int argc, char **argv)
{
	daxfile_file *file;
	daxfile_pool *pool;
	int status = CLI_OK;
	int first = cli_operands(argc, argv);
	char buf[PATH_MAX];
	const char *path;
	off_t size;

	if (first < 0 || argc - first != 2)
		return cli_usage(cli);
	if (cli_parse_off(argv[first + 1], &size) < 0)
		return cli_bad_size(cli, "size", argv[first + 1]);
	path = cli_pool_path_or_fail(cli, argv[first], buf);
	if (path == NULL)
		return CLI_FAILURE;
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	file = daxfile_open(pool, path, O_WRONLY);
	if (!file) {
		status = cli_fail(cli, path, errno);
		return cli_pool_close(cli, pool, status);
	}
	if (daxfile_ftruncate(file, size) < 0)
		status = cli_fail(cli, path, errno);
	if (daxfile_close(file) < 0 && status == CLI_OK)
		status = cli_fail(cli, path, errno);
	return cli_pool_close(cli, pool, status);
}

/* falloc_req -- what the options of fallocate ask for. */
struct falloc_req {
	int mode;		/* FALLOC_FL_* for daxfile_fallocate() */
	off_t offset;
	off_t length;
	const char *path;
	char buf[PATH_MAX];	/* for the path taken from '/' */
};

/* falloc_op -- the mode of an operation option; they exclude each other. */
static int
falloc_op(int opt)
{
	switch (opt) {
	case 'p':
		/* A hole never changes the size: util-linux implies -n too. */
		return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	case 'z':
		return FALLOC_FL_ZERO_RANGE;
	case 'c':
		return FALLOC_FL_COLLAPSE_RANGE;
	case 'i':
		return FALLOC_FL_INSERT_RANGE;
	default:
		return 0;
	}
}

/*
 * falloc_parse -- the options and operand of fallocate; -1 on misuse, -2
 * when that is reported already.
 */
static int
falloc_parse(const struct cli *cli, int argc, char **argv,
	struct falloc_req *req)
{
	static const struct option options[] = {
		{ "keep-size", no_argument, NULL, 'n' },
		{ "punch", no_argument, NULL, 'p' },
		{ "punch-hole", no_argument, NULL, 'p' },
		{ "zero", no_argument, NULL, 'z' },
		{ "zero-range", no_argument, NULL, 'z' },
		{ "collapse", no_argument, NULL, 'c' },
		{ "collapse-range", no_argument, NULL, 'c' },
		{ "insert", no_argument, NULL, 'i' },
		{ "insert-range", no_argument, NULL, 'i' },
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	bool keep = false, have_length = false;
	int op = 0;
	int opt;

	req->mode = 0;
	req->offset = 0;
	while ((opt = getopt_long(argc, argv, "npzcio:l:", options,
			NULL)) != -1) {
		switch (opt) {
		case 'n':
			keep = true;
			break;
		case 'p':
		case 'z':
		case 'c':
		case 'i':
			if (op && op != opt) {
				cli_msg(cli, "only one of -p, -z, -c, -i");
				return -1;
			}
			op = opt;
			break;
		case 'o':
			if (cli_parse_off(optarg, &req->offset) < 0) {
				cli_bad_size(cli, "offset", optarg);
				return -2;
			}
			break;
		case 'l':
			if (cli_parse_off(optarg, &req->length) < 0) {
				cli_bad_size(cli, "length", optarg);
				return -2;
			}
			have_length = true;
			break;
		default:
			return -1;
		}
	}
	if (!have_length || argc - optind != 1)
		return -1;
	req->mode = falloc_op(op) | (keep ? FALLOC_FL_KEEP_SIZE : 0);
	req->path = cli_pool_path(argv[optind], req->buf);
	if (req->path == NULL) {
		cli_fail_host(cli, argv[optind], errno);
		return -2;
	}
	return 0;
}

/* cmd_fallocate -- change the space of a range of a file, as fallocate(1). */
int
cmd_fallocate(const struct cli *cli, int argc, char **argv)
{
	struct falloc_req req;
	daxfile_file *file;
	daxfile_pool *pool;
	int status = CLI_OK;
	int flags = O_WRONLY;

	int ret = falloc_parse(cli, argc, argv, &req);

	if (ret == -1)
		return cli_usage(cli);
	if (ret < 0)
		return CLI_USAGE;
	/* As fallocate(1): only plain allocation may create the file. */
	if (req.mode == 0)
		flags |= O_CREAT;
	pool = cli_pool_open(cli);
	if (!pool)
		return CLI_FAILURE;

	file = daxfile_open(pool, req.path, flags, cli_create_mode(0666));
	if (!file) {
		status = cli_fail(cli, req.path, errno);
		return cli_pool_close(cli, pool, status);
	}
	if (daxfile_fallocate(file, req.mode, req.offset, req.length) < 0)
		status = cli_fail(cli, req.path, errno);
	if (daxfile_close(file) < 0 && status == CLI_OK)
		status = cli_fail(cli, req.path, errno);
	return cli_pool_close(cli, pool, status);
}
