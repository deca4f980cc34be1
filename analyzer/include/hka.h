/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hka: the Hawkeyes analysis library.
 *
 * Every input (ThreadSanitizer reports today, capture trace files later)
 * feeds one access stream; the analysis reads only that stream:
 *
 *	struct hka_stream *s = hka_stream_new();
 *	hka_tsan_parse_file(s, "race.log", &cfg, &err);     (or hka_stream_add_*)
 *	hka_analyze(s, &cfg, &result, &err);
 *	hka_report_write(result, HKA_FORMAT_JSON, stdout, &err);
 *	hka_result_free(result); hka_stream_free(s);
 *
 * Functions return 0 or a negative errno; on failure struct hka_error holds
 * one human sentence (with the input name and line number where there is one).
 * Nothing here prints or exits. Documentation/hawkeyes/analysis.rst describes
 * the stages, Documentation/hawkeyes/report.rst the report.
 */
#ifndef _HKA_H
#define _HKA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HKA_VERSION		"0.1"
#define HKA_MAX_FRAMES		8	/* call-stack frames kept per access */
#define HKA_MAX_JOBS		64

struct hka_error {
	char msg[512];
};

enum hka_kind {
	HKA_READ = 0,
	HKA_WRITE = 1,
};

/* One call-stack frame as an input names it; only module+offset is required. */
struct hka_frame {
	const char *module;	/* binary basename as the input spells it ("ring") */
	uint64_t offset;	/* instruction address relative to the module */
	const char *function;	/* optional: as the input spells it */
	const char *file;	/* optional */
	unsigned int line;	/* optional, 0 = unknown */
};

/* One memory access of one thread; frames[0] is the accessing instruction. */
struct hka_access {
	const char *thread;	/* "T1", "main", a tid: any stable name */
	enum hka_kind kind;
	bool atomic;		/* the input says the access is atomic */
	unsigned int size;	/* bytes */
	uint64_t addr;		/* data address (in the input's address space) */
	unsigned int nframes;
	struct hka_frame frames[HKA_MAX_FRAMES];
};

struct hka_stream;

struct hka_stream *hka_stream_new(void);
void hka_stream_free(struct hka_stream *s);
/* An input of the stream: data addresses of different inputs never alias. */
unsigned int hka_stream_begin_input(struct hka_stream *s, const char *name);
/* Two accesses the input reports as conflicting (racing, unordered). */
int hka_stream_add_conflict(struct hka_stream *s, const struct hka_access *a,
			    const struct hka_access *b, struct hka_error *err);
/* One access; conflicts are then derived from shared locations. */
int hka_stream_add_access(struct hka_stream *s, const struct hka_access *a,
			  struct hka_error *err);
/* Tell where the binary of module name lives (basename match). */
int hka_stream_add_binary(struct hka_stream *s, const char *path, struct hka_error *err);
unsigned long hka_stream_accesses(const struct hka_stream *s);

struct hka_config {
	unsigned int window;		/* uops; 0 = default preset */
	const char *window_name;	/* preset name or NULL for a number */
	unsigned int jobs;		/* worker threads, 1..HKA_MAX_JOBS */
	int fail_after;			/* test-only fault injection: a worker
					 * fails after this many tasks; -1 = off */
	bool atomic_undecided;		/* captures: a plain x86 access to an _Atomic
					 * object is not assumed seq_cst; the pair
					 * stays and hka_result_review_capture()
					 * marks it undecidable */
};

/* Window presets: "neoverse-n1", ..., "default". */
struct hka_window_preset {
	const char *name;
	unsigned int uops;
	const char *source;	/* where the number comes from */
};
const struct hka_window_preset *hka_window_presets(unsigned int *n);
/* Parse "N" or a preset name into cfg->window/window_name. */
int hka_window_parse(const char *arg, struct hka_config *cfg, struct hka_error *err);
void hka_config_init(struct hka_config *cfg);

/*
 * ThreadSanitizer data-race reports (GCC libtsan and clang): every
 * "WARNING: ThreadSanitizer: data race" report becomes one conflict; other
 * output is skipped. A log with no usable report or a report missing what the
 * analysis needs is an error naming the line.
 */
int hka_tsan_parse_file(struct hka_stream *s, const char *path,
			const struct hka_config *cfg, struct hka_error *err);
int hka_tsan_parse_buf(struct hka_stream *s, const char *name, const char *buf,
		       size_t len, const struct hka_config *cfg, struct hka_error *err);

/*
 * Captured instruction pointers (hka_resolve.c): which instruction of the
 * binary at path made the access a watchpoint reported at ip (module-
 * relative, as in the ELF file), what it does to memory and how wide. With
 * after, ip is the instruction after the access (x86 data breakpoints).
 * A resolver caches per ip; it is not thread-safe.
 */
struct hka_insn_access {
	uint64_t ip;		/* the accessing instruction */
	bool read, write;	/* it reads / writes memory (both: RMW) */
	bool atomic_rmw;	/* locked RMW (x86 lock/xchg): a full barrier */
	bool acquire, release;	/* the access itself orders (arm64 ldar/stlr) */
	unsigned int size;	/* bytes of its memory operand, 0 unknown */
	uint64_t static_addr;	/* module-relative address it names (a global), 0 unknown */
	int machine;		/* EM_X86_64, EM_AARCH64 */
	char text[72];		/* disassembly */
};

struct hka_resolver;
struct hka_resolver *hka_resolver_new(void);
void hka_resolver_free(struct hka_resolver *r);
int hka_resolve_access(struct hka_resolver *r, const char *path, uint64_t ip, bool after,
		       struct hka_insn_access *acc, struct hka_error *err);
/*
 * The symbol of path containing the module-relative data address addr and
 * whether its DWARF type is _Atomic. 0, or -ENOENT (no symbol: heap, stack).
 * *name lives as long as the resolver.
 */
int hka_resolve_data(struct hka_resolver *r, const char *path, uint64_t addr,
		     const char **name, bool *atomic);

struct hka_result;

/*
 * Analyze the stream. It folds overlapping locations in place: add no
 * accesses to s afterwards. The result refers to s; free it first.
 */
int hka_analyze(struct hka_stream *s, const struct hka_config *cfg,
		struct hka_result **res, struct hka_error *err);
void hka_result_free(struct hka_result *res);
unsigned int hka_result_findings(const struct hka_result *res);
unsigned int hka_result_porting_findings(const struct hka_result *res);

enum hka_format {
	HKA_FORMAT_TEXT,
	HKA_FORMAT_JSON,
	HKA_FORMAT_SARIF,
};

/*
 * Findings of a capture input (hka_capture.c), after hka_analyze(): drop
 * cycles whose two sides lie in critical sections of the same lock (a
 * capture has no happens-before), and give each kept finding a confidence
 * with its reason ("undecidable" when an _Atomic object makes x86 code
 * blind to release/acquire). loc_fn names the object at a data address of
 * the input and says whether its type is _Atomic (0, or -ENOENT).
 */
typedef int (*hka_location_fn)(void *ctx, uint64_t addr, const char **name, bool *atomic);
int hka_result_review_capture(struct hka_result *res, hka_location_fn loc_fn, void *ctx,
			      unsigned long *dropped, struct hka_error *err);

/*
 * Decide findings on the arm64 build of the same program (hka_resolve.c):
 * each side's two source lines are looked up in arm64_path (-g), and the
 * side is ordered there when its load is an acquire (ldar, ldapr, LSE
 * ..a), its store a release (stlr, ..l) or a barrier between orders the
 * pair (dmb). Cycles ordered on both sides are dropped and counted; the
 * others get a confidence that says what the arm64 code does.
 */
int hka_result_check_arm64(struct hka_result *res, struct hka_resolver *r,
			   const char *arm64_path, unsigned long *dropped,
			   struct hka_error *err);

int hka_format_parse(const char *arg, enum hka_format *fmt);
int hka_report_write(const struct hka_result *res, enum hka_format fmt, FILE *f,
		     struct hka_error *err);

#endif /* _HKA_H */
