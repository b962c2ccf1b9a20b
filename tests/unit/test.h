/* test.h: the few assertion macros oomcast's C tests use (kernel selftests style: on
 * failure print what was checked, the value got and the value wanted). */
#ifndef OOMCAST_TEST_H
#define OOMCAST_TEST_H
#include <stdio.h>
#include <string.h>
#include <math.h>

static int t_case_failed, t_passed, t_failed;

#define T_FAIL(fmt, ...) do { \
	fprintf(stderr, "  %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__); \
	t_case_failed = 1; } while (0)

#define ASSERT_TRUE(cond, what) do { if (!(cond)) T_FAIL("%s: expected true: %s", what, #cond); } while (0)
#define ASSERT_EQ(got, want, what) do { long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ != w_) T_FAIL("%s: got %lld, want %lld", what, g_, w_); } while (0)
#define ASSERT_NEAR(got, want, tol, what) do { double g_ = (got), w_ = (want), e_ = (tol); \
	if (!(fabs(g_ - w_) <= e_)) T_FAIL("%s: got %g, want %g +- %g", what, g_, w_, e_); } while (0)
#define ASSERT_RANGE(got, lo, hi, what) do { double g_ = (got), l_ = (lo), h_ = (hi); \
	if (!(g_ >= l_ && g_ <= h_)) T_FAIL("%s: got %g, want in [%g, %g]", what, g_, l_, h_); } while (0)
#define ASSERT_STR(got, want, what) do { const char *g_ = (got), *w_ = (want); \
	if (!g_ || strcmp(g_, w_)) T_FAIL("%s: got \"%s\", want \"%s\"", what, g_ ? g_ : "(null)", w_); } while (0)

/* Each case prints one TAP-like line; tests/run counts them. */
#define RUN(fn) do { t_case_failed = 0; fn(); \
	if (t_case_failed) { t_failed++; printf("not ok - %s\n", #fn); } \
	else { t_passed++; printf("ok - %s\n", #fn); } fflush(stdout); } while (0)

#define TEST_EXIT() (printf("# %d passed, %d failed\n", t_passed, t_failed), t_failed ? 1 : 0)

#endif
