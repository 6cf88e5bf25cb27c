"""An independent implementation of the student functions of the lab ``char_rnn_numpy``,
written in an explicit, loop-heavy style: material for the similarity tests and benchmark."""

import numpy as np

HIDDEN_SIZE = 100
SEQ_LENGTH = 25
LEARNING_RATE = 0.1
CLIP_LIMIT = 5.0
PARAM_NAMES = ("U", "W", "V", "b", "c")


def build_vocabulary(text):
    """The characters of ``text`` and two maps between them and their indices.

    Returns ``(chars, char_to_ix, ix_to_char)``: ``chars`` is the sorted list of the distinct
    characters, ``char_to_ix`` a dict char -> index into ``chars``, ``ix_to_char`` the
    inverse dict index -> char.
    """
    # first collect every character once (a list, checking if we already saw it)
    list_of_characters = []
    for character in text:
        if character not in list_of_characters:
            list_of_characters.append(character)
    list_of_characters.sort()

    # now the two dictionaries, filled in one loop
    character_to_index = {}
    index_to_character = {}
    for index in range(len(list_of_characters)):
        character = list_of_characters[index]
        character_to_index[character] = index
        index_to_character[index] = character
    return list_of_characters, character_to_index, index_to_character


def one_hot(ix, vocab_size):
    """The one-hot column of index ``ix``: shape (vocab_size, 1), a 1 at row ``ix``."""
    column_vector = np.zeros(shape=(vocab_size, 1), dtype=float)
    column_vector[ix][0] = 1
    return column_vector


def init_params(hidden_size, vocab_size, rng):
    """Fresh parameters ``(U, W, V, b, c)`` drawn with the generator ``rng``.

    Each weight matrix is uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)], where fan_in is the
    size of the vector it multiplies: V for U (H, V); H for W (H, H) and for V (V, H).
    The biases b (H, 1) and c (V, 1) start at zero.
    """
    # U multiplies the input x (length vocab_size)
    scale_for_input_weights = 1.0 / np.sqrt(vocab_size)
    input_to_hidden = rng.uniform(-1.0, 1.0, (hidden_size, vocab_size)) * scale_for_input_weights
    # W and V both multiply a hidden state (length hidden_size)
    scale_for_hidden_weights = 1.0 / np.sqrt(hidden_size)
    hidden_to_hidden = rng.uniform(-1.0, 1.0, (hidden_size, hidden_size)) * scale_for_hidden_weights
    hidden_to_output = rng.uniform(-1.0, 1.0, (vocab_size, hidden_size)) * scale_for_hidden_weights
    # biases are zero at the start
    hidden_bias = np.zeros((hidden_size, 1))
    output_bias = np.zeros((vocab_size, 1))
    return input_to_hidden, hidden_to_hidden, hidden_to_output, hidden_bias, output_bias


def softmax(z):
    """Softmax over axis 0 of ``z`` (V, k): every column becomes a distribution.

    Subtract each column's maximum before exponentiating, so that scores of +-1000 give
    finite probabilities instead of overflowing.
    """
    scores = np.array(z, dtype=float)
    probabilities = np.zeros(scores.shape)
    number_of_columns = scores.shape[1]
    for column in range(number_of_columns):
        column_scores = scores[:, column]
        # take away the biggest score of this column, so that exp does not overflow
        biggest_score = np.max(column_scores)
        exponentials = np.exp(column_scores - biggest_score)
        total = np.sum(exponentials)
        probabilities[:, column] = exponentials / total
    return probabilities


def forward(inputs, hprev, params):
    """Run the RNN over the character indices ``inputs`` from the hidden state ``hprev`` (H, 1).

    Returns dicts keyed by the step t = 0 .. T-1: ``xs[t]`` the one-hot input (V, 1),
    ``hs[t]`` the hidden state (H, 1) and ``ps[t]`` the softmax over the next character
    (V, 1).  ``hs[-1]`` holds a copy of ``hprev``, so that step 0 reads it like any other.
        h_t = tanh(U x_t + W h_{t-1} + b),   p_t = softmax(V h_t + c)
    """
    U = params[0]
    W = params[1]
    V = params[2]
    b = params[3]
    c = params[4]
    vocabulary_size = U.shape[1]

    input_vectors = {}
    hidden_states = {}
    probabilities = {}
    hidden_states[-1] = hprev.copy()  # the state before the first step

    for step in range(len(inputs)):
        input_vectors[step] = one_hot(inputs[step], vocabulary_size)
        from_input = np.dot(U, input_vectors[step])
        from_previous_state = np.dot(W, hidden_states[step - 1])
        hidden_states[step] = np.tanh(from_input + from_previous_state + b)
        output_scores = np.dot(V, hidden_states[step]) + c
        probabilities[step] = softmax(output_scores)
    return input_vectors, hidden_states, probabilities


def sequence_loss(ps, targets):
    """The cross-entropy of the predictions ``ps`` against the indices ``targets``, summed
    over the steps (in nats, a float)."""
    total_loss = 0.0
    for step in range(len(targets)):
        probability_of_correct_character = ps[step][targets[step], 0]
        total_loss = total_loss - np.log(probability_of_correct_character)
    return float(total_loss)


def backward(xs, hs, ps, targets, params):
    """Backpropagation through time: the gradients of ``sequence_loss(ps, targets)`` with
    respect to ``(U, W, V, b, c)``, from what ``forward`` returned.

    Returns ``(dU, dW, dV, db, dc)``, each of its parameter's shape.  No clipping here:
    that is a separate step of training.
    """
    U = params[0]
    W = params[1]
    V = params[2]
    b = params[3]
    c = params[4]

    gradient_U = np.zeros(U.shape)
    gradient_W = np.zeros(W.shape)
    gradient_V = np.zeros(V.shape)
    gradient_b = np.zeros(b.shape)
    gradient_c = np.zeros(c.shape)

    # gradient that flows into the hidden state from the step after (nothing after the last)
    gradient_from_next_step = np.zeros((W.shape[0], 1))

    number_of_steps = len(targets)
    step = number_of_steps - 1
    while step >= 0:
        # derivative of the loss w.r.t. the output scores: p - one_hot(target)
        gradient_scores = ps[step].copy()
        gradient_scores[targets[step], 0] = gradient_scores[targets[step], 0] - 1.0

        gradient_V = gradient_V + np.dot(gradient_scores, np.transpose(hs[step]))
        gradient_c = gradient_c + gradient_scores

        # the hidden state feeds the output and the next step
        gradient_hidden = np.dot(np.transpose(V), gradient_scores) + gradient_from_next_step
        # back through tanh: derivative is 1 - tanh^2
        tanh_derivative = 1.0 - hs[step] * hs[step]
        gradient_before_tanh = tanh_derivative * gradient_hidden

        gradient_b = gradient_b + gradient_before_tanh
        gradient_U = gradient_U + np.dot(gradient_before_tanh, np.transpose(xs[step]))
        gradient_W = gradient_W + np.dot(gradient_before_tanh, np.transpose(hs[step - 1]))

        gradient_from_next_step = np.dot(np.transpose(W), gradient_before_tanh)
        step = step - 1

    return gradient_U, gradient_W, gradient_V, gradient_b, gradient_c


def clip_gradients(grads, limit=CLIP_LIMIT):
    """Every entry of every gradient clipped to [-limit, limit]; returns a new tuple."""
    clipped_list = []
    for gradient in grads:
        clipped = np.array(gradient, dtype=float)  # a copy, so the input stays as it was
        too_big = clipped > limit
        too_small = clipped < -limit
        clipped[too_big] = limit
        clipped[too_small] = -limit
        clipped_list.append(clipped)
    return tuple(clipped_list)


def adagrad_update(params, grads, memory, learning_rate):
    """One Adagrad step.  ``memory`` holds the running sum of squared gradients, one array
    per parameter (zeros at the start of training).

        memory += grad**2;   param -= learning_rate * grad / sqrt(memory + 1e-8)

    Returns ``(new_params, new_memory)`` as tuples; pass ``new_memory`` to the next call.
    """
    updated_parameters = []
    updated_memory = []
    for i in range(len(params)):
        parameter = params[i]
        gradient = grads[i]
        # new arrays, do not change the ones we got
        new_memory_entry = memory[i] + gradient * gradient
        step_size = learning_rate * gradient / np.sqrt(new_memory_entry + 1e-8)
        new_parameter = parameter - step_size
        updated_memory.append(new_memory_entry)
        updated_parameters.append(new_parameter)
    return tuple(updated_parameters), tuple(updated_memory)


def sample(params, h, seed_ix, n, temperature=1.0, rng=None):
    """``n`` character indices drawn from the model, one at a time.

    Starts from the hidden state ``h`` (H, 1) and the input character ``seed_ix``; each
    drawn character is the next input.  The scores are divided by ``temperature`` before
    the softmax (below 1: more conservative, towards the most likely character).  Draws with
    the generator ``rng`` (a fresh one if None) and returns a list of ints.
    """
    if rng is None:
        rng = np.random.default_rng()
    U = params[0]
    W = params[1]
    V = params[2]
    b = params[3]
    c = params[4]
    vocabulary_size = U.shape[1]

    hidden_state = h
    current_index = seed_ix
    sampled_indices = []
    for i in range(n):
        input_vector = one_hot(current_index, vocabulary_size)
        hidden_state = np.tanh(np.dot(U, input_vector) + np.dot(W, hidden_state) + b)
        output_scores = np.dot(V, hidden_state) + c
        probabilities = softmax(output_scores / temperature)
        flat_probabilities = probabilities.reshape(-1)
        next_index = rng.choice(vocabulary_size, p=flat_probabilities)
        next_index = int(next_index)
        sampled_indices.append(next_index)
        current_index = next_index  # the drawn character is the next input
    return sampled_indices


def predict(params, char_to_ix, ix_to_char, prefix, n, temperature=1.0, rng=None):
    """The ``n`` characters the model writes after the text ``prefix`` (a str).

    Feed the prefix one character at a time from a zero hidden state, so the state has read
    all of it; then ``sample`` from its last character.
    """
    U = params[0]
    W = params[1]
    b = params[3]
    hidden_size = W.shape[0]
    vocabulary_size = U.shape[1]

    hidden_state = np.zeros((hidden_size, 1))
    # every character but the last goes into the state; sample reads the last one itself
    for position in range(len(prefix) - 1):
        character_index = char_to_ix[prefix[position]]
        input_vector = one_hot(character_index, vocabulary_size)
        hidden_state = np.tanh(np.dot(U, input_vector) + np.dot(W, hidden_state) + b)

    last_character_index = char_to_ix[prefix[len(prefix) - 1]]
    sampled_indices = sample(params, hidden_state, last_character_index, n, temperature, rng)

    written_text = ""
    for index in sampled_indices:
        written_text = written_text + ix_to_char[index]
    return written_text


def train(text, char_to_ix, hidden_size=HIDDEN_SIZE, seq_length=SEQ_LENGTH, learning_rate=LEARNING_RATE,
          num_iterations=1000, seed=0, print_every=0):
    """Train a fresh model on ``text`` with Adagrad; returns ``(params, smooth_losses)``.

    Walk through the text in chunks of ``seq_length`` characters: the targets are the inputs
    shifted by one character, and the last hidden state of a chunk is the first of the next.
    At the start, and whenever the next chunk would run past the end of the text, go back to
    the start with a zero hidden state.  Each iteration calls your ``forward``,
    ``sequence_loss``, ``backward``, ``clip_gradients`` and ``adagrad_update``, keeping what
    they return.  ``smooth_losses`` has one entry per iteration: the loss smoothed as
    ``smooth = 0.999 * smooth + 0.001 * loss``, starting from the loss of uniform guessing,
    seq_length * ln(V).  The parameters come from one call of
    ``init_params(hidden_size, V, np.random.default_rng(seed))``.
    """
    vocabulary_size = len(char_to_ix)
    generator = np.random.default_rng(seed)
    params = init_params(hidden_size, vocabulary_size, generator)

    # adagrad memory: one array of zeros for every parameter
    memory_list = []
    for parameter in params:
        memory_list.append(np.zeros(parameter.shape))
    memory = tuple(memory_list)

    # the whole text as indices
    data = []
    for character in text:
        data.append(char_to_ix[character])

    smooth_loss = seq_length * np.log(vocabulary_size)  # loss of guessing uniformly
    smooth_losses = []
    position = 0
    hidden_state = np.zeros((hidden_size, 1))

    for iteration in range(num_iterations):
        # go back to the beginning when there is no full chunk (plus its target) left
        if iteration == 0:
            position = 0
            hidden_state = np.zeros((hidden_size, 1))
        elif position + seq_length + 1 >= len(data):
            position = 0
            hidden_state = np.zeros((hidden_size, 1))

        input_indices = []
        target_indices = []
        for k in range(seq_length):
            input_indices.append(data[position + k])
            target_indices.append(data[position + k + 1])

        xs, hs, ps = forward(input_indices, hidden_state, params)
        loss = sequence_loss(ps, target_indices)
        gradients = backward(xs, hs, ps, target_indices, params)
        clipped_gradients = clip_gradients(gradients)
        params, memory = adagrad_update(params, clipped_gradients, memory, learning_rate)

        # carry the last hidden state into the next chunk
        hidden_state = hs[seq_length - 1]

        smooth_loss = smooth_loss * 0.999 + loss * 0.001
        smooth_losses.append(smooth_loss)
        if print_every > 0:
            if iteration % print_every == 0:
                print("iteration", iteration, "smooth loss", round(float(smooth_loss), 2))

        position = position + seq_length

    return params, smooth_losses
