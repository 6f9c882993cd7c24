"""The per-user question cooldown: one question per user per period, and no memory that grows."""

from __future__ import annotations

from bot.discord.checks import Cooldown


def test_a_user_waits_out_the_period_and_old_users_are_forgotten() -> None:
    now = [1000.0]
    cooldown = Cooldown(10.0, clock=lambda: now[0])

    assert cooldown.retry_after(1) == 0.0
    now[0] += 4
    assert cooldown.retry_after(1) == 6.0  # the same user, too soon
    assert cooldown.retry_after(2) == 0.0  # another user is not held up
    for user in range(3, 1003):
        cooldown.retry_after(user)
    now[0] += 11
    assert cooldown.retry_after(1) == 0.0  # past the period
    # Asking again dropped everyone whose period had passed: a thousand one-off askers are
    # not remembered forever.
    assert cooldown.tracked == 1


def test_no_cooldown_when_the_period_is_zero() -> None:
    cooldown = Cooldown(0.0, clock=lambda: 5.0)
    assert [cooldown.retry_after(1) for _ in range(3)] == [0.0, 0.0, 0.0]
