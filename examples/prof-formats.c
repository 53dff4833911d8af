/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dbg-prof's formats: folded stacks, a flame graph SVG of our own,
 * speedscope JSON, and pprof's profile.proto (protobuf-c, gzip by zlib).
 * A stack's frames are its locations root first; a location with inlined
 * functions is several frames, the function holding the code first.
 */
#define _GNU_SOURCE
#include "prof-formats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_PPROF
#include <zlib.h>
#include "prof-profile.pb-c.h"
#endif

/* ---- frames of a stack, root first ------------------------------------ */

struct fr {
	const char *name;
	const char *file;
	int line;
};

/* Fill @out (cap @cap) with the frames of @s, root first. */
static size_t frames_of(const struct dbg_prof *p, const struct dbg_prof_stack *s, struct fr *out,
			size_t cap)
{
	size_t n = 0;
	if (s->nlocs == 0) {
		out[n++] = (struct fr){ "[unknown]", NULL, 0 };
		return n;
	}
	for (size_t i = s->nlocs; i-- > 0 && n < cap;) {
		const struct dbg_prof_loc *l = dbg_prof_loc_at(p, s->locs[i]);
		for (size_t j = l->nlines; j-- > 0 && n < cap;)
			out[n++] = (struct fr){ l->lines[j].function, l->lines[j].file, l->lines[j].line };
	}
	return n;
}

#define MAXFR 8192

static const struct dbg_prof_thread *thread_of(const struct dbg_prof *p, pid_t tid)
{
	const struct dbg_prof_thread *best = NULL;
	for (size_t i = 0; i < dbg_prof_nthreads(p); i++) {
		const struct dbg_prof_thread *t = dbg_prof_thread_at(p, i);
		if (t->tid == tid && t->samples)
			best = t;
	}
	return best;
}

static void thread_label(const struct dbg_prof *p, pid_t tid, char *buf, size_t cap)
{
	const struct dbg_prof_thread *t = thread_of(p, tid);
	snprintf(buf, cap, "%s-%d", t && t->comm[0] ? t->comm : "thread", (int)tid);
}

/* Folded names may hold neither the separator nor a line break. */
static void put_folded_name(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' ? ':' : *s == '\n' ? ' ' : *s, f);
}

struct fline {
	char *text;
	uint64_t count;
};

static int fline_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fline *)a)->text, ((const struct fline *)b)->text);
}

/* Stacks that differ only in addresses (two call sites in one function)
 * have the same names: one line each, counts summed, sorted. */
int prof_write_folded(FILE *f, const struct prof_out *o)
{
	struct fr *fr = malloc(MAXFR * sizeof(*fr));
	bool per = o->per_thread;
	size_t n = dbg_prof_nstacks(o->prof, !per);
	struct fline *lines = calloc(n ? n : 1, sizeof(*lines));
	int err = 0;
	if (!fr || !lines) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dbg_prof_stack *s = dbg_prof_stack_at(o->prof, !per, i);
		size_t k = frames_of(o->prof, s, fr, MAXFR);
		size_t len;
		FILE *m = open_memstream(&lines[i].text, &len);
		if (!m) {
			err = -ENOMEM;
			goto out;
		}
		if (per) {
			char lab[64];
			thread_label(o->prof, s->tid, lab, sizeof(lab));
			put_folded_name(m, lab);
			fputc(';', m);
		}
		for (size_t j = 0; j < k; j++) {
			if (j)
				fputc(';', m);
			put_folded_name(m, fr[j].name);
		}
		if (fclose(m) != 0) {
			err = -ENOMEM;
			goto out;
		}
		lines[i].count = s->count;
	}
	qsort(lines, n, sizeof(*lines), fline_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t c = 0;
		for (; j < n && strcmp(lines[j].text, lines[i].text) == 0; j++)
			c += lines[j].count;
		fprintf(f, "%s %" PRIu64 "\n", lines[i].text, c);
		i = j;
	}
	if (ferror(f))
		err = -EIO;
out:
	if (lines)
		for (size_t i = 0; i < n; i++)
			free(lines[i].text);
	free(lines);
	free(fr);
	return err;
}

/* ---- the frame tree (SVG) ------------------------------------------------ */

struct node {
	const char *name;
	uint64_t count;
	struct node *child, *next;
};

static struct node *node_child(struct node *n, const char *name)
{
	for (struct node *c = n->child; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	struct node *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->name = name;
	/* Keep children in name order, as flame graphs are drawn. */
	struct node **pp = &n->child;
	while (*pp && strcmp((*pp)->name, name) < 0)
		pp = &(*pp)->next;
	c->next = *pp;
	*pp = c;
	return c;
}

static void node_free(struct node *n)
{
	while (n) {
		struct node *nx = n->next;
		node_free(n->child);
		free(n);
		n = nx;
	}
}

static int node_depth(const struct node *n)
{
	int d = 0;
	for (const struct node *c = n->child; c; c = c->next) {
		int cd = node_depth(c);
		if (cd > d)
			d = cd;
	}
	return d + 1;
}

static void xml_esc(FILE *f, const char *s, size_t max)
{
	for (size_t i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (c < 0x20)
				fputc(' ', f);
			else
				fputc(c, f);
		}
	}
}

#define SVG_W 1200.0
#define SVG_PAD 10.0
#define FRAME_H 16
#define CHAR_W 6.6

struct svg {
	FILE *f;
	uint64_t total;
	int height;
};

static unsigned hash_str(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void svg_node(struct svg *g, const struct node *n, double x, int depth)
{
	double w = (SVG_W - 2 * SVG_PAD) * (double)n->count / (double)g->total;
	if (w < 0.1)
		return;
	double y = g->height - (depth + 1) * FRAME_H - 30;
	unsigned h = hash_str(n->name);
	/* A warm palette, stable per name. */
	int r = 200 + (int)(h % 55), gr = 80 + (int)((h >> 8) % 120), b = 30 + (int)((h >> 16) % 40);
	double pct = 100.0 * (double)n->count / (double)g->total;
	fputs("<g class=\"f\"><title>", g->f);
	xml_esc(g->f, n->name, 4096);
	fprintf(g->f, " (%" PRIu64 " samples, %.2f%%)</title>", n->count, pct);
	fprintf(g->f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" rx=\"2\" "
		"fill=\"rgb(%d,%d,%d)\"/>", x, y, w, FRAME_H - 1, r, gr, b);
	size_t fit = w > 2 * CHAR_W ? (size_t)((w - 6) / CHAR_W) : 0;
	if (fit >= 3) {
		fprintf(g->f, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + FRAME_H - 4.5);
		size_t len = strlen(n->name);
		if (len <= fit) {
			xml_esc(g->f, n->name, len);
		} else {
			xml_esc(g->f, n->name, fit - 2);
			fputs("..", g->f);
		}
		fputs("</text>", g->f);
	}
	fputs("</g>\n", g->f);
	double cx = x;
	for (const struct node *c = n->child; c; c = c->next) {
		svg_node(g, c, cx, depth + 1);
		cx += (SVG_W - 2 * SVG_PAD) * (double)c->count / (double)g->total;
	}
}

int prof_write_svg(FILE *f, const struct prof_out *o)
{
	struct fr *fr = malloc(MAXFR * sizeof(*fr));
	struct node root = { .name = "all" };
	char (*labels)[64] = NULL;
	bool per = o->per_thread;
	size_t n = dbg_prof_nstacks(o->prof, !per);
	if (!fr)
		return -ENOMEM;
	if (per && !(labels = calloc(n ? n : 1, sizeof(*labels)))) {
		free(fr);
		return -ENOMEM;
	}
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		const struct dbg_prof_stack *s = dbg_prof_stack_at(o->prof, !per, i);
		size_t k = frames_of(o->prof, s, fr, MAXFR);
		struct node *cur = &root;
		root.count += s->count;
		if (per) {
			thread_label(o->prof, s->tid, labels[i], sizeof(labels[i]));
			cur = node_child(cur, labels[i]);
			if (!cur) {
				err = -ENOMEM;
				break;
			}
			cur->count += s->count;
		}
		for (size_t j = 0; j < k; j++) {
			cur = node_child(cur, fr[j].name);
			if (!cur) {
				err = -ENOMEM;
				break;
			}
			cur->count += s->count;
		}
	}
	if (!err) {
		struct svg g = { f, root.count ? root.count : 1, 0 };
		int depth = node_depth(&root);
		g.height = depth * FRAME_H + 70;
		fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
			"height=\"%d\" viewBox=\"0 0 %d %d\">\n", (int)SVG_W, g.height, (int)SVG_W,
			g.height);
		fputs("<style>text{font-family:monospace;font-size:11px;fill:#000}"
		      ".f:hover rect{stroke:#000;stroke-width:0.7}"
		      "#title{font-size:16px;font-family:sans-serif}</style>\n", f);
		fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fdf6e3\"/>\n",
			(int)SVG_W, g.height);
		fprintf(f, "<text id=\"title\" x=\"%d\" y=\"22\" text-anchor=\"middle\">", (int)SVG_W / 2);
		xml_esc(f, o->title ? o->title : "dbg-prof", 512);
		fprintf(f, " - %" PRIu64 " samples</text>\n", root.count);
		if (root.count)
			svg_node(&g, &root, SVG_PAD, 0);
		else
			fputs("<text x=\"20\" y=\"50\">no samples</text>\n", f);
		fputs("</svg>\n", f);
	}
	node_free(root.child);
	free(labels);
	free(fr);
	return err ? err : ferror(f) ? -EIO : 0;
}

/* ---- speedscope ------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

struct sframe {
	const char *name, *file;
	int line;
};

static long sframe_id(struct sframe **v, size_t *n, size_t *cap, const struct fr *x)
{
	/* Frames by name and file: a linear search is fine for the few
	 * thousand functions of a profile. */
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].name, x->name) == 0 &&
		    ((*v)[i].file == x->file || ((*v)[i].file && x->file && !strcmp((*v)[i].file, x->file))))
			return (long)i;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct sframe *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[*n] = (struct sframe){ x->name, x->file, x->line };
	return (long)(*n)++;
}

int prof_write_speedscope(FILE *f, const struct prof_out *o)
{
	const struct dbg_prof *p = o->prof;
	struct fr *fr = malloc(MAXFR * sizeof(*fr));
	size_t ns = dbg_prof_nstacks(p, false);
	struct sframe *sf = NULL;
	size_t nsf = 0, capsf = 0;
	if (!fr)
		return -ENOMEM;
	/* Intern every frame first: "shared" comes before "profiles". */
	for (size_t i = 0; i < ns; i++) {
		size_t k = frames_of(p, dbg_prof_stack_at(p, false, i), fr, MAXFR);
		for (size_t j = 0; j < k; j++)
			if (sframe_id(&sf, &nsf, &capsf, &fr[j]) < 0)
				goto nomem;
	}
	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",", f);
	fputs("\"exporter\":\"dbg-prof\",\"name\":", f);
	json_str(f, o->title ? o->title : "dbg-prof");
	fputs(",\"activeProfileIndex\":0,\"shared\":{\"frames\":[", f);
	for (size_t i = 0; i < nsf; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", f);
		json_str(f, sf[i].name);
		if (sf[i].file) {
			fputs(",\"file\":", f);
			json_str(f, sf[i].file);
			if (sf[i].line > 0)
				fprintf(f, ",\"line\":%d", sf[i].line);
		}
		fputc('}', f);
	}
	fputs("]},\"profiles\":[", f);
	/* One sampled profile per thread, weights in samples. */
	size_t nt = dbg_prof_nthreads(p);
	bool first_prof = true;
	for (size_t t = 0; t < nt; t++) {
		const struct dbg_prof_thread *th = dbg_prof_thread_at(p, t);
		if (!th->samples || thread_of(p, th->tid) != th)
			continue;
		char lab[64];
		thread_label(p, th->tid, lab, sizeof(lab));
		fputs(first_prof ? "{\"type\":\"sampled\",\"name\":" : ",{\"type\":\"sampled\",\"name\":", f);
		first_prof = false;
		json_str(f, lab);
		uint64_t total = 0;
		for (size_t i = 0; i < ns; i++) {
			const struct dbg_prof_stack *s = dbg_prof_stack_at(p, false, i);
			if (s->tid == th->tid)
				total += s->count;
		}
		fprintf(f, ",\"unit\":\"none\",\"startValue\":0,\"endValue\":%" PRIu64 ",\"samples\":[",
			total);
		bool first = true;
		for (size_t i = 0; i < ns; i++) {
			const struct dbg_prof_stack *s = dbg_prof_stack_at(p, false, i);
			if (s->tid != th->tid)
				continue;
			size_t k = frames_of(p, s, fr, MAXFR);
			fputs(first ? "[" : ",[", f);
			first = false;
			for (size_t j = 0; j < k; j++)
				fprintf(f, j ? ",%ld" : "%ld", sframe_id(&sf, &nsf, &capsf, &fr[j]));
			fputc(']', f);
		}
		fputs("],\"weights\":[", f);
		first = true;
		for (size_t i = 0; i < ns; i++) {
			const struct dbg_prof_stack *s = dbg_prof_stack_at(p, false, i);
			if (s->tid != th->tid)
				continue;
			fprintf(f, first ? "%" PRIu64 : ",%" PRIu64, s->count);
			first = false;
		}
		fputs("]}", f);
	}
	fputs("]}\n", f);
	free(sf);
	free(fr);
	return ferror(f) ? -EIO : 0;
nomem:
	free(sf);
	free(fr);
	return -ENOMEM;
}

/* ---- pprof ----------------------------------------------------------------- */

#ifdef HAVE_PPROF

struct strtab {
	char **v;
	size_t n, cap;
};

static int64_t str_id(struct strtab *t, const char *s)
{
	if (!s)
		s = "";
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i], s) == 0)
			return (int64_t)i;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;
		char **nv = realloc(t->v, nc * sizeof(*nv));
		if (!nv)
			return 0;
		t->v = nv;
		t->cap = nc;
	}
	t->v[t->n] = (char *)s;
	return (int64_t)t->n++;
}

struct fnkey {
	int64_t name, file;
};

int prof_write_pprof(const char *path, const struct prof_out *o)
{
	const struct dbg_prof *p = o->prof;
	int err = -ENOMEM;
	struct strtab st = { 0 };
	str_id(&st, "");
	Perftools__Profiles__Profile pr = PERFTOOLS__PROFILES__PROFILE__INIT;

	/* Values: samples (count) and time (ns, count x period). */
	Perftools__Profiles__ValueType vt[2], period_type;
	for (int i = 0; i < 2; i++)
		perftools__profiles__value_type__init(&vt[i]);
	perftools__profiles__value_type__init(&period_type);
	vt[0].type = str_id(&st, "samples");
	vt[0].unit = str_id(&st, "count");
	vt[1].type = str_id(&st, o->wall ? "wall" : "cpu");
	vt[1].unit = str_id(&st, "nanoseconds");
	period_type = vt[1];
	Perftools__Profiles__ValueType *vtp[2] = { &vt[0], &vt[1] };
	pr.sample_type = vtp;
	pr.n_sample_type = 2;
	pr.period_type = &period_type;
	int64_t period = o->hz ? 1000000000ll / o->hz : 0;
	pr.period = period;
	pr.duration_nanos = (int64_t)o->duration_ns;
	pr.time_nanos = (int64_t)o->start_unix_ns;

	size_t nm = dbg_prof_nmappings(p), nl = dbg_prof_nlocs(p), ns = dbg_prof_nstacks(p, false);
	Perftools__Profiles__Mapping *maps = calloc(nm ? nm : 1, sizeof(*maps));
	Perftools__Profiles__Mapping **mapp = calloc(nm ? nm : 1, sizeof(*mapp));
	char (*bid)[129] = calloc(nm ? nm : 1, sizeof(*bid));
	Perftools__Profiles__Location *locs = calloc(nl ? nl : 1, sizeof(*locs));
	Perftools__Profiles__Location **locp = calloc(nl ? nl : 1, sizeof(*locp));
	size_t nlines_all = 0;
	for (size_t i = 0; i < nl; i++)
		nlines_all += dbg_prof_loc_at(p, i)->nlines;
	Perftools__Profiles__Line *lines = calloc(nlines_all ? nlines_all : 1, sizeof(*lines));
	Perftools__Profiles__Line **linep = calloc(nlines_all ? nlines_all : 1, sizeof(*linep));
	Perftools__Profiles__Function *fns = calloc(nlines_all ? nlines_all : 1, sizeof(*fns));
	Perftools__Profiles__Function **fnp = calloc(nlines_all ? nlines_all : 1, sizeof(*fnp));
	struct fnkey *fnk = calloc(nlines_all ? nlines_all : 1, sizeof(*fnk));
	Perftools__Profiles__Sample *samples = calloc(ns ? ns : 1, sizeof(*samples));
	Perftools__Profiles__Sample **samplep = calloc(ns ? ns : 1, sizeof(*samplep));
	Perftools__Profiles__Label *labels = calloc(ns ? ns : 1, sizeof(*labels));
	Perftools__Profiles__Label **labelp = calloc(ns ? ns : 1, sizeof(*labelp));
	int64_t *vals = calloc(ns ? ns * 2 : 1, sizeof(*vals));
	uint64_t **sids = calloc(ns ? ns : 1, sizeof(*sids));
	uint8_t *buf = NULL;
	size_t *mid = NULL;
	size_t nfn = 0;
	if (!maps || !mapp || !bid || !locs || !locp || !lines || !linep || !fns || !fnp || !fnk ||
	    !samples || !samplep || !labels || !labelp || !vals || !sids)
		goto out;

	/* pprof takes the first mapping for the main binary: ids in that
	 * order, the executable first. */
	mid = calloc(nm ? nm : 1, sizeof(*mid));
	if (!mid)
		goto out;
	size_t next_id = 1;
	for (size_t i = 0; i < nm; i++)
		if (dbg_prof_mapping_at(p, i)->is_main)
			mid[i] = next_id++;
	for (size_t i = 0; i < nm; i++)
		if (!mid[i])
			mid[i] = next_id++;
	for (size_t i = 0; i < nm; i++) {
		const struct dbg_prof_mapping *m = dbg_prof_mapping_at(p, i);
		size_t slot = mid[i] - 1;
		perftools__profiles__mapping__init(&maps[slot]);
		maps[slot].id = mid[i];
		maps[slot].memory_start = m->start;
		maps[slot].memory_limit = m->end;
		maps[slot].file_offset = m->file_offset;
		maps[slot].filename = str_id(&st, m->path);
		for (size_t b = 0; b < m->build_id_len && b < 64; b++)
			sprintf(bid[i] + 2 * b, "%02x", m->build_id[b]);
		maps[slot].build_id = str_id(&st, bid[i]);
		maps[slot].has_functions = maps[slot].has_filenames = maps[slot].has_line_numbers =
			maps[slot].has_inline_frames = 1;
		mapp[slot] = &maps[slot];
	}
	size_t li = 0;
	for (size_t i = 0; i < nl; i++) {
		const struct dbg_prof_loc *l = dbg_prof_loc_at(p, i);
		perftools__profiles__location__init(&locs[i]);
		locs[i].id = i + 1;
		locs[i].mapping_id = l->mapping >= 0 ? mid[l->mapping] : 0;
		locs[i].address = l->addr;
		locs[i].line = &linep[li];
		locs[i].n_line = l->nlines;
		for (size_t j = 0; j < l->nlines; j++, li++) {
			const struct dbg_prof_line *ln = &l->lines[j];
			struct fnkey k = { str_id(&st, ln->function), str_id(&st, ln->file) };
			size_t f;
			for (f = 0; f < nfn; f++)
				if (fnk[f].name == k.name && fnk[f].file == k.file)
					break;
			if (f == nfn) {
				fnk[nfn] = k;
				perftools__profiles__function__init(&fns[nfn]);
				fns[nfn].id = nfn + 1;
				fns[nfn].name = fns[nfn].system_name = k.name;
				fns[nfn].filename = k.file;
				fnp[nfn] = &fns[nfn];
				nfn++;
			}
			perftools__profiles__line__init(&lines[li]);
			lines[li].function_id = f + 1;
			lines[li].line = ln->line;
			linep[li] = &lines[li];
		}
		locp[i] = &locs[i];
	}
	int64_t key_tid = str_id(&st, "thread");
	for (size_t i = 0; i < ns; i++) {
		const struct dbg_prof_stack *s = dbg_prof_stack_at(p, false, i);
		perftools__profiles__sample__init(&samples[i]);
		sids[i] = calloc(s->nlocs ? s->nlocs : 1, sizeof(uint64_t));
		if (!sids[i])
			goto out;
		for (size_t j = 0; j < s->nlocs; j++)
			sids[i][j] = (uint64_t)s->locs[j] + 1;
		samples[i].location_id = sids[i];
		samples[i].n_location_id = s->nlocs;
		vals[2 * i] = (int64_t)s->count;
		vals[2 * i + 1] = (int64_t)s->count * period;
		samples[i].value = &vals[2 * i];
		samples[i].n_value = 2;
		perftools__profiles__label__init(&labels[i]);
		labels[i].key = key_tid;
		labels[i].num = s->tid;
		labelp[i] = &labels[i];
		samples[i].label = &labelp[i];
		samples[i].n_label = 1;
		samplep[i] = &samples[i];
	}
	pr.mapping = mapp;
	pr.n_mapping = nm;
	pr.location = locp;
	pr.n_location = nl;
	pr.function = fnp;
	pr.n_function = nfn;
	pr.sample = samplep;
	pr.n_sample = ns;
	pr.string_table = st.v;
	pr.n_string_table = st.n;

	size_t len = perftools__profiles__profile__get_packed_size(&pr);
	buf = malloc(len ? len : 1);
	if (!buf)
		goto out;
	perftools__profiles__profile__pack(&pr, buf);
	gzFile gz = gzopen(path, "wb9");
	if (!gz) {
		err = -errno ? -errno : -EIO;
		goto out;
	}
	err = (size_t)gzwrite(gz, buf, (unsigned)len) == len ? 0 : -EIO;
	if (gzclose(gz) != Z_OK && !err)
		err = -EIO;
out:
	free(mid);
	if (sids)
		for (size_t i = 0; i < ns; i++)
			free(sids[i]);
	free(sids);
	free(buf);
	free(maps);
	free(mapp);
	free(bid);
	free(locs);
	free(locp);
	free(lines);
	free(linep);
	free(fns);
	free(fnp);
	free(fnk);
	free(samples);
	free(samplep);
	free(labels);
	free(labelp);
	free(vals);
	free(st.v);
	return err;
}

#else

int prof_write_pprof(const char *path, const struct prof_out *o)
{
	(void)path;
	(void)o;
	return -ENOTSUP;
}

#endif
