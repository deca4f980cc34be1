// SPDX-License-Identifier: GPL-2.0
/*
 * Target for the hkctl selftests: hkctl_counter N K [WAIT_MS [DELAY_US [exec]]]
 *
 * Waits WAIT_MS, or for SIGUSR1 when WAIT_MS is "sig" (so that a test can
 * attach to a process whose threads do not exist yet), then starts N threads that each store to the global
 * hk_counter K times, DELAY_US apart (0: as fast as possible; K = 0:
 * forever), all through the one store in hk_store(). Prints "store ADDR"
 * (the address of hk_store) first, "tid T" per thread, then "done" when all joined, and
 * exits 0: a changed outcome would show that watching changed behaviour.
 * With "exec", it then execs itself as "hkctl_counter 1 1" instead.
 * With "jit" (x86-64), the stores run from code copied into an anonymous
 * executable page mapped after WAIT_MS, as a JIT would.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

volatile long hk_counter;
static long k, delay_us;
static void (*store_fn)(long v, volatile long *p);
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

/* The only store to hk_counter: every record's ip must point into it. */
__attribute__((noinline)) void hk_store(long v)
{
	hk_counter = v;
}

static void *worker(void *arg)
{
	long i;

	pthread_mutex_lock(&print_lock);
	printf("tid %ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	pthread_mutex_unlock(&print_lock);
	for (i = 0; !k || i < k; i++) {
		if (store_fn)
			store_fn(i, &hk_counter);
		else
			hk_store(i);
		if (delay_us)
			usleep(delay_us);
	}
	return arg;
}

int main(int argc, char *argv[])
{
	pthread_t th[256];
	long n, i;

	if (argc < 3)
		return 2;
	n = atol(argv[1]);
	k = atol(argv[2]);
	printf("store %p\n", (void *)hk_store);
	fflush(stdout);
	if (argc > 3 && !strcmp(argv[3], "sig")) {
		sigset_t set;
		int sig;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("waiting\n");
		fflush(stdout);
		if (sigwait(&set, &sig))
			return 2;
	} else if (argc > 3) {
		usleep(atol(argv[3]) * 1000);
	}
	if (argc > 4)
		delay_us = atol(argv[4]);
	if (n < 1 || n > 256)
		return 2;
	if (argc > 5 && !strcmp(argv[5], "jit")) {
#ifdef __x86_64__
		static const unsigned char code[] = {
			0x48, 0x89, 0x3e,	/* mov %rdi, (%rsi) */
			0xc3,			/* ret */
		};
		void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (page == MAP_FAILED)
			return 2;
		memcpy(page, code, sizeof(code));
		store_fn = (void (*)(long, volatile long *))page;
		printf("jit %p\n", page);
#else
		return 4;
#endif
	}
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, NULL))
			return 2;
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (argc > 5 && !strcmp(argv[5], "exec")) {
		fflush(stdout);
		execl("/proc/self/exe", argv[0], "1", "1", (char *)NULL);
		return 3;
	}
	printf("done\n");
	return 0;
}
