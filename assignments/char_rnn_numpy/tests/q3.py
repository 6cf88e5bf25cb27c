"""q3: softmax."""


@public(points=1)
def test_extreme_scores_stay_finite(softmax):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import as_array, check_callable, check_close
    check_callable("softmax", softmax)
    result = softmax(np.array([[1000.0], [0.0], [-1000.0]]))
    if not np.all(np.isfinite(as_array("softmax([[1000], [0], [-1000]])", result))):
        raise CheckFailure("softmax([[1000], [0], [-1000]]) contains NaN or inf: np.exp(1000) overflows. "
                           "Subtract each column's maximum from its scores before np.exp.")
    check_close("softmax([[1000], [0], [-1000]])", result, [[1.0], [0.0], [0.0]])


@hidden(points=1)
def test_values_of_every_column(env, softmax):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_close, check_shape
    from rnnlab_checks.reference import trusted
    reference = trusted(env, "softmax")
    scores = np.random.default_rng(3).normal(0, 3, (7, 4))
    scores[:, 3] = [1000, 999, -1000, 500, 0, -3, 998]
    result = softmax(scores)
    sums = check_shape("softmax of a (7, 4) score matrix", result, (7, 4)).sum(axis=0)
    if np.all(np.isfinite(sums)) and not np.allclose(sums, 1.0):
        raise CheckFailure(f"softmax of a (7, 4) score matrix: its columns sum to {np.round(sums, 4).tolist()}"
                           + (" (the whole matrix to 1)" if np.isclose(sums.sum(), 1.0) else "")
                           + "; each column is a distribution over the V characters: take the max and the sum "
                           "over axis 0 (np.sum(e, axis=0, keepdims=True)).")
    check_close("softmax of a (7, 4) score matrix, column by column", result, reference(scores))
