/* A program built against an installed libdbg. */
#include <dbg.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

int main(void)
{
	static const char maps[] = "1000-2000 r-xp 0 0:0 0 /bin/x\n";
	struct dbg_maps *m;
	if (dbg_maps_parse(maps, strlen(maps), &m) < 0 || dbg_maps_count(m) != 1)
		return 1;
	dbg_maps_free(m);
	printf("libdbg %u: %s\n", dbg_version(), dbg_strerror(-ESRCH));
	return dbg_version() == DBG_VERSION_MAJOR * 10000 + DBG_VERSION_MINOR * 100 +
	       DBG_VERSION_PATCH ? 0 : 1;
}
