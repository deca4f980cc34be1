// SPDX-License-Identifier: GPL-2.0
/*
 * Live-object accounting and its debugfs file.
 *
 * Notes on locking: the counters are atomics, updated wherever an object
 * is created or destroyed (any context, including the watchpoint handler
 * path); the debugfs read takes no lock and shows a snapshot.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "objects.h"

atomic_long_t hk_objects[HK_OBJ_MAX];

static const char *const hk_obj_names[HK_OBJ_MAX] = {
	[HK_OBJ_SESSIONS]	= "sessions",
	[HK_OBJ_THREADS]	= "threads",
	[HK_OBJ_WATCHPOINTS]	= "watchpoints",
	[HK_OBJ_BUFFERS]	= "buffers",
	[HK_OBJ_BUFFER_BYTES]	= "buffer_bytes",
	[HK_OBJ_TASK_WORKS]	= "task_works",
	[HK_OBJ_ARMED_PAGES]	= "armed_pages",
	[HK_OBJ_PROCS]		= "procs",
};

static struct dentry *hk_debugfs_dir;

/*
 * Test hook, debugfs attach_reply_delay_ms (root only, 0 = off, at most
 * 5000 used): sleep that long between arming a session and sending the
 * ATTACH reply, so that a selftest can have the session end, and END go
 * out, before the reply (a target that exits at once does that by chance).
 */
u32 hk_test_reply_delay_ms;

static int hk_objects_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < HK_OBJ_MAX; i++)
		seq_printf(m, "%s %ld\n", hk_obj_names[i], hk_obj_read(i));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hk_objects);

int __init hk_objects_init(void)
{
	/* debugfs is optional: without it the module works, tests skip. */
	hk_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("objects", 0400, hk_debugfs_dir, NULL,
			    &hk_objects_fops);
	debugfs_create_u32("attach_reply_delay_ms", 0600, hk_debugfs_dir,
			   &hk_test_reply_delay_ms);
	return 0;
}

void hk_objects_exit(void)
{
	debugfs_remove_recursive(hk_debugfs_dir);
}
