// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "mf_shared.h"

void *mf_reader(void *arg)
{
	int f = mf_flag;	/* @mf_flag_r */
	int d = mf_data;	/* @mf_data_r */

	mf_seen = f * 100 + d;
	return NULL;
}
