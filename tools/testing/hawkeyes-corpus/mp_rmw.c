// SPDX-License-Identifier: GPL-2.0
/*
 * The writer publishes with a seq_cst read-modify-write (lock xadd on x86,
 * ldaddal or a call to __aarch64_ldadd4_acq_rel on arm64): a full barrier,
 * so the writer's pair is ordered and there is no finding although TSan
 * reports both locations (the reader reads the flag plainly).
 */
#include <stdatomic.h>
#include "litmus.h"

int data, seen;
atomic_int flag;

static void *writer(void *arg)
{
	data = 42;		/* @data_w */
	atomic_fetch_add(&flag, 1);	/* @flag_w */
	return NULL;
}

static void *reader(void *arg)
{
	int f = *(volatile int *)&flag;	/* @flag_r */
	int d = data;		/* @data_r */

	seen = f * 100 + d;
	return NULL;
}

LITMUS_MAIN(writer, reader)
