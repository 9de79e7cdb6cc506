"""The wait before a retry: exponential, jittered, capped. Shared by the run loop and prefetch.

tenacity's strategy object computes it; callers that drive their own loop (the run
loop) ask for the wait after their n-th failure with `wait_after`. tenacity loads on
first use only: a run whose first attempt succeeds never needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tenacity


def exponential_jitter(initial_s: float, max_s: float) -> tenacity.wait_exponential_jitter:
    """initial_s * 2**(n-1) plus up to initial_s of jitter, never more than max_s."""
    import tenacity

    return tenacity.wait_exponential_jitter(multiplier=initial_s, max=max_s, jitter=initial_s)


class Backoff:
    """The exponential, jittered wait after the n-th failure, for a hand-written loop."""

    def __init__(self, initial_s: float, max_s: float) -> None:
        self._initial_s = initial_s
        self._max_s = max_s
        self._strategy: tenacity.wait_exponential_jitter | None = None

    def wait_after(self, failures: int) -> float:
        import tenacity

        if self._strategy is None:
            self._strategy = exponential_jitter(self._initial_s, self._max_s)
        state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = failures
        return float(self._strategy(state))
