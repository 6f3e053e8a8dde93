// SPDX-License-Identifier: Apache-2.0
/*
 * cinderctl daemon: keeps remote attaches connected. It listens to the
 * module's events and, for every nbd device that lost connections (a
 * link-down event, or a device found so by the periodic check), makes new
 * ones to the recorded export and hands them to the kernel, backing off
 * while the server stays away. I/O on the device waits meanwhile, up to
 * the device's dead timeout. The periodic check also grows the devices
 * whose volume the store says was extended (on the exporting host).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cinderlib/kernel.h"
#include "cli.h"
#include "cli_args.h"

#define BACKOFF_MIN_MS	200
#define BACKOFF_MAX_MS	10000

/* When each device may be tried again, and how long it waits then. */
struct retry {
	uint32_t index;
	int64_t next_ms;
	int backoff_ms;
};

struct daemon {
	struct cl_context *ctx;
	struct cl_kernel *events;
	struct retry *retries;
	size_t nr_retries;
	unsigned int failures;		/* of the last pass */
	unsigned int waiting;		/* devices still short after it */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct retry *retry_of(struct daemon *d, uint32_t index)
{
	struct retry *more;

	for (size_t i = 0; i < d->nr_retries; i++)
		if (d->retries[i].index == index)
			return &d->retries[i];
	more = realloc(d->retries, (d->nr_retries + 1) * sizeof(*more));
	if (!more)
		return NULL;
	d->retries = more;
	more[d->nr_retries] = (struct retry){ .index = index };
	return &more[d->nr_retries++];
}

/* Back off @r after a failure on its device. */
static void back_off(struct retry *r, int64_t t)
{
	if (!r)
		return;
	r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (r->backoff_ms > BACKOFF_MAX_MS)
		r->backoff_ms = BACKOFF_MAX_MS;
	r->next_ms = t + r->backoff_ms;
}

/* One device that lost connections: try now unless it is backing off. */
static void reconnect_one(struct daemon *d, const struct cl_dev_info *dev,
			  bool now)
{
	struct cl_error err = { 0 };
	struct retry *r = retry_of(d, dev->index);
	int64_t t = now_ms();

	if (r && !now && t < r->next_ms) {
		d->waiting++;
		return;
	}
	if (cl_device_reconnect(d->ctx, dev->index, &err)) {
		d->failures++;
		d->waiting++;
		fprintf(stderr, "cinderctl daemon: %s (volume %s): %s\n",
			dev->disk_name, dev->volume_id, err.msg);
		back_off(r, t);
		return;
	}
	printf("cinderctl daemon: %s (volume %s): %u connection(s) made again\n",
	       dev->disk_name, dev->volume_id,
	       dev->connections - dev->live_connections);
	fflush(stdout);
	if (r)
		r->backoff_ms = 0;
}

/*
 * A device whose volume the store says is larger (extended on the
 * exporting host): new connections see the new size. Volumes the store
 * does not know (it is not shared with the exporting host) are left.
 */
static void grow_one(struct daemon *d, const struct cl_dev_info *dev, bool now)
{
	struct cl_error err = { 0 };
	struct retry *r = retry_of(d, dev->index);
	struct cl_volume *vol = NULL;
	int64_t t = now_ms();
	uint64_t want, size;

	if (!dev->volume_id[0] || (r && !now && t < r->next_ms))
		return;
	if (cl_volume_get(d->ctx, dev->volume_id, &vol, &err))
		return;
	want = vol->size << 30;
	cl_volume_free(vol);
	if (want <= dev->size)
		return;
	if (cl_device_refresh(d->ctx, dev->index, &size, &err) == 0 &&
	    size >= want) {
		printf("cinderctl daemon: %s (volume %s): resized to %llu bytes\n",
		       dev->disk_name, dev->volume_id,
		       (unsigned long long)size);
		fflush(stdout);
		if (r)
			r->backoff_ms = 0;
		return;
	}
	d->failures++;
	if (err.code)
		fprintf(stderr, "cinderctl daemon: %s (volume %s): cannot resize: %s\n",
			dev->disk_name, dev->volume_id, err.msg);
	else
		fprintf(stderr, "cinderctl daemon: %s (volume %s): the store says %llu bytes, the NBD server still %llu\n",
			dev->disk_name, dev->volume_id,
			(unsigned long long)want, (unsigned long long)size);
	back_off(r, t);
}

/* Every nbd device short of connections; @now ignores the backoff. */
static int check_all(struct daemon *d, bool now)
{
	struct cl_error err = { 0 };
	struct cl_dev_info *devs = NULL;
	size_t n = 0;

	d->failures = 0;
	d->waiting = 0;
	if (cl_kernel_dev_list(d->events, &devs, &n, &err)) {
		fprintf(stderr, "cinderctl daemon: cannot list devices: %s\n",
			err.msg);
		return -1;
	}
	for (size_t i = 0; i < n && !stop; i++) {
		if (devs[i].backing_type != CL_BACKING_NBD)
			continue;
		if (devs[i].live_connections < devs[i].connections)
			reconnect_one(d, &devs[i], now);
		else
			grow_one(d, &devs[i], now);
	}
	free(devs);
	return 0;
}

static void usage(FILE *out)
{
	fputs("Usage: cinderctl daemon [--once] [--interval SECONDS]\n"
	      "Keep remote (nbd) attaches of this host connected: on each link-down\n"
	      "event, and every --interval seconds (default 5), make new connections\n"
	      "for the ones a device lost; every --interval seconds, grow the devices\n"
	      "whose volume the store says was extended.\n"
	      "  --once        check every device once and exit (1 if one failed)\n"
	      "  --interval S  seconds between checks of every device\n", out);
}

static int daemon_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { 0 };
	struct cl_error err = { 0 };
	struct cl_kernel_event ev;
	bool once = false;
	long interval = 5;
	int64_t next_check;
	char *end;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			once = true;
			break;
		case 'i':
			interval = strtol(optarg, &end, 10);
			if (*end || interval < 1 || interval > 3600) {
				cli_error("daemon: --interval must be 1 to 3600 seconds");
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			cli_error("daemon: unknown option %s", argv[optind - 1]);
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_error("daemon: unexpected argument '%s'", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	ret = cli_context(&d.ctx);
	if (ret)
		return ret;
	if (cl_kernel_events_open(&d.events, &err))
		return cli_fail(&err, "cannot listen to the cinderblk module");
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	check_all(&d, true);
	if (once) {
		ret = d.failures ? CLI_EXIT_FAILED : CLI_EXIT_OK;
		goto out;
	}
	next_check = now_ms() + interval * 1000;
	while (!stop) {
		int wait = (int)(next_check - now_ms());

		ret = cl_kernel_event_wait(d.events, wait > 0 ? wait : 0, &ev,
					   &err);
		if (stop)
			break;
		if (ret == -ENOBUFS) {
			/* Events were lost: look at everything. */
			check_all(&d, true);
		} else if (ret == 0 && ev.type == CL_KEVENT_LINK_DOWN) {
			check_all(&d, false);
		} else if (ret && ret != -ETIMEDOUT && ret != -EINTR) {
			cli_fail(&err, "cannot read events");
			ret = CLI_EXIT_FAILED;
			goto out;
		}
		if (now_ms() >= next_check) {
			check_all(&d, false);
			next_check = now_ms() + interval * 1000;
		}
		/* A device still short of connections is tried on its backoff. */
		if (d.waiting && next_check > now_ms() + BACKOFF_MIN_MS)
			next_check = now_ms() + BACKOFF_MIN_MS;
	}
	ret = CLI_EXIT_OK;
out:
	cl_kernel_close(d.events);
	free(d.retries);
	return ret;
}

static const struct cli_command daemon_command = {
	"daemon", "keep remote (nbd) attaches connected", daemon_run
};
CLI_COMMAND(daemon_command);
