// SPDX-License-Identifier: GPL-2.0
/*
 * hawkeyes.ko: capture cross-thread accesses to selected memory of a running
 * process and stream them to userspace over generic netlink.
 *
 * Module init is a ladder, module exit its mirror image, with one twist
 * measured in Documentation/hawkeyes/capture.rst: sessions are ended while
 * the genl family is still registered (END must reach the clients), and
 * the tracepoint probes go after the family, followed by the wait for
 * task_works still queued on target threads.
 */
#include <linux/module.h>

#include "hwbp_arch.h"
#include "netlink.h"
#include "objects.h"
#include "pgprot.h"
#include "rights.h"
#include "session.h"

static int __init hk_mod_init(void)
{
	int ret;

	ret = hk_objects_init();
	if (ret < 0)
		goto err_objects;
	ret = hk_rights_init();
	if (ret < 0)
		goto err_rights;
	ret = hk_arch_init();
	if (ret < 0)
		goto err_arch;
	ret = hk_pgprot_init();
	if (ret < 0)
		goto err_pgprot;
	ret = hk_session_init();
	if (ret < 0)
		goto err_session;
	ret = hk_netlink_init();
	if (ret < 0)
		goto err_netlink;

	pr_info("loaded (attach rights: %s)\n", hk_rights_mode());
	return 0;

err_netlink:
	hk_session_shutdown();
	hk_session_exit();
err_session:
	hk_pgprot_exit();
err_pgprot:
	hk_arch_exit();
err_arch:
err_rights:
	hk_objects_exit();
err_objects:
	return ret;
}

static void __exit hk_mod_exit(void)
{
	hk_session_shutdown();
	hk_netlink_exit();
	hk_session_exit();
	hk_pgprot_exit();
	hk_arch_exit();
	hk_objects_exit();
	pr_info("unloaded\n");
}

module_init(hk_mod_init);
module_exit(hk_mod_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hawkeyes: capture cross-thread memory accesses for barrier analysis");
MODULE_AUTHOR("Hawkeyes developers");
