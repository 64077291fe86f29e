"""The benchmark (python -m devtools.bench), run the way `make bench` runs it."""
