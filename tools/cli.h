/*
 * cli.h -- what the source files of the daxfile command share: the list of
 * commands, the state of one run, and the helpers every command needs for
 * errors, sizes, the pool and host I/O.
 */
#ifndef DAXFILE_CLI_H
#define DAXFILE_CLI_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "daxfile.h"

/* Exit statuses of every command. */
#define CLI_OK		0
#define CLI_FAILURE	1
#define CLI_USAGE	2

/* Exit statuses of check, as fsck(8): 2 and above, nothing was checked. */
#define CLI_CHECK_DAMAGED	1
#define CLI_CHECK_FAILED	2

/* One read or write: large enough to amortise the calls, small to allocate. */
#define CLI_CHUNK	((size_t)1 << 20)

/* Marks an argument that names a path inside the pool rather than the host. */
#define CLI_POOL_PREFIX	"pool:"

/* Pool used when neither -p nor DAXFILE_POOL names one. */
#define CLI_DEFAULT_POOL "daxfile.pool"

/*
 * CLI_COMMANDS -- every command as X(function, name, arguments, summary).
 * A new command is one line here and its cmd_<function>() in a file of its
 * own; the prototypes, the dispatch table and the help text follow from it.
 */
#define CLI_COMMANDS(X)							\
	X(help, "help", "[COMMAND]",					\
		"show every command, or the usage of one")		\
	X(mkfs, "mkfs", "[-u USABLE] POOL [SIZE]",			\
		"create a pool of SIZE bytes, or one with USABLE bytes for files") \
	X(info, "info", "",						\
		"show the space, inodes and backing of the pool")	\
	X(check, "check", "[-r]",					\
		"check the pool for damage (0 clean, 1 damage, 2 not checked); -r repairs") \
	X(salvage, "salvage", "DIR",					\
		"copy every intact file of a damaged pool into DIR")	\
	X(bench, "bench", "[-q] [-s SIZE] [-r REPS]", "time the data path against tmpfs") \
	X(ls, "ls", "[-l] [PATH...]",					\
		"list directories (default /) or files")		\
	X(stat, "stat", "PATH...",					\
		"show the status of files")				\
	X(mkdir, "mkdir", "[-p] PATH...",				\
		"create directories, with -p their parents too")	\
	X(rm, "rm", "[-r] PATH...",					\
		"remove files, with -r directories and their contents")	\
	X(mv, "mv", "FROM TO",						\
		"rename a file or directory")				\
	X(cat, "cat", "PATH...",					\
		"write files to standard output")			\
	X(cp, "cp", "[-r] [-k] SRC DST",				\
		"copy a file, with -r a directory; pool paths are written pool:PATH") \
	X(truncate, "truncate", "PATH SIZE",				\
		"set the size of a file")				\
	X(fallocate, "fallocate",					\
		"[-n] [-p|-z|-c|-i] [-o OFFSET] -l LENGTH PATH",	\
		"allocate, punch, zero, collapse or insert a range")	\
	X(map_demo, "map-demo", "[-f] [PATH]",				\
		"map a new file (-f: or overwrite one) and show direct access and a live punch")

struct cli;

/*
 * cli_handler -- runs one command.  argv[0] stands for the command, so
 * getopt() can parse from argv[1]; optind is already reset.  Returns the
 * exit status.
 */
typedef int cli_handler(const struct cli *cli, int argc, char **argv);

/* cli_cmd -- one entry of the command table. */
struct cli_cmd {
	const char *name;
	const char *args;	/* synopsis after the name, for usage lines */
	const char *summary;
	cli_handler *run;
};

/* cli -- the state of one run of the program. */
struct cli {
	const struct cli_cmd *cmd;	/* the command being run */
	const char *pool_path;		/* -p, DAXFILE_POOL or the default */
};

#define CLI_DECLARE(fn, name, args, summary) \
	int cmd_##fn(const struct cli *cli, int argc, char **argv);
CLI_COMMANDS(CLI_DECLARE)
#undef CLI_DECLARE

/* cli_usage -- print the command's usage line to stderr; returns CLI_USAGE. */
int cli_usage(const struct cli *cli);

/*
 * cli_operands -- parse the options of a command that has none: the index
 * of the first operand, or -1 (getopt() has complained) if one was given.
 */
int cli_operands(int argc, char **argv);

/* cli_msg -- print "daxfile: <command>: <message>" to stderr. */
void cli_msg(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * cli_fail -- report that a libdaxfile call on 'what' failed with 'err',
 * with daxfile_errormsg(); returns CLI_FAILURE.  Call it before any other
 * libdaxfile call, which could replace the message.
 */
int cli_fail(const struct cli *cli, const char *what, int err);

/* cli_fail_host -- report that a host call on 'what' failed with 'err'. */
int cli_fail_host(const struct cli *cli, const char *what, int err);

/* cli_parse_size -- parse digits with an optional K, M, G or T suffix. */
int cli_parse_size(const char *str, uint64_t *size);

/*
 * cli_bad_size -- report an argument that is not a size ('what' names it:
 * "size", "offset"), with the forms a size takes; returns CLI_USAGE.
 */
int cli_bad_size(const struct cli *cli, const char *what, const char *str);

/*
 * cli_pool_path -- a path of the pool as the library takes it: a relative
 * one is taken from '/', as the pool has no current directory.  Returns
 * 'arg' or 'buf' (of PATH_MAX bytes); NULL with ENAMETOOLONG.
 */
const char *cli_pool_path(const char *arg, char *buf);

/* cli_pool_path_or_fail -- cli_pool_path, reporting a failure. */
const char *cli_pool_path_or_fail(const struct cli *cli, const char *arg,
	char *buf);

/* cli_parse_off -- cli_parse_size() for values that must fit in an off_t. */
int cli_parse_off(const char *str, off_t *off);

/* cli_human -- format a byte count in binary units ("1.5 MiB"). */
void cli_human(uint64_t bytes, char *buf, size_t len);

/* cli_mode_string -- the ls -l form of 'mode' ("drwxr-xr-x") in buf[11]. */
void cli_mode_string(mode_t mode, char *buf);

/* cli_create_mode -- 'mode' less the process umask, for files we create. */
mode_t cli_create_mode(mode_t mode);

/* cli_is_dot -- whether a directory entry is "." or "..". */
bool cli_is_dot(const char *name);

/* cli_path_join -- "dir/name" into buf; -1 with ENAMETOOLONG if too long. */
int cli_path_join(char *buf, size_t len, const char *dir, const char *name);

/* cli_pool_open -- open the pool of this run, reporting a failure. */
daxfile_pool *cli_pool_open(const struct cli *cli);

/*
 * cli_pool_close -- close the pool and return 'status', or CLI_FAILURE if
 * the close fails.
 */
int cli_pool_close(const struct cli *cli, daxfile_pool *pool, int status);

/* cli_host_read -- read(2) that retries on EINTR. */
ssize_t cli_host_read(int fd, void *buf, size_t len);

/* cli_host_write_all -- write all of buf to a host descriptor. */
int cli_host_write_all(int fd, const void *buf, size_t len);

/* cli_file_write_all -- write all of buf to a file of the pool. */
int cli_file_write_all(daxfile_file *file, const void *buf, size_t len);

/* cli_progress -- a progress bar on stderr for long transfers. */
struct cli_progress {
	uint64_t total;			/* bytes expected */
	bool enabled;			/* a terminal, and worth a bar */
	struct timespec start;		/* to compute the rate */
	struct timespec last;		/* last redraw, to limit the rate */
	int drawn;			/* width of the line on screen */
};

/* cli_progress_start -- start a bar for 'total' bytes if it is worth one. */
void cli_progress_start(struct cli_progress *progress, uint64_t total);

/* cli_progress_update -- 'done' bytes are through; redraw if it is time. */
void cli_progress_update(struct cli_progress *progress, uint64_t done);

/* cli_progress_end -- erase the bar. */
void cli_progress_end(struct cli_progress *progress);

#endif /* DAXFILE_CLI_H */
