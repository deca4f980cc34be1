/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal structures shared by the stages of libhka. Not installed; the
 * public contract is include/hka.h.
 */
#ifndef _HKA_PRIV_H
#define _HKA_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>

#include "hka.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

#define HKA_NO_INDEX		UINT32_MAX

void hka_error_set(struct hka_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Growable array of fixed-size elements. */
struct hka_vec {
	void *data;
	size_t n, cap, elem;
};
void hka_vec_init(struct hka_vec *v, size_t elem);
void *hka_vec_push(struct hka_vec *v);	/* NULL on ENOMEM; zeroed element */
void hka_vec_free(struct hka_vec *v);
#define HKA_VEC_AT(v, type, i)	(&((type *)(v)->data)[i])

/* Open-addressing map from a 128-bit key to a 32-bit value. */
struct hka_map {
	struct hka_map_slot {
		uint64_t k1, k2;
		uint32_t val;	/* HKA_NO_INDEX = empty */
	} *slots;
	size_t n, cap;
};
void hka_map_init(struct hka_map *m);
void hka_map_free(struct hka_map *m);
uint32_t hka_map_get(const struct hka_map *m, uint64_t k1, uint64_t k2);
/* Insert if absent; returns the value stored (old or new) or HKA_NO_INDEX on ENOMEM. */
uint32_t hka_map_put(struct hka_map *m, uint64_t k1, uint64_t k2, uint32_t val);

/* String arena: copies live as long as the arena. */
struct hka_arena {
	struct hka_arena_block *head;
};
char *hka_arena_strdup(struct hka_arena *a, const char *s);
void hka_arena_free(struct hka_arena *a);

/* Ordering bits: which kinds of (earlier, later) pairs something orders. */
#define HKA_ORD_RR	0x1
#define HKA_ORD_RW	0x2
#define HKA_ORD_WW	0x4
#define HKA_ORD_WR	0x8
#define HKA_ORD_ALL	0xf

static inline unsigned int hka_ord_bit(enum hka_kind first, enum hka_kind second)
{
	if (first == HKA_READ)
		return second == HKA_READ ? HKA_ORD_RR : HKA_ORD_RW;
	return second == HKA_READ ? HKA_ORD_WR : HKA_ORD_WW;
}

/* --- the access stream (hka_stream.c) --- */

struct hka_module {
	const char *name;	/* as inputs spell it */
	const char *path;	/* resolved binary or NULL */
};

/* What the code stage learns about a site's instruction. */
struct hka_site_info {
	bool resolved;
	const char *function;	/* innermost (inlined) function */
	const char *file;
	unsigned int line;
	const char *inlined_into; /* outer function when inlined, else NULL */
	uint64_t func_start;	/* key of the function in the code table */
	uint32_t func;		/* index in the function table */
	uint32_t insn;		/* index of the site's instruction in the function */
	uint64_t access_ip;	/* the instruction that touches memory */
	bool acquire, release, seq_cst, full;	/* ordering of the access itself */
	bool atomic_type;	/* DWARF says the object is _Atomic */
	const char *object;	/* what the access names, if known: a global, or
				 * "ptr->member" through a pointer variable */
};

struct hka_site {
	uint32_t module;
	uint64_t offset;
	const char *in_function, *in_file;	/* as the input spells them */
	unsigned int in_line;
	struct hka_site_info info;
};

struct hka_location {
	uint32_t input;
	uint64_t addr;
	uint32_t size;		/* widest access seen */
};

struct hka_thread {
	uint32_t input;
	const char *name;
};

/* A distinct (thread, site, location, kind): the unit of the analysis. */
struct hka_event {
	uint32_t thread, site, loc;
	uint8_t kind, atomic;
	uint8_t nstack;		/* caller frames kept (first report that showed it) */
	uint32_t stack;		/* their site ids start at stacks[stack] */
};

struct hka_stream {
	struct hka_arena arena;
	struct hka_vec modules, sites, locs, threads, events, conflicts, inputs, buffers;
	struct hka_map site_map, loc_map, thread_map, event_map, conflict_map;
	unsigned long accesses;
	unsigned long reports, reports_skipped;
	bool explicit_conflicts;	/* conflicts come from the input */
	struct hka_vec binaries;	/* const char * paths */
	struct hka_vec stacks;		/* uint32_t site ids of caller frames */
};

struct hka_conflict {
	uint32_t a, b;	/* event indexes, a < b */
};

uint32_t hka_stream_module(struct hka_stream *s, const char *name);
/* Fold locations that overlap or conflict into one; the analysis calls it. */
int hka_stream_merge_locations(struct hka_stream *s, struct hka_error *err);
bool hka_stream_conflicting(const struct hka_stream *s, uint32_t ea, uint32_t eb);
/* Keep buf alive as long as the stream (it takes ownership). */
int hka_stream_own(struct hka_stream *s, void *buf);

/* --- worker pool (hka_pool.c) --- */

struct hka_pool;
typedef int (*hka_task_fn)(struct hka_pool *p, void *ctx, unsigned int worker, size_t task,
			   struct hka_error *err);
int hka_pool_run(const struct hka_config *cfg, size_t ntasks, hka_task_fn fn, void *ctx,
		 struct hka_error *err);
/* Long tasks poll this and return -ECANCELED when another worker failed. */
bool hka_pool_cancelled(struct hka_pool *p);
unsigned int hka_pool_jobs(const struct hka_config *cfg, size_t ntasks);

/* --- symbols (hka_symbols.c): one per worker, Dwfl is not thread-safe --- */

struct hka_symtab;
struct hka_symtab *hka_symtab_new(void);
void hka_symtab_free(struct hka_symtab *st);
struct hka_symbol {
	const char *function;		/* ELF symbol containing the address */
	uint64_t func_start, func_end;
	const char *inline_function;	/* innermost inlined subroutine, if any */
	const char *file;
	unsigned int line;
	int machine;			/* EM_X86_64, EM_AARCH64 */
};
/*
 * Resolve addr (module-relative) of the binary at path. Strings stay valid
 * until hka_symtab_free(st).
 */
int hka_symtab_lookup(struct hka_symtab *st, const char *path, uint64_t addr,
		      struct hka_symbol *sym, struct hka_error *err);
/*
 * Open the binary now. dwfl_begin() writes libelf's global version, so
 * every symtab's modules are opened before workers start (helgrind found
 * the race when workers opened them).
 */
int hka_symtab_preload(struct hka_symtab *st, const char *path, struct hka_error *err);
/* Bytes of the code at [start, end) of the binary. */
int hka_symtab_code(struct hka_symtab *st, const char *path, uint64_t start, uint64_t end,
		    const uint8_t **bytes, struct hka_error *err);
/* Name of a symbol that starts exactly at addr, or NULL. */
const char *hka_symtab_symbol_at(struct hka_symtab *st, const char *path, uint64_t addr);
/* Name of the symbol a PLT/GOT slot is relocated against, or NULL. */
const char *hka_symtab_slot_name(struct hka_symtab *st, const char *path, uint64_t slot);
/* Addresses of line-table rows for (basename of) file:line; returns the count. */
int hka_symtab_line_addrs(struct hka_symtab *st, const char *path, const char *file,
			  unsigned int line, uint64_t *addrs, int max);
/* Name of the symbol containing addr (data or code), or NULL. */
const char *hka_symtab_symbol_containing(struct hka_symtab *st, const char *path, uint64_t addr);
/* Does the DWARF type of global variable name carry DW_TAG_atomic_type? */
bool hka_symtab_global_is_atomic(struct hka_symtab *st, const char *path, const char *name);
/*
 * The object an access [reg + disp] at addr reaches through a pointer: a
 * variable or parameter in scope at addr whose location there is DWARF
 * register reg and whose type points to a struct/union (the member at
 * disp) or a scalar. 0 with *name ("m->flag", valid until
 * hka_symtab_free()) and whether its type is _Atomic; -ENOENT when
 * anything is unknown.
 */
int hka_symtab_pointee(struct hka_symtab *st, const char *path, uint64_t addr, int reg,
		       int64_t disp, const char **name, bool *atomic);

/* --- code (hka_code.c) --- */

#define HKA_INSN_CALL		0x01
#define HKA_INSN_RET		0x02
#define HKA_INSN_JUMP		0x04	/* unconditional */
#define HKA_INSN_COND		0x08	/* conditional branch */
#define HKA_INSN_INDIRECT	0x10
#define HKA_INSN_TSAN		0x20	/* TSan instrumentation call: 0 uops */
#define HKA_INSN_BAD		0x40	/* undecodable */

struct hka_insn {
	uint64_t addr;
	uint64_t target;	/* direct branch/call target */
	uint32_t succ[2];	/* successor instruction indexes or HKA_NO_INDEX */
	uint8_t size, uops, flags;
	uint8_t order;		/* HKA_ORD_* this instruction orders as a barrier */
	uint8_t mem;		/* 1 read, 2 write, 3 both */
	uint8_t acq, rel;	/* the access itself is acquire / release */
	uint8_t tsan_access;	/* __tsan_read/write call: the access follows */
	uint64_t data_addr;	/* x86 RIP-relative operand: the global it names */
	uint8_t mem_base;	/* memory operand [reg + disp] (no index, no
				 * segment): DWARF number of reg + 1; 0 none */
	int32_t mem_disp;	/* its displacement */
	uint32_t regs_written;	/* general registers it writes, bit = DWARF number */
	uint8_t copy_src;	/* it sets a register to src + copy_disp ("lea r64,
				 * [src + d]", "add xd, xn, #d", a writeback):
				 * DWARF number of src + 1; 0 none */
	int32_t copy_disp;
	char text[72];		/* mnemonic and operands for the report */
};

struct hka_func {
	const char *path;
	uint64_t start, end;
	int machine;
	bool tsan;		/* has TSan instrumentation calls */
	struct hka_insn *insns;
	uint32_t ninsn;
};

int hka_func_decode(struct hka_func *fn, struct hka_symtab *st, struct hka_error *err);
void hka_func_release(struct hka_func *fn);
uint32_t hka_func_insn_at(const struct hka_func *fn, uint64_t addr);
/* Access instruction a TSan pc stands for (the call or the access after it). */
uint32_t hka_func_access_insn(const struct hka_func *fn, uint32_t i);

/* --- window (hka_window.c) --- */

/*
 * Shortest distances in uops from instruction a (inclusive) to every
 * instruction (exclusive) along the function's CFG, never passing through an
 * instruction whose order bits include block. dist[] has ninsn entries,
 * heap[] 2 * ninsn + 2; UINT32_MAX = unreachable or farther than limit.
 */
void hka_window_distances(const struct hka_func *fn, uint32_t a, unsigned int block,
			  uint32_t limit, uint32_t *dist, uint32_t *heap);

/* --- intervals and matching (hka_interval.c, hka_match.c) --- */

/*
 * A group: the events of one thread at one instruction, of one kind, reached
 * through one call stack; they differ only in the location. Intervals are
 * computed between groups, so many addresses at one instruction cost one
 * interval, not their cross product.
 */
struct hka_group {
	uint32_t thread, site;
	uint8_t kind;
	uint32_t start, end;	/* its events: order[start..end), by location */
};

struct hka_groups {
	uint32_t *order;	/* events sorted by group, then location */
	uint32_t *event_group;	/* per event: its group or HKA_NO_INDEX */
	struct hka_vec groups;	/* struct hka_group */
	uint8_t *shared;	/* per location: conflicting accesses exist */
};
void hka_groups_free(struct hka_groups *g);

struct hka_interval {
	uint32_t thread;
	uint32_t first, second;	/* groups */
	uint32_t distance;	/* uops */
	uint32_t via[2];	/* across calls: the call sites (site ids) in the
				 * common caller, else HKA_NO_INDEX */
};

struct hka_side {
	uint32_t thread;
	uint32_t first, second;	/* events */
	uint32_t distance;
	const char *barrier;	/* release, acquire, full */
	uint32_t via[2];	/* as in struct hka_interval */
};

struct hka_finding {
	const char *pattern;
	bool porting;
	struct hka_side sides[2];
	/* capture inputs (hka_capture.c): "high", "low", "undecidable"; NULL for TSan */
	const char *confidence, *confidence_reason;
};

struct hka_result {
	const struct hka_stream *s;
	struct hka_config cfg;
	struct hka_func *funcs;
	uint32_t nfuncs;
	struct hka_arena names;
	struct hka_vec findings;	/* struct hka_finding */
	unsigned long intervals, dropped_by_window, unresolved;
	unsigned long dropped_by_lock;	/* capture: both sides in one lock (hka_capture.c) */
};

int hka_intervals_find(struct hka_stream *s, struct hka_result *res, struct hka_groups *g,
		       struct hka_vec *out, struct hka_error *err);
int hka_match_intervals(struct hka_stream *s, struct hka_result *res,
			const struct hka_groups *g, const struct hka_vec *intervals,
			struct hka_error *err);

struct hka_fix {
	const char *c11, *kernel, *arm64;
};
void hka_fix_spell(const char *barrier, enum hka_kind first, enum hka_kind second,
		   struct hka_fix *fix);
const char *hka_barrier_for(enum hka_kind first, enum hka_kind second);

#endif /* _HKA_PRIV_H */
