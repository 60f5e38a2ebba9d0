"""What is not the service: the benchmark (`python smsleopard.py bench`) and the mock
provider (`python smsleopard.py mock-provider`), clients of smsleopard.py imported only when
their subcommand is asked for."""
