// SPDX-License-Identifier: GPL-2.0
/* The writer side of shm_mp.h: data, then flag. */
#include "shm_mp.h"

/* Its own function: m is the only pointer to the segment in scope (DWARF). */
static __attribute__((noinline)) long relacq(struct shm_mp_ra *m, double end)
{
	long i = 0;

	while (shm_mp_now() < end) {
		i++;
		WRITE_ONCE(m->data, i);					/* @wr_data */
		atomic_store_explicit(&m->flag, i, memory_order_release);	/* @wr_flag */
		SHM_MP_NEXT_ROUND();
		usleep(200);
	}
	return i;
}

int main(int argc, char *argv[])
{
	struct shm_mp *m;
	double end;
	long i = 0;

	if (argc != 4)
		return 2;
	m = shm_mp_map(argv[1], 1);
	printf("ready\n");
	fflush(stdout);
	end = shm_mp_now() + atof(argv[3]);
	if (!strcmp(argv[2], "plain")) {
		while (shm_mp_now() < end) {
			i++;
			WRITE_ONCE(m->data, i);		/* @w_data */
			WRITE_ONCE(m->flag, i);		/* @w_flag */
			SHM_MP_NEXT_ROUND();
			usleep(200);
		}
	} else if (!strcmp(argv[2], "fence")) {
		while (shm_mp_now() < end) {
			i++;
			WRITE_ONCE(m->data, i);
			atomic_thread_fence(memory_order_seq_cst);
			WRITE_ONCE(m->flag, i);
			SHM_MP_NEXT_ROUND();
			usleep(200);
		}
	} else if (!strcmp(argv[2], "relacq")) {
		i = relacq((struct shm_mp_ra *)m, end);
	} else {
		return 2;
	}
	printf("rounds %ld\n", i);
	return 0;
}
