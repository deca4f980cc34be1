// SPDX-License-Identifier: GPL-2.0
/*
 * Target for the auto-mode selftest: shared100 SECONDS
 *
 * 100 globals, g[0..99], each alone in a 2 KiB slot of the array g (one
 * 200 KiB symbol). Two threads run for SECONDS, one access every 500 us:
 * thread A touches g[0..49], thread B g[50..99], and only two globals are
 * shared: g[17] (A writes, B reads) and g[73] (both write). Prints
 * "g ADDR" first and "done" at the end.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N	100
#define SHARED_R	17
#define SHARED_W	73

struct slot {
	volatile uint64_t v;
	char pad[2048 - sizeof(uint64_t)];
};

struct slot g[N] __attribute__((aligned(4096)));
static double seconds;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *thread_fn(void *arg)
{
	long self = (long)arg;	/* 0: A, 1: B */
	struct timespec gap = { 0, 500000 };
	double end = now() + seconds;
	uint64_t sink = 0;
	int k = 0;

	while (now() < end) {
		int i = self * 50 + k % 50;

		/* every 10th step: the shared globals */
		if (k % 10 == 0) {
			if (self)
				sink += g[SHARED_R].v;
			else
				g[SHARED_R].v = k;
			g[SHARED_W].v = k;
		} else if (i != SHARED_R && i != SHARED_W) {
			g[i].v++;
		}
		k++;
		nanosleep(&gap, NULL);
	}
	return (void *)(uintptr_t)sink;
}

int main(int argc, char **argv)
{
	pthread_t th[2];

	seconds = argc > 1 ? atof(argv[1]) : 5;
	printf("g %p\n", (void *)g);
	fflush(stdout);
	for (long i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, thread_fn, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("done\n");
	return 0;
}
