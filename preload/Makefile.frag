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
	preload/entry.h \
	preload/fdtable.c preload/fdtable.h \
	preload/hidefd.c preload/hidefd.h \
	preload/init.c \
	preload/io.c \
	preload/lib.h \
	preload/mmap.c \
	preload/mount.c preload/mount.h \
	preload/namespace.c \
	preload/open.c \
	preload/path.c preload/path.h \
	preload/process.c preload/process.h \
	preload/real.c preload/real.h \
	preload/service.c preload/service.h \
	preload/shared.c preload/shared.h \
	preload/stat.c \
	preload/stdio.c \
	preload/syscall.c preload/syscall.h
libdaxfile_preload_la_CPPFLAGS = -I$(top_srcdir)/include
# the layer interposes the C library's symbols: only those are exported
libdaxfile_preload_la_CFLAGS = -std=gnu11 -pthread $(WARN_CFLAGS) \
	-Wno-missing-prototypes -fvisibility=hidden -fno-builtin \
	-fno-delete-null-pointer-checks -Wno-nonnull-compare
libdaxfile_preload_la_LIBADD = libdaxfile.la -ldl
libdaxfile_preload_la_LDFLAGS = -pthread -module -avoid-version -shared \
	-no-undefined

EXTRA_DIST += preload/Makefile.frag
