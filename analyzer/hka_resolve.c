// SPDX-License-Identifier: GPL-2.0
/*
 * Resolving captured instruction pointers: a watchpoint hit says where the
 * thread was, not which instruction touched memory nor how. On x86 a data
 * breakpoint is a trap, so the reported ip is the instruction *after* the
 * access, and a read/write watchpoint does not say which of the two fired.
 * This file finds the accessing instruction in the binary and reads its
 * kind and size from the instruction itself.
 *
 * It reuses the analysis' own layers: hka_symtab_lookup() for the function
 * around the ip, hka_func_decode() (Capstone) for its instructions, whose
 * boundaries are the only reliable way to step back over variable-length
 * x86 code: the instruction before ip is the one that ends at ip. Only the
 * size of the memory operand is not in struct hka_insn; it comes from one
 * more Capstone decode of that single instruction.
 *
 * Records repeat the same few ips millions of times, so results are cached
 * per (binary, ip) and decoded functions per (binary, function start).
 * A resolver is single-threaded, like the symtab it owns.
 */
#include <capstone/capstone.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hka_priv.h"

struct hka_resolver {
	struct hka_symtab *st;
	struct hka_arena names;		/* binary paths: the symtab keeps pointers */
	struct hka_vec funcs;		/* struct hka_func */
	struct hka_map func_map;	/* (path hash, start) -> funcs index */
	struct hka_vec results;		/* struct hka_resolved_slot */
	struct hka_map result_map;	/* (path hash, ip | after) -> results index */
	csh cs[2];			/* x86-64, AArch64; opened on first use */
	bool cs_open[2];
};

struct hka_resolved_slot {
	int rc;
	struct hka_insn_access acc;
};

struct hka_resolver *hka_resolver_new(void)
{
	struct hka_resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->st = hka_symtab_new();
	if (!r->st) {
		free(r);
		return NULL;
	}
	hka_vec_init(&r->funcs, sizeof(struct hka_func));
	hka_vec_init(&r->results, sizeof(struct hka_resolved_slot));
	return r;
}

void hka_resolver_free(struct hka_resolver *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->funcs.n; i++)
		hka_func_release(HKA_VEC_AT(&r->funcs, struct hka_func, i));
	for (i = 0; i < 2; i++)
		if (r->cs_open[i])
			cs_close(&r->cs[i]);
	hka_vec_free(&r->funcs);
	hka_vec_free(&r->results);
	hka_map_free(&r->func_map);
	hka_map_free(&r->result_map);
	hka_symtab_free(r->st);
	hka_arena_free(&r->names);
	free(r);
}

static uint64_t hka_path_hash(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ULL;
	return h;
}

/* The decoded function of path that contains addr. */
static int hka_resolver_func(struct hka_resolver *r, const char *path, uint64_t addr,
			     struct hka_func **out, struct hka_error *err)
{
	uint64_t h = hka_path_hash(path);
	struct hka_symbol sym;
	struct hka_func *fn;
	const char *stable;
	uint32_t i;
	int rc;

	rc = hka_symtab_lookup(r->st, path, addr, &sym, err);
	if (rc)
		return rc;
	i = hka_map_get(&r->func_map, h, sym.func_start);
	if (i != HKA_NO_INDEX) {
		*out = HKA_VEC_AT(&r->funcs, struct hka_func, i);
		return 0;
	}
	stable = hka_arena_strdup(&r->names, path);
	fn = hka_vec_push(&r->funcs);
	if (!stable || !fn) {
		hka_error_set(err, "out of memory");
		return -ENOMEM;
	}
	fn->path = stable;
	fn->start = sym.func_start;
	fn->end = sym.func_end;
	fn->machine = sym.machine;
	rc = hka_func_decode(fn, r->st, err);
	if (!rc && hka_map_put(&r->func_map, h, sym.func_start, r->funcs.n - 1) == HKA_NO_INDEX) {
		hka_error_set(err, "out of memory");
		rc = -ENOMEM;
	}
	if (rc) {
		hka_func_release(fn);
		r->funcs.n--;
		return rc;
	}
	*out = fn;
	return 0;
}

/*
 * Bytes of the memory operand of the instruction at in (0 when unknown),
 * and the address it names when that is static (x86 RIP-relative or
 * absolute without registers: a global); 0 otherwise.
 */
static unsigned int hka_resolver_mem_size(struct hka_resolver *r, const struct hka_func *fn,
					  const struct hka_insn *in, uint64_t *static_addr)
{
	int arm = fn->machine == EM_AARCH64;
	const uint8_t *code;
	unsigned int size = 0;
	cs_insn *ci;
	size_t n;
	int k;

	if (!r->cs_open[arm]) {
		if (cs_open(arm ? CS_ARCH_ARM64 : CS_ARCH_X86, arm ? CS_MODE_ARM : CS_MODE_64,
			    &r->cs[arm]) != CS_ERR_OK)
			return 0;
		cs_option(r->cs[arm], CS_OPT_DETAIL, CS_OPT_ON);
		r->cs_open[arm] = true;
	}
	if (hka_symtab_code(r->st, fn->path, in->addr, in->addr + in->size, &code, NULL))
		return 0;
	n = cs_disasm(r->cs[arm], code, in->size, in->addr, 1, &ci);
	if (!n)
		return 0;
	if (!arm) {
		const cs_x86 *x = &ci->detail->x86;

		for (k = 0; k < x->op_count; k++) {
			const x86_op_mem *m = &x->operands[k].mem;

			if (x->operands[k].type != X86_OP_MEM || ci->id == X86_INS_LEA)
				continue;
			size = x->operands[k].size;
			if (m->index != X86_REG_INVALID || m->segment != X86_REG_INVALID)
				continue;
			if (m->base == X86_REG_RIP)
				*static_addr = ci->address + ci->size + m->disp;
			else if (m->base == X86_REG_INVALID)
				*static_addr = m->disp;
		}
	} else {
		/* the register operand says the width: w = 4, x = 8 (ldp/stp: twice) */
		const cs_arm64 *a = &ci->detail->arm64;

		for (k = 0; k < a->op_count && !size; k++)
			if (a->operands[k].type == ARM64_OP_REG) {
				unsigned int reg = a->operands[k].reg;

				if (reg >= ARM64_REG_W0 && reg <= ARM64_REG_W30)
					size = 4;
				else if (reg >= ARM64_REG_X0 && reg <= ARM64_REG_X28)
					size = 8;
			}
		if (size && (!strncmp(ci->mnemonic, "ldp", 3) || !strncmp(ci->mnemonic, "stp", 3)))
			size *= 2;
	}
	cs_free(ci, n);
	return size;
}

static int hka_resolve_uncached(struct hka_resolver *r, const char *path, uint64_t ip,
				bool after, struct hka_insn_access *acc, struct hka_error *err)
{
	/* the byte before ip belongs to the accessing instruction when ip is after it */
	uint64_t at = after ? ip - 1 : ip;
	const struct hka_insn *in;
	struct hka_func *fn;
	uint32_t k;
	int rc;

	rc = hka_resolver_func(r, path, at, &fn, err);
	if (rc)
		return rc;
	k = hka_func_insn_at(fn, at);
	if (k == HKA_NO_INDEX || (after && fn->insns[k].addr + fn->insns[k].size != ip)) {
		hka_error_set(err, "%s+0x%llx: no instruction %s this address", path,
			      (unsigned long long)ip, after ? "ends at" : "starts at");
		return -ENOENT;
	}
	in = &fn->insns[k];
	memset(acc, 0, sizeof(*acc));
	acc->ip = in->addr;
	acc->read = in->mem & 1;
	acc->write = in->mem & 2;
	acc->atomic_rmw = in->mem == 3 && in->order == HKA_ORD_ALL;
	acc->acquire = in->acq;
	acc->release = in->rel;
	acc->size = in->mem ? hka_resolver_mem_size(r, fn, in, &acc->static_addr) : 0;
	acc->machine = fn->machine;
	snprintf(acc->text, sizeof(acc->text), "%s", in->text);
	return 0;
}

int hka_resolve_access(struct hka_resolver *r, const char *path, uint64_t ip, bool after,
		       struct hka_insn_access *acc, struct hka_error *err)
{
	uint64_t h = hka_path_hash(path), key = ip << 1 | after;
	struct hka_resolved_slot *slot;
	uint32_t i;

	i = hka_map_get(&r->result_map, h, key);
	if (i == HKA_NO_INDEX) {
		slot = hka_vec_push(&r->results);
		if (!slot) {
			hka_error_set(err, "out of memory");
			return -ENOMEM;
		}
		err->msg[0] = '\0';
		slot->rc = hka_resolve_uncached(r, path, ip, after, &slot->acc, err);
		if (slot->rc == -ENOMEM) {
			r->results.n--;
			return -ENOMEM;
		}
		if (hka_map_put(&r->result_map, h, key, r->results.n - 1) == HKA_NO_INDEX) {
			hka_error_set(err, "out of memory");
			return -ENOMEM;
		}
		i = r->results.n - 1;
		if (slot->rc)
			return slot->rc;
	}
	slot = HKA_VEC_AT(&r->results, struct hka_resolved_slot, i);
	if (slot->rc) {
		hka_error_set(err, "%s+0x%llx: cannot resolve the accessing instruction", path,
			      (unsigned long long)ip);
		return slot->rc;
	}
	*acc = slot->acc;
	return 0;
}

int hka_resolve_data(struct hka_resolver *r, const char *path, uint64_t addr,
		     const char **name, bool *atomic)
{
	struct hka_symbol sym;
	struct hka_error err;

	*name = NULL;
	*atomic = false;
	/* dwfl_module_addrinfo() finds data symbols as well as functions */
	if (hka_symtab_lookup(r->st, path, addr, &sym, &err) || !sym.function)
		return -ENOENT;
	*name = sym.function;
	*atomic = hka_symtab_global_is_atomic(r->st, path, sym.function);
	return 0;
}

/* ---- the arm64 build of the same program decides (--arm64-binary) ---- */

#define HKA_A64_ROWS	32	/* line-table rows looked at per source line */
#define HKA_A64_SCAN	8	/* instructions from a row to its access */

struct hka_a64_access {
	const struct hka_func *fn;
	uint32_t insn;
};

/*
 * The access instructions of kind in the arm64 code of file:line: from
 * each line-table row, the first instruction that touches memory that way.
 */
static int hka_a64_line_accesses(struct hka_resolver *r, const char *path, const char *file,
				 unsigned int line, enum hka_kind kind,
				 struct hka_a64_access *out, int max)
{
	uint64_t rows[HKA_A64_ROWS];
	struct hka_error err;
	int nrows, i, n = 0;
	uint32_t k, j;

	if (!file || !line)
		return 0;
	nrows = hka_symtab_line_addrs(r->st, path, file, line, rows, HKA_A64_ROWS);
	for (i = 0; i < nrows && n < max; i++) {
		struct hka_func *fn;

		err.msg[0] = '\0';
		if (hka_resolver_func(r, path, rows[i], &fn, &err) || fn->machine != EM_AARCH64)
			continue;
		k = hka_func_insn_at(fn, rows[i]);
		for (j = k; k != HKA_NO_INDEX && j < fn->ninsn && j < k + HKA_A64_SCAN; j++) {
			if (!(fn->insns[j].mem & (kind == HKA_WRITE ? 2 : 1)))
				continue;
			out[n].fn = fn;
			out[n].insn = j;
			n++;
			break;
		}
	}
	return n;
}

/* Does the arm64 code order a (kind1 at a, kind2 at b) pair? */
static bool hka_a64_orders(const struct hka_func *fn, uint32_t a, uint32_t b,
			   enum hka_kind k1, enum hka_kind k2)
{
	unsigned int need = hka_ord_bit(k1, k2);
	uint32_t i;

	if (k1 == HKA_READ && fn->insns[a].acq)
		return true;	/* acquire load: later accesses stay after it */
	if (k2 == HKA_WRITE && fn->insns[b].rel)
		return true;	/* release store: earlier accesses stay before it */
	if (k1 == HKA_WRITE && k2 == HKA_READ && fn->insns[a].rel && fn->insns[b].acq)
		return true;	/* stlr then ldar: RCsc */
	for (i = a + 1; i < b; i++)
		if (fn->insns[i].order & need)
			return true;
	return false;
}

/*
 * One side in the arm64 build: 1 ordered, 0 not ordered (what it found in
 * text), -1 its lines or accesses are not there.
 */
static int hka_a64_side(struct hka_resolver *r, const char *path, const struct hka_result *res,
			const struct hka_side *sd, char *text, size_t size)
{
	const struct hka_stream *s = res->s;
	const struct hka_event *e1 = HKA_VEC_AT(&s->events, struct hka_event, sd->first);
	const struct hka_event *e2 = HKA_VEC_AT(&s->events, struct hka_event, sd->second);
	const struct hka_site *s1 = HKA_VEC_AT(&s->sites, struct hka_site, e1->site);
	const struct hka_site *s2 = HKA_VEC_AT(&s->sites, struct hka_site, e2->site);
	struct hka_a64_access a[HKA_A64_ROWS], b[HKA_A64_ROWS];
	int na, nb, i, j, best_i = -1, best_j = -1;
	uint32_t best = UINT32_MAX;

	na = hka_a64_line_accesses(r, path, s1->info.file, s1->info.line, e1->kind, a, HKA_A64_ROWS);
	nb = hka_a64_line_accesses(r, path, s2->info.file, s2->info.line, e2->kind, b, HKA_A64_ROWS);
	/* the closest pair in one function, first before second */
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (a[i].fn == b[j].fn && a[i].insn < b[j].insn &&
			    b[j].insn - a[i].insn < best) {
				best = b[j].insn - a[i].insn;
				best_i = i;
				best_j = j;
			}
	if (best_i < 0)
		return -1;
	snprintf(text, size, "%s then %s", a[best_i].fn->insns[a[best_i].insn].text,
		 b[best_j].fn->insns[b[best_j].insn].text);
	return hka_a64_orders(a[best_i].fn, a[best_i].insn, b[best_j].insn, e1->kind, e2->kind);
}

int hka_result_check_arm64(struct hka_result *res, struct hka_resolver *r, const char *path,
			   unsigned long *dropped, struct hka_error *err)
{
	size_t i, kept = 0;

	*dropped = 0;
	if (access(path, R_OK)) {
		hka_error_set(err, "cannot read the arm64 binary '%s': %s", path, strerror(errno));
		return -errno;
	}
	for (i = 0; i < res->findings.n; i++) {
		struct hka_finding *f = HKA_VEC_AT(&res->findings, struct hka_finding, i);
		char t0[160] = "", t1[160] = "", buf[512];
		int o0 = hka_a64_side(r, path, res, &f->sides[0], t0, sizeof(t0));
		int o1 = hka_a64_side(r, path, res, &f->sides[1], t1, sizeof(t1));

		if (o0 == 1 && o1 == 1) {	/* the arm64 build orders the cycle */
			(*dropped)++;
			continue;
		}
		if (o0 >= 0 && o1 >= 0) {
			snprintf(buf, sizeof(buf), "the arm64 build leaves it unordered: %s (%s), "
				 "%s (%s)", t0, o0 ? "ordered" : "not ordered", t1,
				 o1 ? "ordered" : "not ordered");
			f->confidence = "high";
		} else {
			snprintf(buf, sizeof(buf), "%s; the arm64 build does not show %s",
				 f->confidence_reason ? f->confidence_reason : "",
				 o0 < 0 && o1 < 0 ? "either side's lines" : "one side's lines");
		}
		f->confidence_reason = hka_arena_strdup(&res->names, buf);
		if (!f->confidence_reason) {
			hka_error_set(err, "out of memory");
			return -ENOMEM;
		}
		*HKA_VEC_AT(&res->findings, struct hka_finding, kept++) = *f;
	}
	res->findings.n = kept;
	return 0;
}
