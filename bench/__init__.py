"""DeerWeb's benchmarks: `make bench` (or `python -m bench <name> ...`) prints figures; they are not tests.

Each benchmark is a module here with `add_arguments(parser)` and `run(args) -> int`, listed in
`bench.__main__.BENCHMARKS`. `bench.harness` holds what they share: the machine description, a
dedicated PostgreSQL database, Redis queues, subprocesses, memory sampling and the tables.
"""
