"""q6: plot_losses."""


@public(points=1)
def test_two_labelled_lines(plot_losses):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import figure_lines
    check_callable("plot_losses", plot_losses)
    losses = (3.0 * np.exp(-np.arange(120) / 40) + 1.5 + np.random.default_rng(0).normal(0, 0.2, 120)).tolist()
    what = "plot_losses(losses, window=10)"
    figure = plot_losses(losses, window=10)
    axes, lines = figure_lines(figure, what)
    if len(lines) != 2:
        raise CheckFailure(f"{what}: the plot should have two lines, the loss of every step and its rolling mean; "
                           f"it has {len(lines)}.")
    if not str(axes.get_xlabel()).strip() or not str(axes.get_ylabel()).strip():
        raise CheckFailure(f"{what}: label both axes (ax.set_xlabel, ax.set_ylabel); they read "
                           f"{axes.get_xlabel()!r} and {axes.get_ylabel()!r}.")
    if axes.get_legend() is None and not list(figure.legends):
        raise CheckFailure(f"{what}: the plot has no legend to tell its two lines apart: give each line a label "
                           "(ax.plot(..., label=...)) and call ax.legend().")
    raw = np.asarray(lines[0].get_ydata(), dtype=float)
    if raw.shape != (120,) or not np.allclose(raw, losses):
        raise CheckFailure(f"{what}: the first line should be the 120 losses themselves.")


@hidden(points=1)
def test_second_line_is_the_rolling_mean(plot_losses):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.torch_models import figure_lines
    losses = (2.0 + np.random.default_rng(1).normal(0, 0.3, 90)).tolist()
    for window in (10, 25):
        what = f"plot_losses(losses, window={window})"
        _, lines = figure_lines(plot_losses(losses, window=window), what)
        if len(lines) < 2:
            raise CheckFailure(f"{what}: the plot should have a second line, the rolling mean.")
        drawn = np.asarray(lines[1].get_ydata(), dtype=float)
        expected = np.convolve(losses, np.ones(window) / window, mode="valid")
        # Where the window is full: a padded start (pandas' NaNs or min_periods) is accepted.
        tail = drawn[np.isfinite(drawn)][-len(expected):]
        if len(tail) != len(expected) or not np.allclose(tail, expected, atol=1e-9):
            raise CheckFailure(f"{what}: the second line should be the rolling mean over the last {window} steps "
                               f"(from step {window} on: {np.round(expected[:3], 4).tolist()} ...); it draws "
                               f"{np.round(drawn[:3], 4).tolist()} ... ({len(drawn)} points).")
