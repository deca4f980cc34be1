// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl status: what the module is doing now.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nl.h"
#include "subcommands.h"
#include "util.h"

static void status_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s status [ID]\n"
		"\n"
		"Show the hawkeyes kernel module: its protocol version and limits, then\n"
		"every capture session you may see (yours; all of them with\n"
		"CAP_SYS_ADMIN), or only session ID: target pid, settings in force,\n"
		"regions, threads and watchpoints armed now, and counters: hits,\n"
		"records delivered, records lost, hits throttled by the budget,\n"
		"rotations, bytes of the regions covered so far, failed watchpoint\n"
		"registrations. A --mode auto capture is two sessions in turn: page\n"
		"mode while it discovers, then hwbp ('hkctl attach' and 'run' say which\n"
		"phase on their status line).\n"
		"\n"
		"Exit status: 0 success, 2 error (module not loaded, no such session).\n",
		hk_prog);
}

static const char *status_mode(uint32_t mode)
{
	return mode == HK_MODE_PGPROT ? "page" : "hwbp";
}

static void status_session(const struct hk_nl_session *s, void *arg)
{
	unsigned int *count = arg;
	uint32_t i;

	(*count)++;
	printf("session %u: pid %u, %s, access %s, rotate %u ms, budget %u hits/s, buffer %u records, %u slots\n",
	       s->id, s->pid, status_mode(s->mode), s->access == HK_ACCESS_RW ? "rw" : "w",
	       s->rotate_ms, s->budget, s->buffer, s->slots);
	printf("  regions:");
	for (i = 0; i < s->nregions && i < HK_NL_MAX_REGIONS; i++)
		printf(" 0x%" PRIx64 "+%" PRIu64, s->regions[i].start, s->regions[i].len);
	if (s->nregions > HK_NL_MAX_REGIONS)
		printf(" (and %u more)", s->nregions - HK_NL_MAX_REGIONS);
	printf("\n  %" PRIu64 " bytes in %u units, covered %" PRIu64 " bytes; %u threads, %u watchpoints armed\n",
	       s->region_bytes, s->units, s->coverage, s->threads, s->watchpoints);
	printf("  hits %" PRIu64 ", records %" PRIu64 ", lost %" PRIu64 ", throttled %" PRIu64
	       ", rotations %" PRIu64 ", registration failures %u, budget disables %" PRIu64
	       ", elapsed %.1f s\n",
	       s->hits, s->records, s->lost, s->throttled, s->rotations, s->reg_fails,
	       s->disables, s->elapsed_ns / 1e9);
	if (s->mode == HK_MODE_PGPROT)
		printf("  page mode: %u pages, %u armed now, %" PRIu64 " arms, budget %u faults/s, %"
		       PRIu64 " faults in syscalls\n",
		       s->pages, s->armed, s->arms, s->page_budget, s->uaccess);
	if (s->segments)
		printf("  watch: %u segments (regions are their offset ranges), %u processes "
		       "mapping them now\n", s->segments, s->procs);
}

int status_main(int argc, char *argv[])
{
	struct hk_nl_session s;
	struct hk_nl_status st;
	unsigned int count = 0;
	uint64_t id = 0;
	struct hk_nl *nl;
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		status_usage(stdout);
		return HK_EXIT_OK;
	}
	if (argc > 2 || (argc == 2 && (hk_parse_u64(argv[1], 0, &id) || !id || id > UINT32_MAX))) {
		hk_err("status", "expected at most one session ID; see '%s status --help'", hk_prog);
		return HK_EXIT_ERROR;
	}
	ret = hk_nl_open(&nl);
	if (ret) {
		hk_nl_perror(NULL, "status", "cannot open generic netlink", ret);
		return HK_EXIT_ERROR;
	}
	if (id) {
		ret = hk_nl_get_session(nl, id, &s);
		if (ret)
			hk_nl_perror(nl, "status", "session", ret);
		else
			status_session(&s, &count);
		goto out;
	}
	ret = hk_nl_get_status(nl, &st);
	if (ret) {
		hk_nl_perror(nl, "status", "module status", ret);
		goto out;
	}
	printf("hawkeyes: protocol version %u, %u sessions\n", st.version, st.sessions);
	if (st.max_sessions)
		printf("limits: %u sessions, %u regions and %u bytes per session, %u KiB of buffers\n",
		       st.max_sessions, st.max_regions, st.max_region_bytes, st.max_buffer_kb);
	ret = hk_nl_dump_sessions(nl, status_session, &count);
	if (ret)
		hk_nl_perror(nl, "status", "sessions", ret);
out:
	hk_nl_close(nl);
	return ret ? HK_EXIT_ERROR : HK_EXIT_OK;
}
