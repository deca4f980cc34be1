// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl dump: print a trace file as text or as JSON lines.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "subcommands.h"
#include "trace.h"
#include "util.h"

enum dump_format {
	DUMP_TEXT,
	DUMP_JSON,
};

static void dump_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s dump [--format text|json] FILE\n"
		"\n"
		"Print the trace FILE that 'hkctl attach' or 'hkctl run' recorded.\n"
		"\n"
		"  -f, --format text   (default) a '#' header with the capture settings,\n"
		"                      regions, mappings, threads and lost counts, then one\n"
		"                      record per line:\n"
		"                        time_ns pid tid cpu ip addr size kind value flags\n"
		"                      (ip, addr, value and flags in hex); records of\n"
		"                      'hkctl watch' end in \"seg S+OFF\": segment S, offset\n"
		"                      The trace of a --mode auto capture has a '# phase:'\n"
		"                      line: discovery (page mode, FILE.discovery), or the\n"
		"                      watchpoints on the shared locations or on the whole\n"
		"                      regions (FILE); its records all come from that phase\n"
		"  -f, --format json   one JSON object per record and line, with the keys\n"
		"                      time_ns, pid, tid, cpu, ip, addr, size, kind, value,\n"
		"                      flags (and seg, seg_off for 'hkctl watch' records);\n"
		"                      numbers are JSON numbers, kind is \"R\", \"W\"\n"
		"                      or \"RW\". Nothing else is printed on stdout.\n"
		"  -h, --help          this text\n"
		"\n"
		"A file that is not a trace, of an unknown major version, corrupt or\n"
		"truncated (a capture that did not end cleanly) is reported on stderr\n"
		"with the byte offset of the problem, after the records that could be\n"
		"read were printed.\n"
		"\n"
		"Exit status: 0 the whole file was printed, 2 error.\n",
		hk_prog);
}

/* Watch records add "seg S+0xOFF": the location common to every process. */
static void dump_text_record(const struct hk_trace_rec *r)
{
	printf("%" PRIu64 " %u %u %u 0x%" PRIx64 " 0x%" PRIx64 " %u %s 0x%" PRIx64 " 0x%x",
	       r->time_ns, r->pid, r->tid, r->cpu, r->ip, r->addr, r->size,
	       hk_trace_kind_name(r->kind), r->value, r->flags);
	if (r->flags & HK_TRACE_REC_F_SEG)
		printf(" seg %u+0x%x", r->seg, r->seg_off);
	putchar('\n');
}

static void dump_json_record(const struct hk_trace_rec *r)
{
	printf("{\"time_ns\":%" PRIu64 ",\"pid\":%u,\"tid\":%u,\"cpu\":%u,\"ip\":%" PRIu64
	       ",\"addr\":%" PRIu64 ",\"size\":%u,\"kind\":\"%s\",\"value\":%" PRIu64
	       ",\"flags\":%u",
	       r->time_ns, r->pid, r->tid, r->cpu, r->ip, r->addr, r->size,
	       hk_trace_kind_name(r->kind), r->value, r->flags);
	if (r->flags & HK_TRACE_REC_F_SEG)
		printf(",\"seg\":%u,\"seg_off\":%u", r->seg, r->seg_off);
	printf("}\n");
}

static void dump_text_build_id(const struct hk_trace_map *m)
{
	uint32_t i;

	if (!m->build_id_len) {
		printf("-");
		return;
	}
	for (i = 0; i < m->build_id_len; i++)
		printf("%02x", m->build_id[i]);
}

static void dump_text_lost(const char *what, const struct hk_trace_lost *l)
{
	printf("# %s: kernel lost %" PRIu64 ", throttled %" PRIu64 ", sequence gaps %" PRIu64
	       ", socket overruns %" PRIu64 "\n",
	       what, l->kernel_lost, l->throttled, l->seq_gaps, l->socket_overruns);
}

/* Everything but records, as '#' comments. */
static void dump_text_item(const struct hk_trace_item *it)
{
	const struct hk_trace_meta *m;

	switch (it->type) {
	case HK_TRACE_META:
		m = it->meta;
		printf("# hawkeyes trace: pid %u (%.*s), session %u, mode %s%s\n", m->pid,
		       (int)sizeof(m->comm), m->comm, m->session_id,
		       m->mode == HK_TRACE_MODE_PGPROT ? "page" : "hwbp",
		       m->flags & HK_TRACE_META_F_RUN ? ", started by hkctl run" :
		       m->flags & HK_TRACE_META_F_WATCH ? ", hkctl watch" : "");
		/* --mode auto: every record of this file comes from one phase */
		if (hk_trace_auto_phase_name(m->flags))
			printf("# phase: %s\n", hk_trace_auto_phase_name(m->flags));
		printf("# host: %.*s %.*s; start %" PRIu64 " ns (realtime %" PRIu64 ")\n",
		       (int)sizeof(m->machine), m->machine, (int)sizeof(m->kernel), m->kernel,
		       m->start_time_ns, m->start_realtime_ns);
		printf("# settings: access %s, rotate %" PRIu64 " ns, budget %u hits/s, buffer %u records, %u slots\n",
		       m->access == HK_TRACE_ACCESS_RW ? "rw" : "w", m->rotate_ns, m->budget,
		       m->buffer_records, m->slots);
		break;
	case HK_TRACE_REGION:
		printf("# region 0x%" PRIx64 "+0x%" PRIx64 " %s", it->region.hdr->start,
		       it->region.hdr->len, it->region.spec);
		if (it->region.is_late)
			printf(" late absent_ns %" PRIu64 " seen_ns %" PRIu64 " watched_ns %" PRIu64
			       " rotate_ns %" PRIu64 " slots %u", it->region.late.absent_ns,
			       it->region.late.seen_ns, it->region.late.watched_ns,
			       it->region.late.rotate_ns, it->region.late.slots);
		putchar('\n');
		break;
	case HK_TRACE_MAP:
		printf("# map %" PRIx64 "-%" PRIx64 " %c%c%c%c off 0x%" PRIx64 " bias 0x%" PRIx64
		       " build-id ", it->map.hdr->start, it->map.hdr->end,
		       it->map.hdr->prot & 1 ? 'r' : '-', it->map.hdr->prot & 2 ? 'w' : '-',
		       it->map.hdr->prot & 4 ? 'x' : '-',
		       it->map.hdr->flags & HK_TRACE_MAP_F_SHARED ? 's' : 'p',
		       it->map.hdr->offset, it->map.hdr->bias);
		dump_text_build_id(it->map.hdr);
		printf(" %s\n", it->map.path);
		break;
	case HK_TRACE_PROC:
		printf("# proc %u %.*s (maps below)\n", it->proc->pid,
		       (int)sizeof(it->proc->comm), it->proc->comm);
		break;
	case HK_TRACE_THREAD:
		printf("# thread %u %.*s%s records %" PRIu64 "\n", it->thread->tid,
		       (int)sizeof(it->thread->comm),
		       it->thread->comm[0] ? it->thread->comm : "?",
		       it->thread->flags & HK_TRACE_THREAD_F_LATER ? " (after attach)" : "",
		       it->thread->records);
		break;
	case HK_TRACE_LOST:
		dump_text_lost("lost so far", it->lost);
		break;
	case HK_TRACE_END:
		printf("# end: %s at %" PRIu64 " ns, %" PRIu64 " records\n",
		       hk_trace_end_reason_name(it->end->reason), it->end->end_time_ns,
		       it->end->records);
		dump_text_lost("lost", &it->end->lost);
		break;
	}
}

static int dump_file(const char *path, enum dump_format fmt)
{
	struct hk_trace_item it;
	struct hk_trace *t;
	size_t i;
	int ret;

	ret = hk_trace_open(path, &t);
	while (!ret) {
		ret = hk_trace_next(t, &it);
		if (ret <= 0)
			break;
		ret = 0;
		if (it.type != HK_TRACE_RECORDS) {
			if (fmt == DUMP_TEXT)
				dump_text_item(&it);
			continue;
		}
		for (i = 0; i < it.records.count; i++) {
			if (fmt == DUMP_JSON)
				dump_json_record(&it.records.recs[i]);
			else
				dump_text_record(&it.records.recs[i]);
		}
	}
	fflush(stdout);
	if (ret < 0)
		hk_err("dump", "%s", t ? hk_trace_errmsg(t) : strerror(-ret));
	hk_trace_close(t);
	return ret < 0 ? HK_EXIT_ERROR : HK_EXIT_OK;
}

int dump_main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	enum dump_format fmt = DUMP_TEXT;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "text")) {
				fmt = DUMP_TEXT;
			} else if (!strcmp(optarg, "json")) {
				fmt = DUMP_JSON;
			} else {
				hk_err("dump", "unknown format '%s': use text or json", optarg);
				return HK_EXIT_ERROR;
			}
			break;
		case 'h':
			dump_usage(stdout);
			return HK_EXIT_OK;
		default:
			hk_err("dump", "bad option '%s'; see '%s dump --help'", argv[optind - 1],
			       hk_prog);
			return HK_EXIT_ERROR;
		}
	}
	if (optind != argc - 1) {
		hk_err("dump", "expected exactly one trace FILE; see '%s dump --help'", hk_prog);
		return HK_EXIT_ERROR;
	}
	return dump_file(argv[optind], fmt);
}
