/*
 * probe.c -- daxfile-probe, a helper the library runs in a process of its
 * own: it opens a pool with libpmemobj (and, asked, lists the offsets of
 * its inode objects on standard output), so that libpmemobj crashing or
 * looping on a pool whose own metadata is damaged cannot take the caller
 * with it.  On standard output go 8-byte words (src/probe.h): one when it
 * has started, so that the caller can tell a slow start from a stalled
 * open, the inode offsets, and the verdict last; no verdict means that
 * libpmemobj crashed.
 * Usage: daxfile-probe POOL [--list-inodes]
 * Exit status: 0 opened, 3 refused by libpmemobj, 2 usage; anything else
 * (a signal, a sanitizer's report) means libpmemobj crashed.
 */
#include <libpmemobj.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "layout.h"
#include "probe.h"

/* say -- write one word to the caller; false if that fails. */
static bool
say(uint64_t word)
{
	return fwrite(&word, sizeof(word), 1, stdout) == 1;
}

int
main(int argc, char **argv)
{
	PMEMobjpool *pop;
	int list = argc == 3 && strcmp(argv[2], "--list-inodes") == 0;

	if (argc != 2 && !list)
		return 2;
	/* never outlive the caller, which opens the pool next */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!say(DX_PROBE_STARTED) || fflush(stdout) != 0)
		return 2;
	if (getppid() == 1) {
		say(DX_PROBE_SAYS_REFUSED);
		return 3;
	}
	pop = pmemobj_open(argv[1], DX_LAYOUT_NAME);
	if (pop == NULL) {
		say(DX_PROBE_SAYS_REFUSED);
		return 3;
	}
	for (PMEMoid o = list ? POBJ_FIRST_TYPE_NUM(pop, DX_TYPE_INODE) :
	    OID_NULL; !OID_IS_NULL(o); o = POBJ_NEXT_TYPE_NUM(o))
		if (!say(o.off))
			return 2;
	pmemobj_close(pop);
	say(DX_PROBE_SAYS_OPENED);
	return fflush(stdout) == 0 ? 0 : 2;
}
