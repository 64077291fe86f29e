"""The benchmark (python -m bench), run the way `make bench` runs it."""
