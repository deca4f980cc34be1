// SPDX-License-Identifier: GPL-2.0
/*
 * Reports: text for people, JSON as the stable contract
 * (Documentation/hawkeyes/report.rst), SARIF 2.1.0 for code scanning.
 * Output depends only on the sorted findings, never on timing or --jobs.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "hka_priv.h"

static const char * const hka_pattern_text[][2] = {
	{ "MP", "message passing: a store pair seen out of order by a load pair" },
	{ "LB", "load buffering: each thread's load sees the other's later store" },
	{ "S", "a store pair against a load-store pair" },
	{ "2+2W", "two store pairs in opposite orders" },
	{ "SB", "store buffering: store then load in both threads" },
	{ "R", "a store pair against a store-load pair" },
};

static const char *hka_pattern_desc(const char *p)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(hka_pattern_text); k++)
		if (!strcmp(p, hka_pattern_text[k][0]))
			return hka_pattern_text[k][1];
	return p;
}

int hka_format_parse(const char *arg, enum hka_format *fmt)
{
	if (!strcmp(arg, "text"))
		*fmt = HKA_FORMAT_TEXT;
	else if (!strcmp(arg, "json"))
		*fmt = HKA_FORMAT_JSON;
	else if (!strcmp(arg, "sarif"))
		*fmt = HKA_FORMAT_SARIF;
	else
		return -EINVAL;
	return 0;
}

static void hka_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

struct hka_access_view {
	const struct hka_event *ev;
	const struct hka_site *site;
	const char *file, *function;
	unsigned int line;
};

static struct hka_access_view hka_view(const struct hka_result *res, uint32_t e)
{
	const struct hka_stream *s = res->s;
	struct hka_access_view v;

	v.ev = HKA_VEC_AT(&s->events, struct hka_event, e);
	v.site = HKA_VEC_AT(&s->sites, struct hka_site, v.ev->site);
	v.file = v.site->info.file ? v.site->info.file : v.site->in_file;
	v.function = v.site->info.function ? v.site->info.function : v.site->in_function;
	v.line = v.site->info.line ? v.site->info.line : v.site->in_line;
	return v;
}

static const char *hka_thread_name(const struct hka_result *res, uint32_t t)
{
	return HKA_VEC_AT(&res->s->threads, struct hka_thread, t)->name;
}

static const char *hka_basename(const char *p)
{
	const char *b = p ? strrchr(p, '/') : NULL;

	return b ? b + 1 : p;
}

static void hka_json_access(FILE *f, const struct hka_result *res, uint32_t e)
{
	struct hka_access_view v = hka_view(res, e);

	fputs("{\"file\": ", f);
	hka_json_str(f, v.file);
	fprintf(f, ", \"line\": %u, \"function\": ", v.line);
	hka_json_str(f, v.function);
	fprintf(f, ", \"ip\": \"0x%llx\", \"access\": \"%s\", \"object\": ",
		(unsigned long long)v.site->info.access_ip, v.ev->kind == HKA_WRITE ? "W" : "R");
	if (v.site->info.object)
		hka_json_str(f, v.site->info.object);
	else
		fputs("null", f);
	fprintf(f, ", \"atomic_type\": %s}", v.site->info.atomic_type ? "true" : "false");
}

static const struct hka_site *hka_site_at(const struct hka_result *res, uint32_t i)
{
	return HKA_VEC_AT(&res->s->sites, struct hka_site, i);
}

/* null, or where the two accesses are reached from their common caller */
static void hka_json_calls(FILE *f, const struct hka_result *res, const struct hka_side *sd)
{
	int k;

	if (sd->via[0] == HKA_NO_INDEX) {
		fputs("null", f);
		return;
	}
	fputs("{\"function\": ", f);
	hka_json_str(f, hka_site_at(res, sd->via[0])->info.function);
	for (k = 0; k < 2; k++) {
		const struct hka_site *v = hka_site_at(res, sd->via[k]);

		fprintf(f, ", \"%s\": {\"file\": ", k ? "second" : "first");
		hka_json_str(f, v->info.file);
		fprintf(f, ", \"line\": %u}", v->info.line);
	}
	fputs("}", f);
}

static int hka_report_write_json(const struct hka_result *res, FILE *f)
{
	size_t i;
	int k;

	fprintf(f, "{\"tool\": \"hawkeyes\", \"version\": \"%s\", \"window\": {\"name\": ",
		HKA_VERSION);
	if (res->cfg.window_name)
		hka_json_str(f, res->cfg.window_name);
	else
		fputs("null", f);
	fprintf(f, ", \"uops\": %u},\n \"findings\": [", res->cfg.window);
	for (i = 0; i < res->findings.n; i++) {
		const struct hka_finding *fd = HKA_VEC_AT(&res->findings, struct hka_finding, i);

		fprintf(f, "%s\n  {\"pattern\": \"%s\", \"porting\": %s,", i ? "," : "",
			fd->pattern, fd->porting ? "true" : "false");
		if (fd->confidence) {
			fprintf(f, "\n   \"confidence\": \"%s\", \"confidence_reason\": ",
				fd->confidence);
			hka_json_str(f, fd->confidence_reason);
			fputc(',', f);
		}
		fputs("\n   \"sides\": [", f);
		for (k = 0; k < 2; k++) {
			const struct hka_side *sd = &fd->sides[k];
			struct hka_fix fix;

			hka_fix_spell(sd->barrier, hka_view(res, sd->first).ev->kind,
				      hka_view(res, sd->second).ev->kind, &fix);
			fprintf(f, "%s\n    {\"thread\": ", k ? "," : "");
			hka_json_str(f, hka_thread_name(res, sd->thread));
			fputs(",\n     \"first\": ", f);
			hka_json_access(f, res, sd->first);
			fputs(",\n     \"second\": ", f);
			hka_json_access(f, res, sd->second);
			fprintf(f, ",\n     \"distance_uops\": %u,\n     \"calls\": ", sd->distance);
			hka_json_calls(f, res, sd);
			fprintf(f, ",\n     \"fix\": {\"barrier\": \"%s\", \"c11\": ", sd->barrier);
			hka_json_str(f, fix.c11);
			fputs(", \"linux\": ", f);
			hka_json_str(f, fix.kernel);
			fputs(", \"arm64\": ", f);
			hka_json_str(f, fix.arm64);
			fputs("}}", f);
		}
		fputs("]}", f);
	}
	fprintf(f, "%s],\n \"stats\": {\"accesses\": %lu, \"intervals\": %lu, \"findings\": %zu, "
		"\"dropped_by_window\": %lu, \"reports\": %lu, \"reports_skipped\": %lu, "
		"\"unresolved_sites\": %lu}}\n",
		res->findings.n ? "\n " : "", res->s->accesses, res->intervals, res->findings.n,
		res->dropped_by_window, res->s->reports, res->s->reports_skipped, res->unresolved);
	return 0;
}

/* Print line n of file, if we can read it. */
static void hka_source_line(FILE *f, const char *file, unsigned int n)
{
	FILE *src = file ? fopen(file, "r") : NULL;
	char buf[512];
	unsigned int i = 0;

	if (!src)
		return;
	while (fgets(buf, sizeof(buf), src))
		if (++i == n) {
			buf[strcspn(buf, "\n")] = '\0';
			fprintf(f, "        %5u | %s\n", n, buf);
			break;
		}
	fclose(src);
}

/* The instructions from the first access to the second, in address order. */
static void hka_text_window(FILE *f, const struct hka_result *res, const struct hka_side *sd)
{
	const struct hka_site *a = hka_view(res, sd->first).site, *b = hka_view(res, sd->second).site;
	const struct hka_func *fn = &res->funcs[a->info.func];
	uint32_t i, from = a->info.insn, to = hka_func_access_insn(fn, b->info.insn);

	if (a->info.func != b->info.func || a->info.insn == b->info.insn) {
		fprintf(f, "        (across calls: %s() to %s(); %u uops)\n",
			a->info.function ? a->info.function : "?",
			b->info.function ? b->info.function : "?", sd->distance);
		return;
	}
	if (to < from || to - from > 40) {
		fprintf(f, "        (the path from the first to the second access is not "
			"straight-line code; %u uops)\n", sd->distance);
		return;
	}
	for (i = from; i <= to; i++) {
		const struct hka_insn *in = &fn->insns[i];

		bool mark = in->addr == a->info.access_ip || in->addr == b->info.access_ip;

		fprintf(f, "        %c %8llx:  %-56s%s\n",
			mark ? '>' : ' ', (unsigned long long)in->addr, in->text,
			in->flags & HKA_INSN_TSAN ? " (tsan, 0 uops)" : "");
	}
}

static bool hka_result_has_x86(const struct hka_result *res)
{
	uint32_t i;

	for (i = 0; i < res->nfuncs; i++)
		if (res->funcs[i].machine == EM_X86_64)
			return true;
	return false;
}

static int hka_report_write_text(const struct hka_result *res, FILE *f)
{
	size_t i;
	int k;

	fprintf(f, "hawkeyes %s: window %u uops (%s)\n", HKA_VERSION, res->cfg.window,
		res->cfg.window_name ? res->cfg.window_name : "--window");
	if (hka_result_has_x86(res))
		fprintf(f, "x86-64 code: a pre-migration scan. A C11 release store or acquire load is a "
			"plain mov here;\nit is seen only as a TSan __tsan_atomic* call or through a "
			"DWARF _Atomic type.\n");
	for (i = 0; i < res->findings.n; i++) {
		const struct hka_finding *fd = HKA_VEC_AT(&res->findings, struct hka_finding, i);

		fprintf(f, "\n[%zu] %s (%s)\n    %s\n", i + 1, fd->pattern,
			hka_pattern_desc(fd->pattern),
			fd->porting ? "porting bug: ordered on x86 (TSO), may reorder on Arm" :
				      "not a porting bug: x86 (TSO) reorders this too");
		if (fd->confidence)
			fprintf(f, "    confidence: %s: %s\n", fd->confidence, fd->confidence_reason);
		for (k = 0; k < 2; k++) {
			const struct hka_side *sd = &fd->sides[k];
			struct hka_access_view v1 = hka_view(res, sd->first), v2 = hka_view(res, sd->second);
			struct hka_fix fix;

			hka_fix_spell(sd->barrier, v1.ev->kind, v2.ev->kind, &fix);
			fprintf(f, "  %s: %s then %s in %s(), %u uops apart\n",
				hka_thread_name(res, sd->thread), v1.ev->kind ? "store" : "load",
				v2.ev->kind ? "store" : "load", v1.function ? v1.function : "?",
				sd->distance);
			fprintf(f, "    first:  %s:%u  ip 0x%llx\n", hka_basename(v1.file), v1.line,
				(unsigned long long)v1.site->info.access_ip);
			hka_source_line(f, v1.file, v1.line);
			fprintf(f, "    second: %s:%u  ip 0x%llx\n", hka_basename(v2.file), v2.line,
				(unsigned long long)v2.site->info.access_ip);
			hka_source_line(f, v2.file, v2.line);
			if (sd->via[0] != HKA_NO_INDEX) {
				const struct hka_site *c1 = hka_site_at(res, sd->via[0]);
				const struct hka_site *c2 = hka_site_at(res, sd->via[1]);

				fprintf(f, "    reached from %s(): %s:%u then %s:%u (the barrier goes "
					"between these calls or in the callees)\n",
					c1->info.function ? c1->info.function : "?",
					hka_basename(c1->info.file), c1->info.line,
					hka_basename(c2->info.file), c2->info.line);
			}
			fprintf(f, "    window:\n");
			hka_text_window(f, res, sd);
			fprintf(f, "    fix (%s):\n      C11:   %s\n      Linux: %s\n      arm64: %s\n",
				sd->barrier, fix.c11, fix.kernel, fix.arm64);
		}
	}
	fprintf(f, "\n%zu finding(s), %u porting; %lu accesses, %lu reports (%lu skipped), "
		"%lu intervals, %lu pairs dropped by the window, %lu unresolved sites\n",
		res->findings.n, hka_result_porting_findings(res), res->s->accesses, res->s->reports,
		res->s->reports_skipped, res->intervals, res->dropped_by_window, res->unresolved);
	return 0;
}

/*
 * Code scanning maps results to files by path relative to the checkout:
 * paths under the current directory become relative, others file:// URIs.
 */
static void hka_sarif_uri(FILE *f, const char *file)
{
	char cwd[4096], uri[4200];
	size_t n;

	if (!file) {
		hka_json_str(f, "unknown");
		return;
	}
	if (file[0] == '/' && getcwd(cwd, sizeof(cwd))) {
		n = strlen(cwd);
		if (!strncmp(file, cwd, n) && file[n] == '/') {
			hka_json_str(f, file + n + 1);
			return;
		}
	}
	if (file[0] == '/') {
		snprintf(uri, sizeof(uri), "file://%s", file);
		hka_json_str(f, uri);
		return;
	}
	hka_json_str(f, file);
}

static void hka_sarif_location(FILE *f, const struct hka_result *res, uint32_t e, int id,
			       const char *what)
{
	struct hka_access_view v = hka_view(res, e);

	fputs("{", f);
	if (id >= 0)
		fprintf(f, "\"id\": %d, ", id);
	fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", f);
	hka_sarif_uri(f, v.file);
	fprintf(f, "}, \"region\": {\"startLine\": %u}}", v.line ? v.line : 1);
	if (what) {
		fputs(", \"message\": {\"text\": ", f);
		hka_json_str(f, what);
		fputs("}", f);
	}
	fputs("}", f);
}

static int hka_report_write_sarif(const struct hka_result *res, FILE *f)
{
	size_t i, k;

	fputs("{\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\", "
	      "\"version\": \"2.1.0\",\n \"runs\": [{\"tool\": {\"driver\": {\"name\": \"hawkeyes\", ", f);
	fprintf(f, "\"version\": \"%s\", \"informationUri\": "
		"\"https://example.invalid/hawkeyes\", \"rules\": [", HKA_VERSION);
	for (k = 0; k < ARRAY_SIZE(hka_pattern_text); k++) {
		fprintf(f, "%s\n  {\"id\": \"%s\", \"shortDescription\": {\"text\": ", k ? "," : "",
			hka_pattern_text[k][0]);
		hka_json_str(f, hka_pattern_text[k][1]);
		fputs("}}", f);
	}
	fputs("]}},\n \"results\": [", f);
	for (i = 0; i < res->findings.n; i++) {
		const struct hka_finding *fd = HKA_VEC_AT(&res->findings, struct hka_finding, i);
		char msg[1024];
		int s;

		snprintf(msg, sizeof(msg), "%s (%s)%s: %s at line %u needs a %s barrier; %s at line %u "
			 "needs a %s barrier%s%s%s%s",
			 fd->pattern, hka_pattern_desc(fd->pattern),
			 fd->porting ? ", a porting bug on Arm" : ", broken on x86 too",
			 hka_thread_name(res, fd->sides[0].thread),
			 hka_view(res, fd->sides[0].second).line, fd->sides[0].barrier,
			 hka_thread_name(res, fd->sides[1].thread),
			 hka_view(res, fd->sides[1].second).line, fd->sides[1].barrier,
			 fd->confidence ? " (confidence " : "", fd->confidence ? fd->confidence : "",
			 fd->confidence ? ": " : "", fd->confidence ? fd->confidence_reason : "");
		if (fd->confidence)
			strcat(msg, ")");
		fprintf(f, "%s\n  {\"ruleId\": \"%s\", \"level\": \"%s\", \"message\": {\"text\": ",
			i ? "," : "", fd->pattern, fd->porting ? "error" : "warning");
		hka_json_str(f, msg);
		fputs("},\n   \"locations\": [", f);
		/* where the barrier goes: the second access of the first side */
		hka_sarif_location(f, res, fd->sides[0].second, -1, NULL);
		fputs("],\n   \"relatedLocations\": [", f);
		for (s = 0; s < 2; s++) {
			char what[128];

			snprintf(what, sizeof(what), "%s first access", hka_thread_name(res, fd->sides[s].thread));
			hka_sarif_location(f, res, fd->sides[s].first, 2 * s, what);
			fputs(", ", f);
			snprintf(what, sizeof(what), "%s second access", hka_thread_name(res, fd->sides[s].thread));
			hka_sarif_location(f, res, fd->sides[s].second, 2 * s + 1, what);
			if (!s)
				fputs(", ", f);
		}
		fputs("]}", f);
	}
	fputs("]}]}\n", f);
	return 0;
}

int hka_report_write(const struct hka_result *res, enum hka_format fmt, FILE *f,
		     struct hka_error *err)
{
	switch (fmt) {
	case HKA_FORMAT_JSON:
		hka_report_write_json(res, f);
		break;
	case HKA_FORMAT_SARIF:
		hka_report_write_sarif(res, f);
		break;
	default:
		hka_report_write_text(res, f);
	}
	if (fflush(f) || ferror(f)) {
		hka_error_set(err, "cannot write the report: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}
