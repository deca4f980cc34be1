/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hawkeyes trace files: what hkctl records and what offline analysis reads.
 * The format is documented in Documentation/hawkeyes/trace-format.rst;
 * this header is its one C declaration, shared by hkctl and the analyzer.
 *
 * A trace is a 32-byte file header followed by chunks. Each chunk is a
 * 16-byte chunk header (type, flags, payload length) and a payload padded
 * to 8 bytes. Every integer is little-endian. Readers skip chunk types
 * they do not know, so new chunk types only bump the minor version; a new
 * major version means an old reader must refuse the file.
 *
 * Writer: hk_trace_create(), hk_trace_write_*(), hk_trace_close().
 * Reader: hk_trace_open(), hk_trace_next() until it returns 0,
 * hk_trace_close(). Every function returns 0 (or 1 for "an item was read")
 * or a negative errno; hk_trace_errmsg() then holds a sentence naming the
 * file and the byte offset of the problem.
 */
#ifndef _HK_TRACE_H
#define _HK_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define HK_TRACE_MAGIC		"HKTRACE\0"
#define HK_TRACE_VERSION_MAJOR	1
#define HK_TRACE_VERSION_MINOR	2

/* File header: at offset 0, 32 bytes. */
struct hk_trace_file_header {
	char magic[8];			/* HK_TRACE_MAGIC */
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t header_size;		/* sizeof(struct hk_trace_file_header) */
	uint32_t record_size;		/* sizeof(struct hk_trace_rec) in this file */
	uint32_t chunk_header_size;	/* sizeof(struct hk_trace_chunk) */
	uint64_t reserved;		/* 0 */
};

/* Chunk header: 16 bytes, then @length payload bytes, then 0-7 zero bytes. */
struct hk_trace_chunk {
	uint32_t type;			/* enum hk_trace_chunk_type */
	uint32_t flags;			/* 0; reserved */
	uint64_t length;		/* payload bytes, without the padding */
};

enum hk_trace_chunk_type {
	HK_TRACE_META = 1,	/* struct hk_trace_meta: once, first chunk */
	HK_TRACE_REGION = 2,	/* struct hk_trace_region + spec string */
	HK_TRACE_MAP = 3,	/* struct hk_trace_map + path string */
	HK_TRACE_THREAD = 4,	/* struct hk_trace_thread */
	HK_TRACE_RECORDS = 5,	/* N * record_size bytes of struct hk_trace_rec */
	HK_TRACE_LOST = 6,	/* struct hk_trace_lost: loss seen so far */
	HK_TRACE_END = 7,	/* struct hk_trace_end: last chunk of a complete file */
	HK_TRACE_PROC = 8,	/* struct hk_trace_proc: the MAP chunks after it are its
				 * (minor 2, watch traces) */
};

/* Capture modes and armed access types; same values as the module's uapi. */
enum hk_trace_mode {
	HK_TRACE_MODE_HWBP = 1,		/* hardware watchpoints */
	HK_TRACE_MODE_PGPROT = 2,	/* page protection */
};

enum hk_trace_access {
	HK_TRACE_ACCESS_W = 1,		/* writes only */
	HK_TRACE_ACCESS_RW = 2,		/* reads and writes */
};

/* What was watched, how, on which machine. 192 bytes. */
struct hk_trace_meta {
	uint64_t start_realtime_ns;	/* CLOCK_REALTIME when capture began */
	uint64_t start_time_ns;		/* same instant on the records' clock (CLOCK_MONOTONIC) */
	uint64_t rotate_ns;		/* effective rotation period, 0 = off */
	uint32_t budget;		/* effective hit budget, hits per second */
	uint32_t buffer_records;	/* effective per-session buffer, in records */
	uint32_t pid;			/* target process */
	uint32_t session_id;		/* module session id */
	uint32_t mode;			/* enum hk_trace_mode */
	uint32_t access;		/* enum hk_trace_access */
	uint32_t slots;			/* watchpoints per thread */
	uint32_t flags;			/* HK_TRACE_META_F_* */
	char machine[16];		/* uname -m of the capturing host ("x86_64") */
	char kernel[64];		/* uname -r */
	char comm[16];			/* target's comm */
	uint64_t reserved[5];
};
#define HK_TRACE_META_F_RUN	(1u << 0)	/* target started by hkctl run */
#define HK_TRACE_META_F_WATCH	(1u << 1)	/* hkctl watch: many processes, pid 0,
						 * regions are segment offsets */
/*
 * --mode auto: which phase wrote this trace. The discovery (page mode) is
 * FILE.discovery; the watchpoint phase is FILE and watches either the
 * shared locations the discovery found (FOCUS) or the whole regions
 * (WHOLE: no discovery ran). When the discovery found no shared location,
 * FILE is page mode going on over the whole regions (PAGE).
 */
#define HK_TRACE_META_F_AUTO_DISCOVERY	(1u << 2)
#define HK_TRACE_META_F_AUTO_FOCUS	(1u << 3)
#define HK_TRACE_META_F_AUTO_WHOLE	(1u << 4)
#define HK_TRACE_META_F_AUTO_PAGE	(1u << 5)
#define HK_TRACE_META_F_AUTO	(HK_TRACE_META_F_AUTO_DISCOVERY | HK_TRACE_META_F_AUTO_FOCUS | \
				 HK_TRACE_META_F_AUTO_WHOLE | HK_TRACE_META_F_AUTO_PAGE)

/* One watched address range and the SPEC it came from. 24 bytes + spec. */
struct hk_trace_region {
	uint64_t start;
	uint64_t len;
	uint32_t spec_len;		/* bytes of spec that follow, with the NUL */
	uint32_t flags;			/* HK_TRACE_REGION_F_* (0 before minor 2) */
	/* char spec[spec_len]; struct hk_trace_region_late if F_LATE */
};
#define HK_TRACE_REGION_F_LATE	(1u << 0)	/* appeared after capture began */

/*
 * A region watched only once it appeared (hkctl run, a mapping created
 * after main): when. CLOCK_MONOTONIC ns, as the records' time_ns. It
 * follows the SPEC, unaligned. 40 bytes.
 */
struct hk_trace_region_late {
	uint64_t absent_ns;		/* last look at the maps without it */
	uint64_t seen_ns;		/* first look with it */
	uint64_t watched_ns;		/* the module armed it (reply received) */
	uint64_t rotate_ns;		/* the session's rotation period from then */
	uint32_t slots;			/* watchpoints per thread from then */
	uint32_t reserved;
};

/* One line of /proc/PID/maps at attach time. 80 bytes + path. */
struct hk_trace_map {
	uint64_t start;
	uint64_t end;
	uint64_t offset;		/* file offset of @start */
	uint64_t bias;			/* load bias of the ELF object, 0 if unknown/none */
	uint32_t prot;			/* PROT_READ | PROT_WRITE | PROT_EXEC */
	uint32_t flags;			/* HK_TRACE_MAP_F_* */
	uint32_t build_id_len;		/* 0 when the mapping has no GNU build-id */
	uint32_t path_len;		/* bytes of path that follow, with the NUL; 1 if anonymous */
	uint8_t build_id[32];
	/* char path[path_len]; */
};
#define HK_TRACE_MAP_F_SHARED	(1u << 0)	/* MAP_SHARED ('s' in maps) */
#define HK_TRACE_MAP_F_ELF	(1u << 1)	/* the file is an ELF object */

/*
 * A process of a watch trace. 32 bytes. MAP chunks that follow it, until
 * the next PROC chunk, are this process's mappings.
 */
struct hk_trace_proc {
	uint32_t pid;
	uint32_t flags;			/* 0 */
	char comm[16];
	uint64_t reserved;
};

/* One thread of the target. 32 bytes. */
struct hk_trace_thread {
	uint32_t tid;
	uint32_t flags;			/* HK_TRACE_THREAD_F_* */
	char comm[16];
	uint64_t records;		/* records of this thread (END time), 0 at attach */
};
#define HK_TRACE_THREAD_F_AT_ATTACH	(1u << 0)	/* existed when capture began */
#define HK_TRACE_THREAD_F_LATER		(1u << 1)	/* first seen in a record */

/*
 * Access kinds, as dump prints them: "W", "RW", "R". The values are the
 * module's enum hk_kind; RW means the hardware did not say which (x86).
 */
enum hk_trace_kind {
	HK_TRACE_KIND_W = 1,
	HK_TRACE_KIND_RW = 2,
	HK_TRACE_KIND_R = 3,
};

/* One captured access. 64 bytes. */
struct hk_trace_rec {
	uint64_t time_ns;		/* CLOCK_MONOTONIC of the hit */
	uint64_t seq;			/* per-session sequence number of the module */
	uint64_t ip;			/* instruction pointer the hardware reported */
	uint64_t addr;			/* data address */
	uint64_t value;			/* value read after the access, if HK_REC_F_VALUE */
	uint32_t pid;
	uint32_t tid;
	uint32_t cpu;
	uint32_t flags;			/* HK_TRACE_REC_F_*: the module's record flags */
	uint16_t size;			/* access size in bytes */
	uint8_t kind;			/* enum hk_trace_kind */
	uint8_t seg;			/* HK_TRACE_REC_F_SEG: segment, from 1 */
	uint32_t seg_off;		/* HK_TRACE_REC_F_SEG: offset of addr in it */
};

#define HK_TRACE_REC_F_IP_AFTER		(1u << 0)	/* ip is the instruction after the access */
#define HK_TRACE_REC_F_VALUE_VALID	(1u << 1)	/* value holds size bytes at addr */
#define HK_TRACE_REC_F_ADDR_INEXACT	(1u << 2)	/* addr is the watched unit only */
#define HK_TRACE_REC_F_PAGE		(1u << 3)	/* page mode: exact ip and addr, size 0 */
#define HK_TRACE_REC_F_UACCESS		(1u << 4)	/* page mode: a syscall's copy; ip of the syscall */
#define HK_TRACE_REC_F_SEG		(1u << 5)	/* watch: seg and seg_off are set */

/*
 * Where a watch trace's analysis puts segment offsets: segment S, offset O
 * is the location HK_TRACE_SEG_KEY(S, O) for every process. REGION chunks
 * of a watch trace use the same keys.
 */
#define HK_TRACE_SEG_KEY(seg, off)	((1ull << 62) | ((uint64_t)(seg) << 32) | (off))

/* Loss counters; the last LOST chunk (or END) holds the totals. 32 bytes. */
struct hk_trace_lost {
	uint64_t kernel_lost;		/* records the module counted as lost */
	uint64_t throttled;		/* hits the module dropped by the budget */
	uint64_t seq_gaps;		/* records hkctl found missing from the sequence numbers */
	uint64_t socket_overruns;	/* ENOBUFS seen on hkctl's netlink socket */
};

/* Why a capture ended. */
enum hk_trace_end_reason {
	HK_TRACE_END_DURATION = 1,	/* --duration elapsed */
	HK_TRACE_END_SIGNAL = 2,	/* SIGINT/SIGTERM */
	HK_TRACE_END_TARGET_EXIT = 3,	/* target exited */
	HK_TRACE_END_TARGET_EXEC = 4,	/* target called execve */
	HK_TRACE_END_DETACHED = 5,	/* someone ran hkctl detach */
	HK_TRACE_END_KERNEL = 6,	/* the module ended it (rmmod, error) */
	HK_TRACE_END_ERROR = 7,		/* hkctl failed */
	HK_TRACE_END_SEGMENT_GONE = 8,	/* watch: every segment was removed */
};

/* Last chunk of a complete file. 64 bytes. */
struct hk_trace_end {
	uint64_t end_time_ns;		/* CLOCK_MONOTONIC */
	uint64_t records;		/* records in the file */
	struct hk_trace_lost lost;
	uint32_t reason;		/* enum hk_trace_end_reason */
	uint32_t flags;			/* HK_TRACE_END_F_* (minor 1; 0 before) */
	uint64_t coverage;		/* bytes of the regions the module armed at
					 * least once, if HK_TRACE_END_F_COVERAGE */
};
#define HK_TRACE_END_F_COVERAGE	(1u << 0)	/* @coverage is the module's count */

/* One item of a trace as hk_trace_next() returns it. */
struct hk_trace_item {
	uint32_t type;			/* enum hk_trace_chunk_type */
	uint64_t offset;		/* file offset of the chunk header */
	union {
		const struct hk_trace_meta *meta;
		struct {
			const struct hk_trace_region *hdr;
			const char *spec;
			int is_late;		/* @late is filled */
			struct hk_trace_region_late late;
		} region;
		struct {
			const struct hk_trace_map *hdr;
			const char *path;
		} map;
		const struct hk_trace_thread *thread;
		const struct hk_trace_proc *proc;
		struct {
			const struct hk_trace_rec *recs;
			size_t count;
		} records;
		const struct hk_trace_lost *lost;
		const struct hk_trace_end *end;
	};
};

struct hk_trace;

/* Writer. Data is buffered; hk_trace_flush() pushes it to the file. */
int hk_trace_create(const char *path, struct hk_trace **out);
int hk_trace_write_meta(struct hk_trace *t, const struct hk_trace_meta *meta);
int hk_trace_write_region(struct hk_trace *t, uint64_t start, uint64_t len, const char *spec);
int hk_trace_write_region_late(struct hk_trace *t, uint64_t start, uint64_t len, const char *spec,
			       const struct hk_trace_region_late *late);
int hk_trace_write_map(struct hk_trace *t, const struct hk_trace_map *map, const char *path);
int hk_trace_write_thread(struct hk_trace *t, const struct hk_trace_thread *thr);
int hk_trace_write_proc(struct hk_trace *t, const struct hk_trace_proc *proc);
int hk_trace_write_records(struct hk_trace *t, const struct hk_trace_rec *recs, size_t n);
int hk_trace_write_lost(struct hk_trace *t, const struct hk_trace_lost *lost);
int hk_trace_write_end(struct hk_trace *t, const struct hk_trace_end *end);
int hk_trace_flush(struct hk_trace *t);

/* Reader. Pointers in @item stay valid until the next call. */
int hk_trace_open(const char *path, struct hk_trace **out);
int hk_trace_next(struct hk_trace *t, struct hk_trace_item *item);

/* Both: close (a writer flushes first; returns its error). */
int hk_trace_close(struct hk_trace *t);
const char *hk_trace_errmsg(const struct hk_trace *t);

/* Helpers for printing. */
const char *hk_trace_kind_name(uint8_t kind);
const char *hk_trace_end_reason_name(uint32_t reason);
/* The --mode auto phase of a trace from its META flags; NULL if not auto. */
const char *hk_trace_auto_phase_name(uint32_t meta_flags);

#endif /* _HK_TRACE_H */
