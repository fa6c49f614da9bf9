"""monitor: watches news for agreements between Chinese provincial governments and tech giants."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
