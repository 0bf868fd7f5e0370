/*
 * probe.c -- daxfile-probe, a helper the library runs in a process of its
 * own: it opens a pool with libpmemobj (and, asked, lists the offsets of
 * its inode objects on standard output), so that libpmemobj crashing or
 * looping on a pool whose own metadata is damaged cannot take the caller
 * with it.  It writes a zero word first, once started, so that the caller
 * can tell a slow start from a stalled open.
 * Usage: daxfile-probe POOL [--list-inodes]
 * Exit status: 0 opened, 3 refused by libpmemobj, 2 usage; anything else
 * (a signal, a sanitizer's report) means libpmemobj crashed.
 */
#include <libpmemobj.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "layout.h"

int
main(int argc, char **argv)
{
	const uint64_t started = 0;
	PMEMobjpool *pop;
	int list = argc == 3 && strcmp(argv[2], "--list-inodes") == 0;

	if (argc != 2 && !list)
		return 2;
	/* never outlive the caller, which opens the pool next */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		return 3;
	if (fwrite(&started, sizeof(started), 1, stdout) != 1 || fflush(stdout) != 0)
		return 2;
	pop = pmemobj_open(argv[1], DX_LAYOUT_NAME);
	if (pop == NULL)
		return 3;
	for (PMEMoid o = list ? POBJ_FIRST_TYPE_NUM(pop, DX_TYPE_INODE) :
	    OID_NULL; !OID_IS_NULL(o); o = POBJ_NEXT_TYPE_NUM(o))
		if (fwrite(&o.off, sizeof(o.off), 1, stdout) != 1)
			break;
	fflush(stdout);
	pmemobj_close(pop);
	return 0;
}
