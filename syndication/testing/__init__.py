"""Test doubles of the networks Storyloom posts to, shared by tests, benchmarks and demos."""
