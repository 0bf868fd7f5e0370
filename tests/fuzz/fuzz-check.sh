#!/bin/sh
# fuzz-check.sh -- the fuzz target's share of `make check`: replay the seed
# corpus and every regression input (a finding, kept once fixed) through
# the ordinary build.  `make fuzz` runs libFuzzer itself.
set -e
srcdir=${srcdir:-.}
./tests/fuzz/fuzz-replay "$srcdir"/tests/fuzz/corpus/* \
	$(ls "$srcdir"/tests/fuzz/regressions/* 2>/dev/null)
