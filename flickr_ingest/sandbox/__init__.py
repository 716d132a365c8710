"""The Flickr sandbox: a Flickr-compatible server for tests, benchmarks and the demo.

Built the moto way: `state` holds accounts, tokens, photos and tickets and raises Flickr
faults (no HTTP); `http` parses requests, calls the state and renders answers; `errors`
holds one class per Flickr error; `traffic` simulates the network (faults, latency,
bandwidth, rate limits); `guard` refuses foreign hosts and origins and times bodies;
`connections` caps connections and times headers; `server` runs it all on a loopback port.

It answers as recorded real Flickr traffic does (janko/flickr-objects' VCR cassettes,
boncey/Flickr4Java's payloads, christopheradams/flickrex's live tests; each fact with its
source in tests/sandbox/test_conformance.py). Where those sources are silent or disagree,
the sandbox makes one choice:

- `sets created` in getUploadStatus: recorded JSON has `null` even for an account with an
  album; the sandbox gives null when there is none, else the number of albums.
- checkTickets: every recorded call was signed; Flickr's reflection says no signature is
  needed. The sandbox accepts both, and finds a ticket by its id alone.
- A replace of a photo that is missing or not the caller's: no recording, no listed code.
  The sandbox answers 2 "No photo specified" (1 is "Not a pro account").
- Videos cannot be replaced (Flickr Help Center "Replace a photo", flickrhelp.com
  4404058489108): the recorded answer for a video replaced by a video is 8 "Videos can't
  be replaced" (trickortweak/flickr-uploader #63, oPromessa/flickr-uploader #45). A photo
  replaced by a video is not recorded; the sandbox gives it the same answer.
- Error 116: client tables say "The POST method is now required for all setters",
  reflection since 2016 says "Bad URL found". A setter called with GET gets the first, an
  abusive URL in an upload the second.
- 111 names the format (`Format "x" not found`), as 112 names the method; only 112's is
  recorded. "Key not found" for a well-formed unknown key appears in third-party tests
  only; an empty or malformed key gets the recorded "Key has invalid format".
- An upload that gives some of `is_public`, `is_friend`, `is_family` and leaves out others
  (or sends 9): upload.api says of each "omitted = the user's default". The sandbox takes
  each flag left out from the account's default privacy (flickr.prefs.getPrivacy, 1
  public unless set through `/sandbox/accounts/{nsid}/prefs`).
- A JSONP `jsoncallback` that is not a dotted JavaScript identifier is not echoed into the
  script: the answer uses `jsonFlickrApi`.
"""

from flickr_ingest.sandbox.server import DemoAccount, SandboxServer, running_sandbox

__all__ = ["DemoAccount", "SandboxServer", "running_sandbox"]
