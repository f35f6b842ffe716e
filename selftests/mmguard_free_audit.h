/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mmguard free-page audit from a selftest: debugfs mmguard/free_pages
 * (the KUnit hook's audit: each zone's free lists against NR_FREE_PAGES,
 * NR_FREE_CMA_PAGES, nr_free_highatomic and nr_reserved_highatomic, under
 * zone->lock) summed over the zones. Include after kselftest.h and
 * mmguard_util.h.
 */
#ifndef MMGUARD_FREE_AUDIT_H
#define MMGUARD_FREE_AUDIT_H

#define MMG_AUDIT_FILE	"/sys/kernel/debug/mmguard/free_pages"

struct mmg_audit {
	long drift;		/* sum of |drift| over counters and zones */
	long misplaced;		/* misplaced free blocks over all zones */
	int zones;
};

/* "key=E/A/D": |D| (a "-" drift is not compared). */
static inline long mmg_counter_drift(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	unsigned long expected, actual;
	long drift;

	if (!p || sscanf(p + strlen(key), "%lu/%lu/%ld", &expected, &actual,
			 &drift) != 3)
		return 0;
	return labs(drift);
}

/* Runs the audit, its lines printed as diagnostics under @label: 0, or -1. */
static inline int mmg_audit(const char *label, struct mmg_audit *a)
{
	static char buf[8192];
	char *line, *save;

	memset(a, 0, sizeof(*a));
	if (mmg_read_file(MMG_AUDIT_FILE, buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *m;

		ksft_print_msg("%s: %s\n", label, line);
		if (strncmp(line, "node ", 5))
			continue;
		a->zones++;
		a->drift += mmg_counter_drift(line, " free=");
		a->drift += mmg_counter_drift(line, " cma=");
		a->drift += mmg_counter_drift(line, " highatomic=");
		a->drift += mmg_counter_drift(line, " reserved=");
		m = strstr(line, " misplaced=");
		if (m)
			a->misplaced += strtol(m + 11, NULL, 10);
	}
	return a->zones ? 0 : -1;
}

/* One TAP result: the audit under @label reads, with no drift and nothing misplaced. */
static inline void mmg_report_audit(const char *label)
{
	struct mmg_audit a;

	if (mmg_audit(label, &a)) {
		ksft_test_result_fail("%s: audit unreadable\n", label);
		return;
	}
	ksft_test_result(a.drift == 0 && a.misplaced == 0,
			 "%s: free-page drift %ld pages, %ld misplaced free blocks in %d zones\n",
			 label, a.drift, a.misplaced, a.zones);
}

#endif
