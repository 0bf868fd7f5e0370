/*
 * errinj.c -- error injection at the points errinj.h names, armed by the
 * environment; built only with configure --enable-error-injection.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errinj.h"

static const char *const ei_names[DX_EI_NPOINTS] = {
	[DX_EI_ALLOC] = "alloc",
	[DX_EI_MMAP] = "mmap",
	[DX_EI_MREMAP] = "mremap",
	[DX_EI_MUNMAP] = "munmap",
	[DX_EI_UFFD] = "uffd",
	[DX_EI_POOL] = "pool",
	[DX_EI_BLOCKS] = "blocks",
};

static unsigned long ei_calls[DX_EI_NPOINTS];	/* atomic */
static unsigned long ei_fail_at[DX_EI_NPOINTS];	/* 0: never */
static const char *ei_count_file;

static void
ei_count_write(void)
{
	FILE *f = fopen(ei_count_file, "w");

	if (f == NULL)
		return;
	for (int p = 0; p < DX_EI_NPOINTS; p++)
		fprintf(f, "%s %lu\n", ei_names[p],
			__atomic_load_n(&ei_calls[p], __ATOMIC_RELAXED));
	fclose(f);
}

/* ei_parse -- DAXFILE_FAIL: POINT:N pairs separated by commas. */
static void
ei_parse(const char *spec)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *t = strtok_r(buf, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(t, ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		for (int p = 0; p < DX_EI_NPOINTS; p++)
			if (strcmp(t, ei_names[p]) == 0)
				ei_fail_at[p] = strtoul(colon + 1, NULL, 10);
	}
}

/* a forked child counts its own calls (its harness reads its own file) */
static void
ei_fork_child(void)
{
	for (int p = 0; p < DX_EI_NPOINTS; p++)
		__atomic_store_n(&ei_calls[p], 0, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void
ei_load(void)
{
	const char *spec = getenv("DAXFILE_FAIL");

	if (spec != NULL)
		ei_parse(spec);
	ei_count_file = getenv("DAXFILE_FAIL_COUNT");
	if (ei_count_file != NULL)
		atexit(ei_count_write);
	pthread_atfork(NULL, NULL, ei_fork_child);
}

bool
dx_ei_fail(enum dx_ei_point p)
{
	unsigned long n = __atomic_add_fetch(&ei_calls[p], 1, __ATOMIC_RELAXED);

	return n == ei_fail_at[p];
}
