/* Tests for ops/stop: what SIGINT and SIGTERM do in each mode, while a
 * command publishes (hold), and once its outcome is decided (settle). Each
 * test runs in a process of its own (Criterion forks), so raising a signal
 * here touches nothing else. */
#include <criterion/criterion.h>
#include <signal.h>
#include <unistd.h>

#include "ops/stop.h"

static volatile sig_atomic_t discarded;
static void discard(void)
{
    discarded = 1;
}

Test(stop, graceful_first_signal_only_sets_the_flag_with_its_number)
{
    rr_stop_install(RR_STOP_GRACEFUL, discard);
    cr_assert_eq(*rr_stop_flag(), 0);
    raise(SIGTERM);
    cr_assert_eq(*rr_stop_flag(), SIGTERM);
    cr_assert_eq(rr_stop_signal(), SIGTERM);
}

Test(stop, graceful_second_signal_discards_and_exits_128_plus_n, .exit_code = 128 + SIGINT)
{
    rr_stop_install(RR_STOP_GRACEFUL, discard);
    raise(SIGTERM);
    raise(SIGINT);
}

Test(stop, while_publishing_no_signal_exits)
{
    rr_stop_install(RR_STOP_GRACEFUL, discard);
    rr_stop_hold(1);
    raise(SIGTERM);
    raise(SIGTERM);
    cr_assert_eq(*rr_stop_flag(), SIGTERM);
    cr_assert_eq(discarded, 0);

    rr_stop_install(RR_STOP_EXIT, discard);
    rr_stop_hold(1);
    raise(SIGTERM);
    cr_assert_eq(rr_stop_signal(), SIGTERM, "recorded, not acted on");
    cr_assert_eq(discarded, 0);
}

Test(stop, exit_mode_discards_and_exits_at_the_first_signal, .exit_code = 128 + SIGTERM)
{
    rr_stop_install(RR_STOP_EXIT, discard);
    raise(SIGTERM);
    cr_assert_fail("exit mode must _exit at the first signal");
}

Test(stop, once_settled_a_signal_changes_nothing)
{
    rr_stop_install(RR_STOP_EXIT, discard);
    rr_stop_settle();
    raise(SIGTERM);
    raise(SIGINT);
    cr_assert_eq(*rr_stop_flag(), 0, "not even recorded");
    cr_assert_eq(discarded, 0);

    rr_stop_install(RR_STOP_GRACEFUL, discard); /* a new installation listens again */
    raise(SIGINT);
    cr_assert_eq(rr_stop_signal(), SIGINT);
}

Test(stop, stream_mode_only_ever_sets_the_flag)
{
    rr_stop_install(RR_STOP_FLAG, discard);
    raise(SIGTERM);
    raise(SIGTERM);
    raise(SIGINT);
    cr_assert_eq(rr_stop_signal(), SIGTERM);
    cr_assert_eq(discarded, 0);
}
