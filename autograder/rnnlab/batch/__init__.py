"""The grading staff's tools: submissions collected and graded in parallel, resumably
(``batch``), and the gradebook and the summary page (``reports``)."""
