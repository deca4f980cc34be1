// SPDX-License-Identifier: GPL-2.0
/* MP with both pairs inside one mutex: ordered by happens-before, no finding. */
#include "litmus.h"

int data, flag, seen;
pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *writer(void *arg)
{
	pthread_mutex_lock(&lock);
	data = 42;		/* @data_w */
	flag = 1;		/* @flag_w */
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *reader(void *arg)
{
	pthread_mutex_lock(&lock);
	int f = flag;		/* @flag_r */
	int d = data;		/* @data_r */
	pthread_mutex_unlock(&lock);

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
