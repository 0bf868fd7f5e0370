# preload/Makefile.frag -- libdaxfile-preload.so, the LD_PRELOAD layer that
# serves unmodified programs' file calls under mount points from pools
# (libdaxfile-preload(7)), and its tests, for Makefile.am.
#
# Include it after bench/Makefile.frag:
#
#	include $(srcdir)/preload/Makefile.frag

lib_LTLIBRARIES += libdaxfile-preload.la
libdaxfile_preload_la_SOURCES = \
	preload/aio.c \
	preload/attr.c \
	preload/dir.c \
	preload/dispatch.c preload/dispatch.h \
	preload/entry.h \
	preload/fdtable.c preload/fdtable.h \
	preload/fts.c \
	preload/hidefd.c preload/hidefd.h \
	preload/init.c \
	preload/io.c \
	preload/lib.c preload/lib.h \
	preload/mmap.c \
	preload/mount.c preload/mount.h \
	preload/namespace.c \
	preload/notify.c \
	preload/open.c \
	preload/path.c preload/path.h \
	preload/poll.c \
	preload/process.c preload/process.h \
	preload/real.c preload/real.h \
	preload/service.c preload/service.h \
	preload/shared.c preload/shared.h \
	preload/socket.c \
	preload/spawn.c preload/spawn.h \
	preload/stat.c \
	preload/stdio.c \
	preload/syscall.c preload/syscall.h \
	preload/tempname.c \
	preload/walk.c
libdaxfile_preload_la_CPPFLAGS = -I$(top_srcdir)/include
# the layer interposes the C library's symbols: only those are exported
libdaxfile_preload_la_CFLAGS = -std=gnu11 -pthread $(WARN_CFLAGS) \
	-Wno-missing-prototypes -fvisibility=hidden -fno-builtin \
	-fno-delete-null-pointer-checks -Wno-nonnull-compare
# the library is loaded at the first use of a pool (preload/lib.h)
libdaxfile_preload_la_LIBADD = -ldl
EXTRA_libdaxfile_preload_la_DEPENDENCIES = libdaxfile-preload-core.la

# libdaxfile-preload-core.so: the library as the layer loads it with
# dlopen, with its DRAM from libc and no initial-exec thread-local storage
# (src/mem.c, src/out.c: DX_DLOPENED), which a library loaded with dlopen
# cannot have; jemalloc would also bring libstdc++ into every program.
pkglib_LTLIBRARIES = libdaxfile-preload-core.la
libdaxfile_preload_core_la_SOURCES = $(libdaxfile_core_la_SOURCES)
libdaxfile_preload_core_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden \
	$(PMEMOBJ_CFLAGS) $(PMEM_CFLAGS)
libdaxfile_preload_core_la_CPPFLAGS = $(libdaxfile_core_la_CPPFLAGS) \
	-DDX_DLOPENED
libdaxfile_preload_core_la_LIBADD = $(PMEMOBJ_LIBS) $(PMEM_LIBS)
libdaxfile_preload_core_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version \
	-shared -no-undefined -Wl,--version-script=$(srcdir)/src/libdaxfile.map
# the layer's calls to its own entry points bind to them, never to a
# program's function of the same name (gnulib's renameat2 calls syscall(),
# which the layer serves with its renameat2)
libdaxfile_preload_la_LDFLAGS = -pthread -module -avoid-version -shared \
	-no-undefined -Wl,-Bsymbolic-functions

EXTRA_DIST += preload/Makefile.frag
dist_man_MANS += doc/libdaxfile-preload.7

# --- tests ---------------------------------------------------------------------
# calls-check.sh runs preload_calls (the contract call by call) through the
# layer, and preload_fts's walks in a pool against the same on tmpfs;
# paths-check.sh makes the same random path operations (path_ops.py) on
# tmpfs and through the layer; apps-check.sh runs unmodified Debian
# programs through it and compares them with tmpfs (installing fio,
# rocksdb-tools and sqlite3 when root).  `make stress` runs the
# applications at length (APPS_SCALE=long).
PRELOAD_TESTS_ENVIRONMENT = \
	PRELOAD=$(abs_top_builddir)/.libs/libdaxfile-preload.so; export PRELOAD; \
	DAXFILE=$(abs_top_builddir)/daxfile; export DAXFILE; \
	DAXFILE_PRELOAD_CORE=$(abs_top_builddir)/.libs/libdaxfile-preload-core.so; \
	export DAXFILE_PRELOAD_CORE; \
	LD_LIBRARY_PATH=$(abs_top_builddir)/.libs$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}; \
	export LD_LIBRARY_PATH;
AM_TESTS_ENVIRONMENT += $(PRELOAD_TESTS_ENVIRONMENT)

if HAVE_CRITERION
check_PROGRAMS += tests/preload/preload_calls tests/preload/preload_fts
TESTS += tests/preload/calls-check.sh tests/preload/apps-check.sh \
	tests/preload/paths-check.sh
endif
tests_preload_preload_calls_SOURCES = tests/preload/preload_calls.c
tests_preload_preload_calls_CFLAGS = $(AM_CFLAGS)
tests_preload_preload_fts_SOURCES = tests/preload/preload_fts.c
tests_preload_preload_fts_CFLAGS = $(AM_CFLAGS)

stress-preload: libdaxfile-preload.la daxfile
	$(AM_TESTS_ENVIRONMENT) APPS_SCALE=long \
		$(SHELL) $(srcdir)/tests/preload/apps-check.sh
stress: stress-preload
.PHONY: stress-preload

# `make bench-apps' (part of `make bench'): fio, sqlite3 and db_bench on
# tmpfs and through the layer, medians and ratios; under `make bench-quick'
# (BENCH_SIZES=--quick) its smoke sizes
bench-apps: libdaxfile-preload.la daxfile
	QUICK=`case '$(BENCH_SIZES)' in *--quick*) echo 1;; *) echo "$${QUICK:-0}";; esac` \
	PRELOAD=$(abs_top_builddir)/.libs/libdaxfile-preload.so \
	DAXFILE=$(abs_top_builddir)/daxfile \
	DAXFILE_PRELOAD_CORE=$(abs_top_builddir)/.libs/libdaxfile-preload-core.so \
	LD_LIBRARY_PATH=$(abs_top_builddir)/.libs \
	DAXFILE_PROBE=$(abs_top_builddir)/tools/daxfile-probe \
	BENCH_DIR='$(BENCH_DIR)' $(SHELL) $(srcdir)/bench/bench_apps.sh
bench: bench-apps
.PHONY: bench-apps

EXTRA_DIST += tests/preload/calls-check.sh tests/preload/apps-check.sh \
	tests/preload/paths-check.sh tests/preload/path_ops.py \
	bench/bench_apps.sh
