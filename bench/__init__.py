"""The benchmark harness (bench/run.sh) and its reference views; not part of the served app."""
