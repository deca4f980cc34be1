// SPDX-License-Identifier: GPL-2.0
/*
 * Review of the findings of a capture input. A ThreadSanitizer report only
 * names pairs no happens-before orders; a watchpoint capture sees every
 * access and no synchronisation at all. Two things follow, both applied
 * after matching, to the findings only:
 *
 * 1. Critical sections. A side whose two accesses lie inside one critical
 *    section of lock L cannot interleave with another side inside a
 *    critical section of the same L, so a cycle whose two sides are both
 *    inside L is not a bug and is dropped. A critical section is found in
 *    the side's own function, in address order: walking back from the
 *    first access, the nearest synchronising instruction must acquire L
 *    (a pthread lock call, or a locked RMW/xchg on L: a spinlock), and
 *    walking forward from the second access, the nearest one must release
 *    L (the unlock call, or any store to L). L is the static address of
 *    the mutex argument or of the RMW's memory operand. When both sides
 *    are in critical sections but a lock cannot be named (passed by
 *    pointer), the finding is kept with a low confidence that says so.
 *
 * 2. Confidence. On x86 a C11 release store or acquire load is the same
 *    mov as a relaxed one, and release/acquire fences emit nothing. When
 *    an object of the cycle has an _Atomic DWARF type, the x86 code cannot
 *    tell whether the program already orders the pair: "undecidable".
 *
 * Limits (Documentation/hawkeyes/analysis.rst): address order, not the
 * CFG; locks taken in a caller are not seen; compiler-only barriers
 * (asm volatile("" ::: "memory"), Linux smp_wmb()/smp_rmb() on x86) leave
 * no trace in x86 code.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hka_priv.h"

#define HKA_LOCK_SCAN	256	/* instructions walked each way */

enum hka_sync {
	HKA_SYNC_NONE,
	HKA_SYNC_ACQUIRE,
	HKA_SYNC_RELEASE,
	HKA_SYNC_OTHER,		/* orders, but is neither for our purpose */
};

static bool hka_starts(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

/* Address in "[rip + 0x2ecd]" / "[rip - 0x10]" / "[0x404080]" of insn in; 0 if none. */
static uint64_t hka_mem_addr(const struct hka_insn *in)
{
	const char *p = strchr(in->text, '[');
	char *end;
	uint64_t v;

	if (!p)
		return 0;
	p++;
	if (hka_starts(p, "rip ")) {
		int neg = p[4] == '-';

		v = strtoull(p + 6, &end, 0);
		if (*end != ']')
			return 0;
		return in->addr + in->size + (neg ? -v : v);
	}
	v = strtoull(p, &end, 0);
	return *end == ']' ? v : 0;
}

/* "edi" -> "rdi", "r12d" -> "r12": the 64-bit name of an x86 register. */
static void hka_reg64(const char *r, size_t n, char *out, size_t size)
{
	if (n == 3 && r[0] == 'e')
		snprintf(out, size, "r%.2s", r + 1);
	else if (n > 2 && r[0] == 'r' && r[n - 1] == 'd' && r[1] >= '0' && r[1] <= '9')
		snprintf(out, size, "%.*s", (int)(n - 1), r);
	else
		snprintf(out, size, "%.*s", (int)n, r);
}

static bool hka_callee_saved(const char *r)
{
	return !strcmp(r, "rbx") || !strcmp(r, "rbp") || !strcmp(r, "r12") ||
	       !strcmp(r, "r13") || !strcmp(r, "r14") || !strcmp(r, "r15");
}

/*
 * The static address in the first argument register (rdi) at call k: a
 * lea/mov of a global into rdi, possibly through a callee-saved register
 * set before the loop ("lea rbp, [rip + x]" ... "mov rdi, rbp"). 0 when
 * rdi holds anything else (a pointer the code computed).
 */
static uint64_t hka_arg0_addr(const struct hka_func *fn, uint32_t k)
{
	char reg[8] = "rdi", dst[8];
	uint32_t i;

	for (i = k; i-- > 0 && k - i <= HKA_LOCK_SCAN;) {
		const struct hka_insn *in = &fn->insns[i];
		const char *ops = strchr(in->text, ' '), *comma;
		char *end;
		uint64_t v;

		/* a call clobbers rdi, not the callee-saved registers */
		if ((in->flags & HKA_INSN_CALL) && !hka_callee_saved(reg))
			return 0;
		if (!ops || hka_starts(in->text, "cmp ") || hka_starts(in->text, "test ") ||
		    !(comma = strchr(ops, ',')))
			continue;
		ops++;
		hka_reg64(ops, comma - ops, dst, sizeof(dst));
		if (strcmp(dst, reg))
			continue;	/* does not write the register we follow */
		if (hka_starts(in->text, "lea "))
			return hka_mem_addr(in);
		if (!hka_starts(in->text, "mov "))
			return 0;
		comma += 2;
		v = strtoull(comma, &end, 0);
		if (end != comma && !*end)
			return v;	/* mov edi, 0x4060c0 */
		hka_reg64(comma, strlen(comma), dst, sizeof(dst));
		if (!hka_callee_saved(dst))
			return 0;
		memcpy(reg, dst, sizeof(reg));
	}
	return 0;
}

/* What instruction k of fn does to a critical section, and on which lock. */
static enum hka_sync hka_sync_of(const struct hka_func *fn, uint32_t k, uint64_t *lock)
{
	const struct hka_insn *in = &fn->insns[k];
	const char *callee;

	*lock = 0;
	if (in->flags & HKA_INSN_CALL) {
		callee = strchr(in->text, '<');
		if (!callee || !in->order)
			return in->order ? HKA_SYNC_OTHER : HKA_SYNC_NONE;
		callee++;
		*lock = hka_arg0_addr(fn, k);
		if (strstr(callee, "unlock"))
			return HKA_SYNC_RELEASE;
		if (hka_starts(callee, "pthread_mutex_lock") ||
		    hka_starts(callee, "pthread_mutex_trylock") ||
		    hka_starts(callee, "pthread_mutex_timedlock") ||
		    hka_starts(callee, "pthread_spin_lock") ||
		    hka_starts(callee, "pthread_spin_trylock") ||
		    hka_starts(callee, "pthread_rwlock_rdlock") ||
		    hka_starts(callee, "pthread_rwlock_wrlock"))
			return HKA_SYNC_ACQUIRE;
		return HKA_SYNC_OTHER;
	}
	if (in->mem == 3 && in->order == HKA_ORD_ALL) {	/* x86 lock/xchg: take a spinlock */
		*lock = hka_mem_addr(in);
		return HKA_SYNC_ACQUIRE;
	}
	if (in->mem && (in->acq || in->rel)) {	/* arm64 ldaxr/stlr... */
		*lock = hka_mem_addr(in);
		return in->rel && !in->acq ? HKA_SYNC_RELEASE : HKA_SYNC_ACQUIRE;
	}
	return in->order ? HKA_SYNC_OTHER : HKA_SYNC_NONE;
}

/*
 * Is [first, second] of fn inside one critical section? Returns true and
 * the lock (0 when it cannot be named) if so.
 */
static bool hka_in_critical_section(const struct hka_func *fn, uint32_t first, uint32_t second,
				    uint64_t *lock)
{
	uint64_t acq = 0, rel = 0;
	enum hka_sync s = HKA_SYNC_NONE;
	uint32_t k, n;

	if (second < first) {
		uint32_t t = first;

		first = second;
		second = t;
	}
	for (k = first, n = 0; k-- > 0 && n < HKA_LOCK_SCAN; n++) {
		s = hka_sync_of(fn, k, &acq);
		if (s != HKA_SYNC_NONE)
			break;
	}
	if (s != HKA_SYNC_ACQUIRE)
		return false;
	for (k = first + 1, n = 0; k < fn->ninsn && n < HKA_LOCK_SCAN; k++, n++) {
		const struct hka_insn *in = &fn->insns[k];

		if (k == second)
			continue;
		/* leaving the function still holding it: the release is not here */
		if ((in->flags & HKA_INSN_RET) && !(in->flags & HKA_INSN_CALL) && k > second)
			return false;
		/* a spinlock is released by a plain store to its word */
		if (acq && (in->mem & 2) && !(in->flags & HKA_INSN_CALL) && hka_mem_addr(in) == acq &&
		    k > second) {
			*lock = acq;
			return true;
		}
		s = hka_sync_of(fn, k, &rel);
		if (s == HKA_SYNC_NONE)
			continue;
		if (k < second)
			return false;	/* something between the two accesses */
		if (s != HKA_SYNC_RELEASE || (acq && rel && acq != rel))
			return false;
		*lock = acq && rel ? acq : 0;
		return true;
	}
	return false;
}

static const struct hka_site *hka_ev_site(const struct hka_stream *s, uint32_t e)
{
	const struct hka_event *ev = HKA_VEC_AT(&s->events, struct hka_event, e);

	return HKA_VEC_AT(&s->sites, struct hka_site, ev->site);
}

static bool hka_side_locked(const struct hka_result *res, const struct hka_side *sd,
			    uint64_t *lock)
{
	const struct hka_site *a = hka_ev_site(res->s, sd->first);
	const struct hka_site *b = hka_ev_site(res->s, sd->second);

	if (!a->info.resolved || !b->info.resolved || a->info.func != b->info.func)
		return false;
	return hka_in_critical_section(&res->funcs[a->info.func], a->info.insn, b->info.insn, lock);
}

static int hka_side_machine(const struct hka_result *res, const struct hka_side *sd)
{
	const struct hka_site *a = hka_ev_site(res->s, sd->first);

	return a->info.resolved ? res->funcs[a->info.func].machine : 0;
}

/* Confidence of a kept finding: what x86 code can and cannot show about it. */
static int hka_confidence(struct hka_result *res, struct hka_finding *f,
			  hka_location_fn loc_fn, void *ctx)
{
	const struct hka_stream *s = res->s;
	char buf[512];
	const char *name = NULL;
	uint32_t evs[2] = { f->sides[0].first, f->sides[0].second };
	bool x86 = hka_side_machine(res, &f->sides[0]) == EM_X86_64 ||
		   hka_side_machine(res, &f->sides[1]) == EM_X86_64;
	int k;

	for (k = 0; k < 4 && x86 && !name; k++) {
		const struct hka_site *site = hka_ev_site(s, k < 2 ? (k ? f->sides[0].second :
								 f->sides[0].first) :
							   (k & 1 ? f->sides[1].second :
								 f->sides[1].first));

		if (site->info.atomic_type)
			name = site->info.object ? site->info.object : "an object of the cycle";
	}
	/* accesses through pointers: ask the input what object the address is */
	for (k = 0; k < 2 && x86 && !name; k++) {
		const struct hka_event *ev = HKA_VEC_AT(&s->events, struct hka_event, evs[k]);
		const struct hka_location *l = HKA_VEC_AT(&s->locs, struct hka_location, ev->loc);
		const char *n = NULL;
		bool atomic = false;

		if (loc_fn && !loc_fn(ctx, l->addr, &n, &atomic) && atomic) {
			name = n;
			break;
		}
	}
	if (name) {
		snprintf(buf, sizeof(buf), "'%s' has an _Atomic type: on x86 a release store or "
			 "acquire load of it is the same plain mov as a relaxed one, and "
			 "release/acquire fences emit no instruction, so x86 code cannot show "
			 "whether this pair is already ordered; check the arm64 build", name);
		f->confidence = "undecidable";
	} else if (x86) {
		snprintf(buf, sizeof(buf), "plain accesses to non-_Atomic objects with no ordering "
			 "instruction between them; only a compiler-only barrier (invisible in "
			 "x86 code) could order them, and it does not order anything on Arm");
		f->confidence = "high";
	} else {
		snprintf(buf, sizeof(buf), "arm64 code: the ordering instructions are visible");
		f->confidence = "high";
	}
	f->confidence_reason = hka_arena_strdup(&res->names, buf);
	return f->confidence_reason ? 0 : -ENOMEM;
}

int hka_result_review_capture(struct hka_result *res, hka_location_fn loc_fn, void *ctx,
			      unsigned long *dropped, struct hka_error *err)
{
	size_t i, kept = 0;

	*dropped = 0;
	for (i = 0; i < res->findings.n; i++) {
		struct hka_finding *f = HKA_VEC_AT(&res->findings, struct hka_finding, i);
		uint64_t l0 = 0, l1 = 0;
		bool in0 = hka_side_locked(res, &f->sides[0], &l0);
		bool in1 = hka_side_locked(res, &f->sides[1], &l1);

		if (in0 && in1 && l0 && l0 == l1) {
			(*dropped)++;
			continue;
		}
		if (hka_confidence(res, f, loc_fn, ctx))
			goto nomem;
		if (in0 && in1 && (!l0 || !l1)) {
			f->confidence = "low";
			f->confidence_reason = "both sides are inside critical sections of locks "
					       "hawkeyes could not name (passed by pointer?); "
					       "if it is the same lock, this is not a bug";
		}
		*HKA_VEC_AT(&res->findings, struct hka_finding, kept++) = *f;
	}
	res->findings.n = kept;
	res->dropped_by_lock += *dropped;
	return 0;
nomem:
	hka_error_set(err, "out of memory");
	return -ENOMEM;
}
