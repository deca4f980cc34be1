/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Harness of the litmus targets that litmus_test.c runs under 'hkctl run':
 * two threads run their side of a litmus shape ITERS times (nothing orders
 * the rounds, so the code under test is the only ordering there is), and
 * main prints outcome counters. Watched and unwatched runs must print the
 * same counters. Each program holds its plain shape and its fixed
 * variants as separate thread functions; argv[1] picks one.
 *
 * Lines the test asserts carry a marker comment ("@data_w"); the test reads
 * the markers from this source (installed beside the binary), never line
 * numbers, so editing a program cannot silently break an assertion.
 */
#ifndef _HK_LITMUS_H
#define _HK_LITMUS_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Like the kernel's: one access the compiler keeps, and no ordering at all. */
#define READ_ONCE(x)		(*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

/* Two thousand instructions: farther apart than any CPU's reorder window. */
#define LITMUS_FAR_APART()	__asm__ volatile(".rept 2000\n\tnop\n\t.endr" ::: "memory")

/*
 * End of a round: 400 nops (more uops than the largest window preset, 320) so
 * that the last access of one round and the first of the next are not an
 * interval too; each program then shows exactly the shape it is named for.
 */
#define LITMUS_NEXT_ROUND()	__asm__ volatile(".rept 400\n\tnop\n\t.endr" ::: "memory")

static long litmus_iters = 500;

struct litmus_variant {
	const char *name;
	void *(*a)(void *), *(*b)(void *);
};

static inline void litmus_run(void *(*a)(void *), void *(*b)(void *))
{
	pthread_t ta, tb;

	if (pthread_create(&ta, NULL, a, NULL) || pthread_create(&tb, NULL, b, NULL)) {
		perror("pthread_create");
		exit(2);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
}

/*
 * main: PROG VARIANT [ITERS]. Only the variant's two thread functions run,
 * so a capture sees only their code. With LITMUS_WAIT_MS in the
 * environment, main waits that long first, for 'hkctl attach'; with
 * LITMUS_GO_FD, until a byte arrives on that descriptor (the test sends it
 * once the session is armed). setup() runs once ITERS is known,
 * report() prints "outcome ..." lines.
 */
#define LITMUS_MAIN_SETUP(setup, report, ...)				\
int main(int argc, char *argv[])					\
{									\
	static const struct litmus_variant v[] = { __VA_ARGS__ };	\
	size_t i;							\
									\
	if (argc > 2)							\
		litmus_iters = atol(argv[2]);				\
	if (getenv("LITMUS_WAIT_MS"))	/* time for 'hkctl attach' */	\
		usleep(atol(getenv("LITMUS_WAIT_MS")) * 1000);		\
	if (getenv("LITMUS_GO_FD")) {	/* 'hkctl attach' is armed */	\
		char go;						\
									\
		if (read(atoi(getenv("LITMUS_GO_FD")), &go, 1) != 1)	\
			return 2;					\
	}								\
	setup();							\
	for (i = 0; argc > 1 && i < sizeof(v) / sizeof(v[0]); i++)	\
		if (!strcmp(argv[1], v[i].name)) {			\
			litmus_run(v[i].a, v[i].b);			\
			report();					\
			return 0;					\
		}							\
	fprintf(stderr, "usage: %s VARIANT [ITERS]\n", argv[0]);	\
	return 2;							\
}

static inline void litmus_no_setup(void)
{
}

#define LITMUS_MAIN(report, ...)	LITMUS_MAIN_SETUP(litmus_no_setup, report, __VA_ARGS__)

#endif /* _HK_LITMUS_H */
