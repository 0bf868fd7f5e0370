# bench/Makefile.frag -- the benchmark programs, `make bench' and the
# daxfile bench command, for Makefile.am.
#
# Include it at the end of Makefile.am: it appends to noinst_PROGRAMS,
# daxfile_SOURCES, EXTRA_DIST and CLEANFILES, which must be set before.
#
#	include $(srcdir)/bench/Makefile.frag
#
# `make bench' builds the three programs and runs them one after the other
# with their pools on /dev/shm (PMEM_IS_PMEM_FORCE=1: DRAM-backed, an upper
# bound for real persistent memory); each prints its table, writes
# bench/results/<program>.csv and, when configure found gnuplot, renders
# bench/results/<program>.png.  `make bench-quick' runs the --quick sizes
# (a smoke run for CI).  Options for every
# program go in BENCH_FLAGS, e.g. make bench BENCH_FLAGS="--reps 9"; the
# pools' directory in BENCH_DIR.  Each program's time is printed after its
# table: a full run takes 9 to 12 minutes on two CPUs (bench_mmap 6 to 11
# of them), bench-quick a minute and a half (bench-apps at its QUICK=1
# sizes included).

BENCH_PROGS = \
	bench/bench_namespace \
	bench/bench_data \
	bench/bench_mmap
noinst_PROGRAMS += $(BENCH_PROGS)

BENCH_COMMON = bench/bench.c bench/bench.h
BENCH_CPPFLAGS = -I$(top_srcdir)/include
BENCH_CFLAGS = $(AM_CFLAGS) $(PMEM_CFLAGS)
BENCH_LIBS = libdaxfile.la $(PMEM_LIBS) -lm

bench_bench_namespace_SOURCES = bench/bench_namespace.c $(BENCH_COMMON)
bench_bench_namespace_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_bench_namespace_CFLAGS = $(BENCH_CFLAGS)
bench_bench_namespace_LDADD = $(BENCH_LIBS)

bench_bench_data_SOURCES = bench/bench_data.c $(BENCH_COMMON)
bench_bench_data_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_bench_data_CFLAGS = $(BENCH_CFLAGS)
bench_bench_data_LDADD = $(BENCH_LIBS)

bench_bench_mmap_SOURCES = bench/bench_mmap.c $(BENCH_COMMON)
bench_bench_mmap_CPPFLAGS = $(BENCH_CPPFLAGS)
bench_bench_mmap_CFLAGS = $(BENCH_CFLAGS)
bench_bench_mmap_LDADD = $(BENCH_LIBS)

# `daxfile bench': its entry is in the CLI_COMMANDS table of tools/cli.h
daxfile_SOURCES += tools/cli_bench.c

EXTRA_DIST += bench/Makefile.frag bench/plot.gp bench/README.md

BENCH_DIR = /dev/shm
BENCH_RESULTS = bench/results
BENCH_FLAGS =
BENCH_SIZES =

bench: $(BENCH_PROGS)
	@$(MKDIR_P) $(BENCH_RESULTS)
	@for prog in $(BENCH_PROGS); do \
	  name=`basename $$prog`; \
	  start=`date +%s`; \
	  PMEM_IS_PMEM_FORCE=1 ./$$prog --dir '$(BENCH_DIR)' \
	    --csv $(BENCH_RESULTS)/$$name.csv $(BENCH_SIZES) $(BENCH_FLAGS) \
	    || exit 1; \
	  echo "$$name took `expr \`date +%s\` - $$start` s"; \
	  if test -n '$(GNUPLOT)'; then \
	    '$(GNUPLOT)' -e "csv='$(BENCH_RESULTS)/$$name.csv'; png='$(BENCH_RESULTS)/$$name.png'; title='$$name'" \
	      $(srcdir)/bench/plot.gp || exit 1; \
	    echo "chart: $(BENCH_RESULTS)/$$name.png"; \
	  else \
	    echo "no chart: configure found no gnuplot (install the Debian package gnuplot-nox, then run ./configure again)"; \
	  fi; \
	  echo; \
	done

bench-quick:
	@$(MAKE) $(AM_MAKEFLAGS) bench BENCH_SIZES=--quick

.PHONY: bench bench-quick

CLEANFILES += $(BENCH_RESULTS)/*.csv $(BENCH_RESULTS)/*.png
