// SPDX-License-Identifier: GPL-2.0
/*
 * The analysis driver: binaries for modules, then in parallel stages
 * (symbolize sites, decode functions, find intervals) and the sequential
 * match. Every stage writes per-task slots and merges in task order, so the
 * result does not depend on --jobs. Each worker owns a symtab (Dwfl is not
 * thread-safe); the result keeps them because site names point into them.
 */
#include <elf.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hka_priv.h"

struct hka_analysis {
	struct hka_stream *s;
	struct hka_result *res;
	struct hka_symtab *symtabs[HKA_MAX_JOBS];
	struct hka_symbol *syms;	/* per site */
	int *sym_rc;			/* per site */
};

struct hka_result_priv {
	struct hka_result res;
	struct hka_symtab *symtabs[HKA_MAX_JOBS];
};

static struct hka_symtab *hka_worker_symtab(struct hka_analysis *a, unsigned int worker)
{
	/* only worker "worker" touches slot "worker": no lock */
	if (!a->symtabs[worker])
		a->symtabs[worker] = hka_symtab_new();
	return a->symtabs[worker];
}

static const char *hka_try_path(struct hka_stream *s, const char *dir, const char *name)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	if (access(buf, R_OK))
		return NULL;
	return hka_arena_strdup(&s->arena, buf);
}

/* --binary by basename, then beside each input, then the current directory. */
static int hka_resolve_modules(struct hka_stream *s, struct hka_error *err)
{
	size_t i, j;

	for (i = 0; i < s->modules.n; i++) {
		struct hka_module *m = HKA_VEC_AT(&s->modules, struct hka_module, i);

		for (j = 0; j < s->binaries.n && !m->path; j++) {
			const char *p = *HKA_VEC_AT(&s->binaries, const char *, j);
			const char *b = strrchr(p, '/');

			if (!strcmp(b ? b + 1 : p, m->name))
				m->path = p;
		}
		for (j = 0; j < s->inputs.n && !m->path; j++) {
			char *dup = strdup(*HKA_VEC_AT(&s->inputs, const char *, j));

			if (dup && strchr(dup, '/'))
				m->path = hka_try_path(s, dirname(dup), m->name);
			free(dup);
		}
		if (!m->path)
			m->path = hka_try_path(s, ".", m->name);
		if (!m->path && !strstr(m->name, ".so")) {
			hka_error_set(err, "cannot find the binary '%s' named by the input; "
				      "pass --binary PATH", m->name);
			return -ENOENT;
		}
	}
	return 0;
}

/*
 * One symtab per worker, every binary opened here on the calling thread:
 * libdwfl's setup writes libelf globals and must not run in parallel.
 * Later stages use at most as many workers (fewer tasks).
 */
static int hka_open_symtabs(struct hka_analysis *a, const struct hka_config *cfg,
			    struct hka_error *err)
{
	unsigned int jobs = hka_pool_jobs(cfg, a->s->sites.n), w;
	size_t i;

	for (w = 0; w < jobs; w++) {
		struct hka_symtab *st = hka_worker_symtab(a, w);

		if (!st) {
			hka_error_set(err, "out of memory");
			return -ENOMEM;
		}
		for (i = 0; i < a->s->modules.n; i++) {
			const struct hka_module *m = HKA_VEC_AT(&a->s->modules, struct hka_module, i);

			if (m->path && hka_symtab_preload(st, m->path, err))
				return -EINVAL;
		}
	}
	return 0;
}

static int hka_symbolize_site(struct hka_pool *pool, void *arg, unsigned int worker,
			      size_t i, struct hka_error *err)
{
	struct hka_analysis *a = arg;
	struct hka_site *site = HKA_VEC_AT(&a->s->sites, struct hka_site, i);
	const struct hka_module *m = HKA_VEC_AT(&a->s->modules, struct hka_module, site->module);
	struct hka_symtab *st = hka_worker_symtab(a, worker);

	if (!st) {
		hka_error_set(err, "out of memory");
		return -ENOMEM;
	}
	if (!m->path) {
		a->sym_rc[i] = -ENOENT;
		return 0;
	}
	a->sym_rc[i] = hka_symtab_lookup(st, m->path, site->offset, &a->syms[i], err);
	/* an unsupported or unreadable binary ends the run; a missing symbol does not */
	return a->sym_rc[i] == -EINVAL ? -EINVAL : 0;
}

static int hka_decode_func(struct hka_pool *pool, void *arg, unsigned int worker,
			   size_t i, struct hka_error *err)
{
	struct hka_analysis *a = arg;
	struct hka_symtab *st = hka_worker_symtab(a, worker);

	if (!st) {
		hka_error_set(err, "out of memory");
		return -ENOMEM;
	}
	return hka_func_decode(&a->res->funcs[i], st, err);
}

/* Function table in site order, then each site's instruction and ordering. */
static int hka_build_funcs(struct hka_analysis *a, struct hka_error *err)
{
	struct hka_stream *s = a->s;
	struct hka_result *res = a->res;
	struct hka_map map;
	size_t i;

	hka_map_init(&map);
	res->funcs = calloc(s->sites.n + 1, sizeof(*res->funcs));
	if (!res->funcs)
		goto nomem;
	for (i = 0; i < s->sites.n; i++) {
		struct hka_site *site = HKA_VEC_AT(&s->sites, struct hka_site, i);
		const struct hka_symbol *sym = &a->syms[i];
		uint32_t f;

		if (a->sym_rc[i]) {
			res->unresolved++;
			continue;
		}
		f = hka_map_put(&map, site->module, sym->func_start, res->nfuncs);
		if (f == HKA_NO_INDEX)
			goto nomem;
		if (f == res->nfuncs) {
			struct hka_func *fn = &res->funcs[res->nfuncs++];

			fn->path = HKA_VEC_AT(&s->modules, struct hka_module, site->module)->path;
			fn->start = sym->func_start;
			fn->end = sym->func_end;
			fn->machine = sym->machine;
		}
		site->info.func = f;
		site->info.func_start = sym->func_start;
		site->info.function = sym->inline_function ? sym->inline_function : sym->function;
		site->info.inlined_into = sym->inline_function ? sym->function : NULL;
		site->info.file = sym->file;
		site->info.line = sym->line;
	}
	hka_map_free(&map);
	return 0;
nomem:
	hka_map_free(&map);
	hka_error_set(err, "out of memory");
	return -ENOMEM;
}

#define HKA_DEF_SCAN	64	/* instructions walked back to where a base was computed */
#define HKA_DEF_HOPS	4

/*
 * Registers a call may clobber (DWARF numbers): x86-64 psABI rax, rdx,
 * rcx, rsi, rdi, r8-r11; AAPCS64 x0-x18, x30.
 */
static bool hka_caller_saved(int machine, int reg)
{
	if (machine == EM_AARCH64)
		return reg <= 18 || reg == 30;
	return reg <= 2 || reg == 4 || reg == 5 || (reg >= 8 && reg <= 11);
}

/*
 * The object the memory operand [reg + disp] of insn k names through a
 * pointer variable: the variable in reg at k, or the one reg was computed
 * from, walking back in address order (like hka_capture.c's lock scan)
 * through "lea reg, [src + d]", "add reg, d", "mov reg, src" (x86) and
 * "add xd, xn, #d", "mov xd, xn", a post/pre-index writeback (arm64):
 * GCC hoists &m->flag out of a loop, and arm64 stlr/ldar take no offset.
 * Any other write to the register, or a call when it is caller-saved,
 * ends the walk: no claim.
 */
static int hka_access_object(struct hka_symtab *st, const struct hka_func *fn, uint32_t k,
			     const char **name, bool *atomic)
{
	const struct hka_insn *in = &fn->insns[k];
	int reg = in->mem_base - 1, hop;
	int64_t disp = in->mem_disp;
	uint64_t at = in->addr;
	uint32_t i = k;

	for (hop = 0; hop < HKA_DEF_HOPS; hop++) {
		const struct hka_insn *d = NULL;

		if (!hka_symtab_pointee(st, fn->path, at, reg, disp, name, atomic))
			return 0;
		while (i-- > 0 && k - i <= HKA_DEF_SCAN) {
			const struct hka_insn *p = &fn->insns[i];

			if ((p->flags & HKA_INSN_CALL) && hka_caller_saved(fn->machine, reg))
				return -ENOENT;
			if ((p->flags & HKA_INSN_BAD) || (p->regs_written & (1u << reg))) {
				d = p;
				break;
			}
		}
		if (!d || !d->copy_src || (d->flags & HKA_INSN_BAD))
			return -ENOENT;
		reg = d->copy_src - 1;
		disp += d->copy_disp;
		at = d->addr;
	}
	return -ENOENT;
}

/*
 * x86 shows a seq_cst load of an _Atomic object as a plain mov. Where the
 * instruction names a global (RIP-relative), or reaches through a pointer
 * variable a member (hka_symtab_pointee()), whose DWARF type is _Atomic,
 * a plain access to it is a C11 seq_cst access. Only in code without TSan
 * instrumentation: there every real atomic is a __tsan_atomic call, and a
 * plain access is a cast around the atomic type (corpus mp_relaxed.c).
 * On arm64 the type is only named: a plain ldr/str of an _Atomic object
 * is a relaxed access, and the ordered ones (ldar, stlr) show themselves.
 */
static void hka_site_atomic_type(struct hka_analysis *a, struct hka_site *site,
				 const struct hka_func *fn, const struct hka_insn *acc)
{
	struct hka_symtab *st = a->symtabs[0] ? a->symtabs[0] : hka_worker_symtab(a, 0);
	bool atomic = false;

	if (!st || !acc->mem)
		return;
	if (acc->data_addr) {
		site->info.object = hka_symtab_symbol_containing(st, fn->path, acc->data_addr);
		atomic = site->info.object &&
			 hka_symtab_global_is_atomic(st, fn->path, site->info.object);
	} else if (acc->mem_base &&
		   hka_access_object(st, fn, (uint32_t)(acc - fn->insns), &site->info.object,
				     &atomic)) {
		return;
	}
	if (!atomic)
		return;
	site->info.atomic_type = true;
	if (fn->machine != EM_X86_64 || fn->tsan || a->res->cfg.atomic_undecided)
		return;
	if (acc->mem & 1)
		site->info.acquire = true;
	if (acc->mem & 2)
		site->info.release = true;
	site->info.seq_cst = true;
}

static void hka_finish_sites(struct hka_analysis *a)
{
	struct hka_stream *s = a->s;
	size_t i;

	for (i = 0; i < s->sites.n; i++) {
		struct hka_site *site = HKA_VEC_AT(&s->sites, struct hka_site, i);
		const struct hka_func *fn;
		const struct hka_insn *in, *acc;
		uint32_t k;

		if (a->sym_rc[i])
			continue;
		fn = &a->res->funcs[site->info.func];
		k = hka_func_insn_at(fn, site->offset);
		if (k == HKA_NO_INDEX) {
			a->res->unresolved++;
			continue;
		}
		site->info.insn = k;
		in = &fn->insns[k];
		acc = &fn->insns[hka_func_access_insn(fn, k)];
		site->info.access_ip = acc->addr;
		/* the ordering of the access: the instruction or its TSan atomic call */
		site->info.acquire = in->acq || acc->acq;
		site->info.release = in->rel || acc->rel;
		site->info.full = (in->mem && in->order == HKA_ORD_ALL) ||
				  (acc->mem && acc->order == HKA_ORD_ALL);
		site->info.seq_cst = site->info.acquire && site->info.release;
		if (fn->machine == EM_AARCH64)	/* stlr/ldar are RCsc */
			site->info.seq_cst = site->info.acquire || site->info.release;
		hka_site_atomic_type(a, site, fn, acc);
		site->info.resolved = true;
	}
}

int hka_analyze(struct hka_stream *s, const struct hka_config *cfg,
		struct hka_result **resp, struct hka_error *err)
{
	struct hka_result_priv *rp = calloc(1, sizeof(*rp));
	struct hka_analysis a = { .s = s };
	struct hka_vec intervals;
	struct hka_groups groups = { 0 };
	int rc = -ENOMEM;

	hka_vec_init(&intervals, sizeof(struct hka_interval));
	err->msg[0] = '\0';
	if (!rp)
		goto nomem;
	a.res = &rp->res;
	rp->res.s = s;
	rp->res.cfg = *cfg;
	hka_vec_init(&rp->res.findings, sizeof(struct hka_finding));
	a.syms = calloc(s->sites.n + 1, sizeof(*a.syms));
	a.sym_rc = calloc(s->sites.n + 1, sizeof(*a.sym_rc));
	if (!a.syms || !a.sym_rc)
		goto nomem;
	rc = hka_stream_merge_locations(s, err);
	if (rc)
		goto fail;
	rc = hka_resolve_modules(s, err);
	if (rc)
		goto fail;
	rc = hka_open_symtabs(&a, cfg, err);
	if (rc)
		goto fail;
	rc = hka_pool_run(cfg, s->sites.n, hka_symbolize_site, &a, err);
	if (rc)
		goto fail;
	rc = hka_build_funcs(&a, err);
	if (rc)
		goto fail;
	rc = hka_pool_run(cfg, rp->res.nfuncs, hka_decode_func, &a, err);
	if (rc)
		goto fail;
	hka_finish_sites(&a);
	rc = hka_intervals_find(s, &rp->res, &groups, &intervals, err);
	if (rc)
		goto fail;
	rc = hka_match_intervals(s, &rp->res, &groups, &intervals, err);
	if (rc)
		goto fail;
	memcpy(rp->symtabs, a.symtabs, sizeof(rp->symtabs));
	hka_vec_free(&intervals);
	hka_groups_free(&groups);
	free(a.syms);
	free(a.sym_rc);
	*resp = &rp->res;
	return 0;
nomem:
	hka_error_set(err, "out of memory");
	rc = -ENOMEM;
fail:
	if (rp)
		memcpy(rp->symtabs, a.symtabs, sizeof(rp->symtabs));
	hka_vec_free(&intervals);
	hka_groups_free(&groups);
	free(a.syms);
	free(a.sym_rc);
	hka_result_free(rp ? &rp->res : NULL);
	return rc;
}

void hka_result_free(struct hka_result *res)
{
	struct hka_result_priv *rp = (struct hka_result_priv *)res;
	uint32_t i;

	if (!res)
		return;
	for (i = 0; i < res->nfuncs; i++)
		hka_func_release(&res->funcs[i]);
	free(res->funcs);
	hka_vec_free(&res->findings);
	hka_arena_free(&res->names);
	for (i = 0; i < HKA_MAX_JOBS; i++)
		hka_symtab_free(rp->symtabs[i]);
	free(rp);
}

unsigned int hka_result_findings(const struct hka_result *res)
{
	return res->findings.n;
}

unsigned int hka_result_porting_findings(const struct hka_result *res)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < res->findings.n; i++)
		n += HKA_VEC_AT(&res->findings, struct hka_finding, i)->porting;
	return n;
}
