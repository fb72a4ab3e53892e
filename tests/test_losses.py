"""Cross-entropy vs MSE: gradients at the true logit, and the short training race."""

from __future__ import annotations

import numpy as np

from mnistlab import losses


def test_logits_make_the_model_prefer_the_wrong_digit():
    logits = losses.confidently_wrong_logits([-3.0, 7.0], wrong_logit=4.0)
    assert logits.shape == (2, 10)
    assert list(np.argmax(logits, axis=1)) == [1, 0]


def test_cross_entropy_gradient_is_p_minus_one_and_mse_vanishes_when_confidently_wrong():
    table = losses.true_logit_gradients(np.array([-8.0, 0.0, 4.0, 12.0]), wrong_logit=4.0)
    # Softmax + cross-entropy: ∂L/∂z_true = p_true − 1, computed independently of the tape here.
    logits = losses.confidently_wrong_logits(table["true_logit"], 4.0)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(table["p_true"], p[:, 0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(table["cross_entropy"], p[:, 0] - 1, atol=1e-5)
    confidently_wrong = table.iloc[0]
    assert confidently_wrong["cross_entropy"] < -0.99  # a full push
    assert abs(confidently_wrong["mse"]) < 1e-3  # almost none
    assert abs(table["mse"].iloc[2]) > 100 * abs(confidently_wrong["mse"])  # MSE only pushes near the boundary


