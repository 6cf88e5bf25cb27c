"""q9: init_lstm and lstm_forward."""


@public(points=1)
def test_lstm_shapes_and_probabilities(init_lstm, lstm_forward):
    import numpy as np
    from lab_checks import check_constant_biases, lstm_shapes
    from rnnlab_checks import CheckFailure
    from rnnlab_checks.arrays import check_callable, check_probabilities, check_sequence_of_arrays, check_shape, is_sequence
    from rnnlab_checks.fixtures import one_hot_sequence
    check_callable("init_lstm", init_lstm)
    check_callable("lstm_forward", lstm_forward)
    params = init_lstm(50, 4)
    names = ["W_f", "W_i", "W_g", "W_o", "W_v", "b_f", "b_i", "b_g", "b_o", "b_v"]
    if not is_sequence(params) or len(params) != 10:
        raise CheckFailure(f"init_lstm should return the 10 arrays ({', '.join(names)}).")
    arrays = {name: check_shape(f"init_lstm(50, 4): {name}", p, shape)
              for name, p, shape in zip(names, params, lstm_shapes(50, 4))}
    check_constant_biases("init_lstm(50, 4)", arrays, {"b_f": 1, "b_i": 0, "b_g": 0, "b_o": 0, "b_v": 0},
                          "the forget-gate bias starts at one, so that the cell state is kept at first; the "
                          "other biases at zero")
    inputs = one_hot_sequence(np.random.default_rng(9), 7, 4)
    result = lstm_forward(inputs, np.zeros((50, 1)), np.zeros((50, 1)), params)
    if not is_sequence(result) or len(result) != 2:
        raise CheckFailure("lstm_forward should return (outputs, cache).")
    outputs = check_sequence_of_arrays("lstm_forward: outputs", result[0], 7, (4, 1))
    check_probabilities("lstm_forward: outputs", outputs)


@hidden(points=1)
def test_lstm_forward_values_and_init_distribution(lstm_forward, init_lstm):
    import numpy as np
    from lab_checks import check_initialisation, lstm_fan_ins, lstm_shapes
    from rnnlab_checks.arrays import check_close
    from rnnlab_checks.fixtures import one_hot_sequence, random_params
    from rnnlab_checks.reference import reference_solution
    reference = reference_solution()
    rng = np.random.default_rng(10)
    params = random_params(rng, lstm_shapes(5, 4))
    inputs, h0, c0 = one_hot_sequence(rng, 6, 4), rng.normal(size=(5, 1)), rng.normal(size=(5, 1))
    outputs, _ = lstm_forward(inputs, h0, c0, params)
    want, _ = reference.lstm_forward(inputs, h0, c0, params)
    for t in range(6):
        check_close(f"lstm_forward: outputs[{t}] (from a non-zero initial h and C)", outputs[t], want[t])
    # Each weight matrix N(0, 1/fan_in) with its own fan-in, and seeded, as init_rnn in q4 (20
    # tests at significance 1e-6: a correct draw fails one with probability 2e-5 at most).
    # At the lab's sizes the gates' fan-in (54) is close to hidden_size (50); at 10 and 30 a
    # gate scaled by 1/sqrt(hidden_size) has 2 times the right standard deviation (at most 1.18
    # times passes with 400 entries) and W_v scaled by 1/sqrt(hidden_size + vocab_size) 0.5
    # times (at least 0.80 passes with 300).  The smallest p-value of the reference's draws
    # here is 0.014 (W_o, seed 2), of the catalogue's standard_normal rewrite 0.021.
    names = ["W_f", "W_i", "W_g", "W_o", "W_v", "b_f", "b_i", "b_g", "b_o", "b_v"]
    for hidden_size, vocab_size, seeds in ((50, 4, (1, 2)), (10, 30, (3, None))):
        check_initialisation("init_lstm", init_lstm, names, lstm_shapes(hidden_size, vocab_size),
                             lstm_fan_ins(hidden_size, vocab_size), hidden_size, vocab_size, *seeds)
