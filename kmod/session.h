/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _HK_SESSION_H
#define _HK_SESSION_H

#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/refcount.h>
#include <linux/task_work.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "ring.h"
#include "uapi/hawkeyes.h"

struct hk_pgprot;
struct perf_event;
struct pid_namespace;
struct hk_watch;
struct hk_wproc;
struct hk_wseg_req;

/*
 * One naturally aligned watchpoint-sized piece of a region. In a watch
 * (@seg > 0) @addr is the offset in segment @seg; each process has the
 * unit at its own address (watch.c).
 */
struct hk_unit {
	u64 addr;
	u32 len;
	u32 seg;
};

struct hk_region {
	u64 start;
	u64 len;
};

/* What ATTACH asked for, after defaults and checks. */
struct hk_opts {
	u32 access;		/* enum hk_access */
	u32 rotate_ms;		/* 0: no rotation */
	u32 budget;		/* hits per second */
	u32 buffer;		/* records */
	u32 slots;		/* watchpoints per thread */
	u32 page_budget;	/* page mode: faults per second */
};

enum hk_session_state {
	HK_S_LIVE,		/* capturing */
	HK_S_ENDING,		/* teardown started, handler ignores hits */
};

/**
 * struct hk_session - one attach: a target process and the regions watched
 *
 * Immutable after hk_session_attach() returns: everything above @lock,
 * except the fields marked "ADD": HK_CMD_ADD_REGIONS changes them with
 * @lock held, so read them under @lock (the watchpoint handler reads none
 * of them). See session.c for the locking rules.
 */
struct hk_session {
	struct list_head node;		/* hk_sessions (RCU), hk_sessions_lock */
	struct kref ref;
	struct rcu_work free_rwork;

	u32 id;
	pid_t tgid;			/* target, init pid namespace */
	pid_t tgid_ns;			/* target, attacher's pid namespace */
	struct pid_namespace *pid_ns;	/* attacher's pid namespace */
	struct net *net;		/* attaching socket's netns */
	u32 portid;			/* attaching socket */
	kuid_t owner;			/* attacher's euid */
	u32 mode;			/* enum hk_mode */
	struct hk_pgprot *pg;		/* page mode state, or NULL */
	struct hk_opts opts;		/* ADD: opts.rotate_ms */
	u32 want_rotate_ms;		/* rotation asked at attach, for ADD */
	struct hk_region *regions;	/* ADD */
	u32 nr_regions;			/* ADD */
	u64 region_bytes;		/* ADD */
	struct hk_unit *units;		/* ADD */
	u32 nr_units;			/* ADD */
	u32 slots;			/* min(opts.slots, nr_units); ADD */
	u32 budget_per_tick;
	u32 rotate_ticks;		/* 0: no rotation; ADD */
	u64 start_ns;

	struct mutex lock;
	/* Protected by @lock; read locklessly (READ_ONCE) by probes/handler. */
	enum hk_session_state state;
	u32 end_reason;
	struct list_head threads;	/* hk_thread.node, @lock */
	struct xarray thread_xa;	/* tid (init ns) -> hk_thread; RCU */
	u32 window;			/* first unit armed, @lock */
	u32 nr_threads;			/* @lock */
	u32 nr_wp;			/* @lock */
	u64 next_rotate_ns;		/* next rotation due, @lock */
	u32 covered_units;		/* units armed at least once, @lock */
	u32 cover_base;			/* units covered before cover_rot, @lock */
	u64 cover_rot;			/* rotations when the window last jumped */
	u64 coverage_bytes;		/* their bytes, @lock */
	u64 rotations;			/* @lock */
	u32 reenable_seq;		/* first slot to re-enable, @lock */

	atomic_t tick_hits;		/* budget: hits in this tick */
	atomic_t reg_fails;
	atomic64_t hits;
	atomic64_t throttled;
	atomic64_t disables;

	struct hk_ring ring;
	/* Owned by whoever runs the drain: @work, or the end path after it. */
	struct hk_record *staged;
	u32 nr_staged;
	u64 delivered;

	struct hrtimer timer;		/* tick: budget reset, queues @work */
	struct work_struct work;	/* drain, rotation, re-enable */
	struct work_struct end_work;	/* deferred end, reason @end_req */
	struct work_struct finish_work;	/* second half of DETACH */
	atomic_t end_req;
	struct completion done;		/* end path finished */
	bool quiet;			/* failed attach: no END message */
	struct hk_watch *watch;		/* WATCH session (tgid 0), else NULL */
};

/**
 * struct hk_thread - one thread of a target with watchpoints
 *
 * @ref: the session's thread list holds one reference while @listed; each
 *	queued task_work holds one.
 */
struct hk_thread {
	struct hk_session *s;		/* holds a session reference */
	struct task_struct *task;	/* holds a task reference */
	struct hk_wproc *proc;		/* watch: its process, holds a reference */
	pid_t tid;			/* init pid namespace */
	pid_t tid_ns;			/* attacher's pid namespace */
	refcount_t ref;
	unsigned long flags;		/* HK_THR_* bits, atomic */
	/* Protected by s->lock. */
	struct list_head node;
	bool listed;
	bool disabled;			/* watchpoints disabled by budget */
	struct perf_event *bp[HK_MAX_SLOTS];

	struct callback_head tw_reg;	/* new thread: register */
	struct callback_head tw_exit;	/* exiting thread: unregister */
	struct callback_head tw_dis;	/* over budget: disable */
	struct rcu_head rcu;
};

enum {
	HK_THR_DIS_PENDING,	/* tw_dis queued or watchpoints disabled */
	HK_THR_EXIT_QUEUED,	/* tw_exit queued */
};

/* How long ending a session waits for a full client socket. */
#define HK_FINISH_MS	2000

struct hk_attach_req {
	u32 pid;
	u32 mode;
	struct hk_opts opts;
	struct hk_region *regions;	/* owned by the caller */
	u32 nr_regions;
	u32 portid;
	struct net *net;
	struct hk_wseg_req *segs;	/* WATCH: owned by the caller, else NULL */
	u32 nr_segs;
};

struct hk_session_stats {
	u32 threads, nr_wp, reg_fails, rotate_ms;
	u32 pages, armed;		/* page mode */
	u64 arms, passes, uaccess;	/* page mode */
	u64 hits, delivered, lost, throttled, rotations, coverage, disables;
	u64 elapsed_ns;
};

/* Module parameters (limits), read at attach. */
extern unsigned int hk_max_sessions;
extern unsigned int hk_max_regions;
extern unsigned int hk_max_region_bytes;
extern unsigned int hk_max_buffer_kb;

int hk_session_attach(struct hk_attach_req *req, struct netlink_ext_ack *extack,
		      u32 *id);
int hk_session_detach(u32 id, struct netlink_ext_ack *extack);
int hk_session_add_regions(u32 id, struct hk_region *regions, u32 nr,
			   struct netlink_ext_ack *extack);
struct hk_session *hk_session_get_by_id(u32 id);
struct hk_session *hk_session_get_next(u32 after);
bool hk_session_visible(struct hk_session *s);
void hk_session_put(struct hk_session *s);
void hk_session_stats(struct hk_session *s, struct hk_session_stats *st);
u32 hk_session_count(void);
void hk_thread_throttle(struct hk_thread *thr);
void hk_session_end_async(struct hk_session *s, u32 reason);
int hk_session_arm_threads(struct hk_session *s, struct task_struct *task,
			   struct hk_wproc *proc);
void hk_session_drop_proc(struct hk_session *s, struct hk_wproc *proc);

int hk_session_init(void);
void hk_session_shutdown(void);	/* end every session, refuse new ones */
void hk_session_exit(void);

#endif /* _HK_SESSION_H */
