/* Histograms, the publisher send log, and /proc sampling. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

/* Values below 32 us have their own bucket; above, 16 buckets per octave. */
static unsigned hist_index(uint64_t v)
{
	if (v < 32)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 5 */
	unsigned m = (unsigned)(v >> (msb - 4)) & 15u;
	unsigned idx = 32 + (msb - 5) * 16 + m;
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static uint64_t hist_mid(unsigned idx)
{
	if (idx < 32)
		return idx;
	unsigned msb = (idx - 32) / 16 + 5, m = (idx - 32) % 16;
	uint64_t width = 1ull << (msb - 4);
	return ((uint64_t)(16 + m) << (msb - 4)) + width / 2;
}

void hist_add(struct hist *h, uint64_t us)
{
	h->bucket[hist_index(us)]++;
	h->count++;
	if (us > h->max_us)
		h->max_us = us;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	if (!h->count)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)(h->count - 1)) + 1, seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t mid = hist_mid(i);
			return mid < h->max_us ? mid : h->max_us;
		}
	}
	return h->max_us;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	if (from->max_us > into->max_us)
		into->max_us = from->max_us;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t media_key(const uint8_t *tail, size_t tail_len, size_t body_len)
{
	uint64_t h = mix64(body_len + 0x9e3779b97f4a7c15ull);
	for (size_t i = 0; i < tail_len; i += 8) {
		uint64_t w = 0;
		size_t n = tail_len - i < 8 ? tail_len - i : 8;
		memcpy(&w, tail + i, n);
		h = mix64(h ^ w);
	}
	return h | 1; /* 0 marks an empty slot */
}

void sendlog_put(struct sendlog *l, uint64_t key, uint64_t t_ns)
{
	unsigned set = (unsigned)(key % SENDLOG_SETS), oldest = 0;
	for (unsigned w = 0; w < 4; w++) {
		if (l->slot[set][w].key == key) {
			l->slot[set][w].t_ns = t_ns; /* a looped clip repeats frames */
			return;
		}
		if (l->slot[set][w].t_ns < l->slot[set][oldest].t_ns)
			oldest = w;
	}
	l->slot[set][oldest].key = key;
	l->slot[set][oldest].t_ns = t_ns;
}

uint64_t sendlog_get(const struct sendlog *l, uint64_t key)
{
	unsigned set = (unsigned)(key % SENDLOG_SETS);
	for (unsigned w = 0; w < 4; w++)
		if (l->slot[set][w].key == key)
			return l->slot[set][w].t_ns;
	return 0;
}

static void read_cpu(int pid, struct proc_sample *s)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	unsigned long ut, st;
	if (!p ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return;
	s->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	s->ok = true;
}

static void read_rss(int pid, struct proc_sample *s)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long kb;
		if (sscanf(line, "VmRSS: %lu kB", &kb) == 1) {
			s->rss_kb = kb;
			break;
		}
	}
	fclose(f);
}

/* Run-queue wait from schedstat: "<on-cpu ns> <waiting ns> <slices>".
 * Time another process held the core the server was pinned to. */
static double read_wait(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long long run, wait = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &run, &wait) != 2)
		wait = 0;
	fclose(f);
	return (double)wait / 1e9;
}

void proc_sample(int pid, struct proc_sample *s)
{
	memset(s, 0, sizeof(*s));
	if (pid <= 0)
		return;
	read_cpu(pid, s);
	if (!s->ok)
		return;
	read_rss(pid, s);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	s->wait_s = read_wait(path);
}

double self_wait_s(void)
{
	return read_wait("/proc/self/schedstat");
}

double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}
