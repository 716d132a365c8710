"""The parts of the `flickr-ingest` command that need no Prefect: a run's display
(`progress.py`) and the `sandbox` command. The command itself, which starts Prefect and
runs the flow, is the shell's: `flows/cli/`."""
