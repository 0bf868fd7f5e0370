/*
 * cli_common.c -- helpers every command of daxfile uses: error reports,
 * size arguments, output formats, paths, the pool and host I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* cli_usage -- print the command's usage line to stderr; returns CLI_USAGE. */
int
cli_usage(const struct cli *cli)
{
	fprintf(stderr, "usage: daxfile %s%s%s\n", cli->cmd->name,
		*cli->cmd->args ? " " : "", cli->cmd->args);
	return CLI_USAGE;
}

/* cli_operands -- parse a command without options; its first operand. */
int
cli_operands(int argc, char **argv)
{
	/* Still call getopt(): it takes "--" and rejects "-x" for us. */
	if (getopt(argc, argv, "") != -1)
		return -1;
	return optind;
}

/* cli_msg -- print "daxfile: <command>: <message>" to stderr. */
void
cli_msg(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "daxfile: %s: ", cli->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Whether this run has said what to do with a damaged pool. */
static bool damage_told;

/*
 * cli_fail -- report a failed libdaxfile call with its message, which
 * often ends with the errno's text itself: that is said once.
 */
int
cli_fail(const struct cli *cli, const char *what, int err)
{
	const char *detail = daxfile_errormsg();
	const char *cause = strerror(err);
	size_t dlen = detail ? strlen(detail) : 0, clen = strlen(cause);

	if (dlen >= clen + 2 && strcmp(detail + dlen - clen, cause) == 0 &&
	    strncmp(detail + dlen - clen - 2, ": ", 2) == 0)
		dlen -= clen + 2;
	if (dlen == 0 || (dlen == clen && strncmp(detail, cause, clen) == 0))
		cli_msg(cli, "%s: %s", what, cause);
	else
		cli_msg(cli, "%s: %s (%.*s)", what, cause, (int)dlen, detail);
	if (err == EUCLEAN && !damage_told) {
		damage_told = true;
		cli_msg(cli, "the pool is damaged: daxfile check names the damage, daxfile salvage copies the files out, daxfile check -r repairs what it can");
	}
	return CLI_FAILURE;
}

/* cli_fail_host -- report a failed host call, which leaves no message. */
int
cli_fail_host(const struct cli *cli, const char *what, int err)
{
	cli_msg(cli, "%s: %s", what, strerror(err));
	return CLI_FAILURE;
}

/* suffix_shift -- the power of two of a size suffix, or -1 if unknown. */
static int
suffix_shift(char suffix)
{
	switch (toupper((unsigned char)suffix)) {
	case '\0':
		return 0;
	case 'K':
		return 10;
	case 'M':
		return 20;
	case 'G':
		return 30;
	case 'T':
		return 40;
	default:
		return -1;
	}
}

/* cli_parse_size -- parse digits with an optional K, M, G or T suffix. */
int
cli_parse_size(const char *str, uint64_t *size)
{
	unsigned long long value;
	char *end;
	int shift;

	/* strtoull() would take a sign or blanks, and a base prefix with 0. */
	if (!isdigit((unsigned char)*str))
		return -1;
	errno = 0;
	value = strtoull(str, &end, 10);
	if (errno)
		return -1;
	shift = suffix_shift(*end);
	if (shift < 0 || (shift > 0 && end[1] != '\0'))
		return -1;
	if (value > (UINT64_MAX >> shift))
		return -1;
	*size = (uint64_t)value << shift;
	return 0;
}

/* cli_bad_size -- report an argument that is not a size. */
int
cli_bad_size(const struct cli *cli, const char *what, const char *str)
{
	cli_msg(cli, "invalid %s '%s': a number of bytes, optionally followed by K, M, G or T (powers of 1024)",
		what, str);
	return cli_usage(cli);
}

/* cli_parse_off -- cli_parse_size() for values that must fit in an off_t. */
int
cli_parse_off(const char *str, off_t *off)
{
	uint64_t size;

	if (cli_parse_size(str, &size) < 0)
		return -1;
	if (size > INT64_MAX || (uint64_t)(off_t)size != size)
		return -1;
	*off = (off_t)size;
	return 0;
}

/* cli_human -- format a byte count in binary units ("1.5 MiB"). */
void
cli_human(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {
		"KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	double value = (double)bytes / 1024;
	size_t unit = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return;
	}
	while (value >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		value /= 1024;
		unit++;
	}
	snprintf(buf, len, "%.1f %s", value, units[unit]);
}

/* type_char -- the first letter of ls -l for the file type of 'mode'. */
static char
type_char(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return '-';
	case S_IFDIR:
		return 'd';
	case S_IFLNK:
		return 'l';
	case S_IFCHR:
		return 'c';
	case S_IFBLK:
		return 'b';
	case S_IFIFO:
		return 'p';
	case S_IFSOCK:
		return 's';
	default:
		return '?';
	}
}

/* special_bit -- an execute letter as changed by setuid, setgid or sticky. */
static char
special_bit(char exec, bool set, char letter)
{
	if (!set)
		return exec;
	return exec == '-' ? (char)toupper((unsigned char)letter) : letter;
}

/* cli_mode_string -- the ls -l form of 'mode' ("drwxr-xr-x") in buf[11]. */
void
cli_mode_string(mode_t mode, char *buf)
{
	static const char rwx[] = "rwxrwxrwx";
	int i;

	buf[0] = type_char(mode);
	for (i = 0; i < 9; i++)
		buf[1 + i] = (mode & (0400 >> i)) ? rwx[i] : '-';
	buf[3] = special_bit(buf[3], mode & S_ISUID, 's');
	buf[6] = special_bit(buf[6], mode & S_ISGID, 's');
	buf[9] = special_bit(buf[9], mode & S_ISVTX, 't');
	buf[10] = '\0';
}

/* cli_create_mode -- 'mode' less the process umask, for files we create. */
mode_t
cli_create_mode(mode_t mode)
{
	/* libdaxfile keeps modes as given: the umask is ours to apply. */
	mode_t mask = umask(0);

	umask(mask);
	return mode & ~mask;
}

/* cli_is_dot -- whether a directory entry is "." or "..". */
bool
cli_is_dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* cli_path_join -- "dir/name" into buf; -1 with ENAMETOOLONG if too long. */
int
cli_path_join(char *buf, size_t len, const char *dir, const char *name)
{
	size_t dlen = strlen(dir);
	const char *sep = (dlen > 0 && dir[dlen - 1] == '/') ? "" : "/";
	int n = snprintf(buf, len, "%s%s%s", dir, sep, name);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* cli_pool_path -- a relative path of the pool taken from '/'. */
const char *
cli_pool_path(const char *arg, char *buf)
{
	if (arg[0] == '/')
		return arg;
	if (snprintf(buf, PATH_MAX, "/%s", arg) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return buf;
}

/* cli_pool_path_or_fail -- cli_pool_path, reporting a failure. */
const char *
cli_pool_path_or_fail(const struct cli *cli, const char *arg, char *buf)
{
	const char *path = cli_pool_path(arg, buf);

	if (path == NULL)
		cli_fail_host(cli, arg, errno);
	return path;
}

/* cli_pool_open -- open the pool of this run, reporting a failure. */
daxfile_pool *
cli_pool_open(const struct cli *cli)
{
	daxfile_pool *pool = daxfile_pool_open(cli->pool_path);

	if (!pool)
		cli_fail(cli, cli->pool_path, errno);
	return pool;
}

/* cli_pool_close -- close the pool; 'status', or CLI_FAILURE if that fails. */
int
cli_pool_close(const struct cli *cli, daxfile_pool *pool, int status)
{
	if (daxfile_pool_close(pool) < 0)
		return cli_fail(cli, cli->pool_path, errno);
	return status;
}

/* cli_host_read -- read(2) that retries on EINTR. */
ssize_t
cli_host_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

/* cli_host_write_all -- write all of buf to a host descriptor. */
int
cli_host_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		/* A write that makes no progress would loop forever. */
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* cli_file_write_all -- write all of buf to a file of the pool. */
int
cli_file_write_all(daxfile_file *file, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = daxfile_write(file, p, len);

		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
