/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One capture, shared by 'hkctl attach' and 'hkctl run': resolve the
 * regions, attach, stream records into the trace file until the capture
 * ends, write the summary. The subcommands only differ in how the target
 * comes to exist and what happens to it afterwards.
 */
#ifndef _HK_CAPTURE_H
#define _HK_CAPTURE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define HK_CAPTURE_MAX_SPECS	64
#define HK_CAPTURE_DEFAULT_OUT	"hawkeyes.trace"
#define HK_CAPTURE_DEFAULT_RCVBUF	(8u << 20)
/* --mode auto: page-mode discovery, then watchpoints on shared locations */
#define HK_CAPTURE_MODE_AUTO	100
#define HK_CAPTURE_DEFAULT_DISCOVER_NS	(2000000000ull)
#define HK_CAPTURE_AUTO_MAX	16	/* focus regions (module max_regions) */

struct hk_capture_opts {
	const char *specs[HK_CAPTURE_MAX_SPECS];
	unsigned int nspecs;
	const char *output;		/* trace file */
	uint64_t duration_ns;		/* 0: until the target ends or a signal */
	uint32_t access;		/* enum hk_access, 0 = module default */
	int rotate_set;
	uint32_t rotate_ms;
	uint32_t budget;
	uint32_t buffer;		/* records */
	uint32_t slots;
	uint32_t mode;			/* enum hk_mode, 0 = module default (hwbp),
					 * or HK_CAPTURE_MODE_AUTO (the default of
					 * attach and run) */
	uint64_t discover_ns;		/* auto: length of the page-mode discovery */
	uint32_t auto_phase;		/* set by --mode auto for each of its captures:
					 * HK_TRACE_META_F_AUTO_*, 0 otherwise */
	uint32_t page_budget;		/* page mode: faults/s, 0 = module default */
	uint64_t rcvbuf;		/* netlink socket receive buffer, bytes */
	int status_line;		/* -1 auto (stderr is a terminal), 0 off, 1 on */
};

/* Defaults for every field. */
void hk_capture_opts_init(struct hk_capture_opts *o);

/*
 * getopt_long() options shared by attach and run, and their help text.
 * hk_capture_parse_opt() handles one option character @c with @arg;
 * returns 0, 1 if @c is not a capture option, or -EINVAL after printing
 * an error for @cmd.
 */
extern const char hk_capture_optstring[];
extern const struct option hk_capture_longopts[];
int hk_capture_parse_opt(struct hk_capture_opts *o, const char *cmd, int c, const char *arg);
void hk_capture_help(FILE *f);

struct hk_analysis_opts;
/*
 * Parse the options of attach or run with getopt_long(@optstring) into
 * capture options @o and report options @ao. Returns -1 when all are
 * parsed (optind points past them), otherwise the exit status for @cmd:
 * 0 after printing @usage for --help, 2 after an error message.
 */
int hk_capture_parse_args(int argc, char *argv[], const char *cmd, const char *optstring,
			  void (*usage)(FILE *f), struct hk_capture_opts *o,
			  struct hk_analysis_opts *ao);

/* A segment of hkctl watch: its file, the offsets watched, the SPEC given. */
struct hk_capture_seg {
	int kind;			/* enum hk_shm_kind */
	uint32_t major, minor;
	uint64_t ino;
	uint64_t off, len;
	char spec[256];
};

/* Hooks for hkctl run: called while the target is still stopped. */
struct hk_capture_target {
	pid_t pid;			/* 0 for a watch */
	/* hkctl watch: the segments (instead of pid) and who maps them now */
	size_t nsegs;
	const struct hk_capture_seg *segs;
	const pid_t *pids;
	size_t npids;
	int started;			/* hkctl run started it (META flag) */
	/* Let the target run, once attached; 0 or -errno. NULL for attach. */
	int (*resume)(struct hk_capture_target *t);
	/* Non-blocking: has it exited? Fills *status. NULL for attach. */
	int (*reap)(struct hk_capture_target *t, int *status);
	int exit_status;		/* wait status once reaped */
	int reaped;
	uint32_t end_reason;		/* enum hk_trace_end_reason, set by hk_capture() */
};

/*
 * Run one capture of @t with @o, printing errors for @cmd. Returns the
 * process exit status (HK_EXIT_OK or HK_EXIT_ERROR).
 */
int hk_capture(const char *cmd, struct hk_capture_target *t, const struct hk_capture_opts *o);

#endif /* _HK_CAPTURE_H */
