/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HK_RIGHTS_H
#define _HK_RIGHTS_H

#include <linux/types.h>

struct task_struct;

int hk_rights_init(void);
bool hk_may_attach(struct task_struct *task);
const char *hk_rights_mode(void);

#endif /* _HK_RIGHTS_H */
