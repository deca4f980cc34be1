// SPDX-License-Identifier: GPL-2.0
/*
 * Symbols with libdwfl: ip -> function (ELF symbol), innermost inlined
 * subroutine (dwarf_getscopes), file:line (dwfl_module_getsrc), ELF machine,
 * code bytes, PLT slot names, _Atomic types of globals and of objects
 * reached through pointer variables. The call sequence follows elfutils'
 * src/addr2line.c. A Dwfl is not thread-safe, so each worker owns a symtab;
 * the returned strings belong to the Dwfl and live until hka_symtab_free().
 */
#include <errno.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "hka_priv.h"

struct hka_symtab_mod {
	const char *path;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Elf *elf;
	GElf_Addr bias;
	int machine;
};

struct hka_symtab {
	struct hka_vec mods;	/* struct hka_symtab_mod */
	struct hka_arena names;
};

static const Dwfl_Callbacks hka_dwfl_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

struct hka_symtab *hka_symtab_new(void)
{
	struct hka_symtab *st = calloc(1, sizeof(*st));

	if (st)
		hka_vec_init(&st->mods, sizeof(struct hka_symtab_mod));
	return st;
}

void hka_symtab_free(struct hka_symtab *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->mods.n; i++)
		dwfl_end(HKA_VEC_AT(&st->mods, struct hka_symtab_mod, i)->dwfl);
	hka_vec_free(&st->mods);
	hka_arena_free(&st->names);
	free(st);
}

static struct hka_symtab_mod *hka_symtab_module(struct hka_symtab *st, const char *path,
						struct hka_error *err)
{
	struct hka_symtab_mod *m;
	GElf_Ehdr ehdr;
	size_t i;

	for (i = 0; i < st->mods.n; i++) {
		m = HKA_VEC_AT(&st->mods, struct hka_symtab_mod, i);
		if (!strcmp(m->path, path))
			return m->mod ? m : NULL;
	}
	m = hka_vec_push(&st->mods);
	if (!m) {
		hka_error_set(err, "out of memory");
		return NULL;
	}
	m->path = path;
	m->dwfl = dwfl_begin(&hka_dwfl_callbacks);
	if (!m->dwfl)
		goto fail;
	/* base 0: module addresses are the ELF's own (TSan's module offsets) */
	m->mod = dwfl_report_elf(m->dwfl, path, path, -1, 0, false);
	if (!m->mod || dwfl_report_end(m->dwfl, NULL, NULL))
		goto fail;
	m->elf = dwfl_module_getelf(m->mod, &m->bias);
	if (!m->elf || !gelf_getehdr(m->elf, &ehdr))
		goto fail;
	m->machine = ehdr.e_machine;
	if (m->machine != EM_X86_64 && m->machine != EM_AARCH64) {
		hka_error_set(err, "%s: unsupported ELF machine %d (x86-64 and AArch64 only)",
			      path, m->machine);
		m->mod = NULL;
		return NULL;
	}
	return m;
fail:
	hka_error_set(err, "%s: cannot read ELF/DWARF: %s", path, dwfl_errmsg(-1));
	m->mod = NULL;
	return NULL;
}

int hka_symtab_preload(struct hka_symtab *st, const char *path, struct hka_error *err)
{
	return hka_symtab_module(st, path, err) ? 0 : -EINVAL;
}

static const char *hka_die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;

	/* follows DW_AT_abstract_origin of inlined instances */
	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
}

/* Innermost inlined subroutine at addr, the way addr2line -i walks scopes. */
static const char *hka_inline_name(struct hka_symtab_mod *m, Dwarf_Addr addr)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cudie = dwfl_module_addrdie(m->mod, addr, &bias), *scopes = NULL;
	const char *name = NULL;
	int n, i;

	if (!cudie)
		return NULL;
	n = dwarf_getscopes(cudie, addr - bias, &scopes);
	for (i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_inlined_subroutine) {
			name = hka_die_name(&scopes[i]);
			break;
		}
		if (tag == DW_TAG_subprogram)
			break;
	}
	free(scopes);
	return name;
}

int hka_symtab_lookup(struct hka_symtab *st, const char *path, uint64_t addr,
		      struct hka_symbol *sym, struct hka_error *err)
{
	struct hka_symtab_mod *m = hka_symtab_module(st, path, err);
	Dwarf_Addr a = addr + (m ? m->bias : 0);
	GElf_Off off = 0;
	GElf_Sym esym;
	Dwfl_Line *line;
	int lineno = 0;

	if (!m)
		return -EINVAL;
	memset(sym, 0, sizeof(*sym));
	sym->machine = m->machine;
	sym->function = dwfl_module_addrinfo(m->mod, a, &off, &esym, NULL, NULL, NULL);
	if (!sym->function) {
		hka_error_set(err, "%s+0x%llx: no function symbol at this address (stripped binary?)",
			      path, (unsigned long long)addr);
		return -ENOENT;
	}
	sym->func_start = addr - off;
	sym->func_end = sym->func_start + (esym.st_size ? esym.st_size : off + 1);
	line = dwfl_module_getsrc(m->mod, a);
	if (line) {
		sym->file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
		sym->line = lineno;
	}
	sym->inline_function = hka_inline_name(m, a);
	return 0;
}

static Elf_Scn *hka_section_at(Elf *elf, uint64_t addr, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, shdr) || shdr->sh_type != SHT_PROGBITS)
			continue;
		if (addr >= shdr->sh_addr && addr < shdr->sh_addr + shdr->sh_size)
			return scn;
	}
	return NULL;
}

int hka_symtab_code(struct hka_symtab *st, const char *path, uint64_t start, uint64_t end,
		    const uint8_t **bytes, struct hka_error *err)
{
	struct hka_symtab_mod *m = hka_symtab_module(st, path, err);
	GElf_Shdr shdr;
	Elf_Scn *scn;
	Elf_Data *d;

	if (!m)
		return -EINVAL;
	scn = hka_section_at(m->elf, start, &shdr);
	d = scn && end <= shdr.sh_addr + shdr.sh_size ? elf_getdata(scn, NULL) : NULL;
	if (!d || d->d_size < shdr.sh_size) {
		hka_error_set(err, "%s: no code bytes at 0x%llx-0x%llx", path,
			      (unsigned long long)start, (unsigned long long)end);
		return -ENOENT;
	}
	*bytes = (const uint8_t *)d->d_buf + (start - shdr.sh_addr);
	return 0;
}

const char *hka_symtab_symbol_at(struct hka_symtab *st, const char *path, uint64_t addr)
{
	struct hka_symtab_mod *m = hka_symtab_module(st, path, NULL);
	GElf_Off off = 1;
	GElf_Sym esym;
	const char *name;

	if (!m)
		return NULL;
	name = dwfl_module_addrinfo(m->mod, addr + m->bias, &off, &esym, NULL, NULL, NULL);
	return name && off == 0 ? name : NULL;
}

const char *hka_symtab_symbol_containing(struct hka_symtab *st, const char *path, uint64_t addr)
{
	struct hka_symtab_mod *m = hka_symtab_module(st, path, NULL);
	GElf_Off off = 0;
	GElf_Sym esym;
	const char *name;

	if (!m)
		return NULL;
	name = dwfl_module_addrinfo(m->mod, addr + m->bias, &off, &esym, NULL, NULL, NULL);
	return name && off < (esym.st_size ? esym.st_size : 1) ? name : NULL;
}

/* Walk .rela.plt and .rela.dyn for a relocation at slot; name its symbol. */
const char *hka_symtab_slot_name(struct hka_symtab *st, const char *path, uint64_t slot)
{
	struct hka_symtab_mod *m = hka_symtab_module(st, path, NULL);
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	if (!m)
		return NULL;
	while ((scn = elf_nextscn(m->elf, scn))) {
		Elf_Data *d;
		size_t i, n;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_RELA || !shdr.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		n = shdr.sh_size / shdr.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Rela rela;
			GElf_Sym sym;
			Elf_Data *symd;
			Elf_Scn *symscn;
			GElf_Shdr symshdr;

			if (!gelf_getrela(d, i, &rela) || rela.r_offset != slot)
				continue;
			symscn = elf_getscn(m->elf, shdr.sh_link);
			symd = symscn && gelf_getshdr(symscn, &symshdr) ?
			       elf_getdata(symscn, NULL) : NULL;
			if (!symd || !gelf_getsym(symd, GELF_R_SYM(rela.r_info), &sym))
				return NULL;
			return elf_strptr(m->elf, symshdr.sh_link, sym.st_name);
		}
	}
	return NULL;
}

static bool hka_type_is_atomic(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	Dwarf_Die type;
	int depth;

	for (depth = 0; depth < 16; depth++) {
		if (!dwarf_attr_integrate(die, DW_AT_type, &attr) ||
		    !dwarf_formref_die(&attr, &type))
			return false;
		switch (dwarf_tag(&type)) {
		case DW_TAG_atomic_type:
			return true;
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_array_type:
			*die = type;
			continue;
		default:
			return false;
		}
	}
	return false;
}

bool hka_symtab_global_is_atomic(struct hka_symtab *st, const char *path, const char *name)
{
	struct hka_symtab_mod *m = hka_symtab_module(st, path, NULL);
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;

	if (!m)
		return false;
	while ((cu = dwfl_module_nextcu(m->mod, cu, &bias))) {
		Dwarf_Die die;

		if (dwarf_child(cu, &die))
			continue;
		do {
			const char *n;

			if (dwarf_tag(&die) != DW_TAG_variable)
				continue;
			n = hka_die_name(&die);
			if (n && !strcmp(n, name))
				return hka_type_is_atomic(&die);
		} while (!dwarf_siblingof(&die, &die));
	}
	return false;
}

/*
 * --- Objects reached through pointers ---
 *
 * A release store or acquire load through a pointer ("m->flag" of a
 * struct in a shared memory segment) is a plain mov [reg + disp] on x86.
 * The type comes from DWARF: the variable or parameter whose location at
 * that pc is reg (DW_OP_regN, or DW_OP_bregN 0; DW_OP_stack_value), its
 * pointer type, and the member of the pointee at disp. Anything else (an
 * entry value, a computed location, void *, a bit-field, members that
 * disagree in a union) is "unknown", never a guess.
 */

#define HKA_TYPE_DEPTH	16

/*
 * The type die's DW_AT_type names, with typedef, const, volatile,
 * restrict and _Atomic peeled; *atomic is set when _Atomic was among them.
 */
static bool hka_peel_type(Dwarf_Die *die, Dwarf_Die *type, bool *atomic)
{
	Dwarf_Attribute attr;
	Dwarf_Die cur = *die;
	int depth;

	for (depth = 0; depth < HKA_TYPE_DEPTH; depth++) {
		if (!dwarf_attr_integrate(&cur, DW_AT_type, &attr) ||
		    !dwarf_formref_die(&attr, type))
			return false;	/* void */
		switch (dwarf_tag(type)) {
		case DW_TAG_atomic_type:
			*atomic = true;
			/* fall through */
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
			cur = *type;
			continue;
		default:
			return true;
		}
	}
	return false;
}

static void hka_name_append(char *buf, size_t size, const char *fmt, const char *s,
			    unsigned long long v)
{
	size_t n = strlen(buf);

	if (n < size)
		snprintf(buf + n, size - n, fmt, s ? s : "", v);
}

/*
 * The object at byte off of an object of (peeled) type t: its name
 * appended to buf ("m->" + "slot[2].seq") and whether it is _Atomic.
 * atomic says t itself was _Atomic. Returns false when unknown.
 */
static bool hka_object_at(Dwarf_Die *t, bool atomic, Dwarf_Word off, char *buf, size_t size,
			  bool top, bool *is_atomic, int depth)
{
	Dwarf_Word tsize;
	Dwarf_Die child;
	int tag = dwarf_tag(t);
	bool found = false;
	char other[256];
	size_t len;

	if (size > sizeof(other))
		size = sizeof(other);
	if (depth > HKA_TYPE_DEPTH || dwarf_aggregate_size(t, &tsize) || off >= tsize)
		return false;
	if (atomic) {		/* the whole object is _Atomic, whatever part is accessed */
		*is_atomic = true;
		return true;
	}
	if (tag == DW_TAG_array_type) {
		Dwarf_Die elem;
		Dwarf_Word esize;
		bool eatomic = false;
		int dims = 0;

		if (!dwarf_child(t, &child)) {
			do
				dims += dwarf_tag(&child) == DW_TAG_subrange_type;
			while (!dwarf_siblingof(&child, &child));
		}
		if (dims != 1 || !hka_peel_type(t, &elem, &eatomic) ||
		    dwarf_aggregate_size(&elem, &esize) || !esize)
			return false;
		hka_name_append(buf, size, "%s[%llu]", NULL, off / esize);
		return hka_object_at(&elem, eatomic, off % esize, buf, size, false, is_atomic,
				     depth + 1);
	}
	if (tag != DW_TAG_structure_type && tag != DW_TAG_class_type &&
	    tag != DW_TAG_union_type) {
		*is_atomic = false;	/* a scalar (or pointer, enum): known, not _Atomic */
		return true;
	}
	if (dwarf_child(t, &child))
		return false;	/* a declaration only */
	len = strlen(buf);
	do {
		Dwarf_Attribute attr;
		Dwarf_Word moff = 0, msize;
		Dwarf_Die mt;
		bool matomic = false, a = false;
		const char *name;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		if (dwarf_hasattr(&child, DW_AT_bit_size) ||
		    dwarf_hasattr(&child, DW_AT_data_bit_offset))
			continue;	/* bit-fields are never named */
		if (dwarf_attr(&child, DW_AT_data_member_location, &attr) &&
		    dwarf_formudata(&attr, &moff))
			continue;	/* a location expression (not from C compilers) */
		if (!hka_peel_type(&child, &mt, &matomic) || dwarf_aggregate_size(&mt, &msize) ||
		    off < moff || off >= moff + msize)
			continue;
		name = dwarf_diename(&child);
		if (found) {	/* another union member: keep the first one's name */
			if (buf != other)
				memcpy(other, buf, len);
			other[len] = '\0';
			buf = other;
		}
		if (name)	/* anonymous struct/union members add no name */
			hka_name_append(buf, size, top ? "->%s" : ".%s", name, 0);
		if (!hka_object_at(&mt, matomic, off - moff, buf, size, top && !name, &a, depth + 1))
			return false;
		if (found && a != *is_atomic)
			return false;	/* union members that disagree */
		*is_atomic = a;
		found = true;
		if (tag != DW_TAG_union_type)
			break;	/* struct members do not overlap */
	} while (!dwarf_siblingof(&child, &child));
	return found;
}

/*
 * Is the value of variable die at pc (DWARF address) register reg plus a
 * constant? The constant in *off: DW_OP_regN is reg + 0, GCC's
 * "DW_OP_bregN off; DW_OP_stack_value" reg + off.
 */
static bool hka_loc_is_reg(Dwarf_Die *die, Dwarf_Addr pc, int reg, int64_t *off)
{
	Dwarf_Attribute attr;
	Dwarf_Op *expr;
	size_t len;

	*off = 0;
	if (!dwarf_attr(die, DW_AT_location, &attr) ||
	    dwarf_getlocation_addr(&attr, pc, &expr, &len, 1) != 1)
		return false;
	if (len == 1 && expr[0].atom >= DW_OP_reg0 && expr[0].atom <= DW_OP_reg31)
		return expr[0].atom - DW_OP_reg0 == reg;
	if (len == 1 && expr[0].atom == DW_OP_regx)
		return expr[0].number == (Dwarf_Word)reg;
	if (len == 2 && expr[1].atom == DW_OP_stack_value && expr[0].atom >= DW_OP_breg0 &&
	    expr[0].atom <= DW_OP_breg31 && expr[0].atom - DW_OP_breg0 == reg) {
		*off = (int64_t)expr[0].number;
		return true;
	}
	return false;
}

/* Does variable die, a pointer, lead to a known object at disp? Its name into buf. */
static bool hka_pointer_var(Dwarf_Die *die, int64_t disp, char *buf, size_t size,
			    bool *is_atomic)
{
	const char *var = dwarf_diename(die);
	Dwarf_Attribute attr;
	Dwarf_Die ptr, t;
	bool atomic = false;
	Dwarf_Word tsize;

	if (!var) {
		/* an inlined instance: the name is on the abstract origin */
		var = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	}
	/*
	 * Reserved names are the implementation's own: GCC's atomic_store_explicit()
	 * declares __atomic_store_ptr; the caller's variable names the object.
	 */
	if (!var || !strncmp(var, "__", 2) || disp < 0 || !hka_peel_type(die, &ptr, &atomic) ||
	    dwarf_tag(&ptr) != DW_TAG_pointer_type)
		return false;
	atomic = false;		/* an _Atomic pointer says nothing of its pointee */
	if (!hka_peel_type(&ptr, &t, &atomic))
		return false;	/* void * */
	if (dwarf_tag(&t) == DW_TAG_structure_type || dwarf_tag(&t) == DW_TAG_class_type ||
	    dwarf_tag(&t) == DW_TAG_union_type) {
		snprintf(buf, size, "%s", var);
		return hka_object_at(&t, atomic, disp, buf, size, true, is_atomic, 0);
	}
	/* a pointer to a scalar: *p, or p[k] */
	if (dwarf_aggregate_size(&t, &tsize) || !tsize || (Dwarf_Word)disp % tsize)
		return false;
	if (disp)
		snprintf(buf, size, "%s[%llu]", var, (unsigned long long)((Dwarf_Word)disp / tsize));
	else
		snprintf(buf, size, "*%s", var);
	return hka_object_at(&t, atomic, 0, buf, size, false, is_atomic, 0);
}

/*
 * The scopes that contain pc, outermost first, as the code nests them
 * (dwarf_getscopes() follows an inlined function's abstract scopes, whose
 * variables have no locations, instead of its caller's).
 */
static int hka_pc_scopes(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *out, int max)
{
	Dwarf_Die child;
	int n = 0;

	while (n < max && !dwarf_child(parent, &child)) {
		bool in = false;

		do {
			int tag = dwarf_tag(&child);

			if ((tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
			     tag == DW_TAG_lexical_block) && dwarf_haspc(&child, pc) > 0) {
				in = true;
			} else if (tag == DW_TAG_namespace) {
				/* C++: functions nest in namespaces, which have no ranges */
				int k = hka_pc_scopes(&child, pc, out + n, max - n);

				if (k > 0)
					return n + k;
			}
		} while (!in && !dwarf_siblingof(&child, &child));
		if (!in)
			break;
		out[n++] = child;
		parent = &out[n - 1];
	}
	return n;
}

#define HKA_MAX_SCOPES	32

int hka_symtab_pointee(struct hka_symtab *st, const char *path, uint64_t addr, int reg,
		       int64_t disp, const char **name, bool *atomic)
{
	struct hka_symtab_mod *m = hka_symtab_module(st, path, NULL);
	Dwarf_Die scopes[HKA_MAX_SCOPES], *cudie, child;
	Dwarf_Addr bias = 0, pc;
	char buf[256];
	int64_t off;
	int n;

	if (!m)
		return -ENOENT;
	cudie = dwfl_module_addrdie(m->mod, addr + m->bias, &bias);
	if (!cudie)
		return -ENOENT;
	pc = addr + m->bias - bias;
	n = hka_pc_scopes(cudie, pc, scopes, HKA_MAX_SCOPES);
	/* innermost first: an inlined function's parameter before its caller's variable */
	while (n-- > 0) {
		if (dwarf_child(&scopes[n], &child))
			continue;
		do {
			int tag = dwarf_tag(&child);

			if ((tag != DW_TAG_variable && tag != DW_TAG_formal_parameter) ||
			    !hka_loc_is_reg(&child, pc, reg, &off))
				continue;
			buf[0] = '\0';
			if (!hka_pointer_var(&child, disp - off, buf, sizeof(buf), atomic))
				continue;
			*name = hka_arena_strdup(&st->names, buf);
			return *name ? 0 : -ENOMEM;
		} while (!dwarf_siblingof(&child, &child));
	}
	return -ENOENT;
}

static const char *hka_base(const char *p)
{
	const char *b = strrchr(p, '/');

	return b ? b + 1 : p;
}

int hka_symtab_line_addrs(struct hka_symtab *st, const char *path, const char *file,
			  unsigned int line, uint64_t *addrs, int max)
{
	struct hka_symtab_mod *m = hka_symtab_module(st, path, NULL);
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;
	int n = 0;

	if (!m)
		return 0;
	while ((cu = dwfl_module_nextcu(m->mod, cu, &bias))) {
		Dwarf_Lines *lines;
		size_t nl, i;

		if (dwarf_getsrclines(cu, &lines, &nl))
			continue;
		for (i = 0; i < nl && n < max; i++) {
			Dwarf_Line *l = dwarf_onesrcline(lines, i);
			const char *src = dwarf_linesrc(l, NULL, NULL);
			Dwarf_Addr addr;
			int ln = 0;

			if (!src || dwarf_lineno(l, &ln) || (unsigned int)ln != line ||
			    strcmp(hka_base(src), hka_base(file)) || dwarf_lineaddr(l, &addr))
				continue;
			addrs[n++] = addr + bias - m->bias;
		}
	}
	return n;
}
