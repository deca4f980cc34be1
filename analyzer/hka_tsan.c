// SPDX-License-Identifier: GPL-2.0
/*
 * ThreadSanitizer input: every "WARNING: ThreadSanitizer: data race" report
 * of GCC's libtsan or clang's runtime becomes one conflict of the access
 * stream (the access and its "Previous" access).
 *
 * Strict about what the analysis needs: each side's header (kind, size,
 * address, thread) and frame #0 with its (module+0xoffset). Tolerant of the
 * rest: other report kinds, "Location"/"Mutex"/"Thread" blocks, clang's
 * columns and BuildId, and program output interleaved anywhere. A report
 * whose previous stack TSan could not restore is counted as skipped.
 *
 * A log may be a file, a pipe or "-" (standard input). It is split at
 * "==================" separators into fixed-size chunks parsed in parallel; strings are cut in place in our private copy
 * of the log, and chunks are merged in order, so the stream is the same for
 * any worker count.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hka_priv.h"

#define HKA_TSAN_CHUNK	(256 * 1024)
#define HKA_TSAN_SEP	"=================="

struct hka_tsan_report {
	struct hka_access side[2];
	char thread[2][24];
};

struct hka_tsan_chunk {
	char *start, *end;
	unsigned long first_line;
	struct hka_vec reports;		/* struct hka_tsan_report */
	unsigned long skipped;
};

struct hka_tsan_ctx {
	const char *name;
	struct hka_tsan_chunk *chunks;
	size_t nchunks;
};

enum hka_tsan_state {
	HKA_TSAN_OUTSIDE,
	HKA_TSAN_OTHER,		/* a report kind we do not use */
	HKA_TSAN_RACE,
};

struct hka_tsan_parser {
	const char *name;
	unsigned long lineno, report_line;
	enum hka_tsan_state state;
	struct hka_tsan_report cur;
	int side;		/* side whose stack is being read, -1 none */
	bool have[2], lost[2];
	struct hka_tsan_chunk *chunk;
};

static char *hka_skip_spaces(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static bool hka_eat(char **p, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(*p, word, n))
		return false;
	*p += n;
	return true;
}

static bool hka_parse_u64(char **p, int base, uint64_t *val)
{
	char *end;

	if (!isxdigit((unsigned char)**p))
		return false;
	errno = 0;
	*val = strtoull(*p, &end, base);
	if (errno || end == *p)
		return false;
	*p = end;
	return true;
}

/*
 * "[Previous ][atomic ]read|write of size N at 0xADDR by thread T3[ (mutexes: ...)]:"
 * Returns 1 for a header, 0 for a line that is not one, -EINVAL for a
 * header that is broken.
 */
static int hka_tsan_header(struct hka_tsan_parser *ps, char *line, struct hka_error *err)
{
	char *p = line;
	bool previous = false, atomic = false;
	struct hka_access *a;
	enum hka_kind kind;
	uint64_t size, addr;
	int side;

	if (hka_eat(&p, "Previous "))
		previous = true;
	if (hka_eat(&p, "atomic ") || hka_eat(&p, "Atomic "))
		atomic = true;
	if (hka_eat(&p, "read") || hka_eat(&p, "Read"))
		kind = HKA_READ;
	else if (hka_eat(&p, "write") || hka_eat(&p, "Write"))
		kind = HKA_WRITE;
	else
		return 0;
	if (!hka_eat(&p, " of size "))
		return 0;
	if (!hka_parse_u64(&p, 10, &size) || !hka_eat(&p, " at 0x") ||
	    !hka_parse_u64(&p, 16, &addr) || !hka_eat(&p, " by "))
		goto bad;
	side = previous ? 1 : 0;
	if (ps->have[side]) {
		hka_error_set(err, "%s:%lu: second %s access in the data race report at line %lu",
			      ps->name, ps->lineno, previous ? "previous" : "current",
			      ps->report_line);
		return -EINVAL;
	}
	a = &ps->cur.side[side];
	if (hka_eat(&p, "main thread")) {
		strcpy(ps->cur.thread[side], "main");
	} else if (hka_eat(&p, "thread T")) {
		uint64_t t;

		if (!hka_parse_u64(&p, 10, &t))
			goto bad;
		snprintf(ps->cur.thread[side], sizeof(ps->cur.thread[side]), "T%llu",
			 (unsigned long long)t);
	} else {
		goto bad;
	}
	if (*p == ' ')		/* " (mutexes: write M1)": TSan already used it */
		p = strchr(p, ')') ? strchr(p, ')') + 1 : p + strlen(p);
	if (*p != ':')
		goto bad;
	a->thread = ps->cur.thread[side];
	a->kind = kind;
	a->atomic = atomic;
	a->size = size;
	a->addr = addr;
	ps->have[side] = true;
	ps->side = side;
	return 1;
bad:
	hka_error_set(err, "%s:%lu: malformed access line in the data race report at line %lu: "
		      "expected '[Previous ]read|write of size N at 0xADDR by thread TN:'",
		      ps->name, ps->lineno, ps->report_line);
	return -EINVAL;
}

static bool hka_tsan_runtime_frame(const struct hka_frame *f)
{
	return !strncmp(f->module, "libtsan", 7) ||
	       (f->function && (!strncmp(f->function, "__tsan_", 7) ||
				!strncmp(f->function, "__interceptor_", 14) ||
				!strncmp(f->function, "__sanitizer", 11))) ||
	       (f->file && (strstr(f->file, "/sanitizer_common/") || strstr(f->file, "/tsan/")));
}

/* "file:line[:col]" -> file, line; "<null>" -> nothing */
static void hka_tsan_location(char *tok, struct hka_frame *f)
{
	char *c = strrchr(tok, ':'), *c2;

	if (!strcmp(tok, "<null>"))
		return;
	f->file = tok;
	if (!c || !isdigit((unsigned char)c[1]))
		return;
	*c = '\0';
	c2 = strrchr(tok, ':');
	if (c2 && isdigit((unsigned char)c2[1])) {	/* clang: line:col */
		*c2 = '\0';
		f->line = strtoul(c2 + 1, NULL, 10);
	} else {
		f->line = strtoul(c + 1, NULL, 10);
	}
}

/* "#N function location (module+0xoffset)[ (BuildId: ...)]" */
static int hka_tsan_frame(struct hka_tsan_parser *ps, char *line, struct hka_error *err)
{
	struct hka_access *a = &ps->cur.side[ps->side];
	char *p = line + 1, *open, *plus, *end, *sp;
	struct hka_frame f = { 0 };
	uint64_t idx;

	if (!hka_parse_u64(&p, 10, &idx) || *p != ' ')
		return 0;	/* "#" of interleaved output */
	p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	open = strstr(p, " (BuildId: ");
	if (open) {
		*open = '\0';
		end = open;
	}
	open = end > p && end[-1] == ')' ? strrchr(p, '(') : NULL;
	if (!open)
		goto bad;
	end[-1] = '\0';
	plus = strstr(open, "+0x");
	if (!strcmp(open + 1, "<unknown module>"))
		goto nomodule;
	if (!plus)
		goto bad;
	*plus = '\0';
	plus += 3;
	if (!hka_parse_u64(&plus, 16, &f.offset) || *plus)
		goto bad;
	f.module = open + 1;
	if (open > p)
		open[-1] = '\0';
	/*
	 * "function location": both may hold spaces ("poll(int) const",
	 * "/src/a b/x.c:7:4"); a path starts at " /", " ./" or " ../",
	 * otherwise the location is the last word.
	 */
	sp = strstr(p, " /");
	if (!sp)
		sp = strstr(p, " ./");
	if (!sp)
		sp = strstr(p, " ../");
	if (!sp)
		sp = strrchr(p, ' ');
	if (sp) {
		*sp = '\0';
		hka_tsan_location(sp + 1, &f);
	}
	f.function = p;
	if (a->nframes == 0 && hka_tsan_runtime_frame(&f))
		return 1;
	if (a->nframes < HKA_MAX_FRAMES)
		a->frames[a->nframes++] = f;
	return 1;
nomodule:
	if (a->nframes == 0) {
		hka_error_set(err, "%s:%lu: frame #%llu of the access is in an unknown module; "
			      "the analysis needs (module+0xoffset)", ps->name, ps->lineno,
			      (unsigned long long)idx);
		return -EINVAL;
	}
	return 1;
bad:
	hka_error_set(err, "%s:%lu: malformed stack frame in the data race report at line %lu: "
		      "expected '#N function file:line (module+0xoffset)'",
		      ps->name, ps->lineno, ps->report_line);
	return -EINVAL;
}

static int hka_tsan_end_report(struct hka_tsan_parser *ps, bool eof, struct hka_error *err)
{
	struct hka_tsan_report *r;
	int i;

	if (ps->state != HKA_TSAN_RACE) {
		ps->state = HKA_TSAN_OUTSIDE;
		return 0;
	}
	ps->state = HKA_TSAN_OUTSIDE;
	for (i = 0; i < 2; i++) {
		if (ps->lost[i] && ps->have[i]) {
			ps->chunk->skipped++;
			return 0;
		}
		if (!ps->have[i] || !ps->cur.side[i].nframes) {
			hka_error_set(err, eof ?
				      "%s:%lu: log ends inside the data race report at line %lu "
				      "(truncated?): no %s access with a stack" :
				      "%s:%lu: data race report at line %lu has no %s access with a stack",
				      ps->name, ps->lineno, ps->report_line,
				      i ? "previous" : "current");
			return -EINVAL;
		}
	}
	r = hka_vec_push(&ps->chunk->reports);
	if (!r) {
		hka_error_set(err, "out of memory");
		return -ENOMEM;
	}
	/* thread names live in the report: pointed at when merged, since
	 * the vector moves its elements as it grows */
	*r = ps->cur;
	return 0;
}

static int hka_tsan_line(struct hka_tsan_parser *ps, char *line, struct hka_error *err)
{
	char *p = hka_skip_spaces(line);
	int rc;

	if (!strncmp(p, HKA_TSAN_SEP, sizeof(HKA_TSAN_SEP) - 1) ||
	    !strncmp(p, "SUMMARY: ThreadSanitizer", 24))
		return hka_tsan_end_report(ps, false, err);
	if (!strncmp(p, "WARNING: ThreadSanitizer: ", 26)) {
		if (ps->state == HKA_TSAN_RACE) {
			hka_error_set(err, "%s:%lu: new report starts inside the data race report "
				      "at line %lu (truncated report?)", ps->name, ps->lineno,
				      ps->report_line);
			return -EINVAL;
		}
		if (strncmp(p + 26, "data race", 9)) {
			ps->state = HKA_TSAN_OTHER;
			return 0;
		}
		ps->state = HKA_TSAN_RACE;
		ps->report_line = ps->lineno;
		memset(&ps->cur, 0, sizeof(ps->cur));
		ps->have[0] = ps->have[1] = false;
		ps->lost[0] = ps->lost[1] = false;
		ps->side = -1;
		return 0;
	}
	if (ps->state != HKA_TSAN_RACE)
		return 0;
	if (!*p) {		/* a blank line ends a stack */
		ps->side = -1;
		return 0;
	}
	if (*p == '#' && ps->side >= 0)
		return hka_tsan_frame(ps, p, err) < 0 ? -EINVAL : 0;
	if (ps->side >= 0 && !strncmp(p, "[failed to restore the stack]", 29)) {
		ps->lost[ps->side] = true;
		return 0;
	}
	if (p == line + 2 || p == line) {
		rc = hka_tsan_header(ps, p, err);
		if (rc)
			return rc < 0 ? rc : 0;
	}
	/* "Location is ...", "Mutex ...", "Thread T1 ... created by": not ours */
	if (isupper((unsigned char)*p) && (p == line + 2))
		ps->side = -1;
	return 0;
}

static int hka_tsan_parse_chunk(struct hka_pool *pool, void *arg, unsigned int worker,
				size_t task, struct hka_error *err)
{
	struct hka_tsan_ctx *ctx = arg;
	struct hka_tsan_chunk *c = &ctx->chunks[task];
	struct hka_tsan_parser ps = {
		.name = ctx->name,
		.lineno = c->first_line,
		.chunk = c,
		.side = -1,
	};
	char *p = c->start;
	int rc;

	while (p < c->end) {
		char *nl = memchr(p, '\n', c->end - p);

		if (!nl)
			nl = c->end;
		*nl = '\0';
		rc = hka_tsan_line(&ps, p, err);
		if (rc)
			return rc;
		p = nl + 1;
		ps.lineno++;
		if ((ps.lineno & 0xfff) == 0 && hka_pool_cancelled(pool))
			return -ECANCELED;
	}
	ps.lineno--;
	return hka_tsan_end_report(&ps, true, err);
}

static unsigned long hka_count_lines(const char *p, const char *end)
{
	unsigned long n = 0;

	while ((p = memchr(p, '\n', end - p))) {
		n++;
		p++;
	}
	return n;
}

/* Cut buf into chunks that start at a separator line. */
static int hka_tsan_split(struct hka_tsan_ctx *ctx, char *buf, size_t len)
{
	size_t max = len / HKA_TSAN_CHUNK + 2, n = 0;
	char *p = buf, *end = buf + len;
	unsigned long line = 1;

	ctx->chunks = calloc(max, sizeof(*ctx->chunks));
	if (!ctx->chunks)
		return -ENOMEM;
	while (p < end && n < max) {
		char *cut = p + HKA_TSAN_CHUNK < end ? p + HKA_TSAN_CHUNK : end;

		while (cut < end) {
			cut = memmem(cut, end - cut, "\n" HKA_TSAN_SEP "\n", sizeof(HKA_TSAN_SEP) + 1);
			if (!cut) {
				cut = end;
				break;
			}
			cut++;	/* the chunk ends after the newline before the separator */
			break;
		}
		if (n == max - 1)
			cut = end;
		ctx->chunks[n].start = p;
		ctx->chunks[n].end = cut;
		ctx->chunks[n].first_line = line;
		hka_vec_init(&ctx->chunks[n].reports, sizeof(struct hka_tsan_report));
		line += hka_count_lines(p, cut);
		n++;
		p = cut;
	}
	ctx->nchunks = n;
	return 0;
}

/* Parse buf (len bytes + 1 spare), which the stream takes over. */
static int hka_tsan_parse_owned(struct hka_stream *s, const char *name, char *copy,
				size_t len, const struct hka_config *cfg, struct hka_error *err)
{
	struct hka_tsan_ctx ctx = { .name = name };
	size_t i, j;
	char *nul;
	int rc;

	if (hka_stream_own(s, copy)) {
		free(copy);
		hka_error_set(err, "out of memory reading %s", name);
		return -ENOMEM;
	}
	copy[len] = '\0';
	/* TSan writes text: a NUL byte means the wrong file, say where */
	nul = memchr(copy, '\0', len);
	if (nul) {
		hka_error_set(err, "%s:%lu: binary data (a NUL byte) where a TSan log should be text",
			      name, 1 + hka_count_lines(copy, nul));
		return -EINVAL;
	}
	hka_stream_begin_input(s, name);
	rc = hka_tsan_split(&ctx, copy, len);
	if (rc) {
		hka_error_set(err, "out of memory reading %s", name);
		return rc;
	}
	rc = hka_pool_run(cfg, ctx.nchunks, hka_tsan_parse_chunk, &ctx, err);
	for (i = 0; i < ctx.nchunks; i++) {
		struct hka_tsan_chunk *c = &ctx.chunks[i];

		for (j = 0; !rc && j < c->reports.n; j++) {
			struct hka_tsan_report *r = HKA_VEC_AT(&c->reports, struct hka_tsan_report, j);

			r->side[0].thread = r->thread[0];
			r->side[1].thread = r->thread[1];
			rc = hka_stream_add_conflict(s, &r->side[0], &r->side[1], err);
			s->reports++;
		}
		s->reports_skipped += c->skipped;
		hka_vec_free(&c->reports);
	}
	free(ctx.chunks);
	return rc;
}

int hka_tsan_parse_buf(struct hka_stream *s, const char *name, const char *buf,
		       size_t len, const struct hka_config *cfg, struct hka_error *err)
{
	char *copy = malloc(len + 1);

	if (!copy) {
		hka_error_set(err, "out of memory reading %s", name);
		return -ENOMEM;
	}
	memcpy(copy, buf, len);
	return hka_tsan_parse_owned(s, name, copy, len, cfg, err);
}

/* Read fd to its end: regular files in one allocation, pipes growing. */
static int hka_read_all(int fd, char **bufp, size_t *lenp)
{
	struct stat st;
	size_t cap = 1 << 20, len = 0;
	char *buf, *nb;

	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		cap = st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return n;
		}
		if (!n)
			break;
		len += n;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int hka_tsan_parse_file(struct hka_stream *s, const char *path,
			const struct hka_config *cfg, struct hka_error *err)
{
	bool is_stdin = !strcmp(path, "-");
	const char *name = is_stdin ? "<stdin>" : path;
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int fd, rc;

	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		hka_error_set(err, "cannot open TSan log '%s': %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) || S_ISDIR(st.st_mode)) {
		hka_error_set(err, "TSan log '%s' is a directory", name);
		rc = -EISDIR;
		goto out;
	}
	rc = hka_read_all(fd, &buf, &len);
	if (rc) {
		hka_error_set(err, "cannot read TSan log '%s': %s", name, strerror(-rc));
		goto out;
	}
	rc = hka_tsan_parse_owned(s, name, buf, len, cfg, err);
out:
	if (!is_stdin)
		close(fd);
	return rc;
}
