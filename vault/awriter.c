/*
 * awriter.c - the asynchronous in-order writer (see awriter.h).
 *
 * Owns: its buffers and its one writer thread (an ev_pipe of one worker).
 * Never: reorders, drops or retries a write silently; the first error
 * sticks and is returned by every later call.
 */
#include "awriter.h"

#include "crypto.h"
#include "os.h"
#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NBUF 3

struct wjob {
    ev_awriter *w;
    uint8_t *buf;
    size_t len;
    int err;
};

struct ev_awriter {
    int fd;
    int direct; /* touched by the writer thread only, once started */
    ev_pipe *pipe;
    struct wjob jobs[NBUF];
    size_t cur;   /* the job being filled */
    int err;
};

static void
write_job(void *state, void *arg)
{
    struct wjob *j = arg;
    ev_awriter *w = j->w;
    size_t done = 0;

    (void)state;
    j->err = 0;
    while (done < j->len) {
        size_t n = j->len - done;
        ssize_t r;
        /* O_DIRECT takes only whole blocks at aligned offsets: a tail, or
         * a write that stopped mid-block, goes through the page cache. */
        if (w->direct && (n % EV_AW_ALIGN != 0 || done % EV_AW_ALIGN != 0)) {
            if (ev_os_clear_direct(w->fd) != 0) {
                j->err = errno;
                return;
            }
            w->direct = 0;
        }
        r = ev_os.write(w->fd, j->buf + done, n);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 && errno == EINVAL && w->direct) {
            /* the file system refused O_DIRECT after all */
            if (ev_os_clear_direct(w->fd) != 0) {
                j->err = errno;
                return;
            }
            w->direct = 0;
            continue;
        }
        j->err = r == 0 ? ENOSPC : errno;
        return;
    }
}

ev_awriter *
ev_awriter_new(int fd, int direct)
{
    ev_awriter *w = calloc(1, sizeof *w);

    if (w == NULL) {
        return NULL;
    }
    w->fd = fd;
    w->direct = direct;
    for (size_t i = 0; i < NBUF; i++) {
        void *p = NULL;
        w->jobs[i].w = w;
        if (posix_memalign(&p, EV_AW_ALIGN, EV_AW_BUF_BYTES) != 0) {
            ev_awriter_free(w);
            return NULL;
        }
        w->jobs[i].buf = p;
    }
    w->pipe = ev_pipe_new(1, NBUF, write_job, NULL, NULL);
    if (w->pipe == NULL) {
        ev_awriter_free(w);
        return NULL;
    }
    return w;
}

/* Hands the current buffer to the writer and takes the next free one. */
static int
submit(ev_awriter *w)
{
    ev_pipe_submit(w->pipe, &w->jobs[w->cur], 1);
    w->cur = (w->cur + 1) % NBUF;
    if (ev_pipe_pending(w->pipe) == NBUF) {
        struct wjob *done = ev_pipe_collect(w->pipe);
        if (done->err != 0 && w->err == 0) {
            w->err = done->err;
        }
    }
    w->jobs[w->cur].len = 0;
    return w->err;
}

int
ev_awriter_write(ev_awriter *w, const void *p, size_t n)
{
    const uint8_t *src = p;

    while (n > 0 && w->err == 0) {
        struct wjob *j = &w->jobs[w->cur];
        size_t take = EV_AW_BUF_BYTES - j->len;
        if (take > n) {
            take = n;
        }
        memcpy(j->buf + j->len, src, take);
        j->len += take;
        src += take;
        n -= take;
        if (j->len == EV_AW_BUF_BYTES) {
            submit(w);
        }
    }
    return w->err;
}

int
ev_awriter_finish(ev_awriter *w)
{
    if (w->err == 0 && w->jobs[w->cur].len > 0) {
        /* The next buffer may still be queued: leave it alone. */
        ev_pipe_submit(w->pipe, &w->jobs[w->cur], 1);
        w->cur = (w->cur + 1) % NBUF;
    }
    while (ev_pipe_pending(w->pipe) > 0) {
        struct wjob *done = ev_pipe_collect(w->pipe);
        if (done->err != 0 && w->err == 0) {
            w->err = done->err;
        }
    }
    return w->err;
}

void
ev_awriter_free(ev_awriter *w)
{
    if (w == NULL) {
        return;
    }
    if (w->pipe != NULL) {
        while (ev_pipe_pending(w->pipe) > 0) {
            (void)ev_pipe_collect(w->pipe);
        }
        ev_pipe_free(w->pipe);
    }
    for (size_t i = 0; i < NBUF; i++) {
        if (w->jobs[i].buf != NULL) {
            ev_wipe(w->jobs[i].buf, EV_AW_BUF_BYTES);
        }
        free(w->jobs[i].buf);
    }
    free(w);
}
