// SPDX-License-Identifier: GPL-2.0
/*
 * Who may attach: exactly who may ptrace-attach the target,
 * ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS), so uid/gid
 * checks, dumpability, CAP_SYS_PTRACE in the target's user namespace and
 * the LSM hooks (Yama's ptrace_scope) all apply.
 *
 * ptrace_may_access() is not exported on the kernels we support (Debian
 * 6.1 and 6.12). Rather than re-implement it without the LSM hook, its
 * address is looked up once at init through a kprobe registration (which
 * resolves symbols by name) and the probe is removed again at once. If
 * that fails, the module falls back to the strictest rule it can check
 * itself: CAP_SYS_PTRACE in the initial user namespace.
 *
 * No locking: the pointer is written once in module init.
 */
#include <linux/capability.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <linux/sched.h>

#include "rights.h"

typedef bool (*hk_ptrace_may_access_t)(struct task_struct *task,
				       unsigned int mode);

static hk_ptrace_may_access_t hk_ptrace_may_access __ro_after_init;

int __init hk_rights_init(void)
{
#ifdef CONFIG_KPROBES
	struct kprobe kp = { .symbol_name = "ptrace_may_access" };

	if (!register_kprobe(&kp)) {
		hk_ptrace_may_access = (hk_ptrace_may_access_t)kp.addr;
		unregister_kprobe(&kp);
	}
#endif
	if (!hk_ptrace_may_access)
		pr_warn("ptrace_may_access not found: attach needs CAP_SYS_PTRACE\n");
	return 0;
}

/**
 * hk_may_attach - may current attach to @task?
 * @task: the target's thread-group leader
 * Context: process, the requester's (genl doit); may sleep.
 */
bool hk_may_attach(struct task_struct *task)
{
	if (hk_ptrace_may_access)
		return hk_ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS);
	return capable(CAP_SYS_PTRACE);
}

const char *hk_rights_mode(void)
{
	return hk_ptrace_may_access ? "ptrace" : "cap_sys_ptrace";
}
