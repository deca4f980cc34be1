// SPDX-License-Identifier: GPL-2.0
/*
 * From a capture trace to the barrier report (see analysis.h).
 *
 * Two passes over the trace: the first collects what the records need to be
 * understood (mappings, threads, regions, settings, losses: THREAD and LOST
 * chunks are rewritten at the end of a capture, so they are only complete
 * once the whole file is read), the second feeds the records to the
 * analyzer. A record that cannot be resolved (no mapping, binary not found
 * or not the one that ran, no instruction at its ip) is counted by reason
 * and shown in the report, never silently dropped.
 *
 * The report is the analyzer's, followed (text) or extended (JSON, SARIF
 * "properties") by what the capture can and cannot show: records, losses,
 * which part of each region was watched and accessed, and what an x86
 * capture cannot see.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "analysis.h"
#include "maps.h"
#include "subcommands.h"
#include "trace.h"
#include "util.h"

/* ---- options ---- */

void hk_analysis_opts_init(struct hk_analysis_opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof(*o));
	hka_config_init(&o->cfg);
	o->cfg.atomic_undecided = true;	/* x86 code cannot show C11 orders */
	o->cfg.jobs = cpus < 1 ? 1 : cpus > HKA_MAX_JOBS ? HKA_MAX_JOBS : cpus;
	o->format = HKA_FORMAT_TEXT;
	o->enabled = 1;
}

int hk_analysis_parse_opt(struct hk_analysis_opts *o, const char *cmd, int c, const char *arg)
{
	struct hka_error err = { "" };
	uint64_t v;

	switch (c) {
	case HK_ANALYSIS_OPT_FORMAT:
		if (hka_format_parse(arg, &o->format)) {
			hk_err(cmd, "--format '%s': expected text, json or sarif", arg);
			return -EINVAL;
		}
		return 0;
	case HK_ANALYSIS_OPT_WINDOW:
		if (hka_window_parse(arg, &o->cfg, &err)) {
			hk_err(cmd, "%s", err.msg);
			return -EINVAL;
		}
		return 0;
	case HK_ANALYSIS_OPT_JOBS:
		if (hk_parse_u64(arg, 0, &v) || v < 1 || v > HKA_MAX_JOBS) {
			hk_err(cmd, "--jobs '%s': expected 1..%d", arg, HKA_MAX_JOBS);
			return -EINVAL;
		}
		o->cfg.jobs = v;
		return 0;
	case HK_ANALYSIS_OPT_BINARY:
	case HK_ANALYSIS_OPT_DEBUG_DIR:
		if ((c == HK_ANALYSIS_OPT_BINARY ? o->nbinaries : o->ndebug_dirs) ==
		    HK_ANALYSIS_MAX_PATHS) {
			hk_err(cmd, "at most %d --binary and %d --debug-dir options",
			       HK_ANALYSIS_MAX_PATHS, HK_ANALYSIS_MAX_PATHS);
			return -EINVAL;
		}
		if (access(arg, R_OK)) {
			hk_err(cmd, "cannot read '%s': %s", arg, strerror(errno));
			return -EINVAL;
		}
		if (c == HK_ANALYSIS_OPT_BINARY)
			o->binaries[o->nbinaries++] = arg;
		else
			o->debug_dirs[o->ndebug_dirs++] = arg;
		return 0;
	case HK_ANALYSIS_OPT_REPORT:
		o->output = arg;
		return 0;
	case HK_ANALYSIS_OPT_ARM64:
		if (access(arg, R_OK)) {
			hk_err(cmd, "--arm64-binary '%s': %s", arg, strerror(errno));
			return -EINVAL;
		}
		o->arm64_binary = arg;
		return 0;
	case HK_ANALYSIS_OPT_NO_REPORT:
		o->enabled = 0;
		return 0;
	}
	return 1;
}

void hk_analysis_help(FILE *f, int capture)
{
	const struct hka_window_preset *p;
	unsigned int n, i;

	fprintf(f,
		"      --format FMT    report as text (default), json (the contract of\n"
		"                      Documentation/hawkeyes/report.rst) or sarif\n"
		"      --window N|PRESET\n"
		"                      reorder window in uops, or a preset:\n");
	p = hka_window_presets(&n);
	for (i = 0; i < n; i++)
		fprintf(f, "                        %-12s %4u uops\n", p[i].name, p[i].uops);
	fprintf(f,
		"      --jobs N        analysis worker threads (default: online CPUs)\n"
		"      --binary BIN    use BIN for the mapped object of the same basename\n"
		"                      (its build-id must match the one in the trace);\n"
		"                      repeatable\n"
		"      --debug-dir DIR look for mapped objects in DIR by build-id\n"
		"                      (DIR/.build-id/xx/yyyy) and by basename; repeatable\n"
		"      --arm64-binary BIN\n"
		"                      the same program built for arm64 with -g: decide each\n"
		"                      finding on its code (acquire/release/dmb at the same\n"
		"                      source lines); cycles it orders are not reported\n");
	if (capture)
		fprintf(f,
			"      --report FILE   write the report to FILE (default: standard output)\n"
			"      --no-report     only capture; 'hkctl report TRACE' analyses later\n");
	else
		fprintf(f,
			"  -o, --output FILE   write the report to FILE (default: standard output)\n");
}

/* ---- what the trace says ---- */

struct an_map {
	struct hk_trace_map m;
	char *path;		/* as the target saw it */
	char *host;		/* the file analysed here, NULL until looked for */
	int looked;
	const char *why;	/* why host is NULL */
	uint64_t records;
	size_t order;		/* chunk order: a later chunk of an overlapping range wins */
	uint32_t pid;		/* watch traces: the process (PROC chunk before it) */
};

/* A process of a watch trace. */
struct an_proc {
	uint32_t pid;
	char comm[17];
};

struct an_region {
	uint64_t start, len;
	char *spec;
	uint8_t *hit;		/* per byte: some record touched it */
	int is_late;		/* appeared after the capture began (hkctl run) */
	struct hk_trace_region_late late;
};

struct an_thread {
	uint32_t tid;
	uint32_t pid;		/* watch traces */
	char comm[17];
	char name[48];
};

struct an_unresolved {
	uint64_t no_map;	/* ip in no ELF mapping */
	uint64_t no_binary;	/* the binary was not found or not the one that ran */
	uint64_t no_insn;	/* no function or instruction at the ip */
	uint64_t no_kind;	/* RW record at an instruction without a memory operand */
	uint64_t uaccess;	/* page mode: a syscall's copy, no access instruction */
	char first[512];	/* first message, for the report */
};

struct an {
	const char *cmd;
	const char *trace;
	char *discovery;	/* --mode auto: FILE.discovery, analysed with FILE */
	uint64_t disc_records;
	const struct hk_analysis_opts *o;
	struct hk_trace_meta meta;
	int have_meta;
	struct hk_trace_end end;
	int have_end;
	struct hk_trace_lost lost;
	struct an_map *maps;
	size_t nmaps;
	int watch;		/* HK_TRACE_META_F_WATCH: many processes, segment offsets */
	uint32_t cur_pid;	/* pass 1: pid of the last PROC chunk */
	struct an_proc *procs;
	size_t nprocs;
	int maps_overlap;	/* the address space changed during the capture */
	struct an_region *regions;
	size_t nregions;
	uint64_t rotate_ns;	/* rotation in force at the end (META, or the last late region) */
	uint32_t slots;
	int any_late;
	struct an_thread *threads;
	size_t nthreads;
	uint64_t records, reads, writes, first_ns, last_ns;
	unsigned long dropped_by_lock;	/* cycles inside one lock on both sides */
	unsigned long dropped_by_arm64;	/* cycles the arm64 build orders */
	struct an_unresolved un;
	struct hka_resolver *resolver;
	struct hka_stream *stream;
};

static int an_add_map(struct an *a, const struct hk_trace_map *m, const char *path)
{
	struct an_map *v = realloc(a->maps, (a->nmaps + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	a->maps = v;
	v = &a->maps[a->nmaps];
	memset(v, 0, sizeof(*v));
	v->m = *m;
	v->order = a->nmaps;
	v->pid = a->cur_pid;
	v->path = strdup(path ? path : "");
	if (!v->path)
		return -ENOMEM;
	a->nmaps++;
	return 0;
}

static int an_add_region(struct an *a, uint64_t start, uint64_t len, const char *spec,
			 const struct hk_trace_region_late *late)
{
	struct an_region *v = realloc(a->regions, (a->nregions + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	a->regions = v;
	v = &a->regions[a->nregions];
	v->start = start;
	v->len = len;
	v->is_late = late != NULL;
	if (late) {
		v->late = *late;
		a->any_late = 1;
		/* adding regions may have started the rotation or changed the slots */
		a->rotate_ns = late->rotate_ns;
		a->slots = late->slots;
	}
	v->spec = strdup(spec ? spec : "");
	/* regions are bounded by the module (max_region_bytes): a byte map is cheap */
	v->hit = calloc(len ? len : 1, 1);
	if (!v->spec || !v->hit) {
		free(v->spec);
		free(v->hit);
		return -ENOMEM;
	}
	a->nregions++;
	return 0;
}

static struct an_thread *an_thread(struct an *a, uint32_t tid)
{
	struct an_thread *v;
	size_t i;

	for (i = a->nthreads; i-- > 0;)
		if (a->threads[i].tid == tid)
			return &a->threads[i];
	v = realloc(a->threads, (a->nthreads + 1) * sizeof(*v));
	if (!v)
		return NULL;
	a->threads = v;
	v = &a->threads[a->nthreads++];
	memset(v, 0, sizeof(*v));
	v->tid = tid;
	return v;
}

/* The META chunk of the trace at @path: 0, or -errno (no message). */
static int an_peek_meta(const char *path, struct hk_trace_meta *meta)
{
	struct hk_trace_item it;
	struct hk_trace *t;
	int ret;

	ret = hk_trace_open(path, &t);
	while (!ret && (ret = hk_trace_next(t, &it)) > 0 && it.type != HK_TRACE_META)
		;
	if (ret > 0)
		*meta = *it.meta;
	hk_trace_close(t);
	return ret > 0 ? 0 : ret ? ret : -ENOENT;
}

/*
 * --mode auto: the trace of the phase after a discovery (FOCUS, PAGE)
 * is analysed together with the discovery's records, when FILE.discovery
 * is there and is the discovery of the same process. Its mappings and
 * threads are read first, so that FILE's, read after, win where they
 * differ (the later MAP chunk wins, as within one trace).
 */
static int an_read_meta(struct an *a);

static int an_find_discovery(struct an *a)
{
	struct hk_trace_meta m, d;
	struct hk_trace_item it;
	struct hk_trace *t;
	int ret;

	if (an_peek_meta(a->trace, &m) ||
	    !(m.flags & (HK_TRACE_META_F_AUTO_FOCUS | HK_TRACE_META_F_AUTO_PAGE)))
		return 0;
	if (asprintf(&a->discovery, "%s.discovery", a->trace) < 0) {
		a->discovery = NULL;
		return -ENOMEM;
	}
	if (an_peek_meta(a->discovery, &d) || !(d.flags & HK_TRACE_META_F_AUTO_DISCOVERY) ||
	    d.pid != m.pid) {
		free(a->discovery);
		a->discovery = NULL;
		return 0;
	}
	ret = hk_trace_open(a->discovery, &t);
	while (!ret && (ret = hk_trace_next(t, &it)) > 0) {
		if (it.type == HK_TRACE_MAP) {
			ret = an_add_map(a, it.map.hdr, it.map.path);
		} else if (it.type == HK_TRACE_THREAD) {
			struct an_thread *th = an_thread(a, it.thread->tid);

			if (!th)
				ret = -ENOMEM;
			else
				memcpy(th->comm, it.thread->comm, sizeof(it.thread->comm));
		}
		if (ret < 0)
			break;
	}
	if (ret < 0)
		hk_err(a->cmd, "%s: %s", a->discovery,
		       ret == -ENOMEM ? "out of memory" : t ? hk_trace_errmsg(t) : strerror(-ret));
	hk_trace_close(t);
	return ret < 0 ? ret : 0;
}

/* Pass 1: everything but the records. */
static int an_read_meta(struct an *a)
{
	struct hk_trace_item it;
	struct hk_trace *t;
	struct an_thread *th;
	int ret;

	ret = hk_trace_open(a->trace, &t);
	if (ret) {
		hk_err(a->cmd, "%s", t ? hk_trace_errmsg(t) : strerror(-ret));
		hk_trace_close(t);
		return ret;
	}
	while ((ret = hk_trace_next(t, &it)) > 0) {
		switch (it.type) {
		case HK_TRACE_META:
			a->meta = *it.meta;
			a->have_meta = 1;
			a->watch = !!(a->meta.flags & HK_TRACE_META_F_WATCH);
			a->rotate_ns = a->meta.rotate_ns;
			a->slots = a->meta.slots;
			break;
		case HK_TRACE_PROC: {
			struct an_proc *p = realloc(a->procs, (a->nprocs + 1) * sizeof(*p));

			if (!p) {
				ret = -ENOMEM;
				break;
			}
			a->procs = p;
			p += a->nprocs++;
			memset(p, 0, sizeof(*p));
			p->pid = it.proc->pid;
			memcpy(p->comm, it.proc->comm, sizeof(it.proc->comm));
			a->cur_pid = it.proc->pid;
			break;
		}
		case HK_TRACE_REGION:
			ret = an_add_region(a, it.region.hdr->start, it.region.hdr->len,
					    it.region.spec,
					    it.region.is_late ? &it.region.late : NULL);
			break;
		case HK_TRACE_MAP:
			ret = an_add_map(a, it.map.hdr, it.map.path);
			break;
		case HK_TRACE_THREAD:
			th = an_thread(a, it.thread->tid);
			if (!th) {
				ret = -ENOMEM;
				break;
			}
			memcpy(th->comm, it.thread->comm, sizeof(it.thread->comm));
			break;
		case HK_TRACE_LOST:
			a->lost = *it.lost;
			break;
		case HK_TRACE_END:
			a->end = *it.end;
			a->lost = it.end->lost;
			a->have_end = 1;
			break;
		}
		if (ret < 0)
			break;
	}
	if (ret < 0)
		hk_err(a->cmd, "%s", ret == -ENOMEM ? "out of memory" : hk_trace_errmsg(t));
	hk_trace_close(t);
	return ret < 0 ? ret : 0;
}

/* ---- binaries ---- */

/* Does the ELF file at path carry build-id id? 1 yes, 0 no, -errno unreadable. */
static int an_build_id_matches(const char *path, const struct hk_trace_map *m)
{
	uint8_t id[32];
	Elf *elf;
	int fd, len, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		ret = -ENOEXEC;
	} else if (!m->build_id_len) {
		ret = 1;	/* nothing to compare: take it */
	} else {
		len = hk_maps_elf_build_id(elf, id, sizeof(id));
		ret = len == (int)m->build_id_len && !memcmp(id, m->build_id, len);
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

static int an_try(struct an_map *mp, const char *cand, int *mismatch)
{
	int ret = an_build_id_matches(cand, &mp->m);

	if (ret == 0)
		*mismatch = 1;
	if (ret != 1)
		return 0;
	mp->host = strdup(cand);
	return mp->host != NULL;
}

/*
 * The file to analyse for a mapped object: --binary of the same basename,
 * then --debug-dir by build-id and basename, then the path the target
 * mapped. The build-id in the trace must match: a rebuilt binary would put
 * every finding on the wrong line.
 */
static const char *an_map_binary(struct an *a, struct an_map *mp)
{
	const char *base = strrchr(mp->path, '/');
	char buf[4096], hex[65];
	int mismatch = 0;
	unsigned int i, k;

	if (mp->looked)
		return mp->host;
	mp->looked = 1;
	base = base ? base + 1 : mp->path;
	for (i = 0; i < a->o->nbinaries && !mp->host; i++) {
		const char *b = strrchr(a->o->binaries[i], '/');

		if (!strcmp(b ? b + 1 : a->o->binaries[i], base))
			an_try(mp, a->o->binaries[i], &mismatch);
	}
	for (k = 0; k < mp->m.build_id_len && k < 32; k++)
		snprintf(hex + 2 * k, 3, "%02x", mp->m.build_id[k]);
	for (i = 0; i < a->o->ndebug_dirs && !mp->host; i++) {
		if (mp->m.build_id_len > 1) {
			snprintf(buf, sizeof(buf), "%s/.build-id/%.2s/%s", a->o->debug_dirs[i], hex,
				 hex + 2);
			an_try(mp, buf, &mismatch);
		}
		snprintf(buf, sizeof(buf), "%s/%s", a->o->debug_dirs[i], base);
		if (!mp->host)
			an_try(mp, buf, &mismatch);
	}
	if (!mp->host)
		an_try(mp, mp->path, &mismatch);
	if (!mp->host)
		mp->why = mismatch ? "build-id differs from the one that ran" : "not found";
	return mp->host;
}

static int an_map_cmp(const void *pa, const void *pb)
{
	const struct an_map *x = pa, *y = pb;

	if (x->m.start != y->m.start)
		return x->m.start < y->m.start ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * MAP chunks come at attach and later, for code mapped during the capture
 * (Documentation/hawkeyes/trace-format.rst): sort them by address, and
 * note whether ranges overlap (the address space changed).
 */
static void an_sort_maps(struct an *a)
{
	size_t i;

	qsort(a->maps, a->nmaps, sizeof(*a->maps), an_map_cmp);
	for (i = 1; i < a->nmaps; i++)
		if (a->maps[i].m.start < a->maps[i - 1].m.end)
			a->maps_overlap = 1;
}

/* The mapping containing addr; of overlapping ones, the latest chunk. */
static struct an_map *an_map_at(struct an *a, uint64_t addr);

/*
 * Watch traces: the mapping of process @pid containing addr (processes
 * overlap each other, so search only its own; latest chunk wins).
 */
static struct an_map *an_map_at_pid(struct an *a, uint32_t pid, uint64_t addr)
{
	struct an_map *best = NULL;
	size_t i;

	if (!a->watch)
		return an_map_at(a, addr);
	for (i = 0; i < a->nmaps; i++) {
		struct an_map *m = &a->maps[i];

		if (m->pid == pid && m->m.start <= addr && addr < m->m.end &&
		    (!best || m->order > best->order))
			best = m;
	}
	return best;
}

static struct an_map *an_map_at(struct an *a, uint64_t addr)
{
	size_t lo = 0, hi = a->nmaps;

	if (a->maps_overlap) {
		struct an_map *best = NULL;

		for (lo = 0; lo < a->nmaps && a->maps[lo].m.start <= addr; lo++)
			if (addr < a->maps[lo].m.end && (!best || a->maps[lo].order > best->order))
				best = &a->maps[lo];
		return best;
	}

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct an_map *m = &a->maps[mid];

		if (addr < m->m.start)
			hi = mid;
		else if (addr >= m->m.end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/* ---- pass 2: records into the access stream ---- */

/* Count an unresolved record; the first reason goes into the report. */
static void an_unresolved(struct an *a, uint64_t *count, const char *why)
{
	(*count)++;
	if (!a->un.first[0])
		snprintf(a->un.first, sizeof(a->un.first), "%s", why);
}

static void an_mark_hit(struct an *a, uint64_t addr, unsigned int size)
{
	size_t i;
	uint64_t b;

	for (i = 0; i < a->nregions; i++) {
		struct an_region *r = &a->regions[i];

		for (b = addr; b < addr + size; b++)
			if (b >= r->start && b < r->start + r->len)
				r->hit[b - r->start] = 1;
	}
}

static const char *an_proc_comm(struct an *a, uint32_t pid)
{
	size_t i;

	for (i = 0; i < a->nprocs; i++)
		if (a->procs[i].pid == pid)
			return a->procs[i].comm;
	return "";
}

static const char *an_thread_name(struct an *a, uint32_t pid, uint32_t tid)
{
	struct an_thread *t = an_thread(a, tid);

	if (!t)
		return NULL;
	if (!t->name[0] && a->watch) {
		/* many processes: name the process and the thread */
		const char *pc = an_proc_comm(a, pid);

		t->pid = pid;
		if (!t->comm[0])
			snprintf(t->comm, sizeof(t->comm), "%s", pc);
		snprintf(t->name, sizeof(t->name), "pid %u (%.16s) tid %u", pid, pc, tid);
		if (pid == tid)
			snprintf(t->name, sizeof(t->name), "pid %u (%.16s) main thread", pid, pc);
	}
	if (!t->name[0])
		snprintf(t->name, sizeof(t->name), t->comm[0] ? "tid %u (%s)" : "tid %u%s",
			 t->tid, t->comm);
	return t->name;
}

static int an_add(struct an *a, const struct hk_trace_rec *rec, uint64_t addr, const char *name,
		  const char *host, const struct hka_insn_access *acc, enum hka_kind kind)
{
	struct hka_error err = { "" };
	struct hka_access x;

	memset(&x, 0, sizeof(x));
	x.thread = name;
	x.kind = kind;
	x.atomic = acc->atomic_rmw;
	x.size = acc->size ? acc->size : rec->size;
	x.addr = addr;
	x.nframes = 1;
	x.frames[0].module = host;
	x.frames[0].offset = acc->ip;
	if (kind == HKA_READ)
		a->reads++;
	else
		a->writes++;
	if (hka_stream_add_access(a->stream, &x, &err)) {
		hk_err(a->cmd, "%s", err.msg);
		return -ENOMEM;
	}
	return 0;
}

/*
 * One record of FILE, or of its discovery (@disc: counted apart, and not
 * in FILE's time span, which the coverage bounds use).
 */
static int an_record(struct an *a, const struct hk_trace_rec *rec, bool disc)
{
	bool after = rec->flags & HK_TRACE_REC_F_IP_AFTER;
	struct hka_error err = { "" };
	struct hka_insn_access acc;
	bool rd, wr;
	struct an_map *mp;
	const char *host, *base, *name;
	uint64_t addr;
	int ret;

	if (disc) {
		a->disc_records++;
	} else {
		a->records++;
		if (!a->first_ns || rec->time_ns < a->first_ns)
			a->first_ns = rec->time_ns;
		if (rec->time_ns > a->last_ns)
			a->last_ns = rec->time_ns;
	}
	/* Page records: exact address, width from the instruction (size 0). */
	if (a->watch && (rec->flags & HK_TRACE_REC_F_SEG))
		an_mark_hit(a, HK_TRACE_SEG_KEY(rec->seg, rec->seg_off), rec->size ? rec->size : 1);
	else
		an_mark_hit(a, rec->addr, rec->size ? rec->size : 1);
	/*
	 * The kernel touched the page for a syscall (write(2) of a watched
	 * buffer): the ip is the syscall's, not an access instruction.
	 */
	if (rec->flags & HK_TRACE_REC_F_UACCESS) {
		a->un.uaccess++;
		return 0;
	}
	mp = an_map_at_pid(a, rec->pid, after ? rec->ip - 1 : rec->ip);
	if (!mp || !(mp->m.flags & HK_TRACE_MAP_F_ELF)) {
		an_unresolved(a, &a->un.no_map, "an ip is in no ELF mapping of the trace");
		return 0;
	}
	host = an_map_binary(a, mp);
	if (!host) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s (pass --binary or --debug-dir)", mp->path,
			 mp->why);
		an_unresolved(a, &a->un.no_binary, msg);
		return 0;
	}
	if (!mp->records++) {
		ret = hka_stream_add_binary(a->stream, host, &err);
		if (ret) {
			hk_err(a->cmd, "%s", err.msg);
			return ret;
		}
	}
	ret = hka_resolve_access(a->resolver, host, rec->ip - mp->m.bias, after, &acc, &err);
	if (ret == -ENOMEM) {
		hk_err(a->cmd, "%s", err.msg);
		return ret;
	}
	if (ret) {
		an_unresolved(a, &a->un.no_insn, err.msg);
		return 0;
	}
	/*
	 * The hardware's kind is certain for W and R; RW (x86 read/write
	 * watchpoints) only says "one of the two": the instruction decides.
	 * A locked RMW both reads and writes.
	 */
	rd = acc.read || rec->kind == HK_TRACE_KIND_R;
	wr = acc.write || rec->kind == HK_TRACE_KIND_W;
	if (rec->kind == HK_TRACE_KIND_W && !acc.write)
		rd = false;
	if (rec->kind == HK_TRACE_KIND_R && !acc.read)
		wr = false;
	if (!rd && !wr) {
		an_unresolved(a, &a->un.no_kind, "a read/write record at an instruction "
			      "without a memory operand");
		return 0;
	}
	/*
	 * The record's address is the watched unit (up to 8 bytes): two small
	 * variables in one unit would be one location. When the instruction
	 * names a global inside that unit, that is the exact address.
	 */
	addr = rec->addr;
	if (a->watch) {
		/*
		 * Each process maps a segment elsewhere: the location is the
		 * segment offset, so accesses of different processes match.
		 */
		if (!(rec->flags & HK_TRACE_REC_F_SEG)) {
			an_unresolved(a, &a->un.no_map, "a watch record names no segment");
			return 0;
		}
		addr = HK_TRACE_SEG_KEY(rec->seg, rec->seg_off);
	} else if (acc.static_addr) {
		uint64_t exact = acc.static_addr + mp->m.bias;

		if (exact >= rec->addr && exact < rec->addr + rec->size)
			addr = exact;
	}
	name = an_thread_name(a, rec->pid, rec->tid);
	base = strrchr(host, '/');
	base = base ? base + 1 : host;
	if (!name)
		return -ENOMEM;
	if (rd && (ret = an_add(a, rec, addr, name, base, &acc, HKA_READ)))
		return ret;
	if (wr && (ret = an_add(a, rec, addr, name, base, &acc, HKA_WRITE)))
		return ret;
	return 0;
}

static int an_read_records_of(struct an *a, const char *path, bool disc)
{
	struct hk_trace_item it;
	struct hk_trace *t;
	size_t i;
	int ret;

	ret = hk_trace_open(path, &t);
	if (ret) {
		hk_err(a->cmd, "%s", t ? hk_trace_errmsg(t) : strerror(-ret));
		hk_trace_close(t);
		return ret;
	}
	while ((ret = hk_trace_next(t, &it)) > 0) {
		if (it.type != HK_TRACE_RECORDS)
			continue;
		for (i = 0; i < it.records.count; i++) {
			ret = an_record(a, &it.records.recs[i], disc);
			if (ret)
				goto out;
		}
	}
	if (ret < 0)
		hk_err(a->cmd, "%s", hk_trace_errmsg(t));
out:
	hk_trace_close(t);
	return ret < 0 ? ret : 0;
}

/*
 * The discovery's records come first: its session ended before FILE's
 * began. Both are one input of the analysis: one process, one run, its
 * threads and locations the same in both phases.
 */
static int an_read_records(struct an *a)
{
	hka_stream_begin_input(a->stream, a->trace);
	if (a->discovery && an_read_records_of(a, a->discovery, true))
		return -1;
	return an_read_records_of(a, a->trace, false);
}

/* ---- what the capture saw: coverage and losses ---- */

/*
 * The module cuts a region into naturally aligned 1/2/4/8-byte units
 * (Documentation/hawkeyes/capture.rst, "Units"); rotation moves `slots`
 * of them at a time. The trace does not hold the module's coverage
 * counter, so with rotation on, the watched part is bounded from above by
 * the rotation period and the capture's duration, and said to be a bound
 * (the tick work may rotate less often under load).
 */
static uint64_t an_unit_len(uint64_t addr, uint64_t left)
{
	uint64_t len = 8;

	while (len > 1 && ((addr & (len - 1)) || len > left))
		len >>= 1;
	return len;
}

struct an_cover {
	uint64_t units, watched_bytes, total_bytes;
	int estimated;
	uint64_t rotations;
};

static void an_coverage(const struct an *a, struct an_cover *c)
{
	uint64_t duration = 0, armed, k = 0;
	size_t i;

	memset(c, 0, sizeof(*c));
	if (a->have_end && a->have_meta && a->end.end_time_ns > a->meta.start_time_ns)
		duration = a->end.end_time_ns - a->meta.start_time_ns;
	for (i = 0; i < a->nregions; i++) {
		uint64_t p = a->regions[i].start, end = p + a->regions[i].len;

		c->total_bytes += a->regions[i].len;
		while (p < end) {
			p += an_unit_len(p, end - p);
			c->units++;
		}
	}
	armed = c->units;
	if (a->rotate_ns && a->slots && c->units > a->slots) {
		c->estimated = 1;
		c->rotations = duration / a->rotate_ns;
		if (c->rotations < c->units)	/* more would wrap: all covered */
			armed = (c->rotations + 1) * a->slots;
	}
	/* at most `armed` units can have been armed: an upper bound in bytes */
	for (i = 0; i < a->nregions; i++) {
		uint64_t p = a->regions[i].start, end = p + a->regions[i].len, len;

		while (p < end) {
			len = an_unit_len(p, end - p);
			if (k++ < armed)
				c->watched_bytes += len;
			p += len;
		}
	}
}

/* How long a late region was mapped but not watched: at most, or at least. */
static double an_late_ms(const struct an_region *r, int most)
{
	uint64_t from = most ? r->late.absent_ns : r->late.seen_ns;

	return r->late.watched_ns > from ? (r->late.watched_ns - from) / 1e6 : 0.0;
}

static uint64_t an_region_accessed(const struct an_region *r)
{
	uint64_t i, n = 0;

	for (i = 0; i < r->len; i++)
		n += r->hit[i];
	return n;
}

/* Ranges [from, to) of r where no record was seen, at most max of them. */
static size_t an_never_accessed(const struct an_region *r, uint64_t (*out)[2], size_t max,
				size_t *total)
{
	uint64_t i = 0, s;
	size_t n = 0;

	*total = 0;
	while (i < r->len) {
		if (r->hit[i]) {
			i++;
			continue;
		}
		s = i;
		while (i < r->len && !r->hit[i])
			i++;
		if (n < max) {
			out[n][0] = r->start + s;
			out[n][1] = r->start + i;
			n++;
		}
		(*total)++;
	}
	return n;
}

static uint64_t an_lost_total(const struct an *a)
{
	uint64_t k = a->lost.kernel_lost, g = a->lost.seq_gaps;

	return (k > g ? k : g) + a->lost.socket_overruns;
}

static const char *an_access_name(const struct an *a)
{
	return a->meta.access == HK_TRACE_ACCESS_RW ? "rw" : "w";
}

#define AN_MAX_GAPS	8

static void an_write_text(const struct an *a, FILE *f)
{
	struct an_cover c;
	uint64_t gaps[AN_MAX_GAPS][2];
	size_t i, k, n, total;

	an_coverage(a, &c);
	fprintf(f, "\ncapture: %s: pid %u (%.16s), %" PRIu64 " records from %zu threads, "
		"%s; lost %" PRIu64 " (module %" PRIu64 ", sequence gaps %" PRIu64
		", socket overruns %" PRIu64 "), throttled %" PRIu64 "%s\n",
		a->trace, a->meta.pid, a->meta.comm, a->records, a->nthreads,
		a->have_end ? hk_trace_end_reason_name(a->end.reason) : "file incomplete (no END)",
		an_lost_total(a), a->lost.kernel_lost, a->lost.seq_gaps, a->lost.socket_overruns,
		a->lost.throttled,
		!a->lost.throttled ? "" :
		a->meta.mode == HK_TRACE_MODE_PGPROT ?
		" (page re-arms deferred by the page budget: until re-armed, accesses to those"
		" pages were not seen)" :
		" (over the hit budget: those accesses were not seen)");
	fprintf(f, "  accesses: %" PRIu64 " reads, %" PRIu64 " writes resolved to their "
		"instruction; %lu cycles not reported: both sides inside one lock\n", a->reads,
		a->writes, a->dropped_by_lock);
	if (a->o->arm64_binary)
		fprintf(f, "  arm64 build %s: %lu cycles not reported: ordered there\n",
			a->o->arm64_binary, a->dropped_by_arm64);
	if (a->meta.flags & (HK_TRACE_META_F_AUTO_FOCUS | HK_TRACE_META_F_AUTO_PAGE)) {
		fprintf(f, "  --mode auto: this trace is %s; ",
			a->meta.flags & HK_TRACE_META_F_AUTO_FOCUS ?
			"the watchpoint phase, on the shared locations its page-mode discovery found" :
			"page mode going on after a discovery that found no shared location");
		if (a->discovery)
			fprintf(f, "analysed with the discovery's %" PRIu64 " records (%s)\n",
				a->disc_records, a->discovery);
		else
			fprintf(f, "analysed alone: no discovery trace %s.discovery of pid %u\n",
				a->trace, a->meta.pid);
	} else if (a->meta.flags & HK_TRACE_META_F_AUTO_WHOLE)
		fprintf(f, "  --mode auto: watchpoints on the whole regions (no discovery ran)\n");
	else if (a->meta.flags & HK_TRACE_META_F_AUTO_DISCOVERY)
		fprintf(f, "  --mode auto: this trace is the page-mode discovery (the capture ended "
			"before the watchpoint phase)\n");
	if (a->meta.mode == HK_TRACE_MODE_PGPROT)
		fprintf(f, "  page mode: exact instruction and address per record; %" PRIu64
			" syscall copies of watched memory not analysed (no access instruction)\n",
			a->un.uaccess);
	if (a->meta.access != HK_TRACE_ACCESS_RW)
		fprintf(f, "  note: only writes were watched (--access w): no load side of MP, LB "
			"or S can be seen; capture with --access rw\n");
	if (a->un.no_map + a->un.no_binary + a->un.no_insn + a->un.no_kind)
		fprintf(f, "  unresolved records: %" PRIu64 " in no ELF mapping, %" PRIu64
			" without their binary, %" PRIu64 " not at an instruction, %" PRIu64
			" without a memory operand; first: %s\n", a->un.no_map, a->un.no_binary,
			a->un.no_insn, a->un.no_kind, a->un.first);
	fprintf(f, "  regions: %" PRIu64 " bytes in %" PRIu64 " watchpoint units; ",
		c.total_bytes, c.units);
	if (!c.estimated && a->any_late)
		fprintf(f, "all watched from the start, or from when they appeared (below); "
			"no rotation\n");
	else if (!c.estimated)
		fprintf(f, "all watched for the whole capture (no rotation)\n");
	else if (a->have_end && (a->end.flags & HK_TRACE_END_F_COVERAGE))
		fprintf(f, "rotation every %" PRIu64 " ms over %u slots: the module armed %"
			PRIu64 " of %" PRIu64 " bytes at least once (its own count), each only "
			"part of the time; %" PRIu64 " bytes were never watched. A range without "
			"any record below was either never watched or not accessed while watched\n",
			a->rotate_ns / 1000000, a->slots, a->end.coverage, c.total_bytes,
			c.total_bytes > a->end.coverage ? c.total_bytes - a->end.coverage : 0);
	else
		fprintf(f, "rotation every %" PRIu64 " ms over %u slots: at most %" PRIu64
			" rotations, so at most %" PRIu64 " of %" PRIu64 " bytes were ever watched, "
			"each only part of the time (an upper bound from the period and the "
			"duration: the module may rotate less often under load, and this trace does "
			"not hold its coverage counter; 'hkctl status' shows it live). A range "
			"without any record below was either never watched or not accessed while "
			"watched\n",
			a->rotate_ns / 1000000, a->slots, c.rotations, c.watched_bytes,
			c.total_bytes);
	for (i = 0; i < a->nregions; i++) {
		const struct an_region *r = &a->regions[i];

		fprintf(f, "  region %s 0x%" PRIx64 "+%" PRIu64 ": accessed %" PRIu64 " bytes",
			r->spec, r->start, r->len, an_region_accessed(r));
		n = an_never_accessed(r, gaps, AN_MAX_GAPS, &total);
		if (total) {
			fprintf(f, "; no access seen at");
			for (k = 0; k < n; k++)
				fprintf(f, " 0x%" PRIx64 "-0x%" PRIx64, gaps[k][0], gaps[k][1]);
			if (total > n)
				fprintf(f, " and %zu more ranges", total - n);
		}
		if (r->is_late)
			fprintf(f, "; appeared after the capture began and was watched from at most "
				"%.1f ms (at least %.1f ms) after it was mapped: accesses before that "
				"were not captured", an_late_ms(r, 1), an_late_ms(r, 0));
		fputc('\n', f);
	}
}

static void an_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void an_write_json_capture(const struct an *a, FILE *f)
{
	struct an_cover c;
	uint64_t gaps[AN_MAX_GAPS][2];
	size_t i, k, n, total;

	an_coverage(a, &c);
	fputs("\"capture\": {\"trace\": ", f);
	an_json_str(f, a->trace);
	/* --mode auto: the discovery analysed with it, or null */
	fputs(", \"discovery\": ", f);
	if (a->discovery) {
		fputs("{\"trace\": ", f);
		an_json_str(f, a->discovery);
		fprintf(f, ", \"records\": %" PRIu64 "}", a->disc_records);
	} else {
		fputs("null", f);
	}
	fprintf(f, ", \"pid\": %u, \"machine\": \"%.16s\", "
		"\"complete\": %s, \"records\": %" PRIu64 ", \"threads\": %zu, \"access\": \"%s\", "
		"\"mode\": \"%s\", \"auto_phase\": %s, "
		"\"reads\": %" PRIu64 ", \"writes\": %" PRIu64 ", \"dropped_by_lock\": %lu, "
		"\"dropped_by_arm64\": %lu,\n  \"lost\": {\"total\": %" PRIu64
		", \"module\": %" PRIu64 ", \"sequence_gaps\": %" PRIu64 ", \"socket_overruns\": %"
		PRIu64 ", \"throttled\": %" PRIu64 "},\n  \"unresolved\": {\"no_mapping\": %" PRIu64
		", \"no_binary\": %" PRIu64 ", \"no_instruction\": %" PRIu64 ", \"no_memory_operand\": %"
		PRIu64 "},\n  \"coverage\": {\"units\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"watched_bytes_at_most\": %" PRIu64 ", \"rotating\": %s, \"rotations_at_most\": %" PRIu64
		", \"module_coverage_bytes\": %" PRId64 "},\n"
		"  \"regions\": [",
		a->meta.pid, a->meta.machine, a->have_end ? "true" : "false", a->records,
		a->nthreads, an_access_name(a),
		a->meta.mode == HK_TRACE_MODE_PGPROT ? "page" : "hwbp",
		a->meta.flags & HK_TRACE_META_F_AUTO_DISCOVERY ? "\"discovery\"" :
		a->meta.flags & HK_TRACE_META_F_AUTO_FOCUS ? "\"focus\"" :
		a->meta.flags & HK_TRACE_META_F_AUTO_WHOLE ? "\"whole\"" :
		a->meta.flags & HK_TRACE_META_F_AUTO_PAGE ? "\"page\"" : "null", a->reads, a->writes, a->dropped_by_lock,
		a->dropped_by_arm64,
		an_lost_total(a),
		a->lost.kernel_lost, a->lost.seq_gaps, a->lost.socket_overruns, a->lost.throttled,
		a->un.no_map, a->un.no_binary, a->un.no_insn, a->un.no_kind, c.units, c.total_bytes,
		c.watched_bytes, c.estimated ? "true" : "false", c.rotations,
		a->end.flags & HK_TRACE_END_F_COVERAGE ? (int64_t)a->end.coverage : -1);
	for (i = 0; i < a->nregions; i++) {
		const struct an_region *r = &a->regions[i];

		fprintf(f, "%s{\"spec\": ", i ? ", " : "");
		an_json_str(f, r->spec);
		fprintf(f, ", \"start\": \"0x%" PRIx64 "\", \"len\": %" PRIu64 ", "
			"\"accessed_bytes\": %" PRIu64 ", \"no_access_seen\": [", r->start, r->len,
			an_region_accessed(r));
		n = an_never_accessed(r, gaps, AN_MAX_GAPS, &total);
		for (k = 0; k < n; k++)
			fprintf(f, "%s[\"0x%" PRIx64 "\", \"0x%" PRIx64 "\"]", k ? ", " : "", gaps[k][0],
				gaps[k][1]);
		fputs("]", f);
		if (r->is_late)
			fprintf(f, ", \"late\": {\"unwatched_ms_at_most\": %.1f, "
				"\"unwatched_ms_at_least\": %.1f}", an_late_ms(r, 1), an_late_ms(r, 0));
		fputs("}", f);
	}
	fputs("]}", f);
}

/*
 * JSON and SARIF: the analyzer writes a complete document; the capture
 * object goes in before its last closing brace (JSON: a top-level key;
 * SARIF: the run's "properties").
 */
static int an_write_spliced(const struct an *a, const struct hka_result *res, FILE *out,
			    struct hka_error *err)
{
	char *buf = NULL;
	size_t len = 0, cut;
	FILE *mem = open_memstream(&buf, &len);
	int ret;

	if (!mem) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	ret = hka_report_write(res, a->o->format, mem, err);
	fclose(mem);
	if (ret) {
		free(buf);
		return ret;
	}
	/* JSON ends "}}\n": cut before the last '}'; SARIF ends "]}]}\n": before "}]}" */
	cut = len;
	while (cut && buf[cut - 1] != '}')
		cut--;
	if (cut && a->o->format == HKA_FORMAT_SARIF)
		while (--cut && buf[cut - 1] != '}')
			;
	if (cut < 2) {
		free(buf);
		snprintf(err->msg, sizeof(err->msg), "unexpected report layout");
		return -EINVAL;
	}
	cut--;
	fwrite(buf, 1, cut, out);
	fputs(a->o->format == HKA_FORMAT_SARIF ? ",\n \"properties\": {\"hawkeyes\": {" : ",\n ", out);
	an_write_json_capture(a, out);
	if (a->o->format == HKA_FORMAT_SARIF)
		fputs("}}", out);
	fputs(buf + cut, out);
	free(buf);
	if (fflush(out) || ferror(out)) {
		snprintf(err->msg, sizeof(err->msg), "cannot write the report: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/*
 * hka_location_fn: the object at a data address of the target. .bss past
 * the file's last page is an anonymous mapping right after the object's
 * own: the ELF mapping just before it stands for it.
 */
static int an_location(void *ctx, uint64_t addr, const char **name, bool *atomic)
{
	struct an *a = ctx;
	struct an_map *mp;
	const char *host;

	if (a->watch)
		return -ENOENT;	/* a segment offset: no object of a binary */
	mp = an_map_at(a, addr);
	if (mp && !(mp->m.flags & HK_TRACE_MAP_F_ELF) && !mp->path[0] && mp > a->maps &&
	    (mp[-1].m.flags & HK_TRACE_MAP_F_ELF) && mp[-1].m.end == mp->m.start)
		mp--;
	if (!mp || !(mp->m.flags & HK_TRACE_MAP_F_ELF))
		return -ENOENT;
	host = an_map_binary(a, mp);
	if (!host)
		return -ENOENT;
	return hka_resolve_data(a->resolver, host, addr - mp->m.bias, name, atomic);
}

static void an_free(struct an *a)
{
	size_t i;

	for (i = 0; i < a->nmaps; i++) {
		free(a->maps[i].path);
		free(a->maps[i].host);
	}
	for (i = 0; i < a->nregions; i++) {
		free(a->regions[i].spec);
		free(a->regions[i].hit);
	}
	free(a->maps);
	free(a->discovery);
	free(a->procs);
	free(a->regions);
	free(a->threads);
	hka_resolver_free(a->resolver);
	hka_stream_free(a->stream);
}

int hk_analysis_report(const char *cmd, const char *trace, const struct hk_analysis_opts *o)
{
	struct an a = { .cmd = cmd, .trace = trace, .o = o };
	struct hka_error err = { "" };
	struct hka_result *res = NULL;
	FILE *out = stdout;
	int rc = HK_EXIT_ERROR;

	a.resolver = hka_resolver_new();
	a.stream = hka_stream_new();
	if (!a.resolver || !a.stream) {
		hk_err(cmd, "out of memory");
		goto out;
	}
	if (an_find_discovery(&a) || an_read_meta(&a))
		goto out;
	an_sort_maps(&a);
	if (an_read_records(&a))
		goto out;
	if (!a.have_meta) {
		hk_err(cmd, "%s: no META chunk: not a capture trace", trace);
		goto out;
	}
	if (hka_analyze(a.stream, &o->cfg, &res, &err) ||
	    hka_result_review_capture(res, an_location, &a, &a.dropped_by_lock, &err) ||
	    (o->arm64_binary && hka_result_check_arm64(res, a.resolver, o->arm64_binary,
						       &a.dropped_by_arm64, &err))) {
		hk_err(cmd, "%s", err.msg);
		goto out;
	}
	if (o->output && !(out = fopen(o->output, "w"))) {
		hk_err(cmd, "cannot write '%s': %s", o->output, strerror(errno));
		out = NULL;
		goto out;
	}
	if (o->format == HKA_FORMAT_TEXT) {
		if (hka_report_write(res, o->format, out, &err))
			goto write_err;
		an_write_text(&a, out);
		if (fflush(out) || ferror(out)) {
			snprintf(err.msg, sizeof(err.msg), "cannot write the report: %s",
				 strerror(errno));
			goto write_err;
		}
	} else if (an_write_spliced(&a, res, out, &err)) {
		goto write_err;
	}
	rc = hka_result_porting_findings(res) ? HK_EXIT_FINDINGS : HK_EXIT_OK;
	/* records but nothing to analyse: "no finding" would be unfounded */
	if (a.records && !a.reads && !a.writes) {
		hk_err(cmd, "none of the %" PRIu64 " records could be resolved to an instruction, "
		       "so the report shows nothing: %s", a.records, a.un.first);
		rc = HK_EXIT_ERROR;
	}
	goto out;
write_err:
	hk_err(cmd, "%s", err.msg);
out:
	if (out && out != stdout && fclose(out) && rc != HK_EXIT_ERROR) {
		hk_err(cmd, "cannot write '%s': %s", o->output, strerror(errno));
		rc = HK_EXIT_ERROR;
	}
	hka_result_free(res);
	an_free(&a);
	return rc;
}
