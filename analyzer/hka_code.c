// SPDX-License-Identifier: GPL-2.0
/*
 * Code: decode a function with Capstone (x86-64 or AArch64, by ELF machine),
 * build its control-flow successors, estimate uops, and recognise what
 * orders memory accesses:
 *
 *   x86-64   lock-prefixed RMW, xchg with memory, mfence: full barrier
 *   AArch64  dmb/dsb ish|sy (full), ishst (W->W), ishld (R->R, R->W);
 *            ldar/ldaxr/ldapr (acquire), stlr/stlxr (release), LSE
 *            cas/swp/ldadd.. with a/l/al, outline atomics __aarch64_*
 *   TSan     __tsan_atomicN_* calls carry their memory_order argument,
 *            __tsan_atomic_thread_fence(mo), __tsan_read/write mark the
 *            plain access that follows them (and cost no uops: they are
 *            not in the production build)
 *   calls    pthread mutex/spin/rwlock/cond/sem/barrier: full barrier
 *
 * Capstone 4.0.2 (Debian 12) does not decode ARMv8.1 LSE atomics nor
 * ARMv8.3 LDAPR; hka_a64_fallback() recognises exactly those encodings by
 * their fixed opcode fields so the ordering they carry is not lost.
 *
 * Uop estimate per instruction (documented in analysis.rst): 1; a memory
 * operand on an arithmetic instruction +1, read-modify-write +2; x86
 * push/pop/call/ret 2; div 10; ldp/stp 2; a call to an unknown function 5
 * (its body is not followed); TSan instrumentation 0.
 */
#include <capstone/capstone.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hka_priv.h"

#define HKA_UOPS_CALL	5

/* C11 memory_order values as TSan passes them */
enum { MO_RELAXED, MO_CONSUME, MO_ACQUIRE, MO_RELEASE, MO_ACQ_REL, MO_SEQ_CST };

static bool hka_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static const char * const hka_sync_calls[] = {
	"pthread_mutex_", "pthread_spin_", "pthread_rwlock_", "pthread_cond_",
	"pthread_barrier_wait", "sem_wait", "sem_post", "sem_timedwait", "sem_trywait",
	"pthread_join", "pthread_create", "pthread_once",
};

static const char * const hka_noreturn_calls[] = {
	"abort", "exit", "_exit", "__assert_fail", "__stack_chk_fail", "pthread_exit",
	"__tsan_report", "__ubsan_handle_builtin_unreachable",
};

static void hka_mo_access(struct hka_insn *in, int mo, bool load, bool store)
{
	if (load && (mo == MO_ACQUIRE || mo == MO_CONSUME || mo >= MO_ACQ_REL))
		in->acq = 1;
	if (store && mo >= MO_RELEASE && mo != MO_CONSUME)
		in->rel = 1;
	if (mo == MO_SEQ_CST && load && store)
		in->order = HKA_ORD_ALL;	/* seq_cst RMW: full barrier on both ISAs */
	else if (mo == MO_SEQ_CST)
		in->acq = in->rel = 1, in->order |= 0;
}

static unsigned int hka_mo_fence(int mo)
{
	switch (mo) {
	case MO_CONSUME:
	case MO_ACQUIRE:
		return HKA_ORD_RR | HKA_ORD_RW;
	case MO_RELEASE:
		return HKA_ORD_RW | HKA_ORD_WW;
	case MO_ACQ_REL:
		return HKA_ORD_RR | HKA_ORD_RW | HKA_ORD_WW;
	case MO_SEQ_CST:
		return HKA_ORD_ALL;
	}
	return 0;
}

/* x86: the immediate last moved into argument register reg before insn i. */
static int hka_x86_arg_imm(const struct hka_insn *insns, uint32_t i, const char *reg)
{
	uint32_t k;

	for (k = i; k-- > 0 && i - k <= 8;) {
		const char *t = insns[k].text;
		size_t n = strlen(reg);

		if (insns[k].flags & (HKA_INSN_CALL | HKA_INSN_JUMP | HKA_INSN_COND))
			break;
		/* Intel syntax: "mov edx, 3"; "xor edx, edx" is 0 */
		if (hka_prefix(t, "mov ") && !strncmp(t + 4, reg, n) && t[4 + n] == ',')
			return (int)strtol(t + 4 + n + 2, NULL, 0);
		if (hka_prefix(t, "xor ") && !strncmp(t + 4, reg, n) && t[4 + n] == ',' &&
		    !strncmp(t + 4 + n + 2, reg, n))
			return 0;
	}
	return MO_SEQ_CST;	/* unknown: assume the strongest, never invent a finding */
}

/* What a call to name does to ordering; insns[i] is the call. */
static void hka_classify_call(struct hka_func *fn, uint32_t i, const char *name)
{
	struct hka_insn *in = &fn->insns[i];
	char base[96];
	const char *p;
	size_t k;

	snprintf(base, sizeof(base), "%s", name);
	p = strchr(base, '@');	/* "__tsan_write4@plt" */
	if (p)
		base[p - base] = '\0';
	k = strlen(in->text);
	snprintf(in->text + k, sizeof(in->text) - k, " <%.40s>", base);

	if (hka_prefix(base, "__tsan_read") || hka_prefix(base, "__tsan_unaligned_read")) {
		in->flags |= HKA_INSN_TSAN;
		in->tsan_access = 1;
	} else if (hka_prefix(base, "__tsan_write") || hka_prefix(base, "__tsan_unaligned_write")) {
		in->flags |= HKA_INSN_TSAN;
		in->tsan_access = 2;
	} else if (!strcmp(base, "__tsan_atomic_thread_fence")) {
		in->flags |= HKA_INSN_TSAN;
		in->order = hka_mo_fence(hka_x86_arg_imm(fn->insns, i, "edi"));
	} else if (hka_prefix(base, "__tsan_atomic") && strchr(base + 13, '_')) {
		const char *op = strchr(base + 13, '_') + 1;
		bool load = !hka_prefix(op, "store"), store = !hka_prefix(op, "load");
		const char *reg = hka_prefix(op, "load") ? "esi" :
				  hka_prefix(op, "compare_exchange") ? "ecx" : "edx";

		in->flags |= HKA_INSN_TSAN;
		in->mem = (load ? 1 : 0) | (store ? 2 : 0);
		hka_mo_access(in, hka_x86_arg_imm(fn->insns, i, reg), load, store);
	} else if (hka_prefix(base, "__tsan_")) {
		in->flags |= HKA_INSN_TSAN;
	} else if (hka_prefix(base, "__aarch64_")) {
		/* outline atomics: __aarch64_<op><size>_<relax|acq|rel|acq_rel|sync> */
		const char *mo = strrchr(base, '_');

		in->mem = 3;
		if (mo && (!strcmp(mo, "_rel") && strstr(base, "_acq_rel")))
			in->acq = in->rel = 1;
		else if (mo && !strcmp(mo, "_acq"))
			in->acq = 1;
		else if (mo && !strcmp(mo, "_rel"))
			in->rel = 1;
		else if (mo && !strcmp(mo, "_sync"))
			in->order = HKA_ORD_ALL;
	} else {
		for (k = 0; k < ARRAY_SIZE(hka_sync_calls); k++)
			if (hka_prefix(base, hka_sync_calls[k]))
				in->order = HKA_ORD_ALL;
		for (k = 0; k < ARRAY_SIZE(hka_noreturn_calls); k++)
			if (!strcmp(base, hka_noreturn_calls[k]))
				in->flags |= HKA_INSN_RET;	/* no successor */
		in->uops = HKA_UOPS_CALL;
	}
	if (in->flags & HKA_INSN_TSAN) {
		in->uops = 0;
		fn->tsan = true;
	}
}

/*
 * DWARF register number (x86-64 psABI 3.6.2) of a general register of any
 * width (eax, ax, al, ah are parts of rax: 0), -1 for any other register.
 */
static int hka_x86_dwarf_reg(x86_reg r)
{
	static const x86_reg regs[16][5] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
		{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL },
		{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
		{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B },
		{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B },
		{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B },
		{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B },
	};
	size_t k, w;

	if (r == X86_REG_INVALID)
		return -1;
	for (k = 0; k < ARRAY_SIZE(regs); k++)
		for (w = 0; w < ARRAY_SIZE(regs[k]); w++)
			if (regs[k][w] == r)
				return (int)k;
	return -1;
}

/*
 * DWARF register number (AArch64 DWARF 4.1) of a base register: x0-x30
 * are 0-30, sp 31; -1 for anything else.
 */
static int hka_a64_dwarf_reg(arm64_reg r)
{
	if (r >= ARM64_REG_X0 && r <= ARM64_REG_X28)
		return r - ARM64_REG_X0;
	if (r >= ARM64_REG_W0 && r <= ARM64_REG_W30)	/* writing w0 zeroes the top of x0 */
		return r - ARM64_REG_W0;
	if (r == ARM64_REG_X29)
		return 29;
	if (r == ARM64_REG_X30)
		return 30;
	return r == ARM64_REG_SP || r == ARM64_REG_WSP ? 31 : -1;
}

static bool hka_a64_xreg(arm64_reg r)
{
	return (r >= ARM64_REG_X0 && r <= ARM64_REG_X28) || r == ARM64_REG_X29 ||
	       r == ARM64_REG_X30 || r == ARM64_REG_SP;
}

/*
 * AArch64: the general registers ci writes (its written register operands,
 * and the base of a pre/post-index writeback), and the copies of a
 * pointer: "add/sub xd, xn, #imm", "mov xd, xn", and the writeback
 * itself ("str w1, [x0], #4": x0 = x0 + 4).
 */
static void hka_a64_regs(struct hka_insn *in, const cs_insn *ci)
{
	const cs_arm64 *a = &ci->detail->arm64;
	const cs_arm64_op *op = a->operands;
	int k, src = -1;
	int64_t disp = 0;

	for (k = 0; k < a->op_count; k++) {
		int r = op[k].type == ARM64_OP_REG ? hka_a64_dwarf_reg(op[k].reg) : -1;

		/* no access information (older Capstone): the first register is written */
		if (r >= 0 && ((op[k].access & CS_AC_WRITE) || (!op[k].access && k == 0)))
			in->regs_written |= 1u << r;
		if (op[k].type == ARM64_OP_MEM && a->writeback) {
			r = hka_a64_dwarf_reg(op[k].mem.base);
			if (r < 0)
				continue;
			in->regs_written |= 1u << r;
			src = r;
			/* pre-index: [xn, #d]!; post-index: [xn], #d */
			disp = k + 1 < a->op_count && op[k + 1].type == ARM64_OP_IMM ?
			       op[k + 1].imm : op[k].mem.disp;
		}
	}
	if (src < 0 && a->op_count >= 2 && op[0].type == ARM64_OP_REG &&
	    op[1].type == ARM64_OP_REG && hka_a64_xreg(op[0].reg) && hka_a64_xreg(op[1].reg) &&
	    op[1].shift.type == ARM64_SFT_INVALID && op[1].ext == ARM64_EXT_INVALID) {
		if (ci->id == ARM64_INS_MOV && a->op_count == 2) {
			src = hka_a64_dwarf_reg(op[1].reg);
		} else if ((ci->id == ARM64_INS_ADD || ci->id == ARM64_INS_SUB) &&
			   a->op_count == 3 && op[2].type == ARM64_OP_IMM &&
			   (op[2].shift.type == ARM64_SFT_INVALID ||
			    (op[2].shift.type == ARM64_SFT_LSL && op[2].shift.value == 12))) {
			src = hka_a64_dwarf_reg(op[1].reg);
			disp = op[2].imm << (op[2].shift.type == ARM64_SFT_LSL ? 12 : 0);
			if (ci->id == ARM64_INS_SUB)
				disp = -disp;
		}
	}
	if (src >= 0 && disp >= INT32_MIN && disp <= INT32_MAX) {
		in->copy_src = src + 1;
		in->copy_disp = (int32_t)disp;
	}
}

/*
 * Remember [base + disp] for the type recovery of pointer accesses
 * (hka_symtab_pointee()): only one memory operand, no index register.
 */
static void hka_mem_operand(struct hka_insn *in, int nmem, int reg, int64_t disp)
{
	if (nmem != 1 || reg < 0 || disp < INT32_MIN || disp > INT32_MAX) {
		in->mem_base = 0;
		return;
	}
	in->mem_base = reg + 1;
	in->mem_disp = (int32_t)disp;
}

/*
 * x86: the general registers insn ci writes, and whether it copies a
 * pointer: "lea r64, [src + disp]" or "mov r64, src" (hka_analysis.c
 * follows a hoisted &m->flag back to the variable m).
 */
static void hka_x86_regs(struct hka_insn *in, csh h, const cs_insn *ci)
{
	const cs_x86 *x = &ci->detail->x86;
	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0, k;
	int src = -1;
	int64_t disp = 0;

	if (cs_regs_access(h, ci, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
		in->regs_written = UINT32_MAX;	/* unknown: it may write any */
		return;
	}
	for (k = 0; k < nwr; k++) {
		int r = hka_x86_dwarf_reg(wr[k]);

		if (r >= 0)
			in->regs_written |= 1u << r;
	}
	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG || x->operands[0].size != 8)
		return;
	if ((ci->id == X86_INS_ADD || ci->id == X86_INS_SUB) && x->operands[1].type == X86_OP_IMM) {
		src = hka_x86_dwarf_reg(x->operands[0].reg);	/* add rax, 8 */
		disp = ci->id == X86_INS_SUB ? -x->operands[1].imm : x->operands[1].imm;
	} else if (ci->id == X86_INS_LEA && x->operands[1].type == X86_OP_MEM &&
	    x->operands[1].mem.index == X86_REG_INVALID &&
	    x->operands[1].mem.segment == X86_REG_INVALID) {
		src = hka_x86_dwarf_reg(x->operands[1].mem.base);
		disp = x->operands[1].mem.disp;
	} else if (ci->id == X86_INS_MOV && x->operands[1].type == X86_OP_REG &&
		   x->operands[1].size == 8) {
		src = hka_x86_dwarf_reg(x->operands[1].reg);
	}
	if (src >= 0 && disp >= INT32_MIN && disp <= INT32_MAX) {
		in->copy_src = src + 1;
		in->copy_disp = (int32_t)disp;
	}
}

static void hka_x86_classify(struct hka_insn *in, csh h, const cs_insn *ci)
{
	const cs_x86 *x = &ci->detail->x86;
	bool rmw = false;
	int k, nmem = 0, base = -1;
	int64_t disp = 0;

	hka_x86_regs(in, h, ci);

	in->uops = 1;
	for (k = 0; k < x->op_count; k++) {
		const cs_x86_op *op = &x->operands[k];

		if (op->type != X86_OP_MEM || ci->id == X86_INS_LEA || ci->id == X86_INS_NOP)
			continue;
		if (op->mem.base == X86_REG_RIP && op->mem.index == X86_REG_INVALID)
			in->data_addr = ci->address + ci->size + op->mem.disp;
		nmem++;
		base = op->mem.index == X86_REG_INVALID && op->mem.segment == X86_REG_INVALID ?
		       hka_x86_dwarf_reg(op->mem.base) : -1;
		disp = op->mem.disp;
		if (op->access & CS_AC_READ)
			in->mem |= 1;
		if (op->access & CS_AC_WRITE)
			in->mem |= 2;
		if (!op->access)	/* older Capstone: assume the worst */
			in->mem |= 3;
	}
	hka_mem_operand(in, nmem, base, disp);
	rmw = in->mem == 3;
	if (in->mem && ci->id != X86_INS_MOV && ci->id != X86_INS_MOVZX &&
	    ci->id != X86_INS_MOVSX && ci->id != X86_INS_MOVSXD)
		in->uops += rmw ? 2 : 1;
	if (x->prefix[0] == X86_PREFIX_LOCK || (ci->id == X86_INS_XCHG && in->mem) ||
	    ci->id == X86_INS_MFENCE)
		in->order = HKA_ORD_ALL;
	if (in->order && in->mem)
		in->acq = in->rel = 1;
	switch (ci->id) {
	case X86_INS_PUSH: case X86_INS_POP: case X86_INS_CALL: case X86_INS_RET:
		in->uops = 2;
		break;
	case X86_INS_DIV: case X86_INS_IDIV:
		in->uops = 10;
		break;
	}
}

/* LSE base names; the suffix after them is [a|l|al][b|h]. */
static const char * const hka_a64_lse[] = {
	"cas", "swp", "ldadd", "ldclr", "ldeor", "ldset", "ldsmax", "ldsmin", "ldumax", "ldumin",
};

static bool hka_a64_lse_ordering(struct hka_insn *in, const char *mn)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(hka_a64_lse); k++) {
		const char *sfx;

		if (!hka_prefix(mn, hka_a64_lse[k]))
			continue;
		sfx = mn + strlen(hka_a64_lse[k]);
		if (*sfx == 'p')	/* casp */
			sfx++;
		in->mem = 3;
		in->uops = 2;
		if (*sfx == 'a') {
			in->acq = 1;
			sfx++;
		}
		if (*sfx == 'l')
			in->rel = 1;
		return true;
	}
	return false;
}

static void hka_a64_classify(struct hka_insn *in, const cs_insn *ci)
{
	const char *mn = ci->mnemonic, *ops = ci->op_str;
	const cs_arm64 *a = &ci->detail->arm64;
	int k, nmem = 0, base = -1;
	int64_t disp = 0;

	in->uops = 1;
	for (k = 0; k < a->op_count; k++) {
		const cs_arm64_op *op = &a->operands[k];

		if (op->type != ARM64_OP_MEM)
			continue;
		nmem++;
		base = op->mem.index == ARM64_REG_INVALID ? hka_a64_dwarf_reg(op->mem.base) : -1;
		disp = op->mem.disp;
	}
	hka_mem_operand(in, nmem, base, disp);
	hka_a64_regs(in, ci);
	if (ci->id == ARM64_INS_DMB || ci->id == ARM64_INS_DSB) {
		if (!strcmp(ops, "ishst") || !strcmp(ops, "st") || !strcmp(ops, "oshst") ||
		    !strcmp(ops, "nshst"))
			in->order = HKA_ORD_WW;
		else if (!strcmp(ops, "ishld") || !strcmp(ops, "ld") || !strcmp(ops, "oshld") ||
			 !strcmp(ops, "nshld"))
			in->order = HKA_ORD_RR | HKA_ORD_RW;
		else
			in->order = HKA_ORD_ALL;
		return;
	}
	if (hka_a64_lse_ordering(in, mn))
		return;
	if (hka_prefix(mn, "prfm") || hka_prefix(mn, "ldnp") || hka_prefix(mn, "stnp"))
		return;
	if (hka_prefix(mn, "ld")) {
		in->mem = 1;
		if (hka_prefix(mn, "ldar") || hka_prefix(mn, "ldaxr") || hka_prefix(mn, "ldaxp") ||
		    hka_prefix(mn, "ldapr"))
			in->acq = 1;
	} else if (hka_prefix(mn, "st")) {
		in->mem = 2;
		if (hka_prefix(mn, "stlr") || hka_prefix(mn, "stlxr") || hka_prefix(mn, "stlxp"))
			in->rel = 1;
	}
	if (hka_prefix(mn, "ldp") || hka_prefix(mn, "stp"))
		in->uops = 2;
	if (hka_prefix(mn, "sdiv") || hka_prefix(mn, "udiv"))
		in->uops = 4;
}

/*
 * Encodings Capstone 4.0.2 cannot decode (Arm ARM C4.1.94 load/store
 * atomics and C6.2 LDAPR/CAS): recognised by fixed fields, nothing else.
 */
static bool hka_a64_fallback(struct hka_insn *in, uint32_t w)
{
	static const char * const ops[] = { "ldadd", "ldclr", "ldeor", "ldset",
					     "ldsmax", "ldsmin", "ldumax", "ldumin" };
	bool a, r;

	in->uops = 2;
	in->mem = 3;
	if ((w & 0x3ffffc00) == 0x38bfc000) {			/* LDAPR */
		snprintf(in->text, sizeof(in->text), "ldapr (rcpc)");
		in->mem = 1;
		in->acq = 1;
		in->uops = 1;
		return true;
	}
	if ((w & 0x3fa07c00) == 0x08a07c00 || (w & 0xbfa07c00) == 0x08207c00) {	/* CAS, CASP */
		in->acq = !!(w & (1u << 22));
		in->rel = !!(w & (1u << 15));
		snprintf(in->text, sizeof(in->text), "cas%s%s (lse)", in->acq ? "a" : "",
			 in->rel ? "l" : "");
		return true;
	}
	if ((w & 0x3f200c00) == 0x38200000) {			/* LDADD.., SWP */
		unsigned int o3 = (w >> 15) & 1, opc = (w >> 12) & 7;

		if (o3 && opc)
			return false;
		a = !!(w & (1u << 23));
		r = !!(w & (1u << 22));
		in->acq = a;
		in->rel = r;
		snprintf(in->text, sizeof(in->text), "%s%s%s (lse)", o3 ? "swp" : ops[opc],
			 a ? "a" : "", r ? "l" : "");
		return true;
	}
	in->mem = 0;
	in->uops = 1;
	return false;
}

static void hka_branch(struct hka_func *fn, csh h, struct hka_insn *in, const cs_insn *ci)
{
	bool jump = cs_insn_group(h, ci, CS_GRP_JUMP), call = cs_insn_group(h, ci, CS_GRP_CALL);
	bool ret = cs_insn_group(h, ci, CS_GRP_RET);
	int nops = 0, k;
	bool imm = false;
	uint64_t target = 0;

	if (fn->machine == EM_X86_64) {
		nops = ci->detail->x86.op_count;
		for (k = 0; k < nops; k++)
			if (ci->detail->x86.operands[k].type == X86_OP_IMM) {
				imm = true;
				target = ci->detail->x86.operands[k].imm;
			}
		if (jump && ci->id != X86_INS_JMP)
			in->flags |= HKA_INSN_COND;
		else if (jump)
			in->flags |= HKA_INSN_JUMP;
	} else {
		const cs_arm64 *a = &ci->detail->arm64;

		for (k = 0; k < a->op_count; k++)
			if (a->operands[k].type == ARM64_OP_IMM) {
				imm = true;
				target = a->operands[k].imm;
			}
		/* capstone 4 does not put b/br/ret in groups reliably: use ids */
		switch (ci->id) {
		case ARM64_INS_B:
			jump = true;
			in->flags |= a->cc == ARM64_CC_INVALID || a->cc == ARM64_CC_AL ?
				     HKA_INSN_JUMP : HKA_INSN_COND;
			break;
		case ARM64_INS_BR:
			jump = true;
			in->flags |= HKA_INSN_JUMP;
			break;
		case ARM64_INS_CBZ: case ARM64_INS_CBNZ: case ARM64_INS_TBZ: case ARM64_INS_TBNZ:
			jump = true;
			in->flags |= HKA_INSN_COND;
			break;
		case ARM64_INS_BL: case ARM64_INS_BLR:
			call = true;
			break;
		case ARM64_INS_RET:
			ret = true;
			break;
		}
		if (call)
			in->uops = 2;
	}
	if (call)
		in->flags |= HKA_INSN_CALL;
	if (ret)
		in->flags |= HKA_INSN_RET;
	if ((jump || call) && !imm)
		in->flags |= HKA_INSN_INDIRECT;
	if ((jump || call) && imm)
		in->target = target;
}

uint32_t hka_func_insn_at(const struct hka_func *fn, uint64_t addr)
{
	uint32_t lo = 0, hi = fn->ninsn;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct hka_insn *in = &fn->insns[mid];

		if (addr < in->addr)
			hi = mid;
		else if (addr >= in->addr + in->size)
			lo = mid + 1;
		else
			return mid;
	}
	return HKA_NO_INDEX;
}

uint32_t hka_func_access_insn(const struct hka_func *fn, uint32_t i)
{
	uint32_t k;

	if (i == HKA_NO_INDEX || !fn->insns[i].tsan_access)
		return i;
	/* the plain access follows its __tsan_readN/writeN call */
	for (k = i + 1; k < fn->ninsn && k <= i + 8; k++) {
		if (fn->insns[k].flags & (HKA_INSN_CALL | HKA_INSN_JUMP | HKA_INSN_COND))
			break;
		if (fn->insns[k].mem)
			return k;
	}
	return i;
}

/* Name of a call target: its symbol, or the symbol its PLT stub jumps through. */
static const char *hka_callee_name(struct hka_func *fn, struct hka_symtab *st, csh h,
				   uint64_t target)
{
	const char *name = hka_symtab_symbol_at(st, fn->path, target);
	const uint8_t *code;
	cs_insn *ci;
	size_t n, k;
	uint64_t slot = 0, page = 0;

	if (name)
		return name;
	if (hka_symtab_code(st, fn->path, target, target + 16, &code, NULL))
		return NULL;
	n = cs_disasm(h, code, 16, target, 4, &ci);
	for (k = 0; k < n && !slot; k++) {
		if (fn->machine == EM_X86_64) {
			const cs_x86 *x = &ci[k].detail->x86;

			if (ci[k].id == X86_INS_JMP && x->op_count == 1 &&
			    x->operands[0].type == X86_OP_MEM &&
			    x->operands[0].mem.base == X86_REG_RIP)
				slot = ci[k].address + ci[k].size + x->operands[0].mem.disp;
		} else {
			const cs_arm64 *a = &ci[k].detail->arm64;

			if (ci[k].id == ARM64_INS_ADRP && a->op_count == 2)
				page = a->operands[1].imm;
			else if (ci[k].id == ARM64_INS_LDR && page && a->op_count == 2 &&
				 a->operands[1].type == ARM64_OP_MEM)
				slot = page + a->operands[1].mem.disp;
		}
	}
	cs_free(ci, n);
	return slot ? hka_symtab_slot_name(st, fn->path, slot) : NULL;
}

static void hka_func_link(struct hka_func *fn)
{
	uint32_t i;

	for (i = 0; i < fn->ninsn; i++) {
		struct hka_insn *in = &fn->insns[i];
		uint32_t next = i + 1 < fn->ninsn ? i + 1 : HKA_NO_INDEX;

		in->succ[0] = in->succ[1] = HKA_NO_INDEX;
		if (in->flags & (HKA_INSN_RET | HKA_INSN_BAD))
			continue;
		if (in->flags & HKA_INSN_JUMP) {
			/* a jump out of the function is a tail call: the path ends */
			if (!(in->flags & HKA_INSN_INDIRECT))
				in->succ[0] = hka_func_insn_at(fn, in->target);
			continue;
		}
		in->succ[0] = next;
		if (in->flags & HKA_INSN_COND)
			in->succ[1] = hka_func_insn_at(fn, in->target);
	}
}

int hka_func_decode(struct hka_func *fn, struct hka_symtab *st, struct hka_error *err)
{
	cs_arch arch = fn->machine == EM_AARCH64 ? CS_ARCH_ARM64 : CS_ARCH_X86;
	cs_mode mode = fn->machine == EM_AARCH64 ? CS_MODE_ARM : CS_MODE_64;
	size_t len = fn->end - fn->start, cap, step = fn->machine == EM_AARCH64 ? 4 : 1;
	const uint8_t *code, *p;
	uint64_t addr = fn->start;
	cs_insn *ci = NULL;
	csh h;
	int rc;

	rc = hka_symtab_code(st, fn->path, fn->start, fn->end, &code, err);
	if (rc)
		return rc;
	if (cs_open(arch, mode, &h) != CS_ERR_OK) {
		hka_error_set(err, "capstone: cannot open the %s decoder",
			      arch == CS_ARCH_X86 ? "x86-64" : "AArch64");
		return -EINVAL;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	cap = len / step + 1;
	fn->insns = calloc(cap, sizeof(*fn->insns));
	ci = cs_malloc(h);
	if (!fn->insns || !ci) {
		hka_error_set(err, "out of memory decoding %s", fn->path);
		rc = -ENOMEM;
		goto out;
	}
	p = code;
	while (len && fn->ninsn < cap) {
		struct hka_insn *in = &fn->insns[fn->ninsn++];
		uint64_t at = addr;

		in->addr = at;
		if (!cs_disasm_iter(h, &p, &len, &addr, ci)) {
			/* partial decode: keep the bytes as one unknown instruction */
			uint32_t w = 0;

			in->size = step;
			in->regs_written = UINT32_MAX;	/* not known: it may write any */
			if (fn->machine == EM_AARCH64 && len >= 4) {
				memcpy(&w, p, 4);
				if (!hka_a64_fallback(in, w))
					in->flags |= HKA_INSN_BAD;
			} else {
				in->flags |= HKA_INSN_BAD;
				in->uops = 1;
			}
			if (in->flags & HKA_INSN_BAD)
				snprintf(in->text, sizeof(in->text), "(bad)");
			p += step;
			len = len > step ? len - step : 0;
			addr += step;
			continue;
		}
		in->size = ci->size;
		snprintf(in->text, sizeof(in->text), "%.16s%s%.48s", ci->mnemonic,
			 ci->op_str[0] ? " " : "", ci->op_str);
		if (fn->machine == EM_X86_64)
			hka_x86_classify(in, h, ci);
		else
			hka_a64_classify(in, ci);
		hka_branch(fn, h, in, ci);
		if ((in->flags & HKA_INSN_CALL) && !(in->flags & HKA_INSN_INDIRECT)) {
			const char *name = hka_callee_name(fn, st, h, in->target);

			if (name)
				hka_classify_call(fn, fn->ninsn - 1, name);
			else
				in->uops = HKA_UOPS_CALL;
		} else if (in->flags & HKA_INSN_CALL) {
			in->uops = HKA_UOPS_CALL;
		}
	}
	hka_func_link(fn);
out:
	if (ci)
		cs_free(ci, 1);
	cs_close(&h);
	if (rc)
		hka_func_release(fn);
	return rc;
}

void hka_func_release(struct hka_func *fn)
{
	free(fn->insns);
	fn->insns = NULL;
	fn->ninsn = 0;
}
