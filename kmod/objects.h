/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live-object accounting, shown in /sys/kernel/debug/hawkeyes/objects so
 * tests can check that every session, thread, watchpoint, buffer and
 * pending task_work is gone after teardown.
 */
#ifndef _HK_OBJECTS_H
#define _HK_OBJECTS_H

#include <linux/atomic.h>

enum hk_obj {
	HK_OBJ_SESSIONS,	/* struct hk_session allocated */
	HK_OBJ_THREADS,		/* struct hk_thread allocated */
	HK_OBJ_WATCHPOINTS,	/* perf_events registered */
	HK_OBJ_BUFFERS,		/* record buffers allocated */
	HK_OBJ_BUFFER_BYTES,	/* bytes in those buffers */
	HK_OBJ_TASK_WORKS,	/* task_works queued, not yet run */
	HK_OBJ_ARMED_PAGES,	/* page mode: PTEs/PMDs armed by our last pass */
	HK_OBJ_PROCS,		/* struct hk_wproc allocated (watch) */
	HK_OBJ_MAX,
};

extern atomic_long_t hk_objects[HK_OBJ_MAX];
extern u32 hk_test_reply_delay_ms;	/* debugfs test hook, see objects.c */

static inline void hk_obj_add(enum hk_obj o, long n)
{
	atomic_long_add(n, &hk_objects[o]);
}

static inline long hk_obj_read(enum hk_obj o)
{
	return atomic_long_read(&hk_objects[o]);
}

int hk_objects_init(void);
void hk_objects_exit(void);

#endif /* _HK_OBJECTS_H */
