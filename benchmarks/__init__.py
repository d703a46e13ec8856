"""Speed measurements of initmath (scripts, importable by the book; never pass/fail tests)."""
