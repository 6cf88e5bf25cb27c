"""q1: generate_dataset."""


@public(points=1)
def test_sequences_are_a_n_b_n_eos(generate_dataset):
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, is_sequence
    check_callable("generate_dataset", generate_dataset)
    sequences = generate_dataset(num_sequences=256, max_n=11, seed=1)
    if not is_sequence(sequences) or len(sequences) != 256:
        raise CheckFailure(f"generate_dataset(num_sequences=256) should return a list of 256 "
                           f"sequences, got {type(sequences).__name__} of length "
                           f"{len(sequences) if hasattr(sequences, '__len__') else '?'}.")
    for k, seq in enumerate(sequences):
        n = list(seq).count("a")
        if list(seq) != ["a"] * n + ["b"] * n + ["EOS"] or not 1 <= n <= 11:
            raise CheckFailure(f"generate_dataset: sequence {k} is {list(seq)[:30]}; every sequence "
                               "should be n 'a's, then n 'b's, then 'EOS', with 1 <= n <= max_n.")


@hidden(points=1)
def test_every_n_uniform_and_seeded(generate_dataset):
    from lab_checks import check_uniform_counts
    from rnnlab_checks import CheckFailure
    first = generate_dataset(num_sequences=500, max_n=11, seed=3)
    lengths = sorted({list(s).count("a") for s in first})
    if lengths != list(range(1, 12)):
        raise CheckFailure(f"generate_dataset: over 500 sequences n took the values {lengths}; "
                           "n should be drawn uniformly from 1 to max_n inclusive.")
    # n uniform in 1..max_n: Pearson's chi-square test of the counts of n over 3000 sequences
    # at significance 1e-6 (a statistic above 46.9 with 10 degrees of freedom fails), exact
    # enough with about 273 expected per value.  The reference's counts give p = 0.49 (the
    # catalogue's floored-uniform rewrite 0.022); n = round(uniform(1, max_n)), which draws 1
    # and max_n half as often, gives a statistic of about 135 (p = 3e-19 at this seed).
    many = generate_dataset(num_sequences=3000, max_n=11, seed=5)
    check_uniform_counts("generate_dataset(num_sequences=3000, max_n=11, seed=5)", "n",
                         [list(s).count("a") for s in many], list(range(1, 12)),
                         "Draw n uniformly from 1 to max_n inclusive, every value as likely, e.g. "
                         "rng.integers(1, max_n + 1): rounding a continuous draw makes the two ends half as likely.")
    if generate_dataset(num_sequences=500, max_n=11, seed=3) != first:
        raise CheckFailure("generate_dataset: two calls with the same seed gave different data; "
                           "draw n from a generator seeded with `seed`.")
    if generate_dataset(num_sequences=500, max_n=11, seed=4) == first:
        raise CheckFailure("generate_dataset: different seeds gave the same data; use `seed`.")
    short = generate_dataset(num_sequences=40, max_n=3, seed=0)
    if len(short) != 40 or max(list(s).count("a") for s in short) > 3:
        raise CheckFailure("generate_dataset ignores num_sequences or max_n.")
