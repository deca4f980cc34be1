/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whole-system watch of shared memory segments (HK_CMD_WATCH): a session
 * without a target process whose threads are those of every process
 * mapping one of the segments. See watch.c.
 */
#ifndef _HK_WATCH_H
#define _HK_WATCH_H

#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <net/netlink.h>

#include "uapi/hawkeyes.h"

struct genl_info;
struct hk_attach_req;
struct hk_record;
struct hk_session;
struct hk_thread;
struct hk_unit;
struct inode;
struct vfsmount;

/* A segment as WATCH names it (from the request). */
struct hk_wseg_req {
	u32 major, minor;
	u64 ino;
	u64 off, len;
};

/* A segment of a watch. */
struct hk_wseg {
	struct hk_wseg_req id;
	/* First seen mapped: pinned so that its removal can be noticed. */
	struct inode *inode;		/* ihold(), scan only */
	struct vfsmount *mnt;		/* mntget(): no umount under us */
};

/* Where one process maps one segment: offsets [off, off + len) at va. */
struct hk_wmap {
	u64 va;
	u64 off;
	u64 len;			/* 0: not mapped */
};

/**
 * struct hk_wproc - one process of a watch
 *
 * Immutable after creation but for @dead and @listed: a process that maps
 * a segment elsewhere later is dropped and added again as a new one.
 * Referenced by the watch's list while @listed and by each of its
 * hk_threads; freed after an RCU grace period (the fork probe and the
 * watchpoint handler read it under RCU or with IRQs off).
 */
struct hk_wproc {
	refcount_t ref;
	struct rcu_head rcu;
	struct list_head node;		/* hk_watch.procs, session lock */
	bool listed;			/* session lock */
	bool dead;			/* exec'd: hits are dropped (WRITE_ONCE) */
	u64 seen;			/* scan that last found it, session lock */
	pid_t tgid;			/* init pid namespace */
	pid_t tgid_ns;			/* watcher's pid namespace */
	u32 nr_maps;
	struct hk_wmap map[];		/* one per segment */
};

struct hk_watch {
	u32 nr_segs;
	struct hk_wseg *segs;
	struct list_head procs;		/* hk_wproc.node, session lock */
	struct xarray proc_xa;		/* tgid -> hk_wproc, RCU readers */
	u32 nr_procs;			/* session lock */
	u64 next_scan_ns;		/* session work only */
	u64 scans;			/* session work only */
};

/* Rescan period: processes that map a segment later are found this late. */
#define HK_WATCH_SCAN_MS	100

extern const struct nla_policy hk_watch_nl_policy[HK_A_SEGMENTS + 1];

int hk_watch_parse(struct genl_info *info, struct hk_attach_req *req);
int hk_watch_new(struct hk_session *s, struct hk_attach_req *req);
void hk_watch_free(struct hk_watch *w);
void hk_watch_scan(struct hk_session *s);
void hk_watch_tick(struct hk_session *s);
struct hk_wproc *hk_watch_proc_get(struct hk_session *s, pid_t tgid);
void hk_wproc_put(struct hk_wproc *p);
void hk_watch_exec(struct hk_session *s, struct task_struct *p);
const struct hk_unit *hk_watch_unit(const struct hk_wproc *p, const struct hk_unit *u,
				    struct hk_unit *tmp);
void hk_watch_record(struct hk_thread *thr, u64 addr, struct hk_record *rec);

#endif /* _HK_WATCH_H */
