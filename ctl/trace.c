// SPDX-License-Identifier: GPL-2.0
/*
 * Trace file writer and reader (see trace.h and
 * Documentation/hawkeyes/trace-format.rst).
 *
 * The structs are written as they are in memory: every field is naturally
 * aligned with explicit padding, and the static asserts below pin their
 * sizes, so the layout on disk is the layout of the C declaration on every
 * little-endian 64-bit or 32-bit ABI we build for.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "trace files are little-endian; a big-endian writer would need byte swapping"
#endif

_Static_assert(sizeof(struct hk_trace_file_header) == 32, "file header layout");
_Static_assert(sizeof(struct hk_trace_chunk) == 16, "chunk header layout");
_Static_assert(sizeof(struct hk_trace_meta) == 192, "meta layout");
_Static_assert(sizeof(struct hk_trace_region) == 24, "region layout");
_Static_assert(sizeof(struct hk_trace_map) == 80, "map layout");
_Static_assert(sizeof(struct hk_trace_thread) == 32, "thread layout");
_Static_assert(sizeof(struct hk_trace_proc) == 32, "proc layout");
_Static_assert(sizeof(struct hk_trace_rec) == 64, "record layout");
_Static_assert(sizeof(struct hk_trace_lost) == 32, "lost layout");
_Static_assert(sizeof(struct hk_trace_end) == 64, "end layout");

/* No sane chunk is larger; a bigger length means a corrupt file. */
#define HK_TRACE_MAX_CHUNK	(256u << 20)
#define HK_TRACE_MAX_STRING	4096u

struct hk_trace {
	FILE *f;
	char *path;
	int writing;
	int error;		/* first write error, sticky */
	int seen_meta;
	int seen_end;
	uint64_t offset;	/* reader: offset of the next chunk header */
	uint32_t record_size;	/* reader: record size of the file */
	void *buf;		/* reader: current payload */
	size_t buf_size;
	void *recs;		/* reader: records repacked when record_size > ours */
	size_t recs_size;
	uint64_t records;	/* records read or written so far */
	char errmsg[512];
};

static int hk_trace_fail(struct hk_trace *t, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(t->errmsg, sizeof(t->errmsg), "%s: ", t->path);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(t->errmsg))
		vsnprintf(t->errmsg + n, sizeof(t->errmsg) - n, fmt, ap);
	va_end(ap);
	return err;
}

const char *hk_trace_errmsg(const struct hk_trace *t)
{
	return t->errmsg;
}

static struct hk_trace *hk_trace_alloc(const char *path)
{
	struct hk_trace *t;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->path = strdup(path);
	if (!t->path) {
		free(t);
		return NULL;
	}
	return t;
}

static void hk_trace_free(struct hk_trace *t)
{
	free(t->buf);
	free(t->recs);
	free(t->path);
	free(t);
}

/* ---- writer ---- */

int hk_trace_create(const char *path, struct hk_trace **out)
{
	struct hk_trace_file_header hdr = {
		.magic = HK_TRACE_MAGIC,
		.version_major = HK_TRACE_VERSION_MAJOR,
		.version_minor = HK_TRACE_VERSION_MINOR,
		.header_size = sizeof(hdr),
		.record_size = sizeof(struct hk_trace_rec),
		.chunk_header_size = sizeof(struct hk_trace_chunk),
	};
	struct hk_trace *t;
	int ret;

	t = hk_trace_alloc(path);
	if (!t)
		return -ENOMEM;
	t->writing = 1;
	/* Overwrite an old trace, as -o FILE promises. */
	t->f = fopen(path, "wb");
	if (!t->f) {
		ret = -errno;
		goto err;
	}
	/* Big stdio buffer: record chunks arrive in bursts of a few KiB. */
	setvbuf(t->f, NULL, _IOFBF, 1 << 20);
	if (fwrite(&hdr, sizeof(hdr), 1, t->f) != 1) {
		ret = errno ? -errno : -EIO;
		goto err_close;
	}
	*out = t;
	return 0;

err_close:
	fclose(t->f);
err:
	/* Nothing else can fail here: the caller reports strerror() and the path. */
	hk_trace_free(t);
	return ret;
}

static int hk_trace_put(struct hk_trace *t, uint32_t type, const void *a, size_t alen,
			const void *b, size_t blen)
{
	static const char zero[8];
	struct hk_trace_chunk ch = { .type = type, .length = alen + blen };
	size_t pad = (8 - (ch.length & 7)) & 7;

	if (t->error)
		return t->error;
	if (!t->writing)
		return -EINVAL;
	if (fwrite(&ch, sizeof(ch), 1, t->f) != 1 ||
	    (alen && fwrite(a, alen, 1, t->f) != 1) ||
	    (blen && fwrite(b, blen, 1, t->f) != 1) ||
	    (pad && fwrite(zero, pad, 1, t->f) != 1)) {
		t->error = errno ? -errno : -EIO;
		return hk_trace_fail(t, t->error, "cannot write the trace file: %s",
				     strerror(-t->error));
	}
	return 0;
}

int hk_trace_write_meta(struct hk_trace *t, const struct hk_trace_meta *meta)
{
	return hk_trace_put(t, HK_TRACE_META, meta, sizeof(*meta), NULL, 0);
}

int hk_trace_write_region(struct hk_trace *t, uint64_t start, uint64_t len, const char *spec)
{
	struct hk_trace_region r = { .start = start, .len = len };

	spec = spec ? spec : "";
	r.spec_len = strnlen(spec, HK_TRACE_MAX_STRING - 1) + 1;
	return hk_trace_put(t, HK_TRACE_REGION, &r, sizeof(r), spec, r.spec_len);
}

int hk_trace_write_region_late(struct hk_trace *t, uint64_t start, uint64_t len, const char *spec,
			       const struct hk_trace_region_late *late)
{
	struct hk_trace_region r = { .start = start, .len = len, .flags = HK_TRACE_REGION_F_LATE };
	char *buf;
	int ret;

	spec = spec ? spec : "";
	r.spec_len = strnlen(spec, HK_TRACE_MAX_STRING - 1) + 1;
	buf = malloc(r.spec_len + sizeof(*late));
	if (!buf)
		return -ENOMEM;
	memcpy(buf, spec, r.spec_len - 1);
	buf[r.spec_len - 1] = '\0';
	memcpy(buf + r.spec_len, late, sizeof(*late));
	ret = hk_trace_put(t, HK_TRACE_REGION, &r, sizeof(r), buf, r.spec_len + sizeof(*late));
	free(buf);
	return ret;
}

int hk_trace_write_map(struct hk_trace *t, const struct hk_trace_map *map, const char *path)
{
	struct hk_trace_map m = *map;
	char *copy;
	int ret;

	path = path ? path : "";
	m.path_len = strnlen(path, HK_TRACE_MAX_STRING - 1) + 1;
	/* A path cut at the limit still has to end in a NUL on disk. */
	copy = strndup(path, m.path_len - 1);
	if (!copy)
		return -ENOMEM;
	ret = hk_trace_put(t, HK_TRACE_MAP, &m, sizeof(m), copy, m.path_len);
	free(copy);
	return ret;
}

int hk_trace_write_proc(struct hk_trace *t, const struct hk_trace_proc *proc)
{
	return hk_trace_put(t, HK_TRACE_PROC, proc, sizeof(*proc), NULL, 0);
}

int hk_trace_write_thread(struct hk_trace *t, const struct hk_trace_thread *thr)
{
	return hk_trace_put(t, HK_TRACE_THREAD, thr, sizeof(*thr), NULL, 0);
}

int hk_trace_write_records(struct hk_trace *t, const struct hk_trace_rec *recs, size_t n)
{
	int ret;

	if (!n)
		return 0;
	ret = hk_trace_put(t, HK_TRACE_RECORDS, recs, n * sizeof(*recs), NULL, 0);
	if (!ret)
		t->records += n;
	return ret;
}

int hk_trace_write_lost(struct hk_trace *t, const struct hk_trace_lost *lost)
{
	return hk_trace_put(t, HK_TRACE_LOST, lost, sizeof(*lost), NULL, 0);
}

int hk_trace_write_end(struct hk_trace *t, const struct hk_trace_end *end)
{
	return hk_trace_put(t, HK_TRACE_END, end, sizeof(*end), NULL, 0);
}

int hk_trace_flush(struct hk_trace *t)
{
	if (t->error)
		return t->error;
	if (fflush(t->f)) {
		t->error = -errno;
		return hk_trace_fail(t, t->error, "cannot write the trace file: %s",
				     strerror(-t->error));
	}
	return 0;
}

/* ---- reader ---- */

int hk_trace_open(const char *path, struct hk_trace **out)
{
	struct hk_trace_file_header hdr;
	struct hk_trace *t;
	size_t got;
	int ret;

	*out = NULL;
	t = hk_trace_alloc(path);
	if (!t)
		return -ENOMEM;
	*out = t;	/* even on error, so that the caller can print errmsg */
	t->f = fopen(path, "rb");
	if (!t->f) {
		ret = -errno;
		return hk_trace_fail(t, ret, "cannot open: %s", strerror(-ret));
	}
	got = fread(&hdr, 1, sizeof(hdr), t->f);
	if (!got)
		return hk_trace_fail(t, -ENODATA, "truncated: the file is empty");
	/* A short file that starts like a trace is a cut trace, not garbage. */
	if (memcmp(hdr.magic, HK_TRACE_MAGIC, got < sizeof(hdr.magic) ? got : sizeof(hdr.magic)))
		return hk_trace_fail(t, -EINVAL, "not a hawkeyes trace file (bad magic)");
	if (got < sizeof(hdr))
		return hk_trace_fail(t, -ENODATA, "truncated: the file header has %zu of %zu bytes",
				     got, sizeof(hdr));
	if (hdr.version_major != HK_TRACE_VERSION_MAJOR)
		return hk_trace_fail(t, -EPROTONOSUPPORT,
				     "trace format version %u.%u; this hkctl reads version %u.x",
				     hdr.version_major, hdr.version_minor, HK_TRACE_VERSION_MAJOR);
	if (hdr.header_size < sizeof(hdr) || hdr.header_size > 4096 ||
	    hdr.record_size < sizeof(struct hk_trace_rec) || hdr.record_size > 4096 ||
	    hdr.chunk_header_size != sizeof(struct hk_trace_chunk))
		return hk_trace_fail(t, -EINVAL,
				     "corrupt file header (header %u, record %u, chunk header %u bytes)",
				     hdr.header_size, hdr.record_size, hdr.chunk_header_size);
	/* A newer minor version may have a longer header: skip what we do not know. */
	if (fseeko(t->f, hdr.header_size, SEEK_SET))
		return hk_trace_fail(t, -errno, "cannot seek: %s", strerror(errno));
	t->offset = hdr.header_size;
	t->record_size = hdr.record_size;
	return 0;
}

static int hk_trace_need(struct hk_trace *t, size_t size)
{
	void *p;

	if (size <= t->buf_size)
		return 0;
	p = realloc(t->buf, size);
	if (!p)
		return -ENOMEM;
	t->buf = p;
	t->buf_size = size;
	return 0;
}

/* A string payload must end in its NUL within its declared length. */
static int hk_trace_check_string(const char *s, uint32_t len, uint64_t avail)
{
	return len >= 1 && len <= HK_TRACE_MAX_STRING && len <= avail && s[len - 1] == '\0';
}

static int hk_trace_fill(struct hk_trace *t, const struct hk_trace_chunk *ch,
			 struct hk_trace_item *item)
{
	size_t i, n;

	switch (ch->type) {
	case HK_TRACE_META:
		if (ch->length < sizeof(struct hk_trace_meta))
			goto short_chunk;
		item->meta = t->buf;
		return 1;
	case HK_TRACE_REGION:
		if (ch->length < sizeof(struct hk_trace_region))
			goto short_chunk;
		item->region.hdr = t->buf;
		item->region.spec = (char *)t->buf + sizeof(struct hk_trace_region);
		if (!hk_trace_check_string(item->region.spec, item->region.hdr->spec_len,
					   ch->length - sizeof(struct hk_trace_region)))
			goto bad_string;
		item->region.is_late = 0;
		if ((item->region.hdr->flags & HK_TRACE_REGION_F_LATE) &&
		    ch->length >= sizeof(struct hk_trace_region) + item->region.hdr->spec_len +
				  sizeof(struct hk_trace_region_late)) {
			memcpy(&item->region.late, item->region.spec + item->region.hdr->spec_len,
			       sizeof(item->region.late));
			item->region.is_late = 1;
		}
		return 1;
	case HK_TRACE_MAP:
		if (ch->length < sizeof(struct hk_trace_map))
			goto short_chunk;
		item->map.hdr = t->buf;
		item->map.path = (char *)t->buf + sizeof(struct hk_trace_map);
		if (!hk_trace_check_string(item->map.path, item->map.hdr->path_len,
					   ch->length - sizeof(struct hk_trace_map)) ||
		    item->map.hdr->build_id_len > sizeof(item->map.hdr->build_id))
			goto bad_string;
		return 1;
	case HK_TRACE_THREAD:
		if (ch->length < sizeof(struct hk_trace_thread))
			goto short_chunk;
		item->thread = t->buf;
		return 1;
	case HK_TRACE_PROC:
		if (ch->length < sizeof(struct hk_trace_proc))
			goto short_chunk;
		item->proc = t->buf;
		return 1;
	case HK_TRACE_RECORDS:
		if (ch->length % t->record_size)
			return hk_trace_fail(t, -EINVAL,
					     "corrupt records chunk at offset %llu: %llu bytes is not a multiple of the %u-byte record",
					     (unsigned long long)item->offset,
					     (unsigned long long)ch->length, t->record_size);
		n = ch->length / t->record_size;
		item->records.count = n;
		item->records.recs = t->buf;
		t->records += n;
		if (t->record_size == sizeof(struct hk_trace_rec))
			return 1;
		/* Records of a newer minor version: keep the prefix we know. */
		if (n * sizeof(struct hk_trace_rec) > t->recs_size) {
			void *p = realloc(t->recs, n * sizeof(struct hk_trace_rec));

			if (!p)
				return -ENOMEM;
			t->recs = p;
			t->recs_size = n * sizeof(struct hk_trace_rec);
		}
		for (i = 0; i < n; i++)
			memcpy((struct hk_trace_rec *)t->recs + i,
			       (char *)t->buf + i * t->record_size, sizeof(struct hk_trace_rec));
		item->records.recs = t->recs;
		return 1;
	case HK_TRACE_LOST:
		if (ch->length < sizeof(struct hk_trace_lost))
			goto short_chunk;
		item->lost = t->buf;
		return 1;
	case HK_TRACE_END:
		if (ch->length < sizeof(struct hk_trace_end))
			goto short_chunk;
		item->end = t->buf;
		t->seen_end = 1;
		return 1;
	}
	return 0;	/* unknown type: skipped by the caller */

short_chunk:
	return hk_trace_fail(t, -EINVAL, "corrupt chunk of type %u at offset %llu: %llu bytes is too short",
			     ch->type, (unsigned long long)item->offset, (unsigned long long)ch->length);
bad_string:
	return hk_trace_fail(t, -EINVAL, "corrupt chunk of type %u at offset %llu: bad string or length",
			     ch->type, (unsigned long long)item->offset);
}

int hk_trace_next(struct hk_trace *t, struct hk_trace_item *item)
{
	struct hk_trace_chunk ch;
	uint64_t padded;
	size_t got;
	int ret;

	if (!t->f || t->writing)
		return -EINVAL;
	for (;;) {
		memset(item, 0, sizeof(*item));
		item->offset = t->offset;
		got = fread(&ch, 1, sizeof(ch), t->f);
		if (got == 0 && feof(t->f)) {
			if (t->seen_end)
				return 0;
			return hk_trace_fail(t, -ENODATA,
					     "truncated at offset %llu: no END chunk, the capture was interrupted (%llu records read)",
					     (unsigned long long)t->offset,
					     (unsigned long long)t->records);
		}
		if (got < sizeof(ch))
			return hk_trace_fail(t, ferror(t->f) ? -EIO : -ENODATA,
					     "truncated at offset %llu: chunk header has %zu of %zu bytes",
					     (unsigned long long)t->offset, got, sizeof(ch));
		if (t->seen_end)
			return hk_trace_fail(t, -EINVAL, "corrupt: data after the END chunk at offset %llu",
					     (unsigned long long)t->offset);
		if (ch.length > HK_TRACE_MAX_CHUNK)
			return hk_trace_fail(t, -EINVAL, "corrupt chunk at offset %llu: length %llu",
					     (unsigned long long)t->offset,
					     (unsigned long long)ch.length);
		if (!t->seen_meta && ch.type != HK_TRACE_META)
			return hk_trace_fail(t, -EINVAL, "corrupt: first chunk has type %u, not META",
					     ch.type);
		t->seen_meta = 1;
		padded = (ch.length + 7) & ~7ull;
		ret = hk_trace_need(t, padded ? padded : 8);
		if (ret)
			return hk_trace_fail(t, ret, "out of memory for a %llu-byte chunk",
					     (unsigned long long)ch.length);
		got = fread(t->buf, 1, padded, t->f);
		if (got < padded)
			return hk_trace_fail(t, ferror(t->f) ? -EIO : -ENODATA,
					     "truncated at offset %llu: chunk of type %u has %zu of %llu bytes (%llu records read)",
					     (unsigned long long)t->offset, ch.type, got,
					     (unsigned long long)padded,
					     (unsigned long long)t->records);
		t->offset += sizeof(ch) + padded;
		item->type = ch.type;
		ret = hk_trace_fill(t, &ch, item);
		if (ret)
			return ret;
	}
}

int hk_trace_close(struct hk_trace *t)
{
	int ret = 0;

	if (!t)
		return 0;
	if (t->f) {
		if (t->writing)
			ret = hk_trace_flush(t);
		if (fclose(t->f) && !ret)
			ret = -errno;
	}
	hk_trace_free(t);
	return ret;
}

const char *hk_trace_kind_name(uint8_t kind)
{
	switch (kind) {
	case HK_TRACE_KIND_R:
		return "R";
	case HK_TRACE_KIND_W:
		return "W";
	case HK_TRACE_KIND_RW:
		return "RW";
	}
	return "?";
}

const char *hk_trace_end_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[HK_TRACE_END_DURATION] = "duration elapsed",
		[HK_TRACE_END_SIGNAL] = "interrupted by a signal",
		[HK_TRACE_END_TARGET_EXIT] = "target exited",
		[HK_TRACE_END_TARGET_EXEC] = "target called execve",
		[HK_TRACE_END_DETACHED] = "detached",
		[HK_TRACE_END_KERNEL] = "ended by the module",
		[HK_TRACE_END_ERROR] = "hkctl error",
		[HK_TRACE_END_SEGMENT_GONE] = "segment removed",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "unknown";
}

const char *hk_trace_auto_phase_name(uint32_t meta_flags)
{
	if (meta_flags & HK_TRACE_META_F_AUTO_DISCOVERY)
		return "auto: discovery (page mode)";
	if (meta_flags & HK_TRACE_META_F_AUTO_FOCUS)
		return "auto: watchpoints on the shared locations the discovery found";
	if (meta_flags & HK_TRACE_META_F_AUTO_WHOLE)
		return "auto: watchpoints on the whole regions (no discovery)";
	if (meta_flags & HK_TRACE_META_F_AUTO_PAGE)
		return "auto: page mode went on (the discovery found nothing shared)";
	return NULL;
}
