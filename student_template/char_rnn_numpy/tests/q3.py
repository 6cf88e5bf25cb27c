from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=1, hidden=False)
def test_extreme_scores_stay_finite(softmax):
    import numpy as np
    from rnnlab_checks.arrays import check_callable, check_close
    check_callable('softmax', softmax)
    check_close('softmax([[1000], [0], [-1000]])', softmax(np.array([[1000.0], [0.0], [-1000.0]])), [[1.0], [0.0], [0.0]])

