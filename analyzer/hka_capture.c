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

/* Address in "[rip + 0x2ecd]" / "[rip - 0x10]" / "[0x404080]" of x86 insn in; 0 if none. */
static uint64_t hka_x86_mem_addr(const struct hka_insn *in)
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

/*
 * AArch64 register operand at s ("x19", "w0", "sp", "xzr"): its number,
 * 31 for sp, -1 for anything else (xzr, vector registers, immediates).
 */
static int hka_a64_reg(const char *s)
{
	char *end;
	long n;

	if (hka_starts(s, "sp") && (s[2] == ',' || s[2] == ']' || !s[2]))
		return 31;
	if ((s[0] != 'x' && s[0] != 'w') || s[1] < '0' || s[1] > '9')
		return -1;
	n = strtol(s + 1, &end, 10);
	return n <= 30 && (*end == ',' || *end == ']' || !*end) ? (int)n : -1;
}

/* "#0x18" / "0x420000" (Capstone prints adrp pages with or without '#'). */
static bool hka_a64_imm(const char *s, uint64_t *v)
{
	char *end;

	if (*s == '#')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	*v = strtoull(s, &end, 0);
	if (hka_starts(end, ", lsl #12"))
		*v <<= 12;
	else if (*end)
		return false;
	return true;
}

/* Does a64 insn in (mnemonic mn) write its first register operand? */
static bool hka_a64_writes_first(const struct hka_insn *in, const char *mn, size_t n)
{
	static const char * const no_dest[] = {
		"cmp", "cmn", "tst", "ccmp", "ccmn", "fcmp", "fccmp", "cbz", "cbnz", "tbz",
		"tbnz", "b", "br", "bl", "blr", "ret", "prfm", "dmb", "dsb", "isb", "nop",
	};
	size_t k;

	if (in->flags & (HKA_INSN_JUMP | HKA_INSN_COND | HKA_INSN_CALL | HKA_INSN_RET))
		return false;
	for (k = 0; k < ARRAY_SIZE(no_dest); k++)
		if (strlen(no_dest[k]) == n && !strncmp(mn, no_dest[k], n))
			return false;
	/* stores read their first register; store-exclusives write a status */
	if (mn[0] == 's' && mn[1] == 't')
		return hka_starts(mn, "stxr") || hka_starts(mn, "stlxr") ||
		       hka_starts(mn, "stxp") || hka_starts(mn, "stlxp");
	return true;
}

/*
 * AArch64: the static value register reg holds just before insn k of fn,
 * walking back in address order through adrp, add/sub of an immediate and
 * mov between registers ("adrp x20, 0x420000; add x20, x20, #0xa0;
 * add x21, x20, #0x18" ... "mov x0, x21"). A call clobbers x0-x18 and x30
 * (AAPCS64), not the callee-saved x19-x28. 0 when the register holds
 * anything else (a loaded pointer, a computed address).
 */
static uint64_t hka_a64_reg_value(const struct hka_func *fn, uint32_t k, int reg)
{
	int64_t off = 0;
	uint32_t i;

	for (i = k; i-- > 0 && k - i <= HKA_LOCK_SCAN;) {
		const struct hka_insn *in = &fn->insns[i];
		const char *ops = strchr(in->text, ' '), *src, *w;
		size_t n = ops ? (size_t)(ops - in->text) : strlen(in->text);
		uint64_t v;
		int s;

		if ((in->flags & HKA_INSN_CALL) && (reg <= 18 || reg == 30))
			return 0;
		/* undecodable, or an LSE/RCpc load decoded without operands */
		if ((in->flags & HKA_INSN_BAD) || strstr(in->text, " ("))
			return 0;
		if (!ops)
			continue;
		ops++;
		/* pre/post-index writeback changes the base register */
		w = strchr(ops, '[');
		if (w && hka_a64_reg(w + 1) == reg && (strstr(w, "]!") || strstr(w, "], ")))
			return 0;
		if (!hka_a64_writes_first(in, in->text, n))
			continue;
		src = strchr(ops, ',');
		/* ldp, ldxp, LSE ldadd/swp/cas: a second register written */
		if ((hka_starts(in->text, "ld") || hka_starts(in->text, "swp") ||
		     hka_starts(in->text, "cas")) && src &&
		    hka_a64_reg(src + 2) == reg && strchr(src + 2, ','))
			return 0;
		if (hka_a64_reg(ops) != reg)
			continue;
		if (!src)
			return 0;
		src += 2;
		if (n == 4 && hka_starts(in->text, "adrp"))
			return hka_a64_imm(src, &v) ? v + off : 0;
		if (n == 3 && hka_starts(in->text, "mov")) {
			if (hka_a64_imm(src, &v))
				return v + off;
			reg = hka_a64_reg(src);
			if (reg < 0 || reg == 31)
				return 0;
			continue;
		}
		if (n == 3 && (hka_starts(in->text, "add") || hka_starts(in->text, "sub"))) {
			s = hka_a64_reg(src);
			src = strchr(src, ',');
			if (s < 0 || s == 31 || !src || !hka_a64_imm(src + 2, &v))
				return 0;
			off += in->text[0] == 'a' ? (int64_t)v : -(int64_t)v;
			reg = s;
			continue;
		}
		return 0;	/* written some other way */
	}
	return 0;
}

/* AArch64 "[x19]" / "[x20, #4]" of insn k: the static address, 0 if none. */
static uint64_t hka_a64_mem_addr(const struct hka_func *fn, uint32_t k)
{
	const char *p = strchr(fn->insns[k].text, '['), *c;
	uint64_t base, v = 0;
	int reg;

	if (!p)
		return 0;
	reg = hka_a64_reg(p + 1);
	if (reg < 0 || reg == 31)
		return 0;
	c = strpbrk(p, ",]");
	if (*c == ',') {	/* an immediate offset, not a register index */
		char imm[24];

		snprintf(imm, sizeof(imm), "%.*s", (int)strcspn(c + 2, "]"), c + 2);
		if (!hka_a64_imm(imm, &v))
			return 0;
	}
	base = hka_a64_reg_value(fn, k, reg);
	return base ? base + v : 0;
}

/* The static address insn k of fn accesses; 0 when it cannot be named. */
static uint64_t hka_mem_addr(const struct hka_func *fn, uint32_t k)
{
	if (fn->machine == EM_AARCH64)
		return hka_a64_mem_addr(fn, k);
	return hka_x86_mem_addr(&fn->insns[k]);
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
			return hka_x86_mem_addr(in);
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

/*
 * The pointer argument of an outline atomic (libgcc's __aarch64_<op><size>_<mo>,
 * GCC's default for armv8-a): x1 (swp, ldadd.. take the value in x0), x2 for
 * cas (expected, desired, ptr), x4 for the 16-byte cas (two register pairs).
 */
static int hka_a64_outline_ptr_reg(const char *callee)
{
	if (hka_starts(callee, "__aarch64_cas16"))
		return 4;
	if (hka_starts(callee, "__aarch64_cas"))
		return 2;
	return 1;
}

/* First argument register of a call: rdi on x86-64, x0 on AArch64. */
static uint64_t hka_call_arg0_addr(const struct hka_func *fn, uint32_t k)
{
	if (fn->machine == EM_AARCH64)
		return hka_a64_reg_value(fn, k, 0);
	return hka_arg0_addr(fn, k);
}

/* What instruction k of fn does to a critical section, and on which lock. */
static enum hka_sync hka_sync_of(const struct hka_func *fn, uint32_t k, uint64_t *lock)
{
	const struct hka_insn *in = &fn->insns[k];
	const char *callee;

	*lock = 0;
	if (in->flags & HKA_INSN_CALL) {
		callee = strchr(in->text, '<');
		if (callee && hka_starts(callee + 1, "__aarch64_") && in->mem) {
			/* an outline atomic: an RMW like the LSE/exclusive one below */
			if (!in->acq && !in->rel && !in->order)
				return HKA_SYNC_NONE;	/* relaxed */
			*lock = hka_a64_reg_value(fn, k, hka_a64_outline_ptr_reg(callee + 1));
			return in->rel && !in->acq ? HKA_SYNC_RELEASE : HKA_SYNC_ACQUIRE;
		}
		if (!callee || !in->order)
			return in->order ? HKA_SYNC_OTHER : HKA_SYNC_NONE;
		callee++;
		*lock = hka_call_arg0_addr(fn, k);
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
		*lock = hka_mem_addr(fn, k);
		return HKA_SYNC_ACQUIRE;
	}
	/* arm64 ldaxr/ldar/swpa/casa.. take a lock, stlr/stlxr/swpl.. release it */
	if (in->mem && (in->acq || in->rel)) {
		*lock = hka_mem_addr(fn, k);
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
		if (acq && (in->mem & 2) && !(in->flags & HKA_INSN_CALL) && hka_mem_addr(fn, k) == acq &&
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
