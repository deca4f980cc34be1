/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Litmus harness: start the given thread functions together and join them.
 * Lines the expectations refer to carry a marker comment such as
 * "@data_w"; <prog>.expect names findings by those markers, never by line
 * numbers, so editing a program does not silently break its expectation.
 */
#ifndef _LITMUS_H
#define _LITMUS_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define LITMUS_FAR_APART() __asm__ volatile(".rept 2000\n\tnop\n\t.endr" ::: "memory")

static inline void litmus_run(void *(*fns[])(void *), int n)
{
	pthread_t tids[8];
	int i;

	for (i = 0; i < n; i++)
		if (pthread_create(&tids[i], NULL, fns[i], NULL)) {
			perror("pthread_create");
			exit(2);
		}
	for (i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
}

#define LITMUS_MAIN(...)						\
int main(void)								\
{									\
	void *(*fns[])(void *) = { __VA_ARGS__ };			\
									\
	litmus_run(fns, sizeof(fns) / sizeof(fns[0]));			\
	return 0;							\
}

#endif /* _LITMUS_H */
