"""A result stays small and says what happened once, whatever the submission did (no kernel)."""

from rnnlab_engine.kernel import _output_sizes
from rnnlab_engine.results import MAX_MESSAGES, MESSAGE_LIMIT, Notes


def test_a_message_about_many_cells_is_said_once_with_their_ranges():
    notes = Notes()
    notes.add("{cells} {was} not run: out of time.", range(7, 100_001))
    notes.add("{cells} {was} skipped.", [3])
    notes.add("{cells} {was} skipped.", [5, 6, 9])
    notes.add("Replaying failed.")
    notes.add("Replaying failed.")
    assert notes.lines() == ["Code cells 7 to 100,000 were not run: out of time.",
                             "Code cells 3, 5, 6 and 9 were skipped.", "Replaying failed."]


def test_a_note_quoting_braces_of_the_students_code_is_kept_as_written():
    notes = Notes()
    notes.add("{cells} raised KeyError: '{0}'; it was skipped (it starts: 'd = {}').", [3])
    assert notes.lines() == ["Code cell 3 raised KeyError: '{0}'; it was skipped (it starts: 'd = {}')."]


def test_messages_are_capped_in_number_and_length():
    notes = Notes()
    for number in range(MAX_MESSAGES + 5):
        notes.add(f"message {number} " + "x" * 3 * MESSAGE_LIMIT)
    lines = notes.lines()
    assert len(lines) == MAX_MESSAGES + 1 and lines[-1] == "... and 5 more messages."
    assert all(len(line) < MESSAGE_LIMIT + 50 for line in lines)


def test_every_kind_of_output_is_counted():
    assert _output_sizes("stream", {"text": "abc"}) == {"text": 3}
    assert _output_sizes("display_data", {"data": {"image/png": "x" * 10, "text/plain": "<Figure>"}}) == \
        {"image/png": 10, "text/plain": 8}
    assert _output_sizes("comm_msg", {"data": {"state": "ab"}}) == {"widget data": len('{"state": "ab"}')}
    assert _output_sizes("status", {"execution_state": "idle"}) == {}
