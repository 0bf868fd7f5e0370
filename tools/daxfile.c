/*
 * daxfile.c -- the daxfile command: global options, the choice of the pool,
 * the command table, the usage text and the help command.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CLI_ENTRY(fn, name, args, summary) { name, args, summary, cmd_##fn },
static const struct cli_cmd commands[] = {
	CLI_COMMANDS(CLI_ENTRY)
};
#undef CLI_ENTRY

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* usage_line -- the one-line synopsis of the program. */
static void
usage_line(FILE *out)
{
	fprintf(out, "usage: daxfile [-p POOL] COMMAND [ARGS]\n"
		"       daxfile help [COMMAND] | --help | --version\n");
}

/* help -- the full usage: the synopsis and every command. */
static void
help(FILE *out)
{
	size_t i;

	usage_line(out);
	fprintf(out, "\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s%s%s\n\t%s\n", commands[i].name,
			*commands[i].args ? " " : "", commands[i].args,
			commands[i].summary);
	fprintf(out, "\nThe pool is POOL, else $DAXFILE_POOL, else ./%s.\n"
		"Paths in the pool start at its root: 'a/b' is '/a/b'.\n"
		"Sizes are bytes, optionally followed by K, M, G or T (powers of 1024).\n"
		"See daxfile(1).\n", CLI_DEFAULT_POOL);
}

/* version -- the program's version and the API version it was built for. */
static void
version(void)
{
	printf("daxfile (%s) %s\nlibdaxfile API %d.%d\n", PACKAGE_NAME,
		PACKAGE_VERSION, DAXFILE_MAJOR_VERSION, DAXFILE_MINOR_VERSION);
}

/* find_command -- the table entry called 'name', or NULL. */
static const struct cli_cmd *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* cmd_help -- every command, or the usage and summary of one. */
int
cmd_help(const struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd *cmd;
	int first = cli_operands(argc, argv);

	if (first < 0 || argc - first > 1)
		return cli_usage(cli);
	if (first == argc) {
		help(stdout);
		return CLI_OK;
	}
	cmd = find_command(argv[first]);
	if (cmd == NULL) {
		cli_msg(cli, "unknown command '%s'", argv[first]);
		return CLI_USAGE;
	}
	printf("usage: daxfile %s%s%s\n\t%s\n", cmd->name, *cmd->args ? " " : "",
		cmd->args, cmd->summary);
	return CLI_OK;
}

/* pool_path -- the pool of -p, else of the environment, else the default. */
static const char *
pool_path(const char *option)
{
	const char *env;

	if (option)
		return option;
	env = getenv("DAXFILE_POOL");
	if (env && *env)
		return env;
	return CLI_DEFAULT_POOL;
}

/* run -- run the command on its own arguments; returns the exit status. */
static int
run(const struct cli *cli, int argc, char **argv)
{
	char label[64];
	int status;

	/* getopt() names argv[0] in its complaints: make them read as ours. */
	snprintf(label, sizeof(label), "daxfile: %s", cli->cmd->name);
	argv[0] = label;
	/* 0, not 1: glibc then also forgets its place in the previous argv. */
	optind = 0;
	status = cli->cmd->run(cli, argc, argv);

	/* Output still buffered can fail too, on a full disk for one. */
	if (fflush(stdout) != 0)
		return cli_fail_host(cli, "standard output", errno);
	if (ferror(stdout))
		return cli_fail_host(cli, "standard output", EIO);
	return status;
}

/* main -- parse the global options, then run the command they precede. */
int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "pool", required_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { NULL, NULL };
	const char *pool_option = NULL;
	int opt;

	/* '+': stop at the command, whose options are its own. */
	while ((opt = getopt_long(argc, argv, "+hp:V", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			help(stdout);
			return CLI_OK;
		case 'V':
			version();
			return CLI_OK;
		case 'p':
			pool_option = optarg;
			break;
		default:
			usage_line(stderr);
			return CLI_USAGE;
		}
	}
	if (optind == argc) {
		help(stderr);
		return CLI_USAGE;
	}

	cli.cmd = find_command(argv[optind]);
	if (!cli.cmd) {
		fprintf(stderr, "daxfile: unknown command '%s'\n",
			argv[optind]);
		usage_line(stderr);
		return CLI_USAGE;
	}
	cli.pool_path = pool_path(pool_option);
	return run(&cli, argc - optind, argv + optind);
}
