"""`python -m ollama_constructs`: the command line."""

import sys

from .cli import main

sys.exit(main())
