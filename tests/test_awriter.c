/*
 * test_awriter.c - the asynchronous writer keeps every byte, in order,
 * with and without O_DIRECT, whatever the sizes of the writes.
 *
 * Regression: ev_awriter_finish once cleared the length of a buffer that
 * was still queued, so a whole 4 MiB buffer of a blob could go missing
 * (seen as "blob file has the wrong size" under disk load).
 */
#include "awriter.h"
#include "harness.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t seed = 12345;

static uint32_t
next_rand(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 1;
}

static void
round_trip(const char *path, int direct, int rounds)
{
    static uint8_t piece[3 << 20];

    for (int r = 0; r < rounds; r++) {
        int flags = O_RDWR | O_CREAT | O_TRUNC | (direct ? O_DIRECT : 0);
        int fd = open(path, flags, 0600);
        int used_direct = direct;
        ev_awriter *w;
        uint8_t *want;
        size_t total = 0, cap = 64u << 20;
        int n = 1 + (int)(next_rand() % 24), err;
        struct stat st;

        if (fd < 0 && direct) {
            fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
            used_direct = 0;
        }
        CHECK(fd >= 0);
        if (fd < 0) {
            return;
        }
        want = malloc(cap);
        w = ev_awriter_new(fd, used_direct);
        CHECK(w != NULL && want != NULL);
        for (int i = 0; i < n && w != NULL; i++) {
            /* Sizes around the buffer size are the interesting ones. */
            size_t len = next_rand() % 4 == 0 ? (size_t)4 << 20
                                              : next_rand() % sizeof piece;
            if (len > sizeof piece) {
                len = sizeof piece;
            }
            if (total + len > cap) {
                break;
            }
            for (size_t k = 0; k < len; k++) {
                piece[k] = (uint8_t)(next_rand() >> 7);
            }
            memcpy(want + total, piece, len);
            CHECK_EQ(ev_awriter_write(w, piece, len), 0);
            total += len;
        }
        err = ev_awriter_finish(w);
        CHECK_EQ(err, 0);
        ev_awriter_free(w);
        close(fd);
        CHECK(stat(path, &st) == 0);
        CHECK_EQ((size_t)st.st_size, total);
        {
            uint8_t *got = malloc(total + 1);
            int rfd = open(path, O_RDONLY);
            ssize_t rd = 0, k;
            while (rfd >= 0 && (size_t)rd < total &&
                   (k = read(rfd, got + rd, total - (size_t)rd)) > 0) {
                rd += k;
            }
            CHECK_EQ((size_t)rd, total);
            CHECK(memcmp(got, want, total) == 0);
            if (rfd >= 0) {
                close(rfd);
            }
            free(got);
        }
        free(want);
    }
}

int
main(void)
{
    char dir[] = "/tmp/ev-awriter-XXXXXX";
    char path[64];

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/out", dir);
    round_trip(path, 0, 30);
    round_trip(path, 1, 30);
    unlink(path);
    rmdir(dir);
    EV_TEST_END();
}
