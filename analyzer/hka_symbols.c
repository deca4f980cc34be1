// SPDX-License-Identifier: GPL-2.0
/*
 * Symbols with libdwfl: ip -> function (ELF symbol), innermost inlined
 * subroutine (dwarf_getscopes), file:line (dwfl_module_getsrc), ELF machine,
 * code bytes, PLT slot names. The call sequence follows elfutils'
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
