// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl report: the barrier report of a saved capture trace. The work is
 * in analysis.c (trace to access stream) and the analyzer library; this
 * file is options and exit codes.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "subcommands.h"
#include "util.h"

static void report_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s report TRACE [options]\n"
		"\n"
		"Find the places where the captured program needs a memory barrier on Arm\n"
		"but gets away without one on x86, from a trace of 'hkctl attach' or\n"
		"'hkctl run' (which print this report themselves when the capture ends).\n"
		"\n"
		"Every record's instruction pointer is mapped to its binary through the\n"
		"mappings stored in the trace; the binary must be the one that ran (same\n"
		"GNU build-id) and is looked for with --binary, --debug-dir, then at the\n"
		"path the target mapped. On x86 the hardware reports the instruction after\n"
		"the access: the accessing one, its read/write kind and its size are read\n"
		"from the binary (Capstone). A location is shared when two threads access\n"
		"it and one writes; pairs of shared accesses of one thread inside the\n"
		"reorder window that nothing orders are matched across threads into the\n"
		"cycles that break on Arm (MP, LB, S, 2+2W; SB and R are shown as broken\n"
		"on x86 too), each with the weakest barrier per side.\n"
		"\n"
		"The report ends with what the capture could see: records, losses, how\n"
		"much of each region was watched (rotation) and accessed, and what an x86\n"
		"capture cannot tell.\n"
		"\n"
		"Options:\n", hk_prog);
	hk_analysis_help(f, 0);
	fprintf(f,
		"  -h, --help          this text\n"
		"\n"
		"Example:\n"
		"  %s run -r ring --access rw --no-report -o ring.trace -- ./ring\n"
		"  %s report ring.trace --format json -o ring.json\n"
		"\n"
		"Exit status: 0 no porting finding, 1 porting findings reported, 2 error\n"
		"(also when the trace has records but none could be resolved to an\n"
		"instruction: the report is printed, but it cannot tell anything).\n",
		hk_prog, hk_prog);
}

int report_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		HK_ANALYSIS_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct hk_analysis_opts o;
	const char *trace = NULL;
	int c;

	hk_analysis_opts_init(&o);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "-o:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			report_usage(stdout);
			return HK_EXIT_OK;
		case 1:		/* a non-option: the trace */
			if (trace) {
				hk_err("report", "one TRACE only ('%s' and '%s')", trace, optarg);
				return HK_EXIT_ERROR;
			}
			trace = optarg;
			break;
		case 'o':
			c = HK_ANALYSIS_OPT_REPORT;
			break;
		case 'j':
			c = HK_ANALYSIS_OPT_JOBS;
			break;
		case HK_ANALYSIS_OPT_NO_REPORT:
			hk_err("report", "--no-report: this command only reports");
			return HK_EXIT_ERROR;
		case '?':
		case ':':
			hk_err("report", "bad option '%s'; see '%s report --help'", argv[optind - 1],
			       hk_prog);
			return HK_EXIT_ERROR;
		}
		if (c != 1 && hk_analysis_parse_opt(&o, "report", c, optarg))
			return HK_EXIT_ERROR;
	}
	if (!trace) {
		hk_err("report", "no TRACE given; see '%s report --help'", hk_prog);
		return HK_EXIT_ERROR;
	}
	return hk_analysis_report("report", trace, &o);
}
