"""Command-line entry points behind the Makefile (synth, check, docs, bench); they may import every layer."""
