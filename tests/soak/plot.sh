#!/usr/bin/env bash
# Plots a soak CSV (seconds rss_kb fds threads requests) to a PNG: RSS in MiB on the left axis,
# open descriptors and threads on the right. Usage: plot.sh CSV PNG
set -euo pipefail
csv="$1" png="$2"
gnuplot <<GP
set terminal pngcairo size 900,420 noenhanced
set output "$png"
set title "streamgate soak: RSS and descriptors over time"
set xlabel "minutes"
set ylabel "RSS (MiB)"
set y2label "descriptors / threads"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key bottom right
set grid
plot "$csv" using (\$1/60):(\$2/1024) with lines lw 2 title "RSS (MiB)", \
     "$csv" using (\$1/60):3 axes x1y2 with lines title "open descriptors", \
     "$csv" using (\$1/60):4 axes x1y2 with lines title "threads"
GP
echo "plot: $png"
