// SPDX-License-Identifier: GPL-2.0
/*
 * Target program for the capture selftests: threads writing a global.
 *
 * Prints "hello var=ADDR store=ADDR store_end=ADDR" (the watched global and
 * the code range of the only store to it), then obeys one command per
 * stdin line, answering one line each:
 *   run N K   the main thread writes K times, then N threads (created now,
 *             after the test attached) write K times each; value written:
 *             (thread index << 32) | i, i = 1..K, main thread index 0.
 *             Reply: "tids T0 T1 ... TN" (T0: main thread).
 *   read K    the main thread loads the global K times; reply "sum S"
 *   loop N    start N threads writing forever; reply "looping"
 *   churn N   start a thread that forever creates N short-lived threads
 *             (10 stores each) and joins them; reply "churning"
 *   ping      reply "pong COUNT" (writes done by loop threads so far, plus
 *             threads finished by churn)
 *   exec      execve() this program again with "--again"; the new image
 *             prints its hello line (again) instead of a reply
 *   bench N M W  N threads each run M iterations of W rounds of private
 *             arithmetic followed by one store to the global; reply
 *             "elapsed_ns NS" (wall time of the whole run)
 *   texec     like exec, but from a secondary thread (the kernel makes it
 *             the leader: de_thread())
 *   exit      exit(0)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * The watched global and, 16 bytes further in the same 64-byte block, the
 * loop counter; nothing else lives in the block, so tests that watch all
 * 64 bytes know exactly which units get written.
 */
struct hk_block {
	volatile uint64_t var;
	uint64_t unused1;
	volatile uint64_t count;
	uint64_t unused2[5];
} __attribute__((aligned(64)));

struct hk_block hk_block;
#define hk_var hk_block.var
#define loop_count hk_block.count
static int K;

__attribute__((noinline)) void hk_store(uint64_t v)
{
	hk_var = v;
	asm volatile("" ::: "memory");
}

__attribute__((noinline)) void hk_store_end(void)
{
	asm volatile("");
}

struct worker {
	pthread_t th;
	uint64_t idx;
	pid_t tid;
};

static void writes(uint64_t idx)
{
	for (int i = 1; i <= K; i++)
		hk_store(idx << 32 | (uint64_t)i);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;

	w->tid = syscall(SYS_gettid);
	writes(w->idx);
	return NULL;
}

struct bench {
	pthread_t th;
	long iters, work;
	uint64_t sink;
};

static void *bench_fn(void *arg)
{
	struct bench *b = arg;
	uint64_t x = (uintptr_t)b | 1;

	for (long i = 0; i < b->iters; i++) {
		for (long j = 0; j < b->work; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		hk_store(x);
	}
	b->sink = x;
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void *short_fn(void *arg)
{
	for (int i = 0; i < 10; i++)
		hk_store(i);
	return NULL;
}

static void *churn_fn(void *arg)
{
	long n = (long)arg;
	pthread_t *th = calloc(n, sizeof(*th));

	for (;;) {
		for (long i = 0; i < n; i++)
			pthread_create(&th[i], NULL, short_fn, NULL);
		for (long i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		__atomic_fetch_add(&loop_count, n, __ATOMIC_RELAXED);
	}
	return NULL;
}

static char **saved_argv;

static void *texec_fn(void *arg)
{
	char *args[] = { saved_argv[0], "--again", NULL };

	execv("/proc/self/exe", args);
	printf("exec failed\n");
	return NULL;
}

static void *loop_fn(void *arg)
{
	uint64_t i = 0;

	for (;;) {
		hk_store(++i);
		__atomic_fetch_add(&loop_count, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char line[256];

	saved_argv = argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("hello var=%p store=%p store_end=%p\n", (void *)&hk_var,
	       (void *)hk_store, (void *)hk_store_end);
	while (fgets(line, sizeof(line), stdin)) {
		int n;

		if (sscanf(line, "run %d %d", &n, &K) == 2) {
			struct worker *w = calloc(n, sizeof(*w));

			writes(0);
			for (int i = 0; i < n; i++) {
				w[i].idx = i + 1;
				pthread_create(&w[i].th, NULL, worker_fn, &w[i]);
			}
			for (int i = 0; i < n; i++)
				pthread_join(w[i].th, NULL);
			printf("tids %d", (int)syscall(SYS_gettid));
			for (int i = 0; i < n; i++)
				printf(" %d", w[i].tid);
			printf("\n");
			free(w);
		} else if (!strncmp(line, "bench", 5)) {
			long m, wk;
			struct bench *b;
			uint64_t t0;

			if (sscanf(line, "bench %d %ld %ld", &n, &m, &wk) != 3)
				continue;
			b = calloc(n, sizeof(*b));
			t0 = now_ns();
			for (int i = 0; i < n; i++) {
				b[i].iters = m;
				b[i].work = wk;
				pthread_create(&b[i].th, NULL, bench_fn, &b[i]);
			}
			for (int i = 0; i < n; i++)
				pthread_join(b[i].th, NULL);
			printf("elapsed_ns %llu\n", (unsigned long long)(now_ns() - t0));
			free(b);
		} else if (sscanf(line, "read %d", &n) == 1) {
			uint64_t sum = 0;

			for (int i = 0; i < n; i++)
				sum += hk_var;
			printf("sum %llu\n", (unsigned long long)sum);
		} else if (sscanf(line, "churn %d", &n) == 1) {
			pthread_t th;

			pthread_create(&th, NULL, churn_fn, (void *)(long)n);
			printf("churning\n");
		} else if (sscanf(line, "loop %d", &n) == 1) {
			for (int i = 0; i < n; i++) {
				pthread_t th;

				pthread_create(&th, NULL, loop_fn, NULL);
			}
			printf("looping\n");
		} else if (!strncmp(line, "ping", 4)) {
			printf("pong %llu\n", (unsigned long long)loop_count);
		} else if (!strncmp(line, "texec", 5)) {
			pthread_t th;

			pthread_create(&th, NULL, texec_fn, NULL);
			pause();
		} else if (!strncmp(line, "exec", 4)) {
			char *args[] = { argv[0], "--again", NULL };

			execv("/proc/self/exe", args);
			printf("exec failed\n");
		} else if (!strncmp(line, "exit", 4)) {
			exit(0);
		}
	}
	return 0;
}
