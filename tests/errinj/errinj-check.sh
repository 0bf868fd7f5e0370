#!/bin/sh
# errinj-check.sh -- walk the failure paths: for each injection point of
# src/errinj.h, count how many calls the workload makes there, then run it
# again failing the Nth call, for every N up to ERRINJ_MAX per point
# (evenly spread beyond), each under a timeout; every run must end well
# (daxfile-errinj run), and its pool must check clean and read back
# (daxfile-errinj check).  Needs a build configured with
# --enable-error-injection; says so and skips (77) otherwise.
errinj=${ERRINJ:-./tests/errinj/daxfile-errinj}
dir=${DAXFILE_TEST_DIR:-/dev/shm}
max=${ERRINJ_MAX:-24}
limit=${ERRINJ_TIMEOUT:-120}
pool="$dir/daxfile-errinj-$$.pool"
counts="$dir/daxfile-errinj-$$.counts"
trap 'rm -f "$pool" "$counts"' EXIT

DAXFILE_FAIL_COUNT="$counts" "$errinj" run "$pool" >/dev/null || exit 1
if [ ! -s "$counts" ]; then
	echo "errinj-check: skipped: the library was built without --enable-error-injection"
	exit 77
fi
"$errinj" check "$pool" || exit 1

runs=0
while read -r point total; do
	[ "$total" -gt 0 ] || continue
	step=1
	[ "$total" -gt "$max" ] && step=$(( (total + max - 1) / max ))
	n=1
	while [ "$n" -le "$total" ]; do
		if ! DAXFILE_FAIL="$point:$n" timeout "$limit" "$errinj" run "$pool" >/dev/null; then
			echo "errinj-check: FAILED: $point:$n (of $total calls) did not end well" >&2
			exit 1
		fi
		if ! "$errinj" check "$pool"; then
			echo "errinj-check: FAILED: after $point:$n (of $total calls)" >&2
			exit 1
		fi
		runs=$((runs + 1))
		n=$((n + step))
	done
	echo "errinj-check: $point: $total calls, failures injected at every ${step}th"
done < "$counts"
echo "errinj-check: $runs runs ok"
