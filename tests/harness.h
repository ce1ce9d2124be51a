/*
 * harness.h - the unit tests' tiny harness: CHECK records a failure with
 * its line and goes on; main returns the failure count through EV_TEST_END.
 * Each test file prints "N passed, M failed" as its last line.
 */
#ifndef EV_HARNESS_H
#define EV_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

static int ev_t_pass, ev_t_fail;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            ev_t_pass++;                                                     \
        } else {                                                             \
            ev_t_fail++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                       \
    do {                                                                     \
        long long ev_a_ = (long long)(a), ev_b_ = (long long)(b);            \
        if (ev_a_ == ev_b_) {                                                \
            ev_t_pass++;                                                     \
        } else {                                                             \
            ev_t_fail++;                                                     \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", \
                    __FILE__, __LINE__, #a, #b, ev_a_, ev_b_);               \
        }                                                                    \
    } while (0)

#define EV_TEST_END()                                                        \
    do {                                                                     \
        printf("%d passed, %d failed\n", ev_t_pass, ev_t_fail);              \
        return ev_t_fail == 0 && ev_t_pass > 0 ? 0 : 1;                      \
    } while (0)

#endif
