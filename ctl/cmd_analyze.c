// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl analyze: find missing barriers from ThreadSanitizer reports with
 * libhka. All the work is in analyzer/; this file is options and exit codes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hka.h"
#include "subcommands.h"

static void analyze_usage(FILE *f)
{
	const struct hka_window_preset *p;
	unsigned int n, i;

	fprintf(f,
"Usage: %s analyze --tsan LOG [--tsan LOG]... [--binary BIN]... [OPTIONS]\n"
"\n"
"Find the places where a multithreaded program that is correct on x86 needs a\n"
"memory barrier on Arm. Reads ThreadSanitizer data-race reports (GCC libtsan or\n"
"clang; build with -fsanitize=thread -g and run with\n"
"TSAN_OPTIONS=\"suppress_equal_addresses=0 history_size=7\"), resolves every access\n"
"in the binary (libdw, Capstone), keeps pairs of accesses of one thread that lie\n"
"within the CPU's instruction window and are not ordered already, and reports\n"
"the cycles formed by two threads (MP, LB, S, 2+2W; SB and R are reported as not\n"
"porting bugs) with the weakest barrier that fixes each side, spelled for C11,\n"
"the Linux kernel and arm64.\n"
"\n"
"Options:\n"
"  --tsan LOG        a TSan log (program output mixed in is fine), a pipe, or -\n"
"                    for standard input; repeatable\n"
"  --binary BIN      the binary a log's (module+0xoffset) frames name; matched by\n"
"                    basename. Default: beside the log, then the current directory\n"
"  --window N|PRESET reorder window in uops, or a preset (below)\n"
"  --format FMT      text (default), json (the contract in\n"
"                    Documentation/hawkeyes/report.rst) or sarif (SARIF 2.1.0)\n"
"  -o, --output FILE write the report to FILE instead of standard output\n"
"  -j, --jobs N      worker threads, 1..%d (default: online CPUs); the report is\n"
"                    byte-identical for every N\n"
"  -h, --help        this text\n"
"\n"
"Window presets:\n", hk_prog, HKA_MAX_JOBS);
	p = hka_window_presets(&n);
	for (i = 0; i < n; i++)
		fprintf(f, "  %-12s %4u uops  %s\n", p[i].name, p[i].uops, p[i].source);
	fprintf(f,
"\n"
"Exit status: 0 no porting finding, 1 porting findings reported, 2 error.\n"
"\n"
"Example:\n"
"  gcc -fsanitize=thread -O1 -g ring.c -o ring\n"
"  TSAN_OPTIONS=\"suppress_equal_addresses=0 history_size=7\" ./ring 2> ring.log\n"
"  %s analyze --tsan ring.log --binary ring --format json -o ring.json\n"
"\n"
"See Documentation/hawkeyes/analysis.rst for the window, the matching and the\n"
"limits of the analysis.\n", hk_prog);
}

static int analyze_jobs(const char *arg, unsigned int *jobs)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > HKA_MAX_JOBS)
		return -EINVAL;
	*jobs = v;
	return 0;
}

int analyze_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "tsan", required_argument, NULL, 't' },
		{ "binary", required_argument, NULL, 'b' },
		{ "window", required_argument, NULL, 'w' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum hka_format fmt = HKA_FORMAT_TEXT;
	const char *output = NULL, *fault, **logs;
	struct hka_result *res = NULL;
	struct hka_error err = { "" };
	struct hka_config cfg;
	struct hka_stream *s;
	int c, i, rc = HK_EXIT_ERROR, ntsan = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *out = stdout;

	hka_config_init(&cfg);
	cfg.jobs = cpus < 1 ? 1 : cpus > HKA_MAX_JOBS ? HKA_MAX_JOBS : cpus;
	/* test-only: make a worker fail after N tasks (tests of prompt shutdown) */
	fault = getenv("HAWKEYES_TEST_FAIL_AFTER");
	if (fault)
		cfg.fail_after = atoi(fault);
	s = hka_stream_new();
	logs = calloc(argc + 1, sizeof(*logs));
	if (!s || !logs) {
		free(logs);
		hka_stream_free(s);
		fprintf(stderr, "%s analyze: out of memory\n", hk_prog);
		return HK_EXIT_ERROR;
	}
	/* first pass: options; logs are read after all --binary are known */
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			logs[ntsan++] = optarg;
			break;
		case 'b':
			if (hka_stream_add_binary(s, optarg, &err))
				goto fail;
			break;
		case 'w':
			if (hka_window_parse(optarg, &cfg, &err))
				goto fail;
			break;
		case 'f':
			if (hka_format_parse(optarg, &fmt)) {
				snprintf(err.msg, sizeof(err.msg),
					 "--format '%s': expected text, json or sarif", optarg);
				goto fail;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'j':
			if (analyze_jobs(optarg, &cfg.jobs)) {
				snprintf(err.msg, sizeof(err.msg), "--jobs '%s': expected 1..%d",
					 optarg, HKA_MAX_JOBS);
				goto fail;
			}
			break;
		case 'h':
			analyze_usage(stdout);
			free(logs);
			hka_stream_free(s);
			return HK_EXIT_OK;
		default:
			fprintf(stderr, "see '%s analyze --help'\n", hk_prog);
			free(logs);
			hka_stream_free(s);
			return HK_EXIT_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(err.msg, sizeof(err.msg), "unexpected argument '%s'", argv[optind]);
		goto fail;
	}
	if (!ntsan) {
		snprintf(err.msg, sizeof(err.msg), "nothing to analyze: pass --tsan LOG");
		goto fail;
	}
	for (i = 0; i < ntsan; i++)
		if (hka_tsan_parse_file(s, logs[i], &cfg, &err))
			goto fail;
	if (hka_analyze(s, &cfg, &res, &err))
		goto fail;
	if (output) {
		out = fopen(output, "w");
		if (!out) {
			snprintf(err.msg, sizeof(err.msg), "cannot write '%s': %s", output,
				 strerror(errno));
			goto fail;
		}
	}
	if (hka_report_write(res, fmt, out, &err))
		goto fail;
	rc = hka_result_porting_findings(res) ? HK_EXIT_FINDINGS : HK_EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "%s analyze: %s\n", hk_prog, err.msg);
	rc = HK_EXIT_ERROR;
out:
	if (out && out != stdout && fclose(out) && rc != HK_EXIT_ERROR) {
		fprintf(stderr, "%s analyze: cannot write '%s': %s\n", hk_prog, output,
			strerror(errno));
		rc = HK_EXIT_ERROR;
	}
	hka_result_free(res);
	hka_stream_free(s);
	free(logs);
	return rc;
}
