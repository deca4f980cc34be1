// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl status: what the module is doing now.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "subcommands.h"

static void status_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s status\n"
		"\n"
		"Show the state of the hawkeyes kernel module: protocol version and\n"
		"live capture sessions.\n"
		"\n"
		"Exit status: 0 success, 2 error (module not loaded, no permission).\n",
		hk_prog);
}

int status_main(int argc, char *argv[])
{
	struct hk_nl_status st;
	struct hk_nl *nl;
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		status_usage(stdout);
		return HK_EXIT_OK;
	}
	if (argc > 1) {
		status_usage(stderr);
		return HK_EXIT_ERROR;
	}

	ret = hk_nl_open(&nl);
	if (ret == -ENOENT) {
		fprintf(stderr, "%s: the hawkeyes module is not loaded (modprobe hawkeyes)\n", hk_prog);
		return HK_EXIT_ERROR;
	}
	if (ret < 0) {
		fprintf(stderr, "%s: cannot open generic netlink: %s\n", hk_prog, strerror(-ret));
		return HK_EXIT_ERROR;
	}
	ret = hk_nl_get_status(nl, &st);
	if (ret < 0) {
		fprintf(stderr, "%s: status: %s%s%s\n", hk_prog, strerror(-ret),
			hk_nl_errmsg(nl) ? ": " : "", hk_nl_errmsg(nl) ? hk_nl_errmsg(nl) : "");
		hk_nl_close(nl);
		return HK_EXIT_ERROR;
	}
	printf("protocol version: %u\nsessions: %u\n", st.version, st.sessions);
	hk_nl_close(nl);
	return HK_EXIT_OK;
}
