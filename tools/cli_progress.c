/*
 * cli_progress.c -- a progress bar on stderr for long transfers: shown
 * only on a terminal and for enough bytes to take a while, redrawn at most
 * ten times a second, erased at the end.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Transfers smaller than this end before a bar would tell anything. */
#define PROGRESS_MIN_BYTES	((uint64_t)8 << 20)

/* Seconds between redraws: enough to look alive, few enough to read. */
#define PROGRESS_PERIOD		0.1

/* Characters of the bar itself, so the line fits in 80 columns. */
#define PROGRESS_BAR_WIDTH	20

/* seconds -- the time from 'from' to 'to'. */
static double
seconds(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) +
		(double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

/* cli_progress_start -- start a bar for 'total' bytes if it is worth one. */
void
cli_progress_start(struct cli_progress *progress, uint64_t total)
{
	progress->total = total;
	progress->enabled = total >= PROGRESS_MIN_BYTES &&
		isatty(STDERR_FILENO);
	progress->drawn = 0;
	clock_gettime(CLOCK_MONOTONIC, &progress->start);
	progress->last = progress->start;
}

/* draw -- redraw the line: percentage, bar, bytes and rate. */
static void
draw(struct cli_progress *progress, uint64_t done, double elapsed)
{
	char bar[PROGRESS_BAR_WIDTH + 1], done_h[32], total_h[32], line[128];
	unsigned int percent = done >= progress->total ? 100 :
		(unsigned int)((double)done * 100 / (double)progress->total);
	size_t fill = percent * PROGRESS_BAR_WIDTH / 100;
	double rate = elapsed > 0 ? (double)done / elapsed / (1 << 20) : 0;
	int len, pad;

	memset(bar, '#', fill);
	memset(bar + fill, '.', PROGRESS_BAR_WIDTH - fill);
	bar[PROGRESS_BAR_WIDTH] = '\0';
	cli_human(done, done_h, sizeof(done_h));
	cli_human(progress->total, total_h, sizeof(total_h));
	len = snprintf(line, sizeof(line), "%3u%% [%s] %s / %s  %.1f MiB/s",
		percent, bar, done_h, total_h, rate);
	if (len < 0)
		return;

	/* Blank what is left of a longer previous line. */
	pad = progress->drawn > len ? progress->drawn - len : 0;
	fprintf(stderr, "\r%s%*s", line, pad, "");
	progress->drawn = len + pad;
}

/* cli_progress_update -- 'done' bytes are through; redraw if it is time. */
void
cli_progress_update(struct cli_progress *progress, uint64_t done)
{
	struct timespec now;

	if (!progress->enabled)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (seconds(&progress->last, &now) < PROGRESS_PERIOD)
		return;
	progress->last = now;
	draw(progress, done, seconds(&progress->start, &now));
}

/* cli_progress_end -- erase the bar, leaving the cursor where it started. */
void
cli_progress_end(struct cli_progress *progress)
{
	if (progress->drawn > 0)
		fprintf(stderr, "\r%*s\r", progress->drawn, "");
	progress->drawn = 0;
}
