/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Message passing between two separate programs over a POSIX shm segment
 * (shm_mp_writer.c publishes data then flag, shm_mp_reader.c checks flag
 * then data), for shm_test.c under 'hkctl watch'. Usage of both:
 *
 *   PROG NAME VARIANT SECONDS
 *
 * NAME: the shm object; the writer creates it (16 bytes: flag at offset
 * 0, data at offset 8), the reader waits until it exists. Each runs rounds
 * for SECONDS, 200 us apart, then prints "rounds N" and exits.
 *
 *   plain   no barrier                      -> MP finding, one side in each
 *   fence   seq_cst fences (mfence on x86)  -> nothing
 *   relacq  C11 release store / acquire load of an _Atomic flag (struct
 *           shm_mp_ra): fixed on Arm, but on x86 both are a plain mov ->
 *           the MP finding, "undecidable" (the type read from DWARF)
 */
#ifndef _HK_SHM_MP_H
#define _HK_SHM_MP_H

#include <fcntl.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define READ_ONCE(x)		(*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))
/* Farther apart than any window preset: one round is not an interval with the next. */
#define SHM_MP_NEXT_ROUND()	__asm__ volatile(".rept 400\n\tnop\n\t.endr" ::: "memory")

struct shm_mp {
	int flag;	/* offset 0 */
	int pad;
	int data;	/* offset 8 */
	int pad2;
};

/* The relacq variant's view of the same 16 bytes: the flag is _Atomic. */
struct shm_mp_ra {
	_Atomic int flag;
	int pad;
	int data;
	int pad2;
};

_Static_assert(offsetof(struct shm_mp_ra, flag) == offsetof(struct shm_mp, flag) &&
	       offsetof(struct shm_mp_ra, data) == offsetof(struct shm_mp, data) &&
	       sizeof(struct shm_mp_ra) == sizeof(struct shm_mp), "one layout");

static inline double shm_mp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline struct shm_mp *shm_mp_map(const char *name, int create)
{
	struct shm_mp *m;
	int fd, tries = 0;

	for (;;) {
		fd = shm_open(name, create ? O_CREAT | O_RDWR : O_RDWR, 0600);
		if (fd >= 0 || create || ++tries > 1000)
			break;
		usleep(10000);
	}
	if (fd < 0 || (create && ftruncate(fd, sizeof(*m)))) {
		perror("shm_open");
		exit(2);
	}
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	close(fd);
	return m;
}

#endif /* _HK_SHM_MP_H */
