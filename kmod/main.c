// SPDX-License-Identifier: GPL-2.0
/*
 * hawkeyes.ko: capture cross-thread accesses to selected memory of a running
 * process and stream them to userspace over generic netlink.
 *
 * Module init is a ladder, module exit its mirror image.
 */
#include <linux/module.h>

#include "netlink.h"

static int __init hk_mod_init(void)
{
	int ret;

	ret = hk_netlink_init();
	if (ret < 0)
		goto err_netlink;

	pr_info("loaded\n");
	return 0;

err_netlink:
	return ret;
}

static void __exit hk_mod_exit(void)
{
	hk_netlink_exit();
	pr_info("unloaded\n");
}

module_init(hk_mod_init);
module_exit(hk_mod_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hawkeyes: capture cross-thread memory accesses for barrier analysis");
MODULE_AUTHOR("Hawkeyes developers");
