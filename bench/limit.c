/* weir-limit: the raw ceiling for a streaming server on this machine. One
 * writer process sends the same prepared bytes to N loopback TCP
 * connections with writev (paced like a server: W writes per second per
 * connection of RATE/W bytes, or as fast as possible with --max); a reader
 * process drains them. Reports throughput and CPU seconds per GB on each
 * side: what a server cannot beat. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF_BYTES  (256 * 1024)
#define READER_GRACE_S  5 /* reader gives up this long after the writer's end */
#define MAX_CONNECTIONS 60000

struct opts {
	unsigned conns;
	unsigned kbps; /* per connection, paced mode */
	unsigned wps;  /* writes per second per connection, paced mode */
	unsigned write_bytes;
	double duration_s;
	bool max;
	int writer_cpu, reader_cpu;
	const char *json;
};

struct result {
	double wall_s;
	uint64_t written, short_writes, overruns, ticks;
	double writer_cpu_s;
	uint64_t read;
	double reader_cpu_s;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("weir-limit: sched_setaffinity");
}

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int listen_loopback(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4096) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		int e = -errno;
		close(fd);
		return e;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* ---- reader (child process) ---- */

static int connect_all(int port, unsigned n, int *fds)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port)};
	for (unsigned i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fds[i] < 0)
			return -errno;
		if (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS)
			return -errno;
	}
	return 0;
}

/* Drains every connection until all reached EOF (or the deadline). */
static uint64_t drain(int ep, unsigned n, double deadline)
{
	static uint8_t buf[READ_BUF_BYTES];
	struct epoll_event ev[256];
	uint64_t total = 0;
	unsigned open = n;
	while (open && now_s() < deadline) {
		int k = epoll_wait(ep, ev, 256, 100);
		for (int i = 0; i < k; i++) {
			int fd = ev[i].data.fd;
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r > 0) {
				total += (uint64_t)r;
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				open--;
			}
		}
	}
	return total;
}

static int run_reader(const struct opts *o, int port, int report_fd)
{
	pin(o->reader_cpu);
	int *fds = calloc(o->conns, sizeof(int));
	int ep = epoll_create1(0);
	if (!fds || ep < 0 || connect_all(port, o->conns, fds) < 0) {
		perror("weir-limit: reader");
		return 1;
	}
	for (unsigned i = 0; i < o->conns; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.fd = fds[i]};
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
	}
	double c0 = cpu_s(RUSAGE_SELF);
	uint64_t got = drain(ep, o->conns, now_s() + o->duration_s + 30 + READER_GRACE_S);
	double r[2] = {(double)got, cpu_s(RUSAGE_SELF) - c0};
	ssize_t w = write(report_fd, r, sizeof(r));
	free(fds);
	return w == sizeof(r) ? 0 : 1;
}

/* ---- writer (parent process) ---- */

struct writer {
	const struct opts *o;
	int *fds;
	struct iovec iov[4];
	unsigned niov;
	uint8_t *data;
	struct result *res;
};

/* Server-like write: tag header, body prefix, payload, trailer. */
static int prepare(struct writer *w)
{
	size_t n = w->o->write_bytes;
	if (n < 64)
		n = 64;
	if (!(w->data = malloc(n)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		w->data[i] = (uint8_t)(i * 2654435761u >> 11);
	size_t parts[4] = {11, 5, n - 20, 4}, off = 0;
	for (w->niov = 0; w->niov < 4; w->niov++) {
		w->iov[w->niov] =
		    (struct iovec){.iov_base = w->data + off, .iov_len = parts[w->niov]};
		off += parts[w->niov];
	}
	return 0;
}

#define ACCEPT_WAIT_MS 10000 /* the reader died if it connects no faster */

static int accept_all(int lfd, unsigned n, int *fds)
{
	for (unsigned i = 0; i < n; i++) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		if (poll(&p, 1, ACCEPT_WAIT_MS) != 1)
			return -ETIMEDOUT;
		fds[i] = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fds[i] < 0)
			return -errno;
		int one = 1;
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return 0;
}

static ssize_t write_one(struct writer *w, unsigned i)
{
	ssize_t r = writev(w->fds[i], w->iov, (int)w->niov);
	if (r > 0)
		w->res->written += (uint64_t)r;
	return r;
}

/* W ticks per second; every tick one write to every connection, all at
 * once as a server does when a frame arrives. A write the kernel did not
 * take whole counts as short (the bytes are not retried). */
static void run_paced(struct writer *w, double end)
{
	double period = 1.0 / w->o->wps, next = now_s();
	size_t want = w->o->write_bytes;
	while (next < end) {
		double t = now_s();
		if (t < next) {
			struct timespec ts = {0, (long)((next - t) * 1e9)};
			nanosleep(&ts, NULL);
		}
		for (unsigned i = 0; i < w->o->conns; i++)
			if (write_one(w, i) != (ssize_t)want)
				w->res->short_writes++;
		w->res->ticks++;
		next += period;
		if (now_s() > next)
			w->res->overruns++; /* could not finish a tick in time */
	}
}

/* Writes until every socket is full, then waits for room: saturation. */
static void run_max(struct writer *w, double end)
{
	int ep = epoll_create1(0);
	for (unsigned i = 0; i < w->o->conns; i++) {
		struct epoll_event e = {.events = EPOLLOUT, .data.fd = w->fds[i]};
		epoll_ctl(ep, EPOLL_CTL_ADD, w->fds[i], &e);
	}
	struct epoll_event ev[64];
	while (now_s() < end) {
		unsigned progressed = 0;
		for (unsigned i = 0; i < w->o->conns; i++)
			progressed += write_one(w, i) > 0;
		w->res->ticks++;
		if (!progressed)
			epoll_wait(ep, ev, 64, 10);
	}
	close(ep);
}

static int run_writer(const struct opts *o, int lfd, struct result *res)
{
	pin(o->writer_cpu);
	struct writer w = {.o = o, .res = res, .fds = calloc(o->conns, sizeof(int))};
	if (!w.fds || prepare(&w) < 0 || accept_all(lfd, o->conns, w.fds) < 0) {
		perror("weir-limit: writer");
		free(w.fds);
		free(w.data);
		return 1;
	}
	double c0 = cpu_s(RUSAGE_SELF), t0 = now_s();
	if (o->max)
		run_max(&w, t0 + o->duration_s);
	else
		run_paced(&w, t0 + o->duration_s);
	res->wall_s = now_s() - t0;
	res->writer_cpu_s = cpu_s(RUSAGE_SELF) - c0;
	for (unsigned i = 0; i < o->conns; i++)
		close(w.fds[i]);
	free(w.fds);
	free(w.data);
	return 0;
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: weir-limit [options]\n"
		"  --connections N     loopback TCP connections (default 500)\n"
		"  --kbps K            paced: bits per second per connection / 1000 (2000)\n"
		"  --writes-per-sec W  paced: writes per second per connection (30)\n"
		"  --max               write as fast as possible (saturation) instead\n"
		"  --write-bytes B     bytes per writev (default kbps*1000/8/W; 8192 with --max)\n"
		"  --duration S        seconds (default 10)\n"
		"  --writer-cpu C      pin the writer to CPU C; --reader-cpu C the reader\n"
		"  --json FILE         also write the results as JSON\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {{"connections", required_argument, NULL, 'n'},
					   {"kbps", required_argument, NULL, 'k'},
					   {"writes-per-sec", required_argument, NULL, 'w'},
					   {"max", no_argument, NULL, 'm'},
					   {"write-bytes", required_argument, NULL, 'b'},
					   {"duration", required_argument, NULL, 'd'},
					   {"writer-cpu", required_argument, NULL, 'W'},
					   {"reader-cpu", required_argument, NULL, 'R'},
					   {"json", required_argument, NULL, 'j'},
					   {"help", no_argument, NULL, 'h'},
					   {NULL, 0, NULL, 0}};
	*o = (struct opts){.conns = 500,
			   .kbps = 2000,
			   .wps = 30,
			   .duration_s = 10,
			   .writer_cpu = -1,
			   .reader_cpu = -1};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o->conns = (unsigned)atoi(optarg);
			break;
		case 'k':
			o->kbps = (unsigned)atoi(optarg);
			break;
		case 'w':
			o->wps = (unsigned)atoi(optarg);
			break;
		case 'm':
			o->max = true;
			break;
		case 'b':
			o->write_bytes = (unsigned)atoi(optarg);
			break;
		case 'd':
			o->duration_s = atof(optarg);
			break;
		case 'W':
			o->writer_cpu = atoi(optarg);
			break;
		case 'R':
			o->reader_cpu = atoi(optarg);
			break;
		case 'j':
			o->json = optarg;
			break;
		default:
			usage(ch == 'h' ? stdout : stderr);
			return -EINVAL;
		}
	}
	if (!o->conns || o->conns > MAX_CONNECTIONS || !o->wps || !o->kbps || o->duration_s <= 0 ||
	    o->duration_s > 3600) {
		usage(stderr);
		return -EINVAL;
	}
	if (!o->write_bytes)
		o->write_bytes = o->max ? 8192 : o->kbps * 1000 / 8 / o->wps;
	return 0;
}

static void report(const struct opts *o, const struct result *r)
{
	double gbw = (double)r->written / 1e9, gbr = (double)r->read / 1e9;
	double mbps = (double)r->written * 8 / r->wall_s / 1e6;
	printf("== weir-limit %s: %u connections, %u B per writev, %.1f s\n",
	       o->max ? "max" : "paced", o->conns, o->write_bytes, r->wall_s);
	printf("  written            %.1f Mbps (%.2f Mbps per connection)\n", mbps,
	       mbps / o->conns);
	printf("  writer cpu         %.1f%% of a core, %.3f s per GB\n",
	       r->writer_cpu_s / r->wall_s * 100, gbw > 0 ? r->writer_cpu_s / gbw : 0);
	printf("  reader cpu         %.1f%% of a core, %.3f s per GB (read %.2f GB)\n",
	       r->reader_cpu_s / r->wall_s * 100, gbr > 0 ? r->reader_cpu_s / gbr : 0, gbr);
	if (!o->max)
		printf("  short writes       %llu of %llu, late ticks %llu\n",
		       (unsigned long long)r->short_writes,
		       (unsigned long long)(r->ticks * o->conns), (unsigned long long)r->overruns);
	if (!o->json)
		return;
	json_t *j = json_pack(
	    "{s:s,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:I,s:I}", "mode", o->max ? "max" : "paced",
	    "connections", (int)o->conns, "write_bytes", (int)o->write_bytes, "wall_s", r->wall_s,
	    "written_mbps", mbps, "writer_cpu_pct", r->writer_cpu_s / r->wall_s * 100,
	    "writer_cpu_s_per_gb", gbw > 0 ? r->writer_cpu_s / gbw : 0, "reader_cpu_pct",
	    r->reader_cpu_s / r->wall_s * 100, "reader_cpu_s_per_gb",
	    gbr > 0 ? r->reader_cpu_s / gbr : 0, "short_writes", (json_int_t)r->short_writes,
	    "late_ticks", (json_int_t)r->overruns, "writes", (json_int_t)(r->ticks * o->conns));
	if (!j || json_dump_file(j, o->json, JSON_INDENT(2) | JSON_SORT_KEYS))
		fprintf(stderr, "weir-limit: cannot write %s\n", o->json);
	json_decref(j);
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_args(argc, argv, &o) < 0)
		return 1;
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	int port = 0, pfd[2];
	int lfd = listen_loopback(&port);
	if (lfd < 0 || pipe(pfd)) {
		perror("weir-limit: listen");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("weir-limit: fork");
		return 1;
	}
	if (pid == 0) {
		close(lfd);
		close(pfd[0]);
		_exit(run_reader(&o, port, pfd[1]));
	}
	close(pfd[1]);
	struct result r = {0};
	int rc = run_writer(&o, lfd, &r);
	double rd[2] = {0, 0};
	if (read(pfd[0], rd, sizeof(rd)) != sizeof(rd))
		rc = 1;
	int st;
	waitpid(pid, &st, 0);
	r.read = (uint64_t)rd[0];
	r.reader_cpu_s = rd[1];
	if (!rc)
		report(&o, &r);
	return rc;
}
