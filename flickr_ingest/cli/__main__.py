import sys

from flickr_ingest.cli import main

sys.exit(main())
