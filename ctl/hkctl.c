// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl: the Hawkeyes controller. This file only dispatches; every
 * subcommand lives in its own cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "subcommands.h"

const char *hk_prog = "hkctl";

static const struct {
	const char *name;
	int (*main)(int argc, char *argv[]);
	const char *summary;
} hk_subcommands[] = {
	{ "status", status_main, "show the module's sessions and counters" },
	{ "analyze", analyze_main, "find missing barriers from ThreadSanitizer reports" },
	{ "attach", attach_main, "capture a running process's accesses to a trace file" },
	{ "run", run_main, "start a command and capture it from main()" },
	{ "watch", watch_main, "capture shared memory segments in every process mapping them" },
	{ "shm", shm_main, "list shared memory segments and the processes mapping them" },
	{ "detach", detach_main, "end a capture session" },
	{ "dump", dump_main, "print a trace file as text or JSON lines" },
	{ "report", report_main, "the barrier report of a capture trace" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: %s <command> [<args>]\n\n", hk_prog);
	fprintf(f, "Find missing memory barriers in a running multithreaded program.\n\n");
	fprintf(f, "Commands:\n");
	for (i = 0; i < sizeof(hk_subcommands) / sizeof(hk_subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", hk_subcommands[i].name, hk_subcommands[i].summary);
	fprintf(f, "\n'%s <command> --help' describes a command; see also hkctl(8).\n", hk_prog);
}

int main(int argc, char *argv[])
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return HK_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return HK_EXIT_OK;
	}
	for (i = 0; i < sizeof(hk_subcommands) / sizeof(hk_subcommands[0]); i++)
		if (!strcmp(argv[1], hk_subcommands[i].name))
			return hk_subcommands[i].main(argc - 1, argv + 1);

	fprintf(stderr, "%s: '%s' is not a command; see '%s --help'\n", hk_prog, argv[1], hk_prog);
	return HK_EXIT_ERROR;
}
