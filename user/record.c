/* record.c: the record file (docs/record-format.md): the compact per-kind encoding of
 * observations, CRC-framed records, the buffered writer with rotation and the reader that
 * detects a torn or corrupt record and says where. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "record.h"
#include "replay.h"

#define REC_MAGIC "OOMCAST\0"
#define REC_MAGIC_LEN 8
#define REC_PREAMBLE (REC_MAGIC_LEN + 4)        /* magic + u32 format version */
#define REC_KIND_HEADER 64
#define REC_MAX_BODY 8192       /* kind + payload; the biggest (a cgroup path) is ~4.1 KiB */
#define REC_MAX_FRAME (2 + REC_MAX_BODY + 4)
#define REC_BUF_CAP (64 * 1024)
#define REC_BUCKETS 1024
#define REC_MAX_CG_BASES 65536  /* delta bases kept; both sides stop adding at the same point */

/* SAMPLE field mask (a varint: version 1's mask byte, bits 0-6, is the same varint): a set
 * bit means the field differs from the cgroup's previous sample and follows, in this order. */
enum {
	SM_USAGE = 1 << 0, SM_LIMIT = 1 << 1, SM_RECLAIMABLE = 1 << 2, SM_ANON = 1 << 3,
	SM_HIGH = 1 << 4, SM_RATE = 1 << 5, SM_SOURCE = 1 << 6,
	SM_REFAULT = 1 << 7, SM_INACTIVE = 1 << 8, SM_PSI_SOME = 1 << 9, SM_PSI_FULL = 1 << 10,
	SM_SWAP = 1 << 11, SM_SWAP_LIMIT = 1 << 12,
	SM_ALL = 0x1fff,
};

/* ---- byte buffers ---- */

struct rec_out {
	uint8_t *b;
	size_t n, cap;
	int bad;
};

struct rec_in {
	const uint8_t *b;
	size_t n, pos;
	int bad;
};

static void put_u8(struct rec_out *o, uint8_t v)
{
	if (o->n >= o->cap) {
		o->bad = 1;
		return;
	}
	o->b[o->n++] = v;
}

static void put_bytes(struct rec_out *o, const void *p, size_t len)
{
	if (len > o->cap - o->n) {
		o->bad = 1;
		return;
	}
	memcpy(o->b + o->n, p, len);
	o->n += len;
}

static void put_varint(struct rec_out *o, uint64_t v)
{
	while (v >= 0x80) {
		put_u8(o, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	put_u8(o, (uint8_t)v);
}

static void put_u64le(struct rec_out *o, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		put_u8(o, (uint8_t)(v >> (8 * i)));
}

/* Zigzag keeps small negative numbers small as varints; unsigned arithmetic only, so no
 * implementation-defined shifts of negative values. */
static uint64_t zz(uint64_t x)
{
	return (x << 1) ^ (0 - (x >> 63));
}

static uint64_t unzz(uint64_t v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

static uint64_t dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double bitsd(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

/* A double, exactly: integral values (most rates) as an even varint, anything else (and
 * -0.0, NaN payloads) as a 1 then the raw IEEE bits. */
static void put_double(struct rec_out *o, double v)
{
	if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v && !(v == 0 && signbit(v))) {
		put_varint(o, zz((uint64_t)(int64_t)v) << 1);
		return;
	}
	put_u8(o, 1);
	put_u64le(o, dbits(v));
}

static void put_str(struct rec_out *o, const char *s, size_t size)
{
	size_t len = strnlen(s, size - 1);

	put_varint(o, len);
	put_bytes(o, s, len);
}

static uint8_t get_u8(struct rec_in *in)
{
	if (in->pos >= in->n) {
		in->bad = 1;
		return 0;
	}
	return in->b[in->pos++];
}

static uint64_t get_varint(struct rec_in *in)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 64; shift += 7) {
		uint8_t c = get_u8(in);

		if (shift == 63 && c > 1)
			break;          /* would overflow 64 bits */
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	in->bad = 1;
	return 0;
}

static uint64_t get_u64le(struct rec_in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)get_u8(in) << (8 * i);
	return v;
}

static double get_double(struct rec_in *in)
{
	uint64_t v = get_varint(in);

	if (!(v & 1))
		return (double)(int64_t)unzz(v >> 1);
	if (v != 1)
		in->bad = 1;
	return bitsd(get_u64le(in));
}

static uint32_t get_u32v(struct rec_in *in)
{
	uint64_t v = get_varint(in);

	if (v > UINT32_MAX)
		in->bad = 1;
	return (uint32_t)v;
}

static int32_t get_i32z(struct rec_in *in)
{
	int64_t v = (int64_t)unzz(get_varint(in));

	if (v < INT32_MIN || v > INT32_MAX)
		in->bad = 1;
	return (int32_t)v;
}

/* A string into dst[size]: at most size-1 bytes and no NUL inside, so what comes out is
 * always a terminated C string, as the writer produced it. */
static void get_str(struct rec_in *in, char *dst, size_t size)
{
	uint64_t len = get_varint(in);

	if (in->bad || len >= size || len > in->n - in->pos) {
		in->bad = 1;
		return;
	}
	memcpy(dst, in->b + in->pos, len);
	dst[len] = 0;
	in->pos += len;
	if (strlen(dst) != len)
		in->bad = 1;
}

/* ---- the codec: per-file state that both sides evolve identically ---- */

struct rec_base {
	uint64_t cg;
	struct obs_sample s;
	struct rec_base *next;
};

struct rec_codec {
	uint64_t t_bits;        /* the previous record's time, raw IEEE bits */
	uint32_t version;       /* the file's format version (reader); 0: the current one */
	struct rec_base *bucket[REC_BUCKETS];
	unsigned nbases;
};

static unsigned codec_hash(uint64_t cg)
{
	return (unsigned)((cg * 0x9E3779B97F4A7C15ull) >> 54);     /* 10 bits: REC_BUCKETS */
}

static struct rec_base **codec_slot(struct rec_codec *c, uint64_t cg)
{
	struct rec_base **pp = &c->bucket[codec_hash(cg)];

	while (*pp && (*pp)->cg != cg)
		pp = &(*pp)->next;
	return pp;
}

/* The sample a cgroup's next SAMPLE is a delta against: its previous one, else zeros. */
static const struct obs_sample *codec_base(const struct rec_codec *c, uint64_t cg)
{
	static const struct obs_sample zero;
	const struct rec_base *b = c->bucket[codec_hash(cg)];

	while (b && b->cg != cg)
		b = b->next;
	return b ? &b->s : &zero;
}

static void codec_reset(struct rec_codec *c)
{
	struct rec_base *b, *n;
	int i;

	for (i = 0; i < REC_BUCKETS; i++)
		for (b = c->bucket[i]; b; b = n) {
			n = b->next;
			free(b);
		}
	memset(c, 0, sizeof(*c));
}

/* After a record is encoded or decoded: remember what the next delta is taken against.
 * Nothing changes on failure, so a failed write leaves the writer consistent. */
static int codec_commit(struct rec_codec *c, const struct obs *o)
{
	struct rec_base **pp, *b;

	if (o->kind == OBS_SAMPLE) {
		pp = codec_slot(c, o->cg);
		if (!*pp && c->nbases < REC_MAX_CG_BASES) {
			b = calloc(1, sizeof(*b));
			if (!b)
				return -ENOMEM;
			b->cg = o->cg;
			*pp = b;
			c->nbases++;
		}
		if (*pp)
			(*pp)->s = o->sample;
	} else if (o->kind == OBS_CGROUP_DEL) {
		pp = codec_slot(c, o->cg);
		if ((b = *pp)) {
			*pp = b->next;
			free(b);
			c->nbases--;
		}
	}
	c->t_bits = dbits(o->t);
	return 0;
}

static void put_delta(struct rec_out *o, uint64_t cur, uint64_t prev)
{
	put_varint(o, zz(cur - prev));
}

static void enc_sample(struct rec_out *o, const struct obs_sample *s, const struct obs_sample *p)
{
	unsigned m = (s->usage != p->usage ? SM_USAGE : 0) | (s->limit != p->limit ? SM_LIMIT : 0) |
		(s->reclaimable != p->reclaimable ? SM_RECLAIMABLE : 0) |
		(s->anon != p->anon ? SM_ANON : 0) | (s->high != p->high ? SM_HIGH : 0) |
		(dbits(s->kernel_rate) != dbits(p->kernel_rate) ? SM_RATE : 0) |
		(s->source != p->source ? SM_SOURCE : 0) |
		(s->workingset_refault != p->workingset_refault ? SM_REFAULT : 0) |
		(s->inactive_file != p->inactive_file ? SM_INACTIVE : 0) |
		(dbits(s->psi_some_avg10) != dbits(p->psi_some_avg10) ? SM_PSI_SOME : 0) |
		(dbits(s->psi_full_avg10) != dbits(p->psi_full_avg10) ? SM_PSI_FULL : 0) |
		(s->swap != p->swap ? SM_SWAP : 0) |
		(s->swap_limit != p->swap_limit ? SM_SWAP_LIMIT : 0);

	put_varint(o, m);
	if (m & SM_USAGE) put_delta(o, s->usage, p->usage);
	if (m & SM_LIMIT) put_delta(o, s->limit, p->limit);
	if (m & SM_RECLAIMABLE) put_delta(o, s->reclaimable, p->reclaimable);
	if (m & SM_ANON) put_delta(o, s->anon, p->anon);
	if (m & SM_HIGH) put_delta(o, s->high, p->high);
	if (m & SM_RATE) put_double(o, s->kernel_rate);
	if (m & SM_SOURCE) put_u8(o, s->source);
	if (m & SM_REFAULT) put_delta(o, s->workingset_refault, p->workingset_refault);
	if (m & SM_INACTIVE) put_delta(o, s->inactive_file, p->inactive_file);
	if (m & SM_PSI_SOME) put_double(o, s->psi_some_avg10);
	if (m & SM_PSI_FULL) put_double(o, s->psi_full_avg10);
	if (m & SM_SWAP) put_delta(o, s->swap, p->swap);
	if (m & SM_SWAP_LIMIT) put_delta(o, s->swap_limit, p->swap_limit);
}

static void enc_task(struct rec_out *o, const struct obs_task *t)
{
	put_varint(o, t->pid);
	put_varint(o, zz((uint64_t)(int64_t)t->oom_score_adj));
	put_str(o, t->comm, sizeof(t->comm));
	put_double(o, t->rate);
	put_varint(o, zz((uint64_t)t->mapped));
	put_varint(o, t->rss);
}

static void enc_victim(struct rec_out *o, const struct obs_victim *v)
{
	put_varint(o, v->pid);
	put_varint(o, zz((uint64_t)(int64_t)v->oom_score_adj));
	put_str(o, v->comm, sizeof(v->comm));
	put_varint(o, v->task_cgroup);
	put_varint(o, v->rss);
	put_varint(o, v->usage);
}

static void enc_oom(struct rec_out *o, const struct obs_oom_state *s)
{
	put_u8(o, s->under_oom);
	put_u8(o, s->oom_kill_disable);
	put_varint(o, s->oom_kills);
	put_varint(o, s->oom_events);
	put_varint(o, s->high_events);
	put_varint(o, s->max_events);
	put_double(o, s->psi_full_avg10);
}

/* The kinds a format version has (version 0: the current one); OBS_NAMES came with 4. */
static int kind_known(unsigned kind, uint32_t version)
{
	return kind >= OBS_READY && kind <= (version && version < 4 ? OBS_END : OBS_NAMES);
}

static void enc_names(struct rec_out *o, const struct cg_kube_names *n)
{
	put_str(o, n->ns, sizeof(n->ns));
	put_str(o, n->pod, sizeof(n->pod));
	put_str(o, n->container, sizeof(n->container));
}

static void dec_names(struct rec_in *in, struct cg_kube_names *n)
{
	get_str(in, n->ns, sizeof(n->ns));
	get_str(in, n->pod, sizeof(n->pod));
	get_str(in, n->container, sizeof(n->container));
}

/* The record body (kind, time delta, cgroup, payload) of o, read-only on the codec. */
static int codec_encode(const struct rec_codec *c, const struct obs *o, struct rec_out *out)
{
	if (!kind_known(o->kind, 0))
		return -EINVAL;
	put_u8(out, o->kind);
	put_varint(out, zz(dbits(o->t) - c->t_bits));
	put_varint(out, o->cg);
	switch (o->kind) {
	case OBS_CGROUP_ADD:
		put_u8(out, o->add.version);
		put_str(out, o->add.path, sizeof(o->add.path));
		if (o->add.names.pod[0])        /* format 4, and only when known */
			enc_names(out, &o->add.names);
		break;
	case OBS_SAMPLE: enc_sample(out, &o->sample, codec_base(c, o->cg)); break;
	case OBS_TASK:
	case OBS_SCORE_ADJ: enc_task(out, &o->task); break;
	case OBS_VICTIM: enc_victim(out, &o->victim); break;
	case OBS_OOM_STATE: enc_oom(out, &o->oom); break;
	case OBS_NAMES: enc_names(out, &o->names); break;
	case OBS_RECLAIM:
		put_varint(out, o->reclaim.count);
		put_varint(out, o->reclaim.usage);
		break;
	}
	return out->bad ? -E2BIG : 0;
}

static uint64_t get_delta(struct rec_in *in, uint64_t prev)
{
	return prev + unzz(get_varint(in));
}

/* The SAMPLE fields a format version has: a bit the file's version lacks is damage (a flip
 * of the version byte from 3 to 2 must not pass). */
static uint64_t sample_fields(uint32_t version)
{
	return version == 1 ? 0x7f : version == 2 ? 0x7ff : SM_ALL;
}

static void dec_sample(struct rec_in *in, struct obs_sample *s, const struct obs_sample *p,
		       uint32_t version)
{
	uint64_t m = get_varint(in);

	if (m & ~sample_fields(version))
		in->bad = 1;
	*s = *p;
	if (m & SM_USAGE) s->usage = get_delta(in, p->usage);
	if (m & SM_LIMIT) s->limit = get_delta(in, p->limit);
	if (m & SM_RECLAIMABLE) s->reclaimable = get_delta(in, p->reclaimable);
	if (m & SM_ANON) s->anon = get_delta(in, p->anon);
	if (m & SM_HIGH) s->high = get_delta(in, p->high);
	if (m & SM_RATE) s->kernel_rate = get_double(in);
	if (m & SM_SOURCE) s->source = get_u8(in);
	if (m & SM_REFAULT) s->workingset_refault = get_delta(in, p->workingset_refault);
	if (m & SM_INACTIVE) s->inactive_file = get_delta(in, p->inactive_file);
	if (m & SM_PSI_SOME) s->psi_some_avg10 = get_double(in);
	if (m & SM_PSI_FULL) s->psi_full_avg10 = get_double(in);
	if (m & SM_SWAP) s->swap = get_delta(in, p->swap);
	if (m & SM_SWAP_LIMIT) s->swap_limit = get_delta(in, p->swap_limit);
}

static void dec_task(struct rec_in *in, struct obs_task *t)
{
	t->pid = get_u32v(in);
	t->oom_score_adj = get_i32z(in);
	get_str(in, t->comm, sizeof(t->comm));
	t->rate = get_double(in);
	t->mapped = (int64_t)unzz(get_varint(in));
	t->rss = get_varint(in);
}

static void dec_victim(struct rec_in *in, struct obs_victim *v)
{
	v->pid = get_u32v(in);
	v->oom_score_adj = get_i32z(in);
	get_str(in, v->comm, sizeof(v->comm));
	v->task_cgroup = get_varint(in);
	v->rss = get_varint(in);
	v->usage = get_varint(in);
}

static void dec_oom(struct rec_in *in, struct obs_oom_state *s)
{
	s->under_oom = get_u8(in);
	s->oom_kill_disable = get_u8(in);
	s->oom_kills = get_varint(in);
	s->oom_events = get_varint(in);
	s->high_events = get_varint(in);
	s->max_events = get_varint(in);
	s->psi_full_avg10 = get_double(in);
}

/* Inverse of codec_encode; the body must be consumed exactly. */
static int codec_decode(struct rec_codec *c, struct rec_in *in, struct obs *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = get_u8(in);
	if (!kind_known(o->kind, c->version))
		return -EINVAL;
	o->t = bitsd(c->t_bits + unzz(get_varint(in)));
	o->cg = get_varint(in);
	switch (o->kind) {
	case OBS_CGROUP_ADD:
		o->add.version = get_u8(in);
		get_str(in, o->add.path, sizeof(o->add.path));
		if ((!c->version || c->version >= 4) && in->pos < in->n)
			dec_names(in, &o->add.names);
		break;
	case OBS_SAMPLE: dec_sample(in, &o->sample, codec_base(c, o->cg), c->version); break;
	case OBS_TASK:
	case OBS_SCORE_ADJ: dec_task(in, &o->task); break;
	case OBS_VICTIM: dec_victim(in, &o->victim); break;
	case OBS_OOM_STATE: dec_oom(in, &o->oom); break;
	case OBS_NAMES: dec_names(in, &o->names); break;
	case OBS_RECLAIM:
		o->reclaim.count = get_varint(in);
		o->reclaim.usage = get_varint(in);
		break;
	}
	return in->bad || in->pos != in->n ? -EBADMSG : 0;
}

static void enc_header(struct rec_out *o, const struct rec_header *h)
{
	put_u8(o, REC_KIND_HEADER);
	put_u64le(o, dbits(h->start_time));
	put_u8(o, h->cgroup_version);
	put_str(o, h->oomcast_version, sizeof(h->oomcast_version));
	put_str(o, h->kernel, sizeof(h->kernel));
	put_str(o, h->host, sizeof(h->host));
	put_str(o, h->options, sizeof(h->options));
}

static int dec_header(struct rec_in *in, struct rec_header *h)
{
	if (get_u8(in) != REC_KIND_HEADER)
		return -EINVAL;
	h->start_time = bitsd(get_u64le(in));
	h->cgroup_version = get_u8(in);
	get_str(in, h->oomcast_version, sizeof(h->oomcast_version));
	get_str(in, h->kernel, sizeof(h->kernel));
	get_str(in, h->host, sizeof(h->host));
	get_str(in, h->options, sizeof(h->options));
	return in->bad || in->pos != in->n ? -EBADMSG : 0;
}

/* Frame a body in place: dst gets varint(len) + body + CRC32 (little endian) of both. */
static size_t frame(uint8_t *dst, const uint8_t *body, size_t len)
{
	struct rec_out o = { dst, 0, REC_MAX_FRAME, 0 };
	uLong crc;

	put_varint(&o, len);
	put_bytes(&o, body, len);
	crc = crc32(0L, dst, (uInt)o.n);
	put_u8(&o, (uint8_t)crc);
	put_u8(&o, (uint8_t)(crc >> 8));
	put_u8(&o, (uint8_t)(crc >> 16));
	put_u8(&o, (uint8_t)(crc >> 24));
	return o.n;
}

/* ---- writer ---- */

/* A watched cgroup, re-announced on rotation: its OBS_CGROUP_ADD without the 1.4 KiB union,
 * with the names it has by then (its own or an OBS_NAMES's since), if any. */
struct rec_cg {
	struct rec_cg *next;
	uint64_t cg;
	double t;
	struct cg_kube_names *names;
	/* the last OOM state said (they are said only as they change): a file after a
	 * rotation starts from it, so that a kill count's rise in it is one */
	struct obs_oom_state oom;
	int have_oom;
	uint8_t version;
	char path[];
};

struct rec_writer {
	int fd;
	int err;                /* sticky: once a write fails the file is a valid prefix, no more */
	char *path;
	struct rec_header h;
	uint64_t max_bytes;
	unsigned keep;          /* older files kept: path.1 .. path.keep */
	uint64_t file_bytes;    /* written + buffered in the current file */
	uint64_t nrecords;      /* observations in the current file, re-announcements excluded */
	struct rec_codec codec;
	struct rec_cg *cgs;
	size_t len;
	uint8_t buf[REC_BUF_CAP];
};

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int rec_flush(struct rec_writer *w)
{
	int err;

	if (w->err)
		return w->err;
	err = write_all(w->fd, w->buf, w->len);
	w->len = 0;
	if (err)
		w->err = err;
	return err;
}

/* Queue one frame; flushes first when the buffer could not take a maximal one more. */
static int append(struct rec_writer *w, const uint8_t *body, size_t len)
{
	int err;

	if (w->err)
		return w->err;
	if (w->len + REC_MAX_FRAME > sizeof(w->buf) && (err = rec_flush(w)))
		return err;
	w->len += frame(w->buf + w->len, body, len);
	return 0;
}

static int encode_append(struct rec_writer *w, const struct obs *o)
{
	uint8_t body[REC_MAX_BODY];
	struct rec_out out = { body, 0, sizeof(body), 0 };
	size_t before = w->len;
	int err;

	err = codec_encode(&w->codec, o, &out);
	if (!err)
		err = codec_commit(&w->codec, o);
	if (!err)
		err = append(w, body, out.n);
	if (!err)
		w->file_bytes += w->len - before;
	return err;
}

/* Start a file: preamble + header, pushed to the kernel at once so even a daemon killed in
 * its first second leaves a readable (empty) record. */
static int start_file(struct rec_writer *w)
{
	uint8_t body[REC_MAX_BODY];
	struct rec_out out = { body, 0, sizeof(body), 0 };
	uint8_t pre[REC_PREAMBLE];
	uint32_t v = REC_FORMAT_VERSION;
	int err;

	w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w->fd < 0)
		return -errno;
	memcpy(pre, REC_MAGIC, REC_MAGIC_LEN);
	pre[8] = (uint8_t)v, pre[9] = (uint8_t)(v >> 8), pre[10] = (uint8_t)(v >> 16);
	pre[11] = (uint8_t)(v >> 24);
	memcpy(w->buf, pre, sizeof(pre));
	w->len = sizeof(pre);
	enc_header(&out, &w->h);
	if (out.bad)
		return -E2BIG;
	w->len += frame(w->buf + w->len, body, out.n);
	w->file_bytes = w->len;
	w->nrecords = 0;
	codec_reset(&w->codec);
	err = rec_flush(w);
	return err;
}

static void cg_track(struct rec_writer *w, const struct obs *o)
{
	struct rec_cg **pp, *c;
	size_t len;

	if (o->kind != OBS_CGROUP_ADD && o->kind != OBS_CGROUP_DEL && o->kind != OBS_NAMES &&
	    o->kind != OBS_OOM_STATE)
		return;         /* samples, the most of them: no walk of every cgroup */
	for (pp = &w->cgs; (c = *pp); pp = &c->next)
		if (c->cg == o->cg)
			break;
	if (o->kind == OBS_CGROUP_DEL && c) {
		*pp = c->next;
		free(c->names);
		free(c);
	} else if (o->kind == OBS_NAMES && c) {
		if (c->names || (c->names = malloc(sizeof(*c->names))))
			*c->names = o->names;
	} else if (o->kind == OBS_OOM_STATE && c) {
		c->oom = o->oom;
		c->have_oom = 1;
	} else if (o->kind == OBS_CGROUP_ADD && !c) {
		len = strnlen(o->add.path, sizeof(o->add.path) - 1);
		c = malloc(sizeof(*c) + len + 1);
		if (!c)
			return;         /* the cgroup is then missing after a rotation, nothing worse */
		*c = (struct rec_cg){ .cg = o->cg, .t = o->t, .version = o->add.version };
		memcpy(c->path, o->add.path, len);
		c->path[len] = 0;
		if (o->add.names.pod[0] && (c->names = malloc(sizeof(*c->names))))
			*c->names = o->add.names;
		*pp = c;        /* appended: re-announced in the order first seen */
	}
}

/* A cgroup again at the start of a new file: its ADD with its own time, its OOM state as it
 * stands at the rotation (t: a replay takes a file's observations other than ADDs to say
 * when it starts). */
static int reannounce(struct rec_writer *w, const struct rec_cg *c, double t)
{
	struct obs o = { .kind = OBS_CGROUP_ADD, .t = c->t, .cg = c->cg };
	int err;

	o.add.version = c->version;
	memcpy(o.add.path, c->path, strlen(c->path) + 1);
	if (c->names)
		o.add.names = *c->names;
	if ((err = encode_append(w, &o)) || !c->have_oom)
		return err;
	o = (struct obs){ .kind = OBS_OOM_STATE, .t = t, .cg = c->cg, .oom = c->oom };
	return encode_append(w, &o);
}

/* Where a full file, or one a restarted daemon finds, is kept: path.1. */
static void older_path(char *dst, size_t len, const char *path)
{
	snprintf(dst, len, "%s.1", path);
}

/* Keep the file at path as path.1, the rotation's and the restart's way alike: with
 * keep > 1 path.(keep-1) first moves to path.keep (replacing the oldest), ... path.1 to
 * path.2. Returns whether an older path.1 was replaced (keep 1 and one there), or -errno. */
static int keep_aside(const char *path, unsigned keep)
{
	char from[CG_PATH_MAX + 8], to[CG_PATH_MAX + 8];
	struct stat st;
	int replaced;

	for (unsigned i = keep; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", path, i);
		if (rename(from, to) && errno != ENOENT)
			return -errno;
	}
	older_path(to, sizeof(to), path);
	replaced = !lstat(to, &st);
	return rename(path, to) ? -errno : replaced;
}

/* The file is full: keep it as path.1 and start anew. The new file re-announces the
 * watched cgroups itself, so each file replays on its own. READY is not repeated: replaying
 * path.1 then path gives the live events once, as the engine ignores a known cgroup's ADD. */
static int rotate(struct rec_writer *w, double t)
{
	struct rec_cg *c;
	int err;

	if ((err = rec_flush(w)))
		return err;
	close(w->fd);
	w->fd = -1;
	if ((err = keep_aside(w->path, w->keep)) < 0)
		return w->err = err;
	w->h.start_time = t;
	if ((err = start_file(w)))
		return w->err = err;
	for (c = w->cgs; c && !err; c = c->next)
		err = reannounce(w, c, t);
	return err ? (w->err = err) : 0;
}

/* Would o push the file past max_bytes? Encoded for real only near the limit. */
static int would_pass(const struct rec_writer *w, const struct obs *o)
{
	uint8_t body[REC_MAX_BODY];
	struct rec_out out = { body, 0, sizeof(body), 0 };

	if (w->file_bytes + REC_MAX_FRAME <= w->max_bytes)
		return 0;
	codec_encode(&w->codec, o, &out);
	return w->file_bytes + out.n + (out.n < 128 ? 1 : 2) + 4 > w->max_bytes;
}

int rec_write(struct rec_writer *w, const struct obs *o)
{
	int rotated = 0, err;

	if (w->err)
		return w->err;
	if (!kind_known(o->kind, 0))
		return -EINVAL;
	if (w->max_bytes && w->nrecords && would_pass(w, o)) {
		if ((err = rotate(w, o->t)))
			return err;
		rotated = 1;
	}
	if ((err = encode_append(w, o)))
		return err;
	cg_track(w, o);
	w->nrecords++;
	return rotated;
}

/* Does the record at path hold anything to replay? Announcements, ready and stop alone do
 * not: that is what a daemon that failed at start leaves, and so does a torn header (one
 * killed in its first write, a full disk): nothing in it can be replayed, and it must not
 * push the incident out of path.1. Damage after a whole header counts as content: what it
 * hides cannot be judged, so it is kept. */
static int has_content(const char *path)
{
	static struct obs o;    /* its 1.4 KiB path union stays off the stack */
	struct rec_reader *r;
	struct rec_header h;
	char err[600];
	int rc;

	if (rec_open_read(&r, path, &h, err, sizeof(err)))
		return 0;
	while ((rc = rec_next(r, &o)) == 1)
		if (o.kind != OBS_READY && o.kind != OBS_CGROUP_ADD && o.kind != OBS_CGROUP_DEL &&
		    o.kind != OBS_NAMES && o.kind != OBS_END)
			break;
	rec_close_read(r);
	return rc != 0;
}

/* A daemon restarted after a crash (systemd's Restart=on-failure) opens the same path again:
 * the record of the incident before it must survive. A new session is not appended to the
 * file (its tail may be torn, its format older), the file is kept whole as path.1, as a
 * rotation keeps a full one, so `replay path.1 path` reads both as one history. A record
 * with nothing to replay is replaced instead, so that a daemon failing at start again and
 * again does not push out the path.1 that holds the incident. A file that is not a record
 * is someone else's: refused, never overwritten. Returns 0 (create path), 1 (moved aside,
 * err says so) or -errno (err says why). */
static int keep_existing(const char *path, unsigned keep, char *err, size_t errlen)
{
	char head[REC_MAGIC_LEN], old[CG_PATH_MAX + 8];
	struct stat st;
	ssize_t got;
	int fd, rc, had_old;

	/* a missing file, a directory, /dev/null: creating it says what there is to say */
	if (stat(path, &st) || !S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	got = fd < 0 ? -1 : read(fd, head, sizeof(head));
	rc = got < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (rc) {
		snprintf(err, errlen, "cannot read the existing record %s to keep it: %s", path,
			 strerror(-rc));
		return rc;
	}
	/* a prefix of the magic is a daemon killed in its first write: still a record */
	if (memcmp(head, REC_MAGIC, got)) {
		snprintf(err, errlen, "%s exists and is not an oomcast record: not overwriting it "
			 "(move it away or record to another file)", path);
		return -EEXIST;
	}
	if (!has_content(path))
		return 0;
	older_path(old, sizeof(old), path);
	had_old = keep_aside(path, keep);
	if (had_old < 0) {
		snprintf(err, errlen, "cannot move the existing record %s to %s: %s", path, old,
			 strerror(-had_old));
		return had_old;
	}
	if (keep > 1)
		snprintf(err, errlen, "%s existed: moved it to %s (older records kept up to %s.%u), "
			 "so that `oomcast replay %s*` replays them all", path, old, path, keep, path);
	else
		snprintf(err, errlen, "%s existed: moved it to %s%s, so that `oomcast replay %s %s` "
			 "replays both", path, old, had_old ? " (replacing the older one)" : "", old,
			 path);
	return 1;
}

int rec_open_write(struct rec_writer **wp, const char *path, const struct rec_header *h,
		   uint64_t max_bytes, unsigned keep, char *err, size_t errlen)
{
	struct rec_writer *w = calloc(1, sizeof(*w));
	int rc = -ENOMEM, kept;

	*wp = NULL;
	if (!w || !(w->path = strdup(path)))
		goto fail;
	w->fd = -1;
	w->h = *h;
	w->h.format_version = REC_FORMAT_VERSION;
	w->max_bytes = max_bytes;
	w->keep = keep ? keep : 1;
	kept = keep_existing(path, w->keep, err, errlen);
	if (kept < 0) {
		rc = kept;
		goto fail_said;
	}
	rc = start_file(w);
	if (rc)
		goto fail;
	*wp = w;
	return kept;
fail:
	snprintf(err, errlen, "cannot write the record %s: %s", path, strerror(-rc));
fail_said:
	if (w) {
		if (w->fd >= 0)
			close(w->fd);
		free(w->path);
		free(w);
	}
	return rc;
}

void rec_close_write(struct rec_writer *w)
{
	struct rec_cg *c, *n;

	if (!w)
		return;
	if (w->fd >= 0) {
		rec_flush(w);
		fsync(w->fd);   /* a clean stop survives a power cut too */
		close(w->fd);
	}
	for (c = w->cgs; c; c = n) {
		n = c->next;
		free(c->names);
		free(c);
	}
	codec_reset(&w->codec);
	free(w->path);
	free(w);
}

/* ---- reader ---- */

enum rec_status { RS_OK = 0, RS_END, RS_TORN, RS_CORRUPT };

struct rec_reader {
	FILE *f;
	char *path;
	uint64_t off;           /* of the next record; of the damaged one after an error */
	enum rec_status status;
	struct rec_codec codec;
	char err[512];
	uint8_t frame[REC_MAX_FRAME];
};

static int rd_fail(struct rec_reader *r, enum rec_status st, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof(r->err), "%s: ", r->path);
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
	va_end(ap);
	r->status = st;
	return -1;
}

/* After power loss a file system may leave the unwritten tail as zeros: that is a torn
 * tail too, not corruption. */
static int rest_is_zero(FILE *f)
{
	int c;

	while ((c = getc(f)) == 0)
		;
	return c == EOF;
}

/* Read one frame at r->off into r->frame; returns the body length, 0 at a clean end, -1
 * on damage (r->err set). */
static long read_frame(struct rec_reader *r)
{
	uint64_t len = 0;
	size_t got, nlen = 0;
	int c;
	uint32_t crc, want;

	for (;;) {
		if ((c = getc(r->f)) == EOF) {
			if (!nlen)
				return 0;
			return rd_fail(r, RS_TORN, "truncated record at byte offset %llu: the file "
				       "ends inside its length field", (unsigned long long)r->off);
		}
		r->frame[nlen] = (uint8_t)c;
		len |= (uint64_t)(c & 0x7f) << (7 * nlen++);
		if (!(c & 0x80) || nlen == 2)
			break;
	}
	if ((c & 0x80) || len == 0 || len > REC_MAX_BODY) {
		if (len == 0 && nlen == 1 && rest_is_zero(r->f))
			return rd_fail(r, RS_TORN, "torn tail at byte offset %llu: the rest of the "
				       "file is zeros", (unsigned long long)r->off);
		return rd_fail(r, RS_CORRUPT, "corrupt record at byte offset %llu: bad length "
			       "field", (unsigned long long)r->off);
	}
	got = fread(r->frame + nlen, 1, len + 4, r->f);
	if (got < len + 4)
		return rd_fail(r, RS_TORN, "truncated record at byte offset %llu: the file ends "
			       "%zu bytes into a record of %llu bytes", (unsigned long long)r->off,
			       nlen + got, (unsigned long long)(nlen + len + 4));
	crc = (uint32_t)crc32(0L, r->frame, (uInt)(nlen + len));
	memcpy(&want, r->frame + nlen + len, 4);
	want = le32toh(want);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	want = crc;     /* let mutated records reach the decoder */
#endif
	if (crc != want)
		return rd_fail(r, RS_CORRUPT, "corrupt record at byte offset %llu: CRC mismatch "
			       "(%llu-byte record)", (unsigned long long)r->off,
			       (unsigned long long)(nlen + len + 4));
	memmove(r->frame, r->frame + nlen, len);
	r->off += nlen + len + 4;
	return (long)len;
}

int rec_next(struct rec_reader *r, struct obs *o)
{
	struct rec_in in;
	uint64_t at = r->off;
	long len;

	if (r->status != RS_OK)
		return r->status == RS_END ? 0 : -1;
	len = read_frame(r);
	if (len == 0)
		r->status = RS_END;
	if (len <= 0)
		return (int)len;
	in = (struct rec_in){ r->frame, (size_t)len, 0, 0 };
	if (codec_decode(&r->codec, &in, o) || codec_commit(&r->codec, o)) {
		r->off = at;
		return rd_fail(r, RS_CORRUPT, "malformed record at byte offset %llu (kind %u, %ld "
			       "bytes)", (unsigned long long)at, r->frame[0], len);
	}
	return 1;
}

static int read_preamble(struct rec_reader *r, struct rec_header *h)
{
	uint8_t pre[REC_PREAMBLE];
	size_t got = fread(pre, 1, sizeof(pre), r->f);
	uint32_t v;

	if (got == 0)
		return rd_fail(r, RS_CORRUPT, "the file is empty (0 bytes): not a record");
	if (memcmp(pre, REC_MAGIC, got < REC_MAGIC_LEN ? got : REC_MAGIC_LEN))
		return rd_fail(r, RS_CORRUPT, "not an oomcast record: bad magic at byte offset 0");
	if (got < sizeof(pre))
		return rd_fail(r, RS_TORN, "truncated at byte offset %zu: the file ends inside "
			       "its %d-byte preamble", got, REC_PREAMBLE);
	v = pre[8] | pre[9] << 8 | pre[10] << 16 | (uint32_t)pre[11] << 24;
	h->format_version = v;
	if (v > REC_FORMAT_VERSION)
		return rd_fail(r, RS_CORRUPT, "format version %u at byte offset 8 is newer than "
			       "this oomcast reads (%d): replay it with a newer oomcast", v,
			       REC_FORMAT_VERSION);
	if (v == 0)
		return rd_fail(r, RS_CORRUPT, "bad format version 0 at byte offset 8");
	r->codec.version = v;
	r->off = REC_PREAMBLE;
	return 0;
}

static int read_header(struct rec_reader *r, struct rec_header *h)
{
	uint64_t at = r->off;
	struct rec_in in;
	long len = read_frame(r);

	if (len == 0)
		return rd_fail(r, RS_TORN, "truncated at byte offset %llu: no header record",
			       (unsigned long long)at);
	if (len < 0)
		return -1;
	in = (struct rec_in){ r->frame, (size_t)len, 0, 0 };
	if (dec_header(&in, h)) {
		r->off = at;
		return rd_fail(r, RS_CORRUPT, "malformed header record at byte offset %llu",
			       (unsigned long long)at);
	}
	return 0;
}

int rec_open_read(struct rec_reader **rp, const char *path, struct rec_header *h,
		  char *err, size_t errlen)
{
	struct rec_reader *r = calloc(1, sizeof(*r));
	struct stat st;
	int rc = -ENOMEM;

	*rp = NULL;
	memset(h, 0, sizeof(*h));
	if (!r || !(r->path = strdup(path))) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	r->f = fopen(path, "rb");
	if (!r->f) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the record %s: %s", path, strerror(errno));
		goto fail;
	}
	/* fopen takes a directory; its reads fail, which would look like an empty file */
	if (!fstat(fileno(r->f), &st) && S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		snprintf(err, errlen, "cannot open the record %s: it is a directory, not a file",
			 path);
		goto fail;
	}
	rc = -EBADMSG;
	if (read_preamble(r, h) || read_header(r, h)) {
		snprintf(err, errlen, "%s", r->err);
		goto fail;
	}
	*rp = r;
	return 0;
fail:
	rec_close_read(r);
	return rc;
}

const char *rec_error(const struct rec_reader *r)
{
	return r->status == RS_TORN || r->status == RS_CORRUPT ? r->err : "";
}

uint64_t rec_offset(const struct rec_reader *r)
{
	return r->off;
}

int rec_torn(const struct rec_reader *r)
{
	return r->status == RS_TORN;
}

void rec_close_read(struct rec_reader *r)
{
	if (!r)
		return;
	if (r->f)
		fclose(r->f);
	codec_reset(&r->codec);
	free(r->path);
	free(r);
}
