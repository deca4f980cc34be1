// SPDX-License-Identifier: GPL-2.0
/*
 * The ring of 'make demo': a multi-producer multi-consumer lock-free ring in
 * the spirit of DPDK's rte_ring, as code written for x86 often has it: the
 * head and tail indexes on their own cache lines, slots reserved with a
 * compare-and-swap, and no barrier anywhere, because on x86 (TSO) stores
 * become visible in program order and loads are not reordered.
 *
 *   enqueue: reserve a slot (CAS on prod.head), fill it, wait for earlier
 *            producers, publish it (prod.tail)
 *   dequeue: see a published slot (prod.tail), read it, claim it (CAS on
 *            cons.head), wait for earlier consumers, release it (cons.tail)
 *
 * On Arm the slot store may become visible after the prod.tail store that
 * publishes it, and the slot load may be satisfied before the prod.tail
 * load that says it is ready: a consumer can dequeue a stale value. The fix
 * is a release store of prod.tail and an acquire load of it, which is what
 * rte_ring's C11 variant does.
 *
 * Indexes and slots are volatile (rte_ring's are) so that the compiler keeps
 * the source order; that is all x86 needs. Usage: demo_ring [ITEMS [P C]]:
 * P producers of ITEMS values, C consumers (1-2, default 2); prints its time.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RING_SIZE	16
#define MAX_SIDE	2	/* producers, consumers: at most */

struct ring_headtail {
	volatile uint32_t head;
	volatile uint32_t tail;
} __attribute__((aligned(64)));

/*
 * rte_ring keeps these in one struct; here they are three globals so that
 * 'hkctl run -r ring_prod+8 -r ring_cons+8 -r ring_slot+16' can name the
 * two index pairs and the first four slots: four watchpoint units, as many
 * as x86 has debug registers, so no rotation is needed. Every slot is
 * filled and read by the same two instructions: four slots show them.
 */
struct ring_headtail ring_prod, ring_cons;
volatile int ring_slot[RING_SIZE] __attribute__((aligned(64)));
static long items = 20000, producers = MAX_SIDE, consumers = MAX_SIDE;
static long dequeued[MAX_SIDE], sums[MAX_SIDE];

static inline int cas(volatile uint32_t *p, uint32_t old, uint32_t new)
{
	return __atomic_compare_exchange_n(p, &old, new, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static inline int ring_enqueue(int v)
{
	uint32_t head;

	do {
		head = ring_prod.head;
		if (head - ring_cons.tail >= RING_SIZE)
			return -1;					/* full */
	} while (!cas(&ring_prod.head, head, head + 1));
	ring_slot[head % RING_SIZE] = v;
	while (ring_prod.tail != head)					/* earlier producers */
		sched_yield();
	ring_prod.tail = head + 1;					/* publish */
	return 0;
}

static inline int ring_dequeue(int *v)
{
	uint32_t head;

	do {
		head = ring_cons.head;
		if (head == ring_prod.tail)
			return -1;					/* empty */
		*v = ring_slot[head % RING_SIZE];
	} while (!cas(&ring_cons.head, head, head + 1));
	while (ring_cons.tail != head)					/* earlier consumers */
		sched_yield();
	ring_cons.tail = head + 1;					/* release the slot */
	return 0;
}

static void *producer(void *arg)
{
	for (long i = 1; i <= items; i++)
		while (ring_enqueue(i))
			sched_yield();
	return NULL;
}

static void *consumer(void *arg)
{
	long id = (long)arg;
	int v;

	while (__atomic_load_n(&dequeued[0], __ATOMIC_RELAXED) +
	       __atomic_load_n(&dequeued[1], __ATOMIC_RELAXED) < producers * items) {
		if (ring_dequeue(&v)) {
			sched_yield();
			continue;
		}
		sums[id] += v;
		__atomic_store_n(&dequeued[id], dequeued[id] + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[])
{
	pthread_t t[2 * MAX_SIDE];
	double t0;
	long i;

	if (argc > 1)
		items = atol(argv[1]);
	if (argc > 3) {
		producers = atol(argv[2]);
		consumers = atol(argv[3]);
	}
	if (argc == 3 || argc > 4 || items < 1 || producers < 1 || producers > MAX_SIDE ||
	    consumers < 1 || consumers > MAX_SIDE) {
		fprintf(stderr, "usage: demo_ring [ITEMS [PRODUCERS CONSUMERS]] (1 or 2 each)\n");
		return 2;
	}
	t0 = now_s();
	for (i = 0; i < consumers; i++)
		pthread_create(&t[i], NULL, consumer, (void *)i);
	for (i = 0; i < producers; i++)
		pthread_create(&t[consumers + i], NULL, producer, NULL);
	for (i = 0; i < producers + consumers; i++)
		pthread_join(t[i], NULL);
	printf("ring: %ld items through %ld producer(s) and %ld consumer(s) in %.3f s, "
	       "sum %ld (expected %ld)\n", dequeued[0] + dequeued[1], producers, consumers,
	       now_s() - t0, sums[0] + sums[1], producers * items * (items + 1) / 2);
	return 0;
}
