"""Self-checks for the statistics a learner writes in notebook 05: the Wilson interval, on counts they have not seen."""

from __future__ import annotations

import numpy as np

from mnistlab.exercises.checks import NO_RESULT, call_learner, failed, passed, require_function

# (successes, trials): a good classifier's counts, small samples, and both ends, where the
# normal approximation breaks down (k = 0 and k = n give it a width of zero).
WILSON_CASES = ((9_961, 10_000), (1_987, 2_000), (7, 20), (0, 25), (40, 40), (1, 3))


def _wald(k: int, n: int, z: float) -> tuple[float, float]:
    p = k / n
    half = z * np.sqrt(p * (1 - p) / n)
    return p - half, p + half


def check_wilson_interval(function, what: str = "Exercise", hint: str | None = None) -> bool:
    """``function(successes, trials)`` must return the 95 % Wilson interval ``(low, high)``.

    Compared with :func:`mnistlab.statistics.wilson_interval` on counts made here, including
    0 and all successes. A z of 1.96 passes (the tolerance is 1e-4). The normal approximation
    ("p ± 1.96·sqrt(p(1-p)/n)", clipped or not), a 90 % interval and swapped bounds are named.
    """
    from scipy.stats import norm

    from mnistlab import statistics

    if not require_function(function, what, hint):
        return False
    z95, z90 = norm.ppf(0.975), norm.ppf(0.95)
    for k, n in WILSON_CASES:
        result = call_learner(function, (k, n), what, hint, on=f"{k} successes out of {n}")
        if result is NO_RESULT:
            return False
        try:
            low, high = (float(np.asarray(v).item()) for v in result)
        except Exception:
            return failed(what, f"return two numbers (low, high), got {result!r}", hint)
        want = statistics.wilson_interval(k, n)
        if np.allclose((low, high), want, rtol=0, atol=1e-4):
            continue
        where = (f"for {k} of {n} you gave ({low:.4f}, {high:.4f}); "
                 f"Wilson's 95 % interval is ({want[0]:.4f}, {want[1]:.4f})")
        wald = _wald(k, n, z95)
        if np.allclose((low, high), wald, atol=1e-4) or np.allclose((low, high), np.clip(wald, 0, 1), atol=1e-4):
            problem = ("that is the normal approximation p ± z·sqrt(p(1-p)/n), which collapses to a single point at "
                       "0 or n successes and can leave [0, 1]; Wilson's centre moves towards 1/2 by z²/(2n) and its "
                       "half-width has an extra z²/(4n²) under the root, all divided by 1 + z²/n")
        elif np.allclose((low, high), want[::-1], atol=1e-4):
            problem = "the bounds are swapped: return (low, high)"
        elif np.allclose((low, high), statistics.wilson_interval(k, n, 0.90), atol=1e-4):
            problem = (f"that is the 90 % interval (z = {z90:.3f}); a two-sided 95 % interval uses "
                       f"z = norm.ppf(0.975) ≈ {z95:.2f}")
        elif not 0 <= low <= high <= 1:
            problem = "a proportion's interval must satisfy 0 <= low <= high <= 1"
        else:
            problem = "the numbers differ"
        return failed(what, f"{where}: {problem}", hint)
    return passed(what, "(checked against statistics.wilson_interval on counts you had not seen, "
                        "including 0 and all successes)")
