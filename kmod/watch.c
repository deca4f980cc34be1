// SPDX-License-Identifier: GPL-2.0
/*
 * Whole-system watch of shared memory segments (HK_CMD_WATCH).
 *
 * A watch is a session (session.c) with no target process. Its units are
 * offsets in the segments (hk_unit.seg > 0); every process that maps a
 * segment shared is one struct hk_wproc with the address at which it maps
 * each segment, and every thread of such a process is an ordinary
 * hk_thread of the session whose watchpoints sit at its process's address
 * of the unit (hk_watch_unit()). Rotation, budget, ring and notifications
 * are the session's, so all processes watch the same units at the same
 * time and their records share one sequence.
 *
 * Segments are named by (device, inode) of their file: SysV segments,
 * POSIX shm (/dev/shm is tmpfs) and memfds are all shmem files. The scan
 * walks every process's VMAs for a VM_SHARED mapping of one of those
 * files; it runs when the watch starts and every HK_WATCH_SCAN_MS from the
 * session work, so a process that maps a segment later is armed at most
 * that late, and one that unmapped it, exec'd or exited is dropped. The
 * first VMA found pins the segment's inode (and mount, so that /dev/shm
 * cannot be unmounted under a held inode): once the pin is the inode's
 * only reference and no process maps it, the segment was removed (SysV
 * IPC_RMID and last detach, shm_unlink and last unmap, last memfd
 * reference gone). When that holds for every segment the watch ends with
 * HK_END_SEGMENT_GONE.
 *
 * Page-protection mode (issue 7) would plug in at the same seam: the
 * process list and its per-segment addresses are mode-independent;
 * hk_watch_unit() and the handler's hk_watch_record() are the only places
 * that turn a unit into a watchpoint address and back.
 *
 * Notes on locking and context:
 * - The scan runs in process context with no hawkeyes lock held (the
 *   session's first scan in hk_session_attach(), later ones from the
 *   session work, which never runs twice at once), takes each candidate's
 *   mmap_lock for reading, and the session's lock only to look up, add and
 *   drop processes. hk_wseg.inode/mnt and hk_watch.next_scan_ns/scans are
 *   only touched by the scan.
 * - hk_watch.procs, nr_procs and hk_wproc.listed/seen: session lock.
 * - hk_watch.proc_xa: written under the session lock, read under RCU by
 *   the fork and exec probes (preemption off).
 * - hk_wproc.map is immutable; hk_wproc.dead is set by the exec probe and
 *   read by the handler (IRQs off) and the scan.
 * - A hk_wproc is freed by kfree_rcu() after its last reference: the
 *   list's and one per hk_thread.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <net/genetlink.h>

#include "compat.h"
#include "objects.h"
#include "session.h"
#include "watch.h"

/* ---- request ---------------------------------------------------------- */

static const struct nla_policy hk_seg_nl_policy[HK_SEG_A_MAX + 1] = {
	[HK_SEG_A_DEV_MAJOR]	= { .type = NLA_U32 },
	[HK_SEG_A_DEV_MINOR]	= { .type = NLA_U32 },
	[HK_SEG_A_INO]		= { .type = NLA_U64 },
	[HK_SEG_A_OFFSET]	= { .type = NLA_U64 },
	[HK_SEG_A_LEN]		= NLA_POLICY_MIN(NLA_U64, 1),
};

const struct nla_policy hk_watch_nl_policy[HK_A_SEGMENTS + 1] = {
	[HK_A_OPTIONS]	= { .type = NLA_NESTED },	/* parsed by netlink.c */
	[HK_A_SEGMENTS]	= NLA_POLICY_NESTED_ARRAY(hk_seg_nl_policy),
};

/*
 * hk_watch_parse - the segments of a WATCH request into @req
 *
 * Fills req->segs and, for the session's unit and status code, one region
 * per segment: its offset range. Both are the caller's to kfree().
 */
int hk_watch_parse(struct genl_info *info, struct hk_attach_req *req)
{
	struct nlattr *list = info->attrs[HK_A_SEGMENTS], *nla;
	struct nlattr *tb[HK_SEG_A_MAX + 1];
	u32 n = 0, i = 0;
	int rem, ret;

	nla_for_each_nested(nla, list, rem)
		n++;
	if (!n) {
		NL_SET_ERR_MSG_ATTR(info->extack, list, "no segment given");
		return -EINVAL;
	}
	if (n > HK_MAX_SEGMENTS) {
		NL_SET_ERR_MSG_FMT_MOD(info->extack, "%u segments, at most %u",
				       n, HK_MAX_SEGMENTS);
		return -E2BIG;
	}
	req->segs = kcalloc(n, sizeof(*req->segs), GFP_KERNEL);
	req->regions = kcalloc(n, sizeof(*req->regions), GFP_KERNEL);
	if (!req->segs || !req->regions)
		return -ENOMEM;
	nla_for_each_nested(nla, list, rem) {
		struct hk_wseg_req *g = &req->segs[i];

		ret = nla_parse_nested(tb, HK_SEG_A_MAX, nla, hk_seg_nl_policy,
				       info->extack);
		if (ret)
			return ret;
		if (!tb[HK_SEG_A_DEV_MAJOR] || !tb[HK_SEG_A_DEV_MINOR] ||
		    !tb[HK_SEG_A_INO] || !tb[HK_SEG_A_LEN]) {
			NL_SET_ERR_MSG_ATTR(info->extack, nla,
					    "segment needs device, inode and len");
			return -EINVAL;
		}
		g->major = nla_get_u32(tb[HK_SEG_A_DEV_MAJOR]);
		g->minor = nla_get_u32(tb[HK_SEG_A_DEV_MINOR]);
		g->ino = nla_get_u64(tb[HK_SEG_A_INO]);
		g->off = tb[HK_SEG_A_OFFSET] ? nla_get_u64(tb[HK_SEG_A_OFFSET]) : 0;
		g->len = nla_get_u64(tb[HK_SEG_A_LEN]);
		/* hk_record.seg_off is 32 bits */
		if (g->off + g->len < g->off || g->off + g->len > (1ULL << 32)) {
			NL_SET_ERR_MSG_FMT_MOD(info->extack,
					       "segment %u: offsets %llu+%llu past 4 GiB",
					       i + 1, g->off, g->len);
			return -EINVAL;
		}
		req->regions[i].start = g->off;
		req->regions[i].len = g->len;
		i++;
	}
	req->nr_segs = n;
	req->nr_regions = n;
	return 0;
}

/* ---- the watch's life --------------------------------------------------- */

int hk_watch_new(struct hk_session *s, struct hk_attach_req *req)
{
	struct hk_watch *w;
	u32 i;

	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return -ENOMEM;
	w->segs = kcalloc(req->nr_segs, sizeof(*w->segs), GFP_KERNEL_ACCOUNT);
	if (!w->segs) {
		kfree(w);
		return -ENOMEM;
	}
	for (i = 0; i < req->nr_segs; i++)
		w->segs[i].id = req->segs[i];
	w->nr_segs = req->nr_segs;
	INIT_LIST_HEAD(&w->procs);
	xa_init(&w->proc_xa);
	s->watch = w;
	return 0;
}

void hk_wproc_put(struct hk_wproc *p)
{
	if (!refcount_dec_and_test(&p->ref))
		return;
	hk_obj_add(HK_OBJ_PROCS, -1);
	kfree_rcu(p, rcu);
}

/*
 * Context: the session's free work (process context), nothing else can
 * reach the watch any more: its threads are gone, the session is off the
 * list the probes walk and an RCU grace period has passed.
 */
void hk_watch_free(struct hk_watch *w)
{
	struct hk_wproc *p, *tmp;
	u32 i;

	if (!w)
		return;
	list_for_each_entry_safe(p, tmp, &w->procs, node) {
		list_del(&p->node);
		hk_wproc_put(p);
	}
	xa_destroy(&w->proc_xa);
	for (i = 0; i < w->nr_segs; i++) {
		if (w->segs[i].inode)
			iput(w->segs[i].inode);
		if (w->segs[i].mnt)
			mntput(w->segs[i].mnt);
	}
	kfree(w->segs);
	kfree(w);
}

/* ---- used by the fork/exec probes and the handler ------------------------ */

/* Context: RCU read side (the fork probe). */
struct hk_wproc *hk_watch_proc_get(struct hk_session *s, pid_t tgid)
{
	struct hk_wproc *p = xa_load(&s->watch->proc_xa, tgid);

	if (!p || READ_ONCE(p->dead) || !refcount_inc_not_zero(&p->ref))
		return NULL;
	return p;
}

/* Context: the exec probe, RCU read side. The next scan drops the process. */
void hk_watch_exec(struct hk_session *s, struct task_struct *task)
{
	struct hk_wproc *p = xa_load(&s->watch->proc_xa, task->tgid);

	if (p)
		WRITE_ONCE(p->dead, true);
}

/*
 * The unit at process @p's address. A segment (or part of one) that @p
 * does not map gets address 0: mmap_min_addr keeps page 0 unmapped, so
 * that watchpoint never fires and rotation stays the same for everyone.
 */
const struct hk_unit *hk_watch_unit(const struct hk_wproc *p, const struct hk_unit *u,
				    struct hk_unit *tmp)
{
	const struct hk_wmap *m = &p->map[u->seg - 1];

	*tmp = *u;
	if (m->len && u->addr >= m->off && u->addr + u->len <= m->off + m->len)
		tmp->addr = m->va + (u->addr - m->off);
	else
		tmp->addr = 0;
	return tmp;
}

/* Context: the watchpoint handler, IRQs off. @addr: the unit's address. */
void hk_watch_record(struct hk_thread *thr, u64 addr, struct hk_record *rec)
{
	const struct hk_wproc *p = thr->proc;
	u32 k;

	rec->pid = p->tgid_ns;
	for (k = 0; k < p->nr_maps; k++) {
		const struct hk_wmap *m = &p->map[k];

		if (m->len && addr >= m->va && addr < m->va + m->len) {
			rec->seg = k + 1;
			rec->seg_off = m->off + (addr - m->va);
			rec->flags |= HK_REC_F_SEG;
			return;
		}
	}
}

/* ---- the scan ------------------------------------------------------------ */

static bool hk_wseg_match(const struct hk_wseg *g, struct inode *inode)
{
	if (g->inode)
		return g->inode == inode;
	return inode->i_ino == g->id.ino &&
	       MAJOR(inode->i_sb->s_dev) == g->id.major &&
	       MINOR(inode->i_sb->s_dev) == g->id.minor;
}

/*
 * Where @mm maps each segment shared, into @map (zeroed by the caller).
 * Adjacent VMAs of one mapping (split by mprotect()) are merged; of two
 * separate mappings of one segment only the first (lowest) is watched.
 */
static bool hk_watch_scan_mm(struct hk_watch *w, struct mm_struct *mm,
			     struct hk_wmap *map)
{
	struct vm_area_struct *vma;
	bool any = false;
	u32 k;

	mmap_read_lock(mm);
	for (vma = find_vma(mm, 0); vma; vma = find_vma(mm, vma->vm_end)) {
		struct inode *inode;

		if (!vma->vm_file || !(vma->vm_flags & VM_SHARED))
			continue;
		inode = file_inode(vma->vm_file);
		for (k = 0; k < w->nr_segs; k++) {
			struct hk_wseg *g = &w->segs[k];
			u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
			u64 len = vma->vm_end - vma->vm_start;
			struct hk_wmap *m = &map[k];

			if (!hk_wseg_match(g, inode))
				continue;
			if (!m->len) {
				m->va = vma->vm_start;
				m->off = off;
				m->len = len;
				any = true;
			} else if (m->va + m->len == vma->vm_start &&
				   m->off + m->len == off) {
				m->len += len;
			}
			if (!g->inode) {
				ihold(inode);
				g->inode = inode;
				g->mnt = mntget(vma->vm_file->f_path.mnt);
			}
		}
	}
	mmap_read_unlock(mm);
	return any;
}

/* Every user process now, referenced; NULL on allocation failure. */
static struct task_struct **hk_watch_tasks(u32 *nr)
{
	struct task_struct **v, *p;
	u32 cap = 256, n;

	for (;;) {
		bool full = false;

		v = kvcalloc(cap, sizeof(*v), GFP_KERNEL);
		if (!v)
			return NULL;
		n = 0;
		rcu_read_lock();
		for_each_process(p) {
			if (p->flags & (PF_KTHREAD | PF_EXITING))
				continue;
			if (n == cap) {
				full = true;
				break;
			}
			get_task_struct(p);
			v[n++] = p;
		}
		rcu_read_unlock();
		if (!full) {
			*nr = n;
			return v;
		}
		while (n)
			put_task_struct(v[--n]);
		kvfree(v);
		cap *= 2;
	}
}

/* @task maps the segments at @map (NULL: not at all): keep, add or drop it. */
static void hk_watch_update(struct hk_session *s, struct task_struct *task,
			    const struct hk_wmap *map)
{
	struct hk_watch *w = s->watch;
	size_t bytes = w->nr_segs * sizeof(*map);
	struct hk_wproc *p;

	/* Most processes map nothing of ours and never did: no lock. */
	if (!map && !xa_load(&w->proc_xa, task->tgid))
		return;
	mutex_lock(&s->lock);
	p = xa_load(&w->proc_xa, task->tgid);
	if (p && map && !READ_ONCE(p->dead) && !memcmp(p->map, map, bytes)) {
		p->seen = w->scans;
		mutex_unlock(&s->lock);
		return;
	}
	if (p)
		refcount_inc(&p->ref);
	mutex_unlock(&s->lock);
	if (p) {
		/* Gone, exec'd or mapped elsewhere: a new process from here. */
		hk_session_drop_proc(s, p);
		hk_wproc_put(p);
	}
	if (!map)
		return;

	p = kzalloc(struct_size(p, map, w->nr_segs), GFP_KERNEL_ACCOUNT);
	if (!p) {
		atomic_inc(&s->reg_fails);
		return;
	}
	hk_obj_add(HK_OBJ_PROCS, 1);
	refcount_set(&p->ref, 1);	/* the list's */
	INIT_LIST_HEAD(&p->node);
	p->tgid = task->tgid;
	p->tgid_ns = task_tgid_nr_ns(task, s->pid_ns);
	p->nr_maps = w->nr_segs;
	memcpy(p->map, map, bytes);

	mutex_lock(&s->lock);
	if (s->state != HK_S_LIVE ||
	    xa_insert(&w->proc_xa, p->tgid, p, GFP_KERNEL)) {
		mutex_unlock(&s->lock);
		hk_wproc_put(p);
		return;
	}
	list_add_tail(&p->node, &w->procs);
	p->listed = true;
	p->seen = w->scans;
	w->nr_procs++;
	mutex_unlock(&s->lock);
	/* Threads forked from now on come through the fork probe. */
	hk_session_arm_threads(s, task, p);
}

/* Drop the processes this scan did not find (exited). */
static void hk_watch_drop_unseen(struct hk_session *s)
{
	struct hk_watch *w = s->watch;
	struct hk_wproc *p;

	for (;;) {
		bool found = false;

		mutex_lock(&s->lock);
		list_for_each_entry(p, &w->procs, node) {
			if (p->seen != w->scans) {
				refcount_inc(&p->ref);
				found = true;
				break;
			}
		}
		mutex_unlock(&s->lock);
		if (!found)
			return;
		hk_session_drop_proc(s, p);
		hk_wproc_put(p);
	}
}

/* Every segment removed and mapped by nobody? See the top comment. */
static bool hk_watch_gone(struct hk_session *s)
{
	struct hk_watch *w = s->watch;
	u32 k;

	if (READ_ONCE(w->nr_procs))
		return false;
	for (k = 0; k < w->nr_segs; k++)
		if (!w->segs[k].inode || atomic_read(&w->segs[k].inode->i_count) > 1)
			return false;
	return true;
}

/**
 * hk_watch_scan - find the processes that map the segments, arm new ones
 * Context: process, may sleep; no hawkeyes lock held; never twice at once
 * for one session (the attach, then only the session work).
 */
void hk_watch_scan(struct hk_session *s)
{
	struct hk_watch *w = s->watch;
	struct task_struct **tasks;
	struct hk_wmap *map;
	u32 n = 0, i;

	map = kcalloc(w->nr_segs, sizeof(*map), GFP_KERNEL);
	tasks = hk_watch_tasks(&n);
	if (!map || !tasks) {
		atomic_inc(&s->reg_fails);
		goto out;
	}
	w->scans++;
	for (i = 0; i < n && READ_ONCE(s->state) == HK_S_LIVE; i++) {
		struct mm_struct *mm = get_task_mm(tasks[i]);
		bool any = false;

		if (mm) {
			memset(map, 0, w->nr_segs * sizeof(*map));
			any = hk_watch_scan_mm(w, mm, map);
			mmput(mm);
		}
		hk_watch_update(s, tasks[i], any ? map : NULL);
		cond_resched();
	}
	if (READ_ONCE(s->state) == HK_S_LIVE) {
		hk_watch_drop_unseen(s);
		if (hk_watch_gone(s))
			hk_session_end_async(s, HK_END_SEGMENT_GONE);
	}
out:
	if (tasks) {
		for (i = 0; i < n; i++)
			put_task_struct(tasks[i]);
		kvfree(tasks);
	}
	kfree(map);
}

/* From the session work, every tick: scan when due. */
void hk_watch_tick(struct hk_session *s)
{
	u64 now = ktime_get_ns();

	if (now < s->watch->next_scan_ns)
		return;
	s->watch->next_scan_ns = now + HK_WATCH_SCAN_MS * NSEC_PER_MSEC;
	hk_watch_scan(s);
}
