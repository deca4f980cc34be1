// SPDX-License-Identifier: GPL-2.0
/* The reader side of shm_mp.h: flag, then data. */
#include "shm_mp.h"

/* Its own function: m is the only pointer to the segment in scope (DWARF). */
static __attribute__((noinline)) long relacq(struct shm_mp_ra *m, double end, long *stale)
{
	long i = 0;

	while (shm_mp_now() < end) {
		int f = atomic_load_explicit(&m->flag, memory_order_acquire);	/* @rr_flag */
		int d = READ_ONCE(m->data);					/* @rr_data */

		*stale += d < f;
		i++;
		SHM_MP_NEXT_ROUND();
		usleep(200);
	}
	return i;
}

int main(int argc, char *argv[])
{
	struct shm_mp *m;
	long i = 0, stale = 0;
	double end;

	if (argc != 4)
		return 2;
	m = shm_mp_map(argv[1], 0);
	end = shm_mp_now() + atof(argv[3]);
	if (!strcmp(argv[2], "plain")) {
		while (shm_mp_now() < end) {
			int f = READ_ONCE(m->flag);	/* @r_flag */
			int d = READ_ONCE(m->data);	/* @r_data */

			stale += d < f;
			i++;
			SHM_MP_NEXT_ROUND();
			usleep(200);
		}
	} else if (!strcmp(argv[2], "fence")) {
		while (shm_mp_now() < end) {
			int f = READ_ONCE(m->flag);
			int d;

			atomic_thread_fence(memory_order_seq_cst);
			d = READ_ONCE(m->data);
			stale += d < f;
			i++;
			SHM_MP_NEXT_ROUND();
			usleep(200);
		}
	} else if (!strcmp(argv[2], "relacq")) {
		i = relacq((struct shm_mp_ra *)m, end, &stale);
	} else {
		return 2;
	}
	printf("rounds %ld stale %ld\n", i, stale);
	return 0;
}
