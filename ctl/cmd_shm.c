// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl shm: list the shared memory segments of the system, their size and
 * the processes that map them (what 'hkctl watch --shm' can watch).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "shm.h"
#include "subcommands.h"
#include "util.h"

static void shm_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s shm\n"
		"\n"
		"List the shared memory segments: POSIX shm objects (/dev/shm), System V\n"
		"segments (/proc/sysvipc/shm) and memfds some process maps shared. For\n"
		"each: the SPEC 'hkctl watch --shm' takes, its size, the device:inode of\n"
		"its file and the processes that map it now (read from /proc/PID/maps:\n"
		"run as root to see every process).\n"
		"\n"
		"Exit status: 0, or 2 on a usage error.\n", hk_prog);
}

static const char *const kind_names[] = {
	[HK_SHM_POSIX] = "posix", [HK_SHM_SYSV] = "sysv", [HK_SHM_MEMFD] = "memfd",
};

int shm_main(int argc, char *argv[])
{
	struct hk_shm *v;
	size_t n, i, k;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		shm_usage(stdout);
		return HK_EXIT_OK;
	}
	if (argc > 1) {
		hk_err("shm", "no arguments expected; see '%s shm --help'", hk_prog);
		return HK_EXIT_ERROR;
	}
	hk_shm_list(&v, &n);
	printf("%-6s %-24s %10s %-14s %-28s %s\n", "KIND", "SPEC", "SIZE", "DEV:INO", "NAME",
	       "PIDS");
	for (i = 0; i < n; i++) {
		char dev[48];

		snprintf(dev, sizeof(dev), "%u:%u:%" PRIu64, v[i].major, v[i].minor, v[i].ino);
		printf("%-6s %-24s %10" PRIu64 " %-14s %-28s", kind_names[v[i].kind], v[i].name,
		       v[i].size, dev, v[i].label);
		for (k = 0; k < v[i].npids; k++)
			printf("%s%d", k ? "," : " ", (int)v[i].pids[k]);
		if (!v[i].npids)
			printf(" -");
		putchar('\n');
	}
	hk_shm_list_free(v, n);
	return HK_EXIT_OK;
}
