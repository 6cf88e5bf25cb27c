from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=1, hidden=False)
def test_sequences_are_a_n_b_n_eos(generate_dataset):
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, is_sequence
    check_callable('generate_dataset', generate_dataset)
    sequences = generate_dataset(num_sequences=256, max_n=11, seed=1)
    if not is_sequence(sequences) or len(sequences) != 256:
        raise CheckFailure(f"generate_dataset(num_sequences=256) should return a list of 256 sequences, got {type(sequences).__name__} of length {(len(sequences) if hasattr(sequences, '__len__') else '?')}.")
    for k, seq in enumerate(sequences):
        n = list(seq).count('a')
        if list(seq) != ['a'] * n + ['b'] * n + ['EOS'] or not 1 <= n <= 11:
            raise CheckFailure(f"generate_dataset: sequence {k} is {list(seq)[:30]}; every sequence should be n 'a's, then n 'b's, then 'EOS', with 1 <= n <= max_n.")

