// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include "mf_shared.h"

void *mf_writer(void *arg)
{
	mf_data = 7;		/* @mf_data_w */
	mf_flag = 1;		/* @mf_flag_w */
	return NULL;
}
