# plot.gp -- one chart of a benchmark CSV: the speedup of every row over
# its baseline, as a horizontal bar from 1 (parity) on a log scale, with
# the row's target as a mark when it has one.
#
#	gnuplot -e "csv='bench/results/bench_data.csv'; png='bench_data.png'; title='bench_data'" bench/plot.gp
#
# Columns used: 3 section, 4 case, 10 baseline, 14 speedup, 15 target.

if (!exists("csv")) csv = 'bench_data.csv'
if (!exists("png")) png = 'bench.png'
if (!exists("title")) title = csv

set datafile separator comma
stats csv using 14 every ::1 nooutput
rows = STATS_records
lo = STATS_min < 1 ? STATS_min / 1.5 : 0.5
hi = STATS_max > 1 ? STATS_max * 1.5 : 2

set terminal pngcairo noenhanced size 1200, (160 + 22 * rows) font "sans,9"
set output png
set title title . ": speedup of libdaxfile over each baseline (median of the repetitions; above 1: libdaxfile faster)"
set logscale x
set xrange [lo:hi]
set yrange [rows:-1]
set xlabel "speedup (baseline / libdaxfile time, or libdaxfile / baseline rate)"
set grid xtics
set key bottom right
set style fill solid 0.6 border -1
set arrow from 1, graph 0 to 1, graph 1 nohead lw 2 lc rgb "black"

label(i) = sprintf("%s vs %s", strcol(4), strcol(10))
plot csv every ::1 using ($14):($0):($14 < 1 ? $14 : 1):($14 > 1 ? $14 : 1):($0 - 0.35):($0 + 0.35):ytic(label(0)) \
	with boxxyerror lc rgb "#4a7ebb" title "speedup", \
     csv every ::1 using (column(15) > 0 ? column(15) : NaN):($0) \
	with points pt 9 ps 1.4 lc rgb "#d62728" title "target"
