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
    from rnnlab_checks.arrays import check_close
    from rnnlab_checks.reference import trusted
    reference = trusted(env, "softmax")
    scores = np.random.default_rng(3).normal(0, 3, (7, 4))
    scores[:, 3] = [1000, 999, -1000, 500, 0, -3, 998]
    check_close("softmax of a (7, 4) score matrix, column by column", softmax(scores), reference(scores))
