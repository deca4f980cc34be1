// SPDX-License-Identifier: GPL-2.0
/*
 * Target program for the page-mode selftests (x86-64): threads touching
 * 1,000 distinct addresses of a 64 KiB heap region through four access
 * instructions whose addresses are known, and writing down every access
 * they made (the ground truth), plus the operations of the safety matrix.
 *
 * Prints "hello var=HEAP store=SITES store_end=SITES_END", then obeys one
 * command per stdin line, answering one line each:
 *   info      "info heap=A r2=A thp=A sites=A B C D"; r2 is a second
 *             64 KiB anonymous mapping for munmap/mprotect/mremap/madvise,
 *             thp a 2 MiB-aligned MADV_HUGEPAGE mapping (both faulted in)
 *   touch T P G FILE  T threads (1, 2, 4, 8 or 16) each own the pages
 *             p % T == t and touch their addresses P passes, page by page
 *             round robin, sleeping G us between accesses; every access
 *             is written to FILE as "IP ADDR R|W". The same operations on
 *             an unwatched shadow copy check the data afterwards.
 *             Reply: "touched N"
 *   mismatch  "mismatch M": heap words differing from the shadow (reads
 *             the whole heap: ask after detaching)
 *   sum       "sum S": FNV-1a of the heap region
 *   speed N   N rounds of loads of the 1,000 addresses, best of 5 runs;
 *             "ns PER_ACCESS"
 *   fork      a child writes its own values to every address and checks
 *             it reads them back (exit status C); "fork child=C"; the
 *             parent's heap is checked by "mismatch"
 *   ops       on r2 during capture: MADV_DONTNEED pages 0-3 (must read
 *             zero), mprotect pages 4-7 read-only and back, munmap pages
 *             8-11, mremap pages 12-15 elsewhere; every surviving word is
 *             checked. "ops errors=E"
 *   thp N     2 threads write and read back their own words of every 4 KiB
 *             of the THP mapping N times; "thp errors=E huge_kb=K"
 *             (AnonHugePages of the process)
 *   bench T N T threads (dividing 16) each run N sweeps over their own
 *             pages of the heap region, one load and one store per 64
 *             bytes; "elapsed_ns NS" (wall time of the whole run)
 *   exit      exit(0)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE	4096
#define NPAGES	16
#define REGION	(NPAGES * PAGE)
#define NADDR	1000
#define THP	(2UL << 20)

#ifdef __x86_64__
/* The four access sites: the first instruction of each is the access. */
asm(".text\n"
    ".globl site_ld64\n.type site_ld64,@function\n"
    "site_ld64:\n\tmovq (%rdi), %rax\n\tret\n"
    ".globl site_st64\n.type site_st64,@function\n"
    "site_st64:\n\tmovq %rsi, (%rdi)\n\tret\n"
    ".globl site_ld32\n.type site_ld32,@function\n"
    "site_ld32:\n\tmovl (%rdi), %eax\n\tret\n"
    ".globl site_xadd\n.type site_xadd,@function\n"
    "site_xadd:\n\tlock xaddq %rsi, (%rdi)\n\tmovq %rsi, %rax\n\tret\n");
uint64_t site_ld64(volatile uint64_t *p);
void site_st64(volatile uint64_t *p, uint64_t v);
uint32_t site_ld32(volatile uint64_t *p);
uint64_t site_xadd(volatile uint64_t *p, uint64_t v);

static void *const sites[4] = { site_ld64, site_st64, site_ld32, site_xadd };
static const char kinds[4] = { 'R', 'W', 'R', 'W' };

static uint8_t *heap, *shadow, *r2, *thp;
static FILE *truth;
static pthread_mutex_t truth_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t *addr_of(uint8_t *base, int i)
{
	return (uint64_t *)(base + (i % NPAGES) * PAGE + (i / NPAGES) * 64);
}

/* Access i: site i % 4, on @base; the value stored depends on i and pass. */
static void access_one(uint8_t *base, int i, int pass)
{
	volatile uint64_t *p = addr_of(base, i);
	uint64_t v = (uint64_t)i << 8 | pass;

	switch (i % 4) {
	case 0: site_ld64(p); break;
	case 1: site_st64(p, v); break;
	case 2: site_ld32(p); break;
	case 3: site_xadd(p, v); break;
	}
}

struct toucher {
	pthread_t th;
	int t, nthreads, passes, gap_us, n;
};

static void *touch_fn(void *arg)
{
	struct toucher *w = arg;
	struct timespec gap = { 0, w->gap_us * 1000L };

	for (int pass = 0; pass < w->passes; pass++) {
		for (int slot = 0; slot * NPAGES < NADDR; slot++) {
			for (int pg = w->t; pg < NPAGES; pg += w->nthreads) {
				int i = slot * NPAGES + pg;

				if (i >= NADDR)
					continue;
				access_one(heap, i, pass);
				pthread_mutex_lock(&truth_lock);
				access_one(shadow, i, pass);
				fprintf(truth, "%lx %lx %c\n", (unsigned long)sites[i % 4],
					(unsigned long)addr_of(heap, i), kinds[i % 4]);
				pthread_mutex_unlock(&truth_lock);
				w->n++;
				if (w->gap_us)
					nanosleep(&gap, NULL);
			}
		}
	}
	return NULL;
}

static int mismatch(void)
{
	int m = 0;

	for (int i = 0; i < REGION / 8; i++)
		m += ((uint64_t *)heap)[i] != ((uint64_t *)shadow)[i];
	return m;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n / 8; i++)
		((uint64_t *)p)[i] = seed ^ (i * 0x9e3779b97f4a7c15ull);
}

static int check(const uint8_t *p, size_t off, size_t n, uint64_t seed)
{
	int e = 0;

	for (size_t i = off / 8; i < (off + n) / 8; i++)
		e += ((const uint64_t *)p)[i] != (seed ^ (i * 0x9e3779b97f4a7c15ull));
	return e;
}

static void cmd_ops(void)
{
	int e = 0;
	uint8_t *moved;

	/* MADV_DONTNEED: private anon reads back zero. */
	madvise(r2, 4 * PAGE, MADV_DONTNEED);
	for (int i = 0; i < 4 * PAGE / 8; i++)
		e += ((volatile uint64_t *)r2)[i] != 0;
	/* mprotect read-only and back: data intact, writable again. */
	if (mprotect(r2 + 4 * PAGE, 4 * PAGE, PROT_READ))
		e++;
	e += check(r2, 4 * PAGE, 4 * PAGE, 2);
	if (mprotect(r2 + 4 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE))
		e++;
	((volatile uint64_t *)(r2 + 4 * PAGE))[1] ^= 0;
	e += check(r2, 4 * PAGE, 4 * PAGE, 2);
	/* munmap the middle. */
	if (munmap(r2 + 8 * PAGE, 4 * PAGE))
		e++;
	/* mremap the tail elsewhere: the data move with it. */
	moved = mremap(r2 + 12 * PAGE, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
	if (moved == MAP_FAILED) {
		e++;
	} else {
		for (size_t i = 0; i < 4 * PAGE / 8; i++)
			e += ((uint64_t *)moved)[i] !=
			     (2 ^ ((12 * PAGE / 8 + i) * 0x9e3779b97f4a7c15ull));
		((volatile uint64_t *)moved)[0] = 1;
		e += ((volatile uint64_t *)moved)[0] != 1;
	}
	printf("ops errors=%d\n", e);
}

struct bencher {
	pthread_t th;
	int t, nthreads;
	long n;
};

static void *bench_fn(void *arg)
{
	struct bencher *b = arg;

	for (long k = 0; k < b->n; k++)
		for (int pg = b->t; pg < NPAGES; pg += b->nthreads)
			for (int off = 0; off < PAGE; off += 64) {
				volatile uint64_t *p = (uint64_t *)(heap + pg * PAGE + off);

				*p = *p + 1;
			}
	return NULL;
}

struct thp_worker {
	pthread_t th;
	int id, rounds, errors;
};

static void *thp_fn(void *arg)
{
	struct thp_worker *w = arg;

	for (int r = 1; r <= w->rounds; r++) {
		for (size_t off = 0; off < THP; off += PAGE) {
			volatile uint64_t *p = (uint64_t *)(thp + off) + w->id;

			if (r > 1 && *p != ((uint64_t)(r - 1) << 32 | off))
				w->errors++;
			*p = (uint64_t)r << 32 | off;
		}
	}
	return NULL;
}

static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	char line[512], file[256];
	uint8_t *t;

	heap = aligned_alloc(PAGE, REGION);
	shadow = aligned_alloc(PAGE, REGION);
	fill(heap, REGION, 1);
	memcpy(shadow, heap, REGION);
	r2 = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(r2, REGION, 2);
	t = mmap(NULL, 2 * THP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	thp = (uint8_t *)(((uintptr_t)t + THP - 1) & ~(THP - 1));
	madvise(thp, THP, MADV_HUGEPAGE);
	memset(thp, 0, THP);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("hello var=%lx store=%lx store_end=%lx\n", (unsigned long)heap,
	       (unsigned long)site_ld64, (unsigned long)site_xadd + 16);

	while (fgets(line, sizeof(line), stdin)) {
		int a, b, c;

		if (!strncmp(line, "info", 4)) {
			printf("info heap=%lx r2=%lx thp=%lx sites=%lx %lx %lx %lx\n",
			       (unsigned long)heap, (unsigned long)r2,
			       (unsigned long)thp, (unsigned long)sites[0],
			       (unsigned long)sites[1], (unsigned long)sites[2],
			       (unsigned long)sites[3]);
		} else if (sscanf(line, "touch %d %d %d %255s", &a, &b, &c, file) == 4) {
			struct toucher w[16];
			int n = 0;

			truth = fopen(file, "w");
			if (!truth || a < 1 || a > 16 || NPAGES % a) {
				printf("touch failed\n");
				continue;
			}
			for (int i = 0; i < a; i++) {
				w[i] = (struct toucher){ .t = i, .nthreads = a,
							 .passes = b, .gap_us = c };
				pthread_create(&w[i].th, NULL, touch_fn, &w[i]);
			}
			for (int i = 0; i < a; i++) {
				pthread_join(w[i].th, NULL);
				n += w[i].n;
			}
			fclose(truth);
			printf("touched %d\n", n);
		} else if (!strncmp(line, "mismatch", 8)) {
			printf("mismatch %d\n", mismatch());
		} else if (!strncmp(line, "sum", 3)) {
			printf("sum %lx\n", (unsigned long)fnv(heap, REGION));
		} else if (sscanf(line, "speed %d", &a) == 1) {
			uint64_t best = ~0ull, s = 0;

			/* best of 5: TCG timing is noisy */
			for (int k = 0; k < 5; k++) {
				uint64_t t0 = now_ns();

				for (int r = 0; r < a; r++)
					for (int i = 0; i < NADDR; i++)
						s += site_ld64(addr_of(heap, i));
				if (now_ns() - t0 < best)
					best = now_ns() - t0;
			}
			printf("ns %lu %lu\n", (unsigned long)(best / ((uint64_t)a * NADDR)),
			       (unsigned long)(s & 1));
		} else if (!strncmp(line, "fork", 4)) {
			int st = -1;
			pid_t pid = fork();

			if (!pid) {
				int e = 0;

				for (int i = 0; i < NADDR; i++)
					site_st64(addr_of(heap, i), ~(uint64_t)i);
				for (int i = 0; i < NADDR; i++)
					e += site_ld64(addr_of(heap, i)) != ~(uint64_t)i;
				_exit(e ? 1 : 0);
			}
			waitpid(pid, &st, 0);
			printf("fork child=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128);
		} else if (!strncmp(line, "ops", 3)) {
			cmd_ops();
		} else if (sscanf(line, "thp %d", &a) == 1) {
			struct thp_worker w[2];
			int e = 0;

			for (int i = 0; i < 2; i++) {
				w[i] = (struct thp_worker){ .id = i, .rounds = a };
				pthread_create(&w[i].th, NULL, thp_fn, &w[i]);
			}
			for (int i = 0; i < 2; i++) {
				pthread_join(w[i].th, NULL);
				e += w[i].errors;
			}
			printf("thp errors=%d huge_kb=%ld\n", e, anon_huge_kb());
		} else if (sscanf(line, "bench %d %d", &a, &b) == 2 && a >= 1 && a <= 16 &&
			   !(NPAGES % a)) {
			struct bencher w[16];
			uint64_t t0 = now_ns();

			for (int i = 0; i < a; i++) {
				w[i] = (struct bencher){ .t = i, .nthreads = a, .n = b };
				pthread_create(&w[i].th, NULL, bench_fn, &w[i]);
			}
			for (int i = 0; i < a; i++)
				pthread_join(w[i].th, NULL);
			printf("elapsed_ns %lu\n", (unsigned long)(now_ns() - t0));
		} else if (!strncmp(line, "exit", 4)) {
			exit(0);
		} else {
			printf("unknown\n");
		}
	}
	return 0;
}
#else
int main(void)
{
	/* x86-64 only (page mode is); the tests skip elsewhere. */
	printf("hello var=0 store=0 store_end=0\n");
	return 0;
}
#endif
