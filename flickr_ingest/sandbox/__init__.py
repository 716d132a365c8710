"""The Flickr sandbox: a Flickr-compatible server for tests, benchmarks and the demo.

Built the moto way: `state` holds accounts, tokens, photos and tickets and raises Flickr
faults (no HTTP); `http` parses requests, calls the state and renders answers; `errors`
holds one class per Flickr error; `traffic` simulates the network (faults, latency,
bandwidth, rate limits); `guard` refuses foreign hosts and origins and times bodies;
`connections` caps connections and times headers; `server` runs it all on a loopback port.
"""

from flickr_ingest.sandbox.server import DemoAccount, SandboxServer, running_sandbox

__all__ = ["DemoAccount", "SandboxServer", "running_sandbox"]
