/* SPDX-License-Identifier: GPL-2.0 */
/*
 * From a capture trace to the barrier report: the adapter between the trace
 * format (trace.h) and the analysis library (hka.h), so that neither knows
 * the other. Used by 'hkctl report TRACE' and at the end of 'hkctl attach'
 * and 'hkctl run'.
 *
 * Each record's instruction pointer is mapped to binary + offset through the
 * mappings stored in the trace (build-ids checked), the accessing
 * instruction is resolved in that binary (x86 reports the one after it),
 * its read/write kind and size come from the instruction, and the access
 * goes into the analyzer's stream; the analyzer derives conflicts from the
 * shared locations (two threads, one writes).
 */
#ifndef _HK_ANALYSIS_H
#define _HK_ANALYSIS_H

#include <getopt.h>
#include <stdio.h>

#include "hka.h"

#define HK_ANALYSIS_MAX_PATHS	32

struct hk_analysis_opts {
	struct hka_config cfg;
	enum hka_format format;
	const char *output;		/* report file; NULL: standard output */
	const char *binaries[HK_ANALYSIS_MAX_PATHS];
	unsigned int nbinaries;
	const char *debug_dirs[HK_ANALYSIS_MAX_PATHS];
	unsigned int ndebug_dirs;
	const char *arm64_binary;	/* the same program built for arm64, -g */
	int enabled;			/* attach/run: 0 with --no-report */
};

enum {
	HK_ANALYSIS_OPT_FORMAT = 0x200,
	HK_ANALYSIS_OPT_WINDOW,
	HK_ANALYSIS_OPT_JOBS,
	HK_ANALYSIS_OPT_BINARY,
	HK_ANALYSIS_OPT_DEBUG_DIR,
	HK_ANALYSIS_OPT_REPORT,
	HK_ANALYSIS_OPT_NO_REPORT,
	HK_ANALYSIS_OPT_ARM64,
};

/* The report options of attach and run (-o is their trace file: --report FILE). */
#define HK_ANALYSIS_LONGOPTS						\
	{ "format", required_argument, NULL, HK_ANALYSIS_OPT_FORMAT },	\
	{ "window", required_argument, NULL, HK_ANALYSIS_OPT_WINDOW },	\
	{ "jobs", required_argument, NULL, HK_ANALYSIS_OPT_JOBS },	\
	{ "binary", required_argument, NULL, HK_ANALYSIS_OPT_BINARY },	\
	{ "debug-dir", required_argument, NULL, HK_ANALYSIS_OPT_DEBUG_DIR }, \
	{ "report", required_argument, NULL, HK_ANALYSIS_OPT_REPORT },	\
	{ "no-report", no_argument, NULL, HK_ANALYSIS_OPT_NO_REPORT },	\
	{ "arm64-binary", required_argument, NULL, HK_ANALYSIS_OPT_ARM64 }

void hk_analysis_opts_init(struct hk_analysis_opts *o);

/*
 * Handle one report option @c with @arg for subcommand @cmd. Returns 0,
 * 1 if @c is not a report option, or -EINVAL after printing the error.
 */
int hk_analysis_parse_opt(struct hk_analysis_opts *o, const char *cmd, int c, const char *arg);

/* Help text of the report options; @capture: as attach/run spell them. */
void hk_analysis_help(FILE *f, int capture);

/*
 * Analyse @trace and write the report. Returns the exit status:
 * HK_EXIT_OK (no porting finding), HK_EXIT_FINDINGS, HK_EXIT_ERROR (after
 * printing a message for @cmd).
 */
int hk_analysis_report(const char *cmd, const char *trace, const struct hk_analysis_opts *o);

#endif /* _HK_ANALYSIS_H */
