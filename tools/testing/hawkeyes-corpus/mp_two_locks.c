// SPDX-License-Identifier: GPL-2.0
/*
 * Each side inside its own mutex: two different locks order nothing
 * between the threads, TSan reports both locations, and inside each
 * critical section the pair can still reorder on Arm: MP.
 */
#include "litmus.h"

int data, flag, seen;
pthread_mutex_t lock_w = PTHREAD_MUTEX_INITIALIZER, lock_r = PTHREAD_MUTEX_INITIALIZER;

static void *writer(void *arg)
{
	pthread_mutex_lock(&lock_w);
	data = 42;		/* @data_w */
	flag = 1;		/* @flag_w */
	pthread_mutex_unlock(&lock_w);
	return NULL;
}

static void *reader(void *arg)
{
	pthread_mutex_lock(&lock_r);
	int f = flag;		/* @flag_r */
	int d = data;		/* @data_r */
	pthread_mutex_unlock(&lock_r);

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
