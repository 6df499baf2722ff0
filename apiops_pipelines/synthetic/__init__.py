"""Generated estates and specs of any size, for tests and benchmarks."""
