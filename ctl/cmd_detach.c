// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl detach: end a capture session by its id.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "subcommands.h"
#include "util.h"

static void detach_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s detach ID\n"
		"\n"
		"End the capture session ID ('hkctl status' lists them): the module\n"
		"removes its watchpoints from every thread of the target, and the\n"
		"hkctl that attached writes the last records, the end reason\n"
		"'detached' and the loss counts to its trace file and exits.\n"
		"\n"
		"Only the user who attached, or one with CAP_SYS_ADMIN, may detach.\n"
		"\n"
		"Exit status: 0 detached, 2 error (no such session, not allowed).\n",
		hk_prog);
}

int detach_main(int argc, char *argv[])
{
	struct hk_nl *nl;
	uint64_t id;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		detach_usage(stdout);
		return HK_EXIT_OK;
	}
	if (argc != 2) {
		hk_err("detach", "expected one session ID; see '%s detach --help'", hk_prog);
		return HK_EXIT_ERROR;
	}
	if (hk_parse_u64(argv[1], 0, &id) || !id || id > UINT32_MAX) {
		hk_err("detach", "'%s' is not a session id (a number > 0)", argv[1]);
		return HK_EXIT_ERROR;
	}
	ret = hk_nl_open(&nl);
	if (ret) {
		hk_nl_perror(NULL, "detach", "cannot open generic netlink", ret);
		return HK_EXIT_ERROR;
	}
	ret = hk_nl_detach(nl, id);
	if (ret)
		hk_nl_perror(nl, "detach", "cannot detach", ret);
	hk_nl_close(nl);
	return ret ? HK_EXIT_ERROR : HK_EXIT_OK;
}
