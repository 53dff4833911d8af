/* libFuzzer target: the maps parser must never crash, hang or leak, and a
 * table it accepts must be sorted, disjoint and searchable. */
#include <dbg.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct dbg_maps *m;
	if (dbg_maps_parse((const char *)data, size, &m) < 0)
		return 0;
	for (size_t i = 0; i < dbg_maps_count(m); i++) {
		const struct dbg_vma *v = dbg_maps_get(m, i);
		if (v->start >= v->end || !v->name)
			abort();
		if (i && v->start < dbg_maps_get(m, i - 1)->end)
			abort();
		if (dbg_maps_find(m, v->start) != v || dbg_maps_find(m, v->end - 1) != v)
			abort();
	}
	dbg_maps_free(m);
	return 0;
}
