from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=1, hidden=False)
def test_extreme_scores_stay_finite(softmax):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import as_array, check_callable, check_close
    check_callable('softmax', softmax)
    result = softmax(np.array([[1000.0], [0.0], [-1000.0]]))
    if not np.all(np.isfinite(as_array('softmax([[1000], [0], [-1000]])', result))):
        raise CheckFailure("softmax([[1000], [0], [-1000]]) contains NaN or inf: np.exp(1000) overflows. Subtract each column's maximum from its scores before np.exp.")
    check_close('softmax([[1000], [0], [-1000]])', result, [[1.0], [0.0], [0.0]])

