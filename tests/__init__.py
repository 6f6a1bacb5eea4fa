"""Tests laid out like the code: one folder per pattern, ``config`` and ``gates`` for what every pattern shares."""
