"""The ``kith`` command: start the platform on one machine, drive a demo, run benchmarks."""
