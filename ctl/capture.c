// SPDX-License-Identifier: GPL-2.0
/*
 * The capture loop shared by 'hkctl attach' and 'hkctl run' (see
 * capture.h).
 *
 * One thread, one poll(): the session socket (records, end), a signalfd
 * (SIGINT, SIGTERM, SIGCHLD) and a timeout for the status line and
 * --duration. Records are written to the trace as each netlink batch
 * arrives, so the socket is drained as fast as the file takes them; what
 * the module could not deliver it counts, and the sequence numbers of the
 * records let hkctl check that count independently.
 *
 * Every way out (duration, signal, target exit, END from the module,
 * error) goes through capture_finish(): detach if the session is still
 * live, drain until END (bounded wait), write THREAD, LOST and END chunks,
 * close the file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "analysis.h"
#include "calibrate.h"
#include "capture.h"
#include "maps.h"
#include "nl.h"
#include "region.h"
#include "shm.h"
#include "subcommands.h"
#include "trace.h"
#include "util.h"

#define CAPTURE_TICK_MS		200
#define CAPTURE_STATUS_NS	1000000000ull
#define CAPTURE_END_WAIT_MS	3000
/* hkctl run: how often the maps are read while a mapping SPEC is not there yet */
#define CAPTURE_MAPS_MS		10

/* ---- options ---- */

enum {
	OPT_ROTATE = 0x100,
	OPT_BUDGET,
	OPT_BUFFER,
	OPT_ACCESS,
	OPT_SLOTS,
	OPT_MODE,
	OPT_PAGE_BUDGET,
	OPT_DISCOVER,
	OPT_RCVBUF,
	OPT_STATUS,
	OPT_NO_STATUS,
};

const char hk_capture_optstring[] = "r:d:o:h";

const struct option hk_capture_longopts[] = {
	{ "region", required_argument, NULL, 'r' },
	{ "duration", required_argument, NULL, 'd' },
	{ "output", required_argument, NULL, 'o' },
	{ "rotate", required_argument, NULL, OPT_ROTATE },
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "buffer", required_argument, NULL, OPT_BUFFER },
	{ "access", required_argument, NULL, OPT_ACCESS },
	{ "slots", required_argument, NULL, OPT_SLOTS },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "page-budget", required_argument, NULL, OPT_PAGE_BUDGET },
	{ "discover", required_argument, NULL, OPT_DISCOVER },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "no-status", no_argument, NULL, OPT_NO_STATUS },
	HK_ANALYSIS_LONGOPTS,
	{ "help", no_argument, NULL, 'h' },
	{ }
};

void hk_capture_opts_init(struct hk_capture_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->output = HK_CAPTURE_DEFAULT_OUT;
	o->rcvbuf = HK_CAPTURE_DEFAULT_RCVBUF;
	o->status_line = -1;
}

void hk_capture_help(FILE *f)
{
	fprintf(f,
		"  -r, --region SPEC   memory to watch; repeat for more regions (at least one):\n"
		"                        ADDR+LEN      0x7f12345000+64 (LEN may end in K, M, G)\n"
		"                        START-END     0x404000-0x404100 (END exclusive)\n"
		"                        SYMBOL[+LEN]  a data symbol of the executable or of a\n"
		"                                      library it maps; size from the symbol\n"
		"                                      table unless +LEN; PIE/library load\n"
		"                                      bias is added\n"
		"                        NAME          a /proc/PID/maps name: [heap], a file\n"
		"                                      path, /dev/shm/NAME; all its writable\n"
		"                                      mappings\n"
		"                      A SPEC that matches nothing is an error that names it.\n"
		"  -o, --output FILE   trace file (default %s; overwritten)\n"
		"  -d, --duration T    stop after T (seconds, or with ms/s/m/h suffix)\n"
		"      --mode auto|hwbp|page\n"
		"                      capture mechanism. hwbp: hardware watchpoints (a few\n"
		"                      exact addresses at a time, rotated); page: page\n"
		"                      protection (x86-64: every page of the regions faults\n"
		"                      on its next access, re-armed every 10 ms within\n"
		"                      --page-budget; exact ip and address, R or W);\n"
		"                      auto (default): page mode for --discover into\n"
		"                      FILE.discovery, then watchpoints on the 8-byte\n"
		"                      locations it saw accessed by two or more threads, at\n"
		"                      least one writing, into FILE; if none, page mode goes\n"
		"                      on over the regions into FILE. Auto goes to\n"
		"                      watchpoints on the whole regions\n"
		"                      at once, saying why in one line, when they fit in\n"
		"                      the watchpoints without rotation (--slots, 4), when\n"
		"                      the module refuses page mode (arm64), or when a\n"
		"                      region of 'run' is not mapped yet at main\n"
		"      --discover T    auto: length of the discovery (default 2s; half of\n"
		"                      --duration if that is shorter)\n"
		"      --page-budget N at most N faults per second in page mode (default:\n"
		"                      the module's page_budget, %u); pages not re-armed\n"
		"                      for it are counted as throttled\n"
		"      --access w|rw   watch writes only or reads and writes (x86\n"
		"                      watchpoints cannot tell which: kind RW; page mode\n"
		"                      says R or W). Default: the module's, w for\n"
		"                      watchpoints, rw for page mode (a read fault\n"
		"                      restores the page for the writes after it)\n"
		"      --rotate T      move the watchpoints over the regions every T\n"
		"                      (default: the module's, %u ms); 0 or off: no rotation,\n"
		"                      the regions must then fit the debug registers\n"
		"      --budget N      at most N hits per second (default: module's, %u;\n"
		"                      auto: what %d%% of a CPU buys at the cost of a hit\n"
		"                      measured here before its watchpoints go on, at\n"
		"                      most the module's); the watchpoints pause for the\n"
		"                      rest of the 10 ms tick once it is spent, the hit\n"
		"                      over budget is counted as throttled\n"
		"      --buffer N      module buffer of N records per session (K/M suffixes;\n"
		"                      default: module's, %u); when full, records are lost\n"
		"                      and counted\n"
		"      --slots N       watchpoints per thread, 1-%u (default: all)\n"
		"      --rcvbuf SIZE   netlink receive buffer (default 8M; above\n"
		"                      net.core.rmem_max only as root)\n"
		"      --status, --no-status\n"
		"                      live status line on stderr (default: when stderr is a\n"
		"                      terminal): records, rate, lost, threads\n",
		HK_CAPTURE_DEFAULT_OUT, HK_DEFAULT_PAGE_BUDGET, HK_DEFAULT_ROTATE_MS,
		HK_DEFAULT_BUDGET, HK_CAL_SHARE_PCT,
		HK_DEFAULT_BUFFER, HK_MAX_SLOTS);
}

static int parse_u32(const char *cmd, const char *opt, const char *arg, int units,
		     uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (hk_parse_u64(arg, units, &v) || v < min || v > max) {
		hk_err(cmd, "--%s '%s': expected a number from %u to %u", opt, arg, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int hk_capture_parse_opt(struct hk_capture_opts *o, const char *cmd, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case 'r':
		if (o->nspecs == HK_CAPTURE_MAX_SPECS) {
			hk_err(cmd, "at most %d --region options", HK_CAPTURE_MAX_SPECS);
			return -EINVAL;
		}
		o->specs[o->nspecs++] = arg;
		return 0;
	case 'o':
		if (!arg[0]) {
			hk_err(cmd, "--output needs a file name");
			return -EINVAL;
		}
		o->output = arg;
		return 0;
	case 'd':
		if (hk_parse_duration(arg, 1000000000ull, &o->duration_ns) || !o->duration_ns) {
			hk_err(cmd, "--duration '%s': expected a time > 0 such as 10, 1.5s, 500ms, 2m",
			       arg);
			return -EINVAL;
		}
		return 0;
	case OPT_ACCESS:
		if (!strcmp(arg, "w")) {
			o->access = HK_ACCESS_W;
		} else if (!strcmp(arg, "rw")) {
			o->access = HK_ACCESS_RW;
		} else {
			hk_err(cmd, "--access '%s': expected w or rw", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_MODE:
		if (!strcmp(arg, "hwbp")) {
			o->mode = HK_MODE_HWBP;
		} else if (!strcmp(arg, "page")) {
			o->mode = HK_MODE_PGPROT;
		} else if (!strcmp(arg, "auto")) {
			o->mode = HK_CAPTURE_MODE_AUTO;
		} else {
			hk_err(cmd, "--mode '%s': expected hwbp, page or auto", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_PAGE_BUDGET:
		return parse_u32(cmd, "page-budget", arg, 1, 1, HK_MAX_BUDGET, &o->page_budget);
	case OPT_DISCOVER:
		if (hk_parse_duration(arg, 1000000000ull, &o->discover_ns) || !o->discover_ns) {
			hk_err(cmd, "--discover '%s': expected a time > 0 such as 2, 500ms", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_ROTATE:
		o->rotate_set = 1;
		if (!strcmp(arg, "off")) {
			o->rotate_ms = 0;
			return 0;
		}
		if (hk_parse_duration(arg, 1000000ull, &v) || v / 1000000 > HK_MAX_ROTATE_MS ||
		    (v && v < 1000000)) {
			hk_err(cmd, "--rotate '%s': expected off, 0, or a period from 1ms to %us",
			       arg, HK_MAX_ROTATE_MS / 1000);
			return -EINVAL;
		}
		o->rotate_ms = v / 1000000;
		return 0;
	case OPT_BUDGET:
		return parse_u32(cmd, "budget", arg, 1, 1, HK_MAX_BUDGET, &o->budget);
	case OPT_BUFFER:
		return parse_u32(cmd, "buffer", arg, 1, HK_MIN_BUFFER, UINT32_MAX, &o->buffer);
	case OPT_SLOTS:
		return parse_u32(cmd, "slots", arg, 0, 1, HK_MAX_SLOTS, &o->slots);
	case OPT_RCVBUF:
		if (hk_parse_u64(arg, 1, &o->rcvbuf) || o->rcvbuf < 4096 || o->rcvbuf > (1u << 30)) {
			hk_err(cmd, "--rcvbuf '%s': expected a size from 4K to 1G", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_STATUS:
		o->status_line = 1;
		return 0;
	case OPT_NO_STATUS:
		o->status_line = 0;
		return 0;
	}
	return 1;
}

int hk_capture_parse_args(int argc, char *argv[], const char *cmd, const char *optstring,
			  void (*usage)(FILE *f), struct hk_capture_opts *o,
			  struct hk_analysis_opts *ao)
{
	int c, ret;

	hk_capture_opts_init(o);
	o->mode = HK_CAPTURE_MODE_AUTO;	/* attach and run; watch keeps hwbp */
	hk_analysis_opts_init(ao);
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, hk_capture_longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return HK_EXIT_OK;
		}
		if (c == '?' || c == ':') {
			hk_err(cmd, "bad option '%s'; see '%s %s --help'", argv[optind - 1],
			       hk_prog, cmd);
			return HK_EXIT_ERROR;
		}
		ret = hk_capture_parse_opt(o, cmd, c, optarg);
		if (ret == 1)
			ret = hk_analysis_parse_opt(ao, cmd, c, optarg);
		if (ret)
			return HK_EXIT_ERROR;
	}
	return -1;
}

/* ---- capture state ---- */

struct cap_thread {
	uint32_t tid;
	uint32_t flags;
	uint64_t records;
	char comm[16];		/* read when first seen: it may be gone at the end */
};

struct cap_range {
	uint64_t start;
	uint64_t end;
};

/* A watch's process whose PROC and MAP chunks are in the trace. */
struct cap_proc {
	uint32_t pid;
	uint64_t records;
};

/*
 * hkctl run: a mapping-name SPEC the target did not map yet at main. The
 * maps are read every CAPTURE_MAPS_MS until it appears; then it is added
 * to the session (HK_CMD_ADD_REGIONS), or is part of the ATTACH when no
 * region existed at main.
 */
enum cap_pending_state {
	CAP_PENDING,		/* not mapped yet */
	CAP_PENDING_SEEN,	/* resolved before ATTACH, goes with it */
	CAP_PENDING_WATCHED,	/* the module watches it */
	CAP_PENDING_FAILED,	/* appeared, but could not be watched (said why) */
};

struct cap_pending {
	const char *spec;
	enum cap_pending_state state;
	uint64_t absent_ns;	/* start of the last read of the maps without it */
	uint64_t seen_ns;	/* end of the first read with it */
};

struct cap {
	const char *cmd;
	const struct hk_capture_opts *o;
	struct hk_capture_target *t;
	struct hk_trace *trace;
	struct hk_nl *sess;		/* session socket: records and END */
	struct hk_nl *query;		/* request socket: GET_SESSION, DETACH */
	struct hk_nl_session info;	/* as attached */
	uint32_t id;
	uint64_t start_ns;
	/* counters */
	uint64_t received;
	uint64_t max_seq;
	uint64_t kernel_lost;
	uint64_t throttled;
	uint64_t overruns;
	uint64_t last_lost_written;
	uint64_t next_lost_ns;		/* LOST chunks at most once a second */
	uint64_t next_flush_ns;		/* file flushed once a second */
	uint64_t next_mappers_ns;	/* watch: mappers looked for once a second */
	int write_error;
	/* threads seen */
	struct cap_thread *threads;
	size_t nthreads;
	/* watch: processes seen */
	struct cap_proc *procs;
	size_t nprocs;
	/* mappings written to the trace, to notice code mapped after attach */
	struct cap_range *known;
	size_t nknown;
	size_t last_known;		/* index of the last range an ip fell in */
	int maps_stale;			/* a record's ip is in no known mapping */
	uint64_t final_sequenced;	/* from END: hits that got a sequence number */
	struct hk_nl_session final;	/* from END: the session's last counters */
	/* records read before the ATTACH reply, written after the header */
	struct hk_record *early;
	size_t nearly;
	/* hkctl run: mapping SPECs that appear later */
	struct cap_pending *pending;
	size_t npending;
	size_t nwaiting;		/* of them still CAP_PENDING */
	uint64_t next_maps_ns;
	uint64_t attached_ns;		/* ATTACH reply received */
	int resumed;			/* t->resume() done */
	int late_error;			/* a pending SPEC failed or never came */
	/* --mode auto's discovery: the module refused page mode (EOPNOTSUPP) */
	char refusal[256];
	/* end */
	int ended;			/* END received */
	uint32_t end_reason;		/* enum hk_trace_end_reason */
	/* status line */
	int status;
	int status_shown;
	uint64_t next_status_ns;
	uint64_t last_received;
	uint64_t last_status_ns;
};

static void read_comm(pid_t pid, pid_t tid, char *buf, size_t size);
static int cap_write_proc(struct cap *c, uint32_t pid);

static struct cap_thread *cap_thread(struct cap *c, uint32_t pid, uint32_t tid)
{
	struct cap_thread *v;
	size_t i;

	/* Threads are few and hits of one thread come in runs: check the last first. */
	for (i = c->nthreads; i-- > 0;)
		if (c->threads[i].tid == tid)
			return &c->threads[i];
	v = realloc(c->threads, (c->nthreads + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->threads = v;
	v = &c->threads[c->nthreads++];
	v->tid = tid;
	v->flags = HK_TRACE_THREAD_F_LATER;
	v->records = 0;
	read_comm(pid, tid, v->comm, sizeof(v->comm));
	return v;
}

/*
 * A watch record's process: the first record of a process writes its PROC
 * chunk and maps, read now while it most likely still runs.
 */
static struct cap_proc *cap_proc(struct cap *c, uint32_t pid)
{
	struct cap_proc *v;
	size_t i;

	for (i = c->nprocs; i-- > 0;)
		if (c->procs[i].pid == pid)
			return &c->procs[i];
	v = realloc(c->procs, (c->nprocs + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->procs = v;
	v = &c->procs[c->nprocs++];
	v->pid = pid;
	v->records = 0;
	if (cap_write_proc(c, pid) && !c->write_error) {
		c->write_error = -EIO;
		hk_err(c->cmd, "%s", hk_trace_errmsg(c->trace));
	}
	return v;
}

/*
 * Is @ip inside a mapping already in the trace? Hits of one store come in
 * runs, so the last range found is tried first.
 */
static int cap_ip_known(struct cap *c, uint64_t ip)
{
	size_t i;

	if (c->last_known < c->nknown && c->known[c->last_known].start <= ip &&
	    ip < c->known[c->last_known].end)
		return 1;
	for (i = 0; i < c->nknown; i++) {
		if (c->known[i].start <= ip && ip < c->known[i].end) {
			c->last_known = i;
			return 1;
		}
	}
	return 0;
}

static void cap_on_records(void *arg, uint32_t session, const struct hk_record *recs, size_t n,
			   uint64_t lost, uint64_t throttled)
{
	struct hk_trace_rec out[HK_RECORDS_PER_MSG];
	struct cap *c = arg;
	struct cap_thread *thr;
	struct cap_proc *proc;
	size_t i, k;
	int ret;

	/*
	 * c->id is 0 until the ATTACH reply is read, and the module may send
	 * a first batch before that reply (the session runs from the moment
	 * it is armed). The socket is this session's alone: keep the batch
	 * until the trace header is written (cap_flush_early()). Should the
	 * copy fail, the records show as sequence gaps, counted as lost.
	 */
	if (!c->id) {
		struct hk_record *p = realloc(c->early, (c->nearly + n) * sizeof(*p));

		if (p) {
			memcpy(p + c->nearly, recs, n * sizeof(*p));
			c->early = p;
			c->nearly += n;
		}
		return;
	}
	if (session != c->id)
		return;
	c->kernel_lost = lost;
	c->throttled = throttled;
	/* A watch: new processes' PROC and MAP chunks go before the records. */
	for (i = 0; c->t->nsegs && i < n; i++)
		cap_proc(c, recs[i].pid);
	for (i = 0; i < n; i += k) {
		for (k = 0; k < HK_RECORDS_PER_MSG && i + k < n; k++) {
			const struct hk_record *r = &recs[i + k];
			struct hk_trace_rec *w = &out[k];

			memset(w, 0, sizeof(*w));
			w->time_ns = r->time_ns;
			w->seq = r->seq;
			w->ip = r->ip;
			w->addr = r->addr;
			w->value = r->value;
			w->pid = r->pid;
			w->tid = r->tid;
			w->cpu = r->cpu;
			w->flags = r->flags;
			w->size = r->size;
			w->kind = r->kind;	/* enum hk_trace_kind == enum hk_kind */
			w->seg = r->seg;
			w->seg_off = r->seg_off;
			if (r->seq > c->max_seq || !c->received)
				c->max_seq = r->seq;
			c->received++;
			thr = cap_thread(c, c->t->nsegs ? r->pid : (uint32_t)c->t->pid, r->tid);
			if (thr)
				thr->records++;
			if (c->t->nsegs) {
				proc = cap_proc(c, r->pid);
				if (proc)
					proc->records++;
			} else if (!c->maps_stale && !cap_ip_known(c, r->ip)) {
				c->maps_stale = 1;
			}
		}
		ret = hk_trace_write_records(c->trace, out, k);
		if (ret && !c->write_error) {
			c->write_error = ret;
			hk_err(c->cmd, "%s", hk_trace_errmsg(c->trace));
		}
	}
}

static void cap_on_end(void *arg, uint32_t session, uint32_t reason, uint64_t lost,
		       uint64_t throttled, const struct hk_nl_session *final)
{
	struct cap *c = arg;

	/*
	 * c->id is 0 when END comes before the ATTACH reply (a target that
	 * exits at once): the socket is this session's alone, so it is ours.
	 */
	if (c->id && session != c->id)
		return;
	c->ended = 1;
	c->kernel_lost = lost;
	c->throttled = throttled;
	c->final = *final;
	/* Page mode throttles re-arms, not faults: every fault has a number. */
	if (final->mode == HK_MODE_PGPROT)
		c->final_sequenced = final->hits;
	else if (final->hits >= final->throttled)
		c->final_sequenced = final->hits - final->throttled;
	switch (reason) {
	case HK_END_DETACH:
		if (!c->end_reason)
			c->end_reason = HK_TRACE_END_DETACHED;
		break;
	case HK_END_TARGET_EXIT:
		c->end_reason = HK_TRACE_END_TARGET_EXIT;
		break;
	case HK_END_TARGET_EXEC:
		c->end_reason = HK_TRACE_END_TARGET_EXEC;
		break;
	case HK_END_SEGMENT_GONE:
		c->end_reason = HK_TRACE_END_SEGMENT_GONE;
		break;
	default:
		c->end_reason = HK_TRACE_END_KERNEL;
		break;
	}
}

/*
 * Records missing from the sequence. Gaps below the highest number seen
 * show while capturing; records lost at the very end leave no gap, so
 * once END tells how many hits got a number, that count is the total.
 */
static uint64_t cap_seq_gaps(const struct cap *c)
{
	uint64_t sequenced = c->received ? c->max_seq + 1 : 0;

	if (c->final_sequenced > sequenced)
		sequenced = c->final_sequenced;
	return sequenced > c->received ? sequenced - c->received : 0;
}

static void cap_lost(const struct cap *c, struct hk_trace_lost *l)
{
	memset(l, 0, sizeof(*l));
	l->kernel_lost = c->kernel_lost;
	l->throttled = c->throttled;
	l->seq_gaps = cap_seq_gaps(c);
	l->socket_overruns = c->overruns;
}

/* ---- what goes into the trace before the records ---- */

static void read_comm(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	memset(buf, 0, size);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static int cap_write_meta(struct cap *c)
{
	struct hk_trace_meta m = { 0 };
	struct utsname u;

	m.start_realtime_ns = hk_realtime_ns();
	m.start_time_ns = c->start_ns;
	m.pid = c->t->pid;	/* 0 for a watch */
	m.session_id = c->id;
	m.mode = c->info.mode ? c->info.mode : HK_MODE_HWBP;
	m.access = c->info.access;
	m.rotate_ns = (uint64_t)c->info.rotate_ms * 1000000;
	m.budget = c->info.budget;
	m.buffer_records = c->info.buffer;
	m.slots = c->info.slots;
	m.flags = c->t->started ? HK_TRACE_META_F_RUN : 0;
	if (c->t->nsegs)
		m.flags |= HK_TRACE_META_F_WATCH;
	m.flags |= c->o->auto_phase;
	if (!uname(&u)) {
		/* fixed-size fields, NUL-padded; a cut name is still useful */
		memcpy(m.machine, u.machine, strnlen(u.machine, sizeof(m.machine) - 1));
		memcpy(m.kernel, u.release, strnlen(u.release, sizeof(m.kernel) - 1));
	}
	if (c->t->nsegs)
		snprintf(m.comm, sizeof(m.comm), "hkctl watch");
	else
		read_comm(c->t->pid, c->t->pid, m.comm, sizeof(m.comm));
	return hk_trace_write_meta(c->trace, &m);
}

/* Build-id and load bias of the ELF file behind a mapping; silent when not ELF. */
static void cap_map_elf(const struct hk_maps *maps, const char *path, struct hk_trace_map *tm)
{
	Elf *elf;
	int fd;

	fd = hk_maps_open_file(maps, path);
	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		tm->flags |= HK_TRACE_MAP_F_ELF;
		tm->build_id_len = hk_maps_elf_build_id(elf, tm->build_id, sizeof(tm->build_id));
		if (hk_maps_elf_bias(maps, path, elf, &tm->bias))
			tm->bias = 0;
	}
	if (elf)
		elf_end(elf);
	close(fd);
}

static int cap_map_known(const struct cap *c, const struct hk_map *m)
{
	size_t i;

	for (i = 0; i < c->nknown; i++)
		if (c->known[i].start == m->start && c->known[i].end == m->end)
			return 1;
	return 0;
}

/*
 * Write the mappings the trace does not have yet: all of them at attach,
 * the new ones later (see cap_refresh_maps()).
 */
static int cap_write_maps_of(struct cap *c, const struct hk_maps *maps, int watch);

static int cap_write_maps(struct cap *c, const struct hk_maps *maps)
{
	return cap_write_maps_of(c, maps, 0);
}

/* A watch's process: PROC, then all its mappings (known ranges are per process). */
static int cap_write_proc(struct cap *c, uint32_t pid)
{
	struct hk_trace_proc p = { .pid = pid };
	struct hk_maps maps;
	int ret;

	read_comm(pid, pid, p.comm, sizeof(p.comm));
	ret = hk_trace_write_proc(c->trace, &p);
	if (ret || hk_maps_read(pid, &maps))
		return ret;	/* gone already: its ips stay unresolved */
	ret = cap_write_maps_of(c, &maps, 1);
	hk_maps_free(&maps);
	return ret;
}

static int cap_write_maps_of(struct cap *c, const struct hk_maps *maps, int watch)
{
	struct hk_trace_map tm, prev = { 0 };
	const char *prev_path = NULL;
	struct cap_range *v;
	size_t i;
	int ret;

	for (i = 0; i < maps->n; i++) {
		const struct hk_map *m = &maps->v[i];

		if (!watch && cap_map_known(c, m))
			continue;
		memset(&tm, 0, sizeof(tm));
		tm.start = m->start;
		tm.end = m->end;
		tm.offset = m->offset;
		tm.prot = m->prot;
		tm.flags = m->shared ? HK_TRACE_MAP_F_SHARED : 0;
		if (hk_maps_is_file(m->path)) {
			/* an object's mappings are adjacent: read each ELF file once */
			if (prev_path && !strcmp(prev_path, m->path)) {
				tm.flags |= prev.flags & HK_TRACE_MAP_F_ELF;
				tm.bias = prev.bias;
				tm.build_id_len = prev.build_id_len;
				memcpy(tm.build_id, prev.build_id, sizeof(tm.build_id));
			} else {
				cap_map_elf(maps, m->path, &tm);
			}
			prev = tm;
			prev_path = m->path;
		}
		ret = hk_trace_write_map(c->trace, &tm, m->path);
		if (ret)
			return ret;
		if (watch)
			continue;
		v = realloc(c->known, (c->nknown + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->known = v;
		c->known[c->nknown].start = m->start;
		c->known[c->nknown].end = m->end;
		c->nknown++;
	}
	return 0;
}

/*
 * A record's ip lies outside every mapping in the trace: the target
 * mapped code after attach (dlopen(), a JIT). Append the new mappings, so
 * that offline analysis can place that ip; at most once a second, and
 * only while the target lives.
 */
static void cap_refresh_maps(struct cap *c)
{
	struct hk_maps maps;

	if (c->t->nsegs || !c->maps_stale || hk_maps_read(c->t->pid, &maps))
		return;
	if (cap_write_maps(c, &maps) && !c->write_error) {
		c->write_error = -EIO;
		hk_err(c->cmd, "%s", hk_trace_errmsg(c->trace));
	}
	hk_maps_free(&maps);
	c->maps_stale = 0;
}

/* The threads that exist now; later ones are found in the records. */
static int cap_write_threads(struct cap *c)
{
	struct hk_trace_thread tt;
	struct cap_thread *thr;
	struct dirent *de;
	char path[64];
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)c->t->pid);
	d = opendir(path);
	if (!d)
		return 0;	/* gone already: its END will say so */
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		memset(&tt, 0, sizeof(tt));
		tt.tid = atoi(de->d_name);
		tt.flags = HK_TRACE_THREAD_F_AT_ATTACH;
		read_comm(c->t->pid, tt.tid, tt.comm, sizeof(tt.comm));
		thr = cap_thread(c, c->t->pid, tt.tid);
		if (thr)
			thr->flags = HK_TRACE_THREAD_F_AT_ATTACH;
		ret = hk_trace_write_thread(c->trace, &tt);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

/* At the end: every thread again, with its record count (last one wins). */
static int cap_write_thread_counts(struct cap *c)
{
	struct hk_trace_thread tt;
	size_t i;
	int ret;

	for (i = 0; i < c->nthreads; i++) {
		memset(&tt, 0, sizeof(tt));
		tt.tid = c->threads[i].tid;
		tt.flags = c->threads[i].flags;
		tt.records = c->threads[i].records;
		memcpy(tt.comm, c->threads[i].comm, sizeof(tt.comm));
		ret = hk_trace_write_thread(c->trace, &tt);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- resolve, attach ---- */

static int cap_pending_add(struct cap *c, const char *spec)
{
	struct cap_pending *p = realloc(c->pending, (c->npending + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	c->pending = p;
	p += c->npending++;
	p->spec = spec;
	p->state = CAP_PENDING;
	p->absent_ns = hk_now_ns();
	p->seen_ns = 0;
	c->nwaiting++;
	return 0;
}

static struct cap_pending *cap_pending_of(struct cap *c, const char *spec)
{
	size_t i;

	for (i = 0; i < c->npending; i++)
		if (c->pending[i].spec == spec)
			return &c->pending[i];
	return NULL;
}

/* Has @pid exited without being reaped yet ('Z' in /proc/PID/stat)? */
/*
 * Has @pid exited or begun to? A zombie (Z, X) or a task with PF_EXITING in
 * the flags field of /proc/PID/stat: once exit_mm() has run, reading its
 * maps fails with EACCES before it is a zombie (seen on arm64 under TCG).
 */
static int cap_is_exiting(pid_t pid)
{
	char path[64], buf[512], *p, state;
	unsigned long flags;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* comm may hold anything, even ") Z" */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return 0;
	return state == 'Z' || state == 'X' || (flags & 0x4 /* PF_EXITING */);
}

static int cap_resolve(struct cap *c, struct hk_regions *regions)
{
	struct hk_maps maps;
	char err[512];
	unsigned int i;
	int ret;

	if (c->t->nsegs)
		return 0;	/* hkctl watch resolved the segments */
	ret = hk_maps_read(c->t->pid, &maps);
	if (ret) {
		/* an exiting or exited process has no maps to show: EACCES */
		hk_err(c->cmd, "cannot read the mappings of pid %d: %s", (int)c->t->pid,
		       ret == -ESRCH ? "no such process" :
		       cap_is_exiting(c->t->pid) ? "it has exited" : strerror(-ret));
		return ret;
	}
	for (i = 0; i < c->o->nspecs; i++) {
		const char *spec = c->o->specs[i];

		if (c->t->started && hk_region_absent(&maps, spec)) {
			ret = cap_pending_add(c, spec);
			if (ret)
				break;
			continue;
		}
		ret = hk_region_resolve(&maps, spec, regions, err, sizeof(err));
		if (ret) {
			hk_err(c->cmd, "%s", err);
			break;
		}
	}
	hk_maps_free(&maps);
	return ret;
}

static int cap_attach(struct cap *c, const struct hk_regions *regions)
{
	const struct hk_nl_events ev = { cap_on_records, cap_on_end, c };
	struct hk_nl_attach_req req = {
		.pid = c->t->pid,
		.access = c->o->access,
		.rotate_set = c->o->rotate_set,
		.rotate_ms = c->o->rotate_ms,
		.budget = c->o->budget,
		.buffer = c->o->buffer,
		.slots = c->o->slots,
		.mode = c->o->mode,
		.page_budget = c->o->page_budget,
		.nregions = regions->n,
	};
	struct hk_nl_seg *segs = NULL;
	uint64_t (*r)[2];
	size_t i;
	int ret;

	r = calloc(regions->n + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (c->t->nsegs) {
		segs = calloc(c->t->nsegs, sizeof(*segs));
		if (!segs) {
			free(r);
			return -ENOMEM;
		}
		for (i = 0; i < c->t->nsegs; i++) {
			segs[i].major = c->t->segs[i].major;
			segs[i].minor = c->t->segs[i].minor;
			segs[i].ino = c->t->segs[i].ino;
			segs[i].off = c->t->segs[i].off;
			segs[i].len = c->t->segs[i].len;
		}
		req.nsegs = c->t->nsegs;
		req.segs = segs;
	}
	for (i = 0; i < regions->n; i++) {
		r[i][0] = regions->v[i].start;
		r[i][1] = regions->v[i].len;
	}
	req.regions = (const uint64_t (*)[2])r;
	ret = hk_nl_attach(&c->sess, &req, &ev, c->o->rcvbuf, &c->info);
	free(r);
	free(segs);
	if (ret) {
		/* --mode auto falls back to watchpoints and says so itself */
		if (ret == -EOPNOTSUPP && c->o->auto_phase == HK_TRACE_META_F_AUTO_DISCOVERY) {
			snprintf(c->refusal, sizeof(c->refusal), "%s",
				 hk_nl_errmsg(c->sess) ? hk_nl_errmsg(c->sess) : strerror(-ret));
			return ret;
		}
		if (ret == -ENOENT && !c->sess)
			hk_nl_perror(NULL, c->cmd, "attach", ret);
		else
			hk_nl_perror(c->sess, c->cmd, c->t->nsegs ? "cannot watch" : "cannot attach",
				     ret);
		return ret;
	}
	c->id = c->info.id;
	c->attached_ns = hk_now_ns();
	/* The query socket serves the status line, DETACH and ADD_REGIONS. */
	if (hk_nl_open(&c->query))
		c->query = NULL;
	return 0;
}

/* ---- regions that appear later (hkctl run) ---- */

static int cap_write_late(struct cap *c, struct cap_pending *p, const struct hk_region *r,
			  uint64_t watched_ns, const struct hk_nl_session *s)
{
	struct hk_trace_region_late late = {
		.absent_ns = p->absent_ns,
		.seen_ns = p->seen_ns,
		.watched_ns = watched_ns,
		.rotate_ns = (uint64_t)s->rotate_ms * 1000000,
		.slots = s->slots,
	};

	return hk_trace_write_region_late(c->trace, r->start, r->len, r->spec, &late);
}

static void cap_say_late(struct cap *c, struct cap_pending *p, uint64_t watched_ns)
{
	p->state = CAP_PENDING_WATCHED;
	fprintf(stderr, "%s %s: region '%s' appeared in pid %d and is watched from %.1f ms "
		"after it was mapped at most (%.1f at least); accesses before were not captured\n",
		hk_prog, c->cmd, p->spec, (int)c->t->pid, (watched_ns - p->absent_ns) / 1e6,
		(watched_ns - p->seen_ns) / 1e6);
}

/* Hand a SPEC that appeared during the capture to the module. */
static void cap_add_late(struct cap *c, struct cap_pending *p, const struct hk_regions *add)
{
	struct hk_nl_session s;
	uint64_t (*r)[2], watched;
	char what[256];
	size_t i;
	int ret = -ENOMEM;

	r = calloc(add->n, sizeof(*r));
	if (r) {
		for (i = 0; i < add->n; i++) {
			r[i][0] = add->v[i].start;
			r[i][1] = add->v[i].len;
		}
		ret = c->query ? hk_nl_add_regions(c->query, c->id, (const uint64_t (*)[2])r,
						   add->n, &s) : -ENOTCONN;
		free(r);
	}
	if (ret) {
		snprintf(what, sizeof(what), "cannot watch region '%s' now that it appeared",
			 p->spec);
		hk_nl_perror(c->query, c->cmd, what, ret);
		p->state = CAP_PENDING_FAILED;
		c->late_error = 1;
		return;
	}
	watched = hk_now_ns();
	for (i = 0; i < add->n && !ret; i++)
		ret = cap_write_late(c, p, &add->v[i], watched, &s);
	if (ret && !c->write_error) {
		c->write_error = ret;
		hk_err(c->cmd, "%s", hk_trace_errmsg(c->trace));
	}
	cap_say_late(c, p, watched);
}

/*
 * Read the maps (at most every CAPTURE_MAPS_MS) and take each waiting
 * SPEC that is mapped now: before ATTACH (@before) its ranges join the
 * attach, after it they go to the module at once. A mapping is only seen
 * by a read that starts after it exists: what the target did with it
 * before the module armed it is not captured, and the REGION chunk says
 * how long that was at most. Returns how many SPECs appeared.
 */
static size_t cap_poll_maps(struct cap *c, struct hk_regions *before)
{
	uint64_t start = hk_now_ns(), end;
	struct hk_maps maps;
	char err[512];
	size_t i, found = 0;

	if (!c->nwaiting || start < c->next_maps_ns)
		return 0;
	c->next_maps_ns = start + CAPTURE_MAPS_MS * 1000000ull;
	if (hk_maps_read(c->t->pid, &maps))
		return 0;	/* gone: the caller notices the exit */
	end = hk_now_ns();
	for (i = 0; i < c->npending; i++) {
		struct cap_pending *p = &c->pending[i];
		struct hk_regions add = { 0 };

		if (p->state != CAP_PENDING)
			continue;
		if (hk_region_absent(&maps, p->spec)) {
			p->absent_ns = start;
			continue;
		}
		c->nwaiting--;
		p->seen_ns = end;
		if (hk_region_resolve(&maps, p->spec, before ? before : &add, err, sizeof(err))) {
			hk_err(c->cmd, "%s", err);
			p->state = CAP_PENDING_FAILED;
			c->late_error = 1;
			continue;
		}
		found++;
		if (before)
			p->state = CAP_PENDING_SEEN;
		else
			cap_add_late(c, p, &add);
		hk_regions_free(&add);
	}
	/* a library mapped with dlopen() brings code too: the trace needs it */
	if (found && !before && cap_write_maps(c, &maps) && !c->write_error) {
		c->write_error = -EIO;
		hk_err(c->cmd, "%s", hk_trace_errmsg(c->trace));
	}
	hk_maps_free(&maps);
	return found;
}

/* The capture ended with SPECs still waiting: each is an error. */
static void cap_say_missing(struct cap *c, const char *until)
{
	size_t i;

	for (i = 0; i < c->npending; i++) {
		if (c->pending[i].state != CAP_PENDING)
			continue;
		hk_err(c->cmd, "region '%s': pid %d never mapped it (looked every %d ms until %s)",
		       c->pending[i].spec, (int)c->t->pid, CAPTURE_MAPS_MS, until);
		c->late_error = 1;
	}
}

/* ---- the loop ---- */

/* The live status line's word for the --mode auto phase, if any. */
static const char *cap_phase_word(const struct cap *c)
{
	switch (c->o->auto_phase) {
	case HK_TRACE_META_F_AUTO_DISCOVERY:
		return "auto discovery, ";
	case HK_TRACE_META_F_AUTO_FOCUS:
		return "auto focus, ";
	case HK_TRACE_META_F_AUTO_WHOLE:
		return "auto watchpoints, ";
	case HK_TRACE_META_F_AUTO_PAGE:
		return "auto page, ";
	}
	return "";
}

static void cap_status_line(struct cap *c, uint64_t now)
{
	struct hk_nl_session s = { 0 };
	double dt = (now - c->last_status_ns) / 1e9;
	uint32_t threads = 0;

	memset(&s, 0, sizeof(s));
	if (c->query && !hk_nl_get_session(c->query, c->id, &s))
		threads = s.threads;
	if (c->t->nsegs)
		fprintf(stderr, "\r%s %s: %u processes,", hk_prog, c->cmd, s.procs);
	if (c->info.mode == HK_MODE_PGPROT)
		fprintf(stderr, "\r%s %s: %spage mode, %" PRIu64 " records, %.0f/s, lost %" PRIu64
			", throttled %" PRIu64 ", %u of %u pages armed\033[K",
			hk_prog, c->cmd, cap_phase_word(c), c->received,
			dt > 0 ? (c->received - c->last_received) / dt : 0.0,
			c->kernel_lost > cap_seq_gaps(c) ? c->kernel_lost : cap_seq_gaps(c),
			c->throttled, s.armed, s.pages);
	else
		fprintf(stderr, "%s%s %s: %s%" PRIu64 " records, %.0f/s, lost %" PRIu64
			", throttled %" PRIu64 ", %u threads watched\033[K",
			c->t->nsegs ? "" : "\r",
			hk_prog, c->cmd, cap_phase_word(c), c->received,
			dt > 0 ? (c->received - c->last_received) / dt : 0.0,
			c->kernel_lost > cap_seq_gaps(c) ? c->kernel_lost : cap_seq_gaps(c),
			c->throttled, threads);
	c->status_shown = 1;
	c->last_received = c->received;
	c->last_status_ns = now;
}

static int cap_drain(struct cap *c)
{
	int ret = hk_nl_recv(c->sess, &c->overruns);

	if (ret < 0) {
		hk_nl_perror(c->sess, c->cmd, "receiving records", ret);
		c->end_reason = HK_TRACE_END_ERROR;
		return ret;
	}
	return 0;
}

/*
 * Write a LOST chunk when loss grew, so an interrupted file still shows
 * it; at most once a second, the file is for records.
 */
static void cap_note_loss(struct cap *c, uint64_t now)
{
	struct hk_trace_lost l;
	uint64_t total = c->kernel_lost + c->throttled + c->overruns;

	if (total == c->last_lost_written || now < c->next_lost_ns)
		return;
	c->next_lost_ns = now + CAPTURE_STATUS_NS;
	c->last_lost_written = total;
	cap_lost(c, &l);
	hk_trace_write_lost(c->trace, &l);
}

/*
 * A watch: every second (every N seconds for N segments), PROC and MAP
 * chunks for processes that map a segment now, so that their maps are in the trace even when hkctl gets
 * to their first records only after they exited.
 */
static void cap_watch_mappers(struct cap *c, uint64_t now)
{
	struct hk_shm s;
	size_t i, k;

	if (!c->t->nsegs || now < c->next_mappers_ns)
		return;
	/* one scan of /proc/PID/maps per segment: about one a second in all */
	c->next_mappers_ns = now + CAPTURE_STATUS_NS * c->t->nsegs;
	for (i = 0; i < c->t->nsegs; i++) {
		memset(&s, 0, sizeof(s));
		s.kind = c->t->segs[i].kind;
		s.major = c->t->segs[i].major;
		s.minor = c->t->segs[i].minor;
		s.ino = c->t->segs[i].ino;
		hk_shm_mappers(&s);
		for (k = 0; k < s.npids; k++)
			cap_proc(c, s.pids[k]);
		hk_shm_free(&s);
	}
}

static int cap_check_target(struct cap *c)
{
	int status;

	if (c->t->nsegs)
		return 0;	/* no target: the module ends a watch */
	if (c->t->reap) {
		if (!c->t->reaped && c->t->reap(c->t, &status) > 0) {
			c->t->reaped = 1;
			c->t->exit_status = status;
		}
		return c->t->reaped;
	}
	return kill(c->t->pid, 0) && errno == ESRCH;
}

static int cap_loop(struct cap *c, int sfd)
{
	uint64_t deadline = c->o->duration_ns ? c->start_ns + c->o->duration_ns : 0;
	uint64_t target_gone_at = 0, now;
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	int timeout, ret;

	pfd[0].fd = hk_nl_fd(c->sess);
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	while (!c->ended && !c->write_error) {
		timeout = c->nwaiting ? CAPTURE_MAPS_MS : CAPTURE_TICK_MS;
		now = hk_now_ns();
		if (deadline && deadline <= now) {
			c->end_reason = HK_TRACE_END_DURATION;
			return 0;
		}
		if (deadline && (deadline - now) / 1000000 < (uint64_t)timeout)
			timeout = (deadline - now) / 1000000 + 1;
		ret = poll(pfd, 2, timeout);
		if (ret < 0 && errno != EINTR) {
			hk_err(c->cmd, "poll: %s", strerror(errno));
			c->end_reason = HK_TRACE_END_ERROR;
			return -errno;
		}
		if (pfd[0].revents) {
			ret = cap_drain(c);
			if (ret)
				return ret;
		}
		if (pfd[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si) &&
		    si.ssi_signo != SIGCHLD) {
			c->end_reason = HK_TRACE_END_SIGNAL;
			return 0;
		}
		now = hk_now_ns();
		if (c->status && now >= c->next_status_ns) {
			cap_status_line(c, now);
			c->next_status_ns = now + CAPTURE_STATUS_NS;
		}
		cap_note_loss(c, now);
		cap_watch_mappers(c, now);
		/*
		 * A record's ip in no known mapping: read the maps now, while
		 * the mapping (a JIT page, a dlopen) most likely still exists;
		 * a second later the target may be gone.
		 */
		cap_refresh_maps(c);
		cap_poll_maps(c, NULL);
		/*
		 * Push the stdio buffer out once a second: if hkctl is killed,
		 * the file still holds everything up to the last second.
		 */
		if (now >= c->next_flush_ns) {
			c->next_flush_ns = now + CAPTURE_STATUS_NS;
			if (hk_trace_flush(c->trace) && !c->write_error) {
				c->write_error = -EIO;
				hk_err(c->cmd, "%s", hk_trace_errmsg(c->trace));
			}
		}
		/*
		 * The module sends END when the target exits; if that does not
		 * come within the grace period, end on our own rather than hang.
		 */
		if (!target_gone_at && cap_check_target(c))
			target_gone_at = now;
		if (target_gone_at && now - target_gone_at > CAPTURE_END_WAIT_MS * 1000000ull) {
			hk_err(c->cmd, "the target exited but the module did not end the session");
			c->end_reason = HK_TRACE_END_TARGET_EXIT;
			return 0;
		}
	}
	return 0;
}

/* Ask the module to end the session, and drain until its END (bounded). */
static void cap_detach(struct cap *c)
{
	uint64_t until = hk_now_ns() + CAPTURE_END_WAIT_MS * 1000000ull;
	struct pollfd pfd;
	int ret;

	if (c->ended)
		return;
	if (c->query) {
		ret = hk_nl_detach(c->query, c->id);
		if (ret && ret != -ENOENT)
			hk_nl_perror(c->query, c->cmd, "detach", ret);
	}
	pfd.fd = hk_nl_fd(c->sess);
	pfd.events = POLLIN;
	while (!c->ended && hk_now_ns() < until) {
		if (poll(&pfd, 1, 100) > 0 && cap_drain(c))
			break;
	}
	if (!c->ended)
		hk_err(c->cmd, "no END from the module after detaching; counts may be incomplete");
}

static void cap_summary(struct cap *c, uint64_t end_ns)
{
	uint64_t gaps = cap_seq_gaps(c);

	if (c->status_shown)
		fputc('\n', stderr);
	if (c->t->nsegs)
		fprintf(stderr, "%s %s: %zu processes took part\n", hk_prog, c->cmd, c->nprocs);
	fprintf(stderr, "%s %s: %" PRIu64 " records from %zu threads in %.1f s; lost %" PRIu64
		" (module %" PRIu64 ", sequence gaps %" PRIu64 ", socket overruns %" PRIu64
		"), throttled %" PRIu64 "; %s; trace %s\n",
		hk_prog, c->cmd, c->received, c->nthreads, (end_ns - c->start_ns) / 1e9,
		c->kernel_lost > gaps ? c->kernel_lost : gaps, c->kernel_lost, gaps, c->overruns,
		c->throttled, hk_trace_end_reason_name(c->end_reason), c->o->output);
	if (gaps != c->kernel_lost)
		fprintf(stderr, "%s %s: warning: the module counted %" PRIu64
			" lost records but %" PRIu64 " sequence numbers are missing\n",
			hk_prog, c->cmd, c->kernel_lost, gaps);
	/*
	 * Over budget the module pauses the session's watchpoints until the
	 * next tick (disables counts threads paused): accesses in a pause
	 * are not hits at all, so no count above includes them.
	 */
	if (c->final.disables)
		fprintf(stderr, "%s %s: note: the hit budget (%u/s) paused watchpoints %" PRIu64
			" times; accesses during the pauses were not seen (raise --budget)\n",
			hk_prog, c->cmd, c->info.budget, c->final.disables);
	/*
	 * Page mode: throttled counts re-arms the budget deferred, one per
	 * page and pass (tick) that found the page unarmed with no budget
	 * left; until its re-arm no access to that page is seen. Every pass
	 * either arms or defers each unarmed page, so arms + deferred is
	 * every re-arm that was due: the deferred share is the coverage lost.
	 */
	if (c->info.mode == HK_MODE_PGPROT) {
		uint64_t due = c->final.arms + c->final.throttled;

		fprintf(stderr, "%s %s: page mode: %" PRIu64 " faults (%" PRIu64
			" in syscalls), %" PRIu64 " re-arm passes, %" PRIu64
			" entries armed over %u pages; budget %u faults/s deferred %" PRIu64
			" re-arms\n",
			hk_prog, c->cmd, c->final.hits, c->final.uaccess, c->final.rotations,
			c->final.arms, c->final.pages, c->info.page_budget, c->final.throttled);
		if (c->final.throttled)
			fprintf(stderr, "%s %s: note: the page budget (%u faults/s) deferred %"
				PRIu64 " of %" PRIu64 " page re-arms (%.1f%%): until re-armed, "
				"accesses to those pages were not seen (raise --page-budget)\n",
				hk_prog, c->cmd, c->info.page_budget, c->final.throttled, due,
				100.0 * c->final.throttled / due);
	}
	if (c->final.reg_fails)
		fprintf(stderr, "%s %s: note: %u watchpoint registrations failed (debug registers in use by a debugger?)\n",
			hk_prog, c->cmd, c->final.reg_fails);
}

static int cap_finish(struct cap *c)
{
	struct hk_trace_end end = { 0 };
	int ret;

	cap_detach(c);
	cap_refresh_maps(c);
	end.end_time_ns = hk_now_ns();
	end.records = c->received;
	end.reason = c->end_reason ? c->end_reason : HK_TRACE_END_ERROR;
	c->end_reason = end.reason;
	if (c->ended) {		/* the module's END carried its last counters */
		end.flags |= HK_TRACE_END_F_COVERAGE;
		end.coverage = c->final.coverage;
	}
	cap_lost(c, &end.lost);
	ret = cap_write_thread_counts(c);
	if (!ret)
		ret = hk_trace_write_lost(c->trace, &end.lost);
	if (!ret)
		ret = hk_trace_write_end(c->trace, &end);
	if (!ret)
		ret = hk_trace_flush(c->trace);
	if (ret)
		hk_err(c->cmd, "%s", hk_trace_errmsg(c->trace));
	cap_summary(c, end.end_time_ns);
	return ret;
}

static int cap_block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, old);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* What offline analysis needs, as the process is when capture begins. */
static int cap_write_header(struct cap *c, const struct hk_regions *regions)
{
	struct hk_maps maps;
	size_t i;
	int ret;

	ret = cap_write_meta(c);
	for (i = 0; !ret && i < regions->n; i++) {
		const struct hk_region *r = &regions->v[i];
		struct cap_pending *p = cap_pending_of(c, r->spec);

		if (p && p->state == CAP_PENDING_SEEN)
			ret = cap_write_late(c, p, r, c->attached_ns, &c->info);
		else
			ret = hk_trace_write_region(c->trace, r->start, r->len, r->spec);
	}
	for (i = 0; i < c->npending; i++)
		if (c->pending[i].state == CAP_PENDING_SEEN)
			cap_say_late(c, &c->pending[i], c->attached_ns);
	if (c->t->nsegs) {
		/* regions in the segment-offset keys the analysis uses */
		for (i = 0; !ret && i < c->t->nsegs; i++)
			ret = hk_trace_write_region(c->trace,
						    HK_TRACE_SEG_KEY(i + 1, c->t->segs[i].off),
						    c->t->segs[i].len, c->t->segs[i].spec);
		for (i = 0; !ret && i < c->t->npids; i++)
			if (cap_proc(c, c->t->pids[i]) == NULL)
				ret = -ENOMEM;
		if (ret)
			hk_err(c->cmd, "%s", hk_trace_errmsg(c->trace));
		return ret;
	}
	/* a target gone already has no maps: its END will say why */
	if (!ret && !hk_maps_read(c->t->pid, &maps)) {
		ret = cap_write_maps(c, &maps);
		hk_maps_free(&maps);
	}
	if (!ret)
		ret = cap_write_threads(c);
	if (ret)
		hk_err(c->cmd, "%s", hk_trace_errmsg(c->trace));
	return ret;
}

/*
 * Attached: write the header, let the target go, capture, finish. The
 * finish runs whatever failed, so that the module and the file are left
 * in order. Returns 0 when the trace is complete.
 */
static int cap_session(struct cap *c, const struct hk_regions *regions, int sfd)
{
	int ret;

	c->start_ns = hk_now_ns();
	c->status = c->o->status_line < 0 ? isatty(2) : c->o->status_line;
	c->next_status_ns = c->start_ns + CAPTURE_STATUS_NS;
	c->last_status_ns = c->start_ns;

	ret = cap_write_header(c, regions);
	if (!ret && c->nearly) {
		cap_on_records(c, c->id, c->early, c->nearly, c->kernel_lost, c->throttled);
		free(c->early);
		c->early = NULL;
		c->nearly = 0;
	}
	if (!ret && c->t->resume && !c->resumed) {
		ret = c->t->resume(c->t);
		if (ret)
			hk_err(c->cmd, "cannot resume pid %d: %s", (int)c->t->pid, strerror(-ret));
		c->resumed = !ret;
	}
	if (ret)
		c->end_reason = HK_TRACE_END_ERROR;
	else
		ret = cap_loop(c, sfd);
	if (cap_finish(c) && !ret)
		ret = -EIO;
	if (c->nwaiting) {
		cap_say_missing(c, "the capture ended");
		hk_err(c->cmd, "the trace %s has the other regions ('%s report' analyses it)",
		       c->o->output, hk_prog);
	}
	if (c->write_error && !ret)
		ret = c->write_error;
	if (c->end_reason == HK_TRACE_END_ERROR && !ret)
		ret = -EIO;
	c->t->end_reason = c->end_reason;
	return ret;
}

/*
 * hkctl run, and not one region is mapped at main: let CMD run and attach
 * as soon as one appears (the others follow through ADD_REGIONS). Returns
 * 0 with @regions filled, or -errno after saying why.
 */
static int cap_wait_first(struct cap *c, struct hk_regions *regions, int sfd)
{
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };
	struct signalfd_siginfo si;
	int ret;

	/* no hook: running already (attach, or --mode auto's second capture) */
	ret = c->t->resume ? c->t->resume(c->t) : 0;
	if (ret) {
		hk_err(c->cmd, "cannot resume pid %d: %s", (int)c->t->pid, strerror(-ret));
		return ret;
	}
	c->resumed = 1;
	for (;;) {
		if (poll(&pfd, 1, CAPTURE_MAPS_MS) > 0 &&
		    read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD) {
			hk_err(c->cmd, "interrupted before any region appeared");
			c->t->end_reason = HK_TRACE_END_SIGNAL;
			return -EINTR;
		}
		cap_poll_maps(c, regions);
		if (regions->n)
			return 0;
		if (c->late_error)
			return -ENOENT;
		if (cap_check_target(c)) {
			cap_say_missing(c, "it exited");
			return -ENOENT;
		}
	}
}

/*
 * One capture of @t with @o. When @refusal is given and the module
 * refused --mode auto's page-mode discovery (EOPNOTSUPP), its reason is
 * copied there and nothing was said or left behind: the target (of
 * 'hkctl run') is still stopped.
 */
static int cap_one(const char *cmd, struct hk_capture_target *t, const struct hk_capture_opts *o,
		   char *refusal, size_t refusal_len)
{
	struct hk_regions regions = { 0 };
	struct cap c = { .cmd = cmd, .o = o, .t = t };
	int attached = 0;
	sigset_t oldmask;
	int sfd, ret;

	/* Signals first: a Ctrl-C from here on ends the capture cleanly. */
	sfd = cap_block_signals(&oldmask);
	if (sfd < 0) {
		hk_err(cmd, "signalfd: %s", strerror(errno));
		return HK_EXIT_ERROR;
	}
	ret = cap_resolve(&c, &regions);
	if (!ret && !regions.n && c.npending)	/* hkctl run: nothing mapped yet */
		ret = cap_wait_first(&c, &regions, sfd);
	if (ret)
		goto out;
	ret = hk_trace_create(o->output, &c.trace);
	if (ret) {
		hk_err(cmd, "cannot create the trace file %s: %s", o->output, strerror(-ret));
		goto out;
	}
	ret = cap_attach(&c, &regions);
	if (!ret) {
		attached = 1;
		if (o->auto_phase == HK_TRACE_META_F_AUTO_DISCOVERY)
			fprintf(stderr, "%s %s: auto: discovery in page mode for %.1f s (trace %s)\n",
				hk_prog, cmd, o->duration_ns / 1e9, o->output);
		ret = cap_session(&c, &regions, sfd);
	}
out:
	/* Nothing was captured: leave no half-written trace behind. */
	if (c.trace && !attached)
		unlink(o->output);
	hk_trace_close(c.trace);
	hk_nl_close(c.query);
	hk_nl_close(c.sess);
	hk_regions_free(&regions);
	free(c.threads);
	free(c.procs);
	free(c.known);
	free(c.early);
	free(c.pending);
	close(sfd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (refusal && c.refusal[0])
		snprintf(refusal, refusal_len, "%s", c.refusal);
	return ret || c.late_error ? HK_EXIT_ERROR : HK_EXIT_OK;
}

/* ---- --mode auto ---------------------------------------------------- */

struct cap_loc {
	uint64_t addr;			/* 8-byte granule */
	uint32_t tid[2];		/* first two threads seen */
	int writes;
};

static int cap_loc_cmp(const void *a, const void *b)
{
	const struct cap_loc *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * The 8-byte locations of the discovery trace @path accessed by two or
 * more threads, at least one of them writing (page records only: syscall
 * copies say nothing about the thread's own instructions). Sorted by
 * address into @out (at most @max); returns how many there are in all,
 * or a negative errno.
 */
static int cap_shared_locations(const char *cmd, const char *path, uint64_t *out, int max)
{
	struct cap_loc *loc = NULL, key, *l;
	size_t n = 0, cap = 0, i;
	struct hk_trace_item it;
	struct hk_trace *t;
	int ret, found = 0;

	ret = hk_trace_open(path, &t);
	if (ret) {
		hk_err(cmd, "%s", t ? hk_trace_errmsg(t) : strerror(-ret));
		hk_trace_close(t);
		return ret;
	}
	while ((ret = hk_trace_next(t, &it)) > 0) {
		if (it.type != HK_TRACE_RECORDS)
			continue;
		for (i = 0; i < it.records.count; i++) {
			const struct hk_trace_rec *r = &it.records.recs[i];

			if (!(r->flags & HK_TRACE_REC_F_PAGE) || (r->flags & HK_TRACE_REC_F_UACCESS))
				continue;
			key.addr = r->addr & ~7ull;
			l = n ? bsearch(&key, loc, n, sizeof(*loc), cap_loc_cmp) : NULL;
			if (!l) {
				if (n == cap) {
					cap = cap ? 2 * cap : 256;
					l = realloc(loc, cap * sizeof(*loc));
					if (!l) {
						ret = -ENOMEM;
						goto out;
					}
					loc = l;
				}
				l = &loc[n++];
				memset(l, 0, sizeof(*l));
				l->addr = key.addr;
				l->tid[0] = r->tid;
				qsort(loc, n, sizeof(*loc), cap_loc_cmp);
				l = bsearch(&key, loc, n, sizeof(*loc), cap_loc_cmp);
			} else if (l->tid[0] != r->tid && !l->tid[1]) {
				l->tid[1] = r->tid;
			}
			l->writes += r->kind == HK_TRACE_KIND_W;
		}
	}
	if (ret < 0) {
		hk_err(cmd, "%s", hk_trace_errmsg(t));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!loc[i].tid[1] || !loc[i].writes)
			continue;
		if (found < max)
			out[found] = loc[i].addr;
		found++;
	}
	ret = found;
out:
	free(loc);
	hk_trace_close(t);
	return ret;
}

/*
 * Watchpoint units of @r as the module cuts them (hk_units_fill() in
 * kmod/session.c: naturally aligned pieces of at most 8 bytes); counting
 * stops past @max.
 */
static uint64_t cap_units(const struct hk_regions *r, uint64_t max)
{
	uint64_t n = 0, a, end, len;
	size_t i;

	for (i = 0; i < r->n && n <= max; i++) {
		a = r->v[i].start;
		end = a + r->v[i].len;
		while (a < end && n <= max) {
			len = 8;
			while (len > 1 && ((a & (len - 1)) || a + len > end))
				len >>= 1;
			a += len;
			n++;
		}
	}
	return n;
}

/*
 * --mode auto: is a discovery worth it? Not when every unit of the
 * regions has a watchpoint at once (nothing to narrow), nor when a
 * region of 'hkctl run' is not mapped yet (page mode cannot add it
 * later). Returns 1 after saying why watchpoints go on at once, 0 for a
 * discovery, -errno after an error message (a SPEC that resolves to
 * nothing).
 */
static int cap_auto_skip(const char *cmd, struct hk_capture_target *t,
			 const struct hk_capture_opts *o)
{
	struct hk_regions regions = { 0 };
	struct cap c = { .cmd = cmd, .o = o, .t = t };
	uint32_t slots = o->slots ? o->slots : HK_MAX_SLOTS;
	uint64_t units;
	int ret;

	ret = cap_resolve(&c, &regions);
	if (ret)
		goto out;
	if (c.npending) {
		fprintf(stderr, "%s %s: auto: region '%s' is not mapped yet and page mode cannot "
			"add it later: watchpoints on the whole regions, no discovery\n", hk_prog,
			cmd, c.pending[0].spec);
		ret = 1;
		goto out;
	}
	units = cap_units(&regions, slots);
	if (units <= slots) {
		fprintf(stderr, "%s %s: auto: the regions fit in %" PRIu64 " watchpoint%s at once "
			"(of %u): watchpoints, no discovery\n", hk_prog, cmd, units,
			units == 1 ? "" : "s", slots);
		ret = 1;
	}
out:
	hk_regions_free(&regions);
	free(c.pending);
	return ret;
}

/*
 * --mode auto's hit budget for its watchpoints: --budget if given, else
 * the hits that cost HK_CAL_SHARE_PCT of a CPU on this machine
 * (calibrate.c: a fixed rate is a share of a CPU on hardware and most of
 * one under TCG), or the module's default (0) if the measurement failed.
 */
static uint32_t cap_auto_budget(const char *cmd, const struct hk_capture_opts *o)
{
	uint64_t ns;
	uint32_t b;

	if (o->budget)
		return o->budget;
	if (hk_calibrate_hit(cmd, &ns)) {
		fprintf(stderr, "%s %s: auto: hit budget: the module's default, %u/s\n", hk_prog, cmd,
			HK_DEFAULT_BUDGET);
		return 0;
	}
	b = hk_calibrated_budget(ns);
	fprintf(stderr, "%s %s: auto: a watchpoint hit costs %.1f us here: hit budget %u/s, %s%d%% "
		"of a CPU (--budget sets it)\n", hk_prog, cmd, ns / 1e3, b,
		b == HK_DEFAULT_BUDGET ? "the module's default, under " :
		b == HK_CAL_MIN_BUDGET ? "auto's least, over " : "", HK_CAL_SHARE_PCT);
	return b;
}

/*
 * --mode auto: page mode over the regions for --discover (its trace is
 * OUTPUT.discovery), then hardware watchpoints on the locations shared
 * by two or more threads with at least one writer (trace OUTPUT), for
 * the rest of --duration. Watchpoints on the whole regions at once when
 * cap_auto_skip() says so or the module refuses page mode (arm64).
 *
 * When the discovery found nothing shared, page mode goes on over the
 * whole regions into OUTPUT: a location that becomes shared later is
 * still seen with its exact instructions, at page mode's cost. Rotating
 * four watchpoints over regions that had no shared location would cost
 * a trap per access to the units watched (2-4x on a memory sweep under
 * TCG, make bench) and see a few units at a time.
 *
 * Each trace's header says its phase (HK_TRACE_META_F_AUTO_*), each page
 * record carries HK_TRACE_REC_F_PAGE.
 */
static int cap_auto(const char *cmd, struct hk_capture_target *t, const struct hk_capture_opts *o)
{
	static char specs[HK_CAPTURE_AUTO_MAX][40];
	struct hk_capture_opts d = *o, f = *o;
	uint64_t addrs[HK_CAPTURE_AUTO_MAX];
	char refusal[256] = "";
	char *dpath;
	int ret, n, i;

	f.mode = HK_MODE_HWBP;
	f.page_budget = 0;
	f.auto_phase = HK_TRACE_META_F_AUTO_WHOLE;
	ret = cap_auto_skip(cmd, t, o);
	if (ret < 0)
		return HK_EXIT_ERROR;
	if (ret) {
		f.budget = cap_auto_budget(cmd, o);
		return cap_one(cmd, t, &f, NULL, 0);
	}

	if (asprintf(&dpath, "%s.discovery", o->output) < 0)
		return HK_EXIT_ERROR;
	d.mode = HK_MODE_PGPROT;
	d.auto_phase = HK_TRACE_META_F_AUTO_DISCOVERY;
	d.access = HK_ACCESS_RW;	/* a shared location needs its readers too */
	d.output = dpath;
	d.duration_ns = o->discover_ns ? o->discover_ns : HK_CAPTURE_DEFAULT_DISCOVER_NS;
	if (o->duration_ns && d.duration_ns >= o->duration_ns)
		d.duration_ns = o->duration_ns / 2;
	ret = cap_one(cmd, t, &d, refusal, sizeof(refusal));
	if (refusal[0]) {
		/* nothing attached: a target of 'hkctl run' is still stopped */
		fprintf(stderr, "%s %s: auto: the module refused page mode (%s): watchpoints on "
			"the whole regions, no discovery\n", hk_prog, cmd, refusal);
		f.budget = cap_auto_budget(cmd, o);
		ret = cap_one(cmd, t, &f, NULL, 0);
		goto out;
	}
	if (ret != HK_EXIT_OK)
		goto out;
	if (t->end_reason != HK_TRACE_END_DURATION) {
		fprintf(stderr, "%s %s: auto: the capture ended during discovery (%s): no "
			"watchpoint phase\n", hk_prog, cmd, hk_trace_end_reason_name(t->end_reason));
		/* the report reads OUTPUT: let it be the discovery */
		if (rename(dpath, o->output))
			ret = HK_EXIT_ERROR;
		goto out;
	}
	n = cap_shared_locations(cmd, dpath, addrs, HK_CAPTURE_AUTO_MAX);
	if (n < 0) {
		ret = HK_EXIT_ERROR;
		goto out;
	}
	fprintf(stderr, "%s %s: auto: %d shared location%s (>= 2 threads, >= 1 writer)%s", hk_prog,
		cmd, n, n == 1 ? "" : "s", n ? ":" : "");
	for (i = 0; i < n && i < HK_CAPTURE_AUTO_MAX; i++) {
		snprintf(specs[i], sizeof(specs[i]), "0x%" PRIx64 "+8", addrs[i]);
		f.specs[i] = specs[i];
		fprintf(stderr, " %s", specs[i]);
	}
	if (n > HK_CAPTURE_AUTO_MAX)
		fprintf(stderr, " (watching the first %d)", HK_CAPTURE_AUTO_MAX);
	fputc('\n', stderr);
	f.duration_ns = o->duration_ns ? o->duration_ns - d.duration_ns : 0;
	t->resume = NULL;	/* running since the discovery attached */
	if (n) {
		f.nspecs = n < HK_CAPTURE_AUTO_MAX ? n : HK_CAPTURE_AUTO_MAX;
		f.auto_phase = HK_TRACE_META_F_AUTO_FOCUS;
		f.budget = cap_auto_budget(cmd, o);
		fprintf(stderr, "%s %s: auto: watchpoints%s (trace %s)\n", hk_prog, cmd,
			f.duration_ns ? "" : " until the end", o->output);
	} else {
		f.mode = HK_MODE_PGPROT;
		f.page_budget = o->page_budget;
		/*
		 * As the discovery: a read fault restores the page for the
		 * writes after it, so a writes-only page capture would lose
		 * those writes as well as the reads.
		 */
		f.access = HK_ACCESS_RW;
		f.auto_phase = HK_TRACE_META_F_AUTO_PAGE;
		fprintf(stderr, "%s %s: auto: nothing shared: page mode goes on%s (trace %s)\n",
			hk_prog, cmd, f.duration_ns ? "" : " until the end", o->output);
	}
	ret = cap_one(cmd, t, &f, NULL, 0);
out:
	free(dpath);
	return ret;
}

int hk_capture(const char *cmd, struct hk_capture_target *t, const struct hk_capture_opts *o)
{
	if (o->mode == HK_CAPTURE_MODE_AUTO)
		return cap_auto(cmd, t, o);
	return cap_one(cmd, t, o, NULL, 0);
}
