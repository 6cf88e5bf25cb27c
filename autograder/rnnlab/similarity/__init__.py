"""Similar submissions side by side: ``rnnlab similarity`` (``compare``), for a person to read."""
