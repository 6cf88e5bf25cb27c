from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 2

@test_case(points=1, hidden=False)
def test_two_labelled_lines(plot_losses):
    import numpy as np
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable
    from rnnlab_checks.torch_models import figure_lines
    check_callable('plot_losses', plot_losses)
    losses = (3.0 * np.exp(-np.arange(120) / 40) + 1.5 + np.random.default_rng(0).normal(0, 0.2, 120)).tolist()
    what = 'plot_losses(losses, window=10)'
    figure = plot_losses(losses, window=10)
    axes, lines = figure_lines(figure, what)
    if len(lines) != 2:
        raise CheckFailure(f'{what}: the plot should have two lines, the loss of every step and its rolling mean; it has {len(lines)}.')
    if not str(axes.get_xlabel()).strip() or not str(axes.get_ylabel()).strip():
        raise CheckFailure(f'{what}: label both axes (ax.set_xlabel, ax.set_ylabel); they read {axes.get_xlabel()!r} and {axes.get_ylabel()!r}.')
    if axes.get_legend() is None and (not list(figure.legends)):
        raise CheckFailure(f'{what}: the plot has no legend to tell its two lines apart: give each line a label (ax.plot(..., label=...)) and call ax.legend().')
    raw = np.asarray(lines[0].get_ydata(), dtype=float)
    if raw.shape != (120,) or not np.allclose(raw, losses):
        raise CheckFailure(f'{what}: the first line should be the 120 losses themselves.')

