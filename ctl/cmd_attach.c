// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl attach: capture accesses of a running process to a trace file.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "capture.h"
#include "subcommands.h"
#include "util.h"

static void attach_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s attach PID --region SPEC [--region SPEC]... [options]\n"
		"\n"
		"Watch the memory regions of the running process PID with hardware\n"
		"watchpoints on all its threads (threads created later included), or\n"
		"by protecting the pages of the regions (--mode page), or first the\n"
		"pages, then watchpoints on what they showed shared (--mode auto, the\n"
		"default; see --mode), and record every access seen to a trace file, until\n"
		"--duration elapses, the process exits or execs, the session is\n"
		"detached ('hkctl detach'), or hkctl gets SIGINT or SIGTERM. Each way\n"
		"detaches, writes the remaining records and closes the file, which\n"
		"'hkctl dump' prints. Needs the right to ptrace PID.\n"
		"\n"
		"Options:\n", hk_prog);
	hk_capture_help(f);
	fprintf(f, "\nReport options (as for 'hkctl report'):\n");
	hk_analysis_help(f, 1);
	fprintf(f,
		"  -h, --help          this text\n"
		"\n"
		"At the end a summary on stderr gives the records captured, the threads\n"
		"they came from and every loss: records the module could not deliver,\n"
		"sequence numbers missing in the file, hits over the budget. Then the\n"
		"barrier report of the trace is printed, as 'hkctl report' prints it.\n"
		"\n"
		"Example:\n"
		"  %s attach 1234 --region ring_head --region '[heap]' -d 10s -o ring.trace\n"
		"\n"
		"Exit status: 0 the capture ran and the report has no porting finding\n"
		"(or --no-report), 1 porting findings reported, 2 error.\n",
		hk_prog);
}

int attach_main(int argc, char *argv[])
{
	struct hk_capture_target t = { 0 };
	struct hk_analysis_opts ao;
	struct hk_capture_opts o;
	uint64_t pid;
	int ret;

	ret = hk_capture_parse_args(argc, argv, "attach", hk_capture_optstring, attach_usage,
				    &o, &ao);
	if (ret >= 0)
		return ret;
	if (optind != argc - 1) {
		hk_err("attach", "expected one PID; see '%s attach --help'", hk_prog);
		return HK_EXIT_ERROR;
	}
	if (hk_parse_u64(argv[optind], 0, &pid) || !pid || pid > 0x3fffffff) {
		hk_err("attach", "'%s' is not a process id", argv[optind]);
		return HK_EXIT_ERROR;
	}
	if (!o.nspecs) {
		hk_err("attach", "no --region given: say which memory to watch");
		return HK_EXIT_ERROR;
	}
	t.pid = pid;
	ret = hk_capture("attach", &t, &o);
	if (ret == HK_EXIT_OK && ao.enabled)
		ret = hk_analysis_report("attach", o.output, &ao);
	return ret;
}
