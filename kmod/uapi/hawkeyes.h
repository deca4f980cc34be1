/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Hawkeyes generic netlink protocol: the one declaration shared by the
 * kernel module (kmod/) and the controller (ctl/). The contract is
 * described in Documentation/netlink/specs/hawkeyes.yaml and
 * Documentation/hawkeyes/netlink.rst; keep all three in step.
 *
 * Conversation in one paragraph: a client sends HK_CMD_ATTACH (pid,
 * regions, options) and gets back a session id. From then on the module
 * unicasts HK_CMD_RECORDS notifications (batches of struct hk_record) to
 * the socket that attached, and finally one HK_CMD_END notification with
 * the reason the session ended. Notifications carry nlmsg_seq 0. A session
 * ends on HK_CMD_DETACH, when the attaching socket closes, when the target
 * exits or execs, and on module unload. HK_CMD_GET_STATUS reports the
 * module, HK_CMD_GET_SESSION one session (doit) or all (dump).
 *
 * All integers are host byte order. u64 attributes are padded with the
 * set's *_PAD attribute (nla_put_u64_64bit()).
 */
#ifndef _UAPI_HAWKEYES_H
#define _UAPI_HAWKEYES_H

#include <linux/types.h>

#define HAWKEYES_GENL_NAME	"hawkeyes"
#define HAWKEYES_GENL_VERSION	1

/**
 * enum hk_cmd - generic netlink commands of the "hawkeyes" family
 * @HK_CMD_GET_STATUS: doit; request: no attributes. Reply: %HK_A_VERSION,
 *	%HK_A_SESSIONS, %HK_A_LIMITS.
 * @HK_CMD_ATTACH: doit; request: %HK_A_PID, %HK_A_REGIONS, optional
 *	%HK_A_MODE (default %HK_MODE_HWBP) and %HK_A_OPTIONS. Needs the right
 *	to ptrace the target. Reply: %HK_A_SESSION_ID and %HK_A_SESSION
 *	(status with the effective options). The requesting socket receives
 *	the session's notifications.
 * @HK_CMD_DETACH: doit; request: %HK_A_SESSION_ID. Ends the session (the
 *	owner's socket gets %HK_CMD_END with %HK_END_DETACH). Caller must be
 *	the session's owner uid or have CAP_SYS_ADMIN.
 * @HK_CMD_GET_SESSION: doit with %HK_A_SESSION_ID, or dump of every
 *	session the caller may see (own uid, or all with CAP_SYS_ADMIN).
 *	Reply/each dump message: %HK_A_SESSION_ID and %HK_A_SESSION.
 * @HK_CMD_RECORDS: notification (kernel to the attaching socket only):
 *	%HK_A_SESSION_ID, %HK_A_LOST, %HK_A_THROTTLED, %HK_A_RECORDS.
 * @HK_CMD_END: notification (kernel to the attaching socket only), the
 *	last message of a session: %HK_A_SESSION_ID, %HK_A_END_REASON,
 *	%HK_A_LOST, %HK_A_THROTTLED and the final %HK_A_SESSION.
 * @HK_CMD_WATCH: doit; request: %HK_A_SEGMENTS, optional %HK_A_OPTIONS.
 *	Needs CAP_SYS_ADMIN. Starts a whole-system session (a "watch") on
 *	shared memory segments: every thread of every process that maps one
 *	of them, now or later, gets the watchpoints; records carry the
 *	segment and the offset in it (%HK_REC_F_SEG). Reply, notifications
 *	and ending as for %HK_CMD_ATTACH; a watch also ends with
 *	%HK_END_SEGMENT_GONE, and a process that exits, execs or unmaps only
 *	leaves the watch.
 * @HK_CMD_ADD_REGIONS: doit; request: %HK_A_SESSION_ID, %HK_A_REGIONS.
 *	Watch more regions of a live session's target (a mapping that
 *	appeared after attach). Same rules as ATTACH (mapped now, the
 *	limits count the session's old and new regions together, no
 *	rotation means they must fit the watchpoints) and no overlap with a
 *	region the session has. When the session rotates, the new units are
 *	armed at once. Caller: the owner uid or CAP_SYS_ADMIN, and still
 *	allowed to ptrace the target. Not for a WATCH session nor page mode
 *	(EOPNOTSUPP). Reply: %HK_A_SESSION_ID, %HK_A_SESSION.
 */
enum hk_cmd {
	HK_CMD_UNSPEC,
	HK_CMD_GET_STATUS,
	HK_CMD_ATTACH,
	HK_CMD_DETACH,
	HK_CMD_GET_SESSION,
	HK_CMD_RECORDS,
	HK_CMD_END,
	HK_CMD_WATCH,
	HK_CMD_ADD_REGIONS,

	__HK_CMD_MAX,
};
#define HK_CMD_MAX (__HK_CMD_MAX - 1)

/**
 * enum hk_attr - top-level attributes
 * @HK_A_VERSION: u32, protocol version of the module (%HAWKEYES_GENL_VERSION)
 * @HK_A_SESSIONS: u32, number of live sessions (module-wide)
 * @HK_A_PID: u32, target process id (a tid selects its whole process), in
 *	the pid namespace of the requesting process
 * @HK_A_MODE: u32, enum hk_mode
 * @HK_A_REGIONS: nest, a list of %HK_A_REGIONS_REGION nests (attribute type
 *	is ignored by the module; use 1), each with enum hk_region_attr
 * @HK_A_OPTIONS: nest of enum hk_opt_attr
 * @HK_A_SESSION_ID: u32, session id (> 0)
 * @HK_A_SESSION: nest of enum hk_session_attr (session status)
 * @HK_A_RECORDS: binary, an array of struct hk_record; length is a multiple
 *	of sizeof(struct hk_record), at most %HK_RECORDS_PER_MSG records
 * @HK_A_LOST: u64, records lost so far in this session (cumulative; buffer
 *	full or not deliverable). Equals the gaps in hk_record.seq.
 * @HK_A_THROTTLED: u64, hits dropped by the hit budget so far (cumulative;
 *	these never got a sequence number)
 * @HK_A_END_REASON: u32, enum hk_end_reason
 * @HK_A_LIMITS: nest of enum hk_limit_attr (module parameters in force)
 * @HK_A_PAD: padding for u64 attributes
 * @HK_A_SEGMENTS: nest, a list of %HK_A_SEGMENTS_SEGMENT nests, each with
 *	enum hk_seg_attr (%HK_CMD_WATCH); at most %HK_MAX_SEGMENTS
 */
enum hk_attr {
	HK_A_UNSPEC,
	HK_A_VERSION,
	HK_A_SESSIONS,
	HK_A_PID,
	HK_A_MODE,
	HK_A_REGIONS,
	HK_A_OPTIONS,
	HK_A_SESSION_ID,
	HK_A_SESSION,
	HK_A_RECORDS,
	HK_A_LOST,
	HK_A_THROTTLED,
	HK_A_END_REASON,
	HK_A_LIMITS,
	HK_A_PAD,
	HK_A_SEGMENTS,

	__HK_A_MAX,
};
#define HK_A_MAX (__HK_A_MAX - 1)

/* Type of the nests inside %HK_A_REGIONS (and %HK_SESSION_A_REGIONS). */
#define HK_A_REGIONS_REGION	1

/**
 * enum hk_region_attr - one region of target memory, inside a regions nest
 * @HK_REGION_A_START: u64, first byte (target virtual address)
 * @HK_REGION_A_LEN: u64, length in bytes, > 0. Any alignment is accepted;
 *	the module covers the region exactly with naturally aligned
 *	1/2/4/8-byte watchpoints.
 * @HK_REGION_A_PAD: padding
 */
enum hk_region_attr {
	HK_REGION_A_UNSPEC,
	HK_REGION_A_START,
	HK_REGION_A_LEN,
	HK_REGION_A_PAD,

	__HK_REGION_A_MAX,
};
#define HK_REGION_A_MAX (__HK_REGION_A_MAX - 1)

/* Type of the nests inside %HK_A_SEGMENTS. */
#define HK_A_SEGMENTS_SEGMENT	1
#define HK_MAX_SEGMENTS		64

/**
 * enum hk_seg_attr - one shared memory segment, inside %HK_A_SEGMENTS
 * @HK_SEG_A_DEV_MAJOR: u32, major of the device of the segment's file
 *	(st_dev of /dev/shm/NAME; SysV segments and memfds live on the
 *	kernel's internal shm mount, which a memfd's fstat() shows)
 * @HK_SEG_A_DEV_MINOR: u32, minor of that device
 * @HK_SEG_A_INO: u64, inode number (st_ino; a SysV segment's is its shmid)
 * @HK_SEG_A_OFFSET: u64, first byte to watch, offset in the segment
 * @HK_SEG_A_LEN: u64, bytes to watch, > 0; offset + len <= 4 GiB
 * @HK_SEG_A_PAD: padding
 *
 * Records of a segment carry its index in the list, from 1, in
 * hk_record.seg and the offset of the unit in hk_record.seg_off.
 */
enum hk_seg_attr {
	HK_SEG_A_UNSPEC,
	HK_SEG_A_DEV_MAJOR,
	HK_SEG_A_DEV_MINOR,
	HK_SEG_A_INO,
	HK_SEG_A_OFFSET,
	HK_SEG_A_LEN,
	HK_SEG_A_PAD,

	__HK_SEG_A_MAX,
};
#define HK_SEG_A_MAX (__HK_SEG_A_MAX - 1)

/**
 * enum hk_mode - capture mechanism
 * @HK_MODE_HWBP: hardware watchpoints on every thread of the target
 * @HK_MODE_PGPROT: page protection: the pages covering the regions are
 *	armed so the target's next access to each faults once; every fault
 *	inside a region becomes a record with the exact ip and data address
 *	(%HK_REC_F_PAGE). Pages are re-armed every %HK_TICK_MS within the
 *	fault budget (%HK_OPT_A_PAGE_BUDGET). x86-64 only: refused with
 *	EOPNOTSUPP elsewhere.
 */
enum hk_mode {
	HK_MODE_UNSPEC,
	HK_MODE_HWBP,
	HK_MODE_PGPROT,

	__HK_MODE_MAX,
};
#define HK_MODE_MAX (__HK_MODE_MAX - 1)

/**
 * enum hk_access - which accesses arm a watchpoint
 * @HK_ACCESS_W: writes only
 * @HK_ACCESS_RW: reads and writes (x86 cannot tell which one hit; records
 *	get %HK_KIND_RW and the analyzer decodes the instruction)
 */
enum hk_access {
	HK_ACCESS_UNSPEC,
	HK_ACCESS_W,
	HK_ACCESS_RW,

	__HK_ACCESS_MAX,
};
#define HK_ACCESS_MAX (__HK_ACCESS_MAX - 1)

/**
 * enum hk_opt_attr - attach options, inside %HK_A_OPTIONS; all optional
 * @HK_OPT_A_ACCESS: u32, enum hk_access (default %HK_ACCESS_W;
 *	%HK_ACCESS_RW in %HK_MODE_PGPROT, where a read fault restores the
 *	page and so hides the writes after it)
 * @HK_OPT_A_ROTATE_MS: u32, rotation period in ms, 0 = no rotation
 *	(default %HK_DEFAULT_ROTATE_MS). Rounded up to the 10 ms tick. With
 *	0 the regions must fit in the watchpoints of one thread.
 * @HK_OPT_A_BUDGET: u32, hit budget in hits per second per session
 *	(default %HK_DEFAULT_BUDGET); enforced per 10 ms tick
 * @HK_OPT_A_BUFFER: u32, per-session record buffer in records (default
 *	%HK_DEFAULT_BUFFER); bounded by the module's buffer memory limit
 * @HK_OPT_A_SLOTS: u32, watchpoints per thread, 1..4 (default 4); fewer
 *	leaves debug registers for a debugger
 * @HK_OPT_A_PAGE_BUDGET: u32, page mode: faults per second the session may
 *	cause, 1..%HK_MAX_BUDGET (default: module parameter page_budget,
 *	%HK_DEFAULT_PAGE_BUDGET). Enforced as pages re-armed per tick; pages
 *	left unarmed by it are counted in %HK_A_THROTTLED.
 */
enum hk_opt_attr {
	HK_OPT_A_UNSPEC,
	HK_OPT_A_ACCESS,
	HK_OPT_A_ROTATE_MS,
	HK_OPT_A_BUDGET,
	HK_OPT_A_BUFFER,
	HK_OPT_A_SLOTS,
	HK_OPT_A_PAGE_BUDGET,

	__HK_OPT_A_MAX,
};
#define HK_OPT_A_MAX (__HK_OPT_A_MAX - 1)

#define HK_TICK_MS		10
#define HK_DEFAULT_ROTATE_MS	50
#define HK_MAX_ROTATE_MS	60000
#define HK_DEFAULT_BUDGET	10000
#define HK_MAX_BUDGET		10000000
#define HK_DEFAULT_BUFFER	4096
#define HK_MIN_BUFFER		16
#define HK_MAX_SLOTS		4
#define HK_RECORDS_PER_MSG	128
#define HK_DEFAULT_PAGE_BUDGET	2000

/**
 * enum hk_session_attr - session status, inside %HK_A_SESSION
 * @HK_SESSION_A_ID: u32, session id
 * @HK_SESSION_A_PID: u32, target tgid (in the initial pid namespace's view
 *	of the attaching process' namespace at attach time)
 * @HK_SESSION_A_MODE: u32, enum hk_mode
 * @HK_SESSION_A_ACCESS: u32, enum hk_access
 * @HK_SESSION_A_ROTATE_MS: u32, effective rotation period (0 = none)
 * @HK_SESSION_A_BUDGET: u32, effective budget, hits/s
 * @HK_SESSION_A_BUFFER: u32, buffer capacity in records
 * @HK_SESSION_A_SLOTS: u32, watchpoints armed per thread
 * @HK_SESSION_A_REGIONS: nest of %HK_A_REGIONS_REGION nests (as in ATTACH)
 * @HK_SESSION_A_REGION_BYTES: u64, total bytes of all regions
 * @HK_SESSION_A_UNITS: u32, watchpoint units covering the regions
 * @HK_SESSION_A_THREADS: u32, threads with watchpoints now
 * @HK_SESSION_A_WATCHPOINTS: u32, watchpoints registered now (all threads)
 * @HK_SESSION_A_HITS: u64, watchpoint hits seen by the handler
 * @HK_SESSION_A_RECORDS: u64, records delivered to the socket
 * @HK_SESSION_A_LOST: u64, records lost (see %HK_A_LOST)
 * @HK_SESSION_A_THROTTLED: u64, hits dropped by the budget
 * @HK_SESSION_A_ROTATIONS: u64, rotation steps done
 * @HK_SESSION_A_COVERAGE: u64, bytes of the regions armed at least once
 * @HK_SESSION_A_REG_FAILS: u32, watchpoint registrations that failed
 *	(e.g. debug registers taken by a debugger)
 * @HK_SESSION_A_DISABLES: u64, budget disables of a thread's watchpoints
 * @HK_SESSION_A_ELAPSED_NS: u64, time since attach
 * @HK_SESSION_A_PAD: padding
 * @HK_SESSION_A_PAGE_BUDGET: u32, page mode: effective fault budget, faults/s
 * @HK_SESSION_A_PAGES: u32, page mode: pages covering the regions
 * @HK_SESSION_A_ARMED: u32, page mode: PTEs/huge PMDs armed after the last
 *	pass (exact then, an upper bound until the next one; 0 after the end)
 * @HK_SESSION_A_ARMS: u64, page mode: entries armed so far
 * @HK_SESSION_A_UACCESS: u64, page mode: faults taken by the kernel on
 *	behalf of the target (syscall copies), also counted in HITS
 *
 * In page mode %HK_SESSION_A_HITS counts faults inside the regions,
 * %HK_SESSION_A_ROTATIONS re-arm passes and %HK_SESSION_A_THROTTLED
 * re-arms deferred by the budget.
 * @HK_SESSION_A_PROCS: u32, watch only: processes mapping a segment now
 * @HK_SESSION_A_SEGMENTS: u32, watch only: number of segments watched
 *
 * A watch reports %HK_SESSION_A_PID 0 and its segments' offset ranges as
 * regions.
 */
enum hk_session_attr {
	HK_SESSION_A_UNSPEC,
	HK_SESSION_A_ID,
	HK_SESSION_A_PID,
	HK_SESSION_A_MODE,
	HK_SESSION_A_ACCESS,
	HK_SESSION_A_ROTATE_MS,
	HK_SESSION_A_BUDGET,
	HK_SESSION_A_BUFFER,
	HK_SESSION_A_SLOTS,
	HK_SESSION_A_REGIONS,
	HK_SESSION_A_REGION_BYTES,
	HK_SESSION_A_UNITS,
	HK_SESSION_A_THREADS,
	HK_SESSION_A_WATCHPOINTS,
	HK_SESSION_A_HITS,
	HK_SESSION_A_RECORDS,
	HK_SESSION_A_LOST,
	HK_SESSION_A_THROTTLED,
	HK_SESSION_A_ROTATIONS,
	HK_SESSION_A_COVERAGE,
	HK_SESSION_A_REG_FAILS,
	HK_SESSION_A_DISABLES,
	HK_SESSION_A_ELAPSED_NS,
	HK_SESSION_A_PAD,
	HK_SESSION_A_PAGE_BUDGET,
	HK_SESSION_A_PAGES,
	HK_SESSION_A_ARMED,
	HK_SESSION_A_ARMS,
	HK_SESSION_A_UACCESS,
	HK_SESSION_A_PROCS,
	HK_SESSION_A_SEGMENTS,

	__HK_SESSION_A_MAX,
};
#define HK_SESSION_A_MAX (__HK_SESSION_A_MAX - 1)

/**
 * enum hk_limit_attr - module limits (module parameters), in %HK_A_LIMITS
 * @HK_LIMIT_A_MAX_SESSIONS: u32, sessions at once
 * @HK_LIMIT_A_MAX_REGIONS: u32, regions per session
 * @HK_LIMIT_A_MAX_REGION_BYTES: u32, total region bytes per session
 * @HK_LIMIT_A_MAX_BUFFER_KB: u32, record buffer memory of all sessions
 */
enum hk_limit_attr {
	HK_LIMIT_A_UNSPEC,
	HK_LIMIT_A_MAX_SESSIONS,
	HK_LIMIT_A_MAX_REGIONS,
	HK_LIMIT_A_MAX_REGION_BYTES,
	HK_LIMIT_A_MAX_BUFFER_KB,

	__HK_LIMIT_A_MAX,
};
#define HK_LIMIT_A_MAX (__HK_LIMIT_A_MAX - 1)

/**
 * enum hk_end_reason - why a session ended (%HK_A_END_REASON)
 * @HK_END_DETACH: %HK_CMD_DETACH
 * @HK_END_TARGET_EXIT: the target's last thread exited
 * @HK_END_TARGET_EXEC: the target called execve()
 * @HK_END_SOCKET_CLOSED: the attaching socket closed or stopped accepting
 *	messages for good (not sent: there is nobody to send it to)
 * @HK_END_RMMOD: the module is being unloaded
 * @HK_END_ERROR: an internal error (out of memory while rearming)
 * @HK_END_SEGMENT_GONE: watch: every watched segment was removed (SysV
 *	IPC_RMID, shm_unlink, memfd closed) and no process maps it any more
 */
enum hk_end_reason {
	HK_END_UNSPEC,
	HK_END_DETACH,
	HK_END_TARGET_EXIT,
	HK_END_TARGET_EXEC,
	HK_END_SOCKET_CLOSED,
	HK_END_RMMOD,
	HK_END_ERROR,
	HK_END_SEGMENT_GONE,

	__HK_END_MAX,
};
#define HK_END_MAX (__HK_END_MAX - 1)

/**
 * enum hk_kind - access kind of a record
 * @HK_KIND_W: a write (write-only watchpoint fired)
 * @HK_KIND_RW: a read or a write; the hardware does not say which (x86
 *	read/write watchpoint): decode the instruction
 * @HK_KIND_R: a read
 */
enum hk_kind {
	HK_KIND_UNSPEC,
	HK_KIND_W,
	HK_KIND_RW,
	HK_KIND_R,
};

/**
 * enum hk_record_flags - hk_record.flags bits
 * @HK_REC_F_IP_AFTER: @ip is the address of the instruction *after* the
 *	access (x86 data breakpoints are traps); the analyzer must step back
 *	one instruction to find the accessing one
 * @HK_REC_F_VALUE_VALID: @value holds the @size bytes of the watched unit
 *	read right after the hit (x86: the value just written; arm64, where
 *	the hit comes before the access: the value before it); clear when the
 *	page could not be read without faulting
 * @HK_REC_F_ADDR_INEXACT: @addr is the watched unit, the access may have
 *	touched other bytes (arm64: the CPU reported an address outside the
 *	unit, e.g. for stp/vector/unaligned accesses, and the kernel charged
 *	it to the closest watchpoint)
 * @HK_REC_F_PAGE: page mode: @ip is the accessing instruction itself,
 *	@addr the exact first byte the fault reported, @size is 0 (decode
 *	the instruction for the width), @kind is %HK_KIND_R or %HK_KIND_W
 * @HK_REC_F_UACCESS: page mode: the kernel accessed the page on behalf
 *	of the thread (a syscall copying user memory); @ip is the user ip
 *	of the syscall, not of an access instruction
 * @HK_REC_F_SEG: a watch record: @seg and @seg_off say which segment
 *	and which offset in it @addr is; @addr is the virtual address in
 *	process @pid
 */
enum hk_record_flags {
	HK_REC_F_IP_AFTER	= 1U << 0,
	HK_REC_F_VALUE_VALID	= 1U << 1,
	HK_REC_F_ADDR_INEXACT	= 1U << 2,
	HK_REC_F_PAGE		= 1U << 3,
	HK_REC_F_UACCESS	= 1U << 4,
	HK_REC_F_SEG		= 1U << 5,
};

/**
 * struct hk_record - one watchpoint hit, 64 bytes, naturally aligned fields
 * @time_ns: CLOCK_MONOTONIC time of the hit (ktime_get_mono_fast_ns())
 * @seq: per-session sequence number, from 0, given to every hit within
 *	the budget; a gap means records were lost (and counted in %HK_A_LOST)
 * @ip: user instruction pointer reported by the hardware (see
 *	%HK_REC_F_IP_AFTER; arm64: the access instruction itself)
 * @addr: start of the watched unit that fired (arm64: the data address the
 *	CPU reported, a byte of the unit; the unit is @addr & ~(@size - 1))
 * @value: @size bytes read at the unit, little-endian in the low bytes,
 *	when %HK_REC_F_VALUE_VALID
 * @pid: target tgid (as seen from the attaching process' pid namespace)
 * @tid: thread id (same namespace)
 * @cpu: CPU the hit was taken on
 * @flags: enum hk_record_flags
 * @size: watched unit length in bytes: 1, 2, 4 or 8
 * @kind: enum hk_kind
 * @seg: with %HK_REC_F_SEG, the segment's index in the WATCH request,
 *	from 1; else 0
 * @seg_off: with %HK_REC_F_SEG, offset in the segment of @addr; else 0
 */
struct hk_record {
	__u64 time_ns;
	__u64 seq;
	__u64 ip;
	__u64 addr;
	__u64 value;
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	__u32 flags;
	__u16 size;
	__u8  kind;
	__u8  seg;
	__u32 seg_off;
};

#endif /* _UAPI_HAWKEYES_H */
