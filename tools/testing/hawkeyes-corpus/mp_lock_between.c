// SPDX-License-Identifier: GPL-2.0
/*
 * A lock/unlock between the two stores and between the two loads: the
 * mutex calls are full barriers, so neither pair can reorder, although
 * TSan reports both locations (nothing orders the threads). No finding.
 */
#include "litmus.h"

int data, flag, seen;
pthread_mutex_t lock_w = PTHREAD_MUTEX_INITIALIZER, lock_r = PTHREAD_MUTEX_INITIALIZER;

static void *writer(void *arg)
{
	data = 42;		/* @data_w */
	pthread_mutex_lock(&lock_w);
	pthread_mutex_unlock(&lock_w);
	flag = 1;		/* @flag_w */
	return NULL;
}

static void *reader(void *arg)
{
	int f = flag;		/* @flag_r */
	pthread_mutex_lock(&lock_r);
	pthread_mutex_unlock(&lock_r);
	int d = data;		/* @data_r */

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
