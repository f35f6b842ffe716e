/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers the mmguard guest selftests share: sysfs/procfs files and
 * a monotonic clock.
 */
#ifndef MMGUARD_UTIL_H
#define MMGUARD_UTIL_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Seconds on CLOCK_MONOTONIC. */
static inline double mmg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes @val to @path in one write(): 0, or -errno. */
static inline int mmg_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* Reads up to @size - 1 bytes of @path, NUL-terminated: the length, or -errno. */
static inline int mmg_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while (got < (ssize_t)size - 1 &&
	       (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(fd);
	return got;
}

/* A number in @path (decimal, or hex with 0x when @base is 0), or -1. */
static inline long mmg_read_long(const char *path, int base)
{
	char buf[64];

	return mmg_read_file(path, buf, sizeof(buf)) < 0 ? -1 :
	       strtol(buf, NULL, base);
}

/* A /proc/meminfo field in kB, or -1. */
static inline long mmg_meminfo_kb(const char *field)
{
	char buf[4096], *p;
	size_t len = strlen(field);

	if (mmg_read_file("/proc/meminfo", buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, field, len) && p[len] == ':')
			return atol(p + len + 1);
	}
	return -1;
}

/* A /proc/vmstat item, -1 if missing. */
static inline long mmg_vmstat(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char key[64];
	long val, ret = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name)) {
			ret = val;
			break;
		}
	fclose(f);
	return ret;
}

/*
 * Writes "offline" to a memory block's @state file from a child killed
 * after @seconds (the signal makes offline_pages() give up and roll back):
 * 0 offline, 1 refused, 2 timed out.
 */
static inline int mmg_offline_block(const char *state, unsigned int seconds)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(seconds);
		_exit(mmg_write_file(state, "offline") ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	if (WIFSIGNALED(status))
		return 2;
	return WEXITSTATUS(status);
}

/*
 * The highest memory block (not memory0) that goes offline when asked and
 * online again: its number (its state file in @state), -1 if none does,
 * -2 if one stays offline (its state file in @state).
 */
static inline long mmg_pick_offlinable_block(char *state, size_t len,
					     unsigned int seconds)
{
	struct dirent **names;
	long found = -1;
	int n, i;

	n = scandir("/sys/devices/system/memory", &names, NULL, versionsort);
	if (n < 0)
		return -1;
	for (i = n - 1; i >= 0; i--) {
		const char *name = names[i]->d_name;
		char buf[32];

		if (found == -1 && !strncmp(name, "memory", 6) &&
		    strcmp(name, "memory0") && isdigit(name[6])) {
			snprintf(state, len,
				 "/sys/devices/system/memory/%s/state", name);
			if (mmg_read_file(state, buf, sizeof(buf)) > 0 &&
			    !strncmp(buf, "online", 6) &&
			    mmg_offline_block(state, seconds) == 0)
				found = mmg_write_file(state, "online") ? -2 :
					strtol(name + 6, NULL, 10);
		}
		free(names[i]);
	}
	free(names);
	return found;
}

#endif /* MMGUARD_UTIL_H */
