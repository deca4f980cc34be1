// SPDX-License-Identifier: GPL-2.0
/*
 * hkctl watch: whole-system capture of shared memory segments, in every
 * process that maps them (HK_CMD_WATCH; Documentation/hawkeyes/capture.rst,
 * "Watching shared memory").
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "capture.h"
#include "nl.h"
#include "shm.h"
#include "subcommands.h"
#include "util.h"

#define WATCH_DEFAULT_MAX_BYTES	(64u << 10)
#define WATCH_MAX_SEGS		HK_MAX_SEGMENTS

enum { OPT_MAX_BYTES = 0x200 };

static void watch_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s watch --shm SEG [--shm SEG]... [options]\n"
		"\n"
		"Watch shared memory segments in every process that maps them, processes\n"
		"that map them later included, with hardware watchpoints on all their\n"
		"threads, and record every access to a trace file. Records carry the\n"
		"segment offset, so accesses of different processes to one location are\n"
		"one location for the report, which names process and thread of each side.\n"
		"A process that unmaps the segment, execs or exits leaves the watch; the\n"
		"watch ends with --duration, SIGINT/SIGTERM, 'hkctl detach', or when every\n"
		"segment was removed (IPC_RMID, shm_unlink, last memfd reference) and no\n"
		"process maps it. Needs CAP_SYS_ADMIN.\n"
		"\n"
		"  -s, --shm SEG[@OFF[+LEN]]\n"
		"                      a segment, and optionally the bytes of it to watch\n"
		"                      (default: all of it, up to --max-bytes):\n"
		"                        sysv:KEY       System V segment by key\n"
		"                        sysv-id:ID     System V segment by shmid\n"
		"                        posix:NAME     POSIX shm object (/dev/shm/NAME)\n"
		"                        /dev/shm/NAME  the same\n"
		"                        memfd:PID:FD   the memfd open as FD in process PID\n"
		"                        all            every segment 'hkctl shm' lists\n"
		"      --max-bytes N   watch at most N bytes in all (default 64K; the\n"
		"                      module's max_region_bytes is the hard limit)\n",
		hk_prog);
	hk_capture_help(f);
	fprintf(f, "\nReport options (as for 'hkctl report'):\n");
	hk_analysis_help(f, 1);
	fprintf(f,
		"  -h, --help          this text\n"
		"\n"
		"Example:\n"
		"  %s watch --shm posix:ring --shm sysv:0x1234 -d 10s -o ring.trace\n"
		"\n"
		"Exit status: 0 the capture ran and the report has no porting finding\n"
		"(or --no-report), 1 porting findings reported, 2 error.\n",
		hk_prog);
}

/* SEG[@OFF[+LEN]] into @g; 0 or an error printed. */
static int watch_add(const char *arg, struct hk_capture_seg *g, pid_t **pids, size_t *npids,
		     uint64_t *left)
{
	char spec[256], err[512];
	uint64_t off = 0, len = 0;
	struct hk_shm s;
	char *at, *plus;
	size_t i, k;

	snprintf(spec, sizeof(spec), "%s", arg);
	at = strrchr(spec, '@');
	if (at) {
		*at++ = '\0';
		plus = strchr(at, '+');
		if (plus)
			*plus++ = '\0';
		if (hk_parse_u64(at, 1, &off) || (plus && (hk_parse_u64(plus, 1, &len) || !len))) {
			hk_err("watch", "--shm '%s': expected SEG@OFFSET[+LEN]", arg);
			return -EINVAL;
		}
	}
	if (hk_shm_resolve(spec, &s, err, sizeof(err))) {
		hk_err("watch", "--shm %s", err);
		return -EINVAL;
	}
	if (off >= s.size) {
		hk_err("watch", "--shm '%s': offset %" PRIu64 " is past the segment's %" PRIu64
		       " bytes", arg, off, s.size);
		hk_shm_free(&s);
		return -EINVAL;
	}
	if (!len || off + len > s.size)
		len = s.size - off;
	if (len > *left) {
		fprintf(stderr, "%s watch: %s: watching %" PRIu64 " of %" PRIu64
			" bytes (--max-bytes)\n", hk_prog, s.name, *left, len);
		len = *left;
	}
	*left -= len;
	g->kind = s.kind;
	g->major = s.major;
	g->minor = s.minor;
	g->ino = s.ino;
	g->off = off;
	g->len = len;
	snprintf(g->spec, sizeof(g->spec), "%.200s@%" PRIu64 "+%" PRIu64, s.name, off, len);
	for (i = 0; i < s.npids; i++) {
		for (k = 0; k < *npids && (*pids)[k] != s.pids[i]; k++)
			;
		if (k == *npids) {
			pid_t *v = realloc(*pids, (*npids + 1) * sizeof(*v));

			if (!v)
				break;
			*pids = v;
			v[(*npids)++] = s.pids[i];
		}
	}
	hk_shm_free(&s);
	return 0;
}

int watch_main(int argc, char *argv[])
{
	struct hk_capture_seg segs[WATCH_MAX_SEGS];
	const char *args[WATCH_MAX_SEGS];
	struct hk_capture_target t = { 0 };
	uint64_t max_bytes = WATCH_DEFAULT_MAX_BYTES, left;
	struct hk_analysis_opts ao;
	struct hk_capture_opts o;
	struct option *lo;
	size_t nargs = 0, nsegs = 0, n, i;
	pid_t *pids = NULL;
	int c, ret, all = 0;

	for (n = 0; hk_capture_longopts[n].name; n++)
		;
	lo = calloc(n + 3, sizeof(*lo));
	if (!lo)
		return HK_EXIT_ERROR;
	memcpy(lo, hk_capture_longopts, n * sizeof(*lo));
	lo[n++] = (struct option){ "shm", required_argument, NULL, 's' };
	lo[n++] = (struct option){ "max-bytes", required_argument, NULL, OPT_MAX_BYTES };

	hk_capture_opts_init(&o);
	hk_analysis_opts_init(&ao);
	opterr = 0;
	ret = -1;
	while (ret < 0 && (c = getopt_long(argc, argv, "s:d:o:h", lo, NULL)) != -1) {
		if (c == 'h') {
			watch_usage(stdout);
			ret = HK_EXIT_OK;
		} else if (c == '?' || c == ':') {
			hk_err("watch", "bad option '%s'; see '%s watch --help'", argv[optind - 1],
			       hk_prog);
			ret = HK_EXIT_ERROR;
		} else if (c == 's') {
			if (!strcmp(optarg, "all")) {
				all = 1;
			} else if (nargs == WATCH_MAX_SEGS) {
				hk_err("watch", "at most %d --shm options", WATCH_MAX_SEGS);
				ret = HK_EXIT_ERROR;
			} else {
				args[nargs++] = optarg;
			}
		} else if (c == OPT_MAX_BYTES) {
			if (hk_parse_u64(optarg, 1, &max_bytes) || !max_bytes ||
			    max_bytes > (1ull << 32)) {
				hk_err("watch", "--max-bytes '%s': expected a size from 1 to 4G",
				       optarg);
				ret = HK_EXIT_ERROR;
			}
		} else if (c == 'r') {
			hk_err("watch", "--region is for attach and run; watch takes --shm");
			ret = HK_EXIT_ERROR;
		} else {
			ret = hk_capture_parse_opt(&o, "watch", c, optarg);
			if (ret == 1)
				ret = hk_analysis_parse_opt(&ao, "watch", c, optarg);
			ret = ret ? HK_EXIT_ERROR : -1;
		}
	}
	free(lo);
	if (ret >= 0)
		return ret;
	if (optind != argc) {
		hk_err("watch", "unexpected argument '%s'; see '%s watch --help'", argv[optind],
		       hk_prog);
		return HK_EXIT_ERROR;
	}
	if (o.mode == HK_MODE_PGPROT || o.mode == HK_CAPTURE_MODE_AUTO || o.page_budget ||
	    o.discover_ns) {
		hk_err("watch", "--mode page/auto is not available for watch yet: it uses "
		       "hardware watchpoints");
		return HK_EXIT_ERROR;
	}
	if (!nargs && !all) {
		hk_err("watch", "no --shm given: say which segments to watch ('%s shm' lists them)",
		       hk_prog);
		return HK_EXIT_ERROR;
	}
	left = max_bytes;
	for (i = 0; i < nargs; i++) {
		if (!left) {
			fprintf(stderr, "%s watch: --max-bytes reached: %s not watched\n", hk_prog,
				args[i]);
			continue;
		}
		if (watch_add(args[i], &segs[nsegs], &pids, &t.npids, &left)) {
			free(pids);
			return HK_EXIT_ERROR;
		}
		nsegs++;
	}
	if (all) {
		struct hk_shm *v;
		size_t nv;

		hk_shm_list(&v, &nv);
		for (i = 0; i < nv && nsegs < WATCH_MAX_SEGS; i++) {
			if (!v[i].size || !strcmp(v[i].name, "-"))
				continue;
			if (!left) {
				fprintf(stderr, "%s watch: --max-bytes reached: %s not watched\n",
					hk_prog, v[i].name);
				continue;
			}
			if (!watch_add(v[i].name, &segs[nsegs], &pids, &t.npids, &left))
				nsegs++;
		}
		hk_shm_list_free(v, nv);
		if (!nsegs) {
			hk_err("watch", "--shm all: no segment to watch");
			return HK_EXIT_ERROR;
		}
	}
	for (i = 0; i < nsegs; i++)
		fprintf(stderr, "%s watch: segment %zu: %s\n", hk_prog, i + 1, segs[i].spec);
	t.segs = segs;
	t.nsegs = nsegs;
	t.pids = pids;
	ret = hk_capture("watch", &t, &o);
	free(pids);
	if (ret == HK_EXIT_OK && ao.enabled)
		ret = hk_analysis_report("watch", o.output, &ao);
	return ret;
}
