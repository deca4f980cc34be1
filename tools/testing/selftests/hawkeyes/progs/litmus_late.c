// SPDX-License-Identifier: GPL-2.0
/*
 * MP through memory that does not exist when main starts: main maps a file
 * (LITMUS_LATE_MAP, default /tmp/hk-litmus-late.map) with mmap() and the
 * two threads communicate through it, the way a program shares a file
 * mapping, a heap object or a dlopen()ed library's data. 'hkctl run -r
 * LITMUS_LATE_MAP' cannot resolve that name at main: it must watch the
 * mapping from when it appears.
 *
 * main pauses LITMUS_LATE_PAUSE_MS (default 300) between the mmap() and
 * the threads: a real program does work there too, and hkctl needs one
 * look at /proc/PID/maps (every 10 ms) and one netlink request to arm the
 * new region; under an emulator that takes tens of ms. Accesses before
 * that are not captured, and the report says for how long at most.
 *
 *   plain   no barrier          -> MP finding
 *   fence   seq_cst fences      -> nothing
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "litmus.h"

/* data and flag share the first 16 bytes of the mapping: two watchpoint units */
struct late_shared {
	int data;
	int pad;
	int flag;
};

struct late_shared *shared;
int mapped;	/* main's alone: a region that exists at main, for hkctl run */
long stale;

static void late_setup(void)
{
	const char *path = getenv("LITMUS_LATE_MAP") ?: "/tmp/hk-litmus-late.map";
	const char *pause = getenv("LITMUS_LATE_PAUSE_MS");
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096)) {
		perror(path);
		exit(2);
	}
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (shared == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	close(fd);
	WRITE_ONCE(mapped, 1);
	usleep((pause ? atol(pause) : 300) * 1000);
}

static void *plain_w(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(shared->data, i);		/* @data_w */
		WRITE_ONCE(shared->flag, i);		/* @flag_w */
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *plain_r(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int f = READ_ONCE(shared->flag);	/* @flag_r */
		int d = READ_ONCE(shared->data);	/* @data_r */

		stale += d < f;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_w(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		WRITE_ONCE(shared->data, i);
		atomic_thread_fence(memory_order_seq_cst);
		WRITE_ONCE(shared->flag, i);
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void *fence_r(void *arg)
{
	for (long i = 1; i <= litmus_iters; i++) {
		int f = READ_ONCE(shared->flag);
		int d;

		atomic_thread_fence(memory_order_seq_cst);
		d = READ_ONCE(shared->data);
		stale += d < f;
		LITMUS_NEXT_ROUND();
	}
	return NULL;
}

static void report(void)
{
	printf("outcome stale=%ld\n", stale);
}

LITMUS_MAIN_SETUP(late_setup, report,
		  { "plain", plain_w, plain_r },
		  { "fence", fence_w, fence_r })
